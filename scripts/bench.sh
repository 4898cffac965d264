#!/usr/bin/env bash
# `make bench`: qrlogin measured side by side with what it is compared against, in ONE run on
# this machine. Prints one table and writes it to target/bench/report.md (BENCHMARKS.md holds a
# committed copy). Numbers, not pass/fail: the script fails only if a measurement cannot run.
#
#   scripts/bench.sh            full run (about 25-30 min on 2 cores once built; builds first)
#   scripts/bench.sh --quick    tiny sizes, same code paths (a couple of minutes once built)
#   scripts/bench.sh --app-only rows 2-4 only (the real app vs the hello-world)
#   BENCH_NO_BUILD=1            measure the binaries already built (a re-run, or rows 2-4 alone
#                               with --app-only; BENCH_APP_BIN picks another app binary,
#                               BENCH_DRIVER another driver)
#   scripts/bench.sh --debug    debug builds of the app, the hello-world and the driver (cargo
#                               build, minutes instead of a 15+ min release build; rows 2-4 only;
#                               ratios of debug builds, not shipping numbers)
#
# What it builds (release): the app with `tauri build --bundles deb` (custom-protocol on, the
# .deb for row 7), the Tauri hello-world in bench/hello (its own target dir under target/bench),
# the bench driver crates/qrlogin-bench, and the criterion bench of qrlogin-core.
# Raw results: target/bench/results/*.json; logs: target/bench/logs/.
# All traffic is on 127.0.0.1; every process started here is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$HOME/.cargo/bin:$PATH

QUICK=0
APP_ONLY=0
DEBUG=0
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    --app-only) APP_ONLY=1 ;;
    --debug) DEBUG=1; APP_ONLY=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $a" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31mbench: %s\033[0m\n' "$*" >&2; exit 1; }
t_all=$SECONDS

meta=$(cargo metadata --no-deps --format-version 1)
field() { python3 -c 'import json,sys; m=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$meta"; }
target_dir=$(field 'm["target_directory"]')
app_version=$(field '[p["version"] for p in m["packages"] if p["name"]=="qrlogin"][0]')
out=$target_dir/bench
results=$out/results
logs=$out/logs
hello_target=$out/hello-target
mkdir -p "$results" "$logs"
rm -f "$results"/*.json

if ((QUICK)); then
  LOGINS=12; CONC=4; WAITERS=500; REQUESTS=5000; CONNS=16; SAMPLES=2; IDLE=10; CLIENTS=10000
  PROFILES=5
  export QRLOGIN_BENCH_QUICK=1
else
  LOGINS=${BENCH_LOGINS:-100}; CONC=${BENCH_CONCURRENCY:-10}; WAITERS=${BENCH_WAITERS:-10000}
  REQUESTS=${BENCH_REQUESTS:-50000}; CONNS=${BENCH_CONNS:-32}; SAMPLES=${BENCH_SAMPLES:-30}
  IDLE=${BENCH_IDLE_SECS:-60}; CLIENTS=${BENCH_LIMITER_CLIENTS:-100000}
  PROFILES=${BENCH_PROFILE_SAMPLES:-100}
fi

# 10 000 waiters need 10 000 sockets in the server and as many in the load process.
hard=$(ulimit -Hn)
if [[ $hard == unlimited ]] || ((hard > 65536)); then hard=65536; fi
ulimit -n "$hard" || true
if (($(ulimit -n) < WAITERS + 1000)); then
  WAITERS=$(($(ulimit -n) - 1000))
  say "open-file limit $(ulimit -n): waiters lowered to $WAITERS"
fi

command -v xvfb-run >/dev/null || die "xvfb-run is missing (apt-get install xvfb)"
command -v dbus-run-session >/dev/null || die "dbus-run-session is missing (apt-get install dbus)"
command -v import >/dev/null || die "import is missing (apt-get install imagemagick)"
((DEBUG)) || [[ -x node_modules/.bin/tauri ]] || die "the Tauri CLI is missing: run scripts/install-deps.sh (npm ci)"

# ---- build --------------------------------------------------------------------------------------
step() { # step NAME CMD...: runs with output in logs/NAME.log, prints its duration
  local name=$1; shift
  local t=$SECONDS
  if ! "$@" >"$logs/$name.log" 2>&1; then
    tail -30 "$logs/$name.log" >&2
    die "$name failed (log: $logs/$name.log)"
  fi
  printf '    %-22s %4d s\n' "$name" $((SECONDS - t)) >&2
}

if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then
  say "build: skipped (BENCH_NO_BUILD=1), measuring the binaries already there"
  if ((DEBUG)); then
    app_bin=$target_dir/debug/qrlogin; hello_bin=$target_dir/debug/hello; driver=$target_dir/debug/qrlogin-bench; build_kind=debug
  else
    app_bin=$target_dir/release/qrlogin; hello_bin=$hello_target/release/hello; driver=$target_dir/release/qrlogin-bench; build_kind=release
  fi
elif ((DEBUG)); then
  # The hello-world shares the workspace's target dir here: same dev profile, same Tauri crates.
  say "build: the app, the hello-world, the bench driver (debug)"
  # One cargo call for both: built apart, their shared dependencies get other features.
  step build-app cargo build -p qrlogin -p qrlogin-bench
  step build-hello bash -c "cd bench/hello/src-tauri && CARGO_TARGET_DIR='$target_dir' cargo build"
  app_bin=$target_dir/debug/qrlogin
  hello_bin=$target_dir/debug/hello
  driver=$target_dir/debug/qrlogin-bench
  build_kind=debug
else
  say "build: the app (tauri build --bundles deb), the hello-world, the bench driver (release)"
  step build-app npx --no-install tauri build --ci --bundles deb --config "{\"version\":\"$app_version\"}"
  step build-hello bash -c "cd bench/hello && CI=true CARGO_TARGET_DIR='$hello_target' ../../node_modules/.bin/tauri build --ci --bundles deb"
  step build-driver cargo build --release -p qrlogin-bench
  app_bin=$target_dir/release/qrlogin
  hello_bin=$hello_target/release/hello
  driver=$target_dir/release/qrlogin-bench
  build_kind=release
fi
# BENCH_APP_BIN: measure another build of the app (e.g. main's, for a before/after).
app_bin=${BENCH_APP_BIN:-$app_bin}
# BENCH_DRIVER: another build of the driver (rows 2-3 take their times from the app's paint log,
# so a debug driver measures the same; it only decodes row 2's screenshots more slowly).
driver=${BENCH_DRIVER:-$driver}
for f in "$app_bin" "$hello_bin" "$driver"; do [[ -x $f ]] || die "missing $f"; done

# ---- measure ------------------------------------------------------------------------------------
if ((!APP_ONLY)); then
say "row 5: QR rendering (criterion)"
rm -rf "$target_dir/criterion/qr"
step qr-criterion cargo bench -p qrlogin-core --bench qr

say "row 1: approval latency ($LOGINS logins per mode, $CONC at a time per mode, modes in parallel)"
step approval "$driver" approval --logins "$LOGINS" --concurrency "$CONC" --out "$results/approval.json"

say "row 6: server capacity ($WAITERS waiters, $REQUESTS requests x 3 rounds over $CONNS connections)"
step capacity "$driver" capacity --waiters "$WAITERS" --requests "$REQUESTS" --conns "$CONNS" --out "$results/capacity.json"

say "row 8: rate limiter, $CLIENTS distinct clients (governor vs the old hand-written one)"
step limiter "$driver" limiter --clients "$CLIENTS" --threads 2 --budget-secs 60 --out "$results/limiter.json"

fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "rows 2-4: the real app vs the hello-world ($SAMPLES launches of each, ${IDLE} s idle; load $(cut -d' ' -f1-3 /proc/loadavg))"
step app xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- \
  "$driver" app --app "$app_bin" --hello "$hello_bin" --samples "$SAMPLES" --profile-samples "$PROFILES" --idle-secs "$IDLE" \
  --build "$build_kind" --work "$out/app-work" --out "$results/app.json"

if ((!APP_ONLY)); then
say "row 7: installer sizes"
app_deb=$(ls -t "$target_dir"/release/bundle/deb/qrlogin_*.deb | head -1)
hello_deb=$(ls -t "$hello_target"/release/bundle/deb/hello_*.deb | head -1)
python3 - "$app_deb" "$hello_deb" "$app_bin" "$hello_bin" >"$results/sizes.json" <<'EOF'
import json, os, sys
a, h, ab, hb = sys.argv[1:5]
print(json.dumps({"app_deb": a, "hello_deb": h, "app_deb_bytes": os.path.getsize(a),
                  "hello_deb_bytes": os.path.getsize(h), "app_bin_bytes": os.path.getsize(ab),
                  "hello_bin_bytes": os.path.getsize(hb)}))
EOF
fi

# ---- report -------------------------------------------------------------------------------------
machine=$(
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) cores available)"
  echo "- Memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
  echo "- Kernel: $(uname -srm)"
  echo "- OS: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  echo "- rustc: $(rustc --version)"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Mode: $( ((QUICK)) && echo 'quick (--quick: tiny sizes, not for conclusions)' || echo full)$( ((APP_ONLY)) && echo ', rows 2-4 only')"
  echo "- Builds: $build_kind$( [[ -n ${BENCH_APP_BIN:-} ]] && echo ", app binary $BENCH_APP_BIN")$( [[ -n ${BENCH_DRIVER:-} ]] && echo ", driver $BENCH_DRIVER")"
  echo "- Load average before rows 2-4: $load_before (the machine is shared: read ratios within this run, not absolute times)"
)
total=$((SECONDS - t_all))
python3 - "$results" "$target_dir/criterion" "$out/report.md" "$machine" "$total" <<'EOF'
import json, os, sys
results, crit, report, machine, total = sys.argv[1:6]

def load(name):
    p = os.path.join(results, name)
    return json.load(open(p)) if os.path.exists(p) else None

def est(bench):
    p = os.path.join(crit, "qr", bench, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    e = json.load(open(p))
    return e["median"]["point_estimate"] / 1000.0  # µs

def f(v, d=1):
    return "n/a" if v is None or v != v else f"{v:.{d}f}"

def pcts(s, unit="ms", d=1):
    if not s or not s.get("n"):
        return "n/a"
    return f"p50 {f(s['p50'], d)} / p95 {f(s['p95'], d)} / p99 {f(s['p99'], d)} {unit} (n={s['n']})"

def ratio(a, b, d=2):
    try:
        return f"{a / b:.{d}f}×"
    except Exception:
        return "n/a"

def met(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")

rows = []
ap = load("approval.json")
if ap:
    m = ap["modes"]
    lp, p8, p15 = m.get("long-poll"), m.get("poll-800ms"), m.get("poll-1500ms")
    ok = lp["n"] > 0 and lp["p95"] < 20 and p8["p50"] >= 20 * lp["p50"]
    rows.append(("1 Approval latency: confirm returned → `LoggedIn` (engine, in-process)",
                 "long-poll " + pcts(lp), "800 ms polling " + pcts(p8),
                 "p50 " + ratio(p8["p50"], lp["p50"], 0) + " lower", "p95 < 20 ms; p50 ≥ 20× lower than 800 ms", met(ok)))
    rows.append(("1 Approval latency vs G1 default",
                 "long-poll " + pcts(lp), "1500 ms polling " + pcts(p15),
                 "p50 " + ratio(p15["p50"], lp["p50"], 0) + " lower", "(same run)", "—"))
app = load("app.json")
breakdown = ""
if app:
    eng = ap["modes"]["long-poll"] if ap else None
    variants = app.get("variants", {})
    sh = app["hello"]["start_to_qr_ms"]
    label = {"first": "first start (empty HOME)", "later": "later start (HOME of an earlier start)"}
    pr = app["confirm_to_profile_paint_ms"]
    rows.append(("2 Confirm → profile painted in the real window (one window, signed out through the window between sign-ins)",
                 pcts(pr), "engine alone (row 1) p50 " + (f(eng["p50"]) + " ms" if eng else "n/a"),
                 ratio(pr["p50"], eng["p50"]) if eng and pr.get("n") else "n/a",
                 "p95 < 100 ms", met(pr["n"] > 0 and pr["p95"] < 100 if pr.get("n") else None)))
    setup_label = {"embedded": "embedded server (no config)", "remote": "configured server"}
    for name in ("embedded-first", "embedded-later", "remote-first", "remote-later"):
        v = variants.get(name)
        if not v:
            continue
        setup, start = name.split("-")
        goal = 1.25 if start == "first" else 1.1
        sa = v["start_to_qr_ms"]
        ok = sa.get("n") and sh.get("n") and sa["p50"] <= goal * sh["p50"]
        rows.append((f"3 Process start → QR painted, {setup_label[setup]}, {label[start]}", pcts(sa, d=0),
                     "hello-world first paint " + pcts(sh, d=0),
                     "p50 " + ratio(sa["p50"], sh["p50"]) if sa.get("n") and sh.get("n") else "n/a",
                     f"≤ {goal}× hello-world", met(bool(ok)) if sa.get("n") else "n/a"))
    # Breakdown: p50 of each start-up milestone, ms after spawn (the app's own paint log).
    # Rows in the order they happen (their p50 in the last column that has them): the shell's
    # milestones and the page's own marks (`page-*`, taken by ui/app.js, sent after its paint).
    cols = [("hello-world", app["hello"])] + [(n, variants[n]) for n in ("embedded-first", "embedded-later", "remote-first", "remote-later") if n in variants]
    when = {}
    for _, v in cols:
        for m, st in v.get("milestones_ms", {}).items():
            if st.get("p50") is not None:
                when[m] = st["p50"]
    order = sorted(when, key=lambda m: when[m])
    bl = ["| Milestone (p50 ms after spawn) | " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for m in order:
        bl.append(f"| {m} | " + " | ".join(f(v.get("milestones_ms", {}).get(m, {}).get("p50"), 0) for _, v in cols) + " |")
    bl.append("| **qr painted** | " + " | ".join(f(v["start_to_qr_ms"].get("p50"), 0) for _, v in cols) + " |")
    breakdown = "\n".join(bl)
    idle = app.get("idle")
    if idle:
        a, h = idle["app"], idle["hello"]
        ap_pss, h_pss = a["memory"]["pss_kib"] / 1024, h["memory"]["pss_kib"] / 1024
        ap_rss, h_rss = a["memory"]["rss_kib"] / 1024, h["memory"]["rss_kib"] / 1024
        rows.append(("4 Memory with the QR shown (process tree: app + WebKit children)",
                     f"PSS {f(ap_pss)} MiB (RSS sum {f(ap_rss)} MiB, {len(a['memory']['processes'])} processes)",
                     f"hello-world PSS {f(h_pss)} MiB (RSS sum {f(h_rss)} MiB, {len(h['memory']['processes'])} processes)",
                     "PSS " + ratio(ap_pss, h_pss), "≤ 1.3× hello-world", met(ap_pss <= 1.3 * h_pss)))
        rows.append((f"4 CPU while waiting ({f(idle['seconds'], 0)} s, QR shown, countdown ring ticking)",
                     f"{f(a['cpu_pct_of_one_core'], 2)} % of one core",
                     f"hello-world {f(h['cpu_pct_of_one_core'], 2)} % (static page)",
                     ratio(a['cpu_pct_of_one_core'], h['cpu_pct_of_one_core'], 1) if h['cpu_pct_of_one_core'] > 0 else "n/a",
                     "< 1 % of one core", met(a["cpu_pct_of_one_core"] < 1.0)))
bare, bare_svg, svg, both = est("bare_encode"), est("bare_encode_svg"), est("render_svg"), est("render_svg_and_png512")
if bare:
    rows.append(("5 QR text → SVG data URL (`qr::render_svg`)",
                 f"{f(svg)} µs", f"bare `qrcode` encode {f(bare)} µs (qrcode's own SVG: {f(bare_svg)} µs)",
                 ratio(svg, bare), "≤ 1.5× bare encode", met(svg <= 1.5 * bare if svg else None)))
    rows.append(("5 QR text → SVG + 512 px PNG data URLs (`qr::render`, what the app does)",
                 f"{f(both)} µs", f"bare encode {f(bare)} µs", ratio(both, bare), "(no goal)", "—"))
cap = load("capacity.json")
if cap:
    w, fo, tp = cap["waiters"], cap["fanout"], cap["throughput"]
    held_mib = w["rss_held_kib"] / 1024
    rows.append((f"6 Long-poll waiters held by one server process ({w['requested']} sessions, one waiter each)",
                 f"{w['held']} held, server RSS {f(held_mib)} MiB ({f(w['per_waiter_kib'])} KiB per waiter; {f(w['per_session_and_waiter_kib'])} KiB incl. its session)",
                 f"RSS before waiters {f(w['rss_before_waiters_kib'] / 1024)} MiB", "—",
                 "10 000 waiters ≤ 120 MB", met(w["held"] >= 10000 and held_mib * 1.048576 <= 120) if w["requested"] >= 10000 else "n/a (quick)"))
    rows.append((f"6 All {fo['waiters']} waiters authorized at once (one session, one confirm) → last answer",
                 f"{f(fo['confirm_to_last_answer_ms'], 0)} ms ({fo['authorized_answers']}/{fo['held']} answered; confirm sent → last answer {f(fo.get('confirm_sent_to_last_answer_ms'), 0)} ms, the confirm's own round trip {f(fo.get('confirm_round_trip_ms'), 0)} ms)",
                 "—", "—", "≤ 300 ms", met(fo["confirm_to_last_answer_ms"] <= 300 and fo["authorized_answers"] == fo["held"])))
    rows.append((f"6 {w['requested']} sessions confirmed 64 at a time: wake-up per waiter (answer − its confirm returned)",
                 pcts(w["wake_ms"]), f"first confirm → last answer {f(w['first_confirm_to_last_answer_ms'] / 1000, 1)} s (confirms alone {f(w['confirm_span_ms'] / 1000, 1)} s)",
                 "—", "p99 < 10 ms", met(w["wake_ms"].get("n", 0) > 0 and w["wake_ms"]["p99"] < 10)))
    rows.append((f"6 Poll throughput, keep-alive ({tp['connections']} connections, {tp['requests_per_round']} requests, median of 3)",
                 f"{f(tp['ours_median_rps'], 0)} req/s (`GET /api/v2/qrcode/check`)",
                 f"axum hello-world {f(tp['hello_median_rps'], 0)} req/s", ratio(tp["ours_median_rps"], tp["hello_median_rps"]),
                 "≥ 0.6× hello-world", met(tp["ratio"] >= 0.6)))
sz = load("sizes.json")
if sz:
    a, h = sz["app_deb_bytes"] / 1e6, sz["hello_deb_bytes"] / 1e6
    rows.append(("7 Installer size (.deb)", f"{f(a, 2)} MB", f"hello-world .deb {f(h, 2)} MB", ratio(a, h),
                 "< 10 MB", met(a < 10)))
lim = load("limiter.json")
if lim:
    o, h = lim["ours"], lim["old"]
    def lrow(r):
        done = "" if r["completed"] else f", stopped at the time budget after {r['checks']} of {2 * lim['clients']} checks"
        return f"{f(r['checks_per_sec'], 0)} checks/s, p99 {f(r['latency_us']['p99'], 2)} µs{done}"
    rows.append((f"8 Rate limiter, {lim['clients']} distinct clients (each checked twice, 2 threads)",
                 "governor (keyed) " + lrow(o), "old hand-written limiter " + lrow(h),
                 ratio(o["checks_per_sec"], h["checks_per_sec"], 0) + " checks/s",
                 "no global scan: p99 flat as clients grow", "—"))

head = ("Row", "Ours", "Compared with", "Ratio", "Goal", "Met")
lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
for r in rows:
    lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
table = "\n".join(lines)
notes = []
if ap: notes.append(f"- Row 1 setup: {ap['setup']}; {ap['concurrency_per_mode']} logins in flight per mode, the three modes at the same time. Errors: " + ", ".join(f"{k} {v['errors']}" for k, v in ap['modes'].items()) + ".")
if app: notes.append(f"- Rows 2-4 setup: {app['setup']}. Errors: {len(app['errors'])}" + (f" (first: {app['errors'][0][:200]})" if app['errors'] else "") + ".")
if cap: notes.append(f"- Row 6 setup: {cap['setup']}.")
if lim: notes.append(f"- Row 8 setup: {lim['setup']}.")
text = f"""# qrlogin benchmarks

Machine:
{machine}

{table}

{"Start-up breakdown (rows 3; `startup-*` lines of each paint log; `qr-ready` = the first QR generated and rendered, `qr painted` = the page's paint):" + chr(10) + chr(10) + breakdown + chr(10) if breakdown else ""}
{chr(10).join(notes)}

`make bench` took {int(total) // 60} min {int(total) % 60} s (including builds). Raw data: `target/bench/results/*.json`, criterion: `target/criterion/qr/`.
"""
open(report, "w").write(text)
print(text)
EOF
say "report: $out/report.md"
