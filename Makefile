# qrlogin: every entry point installs what it needs first (scripts/install-deps.sh is idempotent).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
ARGS ?=

.PHONY: all deps run build test lint deny fmt test-core test-server test-cli test-app test-ui test-a11y test-e2e \
        test-soak soak soak-kiosk test-fuzz-replay fuzz bench bundle bundle-test clean

all: build

deps:
	@scripts/install-deps.sh

## run: build the desktop app and open it (embedded server unless a config says otherwise)
run: deps
	$(CARGO) build -p qrlogin
	@scripts/run-app.sh target/debug/qrlogin $(ARGS)

build: deps
	$(CARGO) build --workspace

## test: every tier of DESIGN.md, cheapest first so a cheap failure stops the run early
test: deps lint test-core test-server test-cli test-fuzz-replay test-app test-ui test-a11y test-e2e test-soak
	@if [[ "$${QRLOGIN_BUNDLE_TEST:-0}" == 1 ]]; then $(MAKE) --no-print-directory bundle-test; fi
	@echo "make test: all tiers passed"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(MAKE) --no-print-directory deny

## deny: licenses, bans and duplicate majors (deny.toml). Advisories need the RustSec database,
## which is downloaded from GitHub: run `cargo deny check advisories` where GitHub is reachable.
deny:
	@# deny reads `cargo metadata` for every platform: crates only other platforms use (kqueue,
	@# objc2-*) must be in the local registry first; the advisories check needs the RustSec
	@# database, which this machine cannot download (deny.toml says so).
	$(CARGO) fetch --locked --quiet
	$(CARGO) deny --offline check licenses bans sources

fmt:
	$(CARGO) fmt --all

test-core:
	$(CARGO) test -p qrlogin-core

test-server:
	$(CARGO) test -p qrlogin-server --all-features
	@CARGO="$(CARGO)" scripts/pg-test.sh

## test-cli: the terminal front end through a real pseudo-terminal, against the real server
test-cli:
	$(CARGO) test -p qrlogin-cli

test-app:
	$(CARGO) test -p qrlogin

test-ui:
	node --test ui/tests/

## test-a11y: axe-core in Chromium over every preview state and every screen of the phone page
## (served by the real qrlogin-server); keyboard, focus and contrast checks. About a minute.
test-a11y:
	$(CARGO) build -p qrlogin-server
	node --test --test-concurrency=1 ui/a11y/

test-e2e:
	@scripts/e2e.sh

## test-fuzz-replay: every fuzz target over its seeds and the inputs that once broke it
## (fuzz/regressions/), in the plain test build: no sanitizer, no libFuzzer, seconds.
test-fuzz-replay:
	$(CARGO) test -p qrlogin-fuzz

## fuzz: FUZZ_SECS=<seconds> (default 60) of libFuzzer per target (FUZZ_TARGETS to pick some);
## crashes are kept in fuzz/regressions/<target>/. Stable toolchain, see scripts/fuzz.sh.
FUZZ_SECS ?= 60
fuzz: deps
	@FUZZ_SECS=$(FUZZ_SECS) scripts/fuzz.sh

## test-soak: the 2-minute soak; fails on growth beyond the bounds in crates/qrlogin-bench/src/soak.rs
test-soak:
	@CHECK=1 DURATION=120 SOAK_OUT=target/soak-ci scripts/soak.sh

## soak: DURATION=<seconds> (default 3600) of simulated desktops and phones; target/soak/report.md
DURATION ?= 3600
soak: deps
	@DURATION=$(DURATION) scripts/soak.sh

## soak-kiosk: DURATION=<seconds> (default 600) of the real app in kiosk mode under Xvfb: logins and
## idle sign-outs; WebKit memory, zombies, log files; target/soak-kiosk/report.md
soak-kiosk: deps
	@DURATION=$(if $(filter command line environment,$(origin DURATION)),$(DURATION),600) scripts/soak.sh --kiosk

bench: deps
	@scripts/install-deps.sh --bench
	@scripts/bench.sh

bundle: deps
	@scripts/install-deps.sh --bundle
	@scripts/bundle.sh

bundle-test: bundle
	@scripts/bundle-test.sh

clean:
	$(CARGO) clean
