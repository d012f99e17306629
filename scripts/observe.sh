#!/usr/bin/env bash
# Observability on the default path, without Docker: Jaeger (traces, UI) and Prometheus (metrics,
# alert rules) as local processes on loopback, and the ops exporter (consumer lag, dead letters).
# scripts/up.sh --observe runs `up` before the services and points their OTLP exporter at Jaeger.
#
#   bash scripts/observe.sh up      install what is missing, start (or keep) the three, print the URLs
#   bash scripts/observe.sh build   only build Jaeger (CI starts this early, in the background)
#   bash scripts/observe.sh down    stop them
#
# Jaeger v1.76.0 is built from the Go module proxy into .stack/observe/bin (its module has replace
# directives, so `go install pkg@version` refuses it: the module is downloaded and built in place;
# first build 5-25 min depending on the machine). It has the query API but no UI: the UI assets are
# an npm build that the Go module does not carry. Prometheus and promtool come from Debian's `prometheus` package
# (apt-get install, once; its own service is masked first so it does not start). Config:
# deploy/observe/{jaeger.yaml,prometheus.yml}. Data: .stack/observe (traces in memory).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
DIR="$REPO/.stack/observe"
BIN="$DIR/bin"
RUN="$REPO/.stack/run"
LOGS="$REPO/.stack/logs"
JAEGER_VERSION=v1.76.0
JAEGER_URL=http://127.0.0.1:16686
PROMETHEUS_URL=http://127.0.0.1:9090
log() { printf '[observe] %s\n' "$*" >&2; }
die() { printf '[observe] ERROR: %s\n' "$*" >&2; exit 1; }

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  die "Go is not installed (needed to build Jaeger); see scripts/tools.sh"
}

install_jaeger() {
  [[ -x "$BIN/jaeger" && "$(cat "$BIN/.jaeger.version" 2>/dev/null)" == "$JAEGER_VERSION" ]] && return
  local go src
  go="$(find_go)"
  log "jaeger $JAEGER_VERSION: building from the Go module proxy (first time only, a few minutes)"
  src="$(GOFLAGS= "$go" mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d $src ]] || die "go mod download github.com/jaegertracing/jaeger@$JAEGER_VERSION failed"
  rm -rf "$DIR/jaeger-src" && mkdir -p "$BIN" && cp -r "$src" "$DIR/jaeger-src" && chmod -R u+w "$DIR/jaeger-src"
  (cd "$DIR/jaeger-src" && GOFLAGS= CGO_ENABLED=0 "$go" build -o "$BIN/jaeger" ./cmd/jaeger) || die "building jaeger failed"
  rm -rf "$DIR/jaeger-src"
  echo "$JAEGER_VERSION" >"$BIN/.jaeger.version"
}

install_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && return
  command -v apt-get >/dev/null 2>&1 || die "prometheus is missing; install it (it ships promtool) and re-run"
  log "prometheus: apt-get install prometheus (first time only)"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" systemctl mask prometheus.service >/dev/null 2>&1 || true
  "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2 ||
    die "apt-get install prometheus failed"
}

running() { local pid; pid="$(cat "$RUN/$1.pid" 2>/dev/null || true)"; [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

# start NAME URL-THAT-ANSWERS-WHEN-READY COMMAND...
start() {
  local name=$1 ready=$2
  shift 2
  if running "$name"; then log "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  log "$name: starting (log: $LOGS/$name.log)"
  nohup setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$ready" 2>/dev/null && return
    running "$name" || { tail -n 20 "$LOGS/$name.log" >&2; die "$name exited (log: $LOGS/$name.log)"; }
    sleep 0.2
  done
  die "$name did not answer $ready in 30 s (log: $LOGS/$name.log)"
}

stop() {
  local name=$1 pid
  pid="$(cat "$RUN/$name.pid" 2>/dev/null || true)"
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    log "$name: stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

up() {
  mkdir -p "$BIN" "$RUN" "$LOGS" "$DIR/prometheus-data"
  install_jaeger
  install_prometheus
  start jaeger http://127.0.0.1:13133/status "$BIN/jaeger" --config "$REPO/deploy/observe/jaeger.yaml"
  start prometheus "$PROMETHEUS_URL/-/ready" prometheus --config.file="$REPO/deploy/observe/prometheus.yml" \
    --storage.tsdb.path="$DIR/prometheus-data" --storage.tsdb.retention.time=2d \
    --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle
  # shellcheck disable=SC1091
  [[ -f .stack/env ]] && source .stack/env
  start ops-exporter http://127.0.0.1:9466/metrics env METRICS_HOST=127.0.0.1 METRICS_PORT=9466 \
    "$REPO/node_modules/node/bin/node" services/ops/src/main.ts exporter
  cat >&2 <<MSG
[observe] traces:  $JAEGER_URL/api/traces?service=order  (Jaeger's query API: a Go-built Jaeger has no UI; services send OTLP to http://127.0.0.1:4318)
[observe] metrics: $PROMETHEUS_URL  (alerts: $PROMETHEUS_URL/alerts; targets: $PROMETHEUS_URL/targets)
[observe] stop:    bash scripts/observe.sh down
MSG
}

case "${1:-up}" in
  up) up ;;
  build) install_jaeger ;;
  down) stop ops-exporter; stop prometheus; stop jaeger ;;
  *) die "usage: bash scripts/observe.sh [up|build|down]" ;;
esac
