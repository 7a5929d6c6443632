// Dense factorizations for torch.linalg on float32 (the algorithms of wasm_ext/linalg.c: LAPACK's unblocked
// dgetf2 / dgetrs / dpotf2 / dgeqr2 / dorg2r / trsm, one-sided Jacobi SVD and cyclic Jacobi eigh), so pivots,
// Householder signs and info codes match the CPU backend. Matrices are contiguous row-major float32 copies
// the ops layer made for the kernel to overwrite; int64 outputs (pivots, info) are written as two words.
//
// Parallelism: the triangular solves (lu_solve, trsm) run one invocation per right-hand-side column; the
// factorizations run one invocation per matrix of the batch. That suits the small and batched matrices a
// notebook factors; a large single matrix wants a blocked, workgroup-parallel kernel (not written yet).
// Everything accumulates in f32 where the C kernels use double, hence float32 tolerances.
//
// Header words: 0 invocations, 2 grid-x, then per op (offsets are element offsets into each binding):
//   lu        3 m, 4 n, 5 a, 6 piv, 7 info
//   lu_solve  3 n, 4 k, 5 lu, 6 piv, 7 b
//   cholesky  3 n, 4 a, 5 info
//   geqrf     3 m, 4 n, 5 a, 6 tau
//   orgqr     3 m, 4 nc, 5 k, 6 a, 7 tau
//   trsm      3 n, 4 k, 5 a, 6 a batch stride, 7 a row stride, 8 a col stride, 9 b, 10 upper, 11 unit
//   svd       3 m, 4 n, 5 a, 6 v, 7 s
//   eigh      3 n, 4 a, 5 w, 6 scratch (n×n per matrix)
import { PRELUDE, kernelMain } from './common.mjs';

export const WG_LINALG = 64;
export const LINALG_OPS = ['lu', 'lu_solve', 'cholesky', 'geqrf', 'orgqr', 'trsm', 'svd', 'eigh'];

const F = (k, name, access) => `@group(0) @binding(${k}) var<storage, ${access}> ${name}: array<f32>;\n`;
const U = (k, name, access) => `@group(0) @binding(${k}) var<storage, ${access}> ${name}: array<u32>;\n`;
const main = (body) => kernelMain(WG_LINALG, 't', body);

const BODIES = {
  // binding 1 A (m×n), 2 PIV (int64 words), 3 INFO (int64 words)
  lu: [F(1, 'A', 'read_write') + U(2, 'PIV', 'read_write') + U(3, 'INFO', 'read_write'), `
  let m = pu(3u); let n = pu(4u); let kk = min(m, n);
  let a = pu(5u) + t * m * n; let piv = 2u * (pu(6u) + t * kk); let info = 2u * (pu(7u) + t);
  var bad = 0u;
  for (var j = 0u; j < kk; j++) {
    var p = j; var best = abs(A[a + j * n + j]);
    for (var i = j + 1u; i < m; i++) { let v = abs(A[a + i * n + j]); if (v > best) { best = v; p = i; } }
    PIV[piv + 2u * j] = p + 1u; PIV[piv + 2u * j + 1u] = 0u;
    if (A[a + p * n + j] != 0.0) {
      if (p != j) {
        for (var c = 0u; c < n; c++) { let x = A[a + j * n + c]; A[a + j * n + c] = A[a + p * n + c]; A[a + p * n + c] = x; }
      }
      let d = A[a + j * n + j];
      for (var i = j + 1u; i < m; i++) { A[a + i * n + j] = A[a + i * n + j] / d; }
    } else if (bad == 0u) { bad = j + 1u; }
    for (var i = j + 1u; i < m; i++) {
      let l = A[a + i * n + j];
      if (l == 0.0) { continue; }
      for (var c = j + 1u; c < n; c++) { A[a + i * n + c] = A[a + i * n + c] - l * A[a + j * n + c]; }
    }
  }
  INFO[info] = bad; INFO[info + 1u] = 0u;
`],
  // 1 LU (n×n), 2 PIV, 3 B (n×k); one invocation per (matrix, column)
  lu_solve: [F(1, 'LU', 'read') + U(2, 'PIV', 'read') + F(3, 'B', 'read_write'), `
  let n = pu(3u); let k = pu(4u);
  let mat = t / k; let c = t % k;
  let lu = pu(5u) + mat * n * n; let piv = 2u * (pu(6u) + mat * n); let b = pu(7u) + mat * n * k + c;
  for (var i = 0u; i < n; i++) {
    let p = PIV[piv + 2u * i] - 1u;
    if (p != i) { let x = B[b + i * k]; B[b + i * k] = B[b + p * k]; B[b + p * k] = x; }
  }
  for (var i = 0u; i < n; i++) {
    var s = B[b + i * k];
    for (var j = 0u; j < i; j++) { s -= LU[lu + i * n + j] * B[b + j * k]; }
    B[b + i * k] = s;
  }
  for (var ii = i32(n) - 1; ii >= 0; ii--) {
    let i = u32(ii);
    var s = B[b + i * k];
    for (var j = i + 1u; j < n; j++) { s -= LU[lu + i * n + j] * B[b + j * k]; }
    B[b + i * k] = s / LU[lu + i * n + i];
  }
`],
  // 1 A (n×n, lower triangle read), 2 INFO
  cholesky: [F(1, 'A', 'read_write') + U(2, 'INFO', 'read_write'), `
  let n = pu(3u);
  let a = pu(4u) + t * n * n; let info = 2u * (pu(5u) + t);
  var bad = 0u;
  for (var j = 0u; j < n; j++) {
    var d = A[a + j * n + j];
    for (var c = 0u; c < j; c++) { d -= A[a + j * n + c] * A[a + j * n + c]; }
    if (!(d > 0.0)) { A[a + j * n + j] = d; bad = j + 1u; break; }
    d = sqrt(d);
    A[a + j * n + j] = d;
    for (var i = j + 1u; i < n; i++) {
      var s = A[a + i * n + j];
      for (var c = 0u; c < j; c++) { s -= A[a + i * n + c] * A[a + j * n + c]; }
      A[a + i * n + j] = s / d;
    }
  }
  for (var i = 0u; i < n; i++) { for (var c = i + 1u; c < n; c++) { A[a + i * n + c] = 0.0; } }
  INFO[info] = bad; INFO[info + 1u] = 0u;
`],
  // 1 A (m×n), 2 TAU (min(m, n))
  geqrf: [F(1, 'A', 'read_write') + F(2, 'TAU', 'read_write'), `
  let m = pu(3u); let n = pu(4u); let kk = min(m, n);
  let a = pu(5u) + t * m * n; let tau = pu(6u) + t * kk;
  for (var i = 0u; i < kk; i++) {
    var alpha = A[a + i * n + i]; var xn = 0.0;
    for (var r = i + 1u; r < m; r++) { xn += A[a + r * n + i] * A[a + r * n + i]; }
    xn = sqrt(xn);
    var tt = 0.0;
    if (xn != 0.0) {
      var beta = sqrt(alpha * alpha + xn * xn);
      if (alpha >= 0.0) { beta = -beta; }
      tt = (beta - alpha) / beta;
      let sc = 1.0 / (alpha - beta);
      for (var r = i + 1u; r < m; r++) { A[a + r * n + i] = A[a + r * n + i] * sc; }
      alpha = beta;
    }
    TAU[tau + i] = tt;
    A[a + i * n + i] = alpha;
    if (tt != 0.0) {
      for (var c = i + 1u; c < n; c++) {
        var w = A[a + i * n + c];
        for (var r = i + 1u; r < m; r++) { w += A[a + r * n + i] * A[a + r * n + c]; }
        w *= tt;
        A[a + i * n + c] = A[a + i * n + c] - w;
        for (var r = i + 1u; r < m; r++) { A[a + r * n + c] = A[a + r * n + c] - w * A[a + r * n + i]; }
      }
    }
  }
`],
  // 1 A (m×nc, reflectors in the first k columns), 2 TAU (k)
  orgqr: [F(1, 'A', 'read_write') + F(2, 'TAU', 'read'), `
  let m = pu(3u); let nc = pu(4u); let kk = pu(5u);
  let a = pu(6u) + t * m * nc; let tau = pu(7u) + t * kk;
  for (var j = kk; j < nc; j++) {
    for (var r = 0u; r < m; r++) { A[a + r * nc + j] = 0.0; }
    A[a + j * nc + j] = 1.0;
  }
  for (var ii = i32(kk) - 1; ii >= 0; ii--) {
    let i = u32(ii);
    let tt = TAU[tau + i];
    if (i + 1u < nc) {
      A[a + i * nc + i] = 1.0;
      if (tt != 0.0) {
        for (var c = i + 1u; c < nc; c++) {
          var w = 0.0;
          for (var r = i; r < m; r++) { w += A[a + r * nc + i] * A[a + r * nc + c]; }
          w *= tt;
          for (var r = i; r < m; r++) { A[a + r * nc + c] = A[a + r * nc + c] - w * A[a + r * nc + i]; }
        }
      }
    }
    for (var r = i + 1u; r < m; r++) { A[a + r * nc + i] = -tt * A[a + r * nc + i]; }
    A[a + i * nc + i] = 1.0 - tt;
    for (var r = 0u; r < i; r++) { A[a + r * nc + i] = 0.0; }
  }
`],
  // 1 A (triangular, by strides), 2 B (n×k); one invocation per (matrix, column)
  trsm: [F(1, 'A', 'read') + F(2, 'B', 'read_write'), `
  let n = pu(3u); let k = pu(4u);
  let mat = t / k; let c = t % k;
  let a = pu(5u) + mat * pu(6u); let rs = pu(7u); let cs = pu(8u);
  let b = pu(9u) + mat * n * k + c;
  let unit = pu(11u) != 0u;
  if (pu(10u) != 0u) {
    for (var ii = i32(n) - 1; ii >= 0; ii--) {
      let i = u32(ii);
      var s = B[b + i * k];
      for (var j = i + 1u; j < n; j++) { s -= A[a + i * rs + j * cs] * B[b + j * k]; }
      B[b + i * k] = select(s / A[a + i * rs + i * cs], s, unit);
    }
  } else {
    for (var i = 0u; i < n; i++) {
      var s = B[b + i * k];
      for (var j = 0u; j < i; j++) { s -= A[a + i * rs + j * cs] * B[b + j * k]; }
      B[b + i * k] = select(s / A[a + i * rs + i * cs], s, unit);
    }
  }
`],
  // 1 A (m×n, m >= n; -> U·S), 2 V (n×n), 3 S (n)
  svd: [F(1, 'A', 'read_write') + F(2, 'V', 'read_write') + F(3, 'S', 'read_write'), `
  let m = pu(3u); let n = pu(4u);
  let a = pu(5u) + t * m * n; let v = pu(6u) + t * n * n; let s = pu(7u) + t * n;
  for (var i = 0u; i < n * n; i++) { V[v + i] = 0.0; }
  for (var i = 0u; i < n; i++) { V[v + i * n + i] = 1.0; }
  for (var sweep = 0; sweep < 60; sweep++) {
    var rotated = false;
    for (var p = 0u; p + 1u < n; p++) {
      for (var q = p + 1u; q < n; q++) {
        var al = 0.0; var be = 0.0; var ga = 0.0;
        for (var r = 0u; r < m; r++) {
          let x = A[a + r * n + p]; let y = A[a + r * n + q];
          al += x * x; be += y * y; ga += x * y;
        }
        if (ga == 0.0 || abs(ga) <= 1e-37 || abs(ga) <= 6e-8 * sqrt(al * be)) { continue; }
        rotated = true;
        let zeta = (be - al) / (2.0 * ga);
        let tt = select(-1.0, 1.0, zeta >= 0.0) / (abs(zeta) + sqrt(1.0 + zeta * zeta));
        let cc = 1.0 / sqrt(1.0 + tt * tt); let sn = cc * tt;
        for (var r = 0u; r < m; r++) {
          let x = A[a + r * n + p]; let y = A[a + r * n + q];
          A[a + r * n + p] = cc * x - sn * y; A[a + r * n + q] = sn * x + cc * y;
        }
        for (var r = 0u; r < n; r++) {
          let x = V[v + r * n + p]; let y = V[v + r * n + q];
          V[v + r * n + p] = cc * x - sn * y; V[v + r * n + q] = sn * x + cc * y;
        }
      }
    }
    if (!rotated) { break; }
  }
  for (var c = 0u; c < n; c++) {
    var nn = 0.0;
    for (var r = 0u; r < m; r++) { nn += A[a + r * n + c] * A[a + r * n + c]; }
    S[s + c] = sqrt(nn);
  }
`],
  // 1 A (n×n symmetric -> eigenvectors as columns), 2 W (n), 3 WORK (n×n per matrix: the rotated matrix)
  eigh: [F(1, 'A', 'read_write') + F(2, 'W', 'read_write') + F(3, 'WORK', 'read_write'), `
  let n = pu(3u);
  let v = pu(4u) + t * n * n; let w = pu(5u) + t * n; let a = pu(6u) + t * n * n;
  for (var i = 0u; i < n * n; i++) { WORK[a + i] = A[v + i]; A[v + i] = 0.0; }
  for (var i = 0u; i < n; i++) { A[v + i * n + i] = 1.0; }
  for (var sweep = 0; sweep < 100; sweep++) {
    var off = 0.0; var tot = 0.0;
    for (var p = 0u; p < n; p++) {
      for (var q = 0u; q < n; q++) { let x = WORK[a + p * n + q] * WORK[a + p * n + q]; tot += x; if (p != q) { off += x; } }
    }
    if (off <= 1e-14 * tot || off == 0.0) { break; }
    for (var p = 0u; p + 1u < n; p++) {
      for (var q = p + 1u; q < n; q++) {
        let apq = WORK[a + p * n + q];
        if (apq == 0.0) { continue; }
        let theta = (WORK[a + q * n + q] - WORK[a + p * n + p]) / (2.0 * apq);
        let tt = select(-1.0, 1.0, theta >= 0.0) / (abs(theta) + sqrt(theta * theta + 1.0));
        let cc = 1.0 / sqrt(tt * tt + 1.0); let s = tt * cc;
        for (var k = 0u; k < n; k++) {
          let akp = WORK[a + k * n + p]; let akq = WORK[a + k * n + q];
          WORK[a + k * n + p] = cc * akp - s * akq; WORK[a + k * n + q] = s * akp + cc * akq;
        }
        for (var k = 0u; k < n; k++) {
          let apk = WORK[a + p * n + k]; let aqk = WORK[a + q * n + k];
          WORK[a + p * n + k] = cc * apk - s * aqk; WORK[a + q * n + k] = s * apk + cc * aqk;
        }
        for (var k = 0u; k < n; k++) {
          let vkp = A[v + k * n + p]; let vkq = A[v + k * n + q];
          A[v + k * n + p] = cc * vkp - s * vkq; A[v + k * n + q] = s * vkp + cc * vkq;
        }
      }
    }
  }
  for (var i = 0u; i < n; i++) { W[w + i] = WORK[a + i * n + i]; }
`],
};

/** {code, sig, nbind} for linalg op `op` (one of LINALG_OPS). */
export function linalgSource(op) {
  const [bindings, body] = BODIES[op];
  const sig = [...bindings.matchAll(/var<storage, (read_write|read)>/g)].map((m) => (m[1] === 'read' ? 'r' : 'w')).join('');
  return { code: PRELUDE + bindings + main(body), sig };
}
