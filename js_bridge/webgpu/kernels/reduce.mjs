// Reductions (sum/prod/max/min/argmax/argmin/any/all/max_index/min_index/count_nonzero), row softmax and
// cumulative scans. Semantics of wasm_ext/reduce.c, except that float sums accumulate in f32 (a tree over
// the workgroup, so still better than a sequential f32 sum).
//
// reduce: 256-invocation workgroups shaped to the data (reduceShape: several outputs per workgroup for short
// rows, coalesced columns for a reduction over a leading dim); an output's invocations stride over its reduced
// elements, then a tree in workgroup memory combines (value, index) pairs. Header: 0 n_out, 1 kept nd, 2 grid-x, 3 x offset,
// 4 out offset, 5 out2 offset, 6 reduced count, 7 reduced nd, 8 partials per output and 9 chunk (split pass 1).
// Arrays: kept shape, x kept strides, out strides, reduced shape, x reduced strides.
import { ARR, DT, PRELUDE, UnsupportedDtype, coalesce, ctype, cvt, isFloat, isSubword, kindOf, prelude } from './common.mjs';
import { INT64_WGSL } from './int64.mjs';

export const WG_RED = 64;   // cumulative scans' workgroup

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

// The same in the 'l' kind (int64 words as vec2<u32>, kernels/int64.mjs): identity, combine.
const RED64 = {
  sum: ['L0', 'a = ladd(a, v);'],
  prod: ['vec2<u32>(1u, 0u)', 'a = lmul(a, v);'],
  max: ['vec2<u32>(0u, 0x80000000u)', 'MAX'], argmax: ['vec2<u32>(0u, 0x80000000u)', 'AMAX'],
  max_index: ['vec2<u32>(0u, 0x80000000u)', 'AMAX'],
  min: ['vec2<u32>(0xffffffffu, 0x7fffffffu)', 'MIN'], argmin: ['vec2<u32>(0xffffffffu, 0x7fffffffu)', 'AMIN'],
  min_index: ['vec2<u32>(0xffffffffu, 0x7fffffffu)', 'AMIN'],
};

/**
 * The compute kind of reduction `op` of x dtype xd into od: 'l' (exact int64) for int64 values and for int64 sums /
 * products of narrower ints (PyTorch's int32 sum is int64; bool sums count, within int32), else x's kind.
 */
export function reduceKind(op, xd, od) {
  if (RED[op].bool) return 'i';
  if (xd === DT.int64 || (od === DT.int64 && (op === 'sum' || op === 'prod') && !isFloat(xd) && xd !== DT.bool)) return 'l';
  return kindOf(xd);
}

/** Store statement of value `e` of kind k into binding `b` (dtype d) at `at`. */
const storeKind = (b, at, k, d, e) => (k === 'l' && d === DT.int64 ? `strw_${b}(${at}, ${e});` : `st_${b}(${at}, ${cvt(k, kindOf(d), e)});`);

// Pair combine: take (v, vi) over (a, ai) when it is better, or equally good with a lower index; NaN wins
// (first NaN), as PyTorch CPU's max/argmax.
function pairComb(cmp, k) {
  if (k === 'l') return `if (${cmp === '>' ? 'llt(a, v)' : 'llt(v, a)'} || (all(v == a) && vi < ai)) { a = v; ai = vi; }`;
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

/**
 * The shape of a reduction's workgroup (256 invocations): `S` invocations share one output, `OX` = 256 / S outputs
 * per workgroup. 'row' layout (the reduced elements are contiguous, or nothing better applies): an output's S
 * invocations are adjacent and S fits the row (about 4 elements each, up to 256), so short rows (softmax over 10
 * classes, a 64-wide layer norm) fill the workgroup with many rows instead of idling 60 of 64 invocations.
 * 'col' layout (keptContiguous: the kept index is the contiguous one, as a sum over the batch dim): adjacent
 * invocations take adjacent outputs (coalesced reads) and S slices split the reduced range. `fast`: the reduced
 * dims are one strided dim, so an element's offset is a multiply, not a division per dim. `parts`: few outputs
 * of many elements (a full sum, a norm) run in two passes when `splittable`: pass 1 reduces chunks of `chunk`
 * elements into `parts` partials per output, every workgroup of the GPU busy instead of one per output.
 */
export function reduceShape(nout, R, { keptContiguous = false, reducedDims = 1, splittable = false } = {}) {
  const pow2 = (x) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  const fast = reducedDims <= 1;
  if (splittable && fast && !keptContiguous && nout <= SPLIT_MAX_OUT && R >= SPLIT_MIN_R) {
    const parts = Math.min(SPLIT_MAX_PARTS, Math.ceil(R / SPLIT_CHUNK));
    return { layout: 'row', OX: 1, S: WG_ROW, fast, parts, chunk: Math.ceil(R / parts) };
  }
  if (keptContiguous && nout >= 16) {
    const OX = pow2(nout) >= 64 ? 64 : pow2(nout) >= 32 ? 32 : 16;
    return { layout: 'col', OX, S: WG_ROW / OX, fast };
  }
  const S = Math.min(WG_ROW, pow2(Math.ceil(R / 4)));
  return { layout: 'row', OX: WG_ROW / S, S, fast };
}
export const WG_ROW = 256;

/**
 * How reduction `op` of a decoded REDUCE block `a` runs: the kept dims ks (x's strides kst[0], out's kst[1]) and
 * the reduced dims rs (x's strides rst[0]), coalesced; nout outputs of R elements each; ws = reduceShape's.
 * (index.mjs runs it; lazy.mjs asks it whether a workgroup owns whole rows, for a row epilogue.)
 */
export function reducePlan(a, op) {
  const { nd, nred, shape, x_st: xst, out_st: ost } = a;
  const k = nd - nred;
  const [ks, kst] = coalesce(shape.slice(0, k), [xst.slice(0, k), ost]);
  const [rs, rst] = coalesce(shape.slice(k), [xst.slice(k)]);
  let nout = 1, R = 1;
  for (const s of ks) nout *= s;
  for (const s of rs) R *= s;
  if (k > 0 && shape.slice(0, k).some((s) => s === 0)) nout = 0;
  if (shape.slice(k).some((s) => s === 0)) R = 0;
  const keptContiguous = ks.length > 0 && kst[0][ks.length - 1] === 1 && !(rs.length === 1 && rst[0][0] === 1);
  const ws = reduceShape(nout, R, { keptContiguous, reducedDims: rs.length, splittable: op in SPLIT_SECOND });
  return { ks, kst, rs, rst, nout, R, ws };
}
const SPLIT_MAX_OUT = 64, SPLIT_MIN_R = 1 << 15, SPLIT_CHUNK = 4096, SPLIT_MAX_PARTS = 1024;
// what pass 2 of a split reduction runs over the partials (ops with an index never split)
export const SPLIT_SECOND = { sum: 'sum', prod: 'prod', max: 'max', min: 'min', any: 'any', all: 'all', count_nonzero: 'sum' };

/**
 * WGSL of reduction `op` (x dtype xd, out od, out2 o2d; b: the bindings; shape: reduceShape's). `fuse`
 * (kernels/fused.mjs fusedReduce) may replace the element load and the result's store: {words (params),
 * load(offset expr) -> the element in x's compute kind, store(result expr, its kind, S) -> statements (output index
 * `j`; S: the invocations per output), fns() -> the functions they need, row: with a row epilogue}.
 */
export function reduceSource(op, xd, od, o2d, b, shape = { layout: 'row', OX: 1, S: WG_ROW, fast: false }, fuse = null) {
  const r = RED[op];
  if (!r) throw Object.assign(new Error(`unknown reduce op ${op}`), { code: 2 });
  const { layout, OX, S, fast, parts } = shape;
  const k = reduceKind(op, xd, od);
  if (k === 'l' && !RED64[op]) throw new UnsupportedDtype(xd);
  const T = k === 'l' ? 'vec2<u32>' : ctype(k);
  let comb = k === 'l' ? RED64[op][1] : r.comb;
  if (comb === 'MAX' || comb === 'AMAX') comb = pairComb('>', k);
  if (comb === 'MIN' || comb === 'AMIN') comb = pairComb('<', k);
  const ldx = fuse?.load ? fuse.load('off') : 'ld_X(off)';
  const load = k === 'l' ? (xd === DT.int64 ? 'raw_X(off)' : cvt(kindOf(xd), 'l', ldx)) : r.bool ? (xd === DT.int64 ? 'i32(any(raw_X(off) != vec2<u32>(0u)))' : `i32(${ldx} != ${k === 'i' && !isFloat(xd) ? '0' : '0.0'})`)
    : ldx;
  const withIdx = op === 'max_index' || op === 'min_index';
  const index = op === 'argmax' || op === 'argmin';
  let store;
  // a row epilogue (fuse.row, 'row' layout): every invocation of an output takes its result (after the tree, from
  // workgroup memory), the epilogue's stores stay with slice 0, and fuse.store adds the walk over the row
  const row = !!fuse?.row;
  const [A, AI] = row && S > 1 ? [`sv[o * ${S}u]`, `si[o * ${S}u]`] : ['a', 'ai'];
  // fused 'l' (lazy.mjs records no int64 sums but count_nonzero's, whose pass 2 sums int32 counts): within int32
  if (fuse?.store) {
    store = k === 'l' && !index ? fuse.store('bitcast<i32>(a.x)', 'i') : fuse.store(index ? `i32(${AI})` : A, index ? 'i' : k, S);
  }
  else if (index) store = `st_O(oo, ${cvt('i', kindOf(od), 'i32(ai)')});`;
  else if (withIdx) store = `${storeKind('O', 'oo', k, od, 'a')} st_O2(pu(5u) + oo - pu(4u), i32(ai));`;
  else store = storeKind('O', 'oo', k, od, 'a');
  // invocation (o, s) of the workgroup: output o, slice s; its slot in workgroup memory
  const [oOf, sOf] = layout === 'row' ? [`lid.x / ${S}u`, `lid.x % ${S}u`] : [`lid.x % ${OX}u`, `lid.x / ${OX}u`];
  const slot = (sx) => (layout === 'row' ? `o * ${S}u + ${sx}` : `(${sx}) * ${OX}u + o`);
  const offset = fast ? '    let off = xo + t * pu(' + ARR(4) + 'u);\n' : `    var off = xo; var q = t;
    for (var d = i32(pu(7u)) - 1; d >= 0; d--) {
      let sz = pu(${ARR(3)}u + u32(d)); let c = q % sz; q = q / sz; off += c * pu(${ARR(4)}u + u32(d));
    }
`;
  const tree = S > 1 ? `  sv[lid.x] = a; si[lid.x] = ai;
  workgroupBarrier();
  for (var h = ${S / 2}u; h > 0u; h >>= 1u) {
    if (s < h) {
      let v = sv[${slot('s + h')}]; let vi = si[${slot('s + h')}];
      ${comb}
      sv[lid.x] = a; si[lid.x] = ai;
    }
    workgroupBarrier();
  }
` : '';
  return (fuse ? prelude(fuse.words) + b + fuse.fns() : PRELUDE + b) + (k === 'l' ? INT64_WGSL : '') + `
var<workgroup> sv: array<${T}, ${WG_ROW}>;
var<workgroup> si: array<u32, ${WG_ROW}>;
@compute @workgroup_size(${WG_ROW})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = ${oOf}; let s = ${sOf};
  let jo = (gid.y * pu(2u) + gid.x) * ${OX}u + o;
  let valid = jo < pu(0u);   // invocations past the last output still take part in the barriers
${parts ? `  // split pass 1: output jo = partial jo % parts of output jo / parts, over one chunk; partials contiguous
  let j = jo / pu(8u); let t0 = (jo % pu(8u)) * pu(9u); let R = select(0u, min(pu(6u), t0 + pu(9u)), valid);
` : `  let j = jo; let t0 = 0u; let R = select(0u, pu(6u), valid);
`}  var xo = pu(3u); var oo = pu(4u); var rem = j;
  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {
    let sz = pu(${ARR(0)}u + u32(d)); let c = rem % sz; rem = rem / sz;
    xo += c * pu(${ARR(1)}u + u32(d)); oo += c * pu(${ARR(2)}u + u32(d));
  }
${parts ? '  oo = pu(4u) + jo;\n' : ''}  var a: ${T} = ${k === 'l' ? RED64[op][0] : r[k]};
  var ai: u32 = 0xffffffffu;
  for (var t = t0 + s; t < R; t += ${S}u) {
${offset}    let v: ${T} = ${load}; let vi = t;
    ${comb}
  }
${tree}${row ? `  if (valid) {\n    ${store}\n  }` : `  if (s == 0u && valid) { ${store} }`}
}
`;
}

// softmax / log_softmax over contiguous rows of n: `S` invocations per row (fitting the row, as reduceShape),
// 256 / S rows per workgroup. One pass gathers each invocation's (max, sum of exp(x - max)) online, merged over
// the row in workgroup memory; a second pass writes. With `cache` (n <= S * cache) the row stays in registers
// between the passes: one read of x. A NaN or +inf anywhere makes the whole row NaN, as PyTorch's
// exp(x - max) / sum does; a row of -inf gives NaN too (0 / 0). Header: 0 rows, 1 n, 2 grid-x, 3 x offset,
// 4 out offset, 5 log.
export const SOFTMAX_CACHE = 8;
export function softmaxShape(n) {
  const pow2 = (x) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  const S = Math.min(WG_ROW, pow2(Math.ceil(n / SOFTMAX_CACHE)));
  return { S, OX: WG_ROW / S, cache: n <= S * SOFTMAX_CACHE ? SOFTMAX_CACHE : 0 };
}

/**
 * The entry point of a row kernel (softmax, kernels/norm.mjs): S invocations per contiguous row, OX rows per
 * workgroup; header 0 rows, 1 n, 2 grid-x, 3 x offset, 4 out offset. Defines t (the invocation in its row), row,
 * valid, n (0 past the last row), xb, ob.
 */
export function rowMain(S, OX) {
  return `@compute @workgroup_size(${WG_ROW})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x % ${S}u;
  let row = (gid.y * pu(2u) + gid.x) * ${OX}u + lid.x / ${S}u;
  let valid = row < pu(0u);   // invocations past the last row still take part in the barriers
  let n = select(0u, pu(1u), valid);
  let xb = pu(3u) + row * n; let ob = pu(4u) + row * n;
`;
}

export function softmaxSource(xd, od, b, shape = softmaxShape(1 << 30)) {
  if (!isFloat(xd) || !isFloat(od)) throw new UnsupportedDtype(xd);
  const { S, OX, cache } = shape;
  const upd = `if (isnan_(v) || (isinf_(v) && v > 0.0)) { bad = true; } else if (v > m) { sum = sum * exp(m - v) + 1.0; m = v; } else if (v > -inf_()) { sum += exp(v - m); }`;
  let pass1, pass2;
  if (cache) {
    pass1 = '';
    for (let e = 0; e < cache; e++) {
      pass1 += `  var x${e} = 0.0; if (t + ${e * S}u < n) { x${e} = ld_X(xb + t + ${e * S}u); { let v = x${e}; ${upd} } }\n`;
    }
    pass2 = '';
    for (let e = 0; e < cache; e++) pass2 += `  if (t + ${e * S}u < n) { st_O(ob + t + ${e * S}u, res(x${e})); }\n`;
  } else {
    pass1 = `  for (var i = t; i < n; i += ${S}u) { let v = ld_X(xb + i); ${upd} }\n`;
    pass2 = `  for (var i = t; i < n; i += ${S}u) { st_O(ob + i, res(ld_X(xb + i))); }\n`;
  }
  const tree = S > 1 ? `  sm[lid.x] = m; ss[lid.x] = sum; sb[lid.x] = u32(bad);
  workgroupBarrier();
  for (var h = ${S / 2}u; h > 0u; h >>= 1u) {
    if (t < h) {
      let m2 = sm[lid.x + h]; let s2 = ss[lid.x + h];
      let mm = max(m, m2);
      if (mm > -inf_()) { sum = sum * exp(m - mm) + s2 * exp(m2 - mm); }
      m = mm;
      bad = bad || sb[lid.x + h] != 0u;
      sm[lid.x] = m; ss[lid.x] = sum; sb[lid.x] = u32(bad);
    }
    workgroupBarrier();
  }
  m = sm[lid.x - t]; sum = ss[lid.x - t]; bad = sb[lid.x - t] != 0u;
` : '';
  return PRELUDE + b + `
var<workgroup> sm: array<f32, ${WG_ROW}>;
var<workgroup> ss: array<f32, ${WG_ROW}>;
var<workgroup> sb: array<u32, ${WG_ROW}>;
var<private> m: f32;
var<private> sum: f32;
var<private> bad: bool;
var<private> lsum: f32;
var<private> islog: bool;
fn res(v: f32) -> f32 {
  // explicitly: exp(NaN) and log(0) are not NaN and -inf everywhere (SwiftShader); sum is 0 only for all -inf
  if (bad || sum == 0.0) { return nan_(); }
  let z = v - m;
  return select(exp(z) / sum, z - lsum, islog);
}
${rowMain(S, OX)}  m = -inf_(); sum = 0.0; bad = false;
${pass1}${tree}  lsum = log(sum); islog = pu(5u) == 1u;
${pass2}}
`;
}

// cumsum / cumprod over [outer, n, inner] contiguous: one invocation per (outer, inner) scans n sequentially.
// Header: 0 outer*inner, 1 n, 2 grid-x, 3 x offset, 4 out offset, 5 inner.
export function cumulativeSource(op, xd, od, b) {
  const k = od === DT.int64 ? 'l' : kindOf(od);   // int64: exact ('l', kernels/int64.mjs)
  const comb = k === 'l' ? (op === 'sum' ? 'acc = ladd(acc, v);' : 'acc = lmul(acc, v);') : (op === 'sum' ? 'acc = acc + v;' : 'acc = acc * v;');
  const at = 'pu(3u) + base + t * inner';
  const one = { f: '1.0', i: '1', l: 'vec2<u32>(1u, 0u)' }[k], zero = { f: '0.0', i: '0', l: 'L0' }[k];
  return PRELUDE + b + (k === 'l' ? INT64_WGSL : '') + `
@compute @workgroup_size(${WG_RED})
fn main(@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = (gid.y * pu(2u) + gid.x) * ${WG_RED}u + lid.x;
  if (j >= pu(0u)) { return; }
  let inner = pu(5u); let n = pu(1u);
  let base = (j / inner) * n * inner + j % inner;
  var acc: ${k === 'l' ? 'vec2<u32>' : ctype(k)} = ${op === 'sum' ? zero : one};
  for (var t = 0u; t < n; t++) {
    let v = ${xd === DT.int64 && k === 'l' ? `raw_X(${at})` : cvt(kindOf(xd), k, `ld_X(${at})`)};
    ${comb}
    ${storeKind('O', 'pu(4u) + base + t * inner', k, od, 'acc')}
  }
}
`;
}
