#!/usr/bin/env bash
# make soak DURATION=<seconds>: the soak run of crates/qrlogin-bench/src/soak.rs (the server in a
# child process, simulated desktops and phones, 127.0.0.1 only). Writes target/soak/report.md,
# samples.csv, summary.json and SVG charts. CHECK=1 fails the run when a bound is broken (the
# 2-minute CI step of `make test`). Bounded: the run ends after DURATION plus a minute of drain.
#
# scripts/soak.sh --kiosk: the kiosk variant instead (tests/scenarios/soak_kiosk.rs): the real app
# in kiosk mode under Xvfb through repeated phone logins and idle sign-outs for DURATION seconds,
# recording the memory of its process tree (RSS, PSS; WebKit's processes), zombie processes and
# its log files. Writes $SOAK_OUT (default target/soak-kiosk)/report.md, samples.csv, memory.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == --kiosk ]]; then
  export QRLOGIN_SOAK_SECS="${DURATION:-600}"
  export QRLOGIN_SOAK_OUT="$PWD/${SOAK_OUT:-target/soak-kiosk}"
  echo "soak (kiosk): ${QRLOGIN_SOAK_SECS}s → $QRLOGIN_SOAK_OUT/report.md"
  exec scripts/e2e.sh --ignored --exact soak_kiosk::soak_kiosk_repeated_logins_and_idle_sign_outs
fi
DURATION="${DURATION:-120}"
DESKTOPS="${DESKTOPS:-12}"
OUT="${SOAK_OUT:-target/soak}"
PROFILE="${SOAK_PROFILE:-dev}"   # dev shares the test build; release for production-like RSS
SAMPLE="${SOAK_SAMPLE_SECS:-}"
if [[ -z "$SAMPLE" ]]; then
  # about 240 samples over the run, at least one every 2 s
  SAMPLE=$(( DURATION / 240 )); (( SAMPLE < 2 )) && SAMPLE=2
fi
CARGO="${CARGO:-cargo}"
$CARGO build -q --profile "$PROFILE" -p qrlogin-bench
dir=debug; [[ "$PROFILE" != dev ]] && dir="$PROFILE"
bin="${CARGO_TARGET_DIR:-target}/$dir/qrlogin-bench"
check=(); [[ "${CHECK:-0}" == 1 ]] && check=(--check)
echo "soak: ${DURATION}s, ${DESKTOPS} desktops, sample every ${SAMPLE}s → $OUT/report.md"
timeout $(( DURATION + 300 )) "$bin" soak --duration-secs "$DURATION" --desktops "$DESKTOPS" \
  --sample-secs "$SAMPLE" --out-dir "$OUT" "${check[@]}" >/dev/null
echo "soak: report at $OUT/report.md"
