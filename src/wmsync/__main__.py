from wmsync.cli import main

main()
