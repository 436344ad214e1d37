# Thin wrapper over CMake for people who just want to type `make`.
#   make            build (release with debug info) into build/
#   make test       build and run the tests, plain, under the non-coherent emulator and
#                   under ASan+UBSan (build-asan/)
#   make test-emulated  the plain build's whole suite with every test cluster non-coherent
#                   (the tests link libzcpool_test.a, the library with the test hooks:
#                   ZCP_EMULATE_*, ZCP_DISABLE_SITE; the installed library has none)
#   make demo       the main job: three node processes share one huge table
#   make demo-columnar  the columnar core alone (build, validate, print, DuckDB)
#   make bench      the benchmarks (results in bench/results/)
#   make install    install library, headers and pkg-config file (PREFIX=/usr/local)
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE_FLAGS ?=
ifeq ($(CI),true)
CMAKE_FLAGS += -DZCP_WERROR=ON
endif

.PHONY: all build asan test test-plain test-emulated test-asan demo demo-columnar bench install clean format

all: build

build:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZCP_SANITIZE=ON \
	    -DZCP_BUILD_BENCH=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

test-plain: build
	cd build && ctest --output-on-failure -j $(JOBS)

test-asan: asan
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS)

# DESIGN §9 as a standing check: the whole plain suite again with ZCP_EMULATE_NONCOHERENT=1
# (every test cluster non-coherent, every process emulating its caches), once keeping
# stale lines and once with random eviction (seed 1). Only the test build of the library
# (libzcpool_test.a, with ZCP_TEST_HOOKS) reads the switch: the test programs link it,
# and the cluster demo turns the emulator on itself. Left out, because they cannot apply:
#   integration/cluster_share_emulated_*  already run under the emulator, per policy/seed
#   integration/site_matrix               sets its own emulator switches per site
#   integration/fabric_emulator           the emulator's own test; picks each process's
#                                         policy itself, which the switch would override
#   bench/smoke                           measures coherent sharing; timings under
#                                         page-fault emulation mean nothing
EMU_SKIP := ^(integration/cluster_share_emulated_.*|integration/site_matrix|integration/fabric_emulator|bench/smoke)$$

test-emulated: build
	cd build && ZCP_EMULATE_NONCOHERENT=1 ZCP_EMULATE_POLICY=stale \
	    ctest --output-on-failure -j $(JOBS) -E '$(EMU_SKIP)'
	cd build && ZCP_EMULATE_NONCOHERENT=1 ZCP_EMULATE_POLICY=random ZCP_EMULATE_SEED=1 \
	    ctest --output-on-failure -j $(JOBS) -E '$(EMU_SKIP)'

test: test-plain test-emulated test-asan

demo: build
	./build/cluster_demo

demo-columnar: build
	./build/columnar_demo

bench: build
	./bench/run.sh

install: build
	cmake --install build --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan
