<#
.SYNOPSIS
  Removes the Clinic Edge agent service and programs installed by install-agent.ps1.

.DESCRIPTION
  UNTESTED IN CI: no Windows machine runs this script.

  Keeps %ProgramData%\ClinicEdge\edge-agent (configuration, journal, device credentials), so a later install
  carries on, unless -RemoveData is given. -RemoveData also deletes readings not yet uploaded.
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
    # Also delete the configuration, the journal and the device credentials.
    [switch] $RemoveData,
    [string] $InstallRoot = (Join-Path $env:ProgramFiles 'ClinicEdge'),
    [string] $DataRoot = (Join-Path $env:ProgramData 'ClinicEdge\edge-agent')
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$serviceName = 'edge-agent'
$agentDir = Join-Path $InstallRoot 'edge-agent'
$edgectlDir = Join-Path $InstallRoot 'edgectl'

$service = Get-Service -Name $serviceName -ErrorAction SilentlyContinue
if ($service) {
    if ($service.Status -ne 'Stopped') {
        Write-Host "Stopping $serviceName"
        Stop-Service -Name $serviceName
        $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(60))
    }
    Write-Host "Deleting the service $serviceName"
    sc.exe delete $serviceName | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "sc.exe delete failed (exit code $LASTEXITCODE)." }
}

Get-NetFirewallRule -Name 'ClinicEdge-edge-agent-mqtt' -ErrorAction SilentlyContinue | Remove-NetFirewallRule

foreach ($dir in @($agentDir, $edgectlDir)) {
    if (Test-Path $dir) {
        Write-Host "Removing $dir"
        Remove-Item -Recurse -Force $dir
    }
}
if ((Test-Path $InstallRoot) -and -not (Get-ChildItem $InstallRoot)) { Remove-Item $InstallRoot }

[Environment]::SetEnvironmentVariable('EDGE_AGENT_SOCKET', $null, 'Machine')
$machinePath = [Environment]::GetEnvironmentVariable('Path', 'Machine')
$kept = ($machinePath -split ';') | Where-Object { $_ -and $_ -ne $edgectlDir }
[Environment]::SetEnvironmentVariable('Path', ($kept -join ';'), 'Machine')

if ($RemoveData) {
    if (Test-Path $DataRoot) {
        Write-Host "Removing $DataRoot (configuration, journal, device credentials)"
        Remove-Item -Recurse -Force $DataRoot
    }
} else {
    Write-Host "Kept $DataRoot (configuration, journal, device credentials); -RemoveData deletes it."
}
