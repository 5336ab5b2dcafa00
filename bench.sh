#!/usr/bin/env bash
# Runs a benchmark and prints its results as JSON lines (progress goes to stderr).
#   ./bench.sh ingest      [--connections 10,100] [--seconds 15] [--warmup 3]
#   ./bench.sh writes      [--devices 50] [--rate 1] [--seconds 60] [--intervals 0,20,100]
#   ./bench.sh startup     [--entries 1000000]
#   ./bench.sh encryption  [--readings 50000] [--writers 20]
#   ./bench.sh drain       [--readings 1000000] [--unpaced]
#   ./bench.sh worker      [--readings 400000] [--consumers 1,4]
#   ./bench.sh connect     [--devices 100] [--rounds 5]
#   ./bench.sh fhir        [--readings 100000] [--page-size 1000]   (FHIR search and bulk export; needs s3rver)
#   ./bench.sh soak        [--minutes 30] [--devices 200] [--rate 1]   (whole system under faults; not part of "all": it is long)
#   ./bench.sh console     [--days 30] [--devices 1000] [--devices-with-history 20] [--samples 30] [--keep] [--database CONN]
#                          (console pages and API on 52 M readings; not part of "all": the data load is long;
#                           --keep leaves the loaded server up, --database measures it again without loading)
#   ./bench.sh fuzz        [--seconds 60] [--target NAME]   (AFL++ per fuzz target; not part of "all")
#   ./bench.sh all         every benchmark with its defaults
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
require_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${1:-}" = "fuzz" ]; then
  shift
  # fuzz/run.sh's default is test.sh's short budget; a benchmark run gets a minute per target unless told otherwise.
  case " $* " in *" --seconds "*) ;; *) set -- --seconds 60 "$@" ;; esac
  exec bash fuzz/run.sh "$@"
fi

ensure_debian_packages mosquitto postgresql-15 openssl
# The console benchmark times pages in Debian's headless chromium (never a downloaded browser), as the console tests do.
if [ "${1:-}" = "console" ]; then ensure_debian_packages chromium; fi
stop_packaged_service mosquitto
if [ "${1:-}" = "fhir" ]; then
  ensure_npm
  [ -d tools/s3rver/node_modules ] || npm ci --prefix tools/s3rver --no-audit --no-fund >&2
fi
dotnet build benchmarks/Edge.Benchmarks -c Release -nologo -v quiet >&2
bench=(dotnet "$PWD/benchmarks/Edge.Benchmarks/bin/Release/net10.0/Edge.Benchmarks.dll")

if [ "${1:-}" = "all" ]; then
  shift
  for b in ingest writes startup encryption drain worker connect; do "${bench[@]}" "$b"; done
else
  "${bench[@]}" "$@"
fi
