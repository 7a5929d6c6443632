/* Dense factorizations for torch.linalg: tjs_lu, tjs_lu_solve, tjs_cholesky, tjs_geqrf, tjs_orgqr, tjs_trsm,
 * tjs_svd (ABI.md, "Linear algebra").
 *
 * Batched over contiguous row-major n×n (or m×n) matrices, float32 and float64; inner products accumulate in
 * double. The algorithms are LAPACK's unblocked reference routines (dgetf2, dpotf2, dgeqr2 + dlarfg, dorg2r),
 * so pivot choices, Householder signs (R's diagonal may be negative) and error positions match what PyTorch
 * gets from LAPACK on CPU; rounding differs from the blocked routines only in the last bits.
 * Singularity / non-positive-definiteness is reported per batch element in an int64 `info` array (LAPACK's
 * 1-based convention, 0 = success), never as a failing return code: Python decides what to raise.
 * The SVD is one-sided Jacobi (Hestenes) on the columns: singular values to full relative accuracy.
 */
#include "tjs.h"

#define A tjs_args

static inline double dabs(double x) { return x < 0 ? -x : x; }

#define DEFINE_LINALG(T, S)                                                                                   \
  /* LU with partial pivoting (dgetf2) of an m×n matrix: a <- L\U (unit L below the diagonal), piv 1-based. */ \
  static void lu_##S(T* a, int64_t m, int64_t n, int64_t* piv, int64_t* info) {                              \
    int64_t k = m < n ? m : n;                                                                                \
    *info = 0;                                                                                                \
    for (int64_t j = 0; j < k; j++) {                                                                         \
      int64_t p = j;                                                                                          \
      double best = dabs((double)a[j * n + j]);                                                               \
      for (int64_t i = j + 1; i < m; i++) {                                                                   \
        double v = dabs((double)a[i * n + j]);                                                                \
        if (v > best) { best = v; p = i; }                                                                    \
      }                                                                                                       \
      piv[j] = p + 1;                                                                                         \
      if (a[p * n + j] != 0) {                                                                                \
        if (p != j)                                                                                           \
          for (int64_t c = 0; c < n; c++) { T t = a[j * n + c]; a[j * n + c] = a[p * n + c]; a[p * n + c] = t; } \
        T d = a[j * n + j];                                                                                   \
        for (int64_t i = j + 1; i < m; i++) a[i * n + j] /= d;                                                \
      } else if (*info == 0) {                                                                                \
        *info = j + 1;                                                                                        \
      }                                                                                                       \
      for (int64_t i = j + 1; i < m; i++) {                                                                   \
        T l = a[i * n + j];                                                                                   \
        if (l == 0) continue;                                                                                 \
        T* ri = a + i * n; const T* rj = a + j * n;                                                           \
        for (int64_t c = j + 1; c < n; c++) ri[c] -= l * rj[c];                                               \
      }                                                                                                       \
    }                                                                                                         \
  }                                                                                                           \
  /* b (n×k) <- A^{-1} b from the LU factors (dgetrs, no transpose). */                                      \
  static void lu_solve_##S(const T* lu, const int64_t* piv, T* b, int64_t n, int64_t k) {                    \
    for (int64_t i = 0; i < n; i++) {                                                                         \
      int64_t p = piv[i] - 1;                                                                                 \
      if (p != i)                                                                                             \
        for (int64_t c = 0; c < k; c++) { T t = b[i * k + c]; b[i * k + c] = b[p * k + c]; b[p * k + c] = t; } \
    }                                                                                                         \
    for (int64_t c = 0; c < k; c++) {                                                                         \
      for (int64_t i = 0; i < n; i++) {                                                                       \
        double s = b[i * k + c];                                                                              \
        for (int64_t j = 0; j < i; j++) s -= (double)lu[i * n + j] * b[j * k + c];                           \
        b[i * k + c] = (T)s;                                                                                  \
      }                                                                                                       \
      for (int64_t i = n - 1; i >= 0; i--) {                                                                  \
        double s = b[i * k + c];                                                                              \
        for (int64_t j = i + 1; j < n; j++) s -= (double)lu[i * n + j] * b[j * k + c];                        \
        b[i * k + c] = (T)(s / lu[i * n + i]);                                                                \
      }                                                                                                       \
    }                                                                                                         \
  }                                                                                                           \
  /* Cholesky (dpotf2, lower): reads the lower triangle, writes L there and zeros above. */                  \
  static void cholesky_##S(T* a, int64_t n, int64_t* info) {                                                 \
    *info = 0;                                                                                                \
    for (int64_t j = 0; j < n; j++) {                                                                         \
      double d = a[j * n + j];                                                                                \
      for (int64_t c = 0; c < j; c++) d -= (double)a[j * n + c] * a[j * n + c];                               \
      if (!(d > 0)) { a[j * n + j] = (T)d; *info = j + 1; break; }                                            \
      d = sqrt(d);                                                                                            \
      a[j * n + j] = (T)d;                                                                                    \
      for (int64_t i = j + 1; i < n; i++) {                                                                   \
        double s = a[i * n + j];                                                                              \
        for (int64_t c = 0; c < j; c++) s -= (double)a[i * n + c] * a[j * n + c];                             \
        a[i * n + j] = (T)(s / d);                                                                            \
      }                                                                                                       \
    }                                                                                                         \
    for (int64_t i = 0; i < n; i++)                                                                           \
      for (int64_t c = i + 1; c < n; c++) a[i * n + c] = 0;                                                   \
  }                                                                                                           \
  /* Householder QR (dgeqr2 + dlarfg): R on and above the diagonal, reflectors below, tau. */                \
  static void geqrf_##S(T* a, int64_t m, int64_t n, T* tau) {                                                \
    int64_t k = m < n ? m : n;                                                                                \
    for (int64_t i = 0; i < k; i++) {                                                                         \
      double alpha = a[i * n + i], xn = 0;                                                                    \
      for (int64_t r = i + 1; r < m; r++) xn += (double)a[r * n + i] * a[r * n + i];                          \
      xn = sqrt(xn);                                                                                          \
      double t = 0;                                                                                           \
      if (xn != 0) {                                                                                          \
        double beta = sqrt(alpha * alpha + xn * xn);                                                          \
        if (alpha >= 0) beta = -beta;                                                                         \
        t = (beta - alpha) / beta;                                                                            \
        double sc = 1.0 / (alpha - beta);                                                                     \
        for (int64_t r = i + 1; r < m; r++) a[r * n + i] = (T)(a[r * n + i] * sc);                            \
        alpha = beta;                                                                                         \
      }                                                                                                       \
      tau[i] = (T)t;                                                                                          \
      a[i * n + i] = (T)alpha;                                                                                \
      if (t != 0) {                                                                                           \
        for (int64_t c = i + 1; c < n; c++) {                                                                 \
          double w = a[i * n + c];                                                                            \
          for (int64_t r = i + 1; r < m; r++) w += (double)a[r * n + i] * a[r * n + c];                       \
          w *= t;                                                                                             \
          a[i * n + c] = (T)(a[i * n + c] - w);                                                               \
          for (int64_t r = i + 1; r < m; r++) a[r * n + c] = (T)(a[r * n + c] - w * a[r * n + i]);            \
        }                                                                                                     \
      }                                                                                                       \
    }                                                                                                         \
  }                                                                                                           \
  /* Q's first nc columns from k reflectors (dorg2r); a is m×nc, nc <= m. */                                  \
  static void orgqr_##S(T* a, int64_t m, int64_t nc, int64_t k, const T* tau) {                              \
    for (int64_t j = k; j < nc; j++) {                                                                        \
      for (int64_t r = 0; r < m; r++) a[r * nc + j] = 0;                                                      \
      a[j * nc + j] = 1;                                                                                      \
    }                                                                                                         \
    for (int64_t i = k - 1; i >= 0; i--) {                                                                    \
      double t = tau[i];                                                                                      \
      if (i < nc - 1) {                                                                                       \
        a[i * nc + i] = 1;                                                                                    \
        if (t != 0) {                                                                                         \
          for (int64_t c = i + 1; c < nc; c++) {                                                              \
            double w = 0;                                                                                     \
            for (int64_t r = i; r < m; r++) w += (double)a[r * nc + i] * a[r * nc + c];                       \
            w *= t;                                                                                           \
            for (int64_t r = i; r < m; r++) a[r * nc + c] = (T)(a[r * nc + c] - w * a[r * nc + i]);           \
          }                                                                                                   \
        }                                                                                                     \
      }                                                                                                       \
      for (int64_t r = i + 1; r < m; r++) a[r * nc + i] = (T)(-t * a[r * nc + i]);                            \
      a[i * nc + i] = (T)(1 - t);                                                                             \
      for (int64_t r = 0; r < i; r++) a[r * nc + i] = 0;                                                      \
    }                                                                                                         \
  }                                                                                                           \
  /* b (n×k, contiguous) <- op(A)^{-1} b for triangular A given by strides. */                               \
  static void trsm_##S(const T* a, int64_t rs, int64_t cs, T* b, int64_t n, int64_t k, int upper, int unit) { \
    for (int64_t c = 0; c < k; c++) {                                                                         \
      if (upper) {                                                                                            \
        for (int64_t i = n - 1; i >= 0; i--) {                                                                \
          double s = b[i * k + c];                                                                            \
          for (int64_t j = i + 1; j < n; j++) s -= (double)a[i * rs + j * cs] * b[j * k + c];                 \
          b[i * k + c] = (T)(unit ? s : s / a[i * rs + i * cs]);                                              \
        }                                                                                                     \
      } else {                                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                                     \
          double s = b[i * k + c];                                                                            \
          for (int64_t j = 0; j < i; j++) s -= (double)a[i * rs + j * cs] * b[j * k + c];                     \
          b[i * k + c] = (T)(unit ? s : s / a[i * rs + i * cs]);                                              \
        }                                                                                                     \
      }                                                                                                       \
    }                                                                                                         \
  }                                                                                                           \
  /* svd_in/out: a (row-major m×n, T) to/from the column-major double scratch w the Jacobi sweeps work on. */ \
  static void svd_in_##S(const T* a, int64_t m, int64_t n, double* w, double* v) {                           \
    for (int64_t r = 0; r < m; r++)                                                                           \
      for (int64_t c = 0; c < n; c++) w[c * m + r] = a[r * n + c];                                            \
    for (int64_t i = 0; i < n * n; i++) v[i] = 0;                                                             \
    for (int64_t i = 0; i < n; i++) v[i * n + i] = 1;                                                         \
  }                                                                                                           \
  static void svd_out_##S(T* a, T* vo, T* so, int64_t m, int64_t n, const double* w, const double* v) {      \
    for (int64_t c = 0; c < n; c++) {                                                                         \
      double nn = 0;                                                                                          \
      for (int64_t r = 0; r < m; r++) nn += w[c * m + r] * w[c * m + r];                                     \
      so[c] = (T)sqrt(nn);                                                                                    \
    }                                                                                                         \
    for (int64_t r = 0; r < m; r++)                                                                           \
      for (int64_t c = 0; c < n; c++) a[r * n + c] = (T)w[c * m + r];                                         \
    for (int64_t r = 0; r < n; r++)                                                                           \
      for (int64_t c = 0; c < n; c++) vo[r * n + c] = (T)v[c * n + r];                                        \
  }

DEFINE_LINALG(float, f32)
DEFINE_LINALG(double, f64)

#define SVD_MAX_SWEEPS 60
#define EIGH_MAX_SWEEPS 100

/* Rows p0 ≤ p < p1 of one sweep of one-sided Jacobi (Hestenes) over the columns of w (m×n) and v (n×n), both
 * column-major so that every inner loop runs over contiguous memory; returns whether any pair was rotated. On convergence w's columns
 * are U·S (unnormalised) and v's columns V. */
static int svd_sweep(double* w, double* v, int64_t m, int64_t n, int64_t p0, int64_t p1) {
  int rotated = 0;
  for (int64_t p = p0; p < p1 && p < n - 1; p++)
    for (int64_t q = p + 1; q < n; q++) {
      double* wp = w + p * m; double* wq = w + q * m;
      double al = 0, be = 0, ga = 0;
      for (int64_t r = 0; r < m; r++) {
        double x = wp[r], y = wq[r];
        al += x * x; be += y * y; ga += x * y;
      }
      if (ga == 0 || dabs(ga) <= 1e-300 || dabs(ga) <= 2.3e-16 * sqrt(al * be)) continue;
      rotated = 1;
      double zeta = (be - al) / (2 * ga);
      double t = (zeta >= 0 ? 1.0 : -1.0) / (dabs(zeta) + sqrt(1 + zeta * zeta));
      double c = 1 / sqrt(1 + t * t), sn = c * t;
      for (int64_t r = 0; r < m; r++) {
        double x = wp[r], y = wq[r];
        wp[r] = c * x - sn * y; wq[r] = sn * x + c * y;
      }
      double* vp = v + p * n; double* vq = v + q * n;
      for (int64_t r = 0; r < n; r++) {
        double x = vp[r], y = vq[r];
        vp[r] = c * x - sn * y; vq[r] = sn * x + c * y;
      }
    }
  return rotated;
}

/* Rows p0 ≤ p < p1 of one sweep of cyclic Jacobi on the symmetric a (n×n, row-major, double), accumulating the
 * rotations into v (column-major: v[p·n + k] is the k-th entry of eigenvector p); a sweep starts only while
 * eigh_converged is false.
 * Rows p and q are rotated where they are contiguous and mirrored into columns p and q (a stays exactly
 * symmetric: each off-diagonal pair is computed from equal operands); the 2×2 block goes as column-then-row. */
static int eigh_converged(const double* a, int64_t n) {
  double off = 0, tot = 0;
  for (int64_t p = 0; p < n; p++)
    for (int64_t q = 0; q < n; q++) { double x = a[p * n + q] * a[p * n + q]; tot += x; if (p != q) off += x; }
  return off <= 1e-30 * tot || off == 0;
}

static void eigh_sweep(double* a, double* v, int64_t n, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1 && p < n - 1; p++)
    for (int64_t q = p + 1; q < n; q++) {
      double apq = a[p * n + q];
      if (apq == 0) continue;
      double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
      double t = (theta >= 0 ? 1.0 : -1.0) / (dabs(theta) + sqrt(theta * theta + 1));
      double c = 1 / sqrt(t * t + 1), s = t * c;
      double app = a[p * n + p], aqq = a[q * n + q], aqp = a[q * n + p];
      /* the 2×2 block: columns p, q first, then rows p, q */
      double cpp = c * app - s * apq, cpq = s * app + c * apq, cqp = c * aqp - s * aqq, cqq = s * aqp + c * aqq;
      double* rp = a + p * n; double* rq = a + q * n;
      for (int64_t k = 0; k < n; k++) {
        if (k == p || k == q) continue;
        double x = rp[k], y = rq[k];
        double nx = c * x - s * y, ny = s * x + c * y;
        rp[k] = nx; rq[k] = ny;
        a[k * n + p] = nx; a[k * n + q] = ny;
      }
      rp[p] = c * cpp - s * cqp; rq[p] = s * cpp + c * cqp;
      rp[q] = c * cpq - s * cqq; rq[q] = s * cpq + c * cqq;
      double* vp = v + p * n; double* vq = v + q * n;
      for (int64_t k = 0; k < n; k++) {
        double x = vp[k], y = vq[k];
        vp[k] = c * x - s * y; vq[k] = s * x + c * y;
      }
    }
}

#define DISPATCH(dtype, F32CALL, F64CALL)                                                                     \
  do {                                                                                                        \
    if ((dtype) == TJS_F32) { F32CALL; } else if ((dtype) == TJS_F64) { F64CALL; } else return TJS_ERR_DTYPE; \
  } while (0)

TJS_EXPORT int tjs_lu(void) {
  int dt = (int)A[TJS_LU_DTYPE]; int64_t batch = A[TJS_LU_BATCH], m = A[TJS_LU_M], n = A[TJS_LU_N];
  char* a = (char*)(intptr_t)A[TJS_LU_A];
  int64_t* piv = (int64_t*)(intptr_t)A[TJS_LU_PIV];
  int64_t* info = (int64_t*)(intptr_t)A[TJS_LU_INFO];
  int64_t k = m < n ? m : n;
  for (int64_t b = 0; b < batch; b++)
    DISPATCH(dt, lu_f32((float*)a + b * m * n, m, n, piv + b * k, info + b),
             lu_f64((double*)a + b * m * n, m, n, piv + b * k, info + b));
  return TJS_OK;
}

TJS_EXPORT int tjs_lu_solve(void) {
  int dt = (int)A[TJS_LU_SOLVE_DTYPE];
  int64_t batch = A[TJS_LU_SOLVE_BATCH], n = A[TJS_LU_SOLVE_N], k = A[TJS_LU_SOLVE_K];
  char* lu = (char*)(intptr_t)A[TJS_LU_SOLVE_LU];
  int64_t* piv = (int64_t*)(intptr_t)A[TJS_LU_SOLVE_PIV];
  char* b = (char*)(intptr_t)A[TJS_LU_SOLVE_B];
  for (int64_t i = 0; i < batch; i++)
    DISPATCH(dt, lu_solve_f32((float*)lu + i * n * n, piv + i * n, (float*)b + i * n * k, n, k),
             lu_solve_f64((double*)lu + i * n * n, piv + i * n, (double*)b + i * n * k, n, k));
  return TJS_OK;
}

TJS_EXPORT int tjs_cholesky(void) {
  int dt = (int)A[TJS_CHOLESKY_DTYPE]; int64_t batch = A[TJS_CHOLESKY_BATCH], n = A[TJS_CHOLESKY_N];
  char* a = (char*)(intptr_t)A[TJS_CHOLESKY_A]; int64_t* info = (int64_t*)(intptr_t)A[TJS_CHOLESKY_INFO];
  for (int64_t b = 0; b < batch; b++)
    DISPATCH(dt, cholesky_f32((float*)a + b * n * n, n, info + b), cholesky_f64((double*)a + b * n * n, n, info + b));
  return TJS_OK;
}

TJS_EXPORT int tjs_geqrf(void) {
  int dt = (int)A[TJS_GEQRF_DTYPE]; int64_t batch = A[TJS_GEQRF_BATCH], m = A[TJS_GEQRF_M], n = A[TJS_GEQRF_N];
  char* a = (char*)(intptr_t)A[TJS_GEQRF_A]; char* tau = (char*)(intptr_t)A[TJS_GEQRF_TAU];
  int64_t k = m < n ? m : n;
  for (int64_t b = 0; b < batch; b++)
    DISPATCH(dt, geqrf_f32((float*)a + b * m * n, m, n, (float*)tau + b * k),
             geqrf_f64((double*)a + b * m * n, m, n, (double*)tau + b * k));
  return TJS_OK;
}

/* tau's batch stride is k */
TJS_EXPORT int tjs_orgqr(void) {
  int dt = (int)A[TJS_ORGQR_DTYPE];
  int64_t batch = A[TJS_ORGQR_BATCH], m = A[TJS_ORGQR_M], nc = A[TJS_ORGQR_NC], k = A[TJS_ORGQR_K];
  char* a = (char*)(intptr_t)A[TJS_ORGQR_A]; char* tau = (char*)(intptr_t)A[TJS_ORGQR_TAU];
  if (nc > m || k > nc) return TJS_ERR_ARG;
  for (int64_t b = 0; b < batch; b++)
    DISPATCH(dt, orgqr_f32((float*)a + b * m * nc, m, nc, k, (float*)tau + b * k),
             orgqr_f64((double*)a + b * m * nc, m, nc, k, (double*)tau + b * k));
  return TJS_OK;
}

TJS_EXPORT int tjs_trsm(void) {
  int dt = (int)A[TJS_TRSM_DTYPE]; int64_t batch = A[TJS_TRSM_BATCH], n = A[TJS_TRSM_N], k = A[TJS_TRSM_K];
  char* a = (char*)(intptr_t)A[TJS_TRSM_A]; int64_t bs = A[TJS_TRSM_A_BS], rs = A[TJS_TRSM_A_RS], cs = A[TJS_TRSM_A_CS];
  char* b = (char*)(intptr_t)A[TJS_TRSM_B]; int upper = (int)A[TJS_TRSM_UPPER], unit = (int)A[TJS_TRSM_UNIT];
  for (int64_t i = 0; i < batch; i++)
    DISPATCH(dt, trsm_f32((float*)a + i * bs, rs, cs, (float*)b + i * n * k, n, k, upper, unit),
             trsm_f64((double*)a + i * bs, rs, cs, (double*)b + i * n * k, n, k, upper, unit));
  return TJS_OK;
}

/* part < 0: whole decompositions, batch by batch. part >= 0 (batch 1): the work in pieces, one per call, the
 * state kept in scratch — part k is rows [b·p_step, (b+1)·p_step) of sweep k / nb (b = k mod nb, nb = the
 * blocks of a sweep); part 0 reads a, and the call that converges (or ends the last sweep allowed) writes the
 * results and returns TJS_OK, the others TJS_MORE — so that a signal can land between calls. */
static int sweep_part(int64_t part, int64_t p_step, int64_t n, int64_t* sweep, int64_t* p0, int64_t* p1) {
  if (p_step < 1) return 0;
  int64_t nb = (n - 1 + p_step - 1) / p_step;
  if (nb < 1) nb = 1;
  *sweep = part / nb; *p0 = (part % nb) * p_step; *p1 = *p0 + p_step;
  return (part % nb) == nb - 1;   /* the sweep's last block */
}

TJS_EXPORT int tjs_svd(void) {
  int dt = (int)A[TJS_SVD_DTYPE]; int64_t batch = A[TJS_SVD_BATCH], m = A[TJS_SVD_M], n = A[TJS_SVD_N];
  int64_t part = A[TJS_SVD_PART], p_step = A[TJS_SVD_P_STEP];
  char* a = (char*)(intptr_t)A[TJS_SVD_A];
  char* v = (char*)(intptr_t)A[TJS_SVD_V];
  char* s = (char*)(intptr_t)A[TJS_SVD_S];
  double* w = (double*)(intptr_t)A[TJS_SVD_SCRATCH]; double* vv = w + m * n; double* rotated = vv + n * n;
  if (m < n) return TJS_ERR_ARG;
  if (dt != TJS_F32 && dt != TJS_F64) return TJS_ERR_DTYPE;
  if (part >= 0 && (batch != 1 || p_step < 1)) return TJS_ERR_ARG;
  for (int64_t b = 0; b < batch; b++) {
    if (part < 0) {
      DISPATCH(dt, svd_in_f32((float*)a + b * m * n, m, n, w, vv), svd_in_f64((double*)a + b * m * n, m, n, w, vv));
      for (int k = 0; k < SVD_MAX_SWEEPS && svd_sweep(w, vv, m, n, 0, n); k++) {}
    } else {
      int64_t sweep = 0, p0 = 0, p1 = 0;
      int last = sweep_part(part, p_step, n, &sweep, &p0, &p1);
      if (part == 0)
        DISPATCH(dt, svd_in_f32((float*)a, m, n, w, vv), svd_in_f64((double*)a, m, n, w, vv));
      if (p0 == 0) *rotated = 0;
      if (svd_sweep(w, vv, m, n, p0, p1)) *rotated = 1;
      if (!last || (*rotated != 0 && sweep + 1 < SVD_MAX_SWEEPS)) return TJS_MORE;
    }
    DISPATCH(dt, svd_out_f32((float*)a + b * m * n, (float*)v + b * n * n, (float*)s + b * n, m, n, w, vv),
             svd_out_f64((double*)a + b * m * n, (double*)v + b * n * n, (double*)s + b * n, m, n, w, vv));
  }
  return TJS_OK;
}

TJS_EXPORT int tjs_eigh(void) {
  int dt = (int)A[TJS_EIGH_DTYPE]; int64_t batch = A[TJS_EIGH_BATCH], n = A[TJS_EIGH_N];
  int64_t part = A[TJS_EIGH_PART], p_step = A[TJS_EIGH_P_STEP];
  char* a = (char*)(intptr_t)A[TJS_EIGH_A]; char* w = (char*)(intptr_t)A[TJS_EIGH_W];
  double* sa = (double*)(intptr_t)A[TJS_EIGH_SCRATCH]; double* sv = sa + n * n;
  if (dt != TJS_F32 && dt != TJS_F64) return TJS_ERR_DTYPE;
  if (part >= 0 && (batch != 1 || p_step < 1)) return TJS_ERR_ARG;
  for (int64_t b = 0; b < batch; b++) {
    if (part <= 0) {
      for (int64_t i = 0; i < n * n; i++)
        sa[i] = dt == TJS_F32 ? (double)((float*)a)[b * n * n + i] : ((double*)a)[b * n * n + i];
      for (int64_t i = 0; i < n * n; i++) sv[i] = 0;
      for (int64_t i = 0; i < n; i++) sv[i * n + i] = 1;
    }
    if (part < 0) {
      for (int k = 0; k < EIGH_MAX_SWEEPS && !eigh_converged(sa, n); k++) eigh_sweep(sa, sv, n, 0, n);
    } else {
      int64_t sweep = 0, p0 = 0, p1 = 0;
      sweep_part(part, p_step, n, &sweep, &p0, &p1);
      if (!(p0 == 0 && (sweep >= EIGH_MAX_SWEEPS || eigh_converged(sa, n)))) {
        eigh_sweep(sa, sv, n, p0, p1);
        return TJS_MORE;
      }
    }
    /* eigenvectors as columns of a (row-major): a[k][p] = entry k of vector p */
    for (int64_t k = 0; k < n; k++)
      for (int64_t p = 0; p < n; p++) {
        double x = sv[p * n + k];
        if (dt == TJS_F32) ((float*)a)[b * n * n + k * n + p] = (float)x; else ((double*)a)[b * n * n + k * n + p] = x;
      }
    for (int64_t i = 0; i < n; i++) {
      if (dt == TJS_F32) ((float*)w)[b * n + i] = (float)sa[i * n + i]; else ((double*)w)[b * n + i] = sa[i * n + i];
    }
  }
  return TJS_OK;
}
