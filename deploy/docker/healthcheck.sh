#!/bin/sh
# grpc.health.v1 Check against this container's own gRPC server (the ops exporter: its /healthz),
# for the image's HEALTHCHECK and for Kubernetes exec probes when gRPC TLS is on (the kubelet's
# native gRPC probe speaks plaintext only).
#
#   healthcheck [SERVICE_NAME]     e.g. healthcheck brewmesh.customer.v1.CustomerService
#
# Port: GRPC_PORT, else the service's default. With GRPC_TLS_CERT_FILE set it uses TLS,
# verifying the server against HEALTHCHECK_TLS_CA_FILE (default GRPC_TLS_CLIENT_CA_FILE) for
# the name HEALTHCHECK_TLS_SERVER_NAME (default: $SERVICE), and presents the server's own
# certificate when the server asks for client certificates (GRPC_TLS_CLIENT_CA_FILE).
set -eu
case "${SERVICE:-}" in
  order) default_port=50051 ;;
  customer) default_port=50052 ;;
  loyalty) default_port=50053 ;;
  favorites) default_port=50054 ;;
  # The ops exporter has no gRPC server: its metrics port's /healthz (the image has no curl).
  ops) exec node -e "fetch('http://127.0.0.1:${METRICS_PORT:-9466}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" ;;
  *) echo "healthcheck: SERVICE must be order, customer, loyalty, favorites or ops" >&2; exit 2 ;;
esac
set -- -addr="127.0.0.1:${GRPC_PORT:-$default_port}" -service="${1:-}" -connect-timeout=2s -rpc-timeout=2s
if [ -n "${GRPC_TLS_CERT_FILE:-}" ]; then
  set -- "$@" -tls
  ca="${HEALTHCHECK_TLS_CA_FILE:-${GRPC_TLS_CLIENT_CA_FILE:-}}"
  if [ -n "$ca" ]; then
    set -- "$@" -tls-ca-cert="$ca" -tls-server-name="${HEALTHCHECK_TLS_SERVER_NAME:-$SERVICE}"
  else
    set -- "$@" -tls-no-verify
  fi
  if [ -n "${GRPC_TLS_CLIENT_CA_FILE:-}" ]; then
    set -- "$@" -tls-client-cert="$GRPC_TLS_CERT_FILE" -tls-client-key="${GRPC_TLS_KEY_FILE:?}"
  fi
fi
exec grpc_health_probe "$@"
