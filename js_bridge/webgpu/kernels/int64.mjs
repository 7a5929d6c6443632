// Exact int64 arithmetic in WGSL, which has no 64-bit integers: a value is its two storage words as vec2<u32>
// (x = low word, y = high word, two's complement), the 'l' compute kind. Elementwise kernels with int64 operands,
// int64 sums / products / extrema and cumulative scans compute in it (wrapping modulo 2^64, as PyTorch's int64).
// Semantics of the i32 helpers in math.mjs (wasm_ext/ew_int.h): division by zero gives 0, x / -1 wraps.

// unary: op -> WGSL expression of `x` (vec2<u32>), p0 / p1 (int64 bounds, vec2<u32>) and p0f (f32); kind of the
// result: 'l' (int64 value) or 'i' (bool ops, i32 0/1).
const U = {
  neg: 'lneg(x)',
  abs: 'select(x, lneg(x), lsgn(x))',
  relu: 'select(x, L0, lsgn(x))',
  sign: 'lsign(x)',
  sgn_nonzero: 'lsign(x)',
  floor: 'x', ceil: 'x', round: 'x', trunc: 'x',
  square: 'lmul(x, x)',
  isnan: '0', isinf: '0', isfinite: '1', isposinf: '0', isneginf: '0',
  signbit: 'i32(lsgn(x))',
  logical_not: 'i32(!lnz(x))',
  bitwise_not: '~x',
  clamp: 'lclamp(x, p0, p1)',
  hardtanh: 'lclamp(x, p0, p1)',
  relu6: 'lclamp(x, L0, vec2<u32>(6u, 0u))',
  pow_scalar: 'lpow(x, l_(i32(p0f)))',
};
const U_BOOL = new Set(['isnan', 'isinf', 'isfinite', 'isposinf', 'isneginf', 'signbit', 'logical_not']);

// binary: op -> expression of `a`, `b` and alpha `al` (all vec2<u32>).
const B = {
  add: 'ladd(a, lmul(al, b))',
  sub: 'lsub(a, lmul(al, b))',
  mul: 'lmul(a, b)',
  floor_divide: 'lfloordiv(a, b)',
  remainder: 'lremainder(a, b)',
  fmod: 'lfmod(a, b)',
  trunc_divide: 'ldiv(a, b)',
  pow: 'lpow(a, b)',
  maximum: 'select(b, a, llt(b, a))', fmax: 'select(b, a, llt(b, a))',
  minimum: 'select(b, a, llt(a, b))', fmin: 'select(b, a, llt(a, b))',
  eq: 'i32(all(a == b))', ne: 'i32(any(a != b))',
  lt: 'i32(llt(a, b))', le: 'i32(!llt(b, a))', gt: 'i32(llt(b, a))', ge: 'i32(!llt(a, b))',
  logical_and: 'i32(lnz(a) && lnz(b))', logical_or: 'i32(lnz(a) || lnz(b))', logical_xor: 'i32(lnz(a) != lnz(b))',
  bitwise_and: 'a & b', bitwise_or: 'a | b', bitwise_xor: 'a ^ b',
  // PyTorch: a shift by a negative or >= 64 count gives 0 (left) or the sign (right)
  lshift: 'select(lshl(a, b.x), L0, lsgn(b) || b.y != 0u || b.x >= 64u)',
  rshift: 'lsar(a, select(b.x, 63u, lsgn(b) || b.y != 0u || b.x >= 63u))',
};
const B_BOOL = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor']);

/** {expr, kind} of unary `op` on int64, or null when int64 has no such op. */
export function unaryExpr64(op) {
  const e = U[op];
  return e === undefined ? null : { expr: e, kind: U_BOOL.has(op) ? 'i' : 'l' };
}

/** {expr, kind} of binary `op` on int64, or null when int64 has no such op. */
export function binaryExpr64(op) {
  const e = B[op];
  return e === undefined ? null : { expr: e, kind: B_BOOL.has(op) ? 'i' : 'l' };
}

/** The two words (lo, hi) of number v as an int64: truncated, saturating beyond the range, NaN as 0. */
export function int64Words(v) {
  if (!(v === v)) return [0, 0];
  if (v >= 2 ** 63) return [0xffffffff, 0x7fffffff];
  if (v <= -(2 ** 63)) return [0, 0x80000000];
  const b = BigInt.asUintN(64, BigInt(Math.trunc(v)));
  return [Number(b & 0xffffffffn), Number(b >> 32n)];
}

// The WGSL library (compilers drop what a kernel does not call).
export const INT64_WGSL = /* wgsl */`
const L0 = vec2<u32>(0u, 0u);
fn l_(v: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0)); }
fn lsgn(a: vec2<u32>) -> bool { return bitcast<i32>(a.y) < 0; }
fn lnz(a: vec2<u32>) -> bool { return any(a != L0); }
fn llt(a: vec2<u32>, b: vec2<u32>) -> bool {
  return bitcast<i32>(a.y) < bitcast<i32>(b.y) || (a.y == b.y && a.x < b.x); }
fn lult(a: vec2<u32>, b: vec2<u32>) -> bool { return a.y < b.y || (a.y == b.y && a.x < b.x); }
fn ladd(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x; return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x)); }
fn lsub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x)); }
fn lneg(a: vec2<u32>) -> vec2<u32> { return lsub(L0, a); }
fn mulhi_(a: u32, b: u32) -> u32 {   // high word of the 64-bit product of two u32, by 16-bit limbs
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p01 = a0 * b1; let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u); }
fn lmul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {   // the low 64 bits of the product (sign-agnostic)
  return vec2<u32>(a.x * b.x, mulhi_(a.x, b.x) + a.x * b.y + a.y * b.x); }
fn lsign(a: vec2<u32>) -> vec2<u32> {
  if (lsgn(a)) { return vec2<u32>(0xffffffffu, 0xffffffffu); } return select(L0, vec2<u32>(1u, 0u), lnz(a)); }
fn lclamp(x: vec2<u32>, lo: vec2<u32>, hi: vec2<u32>) -> vec2<u32> {   // min(max(x, lo), hi), as PyTorch
  let r = select(x, lo, llt(x, lo)); return select(r, hi, llt(hi, r)); }
fn lshl(a: vec2<u32>, s: u32) -> vec2<u32> {   // s < 64 (WGSL shifts count modulo 32)
  if (s == 0u) { return a; }
  if (s < 32u) { return vec2<u32>(a.x << s, (a.y << s) | (a.x >> (32u - s))); }
  return vec2<u32>(0u, a.x << (s - 32u)); }
fn lsar(a: vec2<u32>, s: u32) -> vec2<u32> {   // arithmetic shift right, s < 64
  if (s == 0u) { return a; }
  let hi = bitcast<i32>(a.y);
  if (s < 32u) { return vec2<u32>((a.x >> s) | (a.y << (32u - s)), bitcast<u32>(hi >> s)); }
  return vec2<u32>(bitcast<u32>(hi >> (s - 32u)), bitcast<u32>(hi >> 31u)); }
fn lshr1(a: vec2<u32>) -> vec2<u32> { return vec2<u32>((a.x >> 1u) | (a.y << 31u), a.y >> 1u); }
// unsigned n / d and n % d (d != 0): one word when both fit, else binary long division
fn ludivmod(n: vec2<u32>, d: vec2<u32>) -> array<vec2<u32>, 2> {
  if (n.y == 0u && d.y == 0u) { return array<vec2<u32>, 2>(vec2<u32>(n.x / d.x, 0u), vec2<u32>(n.x % d.x, 0u)); }
  var q = L0; var r = L0;
  for (var k = 63i; k >= 0; k--) {
    let bit = select((n.x >> u32(k)) & 1u, (n.y >> u32(k - 32)) & 1u, k >= 32);
    r = vec2<u32>((r.x << 1u) | bit, (r.y << 1u) | (r.x >> 31u));
    if (!lult(r, d)) {
      r = lsub(r, d);
      if (k >= 32) { q.y |= 1u << u32(k - 32); } else { q.x |= 1u << u32(k); }
    }
  }
  return array<vec2<u32>, 2>(q, r); }
fn labs_(a: vec2<u32>) -> vec2<u32> { return select(a, lneg(a), lsgn(a)); }   // INT64_MIN: 2^63 unsigned
fn ldiv(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {   // truncating
  if (!lnz(b)) { return L0; }
  let q = ludivmod(labs_(a), labs_(b))[0];
  return select(q, lneg(q), lsgn(a) != lsgn(b)); }
fn lfmod(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {   // sign of a
  if (!lnz(b)) { return L0; }
  let r = ludivmod(labs_(a), labs_(b))[1];
  return select(r, lneg(r), lsgn(a)); }
fn lfloordiv(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  var q = ldiv(a, b);
  if (lsgn(a) != lsgn(b) && lnz(lfmod(a, b))) { q = lsub(q, vec2<u32>(1u, 0u)); }
  return q; }
fn lremainder(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {   // sign of b
  var r = lfmod(a, b);
  if (lnz(r) && lsgn(r) != lsgn(b)) { r = ladd(r, b); }
  return r; }
fn lpow(a: vec2<u32>, e: vec2<u32>) -> vec2<u32> {
  if (lsgn(e)) {
    if (all(a == vec2<u32>(1u, 0u))) { return a; }
    if (all(a == vec2<u32>(0xffffffffu, 0xffffffffu))) { return select(vec2<u32>(1u, 0u), a, (e.x & 1u) == 1u); }
    return L0;
  }
  var r = vec2<u32>(1u, 0u); var base = a; var k = e;
  loop { if (!lnz(k)) { break; } if ((k.x & 1u) == 1u) { r = lmul(r, base); } base = lmul(base, base); k = lshr1(k); }
  return r; }
`;
