# shellcheck shell=bash
# Shared helpers for run.sh, test.sh and bench.sh. Sourced, not run.

# Installs Debian packages that are missing, without letting their init scripts start services
# (a packaged mosquitto would otherwise grab port 1883 on a developer machine).
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]} (apt-get)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && created_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" -eq 1 ] && $sudo rm -f "$policy"
  return 0
}

# promtool, Prometheus's rule checker, for the alert-rule tests: unpacked from Debian's prometheus package into
# tools/promtool/, not installed, so no Prometheus user, service or data directory is created.
ensure_promtool() {
  local target=tools/promtool/promtool
  [ -x "$target" ] && return 0
  echo "==> fetching promtool (Debian's prometheus package, unpacked only)"
  local tmp sudo=""
  tmp=$(mktemp -d)
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # apt-get download needs the package lists; a fresh machine may have none yet.
  (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null) || {
    $sudo apt-get update -qq
    (cd "$tmp" && apt-get download -qq prometheus)
  }
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  install -D -m 0755 "$tmp/root/usr/bin/promtool" "$target"
  rm -rf "$tmp"
}

# Stops a packaged service that an earlier install may have started, so it cannot hold our ports: the systemd unit,
# or (no systemd, e.g. a container) only the process started from the package's own configuration. Never every process
# of that name: a ./run.sh, a benchmark or another test run elsewhere on this machine runs its own mosquitto and Redis,
# and killing those would cut its uplink from under it.
stop_packaged_service() {
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$1" 2>/dev/null; then systemctl stop "$1" || true; fi
  case "$1" in
    mosquitto) pkill -f '^/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto\.conf' 2>/dev/null || true ;;
    redis-server) pkill -f '^/usr/bin/redis-server [0-9.:*]*:6379( |$)' 2>/dev/null || true ;;
    *) echo "stop_packaged_service: no packaged command line known for $1" >&2; return 1 ;;
  esac
}

require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
    exit 1
  fi
}

# Node.js and npm (for s3rver): Debian's packages, unless an npm is already there. NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package, so installing "npm" next to it fails.
ensure_npm() {
  command -v npm >/dev/null 2>&1 || ensure_debian_packages nodejs npm
}
