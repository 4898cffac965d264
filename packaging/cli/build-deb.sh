#!/usr/bin/env bash
# Assembles qrlogin-cli_<version>_<arch>.deb from an already built release binary, with dpkg-deb
# from a staging directory, as packaging/server/build-deb.sh does for the server. The terminal
# front end has no GUI dependencies: it installs on servers, containers and CI runners.
#
#   packaging/cli/build-deb.sh BINARY VERSION OUTDIR
#
# Prints the path of the .deb on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?binary}
version=${2:?version}
outdir=${3:?output directory}

arch=$(dpkg --print-architecture)
pkg=qrlogin-cli
maintainer=${QRLOGIN_MAINTAINER:-qrlogin developers}
stage=$(mktemp -d "${TMPDIR:-/tmp}/qrlogin-cli-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/root

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/doc/$pkg"
install -m 0755 "$bin" "$root/usr/bin/qrlogin-cli"
strip --strip-unneeded "$root/usr/bin/qrlogin-cli" 2>/dev/null || true
install -m 0644 "$here/../copyright" "$root/usr/share/doc/$pkg/copyright"
# The same config file and keys as the app (/etc/qrlogin/config.toml, ~/.config/qrlogin/).
install -m 0644 "$here/../app/config.toml.example" "$root/usr/share/doc/$pkg/config.toml.example"


depends=""
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
  mkdir -p "$stage/src/debian"
  printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$stage/src/debian/control"
  depends=$(cd "$stage/src" && dpkg-shlibdeps -O -e "$root/usr/bin/qrlogin-cli" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
fi
[[ -n $depends ]] || depends="libc6 (>= 2.34), libgcc-s1 (>= 4.2)"
# The OS certificate store (rustls with native roots).
depends="$depends, ca-certificates"

installed_kb=$(du -k -s --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends
Suggests: qrlogin, qrlogin-server
Section: net
Priority: optional
Homepage: https://github.com/qrlogin/qrlogin
Description: Sign in from a terminal with your phone (qrlogin without a GUI)
 qrlogin-cli draws the sign-in QR code in the terminal, follows the login on
 the phone (scanned, confirmed, expired and renewed) and keeps the session, so
 SSH sessions, servers, containers and CI runners can sign in without a
 desktop. "qrlogin-cli token" prints the current access token for scripts.
 .
 It reads the same configuration as the qrlogin desktop app and speaks the
 same protocols: Authing's four QR login API generations, qrlogin-server and
 the standard OAuth 2.0 device flow (RFC 8628).
EOF

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$outdir"
out=$outdir/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
