#!/usr/bin/env bash
# `make bundle`: release installers for Linux, offline.
#   qrlogin_<v>_amd64.deb, qrlogin-<v>-1.x86_64.rpm   the desktop app (npm @tauri-apps/cli, `tauri build`)
#   qrlogin-server_<v>_amd64.deb                      the reference server (packaging/server/build-deb.sh)
#   qrlogin-server-<v>-1.x86_64.rpm                   the server as an .rpm too, when rpmbuild is there
#   qrlogin-cli_<v>_amd64.deb, qrlogin-cli-<v>-1.x86_64.rpm   the terminal front end (packaging/cli/)
# All land in target/bundle-out/ (or $CARGO_TARGET_DIR/bundle-out/). Prints sizes and the metadata
# a packager checks (dpkg-deb -I, rpm -qip), and fails if a required field is missing.
# AppImage, MSI, NSIS and DMG are not built here: they need downloads or another OS (README, Installers).
# scripts/install-deps.sh --bundle (run by make first) installs rpm, dpkg-dev and fakeroot.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$HOME/.cargo/bin:$PATH

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31mbundle: %s\033[0m\n' "$*" >&2; exit 1; }
t0=$SECONDS

meta=$(cargo metadata --no-deps --format-version 1)
field() { python3 -c 'import json,sys; m=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$meta"; }
target_dir=$(field 'm["target_directory"]')
app_version=$(field '[p["version"] for p in m["packages"] if p["name"]=="qrlogin"][0]')
server_version=$(field '[p["version"] for p in m["packages"] if p["name"]=="qrlogin-server"][0]')
cli_version=$(field '[p["version"] for p in m["packages"] if p["name"]=="qrlogin-cli"][0]')
out=$target_dir/bundle-out
deb_arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
rpm_arch=$(uname -m)

[[ -x node_modules/.bin/tauri ]] || die "the Tauri CLI is missing: run scripts/install-deps.sh (npm ci)"
command -v rpm >/dev/null || die "rpm is missing (apt-get install rpm; scripts/install-deps.sh --bundle does it)"

# Icons are committed; regenerate only if the source is newer than what was made from it.
if [[ icons/source.svg -nt icons/icon.png || ! -f icons/hicolor/256x256.png ]]; then
  say "icons: regenerating from icons/source.svg"
  scripts/icons.sh >/dev/null
fi

# --- the desktop app: .deb and .rpm through the Tauri CLI ----------------------------------------
say "qrlogin $app_version: tauri build --bundles deb,rpm (release; several minutes on 2 cores)"
t=$SECONDS
# The version comes from the workspace (Cargo.toml), passed explicitly so that the packages carry
# it whatever tauri.conf.json's own "version" says.
npx --no-install tauri build --ci --bundles deb,rpm --config "{\"version\":\"$app_version\"}" 2>&1 |
  grep --line-buffered -v '^npm warn' || die "tauri build failed"
app_secs=$((SECONDS - t))
app_deb=$target_dir/release/bundle/deb/qrlogin_${app_version}_${deb_arch}.deb
app_rpm=$(ls -t "$target_dir"/release/bundle/rpm/qrlogin-"${app_version}"-*."$rpm_arch".rpm 2>/dev/null | head -1 || true)
[[ -f $app_deb ]] || die "tauri build did not produce $app_deb"
[[ -n $app_rpm && -f $app_rpm ]] || die "tauri build did not produce an .rpm in $target_dir/release/bundle/rpm"

# --- the server: release binary, then .deb (and .rpm) -------------------------------------------
say "qrlogin-server $server_version: cargo build --release"
t=$SECONDS
cargo build --release -p qrlogin-server --bin qrlogin-server
server_bin=$target_dir/release/qrlogin-server
server_secs=$((SECONDS - t))
rm -rf "$out"
mkdir -p "$out"
server_deb=$(packaging/server/build-deb.sh "$server_bin" "$server_version" "$out")
server_rpm=""
if command -v rpmbuild >/dev/null; then
  server_rpm=$(packaging/server/build-rpm.sh "$server_bin" "$server_version" "$out") ||
    die "building the server .rpm failed"
fi

# --- the terminal front end: release binary, then .deb and .rpm --------------------------------
say "qrlogin-cli $cli_version: cargo build --release"
t=$SECONDS
cargo build --release -p qrlogin-cli --bin qrlogin-cli
cli_bin=$target_dir/release/qrlogin-cli
cli_secs=$((SECONDS - t))
packaging/cli/build-deb.sh "$cli_bin" "$cli_version" "$out" >/dev/null
if command -v rpmbuild >/dev/null; then
  packaging/cli/build-rpm.sh "$cli_bin" "$cli_version" "$out" >/dev/null || die "building the CLI .rpm failed"
fi
cli_depends=$(dpkg-deb -f "$out/qrlogin-cli_${cli_version}_${deb_arch}.deb" Depends)
# No GUI stack: the point of the CLI is machines without a desktop.
if grep -Eq 'webkit|gtk' <<<"$cli_depends"; then die "the CLI .deb depends on a GUI library: $cli_depends"; fi

cp "$app_deb" "$out/"
cp "$app_rpm" "$out/"

# --- what a packager checks ------------------------------------------------------------------
check_fields() { # file, text, fields...
  local file=$1 text=$2; shift 2
  local f missing=()
  for f in "$@"; do
    grep -Eq "^ *$f *:" <<<"$text" || missing+=("$f")
  done
  # The Tauri bundler writes "(none)" when a description is empty.
  grep -Eq '^ *(Description|Summary) *: *\(none\)' <<<"$text" && missing+=("a description (says '(none)')")
  grep -A1 -E '^Description *:$' <<<"$text" | grep -qx '(none)' && missing+=("a description (says '(none)')")
  ((${#missing[@]} == 0)) || die "$(basename "$file") lacks: ${missing[*]}"
}
deb_fields=(Package Version Architecture Maintainer Installed-Size Depends Section Priority Homepage Description)
rpm_fields=(Name Version Release Architecture License Group Size URL Summary Description)

for deb in "$out"/*.deb; do
  info=$(dpkg-deb -I "$deb")
  check_fields "$deb" "$info" "${deb_fields[@]}"
  printf '\n\033[1m--- dpkg-deb -I %s\033[0m\n' "$(basename "$deb")"
  sed -n '/^ Package:/,$p' <<<"$info"
done
app_depends=$(dpkg-deb -f "$out/$(basename "$app_deb")" Depends)
for d in libwebkit2gtk-4.1-0 libgtk-3-0; do
  grep -q "$d" <<<"$app_depends" || die "the app .deb does not depend on $d"
done
# What the binary links against, for comparison (everything there comes with WebKitGTK/GTK).
if command -v dpkg-shlibdeps >/dev/null; then
  shl=$(mktemp -d)
  mkdir -p "$shl/debian"
  printf 'Source: qrlogin\n\nPackage: qrlogin\nArchitecture: any\n' >"$shl/debian/control"
  printf '\nqrlogin binary, dpkg-shlibdeps: %s\n' \
    "$(cd "$shl" && dpkg-shlibdeps -O -e "$target_dir/release/qrlogin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
  rm -rf "$shl"
fi
for rpmf in "$out"/*.rpm; do
  info=$(rpm -qip "$rpmf" 2>/dev/null)
  check_fields "$rpmf" "$info" "${rpm_fields[@]}"
  printf '\n\033[1m--- rpm -qip %s\033[0m\n' "$(basename "$rpmf")"
  echo "$info"
  printf 'Requires: %s\n' "$(rpm -qpR "$rpmf" 2>/dev/null | grep -v '^rpmlib(' | paste -sd, | sed 's/,/, /g')"
done

# --- sizes -----------------------------------------------------------------------------------
printf '\n\033[1m--- packages in %s\033[0m\n' "$out"
for f in "$out"/*; do
  bytes=$(stat -c %s "$f")
  awk -v n="$(basename "$f")" -v b="$bytes" 'BEGIN { printf "  %-40s %9d bytes  %6.2f MiB\n", n, b, b / 1048576 }'
done
printf '  app release build + bundling: %d s; server release build: %d s; CLI release build: %d s; total %d s\n' \
  "$app_secs" "$server_secs" "$cli_secs" "$((SECONDS - t0))"
