#!/usr/bin/env bash
# Runs Clinic Edge locally, all on 127.0.0.1: a development PKI (cloud CA, gateway CA), mosquitto as the cloud broker
# (TLS, client certificates; gateways and workers on separate listeners), PostgreSQL 15 for the stores and the registry,
# Redis for the API's rate limits, s3rver for ECG report PDFs, the ingest worker, the
# cloud API, the clinic console, the edge agent,
# and simulated CPAP, oxygen and ECG devices (registered in the API). It prints the API's and the console's URLs, the
# console's accounts (admin, technician, clinician, auditor; random passwords in .run/accounts, mode 0600) and an
# admin token,
# then shows readings flowing (acknowledged, in the journal, synced, rows per store) until Ctrl-C, then stops
# everything it started. State lives in .run/ and survives restarts; delete .run/ to start fresh.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
source scripts/local-cloud.sh
require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

root="$PWD/.run"
gateway=gw-local
mqtt_port="${EDGE_LOCAL_MQTT_PORT:-8883}"          # devices → agent (TLS, the agent's own device CA)
cloud_port="${EDGE_LOCAL_CLOUD_PORT:-18883}"       # agent → cloud broker's gateway listener (TLS)
worker_port="${EDGE_LOCAL_WORKER_PORT:-18884}"     # ingest worker → cloud broker's worker listener (TLS)
pg_port="${EDGE_LOCAL_PG_PORT:-55432}"
api_port="${EDGE_LOCAL_API_PORT:-8080}"
console_port="${EDGE_LOCAL_CONSOLE_PORT:-8090}"   # the clinic console (browser)
s3_port="${EDGE_LOCAL_S3_PORT:-4568}"              # s3rver: report PDFs
redis_port="${EDGE_LOCAL_REDIS_PORT:-56379}"       # Redis: the API's rate-limit counters
worker_metrics_port="${EDGE_LOCAL_WORKER_METRICS_PORT:-9464}"   # the worker's Prometheus listener (bearer token)
api_metrics_port="${EDGE_LOCAL_API_METRICS_PORT:-9465}"         # the API's
devices="${EDGE_LOCAL_DEVICES:-6}"
rate="${EDGE_LOCAL_RATE:-2}"
mkdir -p "$root"

ensure_debian_packages mosquitto postgresql-15 openssl curl jq redis-server
ensure_npm
stop_packaged_service mosquitto
stop_packaged_service redis-server
npm ci --prefix tools/s3rver --no-audit --no-fund --silent

echo "==> building (Release)"
dotnet build Edge.sln -c Release -nologo -v quiet
bin() { echo "$PWD/$1/bin/Release/net10.0/$2"; }
edgectl=(dotnet "$(bin cli/Edge.Cli edgectl.dll)")
socket="$root/agent/admin.sock"
export EDGE_AGENT_SOCKET="$socket"
# The worker and the API each run as their own role with only the grants their migrations give them; they migrate
# as postgres (the local owner) at start (docs/stores.md, "Database roles"). Trust authentication on loopback here.
pg_as() { echo "Host=127.0.0.1;Port=$pg_port;Username=$1;Database=clinic_edge"; }
worker_connection=$(pg_as edge_worker)
api_connection=$(pg_as edge_api)
export Stores__MigrationUsername=postgres

pids=()
postgres_dir=""
cleanup() {
  echo
  echo "==> stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "$postgres_dir" ] && stop_postgres "$postgres_dir"
  echo "State kept in $root (journal, credentials, certificates, database). Delete it to start fresh."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> development PKI: cloud CA, gateway CA, broker and worker certificates ($root/pki)"
make_dev_pki "$root/pki"

echo "==> PostgreSQL 15 on 127.0.0.1:$pg_port"
start_postgres "$root/postgres" "$pg_port"
create_pg_roles "$pg_port" edge_api edge_worker

echo "==> Redis (the API's rate limits) on 127.0.0.1:$redis_port"
if [ ! -s "$root/redis.password" ]; then
  (umask 077 && openssl rand -hex 24 >"$root/redis.password")
fi
start_redis "$root/redis" "$redis_port" "$root/redis.password"

echo "==> mosquitto (cloud broker, TLS + client certificates): gateways on 127.0.0.1:$cloud_port, workers on :$worker_port"
start_mosquitto "$root/mosquitto" "$cloud_port" "$worker_port" "$root/pki"

echo "==> s3rver (report PDFs, bucket ecg-reports) on 127.0.0.1:$s3_port"
start_s3rver "$root/s3" "$s3_port" ecg-reports
# s3rver's fixed development keys; a real deployment uses a key file or the instance role (docs/reports.md).
export Reports__Bucket=ecg-reports Reports__ServiceUrl="http://127.0.0.1:$s3_port" Reports__ForcePathStyle=true \
  Reports__AccessKeyId=S3RVER Reports__SecretAccessKey=S3RVER

# One bearer token for both cloud processes' metrics listeners, as installers/cloud/make-secrets.sh makes it.
if [ ! -s "$root/metrics.token" ]; then
  (umask 077 && openssl rand -hex 32 >"$root/metrics.token")
fi
export Metrics__TokenFile="$root/metrics.token"

echo "==> ingest worker (metrics on http://127.0.0.1:$worker_metrics_port/metrics)"
Metrics__Url="http://127.0.0.1:$worker_metrics_port" \
Ingest__Broker__Host=localhost \
Ingest__Broker__Port="$worker_port" \
Ingest__Broker__CaPath="$root/pki/ca.pem" \
Ingest__Broker__CertificatePath="$root/pki/worker.pem" \
Ingest__Broker__KeyPath="$root/pki/worker.key" \
Ingest__Broker__ClientId=ingest-local \
Stores__Cpap="$worker_connection" Stores__Oxygen="$worker_connection" Stores__Ecg="$worker_connection" \
EDGE_INGEST_CONFIG="$root/ingest.json" \
  dotnet "$(bin cloud-workers/Edge.Ingest edge-ingest.dll)" >"$root/ingest.log" 2>&1 &
pids+=($!)

echo "==> cloud API on http://127.0.0.1:$api_port"
mkdir -p "$root/api"
if [ ! -s "$root/api/signing.key" ]; then
  (umask 077 && openssl rand -base64 32 >"$root/api/signing.key")
fi
export Api__Auth__SigningKeyFile="$root/api/signing.key"
# The API signs gateway CSRs with the gateway CA and hands gateways the cloud CA to check the broker with.
export Api__GatewayCa__CertificatePath="$root/pki/gateway-ca.pem" Api__GatewayCa__KeyPath="$root/pki/gateway-ca.key" \
  Api__GatewayCa__BrokerCaPath="$root/pki/ca.pem"
# Counted in Redis as a deployment with several API replicas would; the password from a 0600 file, not the environment.
export Api__RateLimit__Redis="127.0.0.1:$redis_port" Api__RateLimit__RedisPasswordFile="$root/redis.password"
Urls="http://127.0.0.1:$api_port" \
Metrics__Url="http://127.0.0.1:$api_metrics_port" \
Stores__Cpap="$api_connection" Stores__Oxygen="$api_connection" Stores__Ecg="$api_connection" \
EDGE_API_CONFIG="$root/api.json" \
  dotnet "$(bin cloud-workers/Edge.Api edge-api.dll)" >"$root/api.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$api_port"
for _ in $(seq 1 120); do
  curl -sf "$api/healthz" >/dev/null && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "edge-api exited; see $root/api.log:" >&2; tail -20 "$root/api.log" >&2; exit 1; fi
  sleep 0.5
done
token=$(dotnet "$(bin cloud-workers/Edge.Api edge-api.dll)" token --role admin --subject local-admin --hours 12)
call() { curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
call -X POST "$api/v1/clinics" -d '{"id":"local","name":"Local clinic"}' >/dev/null

echo "==> console accounts: admin, and a technician, a clinician and an auditor of clinic local (passwords in $root/accounts, mode 0600)"
(umask 077 && mkdir -p "$root/accounts")
# A new random password the first time; a re-run keeps it. A user whose file went missing gets a new one through the API.
add_account() { # username display-name role [clinic]
  local file="$root/accounts/$1.password"
  [ -s "$file" ] && return 0
  (umask 077 && openssl rand -base64 18 >"$file")
  local out
  if ! out=$(Stores__Cpap="$api_connection" Stores__Oxygen="$api_connection" Stores__Ecg="$api_connection" EDGE_API_CONFIG="$root/api.json" \
      dotnet "$(bin cloud-workers/Edge.Api edge-api.dll)" user add --username "$1" --display-name "$2" --role "$3" ${4:+--clinic "$4"} \
      --password-file "$file" 2>&1); then
    echo "$out" >>"$root/accounts.log"
    # An account left by an earlier run keeps its name: give it this run's password instead.
    if ! { [[ "$out" == *"is taken"* ]] \
      && EDGE_API_URL="$api" EDGE_TOKEN="$token" "${edgectl[@]}" cloud user password "$1" --password-file "$file" >>"$root/accounts.log" 2>&1; }; then
      rm -f "$file"; echo "creating account $1 failed; see $root/accounts.log:" >&2; tail -5 "$root/accounts.log" >&2; exit 1
    fi
  else
    echo "$out" >>"$root/accounts.log"
  fi
}
add_account admin "Local admin" admin
add_account technician "Local technician" technician local
add_account clinician "Local clinician" clinician local
add_account auditor "Local auditor" auditor local

echo "==> clinic console on http://127.0.0.1:$console_port (sessions and keys in $root/console)"
Urls="http://127.0.0.1:$console_port" \
Console__ApiUrl="$api" \
Console__StateDirectory="$root/console" \
EDGE_CONSOLE_CONFIG="$root/console.json" \
  dotnet "$(bin cloud-workers/Edge.Console edge-console.dll)" >"$root/console.log" 2>&1 &
pids+=($!)
console="http://127.0.0.1:$console_port"
for _ in $(seq 1 120); do
  curl -sf "$console/healthz" >/dev/null && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "edge-console exited; see $root/console.log:" >&2; tail -20 "$root/console.log" >&2; exit 1; fi
  sleep 0.5
done

echo "==> registering gateway $gateway: its key stays in $root/gateway, the API's gateway CA signs its CSR"
# What a technician runs on a gateway (docs/cli.md); a re-run keeps the key and the certificate.
EDGE_API_URL="$api" EDGE_TOKEN="$token" "${edgectl[@]}" gateway register --clinic local --name "Local gateway" --id "$gateway" \
  --endpoint "localhost:$cloud_port" --config-dir "$root/gateway" >"$root/register.log" 2>&1 \
  || { echo "gateway registration failed; see $root/register.log:" >&2; cat "$root/register.log" >&2; exit 1; }

echo "==> edge agent (devices on mqtts://127.0.0.1:$mqtt_port, device CA in $root/agent/tls, state in $root/agent)"
Agent__GatewayId="$gateway" \
Agent__StateDirectory="$root/agent" \
Agent__RuntimeDirectory="$root/agent" \
Agent__Broker__BindAddress=127.0.0.1 \
Agent__Broker__Tls__Port="$mqtt_port" \
Agent__Reports__UploadEndpoint="http://127.0.0.1:$s3_port" \
EDGE_AGENT_CONFIG="$root/gateway/agent.json" \
  dotnet "$(bin edge-agent/Edge.Agent edge-agent.dll)" >"$root/agent.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  "${edgectl[@]}" agent status --json >/dev/null 2>&1 && break
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "edge-agent exited; see $root/agent.log:" >&2; tail -20 "$root/agent.log" >&2; exit 1; fi
  sleep 0.5
done

# A .run/ from before credentials carried their origin: its simulated devices' credentials read as an operator's, and
# simulate (rightly) will not touch those. Everything in .run/ is simulated, so they go; the simulator makes new ones.
"${edgectl[@]}" agent device list --json --socket "$socket" 2>/dev/null \
  | grep -o '"serial": *"[A-Z]*-9000-[0-9]*"[^}]*"origin": *"operator"' | grep -o '[A-Z]*-9000-[0-9]*' \
  | while read -r serial; do "${edgectl[@]}" agent device remove --serial "$serial" --socket "$socket" >/dev/null; done \
  || true # no such credentials: nothing to remove

# The simulated devices connect with TLS and check the agent's certificate against its device CA (read through the socket).
echo "==> simulating $devices devices (CPAP, oxygen, ECG) at $rate readings/s each, over TLS"
"${edgectl[@]}" simulate --host 127.0.0.1 --port "$mqtt_port" --devices "$devices" --rate "$rate" \
  --kinds cpap,oxy,ecg --socket "$socket" >"$root/simulate.log" 2>&1 &
pids+=($!)

rows() {
  /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p "$pg_port" -U postgres -d clinic_edge -tA -F ' ' -c \
    "SELECT 'cpap', count(*) FROM cpap_device_data UNION ALL SELECT 'oxygen', count(*) FROM oxygen_readings UNION ALL SELECT 'ecg', count(*) FROM ecg_readings" 2>/dev/null \
    | awk '{ printf "%s %s   ", $1, $2 } END { print "" }'
}

# Register the simulated devices in the registry once the simulator has created their credentials on the agent.
for _ in $(seq 1 40); do
  serials=$("${edgectl[@]}" agent device list --json 2>/dev/null | jq -r '.[].serial' 2>/dev/null || true)
  [ "$(echo "$serials" | grep -c .)" -ge "$devices" ] && break
  sleep 0.5
done
for serial in $serials; do
  call -X POST "$api/v1/devices" -d "{\"serial\":\"$serial\",\"clinic_id\":\"local\",\"gateway_id\":\"$gateway\"}" >/dev/null
done
first=$(echo "$serials" | head -n 1)
# A first config push, followed to the device's answer (the simulated devices acknowledge every config they receive).
cpap=$(echo "$serials" | grep -E '^(CPAP|BIPAP)-' | head -n 1 || true)
if [ -n "$cpap" ]; then
  call -X PUT "$api/v1/devices/$cpap/config" \
    -d '{"target_pressure":11,"humidity_level":2,"alerts":{"leak_threshold":30,"rr_low":10,"rr_high":26}}' >/dev/null
fi
config_state() { [ -n "$cpap" ] && curl -sS -H "Authorization: Bearer $token" "$api/v1/devices/$cpap/config" | jq -r '"Config push   \(.serial) version \(.version): \(.state) (queued \(.queued_at), delivered \(.delivered_at // "-"), applied \(.applied_at // "-"))"'; return 0; }
ecg=$(echo "$serials" | grep '^ECG-' | head -n 1 || true)
cat >"$root/api-token" <<EOF_TOKEN
$token
EOF_TOKEN
chmod 600 "$root/api-token"

banner() {
  echo "Console: $console   sign in as (username / password, also in $root/accounts/):"
  for user in admin technician clinician auditor; do echo "  $user / $(cat "$root/accounts/$user.password")"; done
  echo "Cloud API: $api   (OpenAPI: $api/openapi/v1.json)"
  echo "Admin token (12 h, also in $root/api-token):"
  echo "  export EDGE_TOKEN=\$(cat $root/api-token)"
  echo "  curl -H \"Authorization: Bearer \$EDGE_TOKEN\" $api/v1/devices"
  [ -n "$first" ] && echo "  curl -H \"Authorization: Bearer \$EDGE_TOKEN\" '$api/v1/devices/$first/telemetry?limit=3'"
  [ -n "$ecg" ] && echo "  curl -H \"Authorization: Bearer \$EDGE_TOKEN\" $api/v1/devices/$ecg/reports   (ECG reports, with download links)"
  echo "Gateway metrics (Prometheus text): ${edgectl[*]} agent metrics --socket $socket"
  echo "Cloud metrics: curl -H \"Authorization: Bearer \$(cat $root/metrics.token)\" http://127.0.0.1:$worker_metrics_port/metrics   (API: port $api_metrics_port)"
  return 0
}
banner

echo "==> data flowing (Ctrl-C to stop). Logs: $root/*.log"
while true; do
  sleep 3
  [ -t 1 ] && clear
  "${edgectl[@]}" agent status || true
  echo
  echo "Rows in the stores: $(rows)"
  config_state || true
  banner
  tail -n 1 "$root/simulate.log" 2>/dev/null || true
done
