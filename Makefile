# signalbox - top-level entry points.  The build itself is CMake; this file
# only strings the steps together:
#   make deps    install the Debian packages (skips apt when all are there)
#   make build   RelWithDebInfo build in build/
#   make demo    start the sandbox, run the console against it, stop it
#   make demo-lite  the same against the small demo server (no root needed)
#   make test    sanitizer + -Werror build in build-ci/ and every CTest test
#   make bench   the benchmarks in bench/ (results in bench/out/)
#   make man     regenerate the key list in docs/signalbox.1 from the action table
#   make clean   remove the build directories and bench output

SHELL := /bin/bash
.DEFAULT_GOAL := build
.NOTPARALLEL:
.PHONY: all deps build demo demo-lite test bench clean man

DEPS_PKGS := build-essential cmake pkg-config libncurses-dev \
	libcurl4-openssl-dev libpq-dev libhiredis-dev libcjson-dev \
	libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libfyaml-dev \
	libpcre2-dev libcmocka-dev tmux openssl nodejs htop lnav util-linux

BUILD_TYPE ?= RelWithDebInfo
JOBS ?= 2
DEMO_CONFIG := sandbox/.run/signalbox.yml
DEMO_LITE_CONFIG := sandbox/.run/demo/signalbox.yml

all: build

# apt only when dpkg says something is missing; apt-get update only then too.
deps:
	@missing=""; \
	for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$p" 2>/dev/null | grep -q '^ii' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEPS_PKGS)) packages installed"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	$$sudo apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing

build:
	cmake -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j$(JOBS)

# The console needs the terminal, so it runs in the foreground against the
# sandbox (sandbox/up: PostgreSQL, Redis, the Railway emulator and its app
# fleet on loopback).  A sandbox this target started is stopped however the
# console ends; one that was already running is left running, as is any
# with KEEP=1.
demo: deps build
	@if sandbox/status >/dev/null 2>&1; then was_up=1; else was_up=0; fi; \
	sandbox/up || exit 1; \
	if [ "$$was_up" = 0 ] && [ "$(KEEP)" != 1 ]; then trap 'sandbox/down' EXIT; \
	else trap 'echo "the sandbox keeps running: sandbox/down stops it"' EXIT; fi; \
	. sandbox/.run/env && ./build/signalbox -c $(DEMO_CONFIG)

# The small demo server alone (no root, no databases): every state a health
# check must recognise, on loopback.
demo-lite: deps build
	sandbox/demo/up
	@trap 'sandbox/demo/down' EXIT; ./build/signalbox -c $(DEMO_LITE_CONFIG)

test: deps
	cmake -B build-ci -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DSIGNALBOX_WERROR=ON -DSIGNALBOX_SANITIZE=ON
	cmake --build build-ci -j$(JOBS)
	ctest --test-dir build-ci --output-on-failure -j$(JOBS)

bench: deps build
	bench/startup.sh
	bench/idle.sh
	bench/endpoints1000.sh
	bench/api_budget.sh
	bench/logs.sh
	bench/logs_storm.sh
	bench/backups.sh

# The key list between the BEGIN KEYS / END KEYS markers of signalbox(1)
# comes from the action table (tests/docs_check.sh fails when it is stale).
man: build
	@KEYS="$$(./build/signalbox keys --mdoc)" awk \
		'/^\.\\" BEGIN KEYS/ { print; print ENVIRON["KEYS"]; skip = 1; next } \
		/^\.\\" END KEYS/ { skip = 0 } !skip' docs/signalbox.1 >docs/signalbox.1.tmp && \
		mv docs/signalbox.1.tmp docs/signalbox.1 && echo "man: docs/signalbox.1 key list regenerated"

clean:
	rm -rf build build-ci build-e2e bench/out
