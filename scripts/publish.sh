#!/usr/bin/env bash
# Publishes overlayd and overlayctl the way they are installed: Release, linux-x64, NativeAOT (one native executable
# each, no .NET runtime needed on the node, no JIT at start; docs/benchmarks.md "NativeAOT"). Trim and AOT warnings are
# errors (TreatWarningsAsErrors), so a build that could misbehave without reflection does not publish.
#
#   scripts/publish.sh                 publish into ./out/publish/{overlayd,overlayctl}
#   scripts/publish.sh --install       ... and install to $PREFIX/lib/overlay/<app>/<app> with $PREFIX/bin/<app>
#                                      symlinks (PREFIX=/usr: /usr/bin/overlayd is what examples/systemd/overlayd.service runs)
#   scripts/publish.sh --r2r [--install]
#                                      the previous build instead: framework-dependent ReadyToRun on the installed .NET
#                                      runtime (a fallback, and the baseline docs/benchmarks.md compares against)
#
# Environment: PREFIX (default /usr), DESTDIR (staging root for packaging, default empty),
# OUT (publish folder, default ./out/publish), RID (default linux-x64), APPS (default "overlayd overlayctl").
set -euo pipefail
cd "$(dirname "$0")/.."

install=0 flavor=aot
for arg in "$@"; do
  case "$arg" in
    --install) install=1 ;;
    --r2r) flavor=r2r ;;
    *) echo "usage: scripts/publish.sh [--r2r] [--install]" >&2; exit 2 ;;
  esac
done

PREFIX=${PREFIX:-/usr}
DESTDIR=${DESTDIR:-}
OUT=${OUT:-$(pwd)/out/publish}
RID=${RID:-linux-x64}
APPS=${APPS:-overlayd overlayctl}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The ILCompiler links with clang (any clang-N on PATH will do).
# (no grep -q: under pipefail its early exit SIGPIPEs compgen and the check would read "absent")
if [ "$flavor" = aot ] && ! compgen -c | grep -E '^clang(-[0-9]+)?$' >/dev/null; then
  echo "scripts/publish.sh: NativeAOT links with clang: apt-get install clang (or use --r2r)" >&2
  exit 1
fi

project() { case "$1" in overlayd) echo src/Overlay.Daemon ;; overlayctl) echo src/Overlay.Cli ;; *) echo "unknown app $1" >&2; exit 2 ;; esac; }

publish() { # app
  rm -rf "${OUT:?}/$1"
  if [ "$flavor" = aot ]; then
    # Self-contained by nature; the symbols go to $1.dbg beside the stripped executable (kept in OUT, not installed).
    dotnet publish "$(project "$1")" -c Release -r "$RID" -p:PublishAot=true -o "$OUT/$1" -nologo -clp:ErrorsOnly
  else
    # ReadyToRun needs a runtime identifier; the settings that go with it live in the project files.
    dotnet publish "$(project "$1")" -c Release -r "$RID" --self-contained false -p:PublishReadyToRun=true \
      -o "$OUT/$1" -nologo -clp:ErrorsOnly
  fi
}
for app in $APPS; do publish "$app"; done
echo "published ($flavor) to $(for app in $APPS; do printf '%s ' "$OUT/$app"; done)"

[ "$install" = 1 ] || exit 0
for app in $APPS; do
  lib="$DESTDIR$PREFIX/lib/overlay/$app"
  # Replace the whole folder: a stale assembly from an older version (or the other flavour) must not be picked up.
  rm -rf "$lib"; mkdir -p "$lib" "$DESTDIR$PREFIX/bin"
  if [ "$flavor" = aot ]; then
    install -m 0755 "$OUT/$app/$app" "$lib/$app"
  else
    cp -a "$OUT/$app/." "$lib/"
  fi
  # The apphost resolves its own symlink, so it finds $app.dll beside its real path; the native build needs nothing beside it.
  ln -sfn "$PREFIX/lib/overlay/$app/$app" "$DESTDIR$PREFIX/bin/$app"
  echo "installed $DESTDIR$PREFIX/bin/$app -> $PREFIX/lib/overlay/$app/$app ($flavor)"
done
