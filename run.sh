#!/usr/bin/env bash
# Runs Clinic Edge locally: builds it, starts the edge agent on loopback, provisions simulated CPAP, oxygen and
# ECG devices, and shows readings flowing into the durable journal until Ctrl-C. Everything lives under .run/.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

root="$PWD/.run"
state="$root/agent"
mqtt_port="${EDGE_LOCAL_MQTT_PORT:-1883}"
devices="${EDGE_LOCAL_DEVICES:-6}"
rate="${EDGE_LOCAL_RATE:-2}"
mkdir -p "$state"

echo "==> building (Release)"
dotnet build Edge.sln -c Release -nologo -v quiet
agent_dll="$PWD/edge-agent/Edge.Agent/bin/Release/net10.0/edge-agent.dll"
edgectl=(dotnet "$PWD/cli/Edge.Cli/bin/Release/net10.0/edgectl.dll")
socket="$state/admin.sock"
export EDGE_AGENT_SOCKET="$socket"

pids=()
cleanup() {
  echo
  echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "State kept in $root (journal, device credentials, logs). Remove it to start fresh."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting edge-agent (MQTT on 127.0.0.1:$mqtt_port, state in $state)"
Agent__GatewayId=gw-local \
Agent__StateDirectory="$state" \
Agent__RuntimeDirectory="$state" \
Agent__Broker__BindAddress=127.0.0.1 \
Agent__Broker__Port="$mqtt_port" \
EDGE_AGENT_CONFIG="$root/agent.json" \
  dotnet "$agent_dll" >"$root/agent.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  "${edgectl[@]}" agent status --json >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "edge-agent exited; see $root/agent.log:" >&2; tail -20 "$root/agent.log" >&2; exit 1; fi
  sleep 0.5
done

echo "==> simulating $devices devices (CPAP, oxygen, ECG) at $rate readings/s each"
"${edgectl[@]}" simulate --host 127.0.0.1 --port "$mqtt_port" --devices "$devices" --rate "$rate" \
  --kinds cpap,oxy,ecg --socket "$socket" --duration 24h >"$root/simulate.log" 2>&1 &
pids+=($!)

echo "==> data flowing (Ctrl-C to stop). Logs: $root/agent.log, $root/simulate.log"
while true; do
  sleep 3
  [ -t 1 ] && clear
  "${edgectl[@]}" agent status || true
  echo
  tail -n 1 "$root/simulate.log" 2>/dev/null || true
done
