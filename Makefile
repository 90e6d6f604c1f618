# lienthong — thin wrapper over CMake. `make run` and `make test` are all a new user needs.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIG ?= examples/lang-son/lienthong.json
MAKEFLAGS += --no-print-directory

.PHONY: all deps build run test test-fast test-asan bench soak fuzz clean check-config

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target lienthong
	@scripts/run-example.sh $(BUILD)/lienthong $(CONFIG)

check-config: build
	@$(BUILD)/lienthong check-config --config $(CONFIG)

# Unit, fuzz-replay and integration tests; then the same suite under ASan+UBSan.
test: test-fast test-asan

test-fast:
	@scripts/deps.sh test
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@scripts/deps.sh test
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

bench:
	@scripts/deps.sh bench
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@bench/run.sh $(BUILD)/lienthong

# Endurance (issue 6; not part of test): SOAK_DURATION seconds (default 600) of mixed load, then
# the "Soak" section of docs/benchmarks.md is rewritten (bench/soak.sh lists the settings).
soak:
	@scripts/deps.sh bench
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@bench/soak.sh $(BUILD)/lienthong

# libFuzzer targets (clang), each run for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME); new
# finds go to build-fuzz/corpus/NAME: copy a crasher into the seed corpus once it is fixed.
FUZZ_SECONDS ?= 60
fuzz:
	@scripts/deps.sh fuzz
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DLT_FUZZ=ON -DLT_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for f in build-fuzz/tests/fuzz_*; do n=$${f##*/fuzz_}; echo "== $$n"; \
	  mkdir -p build-fuzz/corpus/$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=0 build-fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
