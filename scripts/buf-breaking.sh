#!/usr/bin/env bash
# Fails when proto/ breaks wire or source compatibility with what main already has.
# Compares against origin/main (or main) when it exists and differs from HEAD; a first
# commit or a shallow clone without main has nothing to compare with and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
BUF=node_modules/.bin/buf
for ref in origin/main main; do
  if git rev-parse --verify --quiet "$ref" >/dev/null; then
    base="$(git merge-base HEAD "$ref" 2>/dev/null || true)"
    if [[ -n $base && $base == "$(git rev-parse HEAD)" ]]; then
      # HEAD is main itself: compare with the commit before it.
      base="$(git rev-parse --verify --quiet HEAD~1 || true)"
    fi
    if [[ -z $base ]]; then echo "[buf-breaking] no earlier commit to compare with" >&2; exit 0; fi
    if ! git cat-file -e "$base:proto" 2>/dev/null; then echo "[buf-breaking] $base has no proto/ yet" >&2; exit 0; fi
    echo "[buf-breaking] checking proto/ against $base" >&2
    exec "$BUF" breaking --against ".git#ref=$base"
  fi
done
echo "[buf-breaking] no main branch in this clone: nothing to compare with" >&2
