from wmsync.cli.app import main

main()
