/* Sorting and selection along rows: tjs_sort, tjs_cumext, tjs_logcumsumexp, tjs_searchsorted (ABI.md).
 *
 * tjs_sort works on a contiguous [outer, n] buffer (the ops layer moves the dim last and copies) with
 * (key, index) pairs in a caller-provided scratch buffer (kernels never allocate). To give the same index
 * order as PyTorch CPU where ties make it observable, the algorithms are line-for-line transcriptions of what
 * ATen calls:
 *   stable sort     std::stable_sort  -> any stable sort gives the same result: bottom-up merge sort here
 *   unstable sort   std::sort         -> libstdc++ introsort (insertion sort below 16, median-of-3 pivot)
 *   topk            ATen TopKImpl.h   -> std::partial_sort when k*64 <= n, else std::nth_element then
 *                                        std::sort of the first k-1 (libstdc++ introselect / heap select)
 *   kthvalue        ATen quick_select_template (SortingUtils.h)
 *   mode            ATen TensorModeKernel.cpp: std::sort by value, longest run, last index of the run
 * Comparators as in ATen: ascending puts NaN last, descending puts NaN first. Keys are double for floating
 * dtypes (exact for f16/bf16/f32/f64) and int64 for integer/bool dtypes.
 */
#include "tjs.h"
#include "cvt.h"
#include "iter.h"

#define A tjs_args

static inline int is_float_dtype(int dt) { return dt == TJS_F16 || dt == TJS_BF16 || dt == TJS_F32 || dt == TJS_F64; }

static inline double load_f(const char* p, int dt, int64_t i) {
  switch (dt) {
    case TJS_F32: return (double)((const float*)p)[i];
    case TJS_F64: return ((const double*)p)[i];
    case TJS_F16: return (double)tjs_h2f(((const uint16_t*)p)[i]);
    default: return (double)tjs_bf2f(((const uint16_t*)p)[i]);
  }
}

static inline int64_t load_i(const char* p, int dt, int64_t i) {
  switch (dt) {
    case TJS_BOOL: case TJS_U8: return (int64_t)((const uint8_t*)p)[i];
    case TJS_I8: return (int64_t)((const int8_t*)p)[i];
    case TJS_I16: return (int64_t)((const int16_t*)p)[i];
    case TJS_I32: return (int64_t)((const int32_t*)p)[i];
    default: return ((const int64_t*)p)[i];
  }
}

static inline void copy_elem(char* dst, int64_t di, const char* src, int64_t si, int es) {
  switch (es) {
    case 1: ((uint8_t*)dst)[di] = ((const uint8_t*)src)[si]; break;
    case 2: ((uint16_t*)dst)[di] = ((const uint16_t*)src)[si]; break;
    case 4: ((uint32_t*)dst)[di] = ((const uint32_t*)src)[si]; break;
    default: ((uint64_t*)dst)[di] = ((const uint64_t*)src)[si]; break;
  }
}

static inline int64_t lg2(int64_t n) { int64_t k = 0; while (n > 1) { n >>= 1; k++; } return k; }

/* Comparators: 0 ascending (NaN last), 1 descending (NaN first), 2 plain `<` (mode). */
#define CMP_ASC 0
#define CMP_DESC 1
#define CMP_LT 2

#define DEFINE_ALGOS(K, S, ISNAN)                                                                              \
  typedef struct { K v; int64_t i; } E##S;                                                                     \
  static inline int cmp##S(E##S a, E##S b, int c) {                                                            \
    if (c == CMP_ASC) return (!ISNAN(a.v) && ISNAN(b.v)) || (a.v < b.v);                                       \
    if (c == CMP_DESC) return (ISNAN(a.v) && !ISNAN(b.v)) || (a.v > b.v);                                      \
    return a.v < b.v;                                                                                          \
  }                                                                                                            \
  static void unguarded_linear_insert##S(E##S* last, int c) {                                                  \
    E##S val = *last;                                                                                          \
    E##S* next = last - 1;                                                                                     \
    while (cmp##S(val, *next, c)) { *last = *next; last = next; --next; }                                      \
    *last = val;                                                                                               \
  }                                                                                                            \
  static void insertion_sort##S(E##S* first, E##S* last, int c) {                                              \
    if (first == last) return;                                                                                 \
    for (E##S* i = first + 1; i != last; ++i) {                                                                \
      if (cmp##S(*i, *first, c)) {                                                                             \
        E##S val = *i;                                                                                         \
        for (E##S* p = i; p != first; --p) *p = *(p - 1);                                                      \
        *first = val;                                                                                          \
      } else {                                                                                                 \
        unguarded_linear_insert##S(i, c);                                                                      \
      }                                                                                                        \
    }                                                                                                          \
  }                                                                                                            \
  static inline void swap##S(E##S* a, E##S* b) { E##S t = *a; *a = *b; *b = t; }                              \
  static void move_median_to_first##S(E##S* r, E##S* a, E##S* b, E##S* cc, int c) {                           \
    if (cmp##S(*a, *b, c)) {                                                                                   \
      if (cmp##S(*b, *cc, c)) swap##S(r, b);                                                                   \
      else if (cmp##S(*a, *cc, c)) swap##S(r, cc);                                                             \
      else swap##S(r, a);                                                                                      \
    } else if (cmp##S(*a, *cc, c)) swap##S(r, a);                                                              \
    else if (cmp##S(*b, *cc, c)) swap##S(r, cc);                                                               \
    else swap##S(r, b);                                                                                        \
  }                                                                                                            \
  static E##S* unguarded_partition##S(E##S* first, E##S* last, E##S* pivot, int c) {                           \
    for (;;) {                                                                                                 \
      while (cmp##S(*first, *pivot, c)) ++first;                                                               \
      --last;                                                                                                  \
      while (cmp##S(*pivot, *last, c)) --last;                                                                 \
      if (!(first < last)) return first;                                                                       \
      swap##S(first, last);                                                                                    \
      ++first;                                                                                                 \
    }                                                                                                          \
  }                                                                                                            \
  static E##S* unguarded_partition_pivot##S(E##S* first, E##S* last, int c) {                                  \
    E##S* mid = first + (last - first) / 2;                                                                    \
    move_median_to_first##S(first, first + 1, mid, last - 1, c);                                               \
    return unguarded_partition##S(first + 1, last, first, c);                                                  \
  }                                                                                                            \
  static void push_heap##S(E##S* first, int64_t hole, int64_t top, E##S value, int c) {                        \
    int64_t parent = (hole - 1) / 2;                                                                           \
    while (hole > top && cmp##S(first[parent], value, c)) {                                                    \
      first[hole] = first[parent];                                                                             \
      hole = parent;                                                                                           \
      parent = (hole - 1) / 2;                                                                                 \
    }                                                                                                          \
    first[hole] = value;                                                                                       \
  }                                                                                                            \
  static void adjust_heap##S(E##S* first, int64_t hole, int64_t len, E##S value, int c) {                      \
    const int64_t top = hole;                                                                                  \
    int64_t child = hole;                                                                                      \
    while (child < (len - 1) / 2) {                                                                            \
      child = 2 * (child + 1);                                                                                 \
      if (cmp##S(first[child], first[child - 1], c)) child--;                                                  \
      first[hole] = first[child];                                                                              \
      hole = child;                                                                                            \
    }                                                                                                          \
    if ((len & 1) == 0 && child == (len - 2) / 2) {                                                            \
      child = 2 * (child + 1);                                                                                 \
      first[hole] = first[child - 1];                                                                          \
      hole = child - 1;                                                                                        \
    }                                                                                                          \
    push_heap##S(first, hole, top, value, c);                                                                  \
  }                                                                                                            \
  static void make_heap##S(E##S* first, E##S* last, int c) {                                                   \
    int64_t len = last - first;                                                                                \
    if (len < 2) return;                                                                                       \
    int64_t parent = (len - 2) / 2;                                                                            \
    for (;;) {                                                                                                 \
      adjust_heap##S(first, parent, len, first[parent], c);                                                    \
      if (parent == 0) return;                                                                                 \
      parent--;                                                                                                \
    }                                                                                                          \
  }                                                                                                            \
  static void pop_heap##S(E##S* first, E##S* last, E##S* result, int c) {                                      \
    E##S value = *result;                                                                                      \
    *result = *first;                                                                                          \
    adjust_heap##S(first, 0, last - first, value, c);                                                          \
  }                                                                                                            \
  static void heap_select##S(E##S* first, E##S* middle, E##S* last, int c) {                                   \
    make_heap##S(first, middle, c);                                                                            \
    for (E##S* i = middle; i < last; ++i)                                                                      \
      if (cmp##S(*i, *first, c)) pop_heap##S(first, middle, i, c);                                             \
  }                                                                                                            \
  static void sort_heap##S(E##S* first, E##S* last, int c) {                                                   \
    while (last - first > 1) { --last; pop_heap##S(first, last, last, c); }                                    \
  }                                                                                                            \
  static void partial_sort##S(E##S* first, E##S* middle, E##S* last, int c) {                                 \
    heap_select##S(first, middle, last, c);                                                                    \
    sort_heap##S(first, middle, c);                                                                            \
  }                                                                                                            \
  static void introsort_loop##S(E##S* first, E##S* last, int64_t depth, int c) {                               \
    while (last - first > 16) {                                                                                \
      if (depth == 0) { partial_sort##S(first, last, last, c); return; }                                       \
      --depth;                                                                                                 \
      E##S* cut = unguarded_partition_pivot##S(first, last, c);                                                \
      introsort_loop##S(cut, last, depth, c);                                                                  \
      last = cut;                                                                                              \
    }                                                                                                          \
  }                                                                                                            \
  static void std_sort##S(E##S* first, E##S* last, int c) {                                                    \
    if (first == last) return;                                                                                 \
    introsort_loop##S(first, last, lg2(last - first) * 2, c);                                                  \
    if (last - first > 16) {                                                                                   \
      insertion_sort##S(first, first + 16, c);                                                                 \
      for (E##S* i = first + 16; i != last; ++i) unguarded_linear_insert##S(i, c);                             \
    } else {                                                                                                   \
      insertion_sort##S(first, last, c);                                                                       \
    }                                                                                                          \
  }                                                                                                            \
  static void nth_element##S(E##S* first, E##S* nth, E##S* last, int c) {                                     \
    if (first == last || nth == last) return;                                                                  \
    int64_t depth = lg2(last - first) * 2;                                                                     \
    while (last - first > 3) {                                                                                 \
      if (depth == 0) {                                                                                        \
        heap_select##S(first, nth + 1, last, c);                                                               \
        swap##S(first, nth);                                                                                   \
        return;                                                                                                \
      }                                                                                                        \
      --depth;                                                                                                 \
      E##S* cut = unguarded_partition_pivot##S(first, last, c);                                                \
      if (cut <= nth) first = cut; else last = cut;                                                            \
    }                                                                                                          \
    insertion_sort##S(first, last, c);                                                                         \
  }                                                                                                            \
  /* stable: bottom-up merge sort, runs of 1; `tmp` holds n elements */                                        \
  static void merge_sort##S(E##S* a, E##S* tmp, int64_t n, int c) {                                            \
    E##S* src = a; E##S* dst = tmp;                                                                            \
    for (int64_t w = 1; w < n; w *= 2) {                                                                       \
      for (int64_t lo = 0; lo < n; lo += 2 * w) {                                                              \
        int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;                           \
        int64_t i = lo, j = mid, k = lo;                                                                       \
        while (i < mid && j < hi) dst[k++] = cmp##S(src[j], src[i], c) ? src[j++] : src[i++];                  \
        while (i < mid) dst[k++] = src[i++];                                                                   \
        while (j < hi) dst[k++] = src[j++];                                                                    \
      }                                                                                                        \
      E##S* t = src; src = dst; dst = t;                                                                       \
    }                                                                                                          \
    if (src != a) for (int64_t i = 0; i < n; i++) a[i] = src[i];                                               \
  }                                                                                                            \
  /* ATen quick_select_template with gt_or_nan = CMP_DESC */                                                   \
  static void quick_select##S(E##S* arr, int64_t n, int64_t k) {                                               \
    int64_t L = 0, R = n - 1, P, i, j;                                                                         \
    for (;;) {                                                                                                 \
      if (R <= L) return;                                                                                      \
      if (R == L + 1) {                                                                                        \
        if (cmp##S(arr[L], arr[R], CMP_DESC)) swap##S(arr + L, arr + R);                                      \
        return;                                                                                                \
      }                                                                                                        \
      P = L + (R - L) / 2;                                                                                     \
      swap##S(arr + P, arr + L + 1);                                                                           \
      if (cmp##S(arr[L + 1], arr[R], CMP_DESC)) swap##S(arr + L + 1, arr + R);                                 \
      if (cmp##S(arr[L], arr[R], CMP_DESC)) swap##S(arr + L, arr + R);                                         \
      if (cmp##S(arr[L + 1], arr[L], CMP_DESC)) swap##S(arr + L + 1, arr + L);                                 \
      i = L + 1;                                                                                               \
      j = R;                                                                                                   \
      E##S piv = arr[L];                                                                                       \
      for (;;) {                                                                                               \
        do i++; while (cmp##S(piv, arr[i], CMP_DESC));                                                         \
        do j--; while (cmp##S(arr[j], piv, CMP_DESC));                                                         \
        if (j < i) break;                                                                                      \
        swap##S(arr + i, arr + j);                                                                             \
      }                                                                                                        \
      swap##S(arr + L, arr + j);                                                                               \
      if (j <= k) L = i;                                                                                       \
      if (j >= k) R = j - 1;                                                                                   \
    }                                                                                                          \
  }                                                                                                            \
  /* one row: leaves the chosen pairs in e[0..kout) */                                                         \
  static int64_t run_row##S(E##S* e, E##S* tmp, int64_t n, int op, int desc, int sorted, int64_t k) {          \
    const int c = desc ? CMP_DESC : CMP_ASC;                                                                   \
    switch (op) {                                                                                              \
      case 0: merge_sort##S(e, tmp, n, c); return n;                                                           \
      case 1: std_sort##S(e, e + n, c); return n;                                                              \
      case 2:                                                                                                  \
        if (k == 0) return 0;                                                                                  \
        if (k * 64 <= n) partial_sort##S(e, e + k, e + n, c);                                                  \
        else {                                                                                                 \
          nth_element##S(e, e + k - 1, e + n, c);                                                              \
          if (sorted) std_sort##S(e, e + k - 1, c);                                                            \
        }                                                                                                      \
        return k;                                                                                              \
      case 3:                                                                                                  \
        quick_select##S(e, n, k - 1);                                                                          \
        e[0] = e[k - 1];                                                                                       \
        return 1;                                                                                              \
      default: {                                                                                               \
        std_sort##S(e, e + n, CMP_LT);                                                                         \
        int64_t freq = 0, best = 0;                                                                            \
        E##S m = e[0];                                                                                         \
        for (int64_t q = 0; q < n; q++) {                                                                      \
          freq++;                                                                                              \
          if (q == n - 1 || e[q].v != e[q + 1].v) {                                                            \
            if (freq > best) { m = e[q]; best = freq; }                                                        \
            freq = 0;                                                                                          \
          }                                                                                                    \
        }                                                                                                      \
        e[0] = m;                                                                                              \
        return 1;                                                                                              \
      }                                                                                                        \
    }                                                                                                          \
  }

#define ISNAN_F(x) ((x) != (x))
#define ISNAN_I(x) 0
DEFINE_ALGOS(double, F, ISNAN_F)
DEFINE_ALGOS(int64_t, I, ISNAN_I)

/* op 0 stable sort, 1 sort, 2 topk, 3 kthvalue, 4 mode; scratch holds 2n pairs of 16 bytes.
 * in: contiguous [outer, n]; outputs contiguous [outer, kout] with kout = n (sort), k (topk), 1 (others). */
TJS_EXPORT int tjs_sort(void) {
  const int dt = (int)A[TJS_SORT_DTYPE];
  const int64_t outer = A[TJS_SORT_OUTER], n = A[TJS_SORT_N];
  const int op = (int)A[TJS_SORT_OP], desc = (int)A[TJS_SORT_DESCENDING], sorted = (int)A[TJS_SORT_SORTED];
  const int64_t k = A[TJS_SORT_K];
  const char* in = (const char*)TJS_PTR(A[TJS_SORT_IN]);
  char* ov = (char*)TJS_PTR(A[TJS_SORT_OUT_VALUES]);
  int64_t* oi = (int64_t*)TJS_PTR(A[TJS_SORT_OUT_INDICES]);
  void* scratch = TJS_PTR(A[TJS_SORT_SCRATCH]);
  const int es = tjs_dtype_size(dt);
  if (!es) return TJS_ERR_DTYPE;
  if (op < 0 || op > 4) return TJS_ERR_OP;
  const int64_t kout = op <= 1 ? n : op == 2 ? k : 1;
  for (int64_t r = 0; r < outer; r++) {
    const char* row = in + r * n * es;
    int64_t m;
    if (is_float_dtype(dt)) {
      EF* e = (EF*)scratch;
      for (int64_t j = 0; j < n; j++) { e[j].v = load_f(row, dt, j); e[j].i = j; }
      m = run_rowF(e, e + n, n, op, desc, sorted, k);
      for (int64_t j = 0; j < m; j++) oi[r * kout + j] = e[j].i;
    } else {
      EI* e = (EI*)scratch;
      for (int64_t j = 0; j < n; j++) { e[j].v = load_i(row, dt, j); e[j].i = j; }
      m = run_rowI(e, e + n, n, op, desc, sorted, k);
      for (int64_t j = 0; j < m; j++) oi[r * kout + j] = e[j].i;
    }
    for (int64_t j = 0; j < m; j++) copy_elem(ov, r * kout + j, row, oi[r * kout + j], es);
  }
  return TJS_OK;
}

/* cummax / cummin with indices (ATen cummax_cummin_helper), op 0 max, 1 min; contiguous [outer, n, inner],
 * scan over n. Ties move the index forward (>=, <=);
 * a NaN sticks and every later NaN takes over the index. */
TJS_EXPORT int tjs_cumext(void) {
  const int dt = (int)A[TJS_CUMEXT_DTYPE];
  const int64_t outer = A[TJS_CUMEXT_OUTER], n = A[TJS_CUMEXT_N], inner = A[TJS_CUMEXT_INNER];
  const int op = (int)A[TJS_CUMEXT_OP];
  const char* in = (const char*)TJS_PTR(A[TJS_CUMEXT_IN]);
  char* ov = (char*)TJS_PTR(A[TJS_CUMEXT_OUT_VALUES]);
  int64_t* oi = (int64_t*)TJS_PTR(A[TJS_CUMEXT_OUT_INDICES]);
  const int es = tjs_dtype_size(dt);
  if (!es) return TJS_ERR_DTYPE;
  const int fl = is_float_dtype(dt);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t q = 0; q < inner; q++) {
      const int64_t base = o * n * inner + q;
      int64_t idx = 0;
      double bf = fl ? load_f(in, dt, base) : 0;
      int64_t bi = fl ? 0 : load_i(in, dt, base);
      for (int64_t j = 0; j < n; j++) {
        const int64_t p = base + j * inner;
        int take;
        if (fl) {
          double x = load_f(in, dt, p);
          take = (x != x) || (bf == bf && (op == 0 ? x >= bf : x <= bf));
          if (take) bf = x;
        } else {
          int64_t x = load_i(in, dt, p);
          take = op == 0 ? x >= bi : x <= bi;
          if (take) bi = x;
        }
        if (take) idx = j;
        oi[p] = idx;
        copy_elem(ov, p, in, base + idx * inner, es);
      }
    }
  return TJS_OK;
}

/* logcumsumexp (ATen's log_add_exp scan, accumulated in double), F32/F64 */
TJS_EXPORT int tjs_logcumsumexp(void) {
  const int dt = (int)A[TJS_LOGCUMSUMEXP_DTYPE];
  const int64_t outer = A[TJS_LOGCUMSUMEXP_OUTER], n = A[TJS_LOGCUMSUMEXP_N], inner = A[TJS_LOGCUMSUMEXP_INNER];
  const char* in = (const char*)TJS_PTR(A[TJS_LOGCUMSUMEXP_IN]);
  char* out = (char*)TJS_PTR(A[TJS_LOGCUMSUMEXP_OUT]);
  if (dt != TJS_F32 && dt != TJS_F64) return TJS_ERR_DTYPE;
  const double inf = 1.0 / 0.0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t q = 0; q < inner; q++) {
      const int64_t base = o * n * inner + q;
      double acc = -inf;
      for (int64_t j = 0; j < n; j++) {
        const int64_t p = base + j * inner;
        const double x = load_f(in, dt, p);
        const double y = acc;
        double mn = y != y ? y : (x < y ? x : y);
        double mx = y != y ? y : (x > y ? x : y);
        if (x != x) { mn = x; mx = x; }
        if (mn != mx || (mn - mn == 0)) acc = log1p(exp(mn - mx)) + mx;
        else acc = x;
        if (dt == TJS_F32) ((float*)out)[p] = (float)acc;
        else ((double*)out)[p] = acc;
      }
    }
  return TJS_OK;
}

/* searchsorted, F64 or I64 keys; bnd_row_stride 0: one boundary row for all. vals/out (int64) contiguous
 * [rows, nv]; bnd rows of nb. ATen's cus_lower/upper_bound:
 * lower moves right while !(b >= v), upper while !(b > v). */
TJS_EXPORT int tjs_searchsorted(void) {
  const int dt = (int)A[TJS_SEARCHSORTED_DTYPE];
  const int64_t rows = A[TJS_SEARCHSORTED_ROWS], nb = A[TJS_SEARCHSORTED_NB], nv = A[TJS_SEARCHSORTED_NV];
  const int right = (int)A[TJS_SEARCHSORTED_RIGHT];
  const int64_t bstride = A[TJS_SEARCHSORTED_BND_ROW_STRIDE];
  const char* bnd = (const char*)TJS_PTR(A[TJS_SEARCHSORTED_BND]);
  const char* vals = (const char*)TJS_PTR(A[TJS_SEARCHSORTED_VALS]);
  int64_t* out = (int64_t*)TJS_PTR(A[TJS_SEARCHSORTED_OUT]);
  if (dt != TJS_F64 && dt != TJS_I64) return TJS_ERR_DTYPE;
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t j = 0; j < nv; j++) {
      int64_t lo = 0, hi = nb;
      if (dt == TJS_F64) {
        const double* b = (const double*)bnd + r * bstride;
        const double v = ((const double*)vals)[r * nv + j];
        while (lo < hi) {
          const int64_t mid = lo + ((hi - lo) >> 1);
          const int go = right ? !(b[mid] > v) : !(b[mid] >= v);
          if (go) lo = mid + 1; else hi = mid;
        }
      } else {
        const int64_t* b = (const int64_t*)bnd + r * bstride;
        const int64_t v = ((const int64_t*)vals)[r * nv + j];
        while (lo < hi) {
          const int64_t mid = lo + ((hi - lo) >> 1);
          const int go = right ? !(b[mid] > v) : !(b[mid] >= v);
          if (go) lo = mid + 1; else hi = mid;
        }
      }
      out[r * nv + j] = lo;
    }
  }
  return TJS_OK;
}
