#!/usr/bin/env bash
# Observability on the default path, without Docker: Zipkin (traces, UI) and Prometheus (metrics,
# alert rules) as local processes on loopback, and the ops exporter (consumer lag, dead letters).
# scripts/up.sh --observe runs `up` before the services and points their tracing at Zipkin.
#
#   bash scripts/observe.sh up        install what is missing, start (or keep) the three, print the URLs
#   bash scripts/observe.sh install   only install Zipkin and Prometheus
#   bash scripts/observe.sh down      stop them
#
# Zipkin is the server jar from Maven Central (io.zipkin:zipkin-server:<version>:exec, ~130 MB,
# once, into .stack/observe/bin), checked against the SHA-256 pinned below, and run by Java 17+
# (which the local Kafka needs too): traces in memory, the UI and the API on :9411, spans in on
# /api/v2/spans (the services export with OTEL_TRACES_EXPORTER=zipkin: Zipkin takes no OTLP).
# Prometheus and promtool come from Debian's `prometheus` package (apt-get install, once; its own
# service is masked first so it does not start). Config: deploy/observe/prometheus.yml and the
# Zipkin flags below. Data: .stack/observe.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
DIR="$REPO/.stack/observe"
BIN="$DIR/bin"
RUN="$REPO/.stack/run"
LOGS="$REPO/.stack/logs"
ZIPKIN_VERSION=3.6.1
# Maven Central's own digest of that jar (its .sha256 file), pinned here so that neither a
# corrupted download nor a jar replaced on a mirror runs. A new version: take the new one from
# https://repo1.maven.org/maven2/io/zipkin/zipkin-server/<version>/zipkin-server-<version>-exec.jar.sha256
ZIPKIN_SHA256=d8326e0ed4f43855dba81228f688554706e52578a7c782d9a90b73f8680654a1
ZIPKIN_JAR="$BIN/zipkin-server-$ZIPKIN_VERSION-exec.jar"
ZIPKIN_URL=http://127.0.0.1:9411
PROMETHEUS_URL=http://127.0.0.1:9090
log() { printf '[observe] %s\n' "$*" >&2; }
die() { printf '[observe] ERROR: %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "$1 is missing; install it and re-run"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >&2 ||
    die "apt-get install $1 failed"
}

install_java() {
  if ! command -v java >/dev/null 2>&1; then
    log "java: apt-get install openjdk-17-jre-headless (first time only; Zipkin 3 needs Java 17+)"
    apt_install openjdk-17-jre-headless
  fi
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)) || die "Zipkin $ZIPKIN_VERSION needs Java 17+, found '$major'"
}

install_zipkin() {
  [[ -f $ZIPKIN_JAR ]] && return
  local url="https://repo1.maven.org/maven2/io/zipkin/zipkin-server/$ZIPKIN_VERSION/zipkin-server-$ZIPKIN_VERSION-exec.jar" t0=$SECONDS
  mkdir -p "$BIN"
  log "zipkin $ZIPKIN_VERSION: downloading the server jar from Maven Central (first time only, ~130 MB)"
  curl -fsSL --retry 3 -o "$ZIPKIN_JAR.part" "$url" || die "downloading $url failed"
  echo "$ZIPKIN_SHA256  $ZIPKIN_JAR.part" | sha256sum --check --quiet >&2 ||
    { rm -f "$ZIPKIN_JAR.part"; die "$url does not have the pinned SHA-256 $ZIPKIN_SHA256"; }
  # Only a verified jar takes the final name, and older versions go.
  find "$BIN" -maxdepth 1 -name 'zipkin-server-*-exec.jar' -delete
  mv "$ZIPKIN_JAR.part" "$ZIPKIN_JAR"
  log "zipkin $ZIPKIN_VERSION: $(($(stat -c %s "$ZIPKIN_JAR") / 1048576)) MiB in $((SECONDS - t0)) s, SHA-256 verified"
}

install_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && return
  log "prometheus: apt-get install prometheus (first time only)"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" systemctl mask prometheus.service >/dev/null 2>&1 || true
  apt_install prometheus
}

running() { local pid; pid="$(cat "$RUN/$1.pid" 2>/dev/null || true)"; [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

# start NAME URL-THAT-ANSWERS-WHEN-READY SECONDS COMMAND...
start() {
  local name=$1 ready=$2 seconds=$3 t0=$SECONDS
  shift 3
  if running "$name"; then log "$name: already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  log "$name: starting (log: $LOGS/$name.log)"
  nohup setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  while ((SECONDS - t0 < seconds)); do
    curl -fsS -o /dev/null "$ready" 2>/dev/null && { log "$name: ready in $((SECONDS - t0)) s"; return; }
    running "$name" || { tail -n 20 "$LOGS/$name.log" >&2; die "$name exited (log: $LOGS/$name.log)"; }
    sleep 0.2
  done
  die "$name did not answer $ready in $seconds s (log: $LOGS/$name.log)"
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
  install_java
  install_zipkin
  install_prometheus
  # Zipkin: in-memory storage (MEM_MAX_SPANS bounds it, within the heap), the UI and API on
  # loopback only (Armeria would listen on every interface). It answers in 8-15 s on two cores.
  start zipkin "$ZIPKIN_URL/health" 120 env STORAGE_TYPE=mem MEM_MAX_SPANS=100000 \
    java -Xms64m -Xmx512m -jar "$ZIPKIN_JAR" \
    --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port=9411 --armeria.ports[0].protocols[0]=http
  start prometheus "$PROMETHEUS_URL/-/ready" 30 prometheus --config.file="$REPO/deploy/observe/prometheus.yml" \
    --storage.tsdb.path="$DIR/prometheus-data" --storage.tsdb.retention.time=2d \
    --web.listen-address=127.0.0.1:9090 --web.enable-lifecycle
  # shellcheck disable=SC1091
  [[ -f .stack/env ]] && source .stack/env
  start ops-exporter http://127.0.0.1:9466/metrics 30 env METRICS_HOST=127.0.0.1 METRICS_PORT=9466 \
    "$REPO/node_modules/node/bin/node" services/ops/src/main.ts exporter
  cat >&2 <<MSG
[observe] traces:  $ZIPKIN_URL/zipkin/  (Zipkin's UI; API: $ZIPKIN_URL/api/v2/traces?serviceName=order; services send spans to $ZIPKIN_URL/api/v2/spans)
[observe] metrics: $PROMETHEUS_URL  (alerts: $PROMETHEUS_URL/alerts; targets: $PROMETHEUS_URL/targets)
[observe] stop:    bash scripts/observe.sh down
MSG
}

case "${1:-up}" in
  up) up ;;
  install) mkdir -p "$BIN" && install_java && install_zipkin && install_prometheus ;;
  # jaeger: what an earlier version of this script ran, stopped if its pid file is still here.
  down) stop ops-exporter; stop prometheus; stop zipkin; stop jaeger ;;
  *) die "usage: bash scripts/observe.sh [up|install|down]" ;;
esac
