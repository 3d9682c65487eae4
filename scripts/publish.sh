#!/usr/bin/env bash
# Publishes overlayd and overlayctl the way they are installed: Release, linux-x64, ReadyToRun
# (precompiled, so a CLI call does not pay for JIT), framework-dependent on the installed .NET runtime.
#
#   scripts/publish.sh                 publish into ./out/publish/{overlayd,overlayctl}
#   scripts/publish.sh --install       ... and install to $PREFIX/lib/overlay/<app>/ with
#                                      $PREFIX/bin/<app> symlinks to the apphosts (PREFIX=/usr:
#                                      /usr/bin/overlayd is what examples/systemd/overlayd.service runs)
#
# Environment: PREFIX (default /usr), DESTDIR (staging root for packaging, default empty),
# OUT (publish folder, default ./out/publish), RID (default linux-x64).
set -euo pipefail
cd "$(dirname "$0")/.."

install=0
case "${1:-}" in
  "") ;;
  --install) install=1 ;;
  *) echo "usage: scripts/publish.sh [--install]" >&2; exit 2 ;;
esac

PREFIX=${PREFIX:-/usr}
DESTDIR=${DESTDIR:-}
OUT=${OUT:-$(pwd)/out/publish}
RID=${RID:-linux-x64}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

publish() { # project app
  rm -rf "${OUT:?}/$2"
  # ReadyToRun needs a runtime identifier; the settings that go with it live in the project files.
  dotnet publish "$1" -c Release -r "$RID" --self-contained false -p:PublishReadyToRun=true \
    -o "$OUT/$2" -nologo -clp:ErrorsOnly
}
publish src/Overlay.Daemon overlayd
publish src/Overlay.Cli overlayctl
echo "published to $OUT/overlayd and $OUT/overlayctl"

[ "$install" = 1 ] || exit 0
for app in overlayd overlayctl; do
  lib="$DESTDIR$PREFIX/lib/overlay/$app"
  # Replace the whole folder: a stale assembly from an older version must not be picked up.
  rm -rf "$lib"; mkdir -p "$lib" "$DESTDIR$PREFIX/bin"
  cp -a "$OUT/$app/." "$lib/"
  # The apphost resolves its own symlink, so it finds $app.dll beside its real path.
  ln -sfn "$PREFIX/lib/overlay/$app/$app" "$DESTDIR$PREFIX/bin/$app"
  echo "installed $DESTDIR$PREFIX/bin/$app -> $PREFIX/lib/overlay/$app/$app"
done
