# ipsec-accel: the two commands users need, plus a few for developers.
#   make demo     install dependencies, build, and run the main job on the embedded default
#   make test     install dependencies, build, and run the whole test suite (plus an ASan/UBSan build)
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all deps build test test-fast test-asan demo install bench charts fuzz clean

all: build

deps:
	@./scripts/setup-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPSEC_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The whole suite: the optimized build (C++ and RTL tests), then the C++ tests again under ASan +
# UBSan (the Verilated RTL benches are left out there: they check the RTL, not memory safety).
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-asan

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DIPSEC_SANITIZE=ON -DIPSEC_WERROR=ON \
	  -DIPSEC_BENCH=OFF -DIPSEC_HW=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)

bench: build
	$(BUILD)/bench/esp_bench

# The charts of docs/performance.md (docs/perf/*.png), from a fresh run of the benchmarks built in
# $(BUILD); raw outputs in $(BUILD)/perf-results. The tunnel chart needs root (network namespaces).
charts: build
	./scripts/perf_run.sh $(BUILD)

# libFuzzer targets (clang).
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPSEC_FUZZ=ON \
	  -DIPSEC_TESTS=OFF -DIPSEC_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
