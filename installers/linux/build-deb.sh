#!/usr/bin/env bash
# Builds the edge-agent Debian package: the agent and edgectl (framework-dependent .NET 10), the hardened systemd
# unit, /etc/edge-agent/agent.json as a conffile and the maintainer scripts in debian/.
#
#   installers/linux/build-deb.sh [version]      version: X.Y.Z, default 0.1.0
#
# Output: installers/linux/out/edge-agent_<version>_amd64.deb. Needs the .NET 10 SDK and dpkg-deb; not root.
#
# Framework-dependent, not self-contained: the runtime gets its security fixes from apt
# (aspnetcore-runtime-10.0 from Microsoft's package feed) without a new agent package, and the package stays
# around 2 MB instead of about 110 MB, which matters on a clinic's uplink. The runtime is only Recommended, not a
# Depends: it is often installed from Microsoft's tarball or dotnet-install.sh (as on the CI machines), which
# dpkg does not know about, and a Depends would make `dpkg -i` refuse the package there. postinst warns when the
# runtime cannot be found.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

version=${1:-0.1.0}
# Kept to X.Y.Z: the same string is the Debian version and the .NET assembly version (edgectl --version).
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "build-deb.sh: version must look like 1.2.3 (got '$version')" >&2
  exit 2
fi
# Only amd64 is built and tested. arm64 gateways need RID linux-arm64 and its apphost pack.
arch=amd64
rid=linux-x64
maintainer=${EDGE_DEB_MAINTAINER:-"Clinic Edge <clinic-edge@example.invalid>"}

for tool in dotnet dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# --artifacts-path: a private bin/obj, so this build neither uses nor disturbs a concurrent `dotnet build`
# of the solution. No XML doc files in the package; the .pdb files stay for line numbers in stack traces.
publish() {
  echo "==> dotnet publish $1 -> $2"
  dotnet publish "$repo/$1" -c Release -r "$rid" --self-contained false \
    -p:Version="$version" -p:GenerateDocumentationFile=false \
    --artifacts-path "$work/artifacts" -o "$root$2" -nologo -v quiet
}
publish edge-agent/Edge.Agent/Edge.Agent.csproj /usr/lib/edge-agent
publish cli/Edge.Cli/Edge.Cli.csproj /usr/lib/edgectl

echo "==> layout"
mkdir -p "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/edge-agent" "$root/usr/share/doc/edge-agent" "$root/DEBIAN"
# edgectl on PATH. The apphost resolves its own path through the symlink, so it finds its dlls.
ln -s ../lib/edgectl/edgectl "$root/usr/bin/edgectl"
cp "$here/edge-agent.service" "$root/lib/systemd/system/edge-agent.service"
cp "$here/edge-agent-metrics.service" "$here/edge-agent-metrics.timer" "$root/lib/systemd/system/"
cp "$here/agent.json" "$root/etc/edge-agent/agent.json"
for doc in install.md operations.md configuration.md security.md; do
  cp "$repo/docs/$doc" "$root/usr/share/doc/edge-agent/$doc"
done
# The Prometheus alert rules, for the hospital's Prometheus (not used on the gateway itself).
cp "$here/prometheus/edge-agent-alerts.yml" "$root/usr/share/doc/edge-agent/edge-agent-alerts.yml"

# Modes are set here, not inherited from the build tree (NuGet extracts some dlls 0744). --root-owner-group makes
# every file root:root; postinst then gives /etc/edge-agent and agent.json to the edge-agent group. They ship
# already closed to others, so there is no moment where agent.json is world-readable.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/lib/edge-agent/edge-agent" "$root/usr/lib/edgectl/edgectl"
chmod 0750 "$root/etc/edge-agent"
chmod 0640 "$root/etc/edge-agent/agent.json"

echo "==> DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: edge-agent
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Section: net
Priority: optional
Depends: passwd
Recommends: aspnetcore-runtime-10.0
Description: Clinic Edge agent for clinic gateways
 Receives telemetry from CPAP/BiPAP machines, oxygen concentrators and ECG
 recorders over local MQTT, journals every reading durably before it
 acknowledges it, and syncs the journal to the Clinic Edge cloud.
 Includes edgectl, the technician's command line. Needs the ASP.NET Core 10
 runtime (aspnetcore-runtime-10.0).
EOF
echo /etc/edge-agent/agent.json > "$root/DEBIAN/conffiles"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" "$root/DEBIAN/"
# md5sums lets `dpkg --verify edge-agent` find changed or damaged files on a gateway.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

mkdir -p "$here/out"
deb="$here/out/edge-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "==> $deb ($(du -h "$deb" | cut -f1))"
