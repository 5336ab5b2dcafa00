# shellcheck shell=bash
# The local "cloud" for run.sh: a development CA, mosquitto with TLS client certificates, PostgreSQL 15.
# Sourced by run.sh; everything lives under $root (.run/) and listens on 127.0.0.1 only.

# A development PKI shaped like a deployment's (docs/security.md, "PKI"): a cloud CA that signs the broker's server
# certificate (localhost) and the ingest worker's (CN ingest-worker), and a gateway CA that signs gateways only. The
# API holds the gateway CA and signs the local gateway's CSR when run.sh registers it with edgectl, as on-prem.
make_dev_pki() {
  local pki="$1"
  [ -f "$pki/gateway-ca.pem" ] && return 0
  # An older .run/ had one CA for everything: start its PKI over (the gateway re-registers with the new one).
  rm -rf "$pki"
  mkdir -p "$pki"
  (
    cd "$pki" || exit 1
    umask 077
    ca() { # name cn
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.pem" \
        -days 365 -subj "/CN=$2" -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    }
    issue() { # name cn extensions
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
      printf '%b' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 90 -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    ca ca "Clinic Edge local cloud CA"
    ca gateway-ca "Clinic Edge local gateway CA"
    issue server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
    issue worker ingest-worker "extendedKeyUsage=clientAuth"
    chmod 600 ./*.key
    chmod 644 ./*.pem
  )
}

# mosquitto as the cloud broker, running the shipped installers/cloud/mosquitto/mosquitto.conf with local ports and
# paths: a gateway listener (gateway CA) and a worker listener (cloud CA), each with its shipped ACL.
start_mosquitto() {
  local dir="$1" port="$2" worker_port="$3" pki="$4" shipped
  shipped="$(dirname "${BASH_SOURCE[0]}")/../installers/cloud/mosquitto"
  mkdir -p "$dir"
  cp "$shipped/gateways.acl" "$shipped/workers.acl" "$dir/"
  grep -v '^#' "$shipped/mosquitto.conf" | sed \
    -e "s|^listener 8883\$|listener $port 127.0.0.1|" \
    -e "s|^listener 8884\$|listener $worker_port 127.0.0.1|" \
    -e "s|/mosquitto/certs/gateway-ca.pem|$pki/gateway-ca.pem|" \
    -e "s|/mosquitto/certs/cloud-ca.pem|$pki/ca.pem|" \
    -e "s|/run/secrets/broker.pem|$pki/server.pem|" \
    -e "s|/run/secrets/broker.key|$pki/server.key|" \
    -e "s|/mosquitto/config/|$dir/|" \
    -e "s|/mosquitto/data/|$dir/|" \
    -e "s|^log_dest stdout|log_dest file $dir/mosquitto.log|" >"$dir/mosquitto.conf"
  [ "$(id -u)" -eq 0 ] && echo "user root" >>"$dir/mosquitto.conf"
  /usr/sbin/mosquitto -c "$dir/mosquitto.conf" &
  pids+=($!)
}

# PostgreSQL 15 in a project-local data directory, run as the postgres user (it refuses to run as root).
start_postgres() {
  local dir="$1" port="$2" bin=/usr/lib/postgresql/15/bin
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir" && chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  fi
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  # Read by run.sh's exit trap, which stops only the PostgreSQL this run started.
  # shellcheck disable=SC2034
  postgres_dir="$dir"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='clinic_edge'" | grep -q 1 \
    || "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE clinic_edge"
}

# Login roles with nothing granted yet (the processes' migrations grant them what they need); kept across restarts.
create_pg_roles() {
  local port="$1" role
  shift
  for role in "$@"; do
    /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$role'" | grep -q 1 \
      || /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE $role LOGIN"
  done
}

stop_postgres() {
  local dir="$1"
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then as_pg=(runuser -u postgres --); fi
  if [ -f "$dir/data/postmaster.pid" ]; then "${as_pg[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; fi
}

# Redis on 127.0.0.1 for the API's shared rate limits, with the password in $password_file (requirepass), no
# persistence (counters live a minute). Waits until it listens.
start_redis() {
  local dir="$1" port="$2" password_file="$3"
  mkdir -p "$dir"
  (umask 077 && cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
protected-mode yes
requirepass $(cat "$password_file")
save ""
appendonly no
dir $dir
logfile $dir/redis.log
CONF
  )
  /usr/bin/redis-server "$dir/redis.conf" &
  pids+=($!)
  for _ in $(seq 1 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "redis-server did not start on port $port; see $dir/redis.log" >&2
  return 1
}

# s3rver (tools/s3rver, from the npm registry) on 127.0.0.1 with one bucket; objects live in $dir. Waits until it listens.
start_s3rver() {
  local dir="$1" port="$2" bucket="$3"
  mkdir -p "$dir"
  node "$(dirname "${BASH_SOURCE[0]}")/../tools/s3rver/node_modules/s3rver/bin/s3rver.js" \
    -d "$dir" -a 127.0.0.1 -p "$port" --silent --no-vhost-buckets --configure-bucket "$bucket" >"$dir.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "s3rver did not start on port $port; see $dir.log" >&2
  return 1
}
