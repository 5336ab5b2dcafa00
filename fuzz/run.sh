#!/usr/bin/env bash
# Runs the coverage-guided fuzz harnesses (fuzz/Edge.Fuzz) under AFL++ and prints one JSON line per target on stdout
# (progress on stderr). Exits 1 if any target crashed, after printing each crashing input's path and base64.
#   fuzz/run.sh [--seconds 4] [--target NAME]
# ./test.sh runs it with a fixed budget; ./bench.sh fuzz for as long as asked. See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

seconds=4
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --target) only="$2"; shift 2 ;;
    *) echo "usage: fuzz/run.sh [--seconds N] [--target NAME]" >&2; exit 2 ;;
  esac
done

ensure_debian_packages afl++
# The instrumenting tool is pinned in dotnet-tools.json (SharpFuzz.CommandLine, the same version as the SharpFuzz package).
dotnet tool restore >/dev/null
dotnet build fuzz/Edge.Fuzz -c Release -nologo -v quiet >&2

# Instrumenting rewrites a DLL in place: instrument a copy, never the build output the tests use.
out=${FUZZ_OUT:-$PWD/fuzz/out}
rm -rf "$out"
mkdir -p "$out"
cp -r fuzz/Edge.Fuzz/bin/Release/net10.0 "$out/bin"
dotnet sharpfuzz "$out/bin/Edge.Contracts.dll" >&2

# The harness is a dotnet process, not an afl-instrumented binary; the machine's CPU governor and core dump pattern
# are not ours to change, and a minute is too short for AFL's deterministic stages.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1

stat() { awk -v key="$2" '$1 == key { print $3 }' "$1"; }

targets=$(dotnet "$out/bin/Edge.Fuzz.dll" list)
if [ -n "$only" ]; then
  echo "$targets" | grep -qx "$only" || { echo "unknown target '$only'; known: ${targets//$'\n'/ }" >&2; exit 2; }
  targets=$only
fi

status=0
for target in $targets; do
  echo "==> fuzz $target for ${seconds}s" >&2
  # -t: the first inputs include the runtime's start-up and JIT; a real hang still times out.
  afl-fuzz -i "fuzz/corpus/$target" -o "$out/$target" -x fuzz/json.dict -V "$seconds" -t 5000 -- dotnet "$out/bin/Edge.Fuzz.dll" run "$target" \
    >"$out/$target.log" 2>&1 || { echo "afl-fuzz failed for $target (log: $out/$target.log):" >&2; tail -n 20 "$out/$target.log" >&2; status=1; continue; }
  stats="$out/$target/default/fuzzer_stats"
  crashes=$(stat "$stats" saved_crashes)
  printf '{"bench":"fuzz","target":"%s","seconds":%s,"execs":%s,"execs_per_s":%s,"paths":%s,"crashes":%s}\n' \
    "$target" "$(stat "$stats" run_time)" "$(stat "$stats" execs_done)" "$(stat "$stats" execs_per_sec)" "$(stat "$stats" corpus_count)" "$crashes"
  if [ "$crashes" != 0 ]; then
    status=1
    for crash in "$out/$target"/default/crashes/id:*; do
      echo "CRASH $target: $crash" >&2
      echo "  base64: $(base64 -w0 "$crash")" >&2
      echo "  replay: dotnet fuzz/Edge.Fuzz/bin/Release/net10.0/Edge.Fuzz.dll replay $target '$crash'" >&2
    done
  fi
done
exit "$status"
