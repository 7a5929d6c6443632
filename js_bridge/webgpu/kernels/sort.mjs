// Sorting and selection along contiguous rows (the semantics of wasm_ext/sort.c, ABI.md): sort / topk /
// kthvalue / mode through one bitonic sort, cummax / cummin and logcumsumexp as per-lane scans, and
// searchsorted as a per-value binary search.
//
// The sort orders (key, index) triples in a scratch buffer of u32 words [hi, lo, index] per entry: the key is
// the element mapped to an unsigned order (floats: sign-magnitude flipped, -0 as +0, every NaN greatest;
// ints: sign bit flipped; int64: both words), bitwise-inverted for descending. Comparing (hi, lo, index)
// makes every entry distinct, so the network's result is exactly the stable sort: ties keep index order, NaN
// last ascending and first descending, as PyTorch's stable sort. Rows are padded to a power of two with
// entries (~0, ~0, index >= n) that sort after everything. topk and kthvalue read the sorted prefix; the
// order among equal elements is then the stable one where the CPU kernel (libstdc++'s unstable algorithms)
// may pick another index of an equal value, as PyTorch's CUDA kernels may.
//
// Header words: 0 n (invocations), 2 grid-x, then
//   sort init: 3 P (padded row length), 4 row length n, 5 descending, 6 x offset
//   sort step: 3 P, 4 block size k, 5 distance j
//   sort out:  3 P, 4 n, 5 kout, 6 selected position (kthvalue) or 0xffffffff (prefix), 7 x, 8 values,
//              9 indices offsets
//   mode:      3 P, 4 n, 7 x, 8 values, 9 indices offsets
//   cumext:    3 n, 4 inner, 5 x, 6 values, 7 indices offsets, 8 op (0 max, 1 min)
//   logcumsumexp: 3 n, 4 inner, 5 x, 6 out offsets
//   searchsorted: 3 nv, 4 nb, 5 boundary row stride (0: shared), 6 right, 7 boundaries, 8 values, 9 out offsets
import { DT, ITEMSIZE, PRELUDE, isFloat, kernelMain } from './common.mjs';
import { helpersFor } from './math.mjs';

export const WG_SORT = 256;
const main = (body) => kernelMain(WG_SORT, 't', body);
const SCRATCH = (access) => `@group(0) @binding(1) var<storage, ${access}> S: array<u32>;\n`;

/** WGSL: `hi`/`lo` (u32 vars) <- the order key of element e of operand X (dtype d). */
function orderKey(d) {
  if (isFloat(d)) {
    return `let f = ld_X(e);
    var u = bitcast<u32>(f);
    if (f == 0.0) { u = 0u; }
    if (isnan_(f)) { hi = 0xffffffffu; } else if ((u & 0x80000000u) != 0u) { hi = ~u; } else { hi = u | 0x80000000u; }
    lo = 0u;`;
  }
  if (d === DT.int64) return 'let r = raw_X(e); hi = r.y ^ 0x80000000u; lo = r.x;';
  return 'hi = bitcast<u32>(ld_X(e)) ^ 0x80000000u; lo = 0u;';
}

export const sortInitSpecs = (d) => [{ name: 'S', dt: DT.int32, write: true }, { name: 'X', dt: d }];
export function sortInitSource(d, b, v) {
  return PRELUDE + b + main(`
  let P = pu(3u); let n = pu(4u);
  let r = t / P; let p = t % P;
  var hi = 0xffffffffu; var lo = 0xffffffffu;
  if (p < n) {
    let e = pu(6u) + r * n + p;
    ${orderKey(d)}
    if (pu(5u) != 0u) { hi = ~hi; lo = ~lo; }
  }
  ${v[0]}[3u * t] = hi; ${v[0]}[3u * t + 1u] = lo; ${v[0]}[3u * t + 2u] = p;
`);
}

export function sortStepSource() {
  return PRELUDE + SCRATCH('read_write') + `
fn before(a: u32, b: u32) -> bool {
  if (S[a] != S[b]) { return S[a] < S[b]; }
  if (S[a + 1u] != S[b + 1u]) { return S[a + 1u] < S[b + 1u]; }
  return S[a + 2u] < S[b + 2u];
}` + main(`
  let P = pu(3u); let k = pu(4u); let j = pu(5u);
  let half = P >> 1u;
  let r = t / half; let q = t % half;
  let i = 2u * j * (q / j) + (q % j);
  let a = 3u * (r * P + i); let b = a + 3u * j;
  if (before(b, a) == ((i & k) == 0u)) {
    for (var w = 0u; w < 3u; w++) { let x = S[a + w]; S[a + w] = S[b + w]; S[b + w] = x; }
  }
`);
}

export const sortOutSpecs = (d) => [
  { name: 'V', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'I', dt: DT.int64, write: true },
  { name: 'X', dt: d }, { name: 'S', dt: DT.int32 },
];
export function sortOutSource(d, b, v) {
  const S = v[3];
  return PRELUDE + b + main(`
  let P = pu(3u); let n = pu(4u); let kout = pu(5u);
  let r = t / kout; let p = t % kout;
  let pos = select(p, pu(6u), pu(6u) != 0xffffffffu);
  let src = ${S}[3u * (r * P + pos) + 2u];
  strw_V(pu(8u) + t, raw_X(pu(7u) + r * n + src));
  strw_I(pu(9u) + t, vec2<u32>(src, 0u));
`);
}

/** mode over rows sorted ascending: the longest run of equal keys (the first such run), its last entry. */
export function modeSource(d, b, v) {
  const S = v[3];
  return PRELUDE + b + main(`
  let n = pu(4u);
  let base = 3u * t * pu(3u);
  var freq = 0u; var best = 0u; var m = ${S}[base + 2u];
  for (var q = 0u; q < n; q++) {
    freq++;
    let a = base + 3u * q;
    if (q == n - 1u || ${S}[a] != ${S}[a + 3u] || ${S}[a + 1u] != ${S}[a + 4u]) {
      if (freq > best) { m = ${S}[a + 2u]; best = freq; }
      freq = 0u;
    }
  }
  strw_V(pu(8u) + t, raw_X(pu(7u) + t * n + m));
  strw_I(pu(9u) + t, vec2<u32>(m, 0u));
`);
}

/** cummax / cummin (ATen: NaN propagates and sticks; ties take the later index). */
export const cumextSpecs = (d) => sortOutSpecs(d).slice(0, 3);
export function cumextSource(d, b) {
  const f = isFloat(d);
  // ints compare as 64-bit (int64 exactly; narrower ints sign-extended)
  const key = d === DT.int64 ? 'raw_X(e)' : 'sx(ld_X(e))';
  const take = f
    ? 'let x = ld_X(e); let tk = isnan_(x) || (!isnan_(best) && select(x <= best, x >= best, isMax));'
    : `let x = ${key}; let tk = select(!lt64(best, x), !lt64(x, best), isMax);`;
  return PRELUDE + b + `
fn sx(v: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0)); }
fn lt64(a: vec2<u32>, b: vec2<u32>) -> bool {
  let ah = bitcast<i32>(a.y); let bh = bitcast<i32>(b.y);
  return ah < bh || (ah == bh && a.x < b.x);
}` + main(`
  let n = pu(3u); let inner = pu(4u);
  let base = (t / inner) * n * inner + t % inner;
  let isMax = pu(8u) == 0u;
  var e = pu(5u) + base;
  var best = ${f ? 'ld_X(e)' : key};
  var idx = 0u;
  for (var j = 0u; j < n; j++) {
    e = pu(5u) + base + j * inner;
    ${take}
    if (tk) { best = x; idx = j; }
    strw_I(pu(7u) + base + j * inner, vec2<u32>(idx, 0u));
    strw_V(pu(6u) + base + j * inner, raw_X(pu(5u) + base + idx * inner));
  }
`);
}

export const lcseSpecs = (d) => [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'X', dt: d }];
export function lcseSource(d, b) {
  return PRELUDE + b + helpersFor('log1p_(') + main(`
  let n = pu(3u); let inner = pu(4u);
  let base = (t / inner) * n * inner + t % inner;
  var acc = -inf_();
  for (var j = 0u; j < n; j++) {
    let p = base + j * inner;
    let x = ld_X(pu(5u) + p);
    let y = acc;
    var mn = select(min(x, y), y, isnan_(y));
    var mx = select(max(x, y), y, isnan_(y));
    if (isnan_(x)) { mn = x; mx = x; }
    if (mn != mx || !isinf_(mn)) { acc = log1p_(exp(mn - mx)) + mx; } else { acc = x; }
    st_O(pu(6u) + p, acc);
  }
`);
}

/** searchsorted: boundaries and values of one dtype (float32 compared as floats, int64 as 64-bit ints). */
export const searchSpecs = (d) => [{ name: 'O', dt: DT.int64, write: true }, { name: 'B', dt: d }, { name: 'V', dt: d }];
export function searchSource(d, b) {
  const cmp = d === DT.int64
    ? `fn gt(a: vec2<u32>, b: vec2<u32>) -> bool { let ah = bitcast<i32>(a.y); let bh = bitcast<i32>(b.y); return ah > bh || (ah == bh && a.x > b.x); }
fn ge(a: vec2<u32>, b: vec2<u32>) -> bool { return !gt(b, a); }
fn ldB(i: u32) -> vec2<u32> { return raw_B(i); }
fn ldV(i: u32) -> vec2<u32> { return raw_V(i); }`
    : `fn gt(a: f32, b: f32) -> bool { return a > b; }
fn ge(a: f32, b: f32) -> bool { return a >= b; }
fn ldB(i: u32) -> f32 { return ld_B(i); }
fn ldV(i: u32) -> f32 { return ld_V(i); }`;
  return PRELUDE + b + cmp + main(`
  let nv = pu(3u); let nb = pu(4u);
  let r = t / nv;
  let row = pu(7u) + r * pu(5u);
  let v = ldV(pu(8u) + t);
  var lo = 0u; var hi = nb;
  let right = pu(6u) != 0u;
  while (lo < hi) {
    let mid = lo + ((hi - lo) >> 1u);
    let bm = ldB(row + mid);
    // ATen's cus_lower_bound / cus_upper_bound: move right while !(b >= v) / !(b > v)
    if (select(!ge(bm, v), !gt(bm, v), right)) { lo = mid + 1u; } else { hi = mid; }
  }
  strw_O(pu(9u) + t, vec2<u32>(lo, 0u));
`);
}
