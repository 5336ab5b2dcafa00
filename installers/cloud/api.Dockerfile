# syntax=docker/dockerfile:1
# The cloud API (edge-api). Build from the repository root, which the build needs for Directory.*.props and
# global.json:
#   docker build -f installers/cloud/api.Dockerfile -t clinic-edge/api .
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
COPY cloud-workers/Edge.Api/Edge.Api.csproj cloud-workers/Edge.Api/
RUN dotnet restore cloud-workers/Edge.Api/Edge.Api.csproj
COPY contracts/Edge.Contracts/ contracts/Edge.Contracts/
COPY hosting/Edge.Hosting/ hosting/Edge.Hosting/
COPY cloud-workers/Edge.Storage/ cloud-workers/Edge.Storage/
COPY cloud-workers/Edge.Api/ cloud-workers/Edge.Api/
RUN dotnet publish cloud-workers/Edge.Api/Edge.Api.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The API's default Urls is 127.0.0.1, which nothing outside the container could reach: listen on every interface
# of the container's own network namespace, plain HTTP. TLS ends at the load balancer or reverse proxy in front
# (docs/api.md); the compose file publishes the port on the host's loopback only.
ENV Urls=http://+:8080 \
    Logging__Console__FormatterName=simple \
    Logging__Console__FormatterOptions__SingleLine=true
EXPOSE 8080
# The images' unprivileged user (uid 1654); 8080 needs no capability. The signing key file must be readable by it
# and by nobody else (the API refuses a key file group or others can read).
USER $APP_UID
# GET /healthz (anonymous, answers "ok"). bash's /dev/tcp instead of curl, which the base image does not have and
# which would only be added for this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "edge-api.dll"]
