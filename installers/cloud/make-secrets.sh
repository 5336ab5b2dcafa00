#!/usr/bin/env bash
# Creates installers/cloud/secrets/ for compose.yaml: two private CAs (the cloud CA signs the broker's and the ingest
# workers' TLS certificates; the gateway CA signs gateways only, docs/security.md "PKI"), database and Redis passwords,
# the API's and the workers' connection strings, the API's signing key and the metrics token.
# Run it once, as root
# (it gives each file to the user id of the one container that reads it, mode 0600, except the CA certificate).
#
#   sudo installers/cloud/make-secrets.sh [broker host name]      # default: this host's name
#   sudo installers/cloud/make-secrets.sh sign-gateway <gateway id> <request.csr>   # prints the gateway's certificate
#
# The cloud CA's key (secrets/cloud-ca.key) makes workers: keep it offline and remove it from the host once the
# broker's and the workers' certificates are made. The gateway CA's key (secrets/gateway-ca.key) is the API's: it
# signs gateway CSRs (POST /v1/gateways/{id}/certificate) and can make any gateway, but never a worker, because the
# broker's worker listener trusts only the cloud CA. It follows scripts/local-cloud.sh (make_dev_pki), which the
# tests run; this script itself is untested against the containers, except sign-gateway's refusals (a test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
dir=secrets

# The user ids the images run as: dotnet/aspnet's app, eclipse-mosquitto's mosquitto, postgres, mongo and redis (999
# in these Debian-based images). MinIO runs as root.
app_uid=1654 mosquitto_uid=1883 postgres_uid=999 mongo_uid=999 redis_uid=999

if [ "${1:-}" = "sign-gateway" ]; then
  gateway="${2:?gateway id}" csr="${3:?certificate signing request (PEM)}"
  [[ "$gateway" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || { echo "gateway id must be 1-64 of A-Z a-z 0-9 - _" >&2; exit 2; }
  # The same reserved ids as the API (Edge.Contracts ReservedGatewayIds): the cloud's own client ids and host names.
  shopt -s nocasematch
  if [[ "$gateway" == ingest* || "$gateway" == provision-* ]] \
    || [[ "$gateway" =~ ^(mosquitto|broker|localhost|api|edge-api|postgres|mongo|minio|redis)$ ]]; then
    echo "gateway id '$gateway' is reserved for the cloud's own services" >&2; exit 2
  fi
  shopt -u nocasematch
  # The CN must be the gateway id: the broker ACL (use_identity_as_username) and the uplink topics key on it.
  subject=$(openssl req -in "$csr" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
  [ "$subject" = "$gateway" ] || { echo "the request's CN is '$subject', not '$gateway'" >&2; exit 2; }
  openssl x509 -req -in "$csr" -CA "$dir/gateway-ca.pem" -CAkey "$dir/gateway-ca.key" -CAcreateserial -days 825 \
    -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n') 2>/dev/null
  exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "run as root: the files are given to the containers' users" >&2; exit 1; }
[ -e "$dir/cloud-ca.pem" ] && { echo "$dir/ already has a CA; remove $dir/ to start over (every certificate it signed stops working)" >&2; exit 1; }
broker_host="${1:-$(hostname -f)}"
mkdir -p "$dir" && chmod 0755 "$dir"
umask 077

issue() { # name cn extensions days (signed by the cloud CA)
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$1.key" -out "$dir/$1.csr" -subj "/CN=$2" 2>/dev/null
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/cloud-ca.pem" -CAkey "$dir/cloud-ca.key" -CAcreateserial -out "$dir/$1.pem" -days "$4" \
    -extfile <(printf '%b' "$3") 2>/dev/null
  rm -f "$dir/$1.csr"
}
ca() { # name cn
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$1.key" -out "$dir/$1.pem" \
    -days 3650 -subj "/CN=$2" -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
ca cloud-ca "Clinic Edge cloud CA"
ca gateway-ca "Clinic Edge gateway CA"
# Gateways reach the broker by $broker_host; the workers by the compose service name.
issue broker "$broker_host" "subjectAltName=DNS:$broker_host,DNS:mosquitto,DNS:localhost\nextendedKeyUsage=serverAuth" 825
issue worker ingest-worker "extendedKeyUsage=clientAuth" 825

secret() { openssl rand -hex 24; }
secret > "$dir/pg-admin-password"
secret > "$dir/pg-edge-password"
secret > "$dir/pg-api-password"
secret > "$dir/pg-worker-password"
# The owner's password again, for the API and the workers: they migrate as edge at start (Stores__MigrationPasswordFile).
cp "$dir/pg-edge-password" "$dir/pg-migration-password"
secret > "$dir/mongo-root-password"
secret > "$dir/mongo-edge-password"
secret > "$dir/minio-root-password"
# Redis's requirepass and the API's copy of it (each container can read only a file it owns).
secret > "$dir/redis-password"
cp "$dir/redis-password" "$dir/api-redis-password"
echo clinic-edge > "$dir/minio-root-user"
openssl rand -base64 32 > "$dir/api-signing.key"
# The bearer token of the workers' and the API's metrics listeners; give Prometheus a copy (docs/runbooks/monitoring.md).
openssl rand -hex 32 > "$dir/metrics.token"
# Connection strings carry passwords, so they live here rather than in the environment. The API and the workers read
# their own file as their configuration file (EDGE_API_CONFIG / EDGE_INGEST_CONFIG): each logs in to PostgreSQL as its
# own role (edge_api, edge_worker), never as the owner. Ledger and Registry default to the oxygen store's database.
stores_json() { # role password
  local pg="Host=postgres;Database=clinic_edge;Username=$1;Password=$2"
  cat <<JSON
{
  "Stores": {
    "Cpap": "mongodb://edge:$(cat "$dir/mongo-edge-password")@mongo:27017/clinic_edge",
    "Oxygen": "$pg",
    "Ecg": "$pg"
  }
}
JSON
}
stores_json edge_api "$(cat "$dir/pg-api-password")" > "$dir/stores-api.json"
stores_json edge_worker "$(cat "$dir/pg-worker-password")" > "$dir/stores-worker.json"

chmod 0644 "$dir/cloud-ca.pem" "$dir/gateway-ca.pem"
chmod 0600 "$dir"/*.key "$dir"/*password "$dir/minio-root-user" "$dir"/stores-*.json "$dir/broker.pem" "$dir/worker.pem" "$dir/metrics.token"
chown "$mosquitto_uid" "$dir/broker.pem" "$dir/broker.key"
chown "$app_uid" "$dir/worker.pem" "$dir/worker.key" "$dir"/stores-*.json "$dir/pg-migration-password" "$dir/api-signing.key" "$dir/metrics.token" "$dir/api-redis-password" "$dir/gateway-ca.key"
chown "$redis_uid" "$dir/redis-password"
chown "$postgres_uid" "$dir/pg-admin-password" "$dir/pg-edge-password" "$dir/pg-api-password" "$dir/pg-worker-password"
chown "$mongo_uid" "$dir/mongo-root-password" "$dir/mongo-edge-password"
chown root "$dir/cloud-ca.key" "$dir/minio-root-user" "$dir/minio-root-password"
echo "secrets in $(pwd)/$dir (broker certificate for $broker_host). Move cloud-ca.key offline now: it is needed only to add workers."
