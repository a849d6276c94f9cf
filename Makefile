# baton: user-facing targets. The build itself is CMake; see CMakeLists.txt.
#   make demo    install deps, build, run baton on the example contract
#   make test    install deps, build release + sanitizer builds, run every test in both
#   make bench   benchmarks; rewrites the figures in BENCHMARKS.md
#   make fuzz    libFuzzer targets (FUZZ_SECONDS each, default 600)
#   make lint    cppcheck + clang-tidy
#   make fmt     clang-format in place

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 600
CMAKE_GEN  := -G Ninja
SOURCES    := $(shell find src tests fuzz bench -name '*.[ch]' 2>/dev/null)

.PHONY: all deps release asan test demo bench fuzz lint fmt clean

all: release

deps:
	@scripts/install-deps

$(BUILD)/release/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD)/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null

$(BUILD)/asan/build.ninja: CMakeLists.txt
	@cmake -S . -B $(BUILD)/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DBATON_SANITIZE=ON >/dev/null

release: deps $(BUILD)/release/build.ninja
	@cmake --build $(BUILD)/release -j $(JOBS)

asan: deps $(BUILD)/asan/build.ninja
	@cmake --build $(BUILD)/asan -j $(JOBS)

test: release asan
	@echo "== release build =="
	@cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)
	@echo "== language signals: precision and recall on tests/data/text (R5, R9) =="
	@cd $(BUILD)/release && BATON_SOURCE_DIR=$(CURDIR) ./text_test_eval 2>&1 | grep -E '^(mentions|reply)'
	@echo "== AddressSanitizer + UBSan build =="
	@cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

demo: release
	@scripts/demo $(BUILD)/release/baton

bench: release
	@scripts/bench $(BUILD)/release

fuzz: deps
	@cmake -S . -B $(BUILD)/fuzz $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DBATON_FUZZ=ON \
	    -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(BUILD)/fuzz -j $(JOBS)
	@scripts/fuzz $(BUILD)/fuzz $(FUZZ_SECONDS)

lint: release
	@cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem -I src src
	@clang-tidy --quiet -p $(BUILD)/release $(filter src/%.c,$(SOURCES)) 2>/dev/null

fmt:
	@clang-format -i $(SOURCES)

clean:
	rm -rf $(BUILD)
