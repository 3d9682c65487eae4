#!/usr/bin/env bash
# The lab demo: real FRR + real wireguard-go in network namespaces on this machine, driven by overlayd.
# No argument: the anycast demo, then the hub-failover demo; "anycast", "hub" or "two-routers" runs one.
# Needs root (namespaces); installs what it needs through frr/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
bash frr/install.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Overlay.sln -c Release -nologo -v quiet -clp:ErrorsOnly
# The demo starts the overlayd and overlayctl just built (not older Debug builds lying around).
# Already set (scripts/test.sh: the NativeAOT builds of scripts/publish.sh) wins; else the framework-dependent builds above.
export OVERLAYD_DLL="${OVERLAYD_DLL:-$PWD/src/Overlay.Daemon/bin/Release/net10.0/overlayd.dll}"
export OVERLAYCTL_DLL="${OVERLAYCTL_DLL:-$PWD/src/Overlay.Cli/bin/Release/net10.0/overlayctl.dll}"
exec dotnet run --project src/Overlay.Lab -c Release --no-build -- demo "$@"
