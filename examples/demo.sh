#!/usr/bin/env bash
# Set wmsync up in a local virtual environment (first run only) and run the whole job against the built-in
# sandbox store: list Walmart orders, ship one, and show both sides in sync. No config file, no credentials,
# no network beyond installing the packages the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/wmsync ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
# keep the demo's sandbox state and journal apart from any real use
export WMSYNC_DATA_DIR="${WMSYNC_DATA_DIR:-$PWD/.demo/data}"
export WMSYNC_CACHE_DIR="${WMSYNC_CACHE_DIR:-$PWD/.demo/cache}"
wmsync() { .venv/bin/wmsync "$@"; }
set -x
wmsync sandbox reset
wmsync orders list --store sandbox --limit 8
wmsync ship 000000130 --store sandbox --carrier UPS --tracking 1ZW1X2Y30390010006
wmsync status 000000130 --store sandbox
