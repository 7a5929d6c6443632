# torch_js: `make test` is the whole check; `make setup` and `make build` run as needed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
LIBDIR := pytorchjs_py/torch_js/_lib
KERNEL_SRC := $(wildcard wasm_ext/*.c)
KERNEL_HDR := $(wildcard wasm_ext/*.h)
NATIVE_LIB := $(LIBDIR)/libtjs_native.so
WASM_LIB := $(LIBDIR)/libtjs_wasm32.so
WASM_RELAXED_LIB := $(LIBDIR)/libtjs_wasm32_relaxed.so
ZIG := $(PY) -m ziglang

# -ffp-contract=off: no silent fused multiply-adds; kernels that need one (PyTorch's RNG) call fmaf.
CFLAGS_COMMON := -O3 -std=gnu11 -ffreestanding -ffp-contract=off -fno-math-errno -Wall -Wno-unused-function
# -mnontrapping-fptoint: float->int casts saturate instead of trapping the whole interpreter.
ZIG_INC = $(shell $(PY) -c "import ziglang,os;print(os.path.dirname(ziglang.__file__))")/lib/include
WASM_FLAGS = -isystem $(ZIG_INC) --target=wasm32-unknown-emscripten -fPIC -msimd128 -mnontrapping-fptoint -mbulk-memory -msign-ext
WASM_LD := wasm-ld --experimental-pic -shared --unresolved-symbols=import-dynamic --no-entry

.PHONY: setup build test test-py test-pyodide clean wheel bench

setup: $(VENV)/.setup-done node_modules/.setup-done

$(VENV)/.setup-done: requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@command -v gcc >/dev/null || { echo "need gcc (apt-get install gcc)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.setup-done: package.json
	@command -v node >/dev/null || { echo "need node 20 (apt-get install nodejs npm)"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error
	touch $@

build: $(NATIVE_LIB) $(WASM_LIB) $(WASM_RELAXED_LIB)

$(NATIVE_LIB): $(KERNEL_SRC) $(KERNEL_HDR)
	@mkdir -p $(LIBDIR)
	cp wasm_ext/tjs.h $(LIBDIR)/tjs.h
	gcc $(CFLAGS_COMMON) -fPIC -shared -o $@ $(KERNEL_SRC) -lm

build/wasm/%.o: wasm_ext/%.c $(KERNEL_HDR) $(VENV)/.setup-done
	@mkdir -p build/wasm
	$(ZIG) clang $(WASM_FLAGS) $(CFLAGS_COMMON) -c $< -o $@

build/wasm-relaxed/%.o: wasm_ext/%.c $(KERNEL_HDR) $(VENV)/.setup-done
	@mkdir -p build/wasm-relaxed
	$(ZIG) clang $(WASM_FLAGS) -mrelaxed-simd $(CFLAGS_COMMON) -c $< -o $@

$(WASM_LIB): $(patsubst wasm_ext/%.c,build/wasm/%.o,$(KERNEL_SRC))
	@mkdir -p $(LIBDIR)
	$(ZIG) $(WASM_LD) -o $@ $^

$(WASM_RELAXED_LIB): $(patsubst wasm_ext/%.c,build/wasm-relaxed/%.o,$(KERNEL_SRC))
	@mkdir -p $(LIBDIR)
	$(ZIG) $(WASM_LD) -o $@ $^

test: setup build test-py test-pyodide

test-py: setup build
	$(PY) -m pytest -q tests

test-pyodide: setup build
	node js_bridge/pyodide_check.mjs

clean:
	rm -rf build dist $(LIBDIR)
