#!/usr/bin/env bash
# Installs what building, running and testing qrlogin needs, and only what is missing, so that
# `make run` and `make test` work on a fresh Debian 12 / Ubuntu 22.04+ machine. Idempotent: a
# second run changes nothing and takes about a second.
#
#   scripts/install-deps.sh            build + run + test prerequisites
#   scripts/install-deps.sh --bundle   also what `make bundle` needs (rpm tools)
#   scripts/install-deps.sh --bench    also what `make bench` needs (ImageMagick's `import` for
#                                      screenshots of the window)
set -euo pipefail
cd "$(dirname "$0")/.."

want_bundle=0 want_bench=0
[[ ${1:-} == --bundle ]] && want_bundle=1
[[ ${1:-} == --bench ]] && want_bench=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
# Build: WebKitGTK 4.1 and GTK 3 headers (tauri 2), a C toolchain, pkg-config.
# Run/test: Xvfb (headless display), WebKitWebDriver (end-to-end), a D-Bus session bus, fonts
# with CJK glyphs (zh-CN tips), xauth for xvfb-run, Chromium (the accessibility tier drives it
# headless through the npm playwright-core; Ubuntu names the package chromium-browser). Tokens:
# libdbus (the keyring crate's Secret Service client) and gnome-keyring, the Secret Service the
# keyring test runs on its own bus.
apt_pkgs=(libwebkit2gtk-4.1-dev build-essential pkg-config librsvg2-dev
          webkit2gtk-driver xvfb xauth dbus dbus-x11 fonts-noto-cjk fonts-dejavu-core
          ca-certificates curl libdbus-1-dev gnome-keyring)
if command -v apt-cache >/dev/null 2>&1 && ! apt-cache show chromium >/dev/null 2>&1 \
   && apt-cache show chromium-browser >/dev/null 2>&1; then
  apt_pkgs+=(chromium-browser)
else
  apt_pkgs+=(chromium)
fi
((want_bundle)) && apt_pkgs+=(rpm dpkg-dev fakeroot)
((want_bench)) && apt_pkgs+=(imagemagick)

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing system packages: ${missing[*]}"
    sudo_cmd=()
    [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  cat >&2 <<'MSG'
This is not a Debian-family system. Install by hand, then run make again:
  - Rust (rustup), Node.js 18+ with npm
  - WebKitGTK 4.1 and GTK 3 development files (Fedora: webkit2gtk4.1-devel gtk3-devel;
    Arch: webkit2gtk-4.1 gtk3), a C compiler and pkg-config
  - for tests: Xvfb, WebKitWebDriver (Fedora: webkit2gtk4.1-devel ships it; Arch: webkit2gtk-4.1)
MSG
fi

# --- Rust ------------------------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  [[ -x $HOME/.cargo/bin/cargo ]] && export PATH=$HOME/.cargo/bin:$PATH
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust from https://rustup.rs (rustup, stable toolchain) and run make again" >&2
  exit 1
fi
for comp in rustfmt clippy; do
  if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
    command -v rustup >/dev/null 2>&1 && { say "adding rust component $comp"; rustup component add "$comp"; }
  fi
done

# --- cargo tools, pinned: tauri-driver (end-to-end tests drive the real app through it) and
# cargo-deny (`make lint`: licenses, banned and duplicate crates; see deny.toml) -----------------
TAURI_DRIVER_VERSION=2.1.0
CARGO_DENY_VERSION=0.20.2
# Installs crate $1 at version $2 unless `cargo install --list` already has that version.
cargo_tool() {
  if ! cargo install --list 2>/dev/null | grep -qx "$1 v$2:"; then
    say "installing $1 $2 (cargo install --locked; a few minutes the first time)"
    cargo install "$1" --version "$2" --locked --quiet
  fi
}
cargo_tool tauri-driver "$TAURI_DRIVER_VERSION"
cargo_tool cargo-deny "$CARGO_DENY_VERSION"

# --- npm: the Tauri CLI (prebuilt binary from the registry) and the UI test tools (jsdom, axe-core,
# playwright-core without its browser downloads: it drives the system Chromium) ---------------
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: install Node.js 18+ and npm, then run make again" >&2
  exit 1
fi
if [[ ! -d node_modules/@tauri-apps/cli || ! -d node_modules/axe-core || ! -d node_modules/playwright-core \
      || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages from package-lock.json"
  # npm 11's `npm ci` insists on lock entries for every platform's optional CLI binary, which a
  # lock written on one platform can lack; `npm install` honours the same pinned versions.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null \
    || npm install --no-audit --no-fund --loglevel=error
fi

# --- Python: the independent RFC 8628 peers (issue 16) --------------------------------------
# authlib's device-code grant (client side against qrlogin-server, server side under Flask for
# the engine's `device` dialect), run by the Rust tests from crates/*/tests/*.py.
if command -v python3 >/dev/null 2>&1 \
   && ! python3 -c 'import authlib, requests, flask' >/dev/null 2>&1; then
  say "installing Python packages: authlib requests flask"
  python3 -m pip install --quiet --user authlib requests flask 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages --user authlib requests flask
fi
