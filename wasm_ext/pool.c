/* Pooling over contiguous planes of up to three spatial dims (N·C planes of D×H×W; 2-D pooling passes D = 1,
 * KD = 1, 1-D also H = 1, KH = 1), PyTorch CPU semantics.
 *
 *   tjs_pool:          max or average, fixed windows (kernel, stride, padding, dilation) or adaptive windows
 *                      [floor(o·I/O), ceil((o+1)·I/O)). Max writes the flat index (id·H + ih)·W + iw of each
 *                      maximum (NaN wins, the last NaN of a window; ties keep the first); avg sums in the element
 *                      type in row-major order, then divides once (adaptive: sum / kd / kh / kw, as ATen).
 *   tjs_pool_backward: the adjoint into a zeroed contiguous grad_input: max adds each gradient at its saved
 *                      index, avg adds gradient / divisor over the window.
 * Output sizes (ceil_mode) are computed in Python. f32 and f64 (forward also i64); Python upcasts halves.
 *
 * Arguments (both kernels): mode (0 max, 1 avg), adaptive, dtype, planes, D, H, W, OD, OH, OW, KD, KH, KW, SD, SH,
 * SW, PD, PH, PW, DD, DH, DW, count_include_pad, divisor_override (0: none), a, b, idx — forward: a = in,
 * b = out, idx (int64, 0 for none); backward: a = grad_in, b = grad_out, idx.
 */
#include "tjs.h"
#include "iter.h"

typedef ptrdiff_t idx_t;

/* one spatial dim: input size I, output size O, kernel, stride, padding, dilation */
typedef struct { idx_t I, O, K, S, P, Dl; } pool_dim;

typedef struct {
  int mode, adaptive;
  idx_t planes, cip, dov;
  pool_dim d[3];   /* depth, height, width */
} pool_p;

/* one dim of the window of output o: taps [lo, hi) (step: the dilation for max pooling, else 1), and for
 * average pooling the window's extent within the padded input (ATen's pool_size factor) */
static inline void window1(const pool_p* p, const pool_dim* d, idx_t o, idx_t* lo, idx_t* hi, idx_t* padded) {
  *padded = 0;
  if (p->adaptive) {
    *lo = (o * d->I) / d->O;
    *hi = ((o + 1) * d->I + d->O - 1) / d->O;
    return;
  }
  idx_t a = o * d->S - d->P;
  if (p->mode == 0) {
    idx_t a1 = a + (d->K - 1) * d->Dl + 1;
    if (a1 > d->I) a1 = d->I;
    if (a < 0) a += (-a + d->Dl - 1) / d->Dl * d->Dl;   /* the first tap at or past 0 (no loop: O(1)) */
    *lo = a; *hi = a1;
    return;
  }
  idx_t a1 = a + d->K;
  if (a1 > d->I + d->P) a1 = d->I + d->P;
  *padded = a1 - a;
  if (a < 0) a = 0;
  if (a1 > d->I) a1 = d->I;
  *lo = a; *hi = a1;
}

/* the window of output (od, oh, ow): lo/hi per dim and the avg divisor (0 for adaptive and max windows) */
static inline void window(const pool_p* p, const idx_t* o, idx_t* lo, idx_t* hi, idx_t* div) {
  idx_t padded = 1, inside = 1;
  for (int k = 0; k < 3; k++) {
    idx_t pk;
    window1(p, &p->d[k], o[k], &lo[k], &hi[k], &pk);
    padded *= pk;
    inside *= hi[k] > lo[k] ? hi[k] - lo[k] : 0;
  }
  *div = (p->adaptive || p->mode == 0) ? 0 : p->dov ? p->dov : (p->cip ? padded : inside);
}

#define FOR_EACH_OUTPUT(...)                                                                              \
  for (idx_t pl = 0; pl < p.planes; pl++)                                                                 \
    for (idx_t od = 0; od < p.d[0].O; od++)                                                               \
      for (idx_t oh = 0; oh < p.d[1].O; oh++)                                                             \
        for (idx_t ow = 0; ow < p.d[2].O; ow++) {                                                         \
          const idx_t oi[3] = {od, oh, ow};                                                               \
          idx_t lo[3], hi[3], div;                                                                        \
          window(&p, oi, lo, hi, &div);                                                                   \
          const idx_t o = pl * out_sz + (od * p.d[1].O + oh) * p.d[2].O + ow;                             \
          const idx_t base = pl * in_sz;                                                                  \
          __VA_ARGS__                                                                                     \
        }

/* Max pooling, fixed windows: per output row (plane, od, oh), the outputs whose window lies inside the row in w
 * ([owa, owb)) walk the window's taps in the scalar path's order (id, ih, iw row-major) as the outer loop and the
 * outputs as the inner one: a branch-free, vectorisable select per tap, where the per-output loop's branch on
 * random data mispredicted (ONet's 3×3/2 pools: about 5× faster natively). Same values and indices: the first
 * tap seeds each output (as LOWEST then the first tap would), later ones take over when greater or NaN. */
#define MAX_ROW(T_, U_) do {                                                                              \
    const idx_t S = p.d[2].S, Kw = p.d[2].K, Dw = p.d[2].Dl, off = -p.d[2].P;                            \
    T_* yr = y + pl * out_sz + (od * p.d[1].O + oh) * p.d[2].O;                                           \
    int64_t* ir = idx ? idx + pl * out_sz + (od * p.d[1].O + oh) * p.d[2].O : 0;                          \
    const T_* xb = x + pl * in_sz;                                                                        \
    int first = 1;                                                                                        \
    for (idx_t id = lo[0]; id < hi[0]; id += sd)                                                          \
      for (idx_t ih = lo[1]; ih < hi[1]; ih += sh)                                                        \
        for (idx_t kw = 0; kw < Kw; kw++) {                                                               \
          const idx_t k0 = (id * H + ih) * W + off + kw * Dw;   /* the tap's index at ow = 0 */            \
          const T_* xr = xb + k0;                                                                         \
          if (first) {                                                                                    \
            for (idx_t ow = owa; ow < owb; ow++) yr[ow] = xr[ow * S];                                     \
            if (ir) for (idx_t ow = owa; ow < owb; ow++) ir[ow] = k0 + ow * S;                            \
            first = 0;                                                                                    \
            continue;                                                                                     \
          }                                                                                               \
          /* strides 1 and 2 spelled out: constant-stride loads vectorise as shuffles */                   \
          if (S == 2) MAX_TAP(T_, U_, 2);                                                                 \
          else if (S == 1) MAX_TAP(T_, U_, 1);                                                            \
          else MAX_TAP(T_, U_, S);                                                                        \
        }                                                                                                 \
  } while (0)

/* one later tap of MAX_ROW over its outputs, input stride S_: selects by bit masks (a ?: compiled to branches) */
#define MAX_TAP(T_, U_, S_) do {                                                                          \
  for (idx_t ow = owa; ow < owb; ow++) {                                                                  \
    const T_ v = xr[ow * (S_)], m = yr[ow];                                                               \
    const U_ take = (U_)0 - (U_)((v > m) | (v != v));                                                     \
    U_ vb, mb;                                                                                            \
    __builtin_memcpy(&vb, &v, sizeof vb);                                                                 \
    __builtin_memcpy(&mb, &m, sizeof mb);                                                                 \
    vb = (vb & take) | (mb & ~take);                                                                      \
    __builtin_memcpy(&yr[ow], &vb, sizeof vb);                                                            \
    if (ir) ir[ow] = ((k0 + ow * (S_)) & (int64_t)take) | (ir[ow] & ~(int64_t)take);                      \
  } } while (0)

#define POOL_FWD(T_, U_, LOWEST) do {                                                                         \
    const T_* x = (const T_*)pa; T_* y = (T_*)pb;                                                         \
    const int dil = p.mode == 0 && !p.adaptive;                                                           \
    const idx_t sd = dil ? p.d[0].Dl : 1, sh = dil ? p.d[1].Dl : 1, sw = dil ? p.d[2].Dl : 1;             \
    /* the outputs of each row whose window is whole in w (the rest, and rows with no taps in d or h, below) */ \
    idx_t owa = 0, owb = 0;                                                                               \
    if (p.mode == 0 && !p.adaptive) {                                                                     \
      const pool_dim* dw = &p.d[2];                                                                       \
      const idx_t last = W - 1 - (dw->K - 1) * dw->Dl + dw->P;   /* window start + P must be <= this */   \
      owa = (dw->P + dw->S - 1) / dw->S;                                                                  \
      owb = last >= 0 ? last / dw->S + 1 : 0;                                                             \
      if (owb > dw->O) owb = dw->O;                                                                       \
      if (owb < owa) owb = owa;                                                                           \
    }                                                                                                     \
    FOR_EACH_OUTPUT(                                                                                      \
      if (owb > owa && ow == 0 && lo[0] < hi[0] && lo[1] < hi[1]) MAX_ROW(T_, U_);                            \
      if (ow >= owa && ow < owb && lo[0] < hi[0] && lo[1] < hi[1]) { ow = owb - 1; continue; }            \
      if (p.mode == 0) {                                                                                  \
        idx_t mi = (lo[0] * H + lo[1]) * W + lo[2];                                                       \
        T_ mv = LOWEST;                                                                                   \
        for (idx_t id = lo[0]; id < hi[0]; id += sd)                                                      \
          for (idx_t ih = lo[1]; ih < hi[1]; ih += sh)                                                    \
            for (idx_t iw = lo[2]; iw < hi[2]; iw += sw) {                                                \
              const idx_t k = (id * H + ih) * W + iw;                                                     \
              const T_ v = x[base + k];                                                                   \
              if (v > mv || v != v) { mv = v; mi = k; }                                                   \
            }                                                                                             \
        y[o] = mv;                                                                                        \
        if (idx) idx[o] = mi;                                                                             \
      } else {                                                                                            \
        if (lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2]) { y[o] = 0; continue; }                   \
        T_ s = 0;                                                                                         \
        for (idx_t id = lo[0]; id < hi[0]; id++)                                                          \
          for (idx_t ih = lo[1]; ih < hi[1]; ih++)                                                        \
            for (idx_t iw = lo[2]; iw < hi[2]; iw++) s = TJS_WRAP_ADD(s, x[base + (id * H + ih) * W + iw]); \
        if (p.adaptive) y[o] = s / (T_)(hi[0] - lo[0]) / (T_)(hi[1] - lo[1]) / (T_)(hi[2] - lo[2]);       \
        else y[o] = s / (T_)div;                                                                          \
      }                                                                                                   \
    )                                                                                                     \
  } while (0)

#define POOL_BWD(T_) do {                                                                                 \
    T_* gi = (T_*)pa; const T_* go = (const T_*)pb;                                                       \
    const idx_t total = p.planes * in_sz;                                                                 \
    for (idx_t i = 0; i < total; i++) gi[i] = 0;                                                          \
    if (p.mode == 0) {                                                                                    \
      for (idx_t pl = 0; pl < p.planes; pl++)                                                             \
        for (idx_t o = pl * out_sz; o < (pl + 1) * out_sz; o++) gi[pl * in_sz + idx[o]] += go[o];         \
      break;                                                                                              \
    }                                                                                                     \
    FOR_EACH_OUTPUT(                                                                                      \
      if (lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2]) continue;                                   \
      const T_ g = go[o];                                                                                 \
      const T_ d = p.adaptive ? g / (T_)(hi[0] - lo[0]) / (T_)(hi[1] - lo[1]) / (T_)(hi[2] - lo[2])       \
                              : g / (T_)div;                                                              \
      for (idx_t id = lo[0]; id < hi[0]; id++)                                                            \
        for (idx_t ih = lo[1]; ih < hi[1]; ih++)                                                          \
          for (idx_t iw = lo[2]; iw < hi[2]; iw++) gi[base + (id * H + ih) * W + iw] += d;                \
    )                                                                                                     \
  } while (0)

static int read_args(const int64_t* A, pool_p* p, int* dt, char** pa, char** pb, int64_t** idx) {
  /* pool_backward has pool's layout (grad_in, grad_out in place of in, out): one reader for both */
  p->mode = (int)A[TJS_POOL_MODE]; p->adaptive = (int)A[TJS_POOL_ADAPTIVE]; *dt = (int)A[TJS_POOL_DTYPE];
  p->planes = (idx_t)A[TJS_POOL_PLANES];
  const idx_t I[3] = {A[TJS_POOL_D], A[TJS_POOL_H], A[TJS_POOL_W]};
  const idx_t O[3] = {A[TJS_POOL_OD], A[TJS_POOL_OH], A[TJS_POOL_OW]};
  const idx_t K[3] = {A[TJS_POOL_KD], A[TJS_POOL_KH], A[TJS_POOL_KW]};
  const idx_t S[3] = {A[TJS_POOL_SD], A[TJS_POOL_SH], A[TJS_POOL_SW]};
  const idx_t P[3] = {A[TJS_POOL_PD], A[TJS_POOL_PH], A[TJS_POOL_PW]};
  const idx_t Dl[3] = {A[TJS_POOL_DD], A[TJS_POOL_DH], A[TJS_POOL_DW]};
  for (int k = 0; k < 3; k++) {
    p->d[k] = (pool_dim){I[k], O[k], K[k], S[k], P[k], Dl[k]};
    if (!p->adaptive && (Dl[k] <= 0 || S[k] <= 0)) return TJS_ERR_ARG;
    if (p->adaptive && O[k] <= 0) return TJS_ERR_ARG;
  }
  p->cip = (idx_t)A[TJS_POOL_COUNT_INCLUDE_PAD]; p->dov = (idx_t)A[TJS_POOL_DIVISOR_OVERRIDE];
  *pa = (char*)TJS_PTR(A[TJS_POOL_IN]); *pb = (char*)TJS_PTR(A[TJS_POOL_OUT]);
  *idx = (int64_t*)TJS_PTR(A[TJS_POOL_IDX]);
  if (p->mode < 0 || p->mode > 1) return TJS_ERR_OP;
  return TJS_OK;
}

/* pooling over planes [p0, p1) of a call (p: its arguments): each plane is pooled on its own, so any cut into
 * plane ranges gives the whole call's bits */
static int pool_run(pool_p p, int dt, char* pa, char* pb, int64_t* idx, int64_t p0, int64_t p1) {
  const idx_t H = p.d[1].I, W = p.d[2].I;
  const idx_t in_sz = p.d[0].I * H * W, out_sz = p.d[0].O * p.d[1].O * p.d[2].O;
  const idx_t es = dt == TJS_F32 ? 4 : 8;
  if (p0 < 0 || p1 > p.planes || p0 > p1) return TJS_ERR_ARG;
  p.planes = (idx_t)(p1 - p0);
  pa += (idx_t)p0 * in_sz * es;
  pb += (idx_t)p0 * out_sz * es;
  if (idx) idx += (idx_t)p0 * out_sz;
  if (dt == TJS_F32) POOL_FWD(float, uint32_t, -(float)__builtin_inf());
  else if (dt == TJS_F64) POOL_FWD(double, uint64_t, -__builtin_inf());
  else if (dt == TJS_I64) POOL_FWD(int64_t, uint64_t, INT64_MIN);   /* integer avg divides (truncating), as ATen */
  else return TJS_ERR_DTYPE;
  return TJS_OK;
}

/* tjs_pool over planes [p0, p1) of the call whose arguments A holds (pool's layout): the shared-memory module's
 * tjs_pool_planes (wasm_ext/pool/pool_planes.c) shares the planes out over its workers through this */
int tjs_pool_range(const int64_t* A, int64_t p0, int64_t p1) {
  pool_p p; int dt; char *pa, *pb; int64_t* idx;
  int rc = read_args(A, &p, &dt, &pa, &pb, &idx);
  return rc ? rc : pool_run(p, dt, pa, pb, idx, p0, p1);
}

TJS_EXPORT int tjs_pool(void) {
  pool_p p; int dt; char *pa, *pb; int64_t* idx;
  int rc = read_args(tjs_args, &p, &dt, &pa, &pb, &idx);
  return rc ? rc : pool_run(p, dt, pa, pb, idx, 0, p.planes);
}

TJS_EXPORT int tjs_pool_backward(void) {
  pool_p p; int dt; char *pa, *pb; int64_t* idx;
  int rc = read_args(tjs_args, &p, &dt, &pa, &pb, &idx);
  if (rc) return rc;
  if (p.mode == 0 && !idx) return TJS_ERR_ARG;
  const idx_t H = p.d[1].I, W = p.d[2].I;
  const idx_t in_sz = p.d[0].I * H * W, out_sz = p.d[0].O * p.d[1].O * p.d[2].O;
  if (dt == TJS_F32) POOL_BWD(float);
  else if (dt == TJS_F64) POOL_BWD(double);
  else return TJS_ERR_DTYPE;
  return TJS_OK;
}
