#!/usr/bin/env bash
# Assembles qrlogin-cli-<version>-1.<arch>.rpm from an already built release binary with rpmbuild
# (on Debian: apt-get install rpm), the same files as the .deb.
#
#   packaging/cli/build-rpm.sh BINARY VERSION OUTDIR
#
# Prints the path of the .rpm on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:?binary}")
version=${2:?version}
outdir=$(mkdir -p "${3:?output directory}" && realpath "$3")
maintainer=${QRLOGIN_MAINTAINER:-qrlogin developers}

top=$(mktemp -d "${TMPDIR:-/tmp}/qrlogin-cli-rpm.XXXXXX")
trap 'rm -rf "$top"' EXIT
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
cp "$bin" "$top/SOURCES/qrlogin-cli"
cp "$here/../copyright" "$here/../app/config.toml.example" "$top/SOURCES/"

cat >"$top/SPECS/qrlogin-cli.spec" <<EOF
Name:           qrlogin-cli
Version:        $version
Release:        1
Summary:        Sign in from a terminal with your phone (qrlogin without a GUI)
License:        MIT
Group:          Applications/Internet
URL:            https://github.com/qrlogin/qrlogin
Packager:       $maintainer
Vendor:         $maintainer
Requires:       glibc
# The keyring (Secret Service) is reached over D-Bus: the binary links libdbus-1.so.3.
Requires:       dbus-libs
Requires:       ca-certificates
Suggests:       qrlogin
AutoReqProv:    no

%description
qrlogin-cli draws the sign-in QR code in the terminal, follows the login on
the phone (scanned, confirmed, expired and renewed) and keeps the session, so
SSH sessions, servers, containers and CI runners can sign in without a
desktop. "qrlogin-cli token" prints the current access token for scripts.

It reads the same configuration as the qrlogin desktop app and speaks the same
protocols: Authing's four QR login API generations, qrlogin-server and the
standard OAuth 2.0 device flow (RFC 8628).

%prep
%build

%install
install -D -m 0755 %{_sourcedir}/qrlogin-cli %{buildroot}/usr/bin/qrlogin-cli
install -D -m 0644 %{_sourcedir}/copyright %{buildroot}/usr/share/licenses/qrlogin-cli/copyright
install -D -m 0644 %{_sourcedir}/config.toml.example %{buildroot}/usr/share/doc/qrlogin-cli/config.toml.example

%files
%license /usr/share/licenses/qrlogin-cli/copyright
%doc /usr/share/doc/qrlogin-cli/config.toml.example
/usr/bin/qrlogin-cli
EOF

rpmbuild --quiet -bb --define "_topdir $top" --define '_build_id_links none' \
  --define '__strip /bin/true' --define 'debug_package %{nil}' \
  "$top/SPECS/qrlogin-cli.spec" >&2
rpm=$(find "$top/RPMS" -name '*.rpm' | head -1)
[[ -n $rpm ]] || { echo "rpmbuild produced no package" >&2; exit 1; }
cp "$rpm" "$outdir/"
echo "$outdir/$(basename "$rpm")"
