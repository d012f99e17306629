#!/usr/bin/env bash
# Makes a fresh machine ready: pnpm (pinned), Node 24 and every dependency through
# `pnpm install`, and the CLI tools named as arguments (scripts/tools.sh). Idempotent.
#   bash scripts/bootstrap.sh [grpcurl] [ghz]
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION="$(sed -n 's/.*"packageManager": "pnpm@\([^"]*\)".*/\1/p' package.json)"
log() { printf '[bootstrap] %s\n' "$*" >&2; }

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  command -v npm >/dev/null 2>&1 || { log "ERROR: npm is missing: install Node.js (any version >= 18) first"; exit 1; }
  log "installing pnpm $PNPM_VERSION (npm i -g)"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
fi
log "pnpm install (Node 24 comes with it, from the npm registry)"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Packages:|\+{3,})' | tail -n 5 >&2 || true
[[ -x node_modules/.bin/node ]] || { log "ERROR: pnpm install did not provide node_modules/.bin/node"; exit 1; }
log "node $(node_modules/.bin/node --version) ready"
if (($#)); then bash scripts/tools.sh "$@"; fi
