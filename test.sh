#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh
require_dotnet

# Real servers the integration tests start themselves on free loopback ports (never the packaged services).
ensure_debian_packages mosquitto postgresql-15 openssl redis-server
# Debian's headless chromium for the console's browser tests (Playwright drives it; it never downloads a browser).
ensure_debian_packages chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
ensure_npm
stop_packaged_service mosquitto
stop_packaged_service redis-server
# s3rver, the S3-compatible server the report tests start (versions pinned by the committed package-lock.json).
npm ci --prefix tools/s3rver --no-audit --no-fund --silent
# Redocly and Spectral, the linters docs/openapi/v1.json must pass (OpenApiLintTests), pinned the same way. A dependency
# (@scarf/scarf) reports installs from its install script where npm runs it; SCARF_ANALYTICS=false turns that off.
SCARF_ANALYTICS=false npm ci --prefix tools/openapi --no-audit --no-fund --silent
# promtool for the tests of the shipped Prometheus alert rules.
ensure_promtool

# Every shell script of the repository, shellcheck-clean (the Debian maintainer scripts have no .sh suffix).
ensure_debian_packages shellcheck
echo "==> shellcheck"
scripts_status=passed
mapfile -t shell_scripts < <(git ls-files '*.sh' 2>/dev/null || find . -name '*.sh' -not -path '*/node_modules/*')
shellcheck -x "${shell_scripts[@]}" installers/linux/debian/postinst installers/linux/debian/prerm installers/linux/debian/postrm \
  || scripts_status=failed
echo "shellcheck: $scripts_status"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "==> build"
dotnet build Edge.sln -c Release -nologo -v quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "==> test"
status=0
[ "$scripts_status" = passed ] || status=1
# One test project at a time: the end-to-end and crash tests start real brokers, databases and agents, and
# two cores shared by five test processes turn timeouts into flakes.
dotnet test Edge.sln -c Release --no-build -nologo -m:1 --logger "console;verbosity=normal" 2>&1 | tee "$log" || status=$?

# Coverage-guided fuzzing (docs/fuzzing.md): every parser of untrusted input under AFL++ for a fixed budget (about a
# minute in all); a crash fails the run and prints the crashing input's path and base64.
echo "==> fuzz"
fuzz=passed
bash fuzz/run.sh --seconds "${FUZZ_SECONDS:-4}" || fuzz=failed
[ "$fuzz" = passed ] || status=1
echo "fuzz: $fuzz"

# The Debian package, end to end: build, install, run the agent as its systemd unit would, upgrade, remove, purge.
# It installs a real package and creates users, so it runs as root (CI is root; elsewhere through sudo).
echo "==> installer"
installer=passed
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo bash installers/linux/test-deb.sh || installer=failed
[ "$installer" = passed ] || status=1
echo "installer: $installer"

# The failed tests again at the end, where a reader of a long CI log looks first: the name, the message and the top
# of the stack of each (dotnet test prints them once, far up, in the middle of the project's output).
if grep -q '^  Failed ' "$log"; then
  echo "==> failed tests"
  awk '/^  Failed / { shown = 0; printing = 1 }
       /^  (Passed|Skipped) / { printing = 0 }
       printing && shown < 25 { print; shown++ }' "$log" | head -n 300
fi

# One closing line for the whole run, summed over the test projects.
# dotnet test prints, per test project, "Total tests: N" followed by indented "Passed: N", "Failed: N", "Skipped: N".
awk '/^Total tests:/ { counting = 1; next }
     counting && /^ +Passed: +[0-9]+$/ { p += $2; next }
     counting && /^ +Failed: +[0-9]+$/ { f += $2; next }
     counting && /^ +Skipped: +[0-9]+$/ { s += $2; next }
     { counting = 0 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
