#!/usr/bin/env bash
# End-to-end tests (DESIGN.md tier 5): builds the app and the e2e test binary, then runs every
# scenario in tests/ against the real app in its real webview under Xvfb, driven by tauri-driver +
# WebKitWebDriver, serially. Screenshots and driver logs: target/e2e/.
#
#   scripts/e2e.sh                 all scenarios
#   scripts/e2e.sh s2_cancel       only tests whose name contains this (cargo test filter)
#
# Env: QRLOGIN_E2E_APP (another app binary), TAURI_DRIVER (another tauri-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$HOME/.cargo/bin:$PATH

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
start=$(date +%s)

missing=()
command -v tauri-driver >/dev/null 2>&1 || missing+=("tauri-driver (cargo install tauri-driver --locked)")
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=("WebKitWebDriver (apt install webkit2gtk-driver)")
command -v xvfb-run >/dev/null 2>&1 || missing+=("xvfb-run (apt install xvfb xauth)")
command -v dbus-run-session >/dev/null 2>&1 || missing+=("dbus-run-session (apt install dbus)")
if ((${#missing[@]})); then
  echo "e2e: missing: ${missing[*]}" >&2
  echo "e2e: scripts/install-deps.sh (make deps) installs them" >&2
  exit 1
fi

say "e2e: building the app (cargo build -p qrlogin) and the test binary"
cargo build -p qrlogin
cargo test -p qrlogin-e2e --no-run
built=$(date +%s)

# The app must not already be running for this user: its single-instance guard would make the
# test's copy exit. Each run gets its own session bus, so only a stray one *inside* it matters.
mkdir -p target/e2e
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1
say "e2e: running the scenarios under Xvfb (screenshots and logs in target/e2e/)"
status=0
xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- \
  cargo test -p qrlogin-e2e -- --test-threads=1 "$@" || status=$?
end=$(date +%s)

echo "e2e: build $((built - start)) s, scenarios $((end - built)) s, total $((end - start)) s" >&2
if ((status != 0)); then
  echo "e2e: FAILED (exit $status); screenshots and driver logs: target/e2e/" >&2
fi
exit "$status"
