#!/usr/bin/env bash
# Assembles qrlogin-server_<version>_<arch>.deb from an already built release binary, with
# dpkg-deb from a staging directory (no debhelper, no source package needed).
#
#   packaging/server/build-deb.sh BINARY VERSION OUTDIR
#
# Prints the path of the .deb on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?binary}
version=${2:?version}
outdir=${3:?output directory}

arch=$(dpkg --print-architecture)
pkg=qrlogin-server
# Same as the app package, whose Maintainer the Tauri bundler takes from the workspace authors.
maintainer=${QRLOGIN_MAINTAINER:-qrlogin developers}
stage=$(mktemp -d "${TMPDIR:-/tmp}/qrlogin-server-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/qrlogin" \
  "$root/usr/share/doc/$pkg"
install -m 0755 "$bin" "$root/usr/bin/qrlogin-server"
# Release profile strips already; strip again in case a caller passes an unstripped binary.
strip --strip-unneeded "$root/usr/bin/qrlogin-server" 2>/dev/null || true
install -m 0644 "$here/qrlogin-server.service" "$root/lib/systemd/system/qrlogin-server.service"
install -m 0644 "$here/server.env" "$root/etc/qrlogin/server.env"
install -m 0644 "$here/../copyright" "$root/usr/share/doc/$pkg/copyright"
for s in postinst prerm postrm; do install -m 0755 "$here/$s" "$root/DEBIAN/$s"; done
install -m 0644 "$here/conffiles" "$root/DEBIAN/conffiles"

# Depends: computed from the binary's shared libraries when dpkg-shlibdeps is there.
depends=""
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
  mkdir -p "$stage/src/debian"
  printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$stage/src/debian/control"
  depends=$(cd "$stage/src" && dpkg-shlibdeps -O -e "$root/usr/bin/qrlogin-server" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
fi
[[ -n $depends ]] || depends="libc6 (>= 2.34), libgcc-s1 (>= 4.2)"
# adduser for the system user made in postinst.
depends="adduser, $depends"

installed_kb=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends
Suggests: qrlogin
Section: net
Priority: optional
Homepage: https://github.com/qrlogin/qrlogin
Description: Reference server for qrlogin (scan with your phone to sign in)
 qrlogin-server speaks all four generations of Authing's QR login APIs, serves
 the phone approval page (sign in, check code, confirm or cancel) and keeps
 users, apps and tokens in SQLite, so a team can self-host QR sign-in for the
 qrlogin desktop app.
 .
 The package runs it as the unprivileged system user "qrlogin" with a
 hardened systemd unit (qrlogin-server.service); settings are in
 /etc/qrlogin/server.env and data in /var/lib/qrlogin, which is kept when the
 package is removed or purged.
EOF

# md5sums, as dpkg-deb does not write them.
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$outdir"
out=$outdir/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
