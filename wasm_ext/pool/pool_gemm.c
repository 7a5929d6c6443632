/* pool_gemm.c: the shared-memory module's matrix product (mk/wasm_threads.mk; only that module builds this file),
 * backends/cpu/wasm_threads.py's products: tjs_addmm's argument layout (kernel_abi "addmm": gemm's slots and the
 * bias; its tiles shared out over the worker pool by threads.c) and one slot after it.
 * The bias (TJS_ADDMM_BIAS: 0, or a float32 bias of N elements) is added to every row of the float32 product by
 * the tile that computes it (add_bias_f32: `mm` then `add_(bias)`'s bits at any thread count), while its elements are
 * in that worker's cache, instead of a second pooled call over the whole output (a wake of the workers and a wait for
 * them: 24 more calls a MiniLM forward). TJS_POOL_GEMM_BPACK: 0, or where B is kept packed between calls (a 64-byte
 * header, then 4·K·round_up(N, 8) bytes: see gemm.c's blocked_f32_pre), packed by this call if its header says it
 * is not. */
#include "../tjs.h"

#define TJS_POOL_GEMM_BPACK (TJS_ADDMM_BIAS + 1)

int tjs_addmm_with(char *bpack);   /* gemm.c: tjs_addmm's product, B kept packed at bpack */

TJS_EXPORT int tjs_pool_gemm(void) { return tjs_addmm_with((char *)(uintptr_t)tjs_args[TJS_POOL_GEMM_BPACK]); }
