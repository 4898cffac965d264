#!/usr/bin/env bash
# make fuzz [FUZZ_SECS=60] [FUZZ_TARGETS="router media"]: builds every target of fuzz/ with
# cargo-fuzz (libFuzzer) on the stable toolchain and runs each for FUZZ_SECS seconds.
#
# Stable, not nightly: cargo-fuzz passes a few -Z flags, which RUSTC_BOOTSTRAP=1 lets the stable
# compiler accept. No sanitizer (-s none): the code is safe Rust, so a bug is a panic, which
# libFuzzer catches by itself; ASan would double the build and halve the executions. Debug
# assertions are on (-a), so integer overflows panic as in the test build. The release
# profile's LTO is turned off here: it would add minutes to every build for no fuzzing benefit.
#
# Crashes, timeouts and out-of-memory inputs are copied to fuzz/regressions/<target>/, which
# `make test` replays (cargo test -p qrlogin-fuzz); the run then fails. The corpus grows in
# fuzz/corpus/<target>/ (not committed); fuzz/seeds/<target>/ is the committed seed corpus.
# A summary with the executions and the coverage per target goes to target/fuzz/summary.md:
# `cov` is libFuzzer's count of covered code edges (sancov's inline 8-bit counters) at the end of
# the run, `ft` its count of features (edges × hit-count buckets), both from its last status line.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECS="${FUZZ_SECS:-60}"
CARGO="${CARGO:-cargo}"
TD="${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}"
export RUSTC_BOOTSTRAP=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
       CARGO_PROFILE_RELEASE_STRIP=false
if ! $CARGO fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io"
  $CARGO install cargo-fuzz --locked
fi
targets=(${FUZZ_TARGETS:-$(ls fuzz/fuzz_targets | sed 's/\.rs$//')})
start=$(date +%s)
(cd fuzz && $CARGO fuzz build --features libfuzzer -s none -a --target-dir "$TD")
built=$(date +%s)
triple=$(rustc -vV | sed -n 's/^host: //p')
bin="$TD/$triple/release"
mkdir -p "$TD"
summary="$TD/summary.md"
printf '| target | seconds | executions | exec/s | cov (edges) | ft (features) | corpus | result |\n|---|---|---|---|---|---|---|---|\n' > "$summary"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$TD/$t.log"
  set +e
  "$bin/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -max_total_time="$FUZZ_SECS" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(ls "fuzz/corpus/$t" | wc -l)
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -a -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="FAILED (see $log)"
    failed+=("$t")
    mkdir -p "fuzz/regressions/$t"
    cp fuzz/artifacts/"$t"/* "fuzz/regressions/$t/" 2>/dev/null || true
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$FUZZ_SECS" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$result" >> "$summary"
  echo "fuzz: $t: ${execs:-?} executions (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, $result"
done
end=$(date +%s)
echo "fuzz: build $((built - start)) s, runs $((end - built)) s; summary in $summary"
if ((${#failed[@]})); then
  echo "fuzz: failing targets: ${failed[*]}; their inputs are in fuzz/regressions/ (make test replays them)" >&2
  exit 1
fi
