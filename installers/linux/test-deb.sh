#!/usr/bin/env bash
# Builds the edge-agent .deb and tests it on this machine:
#   install -> files, owners, modes, user, groups, conffile, enabled unit, the journal key -> `systemd-analyze verify` ->
#   the agent started as the unit starts it (without systemd): encrypted journal, admin socket for edge-admin only ->
#   upgrade (a root-owned gateway key handed to the agent, technicians moved out of edge-agent) -> the real unit
#   under a systemd manager -> remove (configuration and state kept) -> reinstall -> purge (everything gone).
#
#   installers/linux/test-deb.sh [version]      (as root; ./test.sh runs it)
#
# It installs and purges a real package, creates users and starts the agent on free loopback ports, so it needs
# root and belongs on a throwaway machine (CI) or a development box. It refuses to run where edge-agent is already
# installed, or its user or directories exist: the purge at the end would delete them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib.sh
source "$repo/scripts/lib.sh"

version=${1:-0.1.0}
upgrade_version="$version+test1"
started=$SECONDS

step() { printf '==> %s  [%d s]\n' "$*" "$((SECONDS - started))"; }
ok() { printf '  ok    %s\n' "$*"; }
fail() {
  printf '  FAIL  %s\n' "$*" >&2
  exit 1
}

# "install ok installed 1.2.3", "deinstall ok config-files 1.2.3" or "not installed".
package_status() {
  local status
  status=$(dpkg-query -W -f='${Status} ${Version}' edge-agent 2>/dev/null) || status=""
  case $status in
    "" | "unknown ok not-installed"*) echo "not installed" ;;
    *) echo "$status" ;;
  esac
}

if [ "$(id -u)" -ne 0 ]; then
  echo "test-deb.sh: run as root (it installs and purges the package)" >&2
  exit 1
fi
# Two runs at once (two engineers' ./test.sh on one box) would install over each other.
exec 9>/run/lock/edge-agent-test-deb.lock
flock -w 900 9 || fail "another test-deb.sh has held /run/lock/edge-agent-test-deb.lock for 15 minutes"

if [ "$(package_status)" != "not installed" ] ||
  getent passwd edge-agent >/dev/null || getent group edge-agent >/dev/null ||
  [ -e /var/lib/edge-agent ] || [ -e /etc/edge-agent ]; then
  echo "test-deb.sh: edge-agent (package, user, group, /var/lib/edge-agent or /etc/edge-agent) is already on this" >&2
  echo "  machine and this test ends with a purge. If it is left over from an interrupted test run:" >&2
  echo "  dpkg -P edge-agent; userdel edge-agent; groupdel edge-agent; rm -rf /var/lib/edge-agent /etc/edge-agent" >&2
  exit 1
fi

# systemd: systemd-analyze and the manager for the unit test; passwd: useradd; procps: ps;
# init-system-helpers: deb-systemd-helper (the postinst's enable); util-linux: setpriv, runuser, unshare.
ensure_debian_packages systemd passwd procps init-system-helpers util-linux

work=$(mktemp -d)
tech=edge-test-tech # a technician: a member of the edge-admin group, not of edge-agent
agent_pid=""
tech_created=0
legacy_created=0
credentials_dir="" # the journal key as LoadCredentialEncrypted= would give it, for the run without systemd
metrics_dir_created="" # node_exporter's textfile directory, when this test had to create it
cleanup() {
  local rc=$?
  if [ -n "$agent_pid" ]; then
    kill -KILL "$agent_pid" 2>/dev/null || true
  fi
  # Purge even after a failure, so the next run (and the machine) starts clean.
  if [ "$(package_status)" != "not installed" ]; then
    dpkg -P edge-agent >/dev/null 2>&1 || echo "test-deb.sh: cleanup: dpkg -P edge-agent failed" >&2
  fi
  if [ "$tech_created" -eq 1 ]; then
    userdel "$tech" 2>/dev/null || true
  fi
  if [ "$legacy_created" -eq 1 ]; then
    userdel edge-test-legacy 2>/dev/null || true
  fi
  if [ -n "$metrics_dir_created" ]; then
    rm -rf "$metrics_dir_created"
  fi
  rm -rf "$work"
  if [ -n "$credentials_dir" ]; then
    rm -rf "$credentials_dir"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "test-deb.sh: FAILED after $((SECONDS - started)) s" >&2
  fi
}
trap cleanup EXIT

# --- helpers --------------------------------------------------------------------------------------------------

# expect_stat PATH 'user:group mode': owner, group and octal mode of PATH.
expect_stat() {
  local actual
  actual=$(stat -c '%U:%G %a' "$1" 2>/dev/null) || fail "$1 does not exist"
  [ "$actual" = "$2" ] || fail "$1 is $actual, expected $2"
  ok "$1 is $2"
}

expect_gone() {
  if [ -e "$1" ] || [ -L "$1" ]; then
    fail "$1 still exists"
  fi
  ok "$1 is gone"
}


expect_package() {
  local actual
  actual=$(package_status)
  [ "$actual" = "$1" ] || fail "package status is '$actual', expected '$1'"
  ok "dpkg: $1"
}

# dpkg_run ARGS...: runs dpkg quietly, shows its output only when it fails.
dpkg_run() {
  if ! dpkg "$@" >"$work/dpkg.log" 2>&1; then
    cat "$work/dpkg.log" >&2
    fail "dpkg $*"
  fi
}

alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]
}

# A TCP port nothing listens on (on 127.0.0.1 or 0.0.0.0), from the range above the usual ephemeral ones' start.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  fail "no free TCP port found"
}

# json_number JSON KEY: the first "KEY": <number> in JSON (the status has unique key names where used here).
json_number() { grep -o "\"$2\":[0-9]*" <<<"$1" | head -n 1 | cut -d: -f2; }

as_tech() { runuser -u "$tech" -- "$@"; }

# --- build ----------------------------------------------------------------------------------------------------

step "build"
bash "$here/build-deb.sh" "$version" | sed 's/^/  /'
deb="$here/out/edge-agent_${version}_amd64.deb"
[ -f "$deb" ] || fail "build-deb.sh did not produce $deb"
# A second version of the same package, to test an upgrade: same files, higher version.
dpkg-deb -R "$deb" "$work/upgrade"
sed -i "s/^Version: .*/Version: $upgrade_version/" "$work/upgrade/DEBIAN/control"
upgrade_deb="$work/edge-agent_${upgrade_version}_amd64.deb"
dpkg-deb --root-owner-group --build "$work/upgrade" "$upgrade_deb" >/dev/null
ok "$(basename "$deb") and $(basename "$upgrade_deb")"

# --- install --------------------------------------------------------------------------------------------------

step "install"
dpkg_run -i "$deb"
expect_package "install ok installed $version"
verify=$(dpkg --verify edge-agent 2>&1) || true
[ -z "$verify" ] || fail "dpkg --verify edge-agent: $verify"
ok "dpkg --verify: every file matches the package"

passwd_entry=$(getent passwd edge-agent) || fail "postinst did not create the user edge-agent"
IFS=: read -r _ _ agent_uid agent_gid _ agent_home agent_shell <<<"$passwd_entry"
[ "$agent_uid" -lt 1000 ] || fail "edge-agent has uid $agent_uid, expected a system uid (< 1000)"
[ "$agent_shell" = /usr/sbin/nologin ] || fail "edge-agent has shell $agent_shell, expected /usr/sbin/nologin"
[ "$agent_home" = /var/lib/edge-agent ] || fail "edge-agent has home $agent_home, expected /var/lib/edge-agent"
[ "$(getent group edge-agent | cut -d: -f3)" = "$agent_gid" ] || fail "edge-agent's primary group is not edge-agent"
ok "system user edge-agent (uid $agent_uid, group edge-agent, no login shell)"
getent group edge-admin >/dev/null || fail "postinst did not create the group edge-admin"
[ -z "$(getent group edge-agent | cut -d: -f4)" ] || fail "the group edge-agent has members: $(getent group edge-agent)"
ok "group edge-admin (the admin socket's) exists; edge-agent has no members"

expect_stat /var/lib/edge-agent "edge-agent:edge-agent 700"
expect_stat /etc/edge-agent "root:edge-agent 750"
expect_stat /etc/edge-agent/agent.json "root:edge-agent 640"
dpkg-query -W -f='${Conffiles}' edge-agent | grep -q '^ /etc/edge-agent/agent.json ' ||
  fail "/etc/edge-agent/agent.json is not registered as a conffile"
ok "/etc/edge-agent/agent.json is a conffile"
# Encryption at rest on a new install: the key sealed by systemd-creds, given to the agent by a drop-in.
key_dropin=/etc/systemd/system/edge-agent.service.d/journal-key.conf
[ -f "$key_dropin" ] || fail "a new install has no $key_dropin: the journal would not be encrypted"
grep -qx 'LoadCredentialEncrypted=journal-key:/etc/edge-agent/journal-key.cred' "$key_dropin" ||
  fail "$key_dropin does not load the sealed credential: $(cat "$key_dropin")"
grep -qx 'Environment=Agent__Journal__EncryptionKeyCredential=journal-key' "$key_dropin" ||
  fail "$key_dropin does not tell the agent to read it"
expect_stat /etc/edge-agent/journal-key.cred "root:root 600"
journal_key=$(systemd-creds decrypt --name=journal-key /etc/edge-agent/journal-key.cred -) || fail "systemd-creds cannot decrypt the journal key"
[ "${#journal_key}" -ge 32 ] || fail "the journal key has ${#journal_key} characters"
if grep -qF "$journal_key" /etc/edge-agent/journal-key.cred; then fail "journal-key.cred holds the key in clear"; fi
ok "journal key: a sealed systemd credential (the key is not in the file in clear)"
expect_stat /usr/lib/edge-agent/edge-agent "root:root 755"
expect_stat /usr/lib/edgectl/edgectl "root:root 755"
expect_stat /lib/systemd/system/edge-agent.service "root:root 644"
expect_stat /lib/systemd/system/edge-agent-metrics.service "root:root 644"
expect_stat /lib/systemd/system/edge-agent-metrics.timer "root:root 644"
expect_stat /usr/share/doc/edge-agent/edge-agent-alerts.yml "root:root 644"
writable=$(find /usr/lib/edge-agent /usr/lib/edgectl -perm /022)
[ -z "$writable" ] || fail "group- or world-writable files: $writable"
ok "nothing under /usr/lib/edge-agent or /usr/lib/edgectl is writable by group or others"
edgectl_version=$(edgectl --version) || fail "edgectl --version failed"
[[ $edgectl_version == "$version"* ]] || fail "edgectl --version printed '$edgectl_version', expected $version"
ok "/usr/bin/edgectl runs: $edgectl_version"
[ "$(systemctl is-enabled edge-agent.service 2>&1)" = enabled ] || fail "edge-agent.service is not enabled"
ok "edge-agent.service is enabled"
[ "$(systemctl is-enabled edge-agent-metrics.timer 2>&1)" = disabled ] || fail "edge-agent-metrics.timer is not 'disabled' after install"
ok "edge-agent-metrics.timer is installed and not enabled (it needs prometheus-node-exporter)"

# --- the unit -------------------------------------------------------------------------------------------------

step "systemd-analyze verify"
unit=/lib/systemd/system/edge-agent.service
if ! analyze=$(systemd-analyze verify "$unit" 2>&1) || [ -n "$analyze" ]; then
  fail "systemd-analyze verify $unit: $analyze"
fi
ok "$unit: no warnings"
for extra in /lib/systemd/system/edge-agent-metrics.service /lib/systemd/system/edge-agent-metrics.timer; do
  if ! analyze=$(systemd-analyze verify "$extra" 2>&1) || [ -n "$analyze" ]; then
    fail "systemd-analyze verify $extra: $analyze"
  fi
  ok "$extra: no warnings"
done
ok "$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | grep -o 'Overall exposure level.*' || echo 'exposure level: n/a')"

# What the unit says, so the agent below runs the way systemd would run it. The last value of a key wins.
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
read -r -a exec_start <<<"$(unit_value ExecStart | sed 's/^[-@:+!]*//')"
svc_user=$(unit_value User)
svc_group=$(unit_value Group)
svc_groups=$(unit_value SupplementaryGroups)
# Environment= of the unit and of its drop-ins (the journal key's), as systemd passes them.
svc_env=()
for file in "$unit" /etc/systemd/system/edge-agent.service.d/*.conf; do
  [ -f "$file" ] || continue
  while read -r assignment; do svc_env+=("$assignment"); done < <(sed -n 's/^Environment=//p' "$file" | tr ' ' '\n')
done
svc_umask=$(unit_value UMask)
runtime_dir=/run/$(unit_value RuntimeDirectory)
runtime_mode=$(unit_value RuntimeDirectoryMode)
stop_timeout=$(unit_value TimeoutStopSec)
[[ $stop_timeout =~ ^[0-9]+s?$ ]] || fail "TimeoutStopSec=$stop_timeout: this test reads only seconds (45 or 45s)"
stop_timeout=${stop_timeout%s}
[ -x "${exec_start[0]}" ] || fail "ExecStart ${exec_start[0]} is not an executable file"
ok "ExecStart=${exec_start[*]} User=$svc_user Group=$svc_group SupplementaryGroups=$svc_groups UMask=$svc_umask RuntimeDirectory=$runtime_dir ($runtime_mode) Environment=${svc_env[*]}"
socket=$runtime_dir/admin.sock

# --- the agent, started like the unit, without systemd --------------------------------------------------------

step "agent started like the unit (without systemd)"
# The edit to agent.json every gateway needs; it must also survive the upgrade, the remove and the reinstall.
sed -i 's/"GatewayId": ""/"GatewayId": "test-gw-1"/' /etc/edge-agent/agent.json
grep -q '"GatewayId": "test-gw-1"' /etc/edge-agent/agent.json || fail "could not set GatewayId in agent.json"
mqtt_port=$(free_port)
agent_log=$work/agent.log

# The runtime directory as RuntimeDirectory= creates it. setpriv (not runuser) execs without forking, so $! is the
# agent itself: SIGTERM reaches it directly and `wait` returns its own exit code. --no-new-privs and an empty
# capability bounding set as in the unit; the environment is what systemd gives a service, plus the port override.
install -d -m "$runtime_mode" -o "$svc_user" -g "$svc_group" "$runtime_dir"
# LoadCredentialEncrypted= as systemd does it: decrypted into a directory only the service's user can read.
# (Outside $work, which only root may enter; systemd uses /run/credentials/<unit>.)
credentials_dir=$(mktemp -d /run/edge-agent-test-credentials.XXXXXX)
chown "$svc_user:$svc_group" "$credentials_dir"
systemd-creds decrypt --name=journal-key /etc/edge-agent/journal-key.cred "$credentials_dir/journal-key"
chown "$svc_user:$svc_group" "$credentials_dir/journal-key"
chmod 0400 "$credentials_dir/journal-key"
chmod 0500 "$credentials_dir"
(
  cd /
  umask "$svc_umask"
  exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    HOME="$agent_home" USER="$svc_user" LOGNAME="$svc_user" SHELL="$agent_shell" \
    STATE_DIRECTORY=/var/lib/edge-agent RUNTIME_DIRECTORY="$runtime_dir" CONFIGURATION_DIRECTORY=/etc/edge-agent \
    CREDENTIALS_DIRECTORY="$credentials_dir" "${svc_env[@]}" \
    Agent__Broker__BindAddress=127.0.0.1 Agent__Broker__Tls__Port="$mqtt_port" \
    Agent__Uplink__Host=localhost Agent__Uplink__Port="$mqtt_port" \
    setpriv --reuid="$svc_user" --regid="$svc_group" --groups="$svc_groups" --no-new-privs --bounding-set=-all --inh-caps=-all \
    "${exec_start[@]}"
) >"$agent_log" 2>&1 &
agent_pid=$!

show_agent_log() { sed 's/^/  | /' "$agent_log" >&2; }
deadline=$((SECONDS + 60))
until edgectl agent status --socket "$socket" >/dev/null 2>&1; do
  if ! alive "$agent_pid"; then
    show_agent_log
    fail "the agent exited during start"
  fi
  if [ $SECONDS -ge $deadline ]; then
    show_agent_log
    fail "the agent did not answer on $socket within 60 s"
  fi
  sleep 0.5
done
ok "the agent answers on $socket (MQTT over TLS on 127.0.0.1:$mqtt_port)"
expect_stat "$runtime_dir" "edge-agent:edge-agent ${runtime_mode#0}"
expect_stat "$socket" "edge-agent:edge-admin 660"

if getent passwd "$tech" >/dev/null; then userdel "$tech"; fi # left by an interrupted run
useradd --system --no-create-home --shell /usr/sbin/nologin --groups edge-admin "$tech"
tech_created=1
as_tech edgectl agent status --socket "$socket" >"$work/tech-status.txt" 2>&1 ||
  fail "edgectl agent status as $tech (group edge-admin) failed: $(cat "$work/tech-status.txt")"
ok "edgectl agent status works for a member of the edge-admin group"
if runuser -u nobody -- edgectl agent status --socket "$socket" >"$work/nobody.txt" 2>&1; then
  fail "edgectl agent status worked for nobody, who is not in the edge-admin group"
fi
ok "edgectl agent status is refused to a user outside the group: $(head -n 1 "$work/nobody.txt")"
if as_tech ls /var/lib/edge-agent >/dev/null 2>&1; then fail "$tech (edge-admin) can list /var/lib/edge-agent"; fi
ok "$tech (edge-admin) cannot enter /var/lib/edge-agent: the journal and device credentials are the agent's alone"
as_tech edgectl agent status --json --socket "$socket" | grep -q '"encrypted":true' ||
  fail "the agent reports its journal as not encrypted on a new install"
ok "edgectl agent status: the journal is encrypted"

# TLS by default: at its first start the agent created the gateway's device CA and server certificate, keys its own;
# the plain listener is off (no Agent:Broker:Port in the shipped configuration) and nothing warns of it.
expect_stat /var/lib/edge-agent/tls "edge-agent:edge-agent 700"
expect_stat /var/lib/edge-agent/tls/device-ca.key "edge-agent:edge-agent 600"
expect_stat /var/lib/edge-agent/tls/server.key "edge-agent:edge-agent 600"
as_tech edgectl agent device-ca --socket "$socket" >"$work/device-ca.pem" || fail "edgectl agent device-ca as $tech failed"
cmp -s "$work/device-ca.pem" /var/lib/edge-agent/tls/device-ca.pem || fail "edgectl agent device-ca did not print /var/lib/edge-agent/tls/device-ca.pem"
if grep -q 'PRIVATE KEY' "$work/device-ca.pem"; then fail "edgectl agent device-ca printed a private key"; fi
ok "the agent created its device CA and server certificate (keys edge-agent 0600); edgectl agent device-ca exports the CA"
status_json=$(edgectl agent status --json --socket "$socket")
grep -q '"plainEnabled":false' <<<"$status_json" || fail "the shipped configuration turned plain MQTT on: $status_json"
if grep -q 'Plain MQTT listener' "$agent_log"; then fail "the agent warned of a plain listener with the shipped configuration"; fi
ok "TLS only: no plain MQTT listener and no warning"

# Real traffic: the simulator provisions two devices over the admin socket and publishes through the broker over
# TLS, checking the agent's certificate against the device CA it reads through the socket.
as_tech edgectl simulate --socket "$socket" --port "$mqtt_port" --devices 2 --count 5 --rate 0 --json \
  >"$work/simulate.json" 2>"$work/simulate.err" || {
  cat "$work/simulate.err" >&2
  fail "edgectl simulate failed"
}
status_json=$(edgectl agent status --json --socket "$socket")
accepted=$(json_number "$status_json" accepted)
[ "$accepted" = 10 ] || fail "the agent accepted $accepted readings, expected 10: $status_json"
journal_epoch=$(json_number "$status_json" epoch)
journal_last=$(json_number "$status_json" lastSequence)
ok "10 readings from 2 simulated devices accepted (journal epoch $journal_epoch, last sequence $journal_last)"
expect_stat /var/lib/edge-agent/journal.db "edge-agent:edge-agent 600"
expect_stat /var/lib/edge-agent/devices.json "edge-agent:edge-agent 600"
expect_stat /var/lib/edge-agent/devices.key "edge-agent:edge-agent 600"
# The readings on disk: every one has a "timestamp" field, in clear in a plain journal; none in this one or its log.
[ "$(head -c 1 /var/lib/edge-agent/journal.db | od -An -tu1 | tr -d ' ')" = 1 ] || fail "journal.db is not a LiteDB encrypted file"
for file in /var/lib/edge-agent/journal.db /var/lib/edge-agent/journal-log.db; do
  if [ -f "$file" ] && grep -qa '"timestamp"' "$file"; then fail "$file holds readings in clear"; fi
done
ok "journal.db and its log hold no reading in clear"

# The metrics unit's command, run as that unit runs it: root with no capability and the edge-admin group, into the
# directory prometheus-node-exporter creates (root:root 0755; made here the same way when it is not installed).
metrics_unit=/lib/systemd/system/edge-agent-metrics.service
read -r -a metrics_exec <<<"$(sed -n 's/^ExecStart=//p' "$metrics_unit" | tail -n 1)"
metrics_dir=$(sed -n 's/^ConditionPathIsDirectory=//p' "$metrics_unit")
metrics_file=${metrics_exec[${#metrics_exec[@]} - 1]}
[ "$(dirname "$metrics_file")" = "$metrics_dir" ] || fail "$metrics_unit writes $metrics_file, outside $metrics_dir"
if [ ! -d "$metrics_dir" ]; then
  install -d -m 0755 "$metrics_dir"
  metrics_dir_created=$(dirname "$metrics_dir") # /var/lib/prometheus
fi
as_metrics_unit() {
  (cd / && exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    setpriv --reuid=0 --regid=0 "$@" --no-new-privs --bounding-set=-all --inh-caps=-all "${metrics_exec[@]}")
}
if as_metrics_unit --clear-groups >"$work/metrics-nogroup.txt" 2>&1; then
  fail "the metrics command reached the admin socket as root without capabilities and without the edge-admin group"
fi
ok "without the edge-admin group the metrics command cannot reach the socket: $(head -n 1 "$work/metrics-nogroup.txt")"
as_metrics_unit --groups=edge-admin >"$work/metrics.txt" 2>&1 || fail "${metrics_exec[*]} as the unit runs it: $(cat "$work/metrics.txt")"
grep -qx 'edge_ingest_accepted_total 10' "$metrics_file" || fail "$metrics_file does not count the 10 readings: $(grep edge_ingest_accepted "$metrics_file")"
expect_stat "$metrics_file" "root:root 644"
ok "$metrics_file: $(grep -c '^# TYPE' "$metrics_file") metrics, edge_ingest_accepted_total 10"

# The uplink points at the agent's own device listener: the TLS handshake there fails on the certificate (the agent's
# device CA is not the cloud's), so its error shows that name resolution and TCP work. The run under systemd below must end the same way.
deadline=$((SECONDS + 15))
until uplink_error=$(grep -m 1 -o 'Uplink cannot connect to [^(]*([^)]*)' "$agent_log" | sed 's/^[^(]*//'); do
  [ $SECONDS -lt $deadline ] || fail "no uplink attempt logged within 15 s"
  sleep 0.5
done
ok "uplink attempt: $uplink_error"

# SIGTERM, as `systemctl stop` sends it; after TimeoutStopSec systemd would send SIGKILL, and so does this.
kill -TERM "$agent_pid"
deadline=$((SECONDS + stop_timeout))
while alive "$agent_pid"; do
  if [ $SECONDS -ge $deadline ]; then
    kill -KILL "$agent_pid"
    show_agent_log
    fail "the agent did not stop within ${stop_timeout} s of SIGTERM (TimeoutStopSec)"
  fi
  sleep 0.2
done
rc=0
wait "$agent_pid" || rc=$?
agent_pid=""
if [ "$rc" -ne 0 ]; then
  show_agent_log
  fail "the agent exited with $rc after SIGTERM, expected 0"
fi
ok "SIGTERM: the agent stopped with exit code 0"
grep -q 'Journal closed cleanly' "$agent_log" || fail "the agent did not log 'Journal closed cleanly'"
ok "the journal was closed cleanly"
rm -rf "$runtime_dir" # as systemd does when the unit stops

# --- upgrade --------------------------------------------------------------------------------------------------

step "upgrade to $upgrade_version"
echo "written by test-deb.sh" >/var/lib/edge-agent/test-marker
# What a gateway of an earlier release has: the gateway key root:root 0600 (the agent could not read it), and a
# technician in edge-agent, the socket's group then; no edge-admin group.
(umask 077 && openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt >/etc/edge-agent/gateway.key)
chown root:root /etc/edge-agent/gateway.key
legacy_tech=edge-test-legacy
if getent passwd "$legacy_tech" >/dev/null; then userdel "$legacy_tech"; fi
useradd --system --no-create-home --shell /usr/sbin/nologin --groups edge-agent "$legacy_tech"
legacy_created=1
gpasswd -d "$tech" edge-admin >/dev/null
groupdel edge-admin
dpkg_run -i "$upgrade_deb"
expect_package "install ok installed $upgrade_version"
[ -f /var/lib/edge-agent/test-marker ] || fail "the upgrade removed /var/lib/edge-agent/test-marker"
ok "a file in /var/lib/edge-agent survived"
grep -q '"GatewayId": "test-gw-1"' /etc/edge-agent/agent.json || fail "the upgrade lost the edit to agent.json"
ok "the edit to /etc/edge-agent/agent.json survived"
[ "$(id -u edge-agent)" = "$agent_uid" ] || fail "the upgrade changed edge-agent's uid"
ok "edge-agent keeps uid $agent_uid"
expect_stat /var/lib/edge-agent "edge-agent:edge-agent 700"
expect_stat /etc/edge-agent/agent.json "root:edge-agent 640"
expect_stat /var/lib/edge-agent/journal.db "edge-agent:edge-agent 600"
[ "$(stat -c %Y "$key_dropin")" -le "$(stat -c %Y /var/lib/edge-agent/test-marker)" ] || fail "the upgrade rewrote $key_dropin"
ok "the upgrade kept the journal key (no re-key)"
# The gateway key as the real users see it: the agent reads it, a technician does not.
expect_stat /etc/edge-agent/gateway.key "edge-agent:edge-agent 600"
runuser -u edge-agent -- cat /etc/edge-agent/gateway.key >/dev/null || fail "edge-agent cannot read the gateway key"
ok "edge-agent reads the gateway key"
getent group edge-admin | cut -d: -f4 | tr ',' '\n' | grep -qx "$legacy_tech" || fail "the upgrade did not move $legacy_tech to edge-admin"
[ -z "$(getent group edge-agent | cut -d: -f4)" ] || fail "the upgrade left members in edge-agent: $(getent group edge-agent)"
ok "the upgrade moved $legacy_tech from edge-agent to edge-admin"
usermod -aG edge-admin "$tech"
for user in "$tech" "$legacy_tech"; do
  if runuser -u "$user" -- cat /etc/edge-agent/gateway.key >/dev/null 2>&1; then fail "$user (edge-admin) can read the gateway key"; fi
done
ok "technicians in edge-admin cannot read the gateway key"

# --- the installed unit under systemd -------------------------------------------------------------------------

step "the installed unit under a systemd manager (Type=notify, sandboxing)"
# systemd is not PID 1 here (containers, CI), so `systemctl start` is not possible. A systemd user manager, run as
# root in private mount and PID namespaces, runs the unit file as installed with its User=, sandboxing and
# Type=notify. A drop-in changes only what a user manager does differently from the system one:
# - it would put StateDirectory= and ConfigurationDirectory= under $XDG_CONFIG_HOME: the real paths are used
#   instead (ReadWritePaths=/var/lib/edge-agent; /etc is read-only anyway);
# - it puts RuntimeDirectory= under its $XDG_RUNTIME_DIR (private here): the agent is told where;
# - ProtectKernelTunables= and ProtectControlGroups= give a user manager's services a private /run, which hides
#   its notify socket (the system manager's is not affected);
# - its notify socket is for its own user only: opened to the service's user;
# - no journald: the agent's output goes to a file, and Restart=no so a failure shows at once.
sandbox_port=$(free_port)
cat >"$work/sandbox.sh" <<'EOF'
set -euo pipefail
unit=$1 port=$2 log=$3 tech=$4 epoch=$5 last=$6 uplink_error=$7 metrics_unit=$8 metrics_file=$9
ok() { printf '  ok    %s\n' "$*"; }
fail() { printf '  FAIL  %s\n' "$*" >&2; sed 's/^/  | /' "$log" >&2; exit 1; }

rt=/run/systemd/rt
mount -n -t tmpfs -o mode=0755 tmpfs /run/systemd # this mount namespace only
mkdir -p /run/systemd/system "$rt/systemd/user/edge-agent.service.d" "$rt/config"
cp "$unit" "$rt/systemd/user/edge-agent.service"
# The journal key's drop-in as installed, but a user manager running as root leaves the credentials it decrypts to
# root, out of reach of User=edge-agent (systemd 252): here the agent gets the same key as a file 0600 instead. The
# run without systemd above reads it from $CREDENTIALS_DIRECTORY as LoadCredentialEncrypted= gives it.
cp /etc/systemd/system/edge-agent.service.d/journal-key.conf "$rt/systemd/user/edge-agent.service.d/journal-key.conf"
(umask 077 && systemd-creds decrypt --name=journal-key /etc/edge-agent/journal-key.cred "$rt/journal.key")
chown edge-agent:edge-agent "$rt/journal.key"
cat >"$rt/systemd/user/edge-agent.service.d/zz-journal-key-file.conf" <<DROPIN
[Service]
LoadCredentialEncrypted=
Environment=Agent__Journal__EncryptionKeyCredential= Agent__Journal__EncryptionKeyFile=$rt/journal.key
DROPIN
# Nor can a user manager's service join a group other than its own (the agent's chown of its socket to edge-admin
# fails with EPERM under it): here the socket keeps the agent's group, and root and the metrics unit (given the
# agent's group below) use it. The run without systemd above checked edge-admin as the real unit sets it.
cat >"$rt/systemd/user/edge-agent.service.d/zz-socket-group.conf" <<DROPIN
[Service]
Environment=Agent__Admin__SocketGroup=
DROPIN
printf '[Unit]\nDescription=Nothing but what the test starts\n' >"$rt/systemd/user/sandbox.target"
cat >"$rt/systemd/user/edge-agent.service.d/sandbox.conf" <<DROPIN
[Service]
StateDirectory=
ConfigurationDirectory=
ReadWritePaths=/var/lib/edge-agent
ProtectKernelTunables=no
ProtectControlGroups=no
Environment=Agent__RuntimeDirectory=$rt/edge-agent Agent__Broker__BindAddress=127.0.0.1 Agent__Broker__Tls__Port=$port
Environment=Agent__Uplink__Host=localhost Agent__Uplink__Port=$port
StandardOutput=append:$log
StandardError=inherit
Restart=no
TimeoutStartSec=60s
DROPIN

env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR="$rt" XDG_CONFIG_HOME="$rt/config" \
  /lib/systemd/systemd --user --unit=sandbox.target >/dev/null 2>&1 &
export XDG_RUNTIME_DIR=$rt
for _ in $(seq 100); do
  state=$(systemctl --user is-system-running 2>/dev/null || true)
  if [ "$state" = running ] || [ "$state" = degraded ]; then break; fi
  sleep 0.1
done
[ "$state" = running ] || [ "$state" = degraded ] || fail "the systemd user manager did not start ($state)"
cp -a "$rt/systemd/inaccessible" /run/systemd/inaccessible # where namespace setup looks for them
chmod 0666 "$rt/systemd/notify"

# Type=notify: this returns only after the agent sent READY=1.
systemctl --user start edge-agent.service || fail "systemctl start edge-agent failed"
ok "systemctl start returned: the agent sent READY=1 through the sandbox"
[ "$(stat -c '%U:%G %a' "$rt/edge-agent")" = "edge-agent:edge-agent 711" ] || fail "RuntimeDirectory is $(stat -c '%U:%G %a' "$rt/edge-agent")"
ok "RuntimeDirectory created as edge-agent:edge-agent 711"
status=$(edgectl agent status --json --socket "$rt/edge-agent/admin.sock") || fail "edgectl agent status failed"
grep -q '"encrypted":true' <<<"$status" || fail "the journal under systemd is not encrypted: $status"
ok "the agent under systemd opened the encrypted journal"
if ! grep -q "\"epoch\":$epoch," <<<"$status" || ! grep -q "\"lastSequence\":$last," <<<"$status"; then
  fail "the journal after the upgrade is not the one before (epoch $epoch, last sequence $last): $status"
fi
ok "the journal survived the upgrade: epoch $epoch, last sequence $last"
for _ in $(seq 30); do
  grep -q 'Uplink cannot connect' "$log" && break
  sleep 0.5
done
grep -qF "$uplink_error" "$log" || fail "the uplink under the sandbox did not end like outside it ($uplink_error)"
ok "the uplink reaches the network under RestrictAddressFamilies (same result as without the sandbox)"

# The metrics unit with its own sandbox (no capabilities, PrivateNetwork, ProtectSystem=strict with one writable
# directory). Its drop-in changes only the socket path (this manager's runtime directory) and the private /run.
mkdir -p "$rt/systemd/user/edge-agent-metrics.service.d"
cp "$metrics_unit" "$rt/systemd/user/edge-agent-metrics.service"
cat >"$rt/systemd/user/edge-agent-metrics.service.d/sandbox.conf" <<DROPIN
[Service]
ExecStart=
ExecStart=/usr/bin/edgectl agent metrics --socket $rt/edge-agent/admin.sock --output $metrics_file
SupplementaryGroups=
SupplementaryGroups=edge-agent
ProtectKernelTunables=no
ProtectControlGroups=no
StandardOutput=append:$log
StandardError=inherit
DROPIN
systemctl --user daemon-reload
rm -f "$metrics_file"
systemctl --user start edge-agent-metrics.service || fail "systemctl start edge-agent-metrics failed"
result=$(systemctl --user show -p Result --value edge-agent-metrics.service)
[ "$result" = success ] || fail "edge-agent-metrics.service: Result=$result"
grep -q '^edge_journal_entries{lane="routine"} ' "$metrics_file" || fail "edge-agent-metrics.service did not write $metrics_file"
[ "$(stat -c '%U:%G %a' "$metrics_file")" = "root:root 644" ] || fail "$metrics_file is $(stat -c '%U:%G %a' "$metrics_file")"
ok "edge-agent-metrics.service wrote $metrics_file under its sandbox (root:root 644)"

systemctl --user stop edge-agent.service
result=$(systemctl --user show -p Result --value edge-agent.service)
code=$(systemctl --user show -p ExecMainStatus --value edge-agent.service)
if [ "$result" != success ] || [ "$code" != 0 ]; then
  fail "systemctl stop: Result=$result, exit status $code"
fi
ok "systemctl stop: Result=success, exit code 0"
if grep -q 'An error occurred' "$log"; then fail "the agent logged an error under systemd"; fi
ok "no errors in the agent's log"
systemctl --user exit
EOF
# PID namespace: when the script ends, the kernel ends the manager and anything it left running.
unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
  bash "$work/sandbox.sh" "$unit" "$sandbox_port" "$work/agent-systemd.log" "$tech" \
  "$journal_epoch" "$journal_last" "$uplink_error" "$metrics_unit" "$metrics_file" || fail "the unit under systemd (see above)"

# --- remove ---------------------------------------------------------------------------------------------------

step "remove (dpkg -r)"
dpkg_run -r edge-agent
expect_package "deinstall ok config-files $upgrade_version"
for path in /usr/lib/edge-agent /usr/lib/edgectl /usr/bin/edgectl /lib/systemd/system/edge-agent.service \
  /lib/systemd/system/edge-agent-metrics.service /lib/systemd/system/edge-agent-metrics.timer; do
  expect_gone "$path"
done
for path in /etc/edge-agent/agent.json /etc/edge-agent/journal-key.cred "$key_dropin" /var/lib/edge-agent/test-marker /var/lib/edge-agent/journal.db /var/lib/edge-agent/devices.json; do
  [ -f "$path" ] || fail "dpkg -r removed $path"
done
ok "configuration, journal and its key, device credentials and the marker are kept"
getent passwd edge-agent >/dev/null || fail "dpkg -r removed the user edge-agent"
ok "the user edge-agent is kept"

# --- reinstall ------------------------------------------------------------------------------------------------

step "reinstall $upgrade_version"
dpkg_run -i "$upgrade_deb"
expect_package "install ok installed $upgrade_version"
grep -q '"GatewayId": "test-gw-1"' /etc/edge-agent/agent.json || fail "the reinstall lost the edit to agent.json"
[ -f /var/lib/edge-agent/test-marker ] || fail "the reinstall lost /var/lib/edge-agent/test-marker"
ok "the edit to agent.json and the marker survived"
[ "$(id -u edge-agent)" = "$agent_uid" ] || fail "the reinstall changed edge-agent's uid"
expect_stat /etc/edge-agent/agent.json "root:edge-agent 640"
[ "$(systemctl is-enabled edge-agent.service 2>&1)" = enabled ] || fail "edge-agent.service is not enabled after the reinstall"
ok "edge-agent.service is enabled again"

# --- purge ----------------------------------------------------------------------------------------------------

step "purge (dpkg -P)"
dpkg_run -P edge-agent
expect_package "not installed"
getent passwd edge-agent >/dev/null && fail "dpkg -P left the user edge-agent"
getent group edge-agent >/dev/null && fail "dpkg -P left the group edge-agent"
getent group edge-admin >/dev/null && fail "dpkg -P left the group edge-admin (its member $tech must not keep it)"
ok "user edge-agent and groups edge-agent and edge-admin are gone"
for path in /etc/edge-agent /var/lib/edge-agent /run/edge-agent /usr/lib/edge-agent "$key_dropin" \
  /etc/systemd/system/multi-user.target.wants/edge-agent.service "$metrics_file"; do
  expect_gone "$path"
done

printf '==> edge-agent .deb: every check passed (%d s)\n' "$((SECONDS - started))"
