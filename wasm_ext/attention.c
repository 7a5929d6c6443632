/* attention.c: tjs_attention, float32 scaled-dot-product attention in one call; Pyodide's side module runs it on
 * its one thread and the shared-memory module (mk/wasm_threads.mk) on its worker pool (the native library has it
 * but does not use it: its products there are gemm_x86.c's, with other bits). One call for what nn.functional.scaled_dot_product_attention's composite does in four to six
 * kernels (q @ k^T, * scale, the mask, softmax, @ v) and MultiheadAttention's split and head copies around them.
 *
 * For each (batch, head) and each query row i, exactly what the composite computes on one thread in the side
 * module, each step rounded to float32 as its tensors are:
 *   scores[j] = sum over c of q[i][c] * k[j][c], from zero in c's order with gemm.c's multiply-add (its blocked
 *     driver's bits, which sums an element's k in one block when K <= 256: ATT_MAX),
 *   scores[j] = scores[j] * (float)scale, then -inf above the diagonal (is_causal) or where a bool mask is false,
 *     or + a float mask,
 *   p = softmax(scores) (softmax_rows.h: tjs_softmax's bits),
 *   out[i][d] = sum over j of p[j] * v[j][d], from zero in j's order with the same multiply-add.
 * Backends/cpu/wasm_threads.py sends only shapes whose two products the composite runs through gemm.c's blocked
 * driver (see attention() there), so the bits are the composite's; a row depends on that row alone, so any cut and
 * any thread count give them too.
 *
 * q, k, v, the mask and out are strided (batch, head, row, column) views: the in-projection's output is read where it
 * sits, with no copy to split q, k and v or to put heads first, and out is written in the layout the out-projection
 * reads. k's and v's head is h / rep (grouped-query attention). Work: (batch, head) pairs, each cut into blocks of
 * rows when there are few pairs, taken by the workers from a shared counter; a worker packs its pair's k^T and v once
 * (zero-padded to whole vectors) into its scratch and keeps them while its next block is of the same pair, and
 * computes four query rows at a time (gemm.c's register tile: each k^T and v vector loaded once for four rows).
 *
 * Arguments: ABI.md (strides in elements; mask kind 0 none, 1 bool bytes, 2 float32 added). */
#include "tjs.h"
#include "threads.h"
#include "iter.h"
#include "softmax_rows.h"

#ifdef __wasm_relaxed_simd__
#define MADD4(a, b, c) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))   /* gemm.c's: the same bits */
#else
#define MADD4(a, b, c) ((c) + (a) * (b))
#endif

#define ATT_MAX 256           /* e, ev and s at most this (gemm.c's KC: one k block in the composite's products) */
#define ATT_PIECES_PER_THREAD 4

enum { MASK_NONE, MASK_BOOL, MASK_FLOAT };

typedef struct {
  int64_t heads, l, s, e, ev, rep, causal, mask_kind;
  float scale;
  float *out;
  const float *q, *k, *v;
  const char *mask;
  const int64_t *qs, *ks, *vs, *ms, *os;
  int64_t blocks, rows, units, next;
} attention_job;

#define ROWS 4                /* query rows computed together (gemm.c's 4x8 register tile: two vectors of columns) */

/* worker 0's scratch (the others' come from tjs_worker_scratch): k^T, v, ROWS rows of scores and of output */
static float scratch0[2 * ATT_MAX * ATT_MAX + 2 * ROWS * ATT_MAX] __attribute__((aligned(64)));

static inline int64_t round8(int64_t n) { return (n + 7) & ~(int64_t)7; }

/* c[r][0, n8) = sum over t < kn of a[r][t * as] * b[t * n8 + .] for the ROWS rows a[r] (c: rows of n8), each
 * element from zero in t's order (b: kn rows of n8 floats, n8 a multiple of 8, 16-byte aligned) */
static void rows_product(const float *const a[ROWS], int64_t as, const float *b, int64_t kn, int64_t n8, float *c) {
  for (int64_t j = 0; j < n8; j += 8) {
    f4 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    const float *bt = b + j;
    for (int64_t t = 0; t < kn; t++, bt += n8) {
      const f4 b0 = *(const f4 *)bt, b1 = *(const f4 *)(bt + 4);
      float x;
      x = a[0][t * as]; c00 = MADD4(((f4){x, x, x, x}), b0, c00); c01 = MADD4(((f4){x, x, x, x}), b1, c01);
      x = a[1][t * as]; c10 = MADD4(((f4){x, x, x, x}), b0, c10); c11 = MADD4(((f4){x, x, x, x}), b1, c11);
      x = a[2][t * as]; c20 = MADD4(((f4){x, x, x, x}), b0, c20); c21 = MADD4(((f4){x, x, x, x}), b1, c21);
      x = a[3][t * as]; c30 = MADD4(((f4){x, x, x, x}), b0, c30); c31 = MADD4(((f4){x, x, x, x}), b1, c31);
    }
    *(f4 *)(c + j) = c00; *(f4 *)(c + j + 4) = c01;
    *(f4 *)(c + n8 + j) = c10; *(f4 *)(c + n8 + j + 4) = c11;
    *(f4 *)(c + 2 * n8 + j) = c20; *(f4 *)(c + 2 * n8 + j + 4) = c21;
    *(f4 *)(c + 3 * n8 + j) = c30; *(f4 *)(c + 3 * n8 + j + 4) = c31;
  }
}

/* pair (b, h)'s k^T (e rows of s8) and v (s rows of ev8), zero-padded */
static void pack_pair(const attention_job *j, int64_t b, int64_t h, float *kt, float *vp) {
  const int64_t hk = h / j->rep, s8 = round8(j->s), ev8 = round8(j->ev);
  const float *k = j->k + b * j->ks[0] + hk * j->ks[1], *v = j->v + b * j->vs[0] + hk * j->vs[1];
  for (int64_t c = 0; c < j->e; c++) {
    float *dst = kt + c * s8;
    for (int64_t t = 0; t < j->s; t++) dst[t] = k[t * j->ks[2] + c * j->ks[3]];
    for (int64_t t = j->s; t < s8; t++) dst[t] = 0.0f;
  }
  for (int64_t t = 0; t < j->s; t++) {
    float *dst = vp + t * ev8;
    for (int64_t d = 0; d < j->ev; d++) dst[d] = v[t * j->vs[2] + d * j->vs[3]];
    for (int64_t d = j->ev; d < ev8; d++) dst[d] = 0.0f;
  }
}

/* query row i's scores (a row of s) scaled, masked and turned into weights */
static void weights_row(const attention_job *j, int64_t b, int64_t h, int64_t i, float *scores) {
  const int64_t s = j->s;
  const float neg_inf = -__builtin_inff();
  for (int64_t t = 0; t < s; t++) scores[t] = scores[t] * j->scale;
  if (j->causal)
    for (int64_t t = i + 1; t < s; t++) scores[t] = neg_inf;
  if (j->mask_kind != MASK_NONE) {
    const int64_t at = b * j->ms[0] + h * j->ms[1] + i * j->ms[2], mc = j->ms[3];
    if (j->mask_kind == MASK_BOOL) {
      const unsigned char *m = (const unsigned char *)j->mask + at;
      for (int64_t t = 0; t < s; t++) scores[t] = m[t * mc] ? scores[t] : neg_inf;
    } else {
      const float *m = (const float *)j->mask + at;
      for (int64_t t = 0; t < s; t++) scores[t] = scores[t] + m[t * mc];
    }
  }
  tjs_softmax_rows_f32(scores, scores, 1, s);
}

/* rows [i0, i1) of pair (b, h), its k^T and v packed, ROWS at a time (a last group short of ROWS repeats its last
 * row, whose copies are not stored) */
static void attention_rows(const attention_job *j, int64_t b, int64_t h, int64_t i0, int64_t i1, const float *kt,
                           const float *vp, float *scores, float *o) {
  const int64_t s8 = round8(j->s), ev8 = round8(j->ev);
  for (int64_t g = i0; g < i1; g += ROWS) {
    const int64_t rows = i1 - g < ROWS ? i1 - g : ROWS;
    const float *qr[ROWS], *pr[ROWS];
    for (int r = 0; r < ROWS; r++) {
      const int64_t i = g + (r < rows ? r : rows - 1);
      qr[r] = j->q + b * j->qs[0] + h * j->qs[1] + i * j->qs[2];
      pr[r] = scores + r * s8;
    }
    rows_product(qr, j->qs[3], kt, j->e, s8, scores);
    for (int r = 0; r < rows; r++) weights_row(j, b, h, g + r, scores + r * s8);
    rows_product(pr, 1, vp, j->s, ev8, o);
    for (int r = 0; r < rows; r++) {
      float *dst = j->out + b * j->os[0] + h * j->os[1] + (g + r) * j->os[2];
      for (int64_t d = 0; d < j->ev; d++) dst[d] = o[r * ev8 + d];
    }
  }
}

static void attention_worker(void *ctx, int worker) {
  attention_job *j = (attention_job *)ctx;
  const int64_t s8 = round8(j->s), ev8 = round8(j->ev);
  const size_t floats = (size_t)(j->e * s8 + j->s * ev8 + ROWS * (s8 + ev8));
  float *kt = worker ? (float *)tjs_worker_scratch(worker, floats * sizeof(float)) : scratch0;
  if (!kt) return;   /* no scratch for this worker: the others take its blocks */
  float *vp = kt + j->e * s8, *scores = vp + j->s * ev8, *o = scores + ROWS * s8;
  int64_t packed = -1;
  for (;;) {
    const int64_t u = tjs_fetch_add(&j->next, 1);
    if (u >= j->units) break;
    const int64_t pair = u / j->blocks, i0 = (u % j->blocks) * j->rows;
    const int64_t i1 = i0 + j->rows < j->l ? i0 + j->rows : j->l;
    if (pair != packed) {
      pack_pair(j, pair / j->heads, pair % j->heads, kt, vp);
      packed = pair;
    }
    attention_rows(j, pair / j->heads, pair % j->heads, i0, i1, kt, vp, scores, o);
  }
}

#define A tjs_args
TJS_EXPORT int tjs_attention(void) {
  attention_job j = {A[TJS_ATTENTION_HEADS], A[TJS_ATTENTION_L], A[TJS_ATTENTION_S], A[TJS_ATTENTION_E],
                     A[TJS_ATTENTION_EV], A[TJS_ATTENTION_REP], A[TJS_ATTENTION_CAUSAL], A[TJS_ATTENTION_MASK_KIND],
                     (float)tjs_arg_f64(TJS_ATTENTION_SCALE), (float *)TJS_PTR(A[TJS_ATTENTION_OUT]),
                     (const float *)TJS_PTR(A[TJS_ATTENTION_Q]), (const float *)TJS_PTR(A[TJS_ATTENTION_K]),
                     (const float *)TJS_PTR(A[TJS_ATTENTION_V]), (const char *)TJS_PTR(A[TJS_ATTENTION_MASK]),
                     tjs_args + TJS_ATTENTION_Q_STRIDES, tjs_args + TJS_ATTENTION_K_STRIDES,
                     tjs_args + TJS_ATTENTION_V_STRIDES, tjs_args + TJS_ATTENTION_MASK_STRIDES,
                     tjs_args + TJS_ATTENTION_OUT_STRIDES,
                     1, 0, 0, 0};
  const int64_t pairs = A[TJS_ATTENTION_BATCH] * j.heads;
  if (j.e > ATT_MAX || j.ev > ATT_MAX || j.s > ATT_MAX || j.rep < 1 || j.mask_kind < MASK_NONE
      || j.mask_kind > MASK_FLOAT)
    return TJS_ERR_ARG;
  if (pairs <= 0 || j.l <= 0 || j.s <= 0 || j.ev <= 0) return TJS_OK;
  /* blocks of rows only when the pairs are too few to keep every thread busy: the cut changes no bits */
  const int threads = tjs_threads_wanted();
  const int64_t want = (int64_t)threads * ATT_PIECES_PER_THREAD;
  int64_t blocks = pairs >= want ? 1 : (want + pairs - 1) / pairs;
  if (blocks > j.l) blocks = j.l;
  j.rows = (j.l + blocks - 1) / blocks;
  j.blocks = (j.l + j.rows - 1) / j.rows;
  j.units = pairs * j.blocks;
  tjs_parallel(j.units < threads ? (int)j.units : threads, attention_worker, &j);
  return TJS_OK;
}
