// Reductions (sum/prod/max/min/argmax/argmin/any/all/max_index/min_index/count_nonzero), row softmax and
// cumulative scans. Semantics of wasm_ext/reduce.c, except that float sums accumulate in f32 (a tree over
// the workgroup, so still better than a sequential f32 sum).
//
// reduce: one workgroup per output element; its WG invocations stride over the reduced elements, then a
// tree in workgroup memory combines (value, index) pairs. Header: 0 n_out, 1 kept nd, 2 grid-x, 3 x offset,
// 4 out offset, 5 out2 offset, 6 reduced count, 7 reduced nd. Arrays: kept shape, x kept strides, out strides,
// reduced shape, x reduced strides.
import { ARR, DT, PRELUDE, UnsupportedDtype, ctype, cvt, isFloat, isSubword, kindOf } from './common.mjs';

export const WG_RED = 64;

// op -> [identity (by kind), combine (acc a/ai with candidate v/vi -> new a, ai), result kind of `a`]
const RED = {
  sum: { f: '0.0', i: '0', comb: 'a = a + v;' },
  prod: { f: '1.0', i: '1', comb: 'a = a * v;' },
  max: { f: '-inf_()', i: 'i32(-2147483647) - 1', comb: 'MAX' },
  min: { f: 'inf_()', i: 'i32(2147483647)', comb: 'MIN' },
  argmax: { f: '-inf_()', i: 'i32(-2147483647) - 1', comb: 'AMAX', index: true },
  argmin: { f: 'inf_()', i: 'i32(2147483647)', comb: 'AMIN', index: true },
  max_index: { f: '-inf_()', i: 'i32(-2147483647) - 1', comb: 'AMAX', index: true },
  min_index: { f: 'inf_()', i: 'i32(2147483647)', comb: 'AMIN', index: true },
  any: { i: '0', comb: 'a = a | v;', bool: true },
  all: { i: '1', comb: 'a = a & v;', bool: true },
  count_nonzero: { i: '0', comb: 'a = a + v;', bool: true },
};
export const REDUCE_OPS = RED;

// Pair combine: take (v, vi) over (a, ai) when it is better, or equally good with a lower index; NaN wins
// (first NaN), as PyTorch CPU's max/argmax.
function pairComb(cmp, k) {
  if (k === 'i') return `if (v ${cmp} a || (v == a && vi < ai)) { a = v; ai = vi; }`;
  return `{ let an = isnan_(a); let vn = isnan_(v);
    if ((vn && (!an || vi < ai)) || (!an && !vn && (v ${cmp} a || (v == a && vi < ai)))) { a = v; ai = vi; } }`;
}

/** Operand specs: out, x, and out2 (int64 indices) for max_index / min_index. */
export function reduceSpecs(op, xd, od, o2d) {
  const s = [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'X', dt: xd }];
  if (op === 'max_index' || op === 'min_index') s.push({ name: 'O2', dt: o2d, write: true, atomic: isSubword(o2d) });
  return s;
}

/** Specs for softmax and cumulative: out, x. */
export function rowSpecs(xd, od) {
  return [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'X', dt: xd }];
}

export function reduceSource(op, xd, od, o2d, b) {
  const r = RED[op];
  if (!r) throw Object.assign(new Error(`unknown reduce op ${op}`), { code: 2 });
  const k = r.bool ? 'i' : kindOf(xd);
  const T = ctype(k);
  let comb = r.comb;
  if (comb === 'MAX' || comb === 'AMAX') comb = pairComb('>', k);
  if (comb === 'MIN' || comb === 'AMIN') comb = pairComb('<', k);
  const load = r.bool ? (xd === DT.int64 ? 'i32(any(raw_X(off) != vec2<u32>(0u)))' : `i32(ld_X(off) != ${k === 'i' && !isFloat(xd) ? '0' : '0.0'})`)
    : 'ld_X(off)';
  const withIdx = op === 'max_index' || op === 'min_index';
  let store;
  if (op === 'argmax' || op === 'argmin') store = `st_O(oo, ${cvt('i', kindOf(od), 'i32(si[0])')});`;
  else if (withIdx) store = `st_O(oo, ${cvt(k, kindOf(od), 'sv[0]')}); st_O2(pu(5u) + oo - pu(4u), i32(si[0]));`;
  else store = `st_O(oo, ${cvt(k, kindOf(od), 'sv[0]')});`;
  return PRELUDE + b + `
var<workgroup> sv: array<${T}, ${WG_RED}>;
var<workgroup> si: array<u32, ${WG_RED}>;
@compute @workgroup_size(${WG_RED})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = gid.y * pu(2u) + gid.x;
  if (j >= pu(0u)) { return; }   // uniform per workgroup
  var xo = pu(3u); var oo = pu(4u); var rem = j;
  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {
    let sz = pu(${ARR(0)}u + u32(d)); let c = rem % sz; rem = rem / sz;
    xo += c * pu(${ARR(1)}u + u32(d)); oo += c * pu(${ARR(2)}u + u32(d));
  }
  var a: ${T} = ${r[k]};
  var ai: u32 = 0xffffffffu;
  let R = pu(6u);
  for (var t = lid.x; t < R; t += ${WG_RED}u) {
    var off = xo; var q = t;
    for (var d = i32(pu(7u)) - 1; d >= 0; d--) {
      let sz = pu(${ARR(3)}u + u32(d)); let c = q % sz; q = q / sz; off += c * pu(${ARR(4)}u + u32(d));
    }
    let v: ${T} = ${load}; let vi = t;
    ${comb}
  }
  sv[lid.x] = a; si[lid.x] = ai;
  workgroupBarrier();
  for (var s = ${WG_RED / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) {
      a = sv[lid.x]; ai = si[lid.x];
      let v = sv[lid.x + s]; let vi = si[lid.x + s];
      ${comb}
      sv[lid.x] = a; si[lid.x] = ai;
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) { ${store} }
}
`;
}

// softmax / log_softmax over contiguous rows: one workgroup per row. Header: 0 rows, 1 n, 2 grid-x,
// 3 x offset, 4 out offset, 5 log.
export function softmaxSource(xd, od, b) {
  if (!isFloat(xd) || !isFloat(od)) throw new UnsupportedDtype(xd);
  return PRELUDE + b + `
var<workgroup> sm: array<f32, ${WG_RED}>;
@compute @workgroup_size(${WG_RED})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = gid.y * pu(2u) + gid.x;
  if (row >= pu(0u)) { return; }
  let n = pu(1u); let xb = pu(3u) + row * n; let ob = pu(4u) + row * n;
  var m = -inf_();
  var nan = false;
  for (var t = lid.x; t < n; t += ${WG_RED}u) { let v = ld_X(xb + t); nan = nan || isnan_(v); m = max(m, v); }
  if (nan) { m = nan_(); }
  sm[lid.x] = m; workgroupBarrier();
  for (var s = ${WG_RED / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) { let o = sm[lid.x + s]; sm[lid.x] = select(max(sm[lid.x], o), nan_(), isnan_(o) || isnan_(sm[lid.x])); }
    workgroupBarrier();
  }
  m = sm[0];
  workgroupBarrier();
  if (isinf_(m) && m < 0.0) { m = 0.0; }
  var acc = 0.0;
  for (var t = lid.x; t < n; t += ${WG_RED}u) { acc += exp(ld_X(xb + t) - m); }
  sm[lid.x] = acc; workgroupBarrier();
  for (var s = ${WG_RED / 2}u; s > 0u; s >>= 1u) {
    if (lid.x < s) { sm[lid.x] += sm[lid.x + s]; }
    workgroupBarrier();
  }
  let tot = sm[0];
  let lt = log(tot);
  for (var t = lid.x; t < n; t += ${WG_RED}u) {
    let z = ld_X(xb + t) - m;
    st_O(ob + t, select(exp(z) / tot, z - lt, pu(5u) == 1u));
  }
}
`;
}

// cumsum / cumprod over [outer, n, inner] contiguous: one invocation per (outer, inner) scans n sequentially.
// Header: 0 outer*inner, 1 n, 2 grid-x, 3 x offset, 4 out offset, 5 inner.
export function cumulativeSource(op, xd, od, b) {
  const k = kindOf(od);
  const comb = op === 'sum' ? 'acc = acc + v;' : 'acc = acc * v;';
  return PRELUDE + b + `
@compute @workgroup_size(${WG_RED})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = (gid.y * pu(2u) + gid.x) * ${WG_RED}u + lid.x;
  if (j >= pu(0u)) { return; }
  let inner = pu(5u); let n = pu(1u);
  let base = (j / inner) * n * inner + j % inner;
  var acc: ${ctype(k)} = ${op === 'sum' ? (k === 'f' ? '0.0' : '0') : (k === 'f' ? '1.0' : '1')};
  for (var t = 0u; t < n; t++) {
    let v = ${cvt(kindOf(xd), k, 'ld_X(pu(3u) + base + t * inner)')};
    ${comb}
    st_O(pu(4u) + base + t * inner, acc);
  }
}
`;
}
