#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, the `pnpm check` gate (format, lint,
# typecheck, generated code fresh, unit tests), then integration tests against real
# PostgreSQL, Valkey and Kafka (given by the environment, testcontainers, or scripts/stack.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
bash scripts/bootstrap.sh grpcurl
bash scripts/chromium.sh # Debian's chromium for the edge's browser test
export PATH="$PWD/.stack/bin:$PATH"
pnpm check
bash scripts/stack.sh up
pnpm test:int
echo "[test] all green in $((SECONDS - T0)) s" >&2
