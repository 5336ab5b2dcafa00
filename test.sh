#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
require_dotnet

# Real servers the integration tests start on free loopback ports.
ensure_debian_packages mosquitto
stop_packaged_service mosquitto

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "==> build"
dotnet build Edge.sln -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "==> test"
status=0
dotnet test Edge.sln -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test projects.
awk '/^(Passed|Failed)! +- Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
