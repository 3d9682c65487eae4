#!/usr/bin/env bash
# Brings a Debian 12 machine (as root) to what Overlay's lab, tests and demo need:
#   FRR from Debian + FRR's gRPC northbound module built from Debian's own source package of the
#   *installed* FRR version, wireguard-go + wg, iproute2, ping, and the .NET SDK check.
# Idempotent: a second run only verifies (a few seconds).
#
# Env:
#   OVERLAY_FRR_BUILD_DIR   where the FRR source is unpacked and built (default /var/cache/overlay/frr-build)
#   OVERLAY_SKIP_VERIFY=1   skip the live GetCapabilities check
set -euo pipefail

die() { echo "frr/install.sh: error: $*" >&2; exit 1; }
log() { echo "frr/install.sh: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages and FRR modules). Re-run with sudo."
[ -r /etc/os-release ] || die "cannot read /etc/os-release; this script supports Debian 12 (bookworm) only."
. /etc/os-release
[ "${ID:-}" = "debian" ] || die "this is '${ID:-unknown}', not Debian; the gRPC module is built from Debian's FRR source package. Use Debian 12."
[ "${VERSION_CODENAME:-}" = "bookworm" ] || log "warning: tested on Debian 12 (bookworm), this is '${VERSION_CODENAME:-?}'; continuing."

ARCH_TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
FRR_LIBDIR=/usr/lib/$ARCH_TRIPLET/frr
FRR_MODDIR=$FRR_LIBDIR/modules
BUILD_ROOT=${OVERLAY_FRR_BUILD_DIR:-/var/cache/overlay/frr-build}
STAMP=$FRR_MODDIR/.overlay-grpc-stamp
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update_once() { if [ $apt_updated -eq 0 ]; then log "apt-get update"; apt-get -o DPkg::Lock::Timeout=600 update -qq; apt_updated=1; fi; }
need_pkgs() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt_update_once
    log "installing ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# 1. Runtime packages.
need_pkgs frr wireguard-go wireguard-tools iproute2 iputils-ping nftables curl procps patchelf binutils ca-certificates
# Debian's frr package may start its own service; the lab runs its own daemons per namespace.
if command -v systemctl >/dev/null && systemctl is-active --quiet frr 2>/dev/null; then
  log "note: the system 'frr' service is running; the lab does not use it (it runs its own daemons per namespace)."
fi

FRR_VERSION=$(dpkg-query -W -f='${Version}' frr)
log "installed FRR: $FRR_VERSION"

# 2. gRPC module, built only when missing or built for another FRR version.
if [ -f "$FRR_MODDIR/grpc.so" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$FRR_VERSION" ]; then
  log "gRPC module for $FRR_VERSION already installed ($FRR_MODDIR/grpc.so)"
else
  log "building FRR's gRPC module from Debian's source package frr=$FRR_VERSION (takes a few minutes once)"
  # deb-src: add 'deb-src' to the Types lines of the deb822 sources (keeps every other setting).
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    if ! grep -Eq '^Types:.*deb-src' /etc/apt/sources.list.d/debian.sources; then
      sed -i -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
      apt_updated=0
    fi
  elif [ -f /etc/apt/sources.list ] && ! grep -Eq '^deb-src' /etc/apt/sources.list; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >> /etc/apt/sources.list
    apt_updated=0
  fi
  apt_update_once
  apt-get -o DPkg::Lock::Timeout=600 build-dep -y -qq --no-install-recommends frr="$FRR_VERSION" >/dev/null || die "apt-get build-dep frr=$FRR_VERSION failed (is deb-src for this release reachable?)"
  need_pkgs libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler dpkg-dev
  mkdir -p "$BUILD_ROOT"
  cd "$BUILD_ROOT"
  UPSTREAM=${FRR_VERSION#*:}; UPSTREAM=${UPSTREAM%%-*}
  SRC="$BUILD_ROOT/frr-$UPSTREAM"
  if [ ! -f "$SRC/.overlay-source-$FRR_VERSION" ]; then
    rm -rf "$SRC"
    apt-get source -qq frr="$FRR_VERSION" >/dev/null 2>&1 || die "apt-get source frr=$FRR_VERSION failed: the source package of the installed version is not available"
    [ -d "$SRC" ] || die "expected source tree $SRC after apt-get source"
    touch "$SRC/.overlay-source-$FRR_VERSION"
  fi
  cd "$SRC"
  [ -x configure ] || ./bootstrap.sh >/dev/null
  mkdir -p build && cd build
  if [ ! -f Makefile ] || ! grep -q -- '--enable-grpc' config.log 2>/dev/null; then
    # Same layout flags as debian/rules, plus --enable-grpc. Only lib/grpc.la is built, so daemon
    # feature flags do not matter; the ABI-relevant paths do.
    ../configure -q \
      --build="$ARCH_TRIPLET" --prefix=/usr --includedir=/usr/include --mandir=/usr/share/man \
      --infodir=/usr/share/info --sysconfdir=/etc --localstatedir=/var --disable-option-checking \
      --disable-silent-rules --libdir="/usr/lib/$ARCH_TRIPLET" --runstatedir=/run --disable-maintainer-mode \
      --disable-dependency-tracking \
      --localstatedir=/var/run/frr --sbindir=/usr/lib/frr --sysconfdir=/etc/frr \
      --libdir="$FRR_LIBDIR" --with-moduledir="$FRR_MODDIR" \
      --enable-exampledir=/usr/share/doc/frr/examples/ \
      --with-vtysh-pager=/usr/bin/pager --enable-user=frr --enable-group=frr --enable-vty-group=frrvty \
      --enable-configfile-mask=0640 --enable-logfile-mask=0640 --enable-multipath=256 \
      --enable-grpc >/dev/null || die "configure failed (see $SRC/build/config.log)"
  fi
  make -j"$(nproc)" lib/grpc.la >/dev/null || die "make lib/grpc.la failed in $SRC/build"
  install -m 0644 lib/.libs/grpc.so "$FRR_MODDIR/grpc.so"
  for f in grpc/.libs/libfrrgrpc_pb.so*; do
    cp -P "$f" "$FRR_LIBDIR/"
  done
  # The libtool build leaves a RUNPATH into the build tree; the installed copy must only look in FRR's libdir.
  patchelf --set-rpath "$FRR_LIBDIR" "$FRR_MODDIR/grpc.so"
  for f in "$FRR_LIBDIR"/libfrrgrpc_pb.so.*.*.*; do [ -f "$f" ] && patchelf --set-rpath "$FRR_LIBDIR" "$f"; done
  # The copy in our source tree of the upstream proto is kept for reference checks by the tests.
  install -D -m 0644 ../grpc/frr-northbound.proto /usr/share/overlay/frr-northbound.upstream.proto
  ldconfig
  echo "$FRR_VERSION" > "$STAMP"
  log "installed $FRR_MODDIR/grpc.so"
fi

if readelf -d "$FRR_MODDIR/grpc.so" | grep -E 'RUNPATH|RPATH' | grep -q "$BUILD_ROOT"; then
  die "$FRR_MODDIR/grpc.so still has a RUNPATH into the build tree"
fi

# 3. Verify: a staticd in a throwaway namespace with -M grpc answers GetCapabilities.
if [ "${OVERLAY_SKIP_VERIFY:-0}" != "1" ]; then
  NS="ovl-frrcheck-$$"
  PS="ovlcheck$$"
  PORT=50099
  RUNDIR=/var/run/frr/$PS
  TMP=$(mktemp -d)
  cleanup() {
    [ -f "$TMP/pid" ] && kill "$(cat "$TMP/pid")" 2>/dev/null || true
    sleep 0.1
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$RUNDIR" "$TMP"
  }
  trap cleanup EXIT
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  install -d -o frr -g frr "$RUNDIR"
  : > "$TMP/staticd.conf"; chown -R frr:frr "$TMP"
  ip netns exec "$NS" setsid /usr/lib/frr/staticd -N "$PS" -f "$TMP/staticd.conf" -i "$TMP/staticd.pid" \
     -M "grpc:$PORT" --log "file:$TMP/staticd.log" -u frr -g frr </dev/null >/dev/null 2>&1 &
  echo $! > "$TMP/pid"
  ok=0
  # GetCapabilities: empty message = 5 zero bytes of gRPC framing, over h2c.
  for _ in $(seq 1 100); do
    if ip netns exec "$NS" curl -sS --http2-prior-knowledge -m 2 -o "$TMP/caps" \
        -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @<(printf '\0\0\0\0\0') \
        "http://127.0.0.1:$PORT/frr.Northbound/GetCapabilities" 2>/dev/null \
       && grep -aq 'frr-staticd' "$TMP/caps"; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok -eq 1 ] || { cat "$TMP/staticd.log" >&2 2>/dev/null || true; die "staticd -M grpc:$PORT did not answer GetCapabilities (module load failed?)"; }
  log "verified: staticd with -M grpc answers GetCapabilities (frr-staticd served)"
fi

# 4. .NET SDK (the project builds with it; installed by the machine image, checked here).
if ! command -v dotnet >/dev/null; then
  log "warning: 'dotnet' is not on PATH; install the .NET 10 SDK to build Overlay."
fi
log "ok"
