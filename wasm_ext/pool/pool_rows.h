/* pool_rows.h: contiguous rows of n elements shared out over the worker pool (pool_softmax.c, ../norm.c), and any
 * items in pieces of a given size (pool_planes.c's planes, pool_conv.c's images).
 *
 * The rows are cut into pieces of about POOL_ROWS_PIECE elements (whole rows; one row a piece when rows are longer)
 * that the workers take from a shared counter; fn(ctx, r0, rows) computes rows [r0, r0 + rows). A kernel whose rows
 * each depend on that row alone gives the same bits for any cut and any thread count. */
#ifndef TJS_POOL_ROWS_H
#define TJS_POOL_ROWS_H
#include "../threads.h"

#define POOL_ROWS_PIECE 16384

typedef void (*pool_rows_fn)(void *ctx, int64_t r0, int64_t rows);

typedef struct {
  int64_t outer, rows_per_piece, next;
  pool_rows_fn fn;
  void *ctx;
} pool_rows_job;

static void pool_rows_worker(void *ctx, int worker) {
  (void)worker;
  pool_rows_job *j = (pool_rows_job *)ctx;
  for (;;) {
    const int64_t r0 = tjs_fetch_add(&j->next, 1) * j->rows_per_piece;
    if (r0 >= j->outer) break;
    j->fn(j->ctx, r0, j->outer - r0 < j->rows_per_piece ? j->outer - r0 : j->rows_per_piece);
  }
}

/* fn over items [0, count) (count > 0) on the pool's threads, `per` items a piece (per > 0) */
static inline void pool_pieces(int64_t count, int64_t per, pool_rows_fn fn, void *ctx) {
  pool_rows_job j = {count, per, 0, fn, ctx};
  const int64_t pieces = (count + per - 1) / per;
  const int threads = tjs_threads_wanted();
  tjs_parallel(pieces < threads ? (int)pieces : threads, pool_rows_worker, &j);
}

/* fn over rows [0, outer) of n elements (outer, n > 0) on the pool's threads */
static inline void pool_rows(int64_t outer, int64_t n, pool_rows_fn fn, void *ctx) {
  pool_pieces(outer, n < POOL_ROWS_PIECE ? POOL_ROWS_PIECE / n : 1, fn, ctx);
}
#endif
