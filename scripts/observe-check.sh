#!/usr/bin/env bash
# Proof that observability works on the default path (CI runs it; .ci/run): starts the mesh with
# `scripts/up.sh --observe` (its demo places an order for "my usual" with a reward), then asks
#   - Jaeger's query API for the PlaceOrder trace: it must span customer, order, loyalty and
#     favorites (the Order Service calls the other three while placing it);
#   - Prometheus for the business counters: orders placed, customers created, points adjusted
#     (outbox_published_total by event type) must have moved from nothing;
# then stops the services, Jaeger and Prometheus (the stack keeps running).
#
#   bash scripts/observe-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JAEGER=http://127.0.0.1:16686
PROMETHEUS=http://127.0.0.1:9090
log() { printf '[observe-check] %s\n' "$*" >&2; }
die() { printf '[observe-check] FAILED: %s\n' "$*" >&2; exit 1; }

trap 'bash scripts/up.sh down >/dev/null 2>&1 || true' EXIT
log "starting the mesh with --observe (demo output: .stack/logs/observe-check.log)"
mkdir -p .stack/logs
bash scripts/up.sh --observe >.stack/logs/observe-check.log 2>&1 || { tail -n 40 .stack/logs/observe-check.log >&2; die "scripts/up.sh --observe failed"; }

# eventually DESCRIPTION COMMAND...: retries for up to 60 s (spans are batched, scrapes every 5 s).
eventually() {
  local what=$1
  shift
  for _ in $(seq 1 60); do
    "$@" && return 0
    sleep 1
  done
  die "$what"
}

# The services of the newest trace with a PlaceOrder span, as one sorted line.
place_order_trace() {
  curl -fsS "$JAEGER/api/traces?service=order&lookback=1h&limit=50" | python3 -c '
import json, sys
traces = json.load(sys.stdin).get("data") or []
for t in traces:
    if any("PlaceOrder" in s["operationName"] for s in t["spans"]):
        services = sorted({t["processes"][s["processID"]]["serviceName"] for s in t["spans"]})
        print(t["traceID"], " ".join(services))
        break
'
}
spans_four_services() {
  local line
  line="$(place_order_trace)"
  [[ -n $line ]] && log "trace ${line%% *}: ${line#* }"
  [[ " ${line#* } " == *" customer "* && " ${line#* } " == *" favorites "* && " ${line#* } " == *" loyalty "* && " ${line#* } " == *" order "* ]]
}
eventually "no PlaceOrder trace in Jaeger spans customer, favorites, loyalty and order" spans_four_services
log "the PlaceOrder trace spans the four services"

counter() {
  curl -fsS --get "$PROMETHEUS/api/v1/query" --data-urlencode "query=sum(outbox_published_total{event_type=\"$1\"})" |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}
moved() { [[ "$(counter "$1")" != 0 ]]; }
for type in brewmesh.customer.v1.CustomerCreated brewmesh.order.v1.OrderPlaced brewmesh.loyalty.v1.PointsAdjusted; do
  eventually "Prometheus has no $type published" moved "$type"
  log "business counter $type: $(counter "$type")"
done
log "passed: a trace across the four services in Jaeger, business counters in Prometheus"
