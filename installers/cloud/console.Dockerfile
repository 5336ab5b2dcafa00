# syntax=docker/dockerfile:1
# The clinic console (edge-console). Build from the repository root:
#   docker build -f installers/cloud/console.Dockerfile -t clinic-edge/console .
# UNTESTED: no container engine runs on the machines this repository is built on (see installers/cloud/README.md).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY eng/ eng/
COPY contracts/Edge.Contracts/Edge.Contracts.csproj contracts/Edge.Contracts/
COPY hosting/Edge.Hosting/Edge.Hosting.csproj hosting/Edge.Hosting/
COPY cloud-workers/Edge.Console/Edge.Console.csproj cloud-workers/Edge.Console/
RUN dotnet restore cloud-workers/Edge.Console/Edge.Console.csproj
COPY contracts/Edge.Contracts/ contracts/Edge.Contracts/
COPY hosting/Edge.Hosting/ hosting/Edge.Hosting/
COPY cloud-workers/Edge.Console/ cloud-workers/Edge.Console/
RUN dotnet publish cloud-workers/Edge.Console/Edge.Console.csproj -c Release --no-restore -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# Every interface of the container's namespace, plain HTTP; TLS ends at the reverse proxy in front, as for the API.
# The state directory (Data Protection keys, signed-in sessions) is a volume so a new container keeps users signed in.
ENV Urls=http://+:8090 \
    Console__StateDirectory=/var/lib/edge-console \
    Logging__Console__FormatterName=simple \
    Logging__Console__FormatterOptions__SingleLine=true
EXPOSE 8090
# Owned by the image user and 0700 (the console tightens it anyway); a named volume takes this ownership on first use.
RUN mkdir -p /var/lib/edge-console && chown "$APP_UID" /var/lib/edge-console && chmod 700 /var/lib/edge-console
USER $APP_UID
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8090 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["dotnet", "edge-console.dll"]
