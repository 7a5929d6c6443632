// Shared WGSL pieces for every kernel family: dtype table, per-binding load/store functions, the params
// uniform, and the strided-index loop.
//
// Storage layout on the GPU is byte-for-byte the CPU layout (so uploads, readbacks and `view(dtype)` need no
// conversion). WGSL only has 32-bit storage words, so every buffer is bound as array<u32> and each dtype gets
// small load/store helpers:
//   - 4-byte dtypes (float32, int32): one word.
//   - 1- and 2-byte dtypes (bool, uint8, int8, int16, float16, bfloat16): loads extract a byte/half-word;
//     stores go through atomicAnd/atomicOr on the containing word, since neighbouring elements belong to other
//     invocations (the output binding is then array<atomic<u32>>).
//   - int64: two words, little-endian. WGSL has no i64: copies, casts, fill, where, take/put, sort keys and index
//     offsets use both words; elementwise ops, sum/prod/max/min/arg* reductions, cumsum/cumprod, integer matmul,
//     pooling and accumulating puts compute exactly in the 'l' kind (two words as vec2<u32>, kernels/int64.mjs).
//     Fused kernels take no int64 operands (lazy.mjs).
//   - float64: not supported (WGSL has no f64); the Python backend raises before we get here.
// Compute types: every float dtype computes in f32 ("f"), every integer/bool dtype in i32 ("i"), int64 in
// elementwise kernels in "l" (see above).

export const DT = {
  bool: 0, uint8: 1, int8: 2, int16: 3, int32: 4, int64: 5, float16: 6, bfloat16: 7, float32: 8, float64: 9,
};
export const DT_NAME = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));
export const ITEMSIZE = [1, 1, 1, 2, 4, 8, 2, 2, 4, 8];
export const isFloat = (d) => d >= 6 && d <= 9;
export const kindOf = (d) => (isFloat(d) ? 'f' : 'i');
export const ctype = (k) => (k === 'f' ? 'f32' : 'i32');
export const isSubword = (d) => ITEMSIZE[d] < 4;

// Params: one uniform slot per dispatch (dynamic offset). Word layout shared by all families:
//   0..15 header (family-specific), 16.. arrays of MAX_DIMS words (shape, then strides per operand).
export const MAX_DIMS = 16;
export const PARAM_WORDS = 112;              // 448 bytes, room for header + 6 arrays of 16
export const PARAM_SLOT_BYTES = 512;         // multiple of minUniformBufferOffsetAlignment (256)
export const ARR = (k) => 16 + k * MAX_DIMS; // word index of the k-th array

/** The shared WGSL prelude with a params uniform of `words` words (fused kernels take several slots). */
export const prelude = (words = PARAM_WORDS) => /* wgsl */`
struct Params { v: array<vec4<u32>, ${words / 4}> }
@group(0) @binding(0) var<uniform> P: Params;
fn pu(i: u32) -> u32 { return P.v[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
// through a var: WGSL rejects NaN / inf in constant expressions
fn nan_() -> f32 { var u = 0x7fc00000u; return bitcast<f32>(u); }
fn inf_() -> f32 { var u = 0x7f800000u; return bitcast<f32>(u); }
// NaN tests on the bits: a compiler may assume x == x.
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }
// float -> int as PyTorch CPU on x86: truncate; NaN / out of range give INT_MIN (narrower ints wrap later).
fn f2i(x: f32) -> i32 {
  if (x >= -2147483648.0 && x < 2147483648.0) { return i32(x); }
  return i32(-2147483647) - 1;
}
fn f2l(x: f32) -> vec2<u32> {   // float -> int64 bits (exact: an f32 has 24 significant bits)
  if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) { return vec2<u32>(0u, 0x80000000u); }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { let v = i32(t); return vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0)); }
  let hi = floor(t / 4294967296.0);
  let lo = t - hi * 4294967296.0;
  return vec2<u32>(u32(lo), bitcast<u32>(i32(hi)));
}
fn l2f(r: vec2<u32>) -> f32 {   // int64 bits -> float, rounded once (to nearest even, as the u32 conversion)
  let lo = bitcast<i32>(r.x);
  if (r.y == select(0u, 0xffffffffu, lo < 0)) { return f32(lo); }
  let neg = bitcast<i32>(r.y) < 0;
  var m = r;   // |v| (INT64_MIN: 2^63)
  if (neg) { m = vec2<u32>(0u - r.x, ~r.y + select(0u, 1u, r.x == 0u)); }
  var f: f32;
  if (m.y == 0u) { f = f32(m.x); } else {
    // the 32 leading bits, the bits below them folded into a sticky bit 0 (below f32's rounding position)
    let lz = countLeadingZeros(m.y);
    var top = m.y; var below = m.x;
    if (lz > 0u) { top = (m.y << lz) | (m.x >> (32u - lz)); below = m.x << lz; }
    f = ldexp(f32(top | select(0u, 1u, below != 0u)), i32(32u - lz));
  }
  return select(f, -f, neg);
}
fn f2h(f: f32) -> u32 {   // float -> f16 bits, round to nearest even (wasm_ext/cvt.h tjs_f2h)
  var u = bitcast<u32>(f);
  let sign = (u >> 16u) & 0x8000u;
  u = u & 0x7fffffffu;
  let n = (u + 0xc8000fffu + ((u >> 13u) & 1u)) >> 13u;
  let d = bitcast<u32>(bitcast<f32>(u) + 0.5) - 0x3f000000u;
  var r = select(n, d, u < 0x38800000u);
  let big = select(0x7c00u, 0x7e00u | ((u >> 13u) & 0x3ffu), u > 0x7f800000u);
  r = select(r, big, u >= 0x47800000u);
  return (r | sign) & 0xffffu;
}
fn h2f(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let em = h & 0x7fffu;
  var r = bitcast<u32>(bitcast<f32>(em << 13u) * 5.192296858534828e33);   // 2^112
  r = select(r, (em << 13u) | 0x7f800000u, em >= 0x7c00u);
  return bitcast<f32>(r | sign);
}
fn f2bf(f: f32) -> u32 {
  let u = bitcast<u32>(f);
  if (isnan_(f)) { return 0x7fc0u; }
  return ((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) & 0xffffu;
}
`;
export const PRELUDE = prelude();

// Word read/write on buffer variable `v` (atomic bindings need atomicLoad).
const rd = (v, atomic, w) => (atomic ? `atomicLoad(&${v}[${w}])` : `${v}[${w}]`);

/**
 * Alias pattern of a dispatch's buffer ids: for each operand, the index of the first operand with its buffer, as
 * one character (code 48 + index: '0'..'9' and on, so fused kernels with many operands fit too).
 */
export function aliasOf(ids) {
  let key = '';
  for (let k = 0; k < ids.length; k++) {
    let j = 0;
    while (ids[j] !== ids[k]) j++;
    key += String.fromCharCode(48 + j);
  }
  return key;
}
const aliasAt = (alias, k) => alias.charCodeAt(k) - 48;

/**
 * Bindings and helpers for a kernel's operands. WebGPU forbids binding one buffer twice when either binding is
 * writable, so operands that share a buffer (in-place ops, a + a) share one binding; the pipeline key carries
 * the alias pattern. specs: [{name, dt, write, atomic, vec4}] in binding order (after the params uniform);
 * alias: aliasOf(ids). Returns {code, sig ('r'/'w' per binding), slots (operand index bound at each slot)}.
 */
export function declare(specs, alias) {
  let code = '';
  let sig = '';
  const slots = [];
  const varOf = [];
  for (let k = 0; k < specs.length; k++) {
    const a = aliasAt(alias, k);
    if (a !== k) { varOf.push(varOf[a]); continue; }
    const group = specs.filter((_, j) => aliasAt(alias, j) === k);
    const write = group.some((s) => s.write);
    const atomic = group.some((s) => s.atomic);
    const v = specs[k].vec4 ? `${specs[k].name}4` : `buf${slots.length}`;   // vec4 operands are never aliased
    slots.push(k);
    varOf.push(v);
    const ty = specs[k].vec4 ? 'vec4<f32>' : (atomic ? 'atomic<u32>' : 'u32');
    code += `@group(0) @binding(${slots.length}) var<storage, ${write ? 'read_write' : 'read'}> ${v}: array<${ty}>;\n`;
    sig += write ? 'w' : 'r';
  }
  for (let k = 0; k < specs.length; k++) {
    const s = specs[k];
    const atomic = specs.some((t, j) => alias[j] === alias[k] && t.atomic);
    if (s.vec4) continue;
    code += loaders(s.name, s.dt, atomic, varOf[k]);
    if (s.write) code += storers(s.name, s.dt, atomic, varOf[k]);
  }
  return { code, sig, slots, varOf };
}

/**
 * Load helpers for operand `b` of dtype `d` on buffer variable `v`:
 *   ld_b(i) -> compute type (f32 or i32) of element i;
 *   raw_b(i) -> vec2<u32> raw bits (int64: both words; others: bits in .x);
 *   ldf_b(i) -> f32 (int64 through both words, for casts to float).
 */
export function loaders(b, d, atomic = false, v = b) {
  const R = (w) => rd(v, atomic, w);
  let raw, ld;
  switch (d) {
    case DT.float32: raw = `vec2<u32>(${R('i')}, 0u)`; ld = `bitcast<f32>(${R('i')})`; break;
    case DT.int32: raw = `vec2<u32>(${R('i')}, 0u)`; ld = `bitcast<i32>(${R('i')})`; break;
    case DT.int64: raw = `vec2<u32>(${R('2u * i')}, ${R('2u * i + 1u')})`; ld = `bitcast<i32>(${R('2u * i')})`; break;
    case DT.bool: case DT.uint8:
      raw = `vec2<u32>((${R('i >> 2u')} >> ((i & 3u) * 8u)) & 0xffu, 0u)`; ld = `i32(raw_${b}(i).x)`; break;
    case DT.int8:
      raw = `vec2<u32>((${R('i >> 2u')} >> ((i & 3u) * 8u)) & 0xffu, 0u)`;
      ld = `bitcast<i32>(raw_${b}(i).x << 24u) >> 24u`; break;
    case DT.int16:
      raw = `vec2<u32>((${R('i >> 1u')} >> ((i & 1u) * 16u)) & 0xffffu, 0u)`;
      ld = `bitcast<i32>(raw_${b}(i).x << 16u) >> 16u`; break;
    case DT.float16:
      raw = `vec2<u32>((${R('i >> 1u')} >> ((i & 1u) * 16u)) & 0xffffu, 0u)`; ld = `h2f(raw_${b}(i).x)`; break;
    case DT.bfloat16:
      raw = `vec2<u32>((${R('i >> 1u')} >> ((i & 1u) * 16u)) & 0xffffu, 0u)`; ld = `bitcast<f32>(raw_${b}(i).x << 16u)`; break;
    default: throw new UnsupportedDtype(d);
  }
  const ldf = d === DT.int64 ? `l2f(raw_${b}(i))` : (isFloat(d) ? `ld_${b}(i)` : `f32(ld_${b}(i))`);
  return `fn raw_${b}(i: u32) -> vec2<u32> { return ${raw}; }
fn ld_${b}(i: u32) -> ${ctype(kindOf(d))} { return ${ld}; }
fn ldf_${b}(i: u32) -> f32 { return ${ldf}; }
`;
}

/**
 * Store helpers for binding `b` of dtype `d`:
 *   strw_b(i, r: vec2<u32>) stores raw bits; st_b(i, v) stores a value of the dtype's compute type
 *   (wrapping to the dtype's width; bool stores v != 0); stf_b(i, v: f32) stores a float converted with
 *   PyTorch's cast rules (float -> int truncates, int64 exactly).
 * Sub-word dtypes need `atomic` (the binding is array<atomic<u32>>).
 */
export function storers(b, d, atomic, v = b) {
  const sz = ITEMSIZE[d];
  let strw;
  if (sz === 4) {
    strw = atomic ? `atomicStore(&${v}[i], r.x);` : `${v}[i] = r.x;`;
  } else if (sz === 8) {
    strw = atomic ? `atomicStore(&${v}[2u * i], r.x); atomicStore(&${v}[2u * i + 1u], r.y);`
      : `${v}[2u * i] = r.x; ${v}[2u * i + 1u] = r.y;`;
  } else {
    if (!atomic) throw new Error(`sub-word store on non-atomic binding ${b}`);
    const [w, sh, mask] = sz === 1 ? ['i >> 2u', '(i & 3u) * 8u', '0xffu'] : ['i >> 1u', '(i & 1u) * 16u', '0xffffu'];
    strw = `let w = ${w}; let sh = ${sh};
  atomicAnd(&${v}[w], ~(${mask} << sh)); atomicOr(&${v}[w], (r.x & ${mask}) << sh);`;
  }
  let bits;  // value (compute type) -> raw
  switch (d) {
    case DT.float32: bits = 'vec2<u32>(bitcast<u32>(v), 0u)'; break;
    case DT.float16: bits = 'vec2<u32>(f2h(v), 0u)'; break;
    case DT.bfloat16: bits = 'vec2<u32>(f2bf(v), 0u)'; break;
    case DT.bool: bits = 'vec2<u32>(select(0u, 1u, v != 0), 0u)'; break;
    case DT.int64: bits = 'vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0))'; break;
    default: bits = 'vec2<u32>(bitcast<u32>(v), 0u)';
  }
  let stf;  // f32 -> dtype with cast rules
  if (isFloat(d)) stf = `st_${b}(i, v);`;
  else if (d === DT.bool) stf = `st_${b}(i, select(0, 1, v != 0.0));`;
  else if (d === DT.int64) stf = `strw_${b}(i, f2l(v));`;
  else stf = `st_${b}(i, f2i(v));`;
  return `fn strw_${b}(i: u32, r: vec2<u32>) { ${strw} }
fn st_${b}(i: u32, v: ${ctype(kindOf(d))}) { strw_${b}(i, ${bits}); }
fn stf_${b}(i: u32, v: f32) { ${stf} }
`;
}

/** Value conversion between compute kinds (int -> float, float -> int with PyTorch's truncation). */
export function cvt(from, to, e) {
  if (from === to) return e;
  if (from === 'l') return to === 'f' ? `l2f(${e})` : `bitcast<i32>((${e}).x)`;   // 'l': int64 words (int64.mjs)
  if (to === 'l') return from === 'f' ? `f2l(${e})` : `l_(${e})`;
  return to === 'f' ? `f32(${e})` : `f2i(${e})`;
}

/**
 * WGSL statements computing element offsets `o0..o{n-1}` for linear index `i` over the shape at
 * array 0 and operand k's strides at array k+1; offsets start from header words offWords[k].
 */
export function stridedOffsets(n, offWords, ndWord = 1) {
  let s = '';
  for (let k = 0; k < n; k++) s += `  var o${k} = pu(${offWords[k]}u);\n`;
  s += `  var rem = i;
  for (var d = i32(pu(${ndWord}u)) - 1; d >= 0; d--) {
    let sz = pu(${ARR(0)}u + u32(d));
    let c = rem % sz;
    rem = rem / sz;
`;
  for (let k = 0; k < n; k++) s += `    o${k} += c * pu(${ARR(k + 1)}u + u32(d));\n`;
  s += '  }\n';
  return s;
}

/** Linear invocation id for a 2-D dispatch grid of `wg`-wide workgroups (x-count in header word 2). */
export const linearId = (wg) => `(gid.y * pu(2u) + gid.x) * ${wg}u + lid.x`;
export const ENTRY_ARGS = '@builtin(workgroup_id) gid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>';

/** A kernel entry over `wg`-wide workgroups: `body` runs with invocation id `id` < header word 0. */
export const kernelMain = (wg, id, body) => `
@compute @workgroup_size(${wg})
fn main(${ENTRY_ARGS}) {
  let ${id} = ${linearId(wg)};
  if (${id} >= pu(0u)) { return; }
${body}}
`;

export class UnsupportedDtype extends Error {
  constructor(d) { super(`dtype ${DT_NAME[d] ?? d} is not supported on webgpu`); this.dtype = d; this.code = 1; }
}

/** Workgroups per grid dimension (WebGPU's default maxComputeWorkgroupsPerDimension). */
export const MAX_GROUPS = 65535;

/** `groups` workgroups as a 2-D grid [x, y] within MAX_GROUPS per dimension (kernels index gid.y * x + gid.x). */
export function grid(groups) {
  const gx = Math.min(groups, MAX_GROUPS);
  return [gx, Math.ceil(groups / gx)];
}

/** Drop size-1 dims and merge dims that are contiguous in every stride list (shape, strides mutated copies). */
export function coalesce(shape, strides) {
  const s = [], st = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && strides.every((x, k) => st[k][last] === x[d] * shape[d])) {
      s[last] *= shape[d];
      strides.forEach((x, k) => { st[k][last] = x[d]; });
    } else {
      s.push(shape[d]);
      strides.forEach((x, k) => st[k].push(x[d]));
    }
  }
  return [s, st];
}
