<#
.SYNOPSIS
  Installs (or upgrades) the Clinic Edge agent as the Windows service "edge-agent".

.DESCRIPTION
  UNTESTED IN CI: no Windows machine runs this script. Try it on a test machine before a clinic gateway.

  - Copies the published agent to %ProgramFiles%\ClinicEdge\edge-agent (and edgectl to ...\edgectl, on PATH).
  - Keeps data in %ProgramData%\ClinicEdge\edge-agent: agent.json, state\ (journal, device credentials) and run\
    (the admin socket). Only SYSTEM, Administrators and the service account may open that folder: the journal
    holds patient readings, and the admin socket has no other authentication than its file's permissions.
  - Writes agent.json with Windows paths if there is none yet (the defaults /var/lib/edge-agent and
    /run/edge-agent are Linux paths). An existing agent.json is kept, so an upgrade keeps the configuration.
  - On a new install, a random journal key (journal.key in the data folder) and Agent:Journal:EncryptionKeyFile,
    so the journal is encrypted at rest; an existing journal is never re-keyed. Use BitLocker for the disk.
  - The admin socket: Windows has no peer credentials on Unix sockets, so the agent records on-site config pushes as
    "on-site" rather than by user; only SYSTEM, Administrators and the service may open the socket (the data folder's
    ACL), which is this platform's edge-admin group.
  - Registers the service: delayed automatic start, virtual account NT SERVICE\edge-agent, restart on failure
    (including the agent's deliberate exit code 70 after a failed disk flush), EDGE_AGENT_CONFIG pointing at
    agent.json.
  - Allows inbound MQTT over TLS (8883) to the agent's program on the Domain and Private firewall profiles. Plain
    MQTT (1883) is off in the agent by default; an operator who turns it on for devices that cannot do TLS adds
    its own rule (docs/install.md).
  Does not start a newly installed service; an upgrade restarts it if it was running.

.EXAMPLE
  dotnet publish edge-agent/Edge.Agent -c Release -r win-x64 --self-contained false -o publish\edge-agent
  dotnet publish cli/Edge.Cli -c Release -r win-x64 --self-contained false -o publish\edgectl
  .\installers\windows\install-agent.ps1 -AgentPath publish\edge-agent -EdgectlPath publish\edgectl -GatewayId clinic-0042-gw1
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
    # Folder with the published agent (edge-agent.exe and its dlls).
    [Parameter(Mandatory = $true)] [string] $AgentPath,
    # The gateway's registered id; used only when agent.json is written for the first time.
    [Parameter(Mandatory = $true)] [ValidatePattern('^[A-Za-z0-9_-]{1,64}$')] [string] $GatewayId,
    # Folder with the published edgectl (edgectl.exe). Optional.
    [string] $EdgectlPath,
    [string] $InstallRoot = (Join-Path $env:ProgramFiles 'ClinicEdge'),
    [string] $DataRoot = (Join-Path $env:ProgramData 'ClinicEdge\edge-agent')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$serviceName = 'edge-agent'
$serviceAccount = "NT SERVICE\$serviceName"
$agentDir = Join-Path $InstallRoot 'edge-agent'
$edgectlDir = Join-Path $InstallRoot 'edgectl'
$exe = Join-Path $agentDir 'edge-agent.exe'
$configFile = Join-Path $DataRoot 'agent.json'
$stateDir = Join-Path $DataRoot 'state'
$runtimeDir = Join-Path $DataRoot 'run'
$socketPath = Join-Path $runtimeDir 'admin.sock'

# sc.exe and icacls report failure only through their exit code.
function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed (exit code $LASTEXITCODE)." }
}

if (-not (Test-Path (Join-Path $AgentPath 'edge-agent.exe'))) {
    throw "$AgentPath has no edge-agent.exe. Publish the agent with: dotnet publish edge-agent/Edge.Agent -c Release -r win-x64 --self-contained false -o <folder>"
}
if ($EdgectlPath -and -not (Test-Path (Join-Path $EdgectlPath 'edgectl.exe'))) {
    throw "$EdgectlPath has no edgectl.exe."
}
# The admin interface is HTTP over a Unix domain socket: Windows 10 1803 / Server 2019 (build 17063) or later.
if ([Environment]::OSVersion.Version.Build -lt 17063) {
    throw 'Windows 10 1803 / Windows Server 2019 or later is needed (Unix domain sockets for the admin interface).'
}
# Framework-dependent build: it needs the ASP.NET Core 10 runtime (the "ASP.NET Core Runtime" or Hosting Bundle).
if (-not (Test-Path (Join-Path $env:ProgramFiles 'dotnet\shared\Microsoft.AspNetCore.App\10.*'))) {
    Write-Warning 'The ASP.NET Core 10 runtime was not found in %ProgramFiles%\dotnet; install it before starting the service.'
}

# Upgrade: stop the running service before its files are replaced, start it again at the end.
$existing = Get-Service -Name $serviceName -ErrorAction SilentlyContinue
$wasRunning = $existing -and $existing.Status -eq 'Running'
if ($wasRunning) {
    Write-Host "Stopping $serviceName for the upgrade"
    Stop-Service -Name $serviceName
    (Get-Service -Name $serviceName).WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
}

Write-Host "Copying the agent to $agentDir"
if (Test-Path $agentDir) { Remove-Item -Recurse -Force $agentDir }
New-Item -ItemType Directory -Force -Path $agentDir | Out-Null
Copy-Item -Recurse -Path (Join-Path $AgentPath '*') -Destination $agentDir

if ($EdgectlPath) {
    Write-Host "Copying edgectl to $edgectlDir"
    if (Test-Path $edgectlDir) { Remove-Item -Recurse -Force $edgectlDir }
    New-Item -ItemType Directory -Force -Path $edgectlDir | Out-Null
    Copy-Item -Recurse -Path (Join-Path $EdgectlPath '*') -Destination $edgectlDir
}

# The service first: its virtual account (and so its SID for the ACLs below) exists once the service does.
if (-not $existing) {
    Write-Host "Registering the service $serviceName"
    New-Service -Name $serviceName -BinaryPathName "`"$exe`"" -DisplayName 'Clinic Edge agent' `
        -Description 'Clinic Edge agent: device MQTT broker, durable journal, cloud uplink.' -StartupType Automatic | Out-Null
}
# ImagePath through the registry: Windows PowerShell mangles the embedded quotes of a path with spaces on its way to
# sc.exe's binPath=. The same path on a new install; on an upgrade it follows a changed -InstallRoot.
Set-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$serviceName" -Name 'ImagePath' -Value "`"$exe`""
Invoke-Native 'sc.exe config' { sc.exe config $serviceName start= delayed-auto obj= $serviceAccount | Out-Null }
# Restart after 5 s, 5 s, then 60 s; the failure count resets after a day without failures. failureflag 1 applies
# these actions also when the agent stops itself with a non-zero exit code (70 after a failed disk flush), not
# only when the process crashes.
Invoke-Native 'sc.exe failure' { sc.exe failure $serviceName reset= 86400 actions= restart/5000/restart/5000/restart/60000 | Out-Null }
Invoke-Native 'sc.exe failureflag' { sc.exe failureflag $serviceName 1 | Out-Null }
# The agent reads EDGE_AGENT_CONFIG instead of /etc/edge-agent/agent.json. The SCM passes a service's
# "Environment" registry value (REG_MULTI_SZ) to its process.
New-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$serviceName" -Name 'Environment' `
    -PropertyType MultiString -Value @("EDGE_AGENT_CONFIG=$configFile") -Force | Out-Null

Write-Host "Data in $DataRoot (SYSTEM, Administrators and $serviceAccount only)"
foreach ($dir in @($DataRoot, $stateDir, $runtimeDir)) {
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
}
# /inheritance:r drops what ProgramData grants to Users; (OI)(CI) passes these entries on to every file the agent
# creates (journal, devices.json, admin.sock), which Windows does not restrict by file mode as Linux does.
# S-1-5-18 is SYSTEM and S-1-5-32-544 Administrators, by SID so that the names' language does not matter.
Invoke-Native 'icacls (data)' {
    icacls $DataRoot /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' "${serviceAccount}:(OI)(CI)M" /T /Q | Out-Null
}
Invoke-Native 'icacls (program)' { icacls $agentDir /grant "${serviceAccount}:(OI)(CI)RX" /Q | Out-Null }

if (Test-Path $configFile) {
    Write-Host "Keeping the existing $configFile"
} else {
    # A new install encrypts its journal at rest. Windows has no systemd credentials: the key is a file in the data
    # folder (SYSTEM, Administrators and the service only), on the same disk as the journal, so it protects a copied
    # journal file, not a stolen disk: use BitLocker for that (docs/install.md). An existing journal is never re-keyed.
    $journalKey = Join-Path $DataRoot 'journal.key'
    if (-not (Test-Path (Join-Path $stateDir 'journal.db')) -and -not (Test-Path $journalKey)) {
        $bytes = New-Object byte[] 32
        $rng = [Security.Cryptography.RandomNumberGenerator]::Create()
        $rng.GetBytes($bytes) # Windows PowerShell 5.1 runs on .NET Framework: no static Fill
        $rng.Dispose()
        [IO.File]::WriteAllText($journalKey, [Convert]::ToBase64String($bytes), (New-Object Text.UTF8Encoding $false))
        Write-Host "Journal key written to $journalKey (the journal will be encrypted at rest)"
    }
    Write-Host "Writing $configFile"
    $journal = [ordered]@{}
    if (Test-Path $journalKey) { $journal.EncryptionKeyFile = $journalKey }
    $config = [ordered]@{
        Agent = [ordered]@{
            GatewayId        = $GatewayId
            StateDirectory   = $stateDir
            RuntimeDirectory = $runtimeDir
            Journal          = $journal
        }
    }
    # UTF-8 without a byte order mark, which every JSON reader takes.
    [IO.File]::WriteAllText($configFile, ($config | ConvertTo-Json -Depth 5), (New-Object Text.UTF8Encoding $false))
}

if ($EdgectlPath) {
    # edgectl's default socket is the Linux path /run/edge-agent/admin.sock; tell it where the socket is here.
    [Environment]::SetEnvironmentVariable('EDGE_AGENT_SOCKET', $socketPath, 'Machine')
    $machinePath = [Environment]::GetEnvironmentVariable('Path', 'Machine')
    if (($machinePath -split ';') -notcontains $edgectlDir) {
        [Environment]::SetEnvironmentVariable('Path', "$machinePath;$edgectlDir", 'Machine')
    }
}

# Devices connect from the clinic LAN with MQTT over TLS, to this program only, not on Public networks. The agent
# creates its device CA and server certificate in its state directory at first start (covered by the ACL above).
$firewallRule = Get-NetFirewallRule -Name 'ClinicEdge-edge-agent-mqtt' -ErrorAction SilentlyContinue
if (-not $firewallRule) {
    New-NetFirewallRule -Name 'ClinicEdge-edge-agent-mqtt' -DisplayName 'Clinic Edge agent (MQTT over TLS)' -Direction Inbound `
        -Protocol TCP -LocalPort 8883 -Program $exe -Profile Domain, Private -Action Allow | Out-Null
} else {
    # Earlier versions opened 1883 too; plain MQTT is now off unless configured, and then gets its own rule.
    $firewallRule | Get-NetFirewallPortFilter | Set-NetFirewallPortFilter -LocalPort 8883
}

if ($wasRunning) {
    Write-Host "Starting $serviceName again"
    Start-Service -Name $serviceName
} else {
    Write-Host "Installed. Check $configFile, then: Start-Service $serviceName"
}
