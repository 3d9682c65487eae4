#!/usr/bin/env bash
# The lab demo: real FRR + real wireguard-go in network namespaces on this machine, driven by overlayd.
# Needs root (namespaces); installs what it needs through frr/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
bash frr/install.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Overlay.sln -c Release -nologo -clp:ErrorsOnly >/dev/null
# The demo starts the overlayd just built (not an older Debug build lying around).
export OVERLAYD_DLL="$PWD/src/Overlay.Daemon/bin/Release/net10.0/overlayd.dll"
exec dotnet run --project src/Overlay.Lab -c Release --no-build -- demo "$@"
