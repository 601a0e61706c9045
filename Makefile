# SPDX-License-Identifier: AGPL-3.0-or-later
# Thin wrapper over CMake. `make demo` and `make test` work on a fresh Debian 12 machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build configure test check check-asan demo bench install format lint clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The whole suite, then the same suite under ASan + UBSan in its own build dir.
test: deps
	$(MAKE) build
	$(MAKE) check
	$(MAKE) check-asan

check:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@grep -h 'MCP conformance' $(BUILD)/Testing/Temporary/LastTest.log 2>/dev/null | sort -u || true
	@cd $(BUILD) && ctest -R core_test_schema_suite -V 2>&1 | grep -E 'schema suite|SKIP' || true

check-asan:
	@test -f $(ASAN_BUILD)/CMakeCache.txt || cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAGC_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

demo: deps
	$(MAKE) build
	@scripts/demo.sh $(BUILD)

bench: deps
	$(MAKE) build
	@scripts/bench.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	@scripts/lint.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
