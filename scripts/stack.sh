#!/usr/bin/env bash
# Local infrastructure for brewmesh: PostgreSQL, a Valkey-compatible server and
# Apache Kafka (KRaft, one combined node), all on loopback.
#
#   scripts/stack.sh up            start (or reuse) everything, write .stack/env
#   scripts/stack.sh down [--purge] stop what `up` started (--purge: delete data too)
#   scripts/stack.sh status        one line per server
#   scripts/stack.sh env           print .stack/env:  eval "$(scripts/stack.sh env)"
#   scripts/stack.sh kafka stop|start   stop or restart only the broker (outage tests)
#
# Where each server comes from, in this order:
#   1. given by the environment: DB_HOST[/DB_PORT/...], VALKEY_HOST[/VALKEY_PORT],
#      KAFKA_BROKERS. Checked, then used as they are (devcontainer, CI services).
#   2. a Docker engine that answers: docker compose -f deploy/compose.yaml.
#   3. local processes, data under <repo>/.stack/ (git-ignored).
# STACK_MODE=local or STACK_MODE=compose forces step 2 or 3.
# Local ports: DB_PORT (5432), VALKEY_PORT (6379), KAFKA_PORT (9092),
# KAFKA_CONTROLLER_PORT (9093).
#
# Runs unattended (no prompts); safe to run again and again: running servers are
# reused, not restarted.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="$REPO/.stack"
ENV_FILE="$STACK_DIR/env"
STATE_FILE="$STACK_DIR/state" # postgres=local|compose|env, same for valkey, kafka
COMPOSE_FILE="$REPO/deploy/compose.yaml"
KAFKA_POM="$REPO/deploy/kafka/pom.xml"

# Credentials and names of the local/compose stack (see deploy/postgres/init.sql).
APP_DB_USER=brewmesh
APP_DB_PASSWORD=brewmesh
APP_DB_NAME=customerdb

# Fixed so a formatted Kafka data dir always matches (compose.yaml uses the same).
KAFKA_CLUSTER_ID="${KAFKA_CLUSTER_ID:-FeEJMJDmKFqzBnxrwM0L7w}"

T0=$SECONDS
log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers ----

# tcp_open HOST PORT: something accepts TCP connections there (bash /dev/tcp, 3 s).
tcp_open() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# resp_ping HOST PORT: a Redis/Valkey server answers PING with +PONG.
resp_ping() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r line <&3
    [[ $line == +PONG* ]]' _ "$1" "$2" 2>/dev/null
}

# pid_of FILE PATTERN: print the pid in FILE if that process is alive and its
# command line contains PATTERN (guards against a recycled pid).
pid_of() {
  local file=$1 pattern=$2 pid
  [[ -f $file ]] || return 1
  pid="$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  echo "$pid"
}

# wait_gone PID SECONDS: wait for a process to exit.
wait_gone() {
  local pid=$1 i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

state_get() { [[ -f $STATE_FILE ]] && sed -n "s/^$1=//p" "$STATE_FILE" | tail -n1 || true; }

port_in_use_msg() { # NAME PORT VAR: explain a port clash and the ways out
  echo "127.0.0.1:$2 is already in use by another program, not by this stack" \
    "(see: ss -ltnp 'sport = :$2'). Stop it, pick another port ($3=<port> scripts/stack.sh up)," \
    "or use that server as it is by giving its address in the environment (see the top of scripts/stack.sh)."
}

# apt_install PACKAGE...: Debian/Ubuntu only; runs `apt-get update` once per run.
APT_UPDATED=0
SUDO=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 \
    || die "missing: $*. This is not a Debian/Ubuntu machine: install $* with your package manager, then re-run."
  if [[ $EUID -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      die "missing: $*. Install it as root (sudo apt-get update && sudo apt-get install -y $*), then re-run."
    fi
  fi
  mkdir -p "$STACK_DIR"
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    $SUDO apt-get update -qq >"$STACK_DIR/apt.log" 2>&1 \
      || { tail -n 20 "$STACK_DIR/apt.log" >&2; die "apt-get update failed (log: $STACK_DIR/apt.log)"; }
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    >>"$STACK_DIR/apt.log" 2>&1 \
    || { tail -n 20 "$STACK_DIR/apt.log" >&2; die "apt-get install $* failed (log: $STACK_DIR/apt.log)"; }
}

# --------------------------------------------------------------- postgres ----
# Postgres refuses to run as root, so as root it runs as the `postgres` system user.

PG_BIN="" PG_ROOT="" PG_DATA="" PG_SOCK=""

as_pg() {
  if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_find_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && { echo "$d"; return 0; }
  done
  # Elsewhere (e.g. Homebrew): take whatever pg_ctl is on PATH.
  d="$(command -v pg_ctl 2>/dev/null || true)"
  [[ -n $d && -x "$(dirname "$d")/initdb" ]] && { dirname "$d"; return 0; }
  return 1
}

pg_ensure_bin() {
  PG_BIN="$(pg_find_bin || true)"
  if [[ -z $PG_BIN ]]; then
    log "postgres: server binaries not found, installing Debian's postgresql (15 on bookworm)"
    apt_install postgresql
    PG_BIN="$(pg_find_bin)" || die "postgres: still no initdb/pg_ctl after installing postgresql"
    # The package creates and starts a system cluster on 5432: stop it, we run our own.
    if command -v pg_lsclusters >/dev/null 2>&1; then
      local ver name port status _
      while read -r ver name port status _; do
        [[ $status == online ]] || continue
        log "postgres: stopping the system cluster $ver/$name (port $port) that the package started"
        $SUDO pg_ctlcluster "$ver" "$name" stop || true
      done < <(pg_lsclusters -h 2>/dev/null)
    fi
  fi
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    log "postgres: creating the 'postgres' system user (postgres will not run as root)"
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/sh postgres
  fi
}

# Pick the data area: <repo>/.stack/postgres if the postgres user can use it,
# else /var/tmp/brewmesh-stack/<hash of repo path>. Remembered in .stack/postgres.path.
pg_paths() {
  if [[ -f $STACK_DIR/postgres.path ]]; then
    PG_ROOT="$(cat "$STACK_DIR/postgres.path")"
  else
    PG_ROOT="$STACK_DIR/postgres"
    mkdir -p "$PG_ROOT"
    if [[ $EUID -eq 0 ]]; then
      chmod 755 "$STACK_DIR" # the postgres user must be able to traverse it
      chown postgres:postgres "$PG_ROOT"
      chmod 700 "$PG_ROOT"
      if ! as_pg test -w "$PG_ROOT"; then
        rmdir "$PG_ROOT"
        PG_ROOT="/var/tmp/brewmesh-stack/$(printf %s "$REPO" | sha256sum | cut -c1-12)/postgres"
        log "postgres: $REPO is not accessible to the postgres user; data goes to $PG_ROOT"
        mkdir -p "$PG_ROOT"
        chown postgres:postgres "$PG_ROOT"
        chmod 700 "$PG_ROOT"
      fi
    fi
    echo "$PG_ROOT" >"$STACK_DIR/postgres.path"
  fi
  # A data area copied or restored by root (a fresh checkout, a cache) must go
  # back to the postgres user, or initdb/pg_ctl cannot touch it.
  if [[ $EUID -eq 0 && -d $PG_ROOT && "$(stat -c %U "$PG_ROOT")" != postgres ]]; then
    log "postgres: giving $PG_ROOT back to the postgres user"
    chown -R postgres:postgres "$PG_ROOT"
    chmod 700 "$PG_ROOT"
    [[ -d $PG_ROOT/data ]] && chmod 700 "$PG_ROOT/data"
  fi
  PG_DATA="$PG_ROOT/data"
  PG_SOCK="$PG_ROOT/run"
}

pg_running() { [[ -f $PG_DATA/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }
pg_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; } # line 4 of postmaster.pid
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -t 2 2>/dev/null || tcp_open 127.0.0.1 "$1"; }

pg_local_up() {
  pg_ensure_bin
  pg_paths
  local port="${DB_PORT:-5432}"

  if pg_running; then
    port="$(pg_port)"
    log "postgres: already running on 127.0.0.1:$port (data: $PG_DATA), reusing"
  else
    tcp_open 127.0.0.1 "$port" && die "postgres: $(port_in_use_msg postgres "$port" DB_PORT)"
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
      log "postgres: initdb $PG_DATA ($("$PG_BIN/postgres" --version))"
      as_pg mkdir -p "$PG_DATA"
      as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_ROOT/initdb.log" 2>&1 \
        || { tail -n 20 "$PG_ROOT/initdb.log" >&2; die "postgres: initdb failed (log: $PG_ROOT/initdb.log)"; }
      echo "include = 'brewmesh.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi
    # Rewritten on every start so a changed DB_PORT takes effect. Tuned for tests:
    # durability off (throwaway data), room for one pool per test file.
    as_pg mkdir -p "$PG_SOCK"
    as_pg tee "$PG_DATA/brewmesh.conf" >/dev/null <<EOF
# written by scripts/stack.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_SOCK'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    log "postgres: starting on 127.0.0.1:$port (data: $PG_DATA)"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_ROOT/postgres.log" -w -t 60 start >/dev/null 9>&- \
      || { tail -n 20 "$PG_ROOT/postgres.log" >&2; die "postgres: did not start (log: $PG_ROOT/postgres.log)"; }
  fi

  # Role + databases, idempotent (same file the compose image runs at init).
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$port" -U postgres -d postgres \
    -f "$REPO/deploy/postgres/init.sql" >/dev/null \
    || die "postgres: running deploy/postgres/init.sql failed"
  log "postgres: ready on 127.0.0.1:$port (role $APP_DB_USER; customerdb orderdb loyaltydb favoritesdb)"
  PG_PORT_EFFECTIVE=$port
}

pg_local_down() {
  PG_BIN="$(pg_find_bin || true)"
  [[ -f $STACK_DIR/postgres.path ]] || { log "postgres: no local data, nothing to stop"; return 0; }
  pg_paths
  if [[ -n $PG_BIN ]] && pg_running; then
    log "postgres: stopping (pg_ctl stop -m fast)"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null
  else
    log "postgres: not running"
  fi
}

pg_local_status() {
  PG_BIN="$(pg_find_bin || true)"
  if [[ -n $PG_BIN && -f $STACK_DIR/postgres.path ]]; then
    pg_paths
    if pg_running; then echo "postgres  running  127.0.0.1:$(pg_port)  (local, data: $PG_DATA)"; return 0; fi
  fi
  echo "postgres  stopped  127.0.0.1:${DB_PORT:-5432}  (local)"
  return 1
}

# ----------------------------------------------------------------- valkey ----
# Valkey where installed, else Debian's redis-server 7 (protocol-compatible).
# Our own instance, never the system service: no persistence, loopback only.

VK_DIR="$STACK_DIR/valkey"
VK_PID="$VK_DIR/valkey.pid"

vk_find_bin() {
  command -v valkey-server 2>/dev/null || command -v redis-server 2>/dev/null \
    || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }
}

vk_local_up() {
  local bin port pid
  bin="$(vk_find_bin || true)"
  if [[ -z $bin ]]; then
    log "valkey: no valkey-server/redis-server found, installing Debian's redis-server"
    apt_install redis-server
    bin="$(vk_find_bin)" || die "valkey: still no redis-server after installing it"
    # The package may start its system service on 6379: stop it, we run our own.
    if pid="$(pid_of /run/redis/redis-server.pid redis-server)"; then
      log "valkey: stopping the system redis-server (pid $pid) that the package started"
      $SUDO kill -TERM "$pid" && wait_gone "$pid" 10 || true
    fi
  fi
  mkdir -p "$VK_DIR"

  if pid="$(pid_of "$VK_PID" "$(basename "$bin")")"; then
    port="$(cat "$VK_DIR/port" 2>/dev/null || echo "${VALKEY_PORT:-6379}")"
    if resp_ping 127.0.0.1 "$port"; then
      log "valkey: already running on 127.0.0.1:$port (pid $pid), reusing"
      VK_PORT_EFFECTIVE=$port
      return 0
    fi
    log "valkey: pid $pid is not answering on $port, restarting it"
    kill -TERM "$pid" && wait_gone "$pid" 10 || true
  fi

  port="${VALKEY_PORT:-6379}"
  tcp_open 127.0.0.1 "$port" && die "valkey: $(port_in_use_msg valkey "$port" VALKEY_PORT)"
  log "valkey: starting $("$bin" --version | awk '{print $1, $3}') on 127.0.0.1:$port"
  "$bin" --bind 127.0.0.1 --port "$port" --daemonize yes \
    --dir "$VK_DIR" --save '' --appendonly no \
    --pidfile "$VK_PID" --logfile "$VK_DIR/valkey.log" 9>&- \
    || die "valkey: $bin did not start (log: $VK_DIR/valkey.log)"
  echo "$port" >"$VK_DIR/port"
  local i
  for ((i = 0; i < 100; i++)); do
    resp_ping 127.0.0.1 "$port" && break
    sleep 0.1
  done
  resp_ping 127.0.0.1 "$port" \
    || { tail -n 20 "$VK_DIR/valkey.log" >&2; die "valkey: not answering PING on 127.0.0.1:$port"; }
  log "valkey: ready on 127.0.0.1:$port"
  VK_PORT_EFFECTIVE=$port
}

vk_local_down() {
  local pid
  if pid="$(pid_of "$VK_PID" -server)"; then
    log "valkey: stopping (pid $pid)"
    kill -TERM "$pid" # graceful shutdown; nothing to save (--save '')
    wait_gone "$pid" 20 || die "valkey: pid $pid did not exit"
  else
    log "valkey: not running"
  fi
}

vk_local_status() {
  local port
  port="$(cat "$VK_DIR/port" 2>/dev/null || echo "${VALKEY_PORT:-6379}")"
  if pid_of "$VK_PID" -server >/dev/null && resp_ping 127.0.0.1 "$port"; then
    echo "valkey    running  127.0.0.1:$port  (local)"
  else
    echo "valkey    stopped  127.0.0.1:$port  (local)"
    return 1
  fi
}

# ------------------------------------------------------------------ kafka ----
# Kafka is not a Debian package: the broker's jars come from Maven Central
# (deploy/kafka/pom.xml) and run on the system JDK.

K_DIR="$STACK_DIR/kafka"
K_LIBS="$K_DIR/libs"
K_DATA="$K_DIR/data"
K_CONF="$K_DIR/server.properties"
K_LOG="$K_DIR/server.log"
K_PID="$K_DIR/kafka.pid"
K_LOG4J="$REPO/deploy/kafka/log4j.properties"
K_READY_LINE="Kafka Server started"

k_ensure_java() {
  command -v java >/dev/null 2>&1 || { log "kafka: no java, installing a JDK 17 runtime"; apt_install openjdk-17-jre-headless; }
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ ${major%%.*} -ge 11 ]] 2>/dev/null \
    || die "kafka: needs Java 11+ (17 recommended), found '$major'. apt-get install -y openjdk-17-jre-headless"
}

# Fetch the broker classpath once; refetch only when pom.xml changes.
k_ensure_libs() {
  local want
  want="$(sha256sum "$KAFKA_POM" | cut -c1-16)"
  if [[ -f $K_LIBS/.complete && "$(cat "$K_LIBS/.complete")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || { log "kafka: no mvn, installing Maven"; apt_install maven; }
  log "kafka: fetching the broker jars from Maven Central (one time, ~50 MB) into $K_LIBS"
  rm -rf "$K_LIBS" "$K_LIBS.tmp"
  mkdir -p "$K_DIR"
  mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$K_LIBS.tmp" >"$K_DIR/mvn.log" 2>&1 \
    || { tail -n 30 "$K_DIR/mvn.log" >&2; die "kafka: Maven could not fetch the jars (log: $K_DIR/mvn.log). Is Maven Central reachable?"; }
  echo "$want" >"$K_LIBS.tmp/.complete"
  mv "$K_LIBS.tmp" "$K_LIBS"
}

k_java() { # common JVM flags; the classpath wildcard is expanded by the JVM, not the shell
  java -Djava.awt.headless=true -Dlog4j.configuration="file:$K_LOG4J" -cp "$K_LIBS/*" "$@"
}

k_running_pid() { pid_of "$K_PID" "kafka.Kafka"; }
k_started() { [[ -f $K_LOG ]] && grep -qF "$K_READY_LINE" "$K_LOG"; }

# Wait (120 s) for the readiness line; an open port is not enough, requests are
# served only once the broker is unfenced.
k_wait_ready() {
  local pid=$1 port=$2 i
  for ((i = 0; i < 1200; i++)); do
    if k_started; then
      tcp_open 127.0.0.1 "$port" && return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$K_LOG" >&2
      die "kafka: the broker exited during startup (log: $K_LOG)"
    fi
    ((i % 100 == 99)) && log "kafka: waiting for '$K_READY_LINE' ($(((i + 1) / 10)) s)"
    sleep 0.1
  done
  tail -n 40 "$K_LOG" >&2
  die "kafka: not ready after 120 s (pid $pid still running; log: $K_LOG). Stop it with: scripts/stack.sh down"
}

k_local_up() {
  local pid port="${KAFKA_PORT:-9092}" cport="${KAFKA_CONTROLLER_PORT:-9093}"
  mkdir -p "$K_DIR"

  if pid="$(k_running_pid)"; then
    port="$(cat "$K_DIR/port" 2>/dev/null || echo "$port")"
    if k_started && tcp_open 127.0.0.1 "$port"; then
      log "kafka: already running on 127.0.0.1:$port (pid $pid), reusing"
    else
      log "kafka: pid $pid is still starting, waiting"
      k_wait_ready "$pid" "$port"
      log "kafka: ready on 127.0.0.1:$port"
    fi
    K_PORT_EFFECTIVE=$port
    return 0
  fi

  for p in "$port" "$cport"; do
    tcp_open 127.0.0.1 "$p" && die "kafka: $(port_in_use_msg kafka "$p" "$([[ $p == "$port" ]] && echo KAFKA_PORT || echo KAFKA_CONTROLLER_PORT)")"
  done
  k_ensure_java
  k_ensure_libs

  sed -e "s|@BROKER_PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@LOG_DIRS@|$K_DATA|g" \
    "$REPO/deploy/kafka/server.properties.tmpl" >"$K_CONF"

  # Format the KRaft data dir once, with the fixed cluster id.
  if [[ ! -f $K_DATA/meta.properties ]]; then
    log "kafka: formatting $K_DATA (cluster id $KAFKA_CLUSTER_ID)"
    k_java -Xmx256m kafka.tools.StorageTool format --cluster-id="$KAFKA_CLUSTER_ID" --config "$K_CONF" \
      >"$K_DIR/format.log" 2>&1 \
      || { tail -n 20 "$K_DIR/format.log" >&2; die "kafka: StorageTool format failed (log: $K_DIR/format.log)"; }
  fi

  log "kafka: starting $(basename "$K_LIBS"/kafka_2.13-*.jar .jar) on 127.0.0.1:$port (controller :$cport; log: $K_LOG)"
  [[ -f $K_LOG ]] && mv -f "$K_LOG" "$K_LOG.1" # readiness looks at this run's log only
  # setsid+nohup: the broker must outlive this script and its terminal/session.
  # The inner shell writes its own pid, then execs java, so the pid file is java's.
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$K_PID" \
    java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$K_LOG4J" \
    -cp "$K_LIBS/*" kafka.Kafka "$K_CONF" >"$K_LOG" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do pid="$(k_running_pid)" && break; sleep 0.1; done
  [[ -n ${pid:-} ]] || { tail -n 40 "$K_LOG" >&2; die "kafka: the JVM did not start (log: $K_LOG)"; }
  echo "$port" >"$K_DIR/port"
  k_wait_ready "$pid" "$port"
  log "kafka: ready on 127.0.0.1:$port (pid $pid)"
  K_PORT_EFFECTIVE=$port
}

k_local_down() {
  local pid
  if pid="$(k_running_pid)"; then
    log "kafka: stopping (SIGTERM, controlled shutdown; pid $pid)"
    kill -TERM "$pid"
    if ! wait_gone "$pid" 60; then
      log "kafka: still running after 60 s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || true
    fi
  else
    log "kafka: not running"
  fi
}

k_local_status() {
  local port
  port="$(cat "$K_DIR/port" 2>/dev/null || echo "${KAFKA_PORT:-9092}")"
  if k_running_pid >/dev/null && k_started && tcp_open 127.0.0.1 "$port"; then
    echo "kafka     running  127.0.0.1:$port  (local)"
  else
    echo "kafka     stopped  127.0.0.1:$port  (local)"
    return 1
  fi
}

# ------------------------------------------- servers given by environment ----

env_pg_check() {
  local host=$DB_HOST port=${DB_PORT:-5432}
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port" -t 5 && return 0
  else
    tcp_open "$host" "$port" && return 0
  fi
  return 1
}

env_vk_check() { resp_ping "$VALKEY_HOST" "${VALKEY_PORT:-6379}"; }

env_k_check() { # at least one of the comma-separated brokers accepts connections
  local b
  IFS=',' read -ra brokers <<<"$KAFKA_BROKERS"
  for b in "${brokers[@]}"; do
    b="${b// /}"
    tcp_open "${b%:*}" "${b##*:}" && return 0
  done
  return 1
}

# ---------------------------------------------------------------- compose ----

docker_ok() {
  command -v docker >/dev/null 2>&1 || return 1
  timeout 5 docker info >/dev/null 2>&1 || return 1
  docker compose version >/dev/null 2>&1 \
    || { log "a Docker engine answers but 'docker compose' (v2 plugin) is missing: using local processes"; return 1; }
}

compose() { docker compose -f "$COMPOSE_FILE" "$@"; }

# ------------------------------------------------------------------ up ----

# After `eval "$(scripts/stack.sh env)"` the shell holds DB_HOST etc. from our own
# env file; those must not count as "given by the environment" on the next `up`.
forget_own_env() {
  [[ ${BREWMESH_STACK_ENV:-} == "$ENV_FILE" ]] || return 0
  [[ $(state_get postgres) == env ]] || unset DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME
  [[ $(state_get valkey) == env ]] || unset VALKEY_HOST VALKEY_PORT
  [[ $(state_get kafka) == env ]] || unset KAFKA_BROKERS
  return 0
}

cmd_up() {
  forget_own_env
  local pg_mode vk_mode k_mode mode_default="local"
  local -a compose_svcs=()

  # 1. servers given by the environment
  if [[ -n ${DB_HOST:-} ]]; then
    pg_mode=env
    env_pg_check || die "postgres: DB_HOST=$DB_HOST DB_PORT=${DB_PORT:-5432} is given but does not answer. Fix it, or unset DB_HOST to let this script start one."
    log "postgres: using $DB_HOST:${DB_PORT:-5432} given by the environment"
  fi
  if [[ -n ${VALKEY_HOST:-} ]]; then
    vk_mode=env
    env_vk_check || die "valkey: VALKEY_HOST=$VALKEY_HOST VALKEY_PORT=${VALKEY_PORT:-6379} is given but does not answer PING. Fix it, or unset VALKEY_HOST to let this script start one."
    log "valkey: using $VALKEY_HOST:${VALKEY_PORT:-6379} given by the environment"
  fi
  if [[ -n ${KAFKA_BROKERS:-} ]]; then
    k_mode=env
    env_k_check || die "kafka: none of KAFKA_BROKERS=$KAFKA_BROKERS accepts connections. Fix it, or unset KAFKA_BROKERS to let this script start one."
    log "kafka: using $KAFKA_BROKERS given by the environment"
  fi

  # 2. Docker, 3. local processes, for whatever is left
  mkdir -p "$STACK_DIR"
  if [[ -z ${pg_mode:-} || -z ${vk_mode:-} || -z ${k_mode:-} ]]; then
    case "${STACK_MODE:-auto}" in
      local) mode_default=local ;;
      compose) docker_ok || die "STACK_MODE=compose but no Docker engine answers (docker info)"; mode_default=compose ;;
      auto) if docker_ok; then mode_default=compose; else
              log "no Docker engine answers: running the servers as local processes under .stack/"; fi ;;
      *) die "STACK_MODE must be local, compose or auto (got '$STACK_MODE')" ;;
    esac
  fi
  : "${pg_mode:=$mode_default}" "${vk_mode:=$mode_default}" "${k_mode:=$mode_default}"
  if [[ $pg_mode == compose ]]; then compose_svcs+=(postgres); fi
  if [[ $vk_mode == compose ]]; then compose_svcs+=(valkey); fi
  if [[ $k_mode == compose ]]; then compose_svcs+=(kafka); fi
  if ((${#compose_svcs[@]})); then
    log "docker compose up -d --wait ${compose_svcs[*]}"
    compose up -d --wait "${compose_svcs[@]}" || die "docker compose up failed (see: docker compose -f deploy/compose.yaml logs)"
  fi
  printf 'postgres=%s\nvalkey=%s\nkafka=%s\n' "$pg_mode" "$vk_mode" "$k_mode" >"$STATE_FILE"

  if [[ $pg_mode == local ]]; then pg_local_up; fi
  if [[ $vk_mode == local ]]; then vk_local_up; fi
  if [[ $k_mode == local ]]; then k_local_up; fi

  # Addresses: env-given as given; compose/local on loopback.
  local db_host db_port vk_host vk_port brokers
  if [[ $pg_mode == env ]]; then db_host=$DB_HOST db_port=${DB_PORT:-5432}
  else db_host=127.0.0.1 db_port=${PG_PORT_EFFECTIVE:-${DB_PORT:-5432}}; fi
  if [[ $vk_mode == env ]]; then vk_host=$VALKEY_HOST vk_port=${VALKEY_PORT:-6379}
  else vk_host=127.0.0.1 vk_port=${VK_PORT_EFFECTIVE:-${VALKEY_PORT:-6379}}; fi
  if [[ $k_mode == env ]]; then brokers=$KAFKA_BROKERS
  else brokers=127.0.0.1:${K_PORT_EFFECTIVE:-${KAFKA_PORT:-9092}}; fi

  local user=$APP_DB_USER pass=$APP_DB_PASSWORD name=$APP_DB_NAME
  if [[ $pg_mode == env ]]; then user=${DB_USER:-$user} pass=${DB_PASSWORD:-$pass} name=${DB_NAME:-$name}; fi
  {
    echo "# Written by scripts/stack.sh up ($(date -u +%FT%TZ)); postgres=$pg_mode valkey=$vk_mode kafka=$k_mode"
    echo "# Load with: eval \"\$(scripts/stack.sh env)\""
    printf 'export %s=%q\n' \
      DB_HOST "$db_host" DB_PORT "$db_port" DB_USER "$user" DB_PASSWORD "$pass" DB_NAME "$name" \
      VALKEY_HOST "$vk_host" VALKEY_PORT "$vk_port" KAFKA_BROKERS "$brokers" \
      BREWMESH_STACK_ENV "$ENV_FILE"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"

  log "ready in $((SECONDS - T0)) s:"
  log "  postgres  $db_host:$db_port  ($pg_mode; user $user, databases customerdb orderdb loyaltydb favoritesdb)"
  log "  valkey    $vk_host:$vk_port  ($vk_mode)"
  log "  kafka     $brokers  ($k_mode)"
  log "env written to $ENV_FILE; load it with: eval \"\$(scripts/stack.sh env)\""
}

# ------------------------------------------------------------- down/status ----

cmd_down() {
  local purge=0
  [[ ${1:-} == --purge ]] && purge=1
  [[ -z ${1:-} || $purge == 1 ]] || die "usage: scripts/stack.sh down [--purge]"

  local s modes=""
  for s in postgres valkey kafka; do modes+=" $(state_get $s)"; done
  if [[ $modes == *compose* ]]; then
    if docker_ok; then
      log "docker compose down$([[ $purge == 1 ]] && echo ' -v')"
      if ((purge)); then compose down -v; else compose down; fi
    else
      log "state says compose was used, but no Docker engine answers: skipping docker compose down"
    fi
  fi
  for s in postgres valkey kafka; do
    if [[ $(state_get $s) == env ]]; then log "$s: given by the environment, left alone"; fi
  done
  # Local processes: stop whatever is running, whatever the state file says.
  k_local_down # kafka first: it is the slowest and depends on nothing else here
  vk_local_down
  pg_local_down

  if ((purge)); then
    local pg_root=""
    [[ -f $STACK_DIR/postgres.path ]] && pg_root="$(cat "$STACK_DIR/postgres.path")"
    log "purging data: ${pg_root:-$STACK_DIR/postgres} $VK_DIR $K_DATA (keeping $K_LIBS and $STACK_DIR/bin)"
    if [[ -n $pg_root && $pg_root == */postgres ]]; then rm -rf "$pg_root"; fi
    rm -rf "$STACK_DIR/postgres" "$STACK_DIR/postgres.path" "$VK_DIR" "$K_DATA" \
      "$K_DIR"/server.log* "$K_DIR/format.log" "$K_DIR/server.properties" "$K_DIR/port" "$K_PID" \
      "$ENV_FILE" "$STATE_FILE"
  fi
  log "down in $((SECONDS - T0)) s"
}

cmd_status() {
  local rc=0 mode
  mode="$(state_get postgres)"
  case "$mode" in
    env | compose)
      if [[ -f $ENV_FILE ]]; then (source "$ENV_FILE"; env_pg_check) && st=running || { st=stopped; rc=3; }
      else st=unknown; rc=3; fi
      echo "postgres  $st  $(sed -n 's/^export DB_HOST=//p' "$ENV_FILE" 2>/dev/null):$(sed -n 's/^export DB_PORT=//p' "$ENV_FILE" 2>/dev/null)  ($mode)" ;;
    *) pg_local_status || rc=3 ;;
  esac
  mode="$(state_get valkey)"
  case "$mode" in
    env | compose)
      (source "$ENV_FILE"; env_vk_check) && st=running || { st=stopped; rc=3; }
      echo "valkey    $st  $(sed -n 's/^export VALKEY_HOST=//p' "$ENV_FILE"):$(sed -n 's/^export VALKEY_PORT=//p' "$ENV_FILE")  ($mode)" ;;
    *) vk_local_status || rc=3 ;;
  esac
  mode="$(state_get kafka)"
  case "$mode" in
    env | compose)
      (source "$ENV_FILE"; env_k_check) && st=running || { st=stopped; rc=3; }
      echo "kafka     $st  $(sed -n 's/^export KAFKA_BROKERS=//p' "$ENV_FILE")  ($mode)" ;;
    *) k_local_status || rc=3 ;;
  esac
  return $rc
}

# Outage drills (the Kafka restart test): stop or start only the broker, keeping its data.
cmd_kafka() {
  local action=${1:-}
  case "$(state_get kafka)" in
    local)
      case "$action" in
        stop) k_local_down ;;
        start) KAFKA_PORT="$(cat "$K_DIR/port" 2>/dev/null || echo "${KAFKA_PORT:-9092}")" k_local_up ;;
        *) die "usage: scripts/stack.sh kafka stop|start" ;;
      esac ;;
    compose)
      case "$action" in
        stop) compose stop kafka ;;
        start) compose up -d --wait kafka ;;
        *) die "usage: scripts/stack.sh kafka stop|start" ;;
      esac ;;
    *) die "kafka is not managed by this script (state: '$(state_get kafka)'); it cannot stop or start it" ;;
  esac
}

cmd_env() {
  [[ -f $ENV_FILE ]] || die "no $ENV_FILE yet: run scripts/stack.sh up first"
  cat "$ENV_FILE"
}

# ------------------------------------------------------------------ main ----

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    up | down)
      # One `up`/`down` at a time (parallel CI steps, two terminals). The servers started
      # below get fd 9 closed (9>&-): a daemon inheriting it would hold the lock forever.
      mkdir -p "$STACK_DIR"
      if command -v flock >/dev/null 2>&1; then
        exec 9>"$STACK_DIR/.lock"
        flock -w 300 9 || die "another scripts/stack.sh up/down holds $STACK_DIR/.lock"
      fi
      "cmd_$cmd" "$@" ;;
    kafka)
      mkdir -p "$STACK_DIR"
      exec 9>"$STACK_DIR/.lock"
      flock -w 300 9 || die "another scripts/stack.sh command holds $STACK_DIR/.lock"
      cmd_kafka "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    *)
      echo "usage: scripts/stack.sh up | down [--purge] | status | env | kafka stop|start" >&2
      exit 2 ;;
  esac
}

main "$@"
