# s3mount — developer entry points. Every target here works; see README.md.
#   make demo         install deps, build, start the local S3 testbed, mount a sample dataset, show it, unmount
#   make test         install deps, build (release), start the testbed, swift test, mounted tests (pytest), fuzz-smoke
#   make fuzz-smoke   build the parser fuzzers (libFuzzer) and run each 20 s (scripts/fuzz.sh SECONDS for longer)
#   make build        swift build -c release  ->  .build/release/s3mount
#   make deb          the Debian package (static Swift runtime, man page, completions) -> dist/s3mount_<version>_<arch>.deb
#   make deps         install the Debian/pip packages (scripts/install-deps.sh)
#   make testbed-up / testbed-down / testbed-purge / testbed-env
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Swift lives in /opt/swift on our machines; make sure it is found even from a bare PATH (CI).
ifneq ($(wildcard /opt/swift/usr/bin/swift),)
export PATH := $(PATH):/opt/swift/usr/bin
endif

CEPH        := scripts/testbed/ceph.sh
S3MOUNT_BIN := $(CURDIR)/.build/release/s3mount
MOUNT_TESTS := Tests/MountTests
# the testbed env (AWS_ENDPOINT_URL, keys, S3_BUCKET, S3_ENDPOINTS, S3_TEST_ENDPOINT, S3_TLS_*, CEPH_CONF) for a recipe line
WITH_ENV    := eval "$$($(CEPH) env)";

.PHONY: help deps build deb demo test test-swift test-mount fuzz-smoke testbed-up testbed-down testbed-purge testbed-env clean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

deps:
	@bash scripts/install-deps.sh

# `s3mount --version` names the commit it was built from: a bare token (no quoting to get through SwiftPM) that
# CSystem/build_info.c turns into a string; builds without it (swift build, swift test) say "unknown".
S3MOUNT_COMMIT := $(shell git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
COMMIT_FLAG    := -Xcc -DS3MOUNT_COMMIT=$(S3MOUNT_COMMIT)

build: deps
	swift build -c release $(COMMIT_FLAG)
	@test -x $(S3MOUNT_BIN) || { echo "no binary at $(S3MOUNT_BIN)" >&2; exit 1; }

# The package's binary links the Swift runtime statically and is built in a scratch path of its own (the normal
# build is left alone). The man page comes from the argument parser: swift-argument-parser's generate-manual plugin
# builds the package as `make build` did (same flags, so nothing to compile; --static-swift-stdlib would change
# every compile command) and renders `s3mount --experimental-dump-help`. packaging/deb/build-deb.sh does the rest.
STATIC_FLAGS := -c release --static-swift-stdlib --disable-local-rpath --scratch-path .build-static $(COMMIT_FLAG)
DEB_DIR      := $(CURDIR)/dist
DEB          := $(DEB_DIR)/s3mount_$(shell sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/s3mount/BuildInfo.swift)_$(shell dpkg --print-architecture 2>/dev/null).deb

deb: build
	swift package -c release $(COMMIT_FLAG) generate-manual
	swift build $(STATIC_FLAGS)
	packaging/deb/build-deb.sh .build-static/release/s3mount \
	  .build/plugins/GenerateManual/outputs/s3mount/s3mount.1 $(DEB_DIR)
	@test -f $(DEB) || { echo "no package at $(DEB)" >&2; exit 1; }

testbed-up: deps
	@$(CEPH) start

testbed-down:
	@$(CEPH) stop

testbed-purge:
	@$(CEPH) purge

testbed-env:
	@$(CEPH) env

demo: build testbed-up
	S3MOUNT_BIN=$(S3MOUNT_BIN) scripts/demo.sh

# Every suite always runs; the target fails if any fails.
test: build testbed-up
	@rc=0; \
	$(MAKE) --no-print-directory test-swift || rc=1; \
	$(MAKE) --no-print-directory test-mount || rc=1; \
	$(MAKE) --no-print-directory fuzz-smoke || rc=1; \
	if [ $$rc = 0 ]; then echo "make test: all suites passed"; else echo "make test: FAILED" >&2; fi; \
	exit $$rc

# unit + integration tests (integration tests read S3_TEST_ENDPOINT etc. from the testbed env); debug build.
# The endpoint pool's tests hold retries and probes to wall-clock budgets, so they run on their own, after the
# rest: beside 300 other tests on two cores, a busy cooperative pool eats the budgets they measure.
test-swift: testbed-up
	$(WITH_ENV) swift test --skip EndpointPoolTests
	$(WITH_ENV) swift test --filter EndpointPoolTests

# tests that mount the release binary (S3MOUNT_BIN) against the testbed, and the package (S3MOUNT_DEB: installed,
# used through mount(8), removed; test_package.py, as root). pytest's exit 5 (nothing collected) counts as a
# failure; only a tree with no test_*.py file at all skips the suite (before it exists).
test-mount: testbed-up deb
	@if [ -z "$$(find $(MOUNT_TESTS) -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | head -n 1)" ]; then \
	  echo "test-mount: SKIPPED: no test files in $(MOUNT_TESTS) yet"; exit 0; \
	fi; \
	test -x $(S3MOUNT_BIN) || $(MAKE) --no-print-directory build; \
	$(WITH_ENV) export S3MOUNT_BIN=$(S3MOUNT_BIN) S3MOUNT_DEB=$(DEB); python3 -m pytest -q $(MOUNT_TESTS)

# The bounded fuzz run of CI: builds s3http-fuzz with -sanitize=fuzzer (about 30 s) and gives each of the 7 parser
# targets 20 s from the committed seeds, about 3 minutes in all. Any crash or broken invariant fails it.
fuzz-smoke:
	scripts/fuzz.sh 20

clean:
	swift package clean

# benchmark: bench/run.sh installs its tools, builds into .build-bench, starts the server if it is not up
#   make bench        s3mount vs s3fs, rclone mount, raw HTTP (BENCH_SERVER=ceph|juicefs BENCH_SCALE=full|small)
#   make bench-write  the write benchmark (w9-w11: big file, small files, upload throttle), same options
#   make bench-loader the data-loader benchmark (issue 10: files, shards, records; epochs 1 and 2), same options
.PHONY: bench
BENCH_SERVER ?= ceph
BENCH_SCALE  ?= full
bench:
	BENCH_SERVER=$(BENCH_SERVER) BENCH_SCALE=$(BENCH_SCALE) bench/run.sh
.PHONY: bench-write
bench-write:
	BENCH_SUITE=write BENCH_SERVER=$(BENCH_SERVER) BENCH_SCALE=$(BENCH_SCALE) bench/run.sh
.PHONY: bench-loader
bench-loader:
	BENCH_SUITE=loader BENCH_SERVER=$(BENCH_SERVER) BENCH_SCALE=$(BENCH_SCALE) bench/run.sh
