#!/usr/bin/env bash
# Regenerates gen/ from proto/: lint, ts-proto stubs (gen/src), protobuf-es for Connect (gen/es),
# and the descriptor set that server reflection serves. With --check, fails when the committed gen/ differs from a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

buf lint
if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r gen/src "$tmp/src.before"
  cp -r gen/es "$tmp/es.before"
  cp gen/descriptors.binpb "$tmp/descriptors.before"
fi
buf generate
buf build --as-file-descriptor-set -o gen/descriptors.binpb
prettier --log-level warn --write gen/src gen/es >/dev/null
if [[ "${1:-}" == "--check" ]]; then
  if ! diff -r "$tmp/src.before" gen/src >/dev/null || ! diff -r "$tmp/es.before" gen/es >/dev/null || ! cmp -s "$tmp/descriptors.before" gen/descriptors.binpb; then
    echo "gen/ is stale: run 'pnpm gen' and commit the result" >&2
    git --no-pager diff --stat -- gen || true
    exit 1
  fi
  echo "gen/ is fresh"
fi
