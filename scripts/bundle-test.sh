#!/usr/bin/env bash
# `make bundle-test`: the smoke test of the installers made by `make bundle` (scripts/bundle.sh).
#   1. installs qrlogin_*.deb and qrlogin-server_*.deb into THIS machine (apt-get, as root; CI is root)
#      and checks what they put there (binaries, desktop entry, icons, units, conffile, user, data dir;
#      kiosk autostart present but not enabled);
#   2. makes an app and a user with the installed server CLI, then starts /usr/bin/qrlogin-server
#      exactly as qrlogin-server.service would (its ExecStart, its EnvironmentFile, as user qrlogin,
#      in /var/lib/qrlogin), on 127.0.0.1:<free port> since CI has no systemd;
#   3. runs the INSTALLED /usr/bin/qrlogin under Xvfb through tauri-driver (tests/tests/installed.rs):
#      a QR shows and decodes from a screenshot, the phone signs in and confirms, the profile shows;
#   4. removes (dpkg -r) then purges (dpkg -P) both packages and checks that nothing is left but user
#      data: /var/lib/qrlogin and the qrlogin system user stay, as documented; then reinstalls the
#      server and purges with QRLOGIN_PURGE_DATA=1 to check that opt-in deletes both.
# Exits non-zero on the first failure; packages are purged on any exit (QRLOGIN_BUNDLE_TEST_KEEP=1
# keeps them for a look). Evidence: target/bundle-test/ and target/e2e/installed-*.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$HOME/.cargo/bin:$PATH

if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "bundle-test: installs packages, so run it as root" >&2; exit 1; }
  exec sudo --preserve-env env "PATH=$PATH" "HOME=$HOME" "$0" "$@"
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
ok() { printf '    ok: %s\n' "$*" >&2; }
fail() { printf '\033[1;31mbundle-test FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
t0=$SECONDS
declare -a timings=()
phase_start=$SECONDS
phase() { timings+=("$(printf '%-34s %4d s' "$1" $((SECONDS - phase_start)))"); phase_start=$SECONDS; }

target_dir=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$target_dir/bundle-out
logs=$target_dir/bundle-test
rm -rf "$logs"
mkdir -p "$logs"
deb_arch=$(dpkg --print-architecture)
app_deb=$(ls "$out"/qrlogin_*_"$deb_arch".deb 2>/dev/null | head -1 || true)
server_deb=$(ls "$out"/qrlogin-server_*_"$deb_arch".deb 2>/dev/null | head -1 || true)
[[ -f $app_deb && -f $server_deb ]] || fail "no packages in $out: run make bundle first"
app_deb=$(realpath "$app_deb")
server_deb=$(realpath "$server_deb")
driver=$(command -v tauri-driver || true)
[[ -n $driver ]] || fail "tauri-driver is not installed (scripts/install-deps.sh: cargo install tauri-driver --locked)"

server_pid=""
installed=0
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((installed)) && [[ ${QRLOGIN_BUNDLE_TEST_KEEP:-0} != 1 ]]; then
    say "cleanup: purging qrlogin and qrlogin-server"
    QRLOGIN_PURGE_DATA=1 dpkg -P qrlogin qrlogin-server >/dev/null 2>&1 || true
  fi
  ((rc == 0)) || echo "bundle-test: logs in $logs, screenshots in $target_dir/e2e/installed-*" >&2
  exit $rc
}
trap cleanup EXIT

is_installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
pkg_known() { [[ -n $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) ]] && [[ $(dpkg-query -W -f='${db:Status-Status}' "$1") != not-installed ]]; }

# What carries our name on the system, outside the repo, temp dirs and user homes.
qrlogin_paths() {
  find /etc /usr /lib /opt /srv /var -xdev \( -path /var/tmp -o -path /var/cache/apt \) -prune -o \
    -iname '*qrlogin*' -print 2>/dev/null | LC_ALL=C sort
}

# --- 0. a clean start ------------------------------------------------------------------------
for p in qrlogin qrlogin-server; do
  if pkg_known "$p"; then
    say "$p is already installed or half-removed (an earlier run?): purging it first"
    QRLOGIN_PURGE_DATA=1 dpkg -P "$p" >/dev/null
  fi
done
before=$(qrlogin_paths)
printf '%s\n' "$before" >"$logs/paths-before.txt"

say "building the installed-app test (tests/tests/installed.rs)"
cargo test -p qrlogin-e2e --test installed --no-run 2>&1 | tail -3
phase "build the e2e test"

# --- 1. install ------------------------------------------------------------------------------
say "installing $(basename "$app_deb") and $(basename "$server_deb")"
installed=1
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$app_deb" "$server_deb" \
  >"$logs/install.log" 2>&1; then
  # Offline and a dependency missing, or no apt: plain dpkg, which still checks Depends.
  dpkg -i "$app_deb" "$server_deb" >>"$logs/install.log" 2>&1 || { cat "$logs/install.log" >&2; fail "installing the packages"; }
fi
is_installed qrlogin && is_installed qrlogin-server || fail "dpkg does not list both packages as installed"
phase "install both .debs"
dpkg -L qrlogin | LC_ALL=C sort >"$logs/files-qrlogin.txt"
dpkg -L qrlogin-server | LC_ALL=C sort >"$logs/files-qrlogin-server.txt"
ok "installed: $(wc -l <"$logs/files-qrlogin.txt") + $(wc -l <"$logs/files-qrlogin-server.txt") paths (dpkg -L)"

# What each package put there.
for f in /usr/bin/qrlogin /usr/bin/qrlogin-server; do [[ -x $f ]] || fail "$f is not installed"; done
desktop=/usr/share/applications/qrlogin.desktop
[[ -f $desktop ]] || fail "no desktop entry $desktop"
grep -qx 'Exec=qrlogin' "$desktop" && grep -qx 'Icon=qrlogin' "$desktop" || fail "$desktop: wrong Exec or Icon"
if ! command -v desktop-file-validate >/dev/null && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends desktop-file-utils \
    >/dev/null 2>&1 || true
fi
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop" || fail "$desktop does not validate"
fi
for s in 16x16 24x24 32x32 48x48 64x64 128x128 256x256 512x512; do
  [[ -f /usr/share/icons/hicolor/$s/apps/qrlogin.png ]] || fail "no $s icon in the hicolor theme"
done
ok "desktop entry and hicolor icons 16..512 px"
[[ -f /usr/share/qrlogin/config.toml.example && -f /usr/share/qrlogin/autostart/qrlogin-kiosk.desktop &&
  -f /usr/lib/systemd/user/qrlogin-kiosk.service ]] || fail "kiosk unit, autostart entry or example config missing"
[[ ! -e /etc/xdg/autostart/qrlogin-kiosk.desktop ]] || fail "the kiosk autostart entry is enabled by default"
! ls /etc/systemd/user/*.wants/qrlogin-kiosk.service >/dev/null 2>&1 || fail "the kiosk user unit is enabled by default"
[[ ! -e /etc/qrlogin/config.toml ]] || fail "the app package must not install /etc/qrlogin/config.toml"
ok "kiosk autostart shipped, off by default; example config in /usr/share/qrlogin"
[[ -f /lib/systemd/system/qrlogin-server.service ]] || fail "no qrlogin-server.service"
dpkg-query -W -f='${Conffiles}\n' qrlogin-server | grep -q '/etc/qrlogin/server.env' || fail "server.env is not a conffile"
getent passwd qrlogin >/dev/null || fail "postinst did not create the qrlogin user"
[[ $(getent passwd qrlogin | cut -d: -f3) -lt 1000 ]] || fail "qrlogin is not a system user"
[[ $(stat -c %U:%G:%a /var/lib/qrlogin) == qrlogin:qrlogin:700 ]] || fail "/var/lib/qrlogin is $(stat -c %U:%G:%a /var/lib/qrlogin), want qrlogin:qrlogin:700"
ok "server: unit, conffile, system user qrlogin, /var/lib/qrlogin 0700"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/qrlogin-server.service >"$logs/unit-verify.log" 2>&1 ||
    { cat "$logs/unit-verify.log" >&2; fail "systemd-analyze verify qrlogin-server.service"; }
  ok "systemd-analyze verify qrlogin-server.service"
fi
phase "check installed files"

# --- 2. the server, as its unit runs it ------------------------------------------------------
as_qrlogin() { setpriv --reuid=qrlogin --regid=qrlogin --init-groups --reset-env -- "$@"; }
srv() { as_qrlogin /usr/bin/qrlogin-server --data-dir /var/lib/qrlogin "$@"; }
say "qrlogin-server: adding an app and a user with the installed CLI (as user qrlogin)"
app_json=$(cd /var/lib/qrlogin && srv app add --name "bundle-test kiosk" --check-code --json) ||
  fail "qrlogin-server app add failed"
json() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
app_id=$(json "$app_json" appId)
pool_id=$(json "$app_json" userPoolId)
password="bt-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
user_json=$(cd /var/lib/qrlogin && printf '%s\n' "$password" |
  srv user add --username bt-alice --nickname "Bundle Tester" --password-stdin --json) ||
  fail "qrlogin-server user add failed"
[[ $(json "$user_json" username) == bt-alice ]] || fail "user add printed $user_json"
ok "app $app_id, user bt-alice"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
unit=/lib/systemd/system/qrlogin-server.service
execstart=$(sed -n 's/^ExecStart=//p' "$unit")
[[ $(sed -n 's/^User=//p' "$unit") == qrlogin ]] || fail "the unit does not run as User=qrlogin"
# The unit's environment: its EnvironmentFile, then this test's address (CI has no systemd).
set -a
# shellcheck disable=SC1091
. /etc/qrlogin/server.env
set +a
QRLOGIN_LISTEN=127.0.0.1:$port
QRLOGIN_PUBLIC_URL=http://127.0.0.1:$port
url=$QRLOGIN_PUBLIC_URL
# systemd's ${VAR} is one word and $VAR splits at spaces; the values here contain none.
eval "set -- $execstart"
say "starting: $* (as qrlogin, in /var/lib/qrlogin)"
(cd /var/lib/qrlogin && umask 0027 &&
  exec setpriv --reuid=qrlogin --regid=qrlogin --init-groups --reset-env \
    env RUST_LOG="${RUST_LOG:-info}" "$@") >"$logs/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$logs/server.log" >&2; fail "qrlogin-server exited at start"; }
  sleep 0.1
done
curl -fsS "$url/healthz" >/dev/null || { cat "$logs/server.log" >&2; fail "$url/healthz did not answer within 10 s"; }
[[ $(ps -o user= -p "$server_pid") == qrlogin ]] || fail "the server does not run as qrlogin"
ok "serving at $url as user qrlogin (pid $server_pid)"
phase "server: app, user, start"

# --- 3. the installed app, end to end --------------------------------------------------------
say "the installed /usr/bin/qrlogin under Xvfb through tauri-driver: QR, phone sign-in, profile"
if ! QRLOGIN_E2E_APP=/usr/bin/qrlogin QRLOGIN_E2E_SERVER_URL="$url" \
  QRLOGIN_E2E_APP_ID="$app_id" QRLOGIN_E2E_USER_POOL_ID="$pool_id" \
  QRLOGIN_E2E_USERNAME=bt-alice QRLOGIN_E2E_PASSWORD="$password" QRLOGIN_E2E_NICKNAME="Bundle Tester" \
  TAURI_DRIVER="$driver" \
  xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  cargo test -q -p qrlogin-e2e --test installed -- --ignored --nocapture --test-threads=1 \
  >"$logs/e2e.log" 2>&1; then
  tail -40 "$logs/e2e.log" >&2
  echo "--- server log (tail) ---" >&2
  tail -20 "$logs/server.log" >&2
  fail "the installed app did not complete a login (see $logs/e2e.log and $target_dir/e2e/installed-*)"
fi
grep -E 'test result|installed_app' "$logs/e2e.log" | sed 's/^/    /' >&2
ok "QR decoded from the window, phone confirmed, profile shown"
phase "installed app: login end to end"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

# --- 4. remove, purge: nothing left but user data --------------------------------------------
check_gone() { # list file: every non-directory path must be gone; directories only if ours
  local p missing=()
  while read -r p; do
    [[ -z $p || $p == /. ]] && continue
    if [[ -d $p ]]; then # (also /lib, a symlink to usr/lib on merged-/usr systems)
      case $p in
        */qrlogin | */qrlogin-server | /etc/qrlogin) [[ -e $p ]] && missing+=("$p") ;;
      esac
    elif [[ -e $p || -L $p ]]; then
      missing+=("$p")
    fi
  done <"$1"
  ((${#missing[@]} == 0)) || fail "left behind after $2: ${missing[*]}"
}

say "dpkg -r (remove): binaries go, conffile and data stay"
dpkg -r qrlogin qrlogin-server >"$logs/remove.log" 2>&1 || { cat "$logs/remove.log" >&2; fail "dpkg -r"; }
grep -v '^/etc/qrlogin' "$logs/files-qrlogin-server.txt" >"$logs/files-server-nonconf.txt"
check_gone "$logs/files-qrlogin.txt" "dpkg -r qrlogin"
check_gone "$logs/files-server-nonconf.txt" "dpkg -r qrlogin-server"
[[ -f /etc/qrlogin/server.env ]] || fail "dpkg -r removed the conffile (only purge should)"
[[ -d /var/lib/qrlogin ]] || fail "dpkg -r removed /var/lib/qrlogin"
ok "removed; /etc/qrlogin/server.env and /var/lib/qrlogin kept"

say "dpkg -P (purge): conffile and enablement go; data and the qrlogin user stay (documented)"
dpkg -P qrlogin qrlogin-server >"$logs/purge.log" 2>&1 || { cat "$logs/purge.log" >&2; fail "dpkg -P"; }
installed=0
check_gone "$logs/files-qrlogin.txt" "dpkg -P qrlogin"
check_gone "$logs/files-qrlogin-server.txt" "dpkg -P qrlogin-server"
pkg_known qrlogin && fail "dpkg still knows qrlogin after purge"
pkg_known qrlogin-server && fail "dpkg still knows qrlogin-server after purge"
[[ -d /var/lib/qrlogin && -n $(ls -A /var/lib/qrlogin) ]] || fail "purge deleted the server data (must be kept without QRLOGIN_PURGE_DATA=1)"
getent passwd qrlogin >/dev/null || fail "purge deleted the qrlogin user (must be kept without QRLOGIN_PURGE_DATA=1)"
after=$(qrlogin_paths)
printf '%s\n' "$after" >"$logs/paths-after-purge.txt"
leftover=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -v '^/var/lib/qrlogin\(/\|$\)' || true)
[[ -z $leftover ]] || fail "left behind after purge: $(echo $leftover)"
ok "purged; nothing named *qrlogin* left in /etc /usr /lib /opt /srv /var but /var/lib/qrlogin (data)"
phase "remove + purge"

say "QRLOGIN_PURGE_DATA=1 dpkg -P: reinstall the server, purge with the opt-in: data and user go"
installed=1
dpkg -i "$server_deb" >"$logs/reinstall.log" 2>&1 || { cat "$logs/reinstall.log" >&2; fail "reinstalling the server"; }
[[ -n $(ls -A /var/lib/qrlogin) ]] || fail "reinstalling lost the kept data"
QRLOGIN_PURGE_DATA=1 dpkg -P qrlogin-server >>"$logs/reinstall.log" 2>&1 || fail "dpkg -P with QRLOGIN_PURGE_DATA=1"
installed=0
[[ ! -e /var/lib/qrlogin ]] || fail "QRLOGIN_PURGE_DATA=1 purge left /var/lib/qrlogin"
! getent passwd qrlogin >/dev/null || fail "QRLOGIN_PURGE_DATA=1 purge left the qrlogin user"
! getent group qrlogin >/dev/null || fail "QRLOGIN_PURGE_DATA=1 purge left the qrlogin group"
leftover=$(comm -13 <(printf '%s\n' "$before") <(qrlogin_paths) || true)
[[ -z $leftover ]] || fail "left behind after the opt-in purge: $(echo $leftover)"
ok "opt-in purge: /var/lib/qrlogin and the qrlogin user deleted; the machine is as before"
phase "reinstall + opt-in purge"

# --- summary ---------------------------------------------------------------------------------
printf '\n\033[1mbundle-test passed in %d s\033[0m\n' $((SECONDS - t0))
printf '  %s\n' "${timings[@]}"
for f in "$app_deb" "$server_deb"; do
  printf '  %-40s %6.2f MiB (installed %s KiB)\n' "$(basename "$f")" \
    "$(awk -v b="$(stat -c %s "$f")" 'BEGIN { print b / 1048576 }')" "$(dpkg-deb -f "$f" Installed-Size)"
done
