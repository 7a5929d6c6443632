# ---- the threaded wasm kernels (included by the Makefile) -----------------------------------------------------------
# Pyodide's own memory is not shared, so no Web Worker can read the tensors where they live. For torch.set_num_threads
# in Pyodide, tjs_gemm (+ threads.c, abi.c) is built a second time as a standalone module over an imported *shared*
# WebAssembly.Memory: torch_js/backends/cpu/wasm_pool.js instantiates it once on Pyodide's thread and once in each of
# N workers, all over that one memory; backends/cpu/wasm_threads.py copies a large product's operands in, runs the
# gemm there (the workers take tiles through threads.c's TJS_WASM_SHARED pool) and copies the result back.
# The pool also runs float32 transcendental maps (wasm_ext/pool/pool_unary.c: vec_math.h's code, as the side module's
# tjs_unary runs it) for the large GELU, exp, tanh, ... of a model's forward. wasm_ext/pool/ holds the kernels only
# this module has (the native library and the side module build wasm_ext/*.c alone).
# Softmax too (wasm_ext/pool/pool_softmax.c), whose exponentials must be those of Pyodide's libm: libm_expf.h computes
# musl's expf over musl's own table, exp2f_data.c from the zig toolchain's copy of musl (built here, not copied).
# Layer norm too (wasm_ext/norm.c, the side module's kernel: the composite's steps, its row sums row_sum.h's, as tjs_reduce's), and
# linear's bias added to its pooled product by its tiles (wasm_ext/pool/pool_gemm.c), and scaled-dot-product
# attention in one call (wasm_ext/attention.c: both products, the mask and softmax, the composite's bits), and max and
# average pooling, planes shared out (wasm_ext/pool.c's code through wasm_ext/pool/pool_planes.c), and a convolution's
# im2col and col2im, images shared out (wasm_ext/conv.c's code through wasm_ext/pool/pool_conv.c).
# Two builds, as for the side module: plain SIMD and relaxed SIMD, the one used matching the side module Pyodide
# loaded (so a product's bits are the same whichever module computes it).
# wasm32-freestanding through `zig cc`: zig links its compiler-rt (tjs_gemm's 64-bit overflow checks need __multi3),
# and nothing else (the gemm and vec_math.h's maps call no libm; softmax's expf is libm_expf.h's). The linker gives
# the module:
#   --import-memory --shared-memory --max-memory: the memory comes from JS (its own maximum may be smaller);
#     data segments become passive, initialised once by the first instance (wasm-ld's __wasm_init_memory);
#   -z stack-size: the first instance's stack; each worker's instance gets its own region (memory.grow in JS) and
#     sets it through the exported __stack_pointer before its first call.
comma := ,
WASM_THREADS_SRC := wasm_ext/gemm.c wasm_ext/pool/pool_gemm.c wasm_ext/threads.c wasm_ext/abi.c wasm_ext/pool/pool_unary.c \
  wasm_ext/pool/pool_softmax.c wasm_ext/norm.c wasm_ext/attention.c \
  wasm_ext/pool.c wasm_ext/pool/pool_planes.c wasm_ext/conv.c wasm_ext/pool/pool_conv.c
WASM_THREADS_LIB := $(LIBDIR)/libtjs_wasm32_threads.wasm
WASM_THREADS_RELAXED_LIB := $(LIBDIR)/libtjs_wasm32_threads_relaxed.wasm
WASM_THREADS_LIBS := $(WASM_THREADS_LIB) $(WASM_THREADS_RELAXED_LIB)
WASM_THREADS_CPU := generic+atomics+bulk_memory+simd128+nontrapping_fptoint+sign_ext
ZIG_MUSL = $(ZIG_INC)/../libc/musl
# musl's exp2f_data.h and the features.h it includes, after the compiler's own headers (musl's stdint.h must not win)
MUSL_MATH_INC = -idirafter $(ZIG_MUSL)/src/include -idirafter $(ZIG_MUSL)/src/math
WASM_THREADS_FLAGS = -isystem $(ZIG_INC) -target wasm32-freestanding -DTJS_WASM_SHARED $(MUSL_MATH_INC)
WASM_THREADS_EXPORTS := tjs_gemm tjs_pool_gemm tjs_pool_unary tjs_pool_softmax tjs_layer_norm \
  tjs_attention tjs_pool_planes tjs_pool_im2col tjs_pool_col2im tjs_worker_main tjs_pool_ready_word tjs_pool_joined_word tjs_args tjs_err tjs_num_threads tjs_pool_spin __stack_pointer
WASM_THREADS_HDR := $(KERNEL_HDR) $(wildcard wasm_ext/pool/*.h)
WASM_THREADS_LDFLAGS := -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294901760 \
  -Wl,-z,stack-size=1048576 -Wl,--strip-all $(addprefix -Wl$(comma)--export=,$(WASM_THREADS_EXPORTS))

build/wasm-threads/%.o: wasm_ext/%.c $(WASM_THREADS_HDR) | $(VENV)/.build-setup-done
	@mkdir -p $(dir $@)
	$(ZIG) cc $(WASM_THREADS_FLAGS) -mcpu=$(WASM_THREADS_CPU) $(CFLAGS_COMMON) -c $< -o $@

build/wasm-threads-relaxed/%.o: wasm_ext/%.c $(WASM_THREADS_HDR) | $(VENV)/.build-setup-done
	@mkdir -p $(dir $@)
	$(ZIG) cc $(WASM_THREADS_FLAGS) -mcpu=$(WASM_THREADS_CPU)+relaxed_simd $(CFLAGS_COMMON) -c $< -o $@

build/wasm-threads/musl/exp2f_data.o: | $(VENV)/.build-setup-done
	@mkdir -p $(dir $@)
	$(ZIG) cc $(WASM_THREADS_FLAGS) -mcpu=$(WASM_THREADS_CPU) $(CFLAGS_COMMON) -c $(ZIG_MUSL)/src/math/exp2f_data.c -o $@

build/wasm-threads-relaxed/musl/exp2f_data.o: | $(VENV)/.build-setup-done
	@mkdir -p $(dir $@)
	$(ZIG) cc $(WASM_THREADS_FLAGS) -mcpu=$(WASM_THREADS_CPU)+relaxed_simd $(CFLAGS_COMMON) \
	  -c $(ZIG_MUSL)/src/math/exp2f_data.c -o $@

WASM_THREADS_LINK = $(ZIG) cc -target wasm32-freestanding $(WASM_THREADS_LDFLAGS) -o $@ $(filter %.o,$^)

$(WASM_THREADS_LIB): $(patsubst wasm_ext/%.c,build/wasm-threads/%.o,$(WASM_THREADS_SRC)) \
    build/wasm-threads/musl/exp2f_data.o mk/wasm_threads.mk
	@mkdir -p $(LIBDIR)
	$(WASM_THREADS_LINK) -mcpu=$(WASM_THREADS_CPU)

$(WASM_THREADS_RELAXED_LIB): $(patsubst wasm_ext/%.c,build/wasm-threads-relaxed/%.o,$(WASM_THREADS_SRC)) \
    build/wasm-threads-relaxed/musl/exp2f_data.o mk/wasm_threads.mk
	@mkdir -p $(LIBDIR)
	$(WASM_THREADS_LINK) -mcpu=$(WASM_THREADS_CPU)+relaxed_simd

# part of `make build` and of the wheel (pyproject.toml's artifacts list them)
build: $(WASM_THREADS_LIBS)
$(WHEEL): $(WASM_THREADS_LIBS)
