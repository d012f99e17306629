#!/usr/bin/env bash
# Installs the command-line tools that the README, smoke tests and benchmarks use
# into <repo>/.stack/bin (git-ignored). Idempotent: a tool already there at the
# pinned version is skipped.
#
#   bash scripts/tools.sh [grpcurl] [ghz]   install what is missing (default: both)
#   export PATH="$PWD/.stack/bin:$PATH"
#
# Neither tool is on npm or in Debian, so both are built from the Go module proxy
# with `go install` (needs Go >= 1.23; nothing else is downloaded).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.stack/bin"

# Pinned versions. ghz: `@latest` on the proxy resolves to the old v0.93.0, so the
# newest release is named explicitly.
GRPCURL_VERSION="v1.9.4"
GHZ_VERSION="v0.120.0"

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  die "Go is not installed (needed to build grpcurl and ghz).
  Get it from https://go.dev/dl/ (unpack to /usr/local/go), or on Debian/Ubuntu:
  apt-get install -y golang-go (needs Go >= 1.23), then re-run: bash scripts/tools.sh"
}

# install NAME MODULE_PATH VERSION: skip when .stack/bin/NAME was built from that version.
install_tool() {
  local name=$1 pkg=$2 version=$3 go=$4
  local stamp="$BIN/.$name.version"
  if [[ -x "$BIN/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    log "$name $version: already installed ($BIN/$name)"
    return
  fi
  log "$name $version: go install $pkg@$version (first build takes a minute)"
  # GOFLAGS is cleared so a caller's -mod=vendor or similar cannot break the build.
  # -X main.version: both tools print it for -version/--version (else "dev build").
  GOBIN="$BIN" GOFLAGS= "$go" install -ldflags "-X main.version=$version" "$pkg@$version" \
    || die "go install $pkg@$version failed (is the Go module proxy reachable? GOPROXY=$("$go" env GOPROXY))"
  echo "$version" >"$stamp"
  log "$name $version: installed"
}

main() {
  mkdir -p "$BIN"
  local go
  go="$(find_go)"
  log "using $("$go" version)"
  local wanted=("$@")
  ((${#wanted[@]})) || wanted=(grpcurl ghz)
  for tool in "${wanted[@]}"; do
    case "$tool" in
      grpcurl) install_tool grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl "$GRPCURL_VERSION" "$go" ;;
      ghz) install_tool ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION" "$go" ;;
      *) die "unknown tool '$tool' (grpcurl, ghz)" ;;
    esac
  done
  log "done. Put the tools on PATH with:"
  printf 'export PATH="%s:$PATH"\n' "$BIN"
}

main "$@"
