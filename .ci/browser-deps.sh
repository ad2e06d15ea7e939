#!/usr/bin/env bash
# Install what tests/demo/test_app_browser.py needs: Debian's Chromium and the
# playwright Python package. Never runs `playwright install` (no browser
# downloads): the test launches /usr/bin/chromium through executable_path.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium
fi

python -m pip install -q playwright

/usr/bin/chromium --version
python -c "import playwright.sync_api; print('playwright python package OK')"
