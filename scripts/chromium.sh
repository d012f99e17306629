#!/usr/bin/env bash
# Debian's chromium for the browser test (services/edge/test/web-page.int.test.ts, driven by
# playwright-core with executablePath /usr/bin/chromium). Never a browser download from
# playwright's CDN: the apt package only. Idempotent.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then exit 0; fi
command -v apt-get >/dev/null 2>&1 || { echo "[chromium] no apt-get: install chromium so /usr/bin/chromium exists" >&2; exit 1; }
SUDO=""
((EUID == 0)) || SUDO=sudo
echo "[chromium] apt-get install chromium" >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
