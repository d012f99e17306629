#!/usr/bin/env bash
# Brings the mesh up on this machine: set-up, PostgreSQL + Valkey + Kafka (scripts/stack.sh),
# migrations, then the services as background processes (logs in .stack/logs/), and shows
# them answering grpcurl, and the edge (services/edge, :8080) answering curl. Run again to
# restart the services on the current code.
#   bash scripts/up.sh                 up, then a grpcurl demo
#   bash scripts/up.sh --replicas 2    two replicas of every service: the second on port+100 (gRPC
#                                      and metrics), the Order Service balancing over both of each
#   bash scripts/up.sh --observe       the same with Zipkin (traces, UI) and Prometheus (metrics, alert
#                                      rules) as local processes (scripts/observe.sh), the services tracing to Zipkin
#   bash scripts/up.sh down            stop the services, the edge and, if running, Zipkin and
#                                      Prometheus (the stack keeps running: scripts/stack.sh down)
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
LOGS="$REPO/.stack/logs"
RUN="$REPO/.stack/run"
# service name, package dir, default gRPC port, default metrics port
SERVICES=("customer services/customer 50052 9462" "favorites services/favorites 50054 9464" "loyalty services/loyalty 50053 9463" "order services/order 50051 9461")
log() { printf '[up] %s\n' "$*" >&2; }
usage() { log "usage: bash scripts/up.sh [--replicas N (1-9, default 1)] [--observe] | down"; exit 2; }

REPLICAS=1
ACTION=up
OBSERVE=false
while (($#)); do
  case $1 in
    down) ACTION=down ;;
    --observe) OBSERVE=true ;;
    --replicas) [[ ${2:-} =~ ^[1-9]$ ]] || usage; REPLICAS=$2; shift ;;
    --replicas=*) REPLICAS=${1#--replicas=}; [[ $REPLICAS =~ ^[1-9]$ ]] || usage ;;
    *) usage ;;
  esac
  shift
done

# Replica r (1-based) of a service listens on its port + 100 * (r - 1), gRPC and metrics alike;
# its pid file is <name>.pid for the first and <name>-<r>.pid for the others, its log likewise.
port_of() { echo $(($1 + 100 * ($2 - 1))); }
suffix_of() { (($1 == 1)) || printf -- '-%s' "$1"; }
# NODE_OPTIONS a service is deployed with (deploy/k8s/base/config; services/testkit/src/env.ts
# says why), after any of your own.
node_options_of() {
  case "$1" in
    customer | favorites | loyalty | order) echo "${NODE_OPTIONS:+$NODE_OPTIONS }--max-semi-space-size=32" ;;
    *) echo "${NODE_OPTIONS:-}" ;;
  esac
}

# Every replica a pid file names, whatever --replicas the mesh was started with.
stop_services() {
  local entry name file pid
  for entry in "edge services/edge 8080 9465" "${SERVICES[@]}"; do
    read -r name _ _ _ <<<"$entry"
    for file in "$RUN/$name.pid" "$RUN/$name"-[0-9].pid; do
      [[ -e $file ]] || continue
      pid="$(cat "$file" 2>/dev/null || true)"
      if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        log "$name$(basename "$file" .pid | sed "s/^$name//"): stopping (pid $pid, SIGTERM: graceful shutdown)"
        kill -TERM "$pid"
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
      fi
      rm -f "$file"
    done
  done
}

if [[ $ACTION == down ]]; then stop_services; bash scripts/observe.sh down; exit 0; fi

bash scripts/bootstrap.sh grpcurl
export PATH="$REPO/.stack/bin:$PATH"
bash scripts/stack.sh up
# shellcheck disable=SC1091
source .stack/env
mkdir -p "$LOGS" "$RUN"
stop_services
if $OBSERVE; then
  bash scripts/observe.sh up
  # Tracing is opt-in: with an exporter configured the runtime loads the OpenTelemetry SDK, here
  # Zipkin's (JSON over HTTP: Zipkin takes no OTLP). Only traces: Prometheus scrapes the metrics.
  # 127.0.0.1, not the default localhost, which may resolve to ::1 where Zipkin does not listen.
  export OTEL_TRACES_EXPORTER=zipkin OTEL_EXPORTER_ZIPKIN_ENDPOINT=http://127.0.0.1:9411/api/v2/spans
fi
# Development tokens: the services trust .stack/dev-keys/public.pem (issuer brewmesh-dev).
node_modules/.bin/node scripts/mint-token.ts --ensure-keys
export AUTH_PUBLIC_KEY_FILE="$REPO/.stack/dev-keys/public.pem" AUTH_ISSUER=brewmesh-dev AUTH_AUDIENCE=brewmesh
mint() { node_modules/.bin/node scripts/mint-token.ts "$@"; }
# The Order Service calls the others, and Loyalty's reservation hold calls the Order Service, each
# with its own identity: a service token in a file it re-reads when it changes (in Kubernetes, a
# projected token; here minted for 12 h at every up).
for caller in order loyalty; do mint --role service --sub "$caller" >"$REPO/.stack/dev-keys/$caller.token"; done

# The Order Service calls every replica of the others: an ipv4: target listing them all, over
# which its channels balance round robin (services/order/src/clients/outbound.ts).
targets() {
  local r list=""
  for r in $(seq 1 "$REPLICAS"); do list+="${list:+,}127.0.0.1:$(port_of "$1" "$r")"; done
  echo "ipv4:$list"
}
export CUSTOMER_SERVICE_ADDR FAVORITES_SERVICE_ADDR LOYALTY_SERVICE_ADDR ORDER_SERVICE_ADDR
CUSTOMER_SERVICE_ADDR="$(targets 50052)" FAVORITES_SERVICE_ADDR="$(targets 50054)" LOYALTY_SERVICE_ADDR="$(targets 50053)"
ORDER_SERVICE_ADDR="$(targets 50051)"

# What each service runs, as in its image: its bundle and the telemetry preload (scripts/bundle.ts).
log "bundling the services (services/*/dist/main.mjs)"
"$REPO/node_modules/node/bin/node" scripts/bundle.ts >>"$LOGS/bundle.log" 2>&1 \
  || { tail -n 20 "$LOGS/bundle.log" >&2; log "ERROR: bundling failed (log: $LOGS/bundle.log)"; exit 1; }

# The gRPC ports (50051 and up) lie in Linux's range of local ports for outgoing connections
# (ip_local_port_range, 32768-60999 by default). Now and then a connection made while the mesh
# starts (a migration's, a service's pool) took one, and the service it belongs to could not
# listen (EADDRINUSE) until that connection had closed and left TIME_WAIT, a minute later.
# Reserved, no outgoing connection gets them. It takes root, and lasts until the machine restarts.
reserve_grpc_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports entry port r current wanted=""
  for entry in "${SERVICES[@]}"; do
    read -r _ _ port _ <<<"$entry"
    for r in $(seq 1 "$REPLICAS"); do wanted+="${wanted:+,}$(port_of "$port" "$r")"; done
  done
  current="$(cat "$file" 2>/dev/null || true)"
  { [[ -w $file ]] && echo "${current:+$current,}$wanted" >"$file"; } 2>/dev/null \
    || log "note: the gRPC ports are not reserved ($file needs root): a start may now and then fail with EADDRINUSE"
}
reserve_grpc_ports

for entry in "${SERVICES[@]}"; do
  read -r name dir port metrics <<<"$entry"
  log "$name: migrating (DB_NAME=${name}db, schema $name)"
  # The migration reads the service's whole configuration, its identity included.
  (cd "$dir" && DB_NAME="${name}db" SERVICE_TOKEN_FILE="$REPO/.stack/dev-keys/$name.token" pnpm --silent migrate >>"$LOGS/$name.log" 2>&1) \
    || { tail -n 20 "$LOGS/$name.log" >&2; log "ERROR: $name migrations failed (log: $LOGS/$name.log)"; exit 1; }
  for r in $(seq 1 "$REPLICAS"); do
    replica="$name$(suffix_of "$r")"
    log "$replica: starting on :$(port_of "$port" "$r") (log: $LOGS/$replica.log)"
    # node itself (not `pnpm start`, which would not pass SIGTERM on), so the pid file holds the
    # process that shuts down gracefully. Same command as the package's start script.
    (cd "$dir" && DB_NAME="${name}db" OTEL_SERVICE_NAME="$name" INSTANCE_ID="$replica-$(hostname)" \
      SERVICE_TOKEN_FILE="$REPO/.stack/dev-keys/$name.token" NODE_OPTIONS="$(node_options_of "$name")" \
      GRPC_PORT="$(port_of "$port" "$r")" METRICS_PORT="$(port_of "$metrics" "$r")" \
      exec nohup setsid "$REPO/node_modules/node/bin/node" \
      --import @brewmesh/runtime/telemetry/register.mjs dist/main.mjs >>"$LOGS/$replica.log" 2>&1 </dev/null &
      echo $! >"$RUN/$replica.pid")
  done
done

for entry in "${SERVICES[@]}"; do
  read -r name _ port _ <<<"$entry"
  for r in $(seq 1 "$REPLICAS"); do
    replica="$name$(suffix_of "$r")" at="$(port_of "$port" "$r")"
    for i in $(seq 1 100); do
      if grpcurl -plaintext -max-time 2 "127.0.0.1:$at" grpc.health.v1.Health/Check 2>/dev/null | grep -q SERVING; then break; fi
      pid="$(cat "$RUN/$replica.pid")"
      kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOGS/$replica.log" >&2; log "ERROR: $replica exited (log: $LOGS/$replica.log)"; exit 1; }
      ((i == 100)) && { tail -n 30 "$LOGS/$replica.log" >&2; log "ERROR: $replica not SERVING after 20 s"; exit 1; }
      sleep 0.2
    done
    log "$replica: SERVING on 127.0.0.1:$at"
  done
done

# The edge: the public API for curl, browsers and apps (gRPC, gRPC-Web, Connect) on :8080.
log "edge: building the web page (services/edge/web/dist), starting on :8080 (log: $LOGS/edge.log)"
(cd services/edge && "$REPO/node_modules/node/bin/node" scripts/build-web.ts >>"$LOGS/edge.log" 2>&1)
# The edge holds one HTTP/2 connection per service (services/edge/README.md): it is given the first
# replica's address, not the Order Service's ipv4: list of every replica.
(cd services/edge && EDGE_CORS_ORIGINS="${EDGE_CORS_ORIGINS:-http://localhost:5173}" OTEL_SERVICE_NAME=edge \
  CUSTOMER_SERVICE_ADDR=127.0.0.1:50052 FAVORITES_SERVICE_ADDR=127.0.0.1:50054 LOYALTY_SERVICE_ADDR=127.0.0.1:50053 \
  ORDER_SERVICE_ADDR=127.0.0.1:50051 exec nohup setsid \
  "$REPO/node_modules/node/bin/node" --import @brewmesh/runtime/telemetry/register.mjs dist/main.mjs >>"$LOGS/edge.log" 2>&1 </dev/null &
  echo $! >"$RUN/edge.pid")
for i in $(seq 1 100); do
  curl -sf -o /dev/null http://127.0.0.1:8080/readyz && break
  kill -0 "$(cat "$RUN/edge.pid")" 2>/dev/null || { tail -n 30 "$LOGS/edge.log" >&2; log "ERROR: edge exited (log: $LOGS/edge.log)"; exit 1; }
  ((i == 100)) && { tail -n 30 "$LOGS/edge.log" >&2; log "ERROR: edge not ready after 20 s"; exit 1; }
  sleep 0.2
done
log "edge: ready on 127.0.0.1:8080 ($(curl -s http://127.0.0.1:8080/readyz))"

demo() { printf '\n$ %s\n' "$*" >&2; "$@"; }
OPERATOR="$(mint --role operator --sub ops-demo)"
BARISTA="$(mint --role barista --sub barista-demo)"
HOUSEHOLD=8f14e45f-ceea-467f-a0e6-7b2b4f3a9c10
# From the Order Service's seeded menu and the Loyalty catalog (services/order/src/db/menu-seed.ts, services/loyalty).
LATTE=6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f601
DOLLAR_OFF=7a1c3e10-0002-4a6b-9d1e-3f2a1b000002
demo grpcurl -plaintext 127.0.0.1:50052 list
demo grpcurl -plaintext -d '{"service":"brewmesh.customer.v1.CustomerService"}' 127.0.0.1:50052 grpc.health.v1.Health/Check
tag="$(date +%s)"
created="$(grpcurl -plaintext -H "authorization: Bearer $OPERATOR" \
  -d "{\"username\":\"ada_$tag\",\"display_name\":\"Ada\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"email\":\"ada.$tag@example.com\",\"household_id\":\"$HOUSEHOLD\"}" \
  127.0.0.1:50052 brewmesh.customer.v1.CustomerService/CreateCustomer)"
printf '\n$ grpcurl -plaintext -H "authorization: Bearer $OPERATOR" -d {...} 127.0.0.1:50052 brewmesh.customer.v1.CustomerService/CreateCustomer\n%s\n' "$created" >&2
id="$(sed -n 's/^ *"id": "\([0-9a-f-]*\)".*/\1/p' <<<"$created" | head -n1)"
CUSTOMER="$(mint --role customer --sub "$id" --household "$HOUSEHOLD")"
demo grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" -d "{\"id\":\"$id\"}" 127.0.0.1:50052 brewmesh.customer.v1.CustomerService/GetCustomer
# The same call from outside the mesh: curl through the edge (Connect, JSON over HTTP/1.1).
demo curl -sS http://127.0.0.1:8080/brewmesh.customer.v1.CustomerService/GetCustomer -H "authorization: Bearer $CUSTOMER" \
  -H 'content-type: application/json' -d "{\"id\":\"$id\"}"
echo >&2
demo grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" \
  -d "{\"request_id\":\"$(cat /proc/sys/kernel/random/uuid)\",\"customer_id\":\"$id\",\"menu_item_id\":\"$LATTE\",\"display_name\":\"Caffè Latte\",\"customization\":{\"size\":\"DRINK_SIZE_MEDIUM\",\"milk\":\"MILK_TYPE_OAT\"},\"pinned\":true}" \
  127.0.0.1:50054 brewmesh.favorites.v1.FavoritesService/AddFavorite
demo grpcurl -plaintext -H "authorization: Bearer $BARISTA" -d "{\"customer_id\":\"$id\"}" 127.0.0.1:50054 brewmesh.favorites.v1.FavoritesService/GetUsual
# The loyalty account opens from the CustomerCreated event; give it a welcome bonus.
for _ in $(seq 1 50); do
  grpcurl -plaintext -H "authorization: Bearer $OPERATOR" -d "{\"customer_id\":\"$id\"}" 127.0.0.1:50053 brewmesh.loyalty.v1.LoyaltyService/GetAccount >/dev/null 2>&1 && break
  sleep 0.2
done
demo grpcurl -plaintext -H "authorization: Bearer $OPERATOR" \
  -d "{\"request_id\":\"$(cat /proc/sys/kernel/random/uuid)\",\"customer_id\":\"$id\",\"points\":\"500\",\"reason\":\"welcome bonus\"}" \
  127.0.0.1:50053 brewmesh.loyalty.v1.LoyaltyService/AdjustPoints
# "Order my usual" with a reward: the Order Service reads the customer from what it heard of the
# customer events, and calls Favorites and Loyalty over gRPC. The mock processor answers after
# PAYMENT_DELAY_MS (2 s) and declines about one payment in five (PAYMENT_SUCCESS_PERCENT 80): a
# declined demo order (its reward released) is followed by another, so the lines below name a paid one.
payment_of() {
  grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" -d "{\"id\":\"$1\"}" 127.0.0.1:50051 brewmesh.order.v1.OrderService/GetOrder |
    sed -n 's/^ *"status": "PAYMENT_STATUS_\([A-Z]*\)".*/\1/p' | head -n1
}
for attempt in 1 2 3 4 5; do
  placed="$(grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" \
    -d "{\"request_id\":\"$(cat /proc/sys/kernel/random/uuid)\",\"customer_id\":\"$id\",\"lines\":[{\"quantity\":1,\"usual\":{}}],\"reward_ids\":[\"$DOLLAR_OFF\"]}" \
    127.0.0.1:50051 brewmesh.order.v1.OrderService/PlaceOrder)"
  printf '\n$ grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" -d {usual + reward} 127.0.0.1:50051 brewmesh.order.v1.OrderService/PlaceOrder\n%s\n' "$placed" >&2
  order_id="$(sed -n 's/^    "id": "\([0-9a-f-]*\)".*/\1/p' <<<"$placed" | head -n1)"
  payment=PENDING
  for _ in $(seq 1 50); do
    payment="$(payment_of "$order_id")"
    [[ $payment == PENDING ]] || break
    sleep 0.2
  done
  [[ $payment == DECLINED ]] || break
  if ((attempt == 5)); then
    log "the mock processor declined five demo orders in a row (PAYMENT_SUCCESS_PERCENT=${PAYMENT_SUCCESS_PERCENT:-80}): the lines below name a cancelled one"
    break
  fi
  log "the mock processor declined order $order_id (it approves PAYMENT_SUCCESS_PERCENT=${PAYMENT_SUCCESS_PERCENT:-80} %): placing another"
done
demo grpcurl -plaintext -H "authorization: Bearer $CUSTOMER" -d "{\"id\":\"$order_id\"}" 127.0.0.1:50051 brewmesh.order.v1.OrderService/GetOrder
REPLICA_NOTE=""
if ((REPLICAS > 1)); then
  REPLICA_NOTE="
[up] $REPLICAS replicas of each, replica r on port + 100 * (r - 1) for gRPC and metrics: Order on $(targets 50051 | sed 's/^ipv4://; s/127.0.0.1//g'), Customer, Loyalty and Favorites alike.
[up] the Order Service balances round robin over every replica of the others ($CUSTOMER_SERVICE_ADDR, ...).
[up] grpcurl talks to one address; a client balances over a service's replicas with a target listing them and round_robin:
[up]   new OrderServiceClient('$(targets 50051)', credentials.createInsecure(), { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) })
[up] kill one replica (kill -9 \$(cat $RUN/order-2.pid)) and calls through that target keep working."
fi
cat >&2 <<MSG

[up] the mesh is up. Order :50051, Customer :50052, Loyalty :50053, Favorites :50054 (metrics on :9461-9464/metrics),
[up] the edge on :8080 (curl, browsers: http://localhost:8080/app/, gRPC; metrics on :9465/metrics)$REPLICA_NOTE
[up] ready to paste (tokens valid 12 h; more with: pnpm mint-token --role customer|barista|support|operator|service --sub <id>):

export PATH="$REPO/.stack/bin:\$PATH"
export CUSTOMER_TOKEN='$CUSTOMER'   # demo customer $id, household $HOUSEHOLD
export BARISTA_TOKEN='$BARISTA'
export OPERATOR_TOKEN='$OPERATOR'
export EDGE=http://localhost:8080 CUSTOMER_ID=$id
curl -sS "\$EDGE/brewmesh.customer.v1.CustomerService/GetCustomer" -H "authorization: Bearer \$CUSTOMER_TOKEN" -H 'content-type: application/json' -d '{"id":"$id"}'
grpcurl -plaintext -H "authorization: Bearer \$CUSTOMER_TOKEN" -d '{"id":"$id"}' localhost:50052 brewmesh.customer.v1.CustomerService/GetCustomer
grpcurl -plaintext -H "authorization: Bearer \$BARISTA_TOKEN" -d '{"id":"$id"}' localhost:50052 brewmesh.customer.v1.CustomerService/GetCustomer
grpcurl -plaintext -H "authorization: Bearer \$OPERATOR_TOKEN" -d '{"household_id":"$HOUSEHOLD"}' localhost:50052 brewmesh.customer.v1.CustomerService/ListCustomers
grpcurl -plaintext -H "authorization: Bearer \$CUSTOMER_TOKEN" -d '{"customer_id":"$id"}' localhost:50054 brewmesh.favorites.v1.FavoritesService/ListFavorites
grpcurl -plaintext -H "authorization: Bearer \$BARISTA_TOKEN" -d '{"customer_id":"$id"}' localhost:50054 brewmesh.favorites.v1.FavoritesService/GetUsual
grpcurl -plaintext -H "authorization: Bearer \$CUSTOMER_TOKEN" -d '{"customer_id":"$id"}' localhost:50053 brewmesh.loyalty.v1.LoyaltyService/GetAccount
grpcurl -plaintext -H "authorization: Bearer \$CUSTOMER_TOKEN" -d '{"id":"$order_id"}' localhost:50051 brewmesh.order.v1.OrderService/WatchOrder
grpcurl -plaintext -H "authorization: Bearer \$BARISTA_TOKEN" -d '{"id":"$order_id","expected_status":"ORDER_STATUS_PAID"}' localhost:50051 brewmesh.order.v1.OrderService/AdvanceOrder

[up] logs: $LOGS   stop: bash scripts/up.sh down && bash scripts/stack.sh down
MSG
if $OBSERVE; then
  cat >&2 <<MSG
[up] traces:  http://127.0.0.1:9411/zipkin/   (Zipkin: find the PlaceOrder above by serviceName order; API: http://127.0.0.1:9411/api/v2/traces?serviceName=order)
[up] metrics: http://127.0.0.1:9090   e.g. sum by (event_type, outcome) (outbox_published_total); alerts: http://127.0.0.1:9090/alerts
[up] repair:  pnpm ops dlq list brewmesh.order.events.v1   pnpm ops jobs failed loyalty   (README, "Operating brewmesh")
MSG
fi
