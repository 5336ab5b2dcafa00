# syntax=docker/dockerfile:1
# The ingest worker (edge-ingest). Build from the repository root, which the build needs for Directory.*.props and
# global.json:
#   docker build -f installers/cloud/ingest.Dockerfile -t clinic-edge/ingest .
# UNTESTED: no container engine runs on the machines this repository is built on (see installers/cloud/README.md).

# global.json asks for SDK 10.0.400 or a later feature band; the sdk:10.0 tag carries the newest 10.0 SDK.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone first, so editing code does not download the packages again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY contracts/Edge.Contracts/Edge.Contracts.csproj contracts/Edge.Contracts/
COPY hosting/Edge.Hosting/Edge.Hosting.csproj hosting/Edge.Hosting/
COPY cloud-workers/Edge.Storage/Edge.Storage.csproj cloud-workers/Edge.Storage/
COPY cloud-workers/Edge.Ingest/Edge.Ingest.csproj cloud-workers/Edge.Ingest/
RUN dotnet restore cloud-workers/Edge.Ingest/Edge.Ingest.csproj
COPY contracts/Edge.Contracts/ contracts/Edge.Contracts/
COPY hosting/Edge.Hosting/ hosting/Edge.Hosting/
COPY cloud-workers/Edge.Storage/ cloud-workers/Edge.Storage/
COPY cloud-workers/Edge.Ingest/ cloud-workers/Edge.Ingest/
# Framework-dependent, no apphost: the runtime image brings the runtime, and `dotnet edge-ingest.dll` is the entry.
RUN dotnet publish cloud-workers/Edge.Ingest/Edge.Ingest.csproj -c Release --no-restore -o /app -p:UseAppHost=false

# aspnet, not runtime: the worker references the ASP.NET Core shared framework (Edge.Ingest.csproj says why).
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# Read-only friendly: the worker writes nothing to disk (state is in the broker session and the databases). With a
# read-only root file system give it a tmpfs /tmp, where .NET puts its diagnostics socket (dotnet-counters, dumps).
ENV DOTNET_gcServer=0 \
    Logging__Console__FormatterName=simple \
    Logging__Console__FormatterOptions__SingleLine=true
# The images' unprivileged user (uid 1654). Secrets mounted for the worker must be readable by it.
USER $APP_UID
# Healthy = at least one MQTT connection to the broker is established (state 01 in /proc/net/tcp[6]); the worker's only
# HTTP endpoint is its token-protected metrics listener and its reconnect loop never exits, so "running" alone would
# hide a worker cut off from the broker.
# Port: Ingest__Broker__Port, default 8883. bash and grep are in the base image; curl is not, and is not added.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "port=$(printf '%04X' \"${Ingest__Broker__Port:-8883}\"); grep -qE \"^ *[0-9]+: [0-9A-F]+:[0-9A-F]{4} [0-9A-F]+:${port} 01 \" /proc/net/tcp /proc/net/tcp6"]
ENTRYPOINT ["dotnet", "edge-ingest.dll"]
