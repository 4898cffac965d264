#!/usr/bin/env bash
# Assembles qrlogin-server-<version>-1.<arch>.rpm from an already built release binary with
# rpmbuild (works on Debian: apt-get install rpm). Same files, unit and behaviour as the .deb:
# system user qrlogin, data in /var/lib/qrlogin kept on erase, /etc/qrlogin/server.env a
# %config(noreplace) file. Scriptlets use systemctl directly (the %systemd_* macros are Fedora's).
#
#   packaging/server/build-rpm.sh BINARY VERSION OUTDIR
#
# Prints the path of the .rpm on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:?binary}")
version=${2:?version}
outdir=$(mkdir -p "${3:?output directory}" && realpath "$3")
maintainer=${QRLOGIN_MAINTAINER:-qrlogin developers}

top=$(mktemp -d "${TMPDIR:-/tmp}/qrlogin-server-rpm.XXXXXX")
trap 'rm -rf "$top"' EXIT
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
cp "$bin" "$top/SOURCES/qrlogin-server"
cp "$here/qrlogin-server.service" "$here/server.env" "$here/../copyright" "$top/SOURCES/"

cat >"$top/SPECS/qrlogin-server.spec" <<EOF
Name:           qrlogin-server
Version:        $version
Release:        1
Summary:        Reference server for qrlogin (scan with your phone to sign in)
License:        MIT
Group:          System Environment/Daemons
URL:            https://github.com/qrlogin/qrlogin
Packager:       $maintainer
Vendor:         $maintainer
Requires(pre):  shadow-utils
Requires:       glibc
Suggests:       qrlogin
AutoReqProv:    no

%description
qrlogin-server speaks all four generations of Authing's QR login APIs, serves
the phone approval page (sign in, check code, confirm or cancel) and keeps
users, apps and tokens in SQLite, so a team can self-host QR sign-in for the
qrlogin desktop app.

The package runs it as the unprivileged system user "qrlogin" with a hardened
systemd unit (qrlogin-server.service); settings are in /etc/qrlogin/server.env
and data in /var/lib/qrlogin, which is kept when the package is erased.

%prep
%build

%install
install -D -m 0755 %{_sourcedir}/qrlogin-server %{buildroot}/usr/bin/qrlogin-server
install -D -m 0644 %{_sourcedir}/qrlogin-server.service %{buildroot}/usr/lib/systemd/system/qrlogin-server.service
install -D -m 0644 %{_sourcedir}/server.env %{buildroot}/etc/qrlogin/server.env
install -D -m 0644 %{_sourcedir}/copyright %{buildroot}/usr/share/licenses/qrlogin-server/copyright
install -d -m 0700 %{buildroot}/var/lib/qrlogin

%pre
getent group qrlogin >/dev/null || groupadd -r qrlogin
getent passwd qrlogin >/dev/null || useradd -r -g qrlogin -d /var/lib/qrlogin -s /sbin/nologin -c "qrlogin-server" qrlogin
exit 0

%post
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ \$1 -eq 1 ]; then systemctl enable --now qrlogin-server.service >/dev/null 2>&1 || :; fi
fi

%preun
if [ \$1 -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now qrlogin-server.service >/dev/null 2>&1 || :
fi

%postun
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ \$1 -ge 1 ]; then systemctl try-restart qrlogin-server.service >/dev/null 2>&1 || :; fi
fi

%files
%license /usr/share/licenses/qrlogin-server/copyright
/usr/bin/qrlogin-server
/usr/lib/systemd/system/qrlogin-server.service
%dir /etc/qrlogin
%config(noreplace) /etc/qrlogin/server.env
%dir %attr(0700, qrlogin, qrlogin) /var/lib/qrlogin
EOF

rpmbuild --quiet -bb --define "_topdir $top" --define '_build_id_links none' \
  --define '__strip /bin/true' --define 'debug_package %{nil}' \
  "$top/SPECS/qrlogin-server.spec" >&2
rpm=$(find "$top/RPMS" -name '*.rpm' | head -1)
[[ -n $rpm ]] || { echo "rpmbuild produced no package" >&2; exit 1; }
cp "$rpm" "$outdir/"
echo "$outdir/$(basename "$rpm")"
