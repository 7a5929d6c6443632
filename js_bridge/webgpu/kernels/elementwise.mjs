// Elementwise families: unary, binary, where, copy (cast), fill (op 'iota': each element's index). One template per family; the op is an
// entry in a table of WGSL expressions (as tinygrad's code_for_op), and dtypes are substituted by the
// load/store helpers of common.mjs. Semantics follow wasm_ext/ew_float.h and ew_int.h.
//
// Header words: 0 n, 1 nd, 2 grid-x groups, 3.. element offsets (out first), 8..10 p0..p2 (f32 bits),
// 11 alpha (f32 bits), 12 alpha (i32), 13/14 fill bits (lo, hi). Arrays: shape, then strides per operand.
import {
  DT, ENTRY_ARGS, PRELUDE, UnsupportedDtype, ctype, cvt, isSubword, kindOf, linearId, stridedOffsets,
} from './common.mjs';
import { helpersFor } from './math.mjs';
import { INT64_WGSL, binaryExpr64, unaryExpr64 } from './int64.mjs';

export const WG = 256;

// unary: op -> {f: float expression of x, i: int expression, out: 'same' | 'bool'}; p0..p2 are f32 params.
// An entry without `i` has no integer kernel (PyTorch promotes those ops to float before they get here).
const U = {
  neg: { f: '-x', i: '-x' },
  abs: { f: 'abs(x)', i: 'select(x, -x, x < 0)' },
  exp: { f: 'exp(x)' },
  log: { f: 'log_(x)' },
  sqrt: { f: 'sqrt_(x)' },
  rsqrt: { f: '1.0 / sqrt_(x)' },
  sin: { f: 'sincos_(x).x' },
  cos: { f: 'sincos_(x).y' },
  tan: { f: 'tan_(x)' },
  tanh: { f: 'tanh_(x)' },
  sigmoid: { f: '1.0 / (1.0 + exp(-x))' },
  relu: { f: 'select(x, 0.0, x < 0.0)', i: 'select(x, 0, x < 0)' },
  log1p: { f: 'log1p_(x)' },
  expm1: { f: 'expm1_(x)' },
  // through atan2: some drivers' asin/acos are off by ~1e-4 near 0
  asin: { f: 'select(atan2(x, sqrt((1.0 - x) * (1.0 + x))), nan_(), abs(x) > 1.0)' },
  acos: { f: 'select(atan2(sqrt((1.0 - x) * (1.0 + x)), x), nan_(), abs(x) > 1.0)' },
  atan: { f: 'atan(x)' },
  sign: { f: 'sign_(x)', i: 'select(select(0, -1, x < 0), 1, x > 0)' },
  sgn_nonzero: { f: 'sign_(x)', i: 'select(select(0, -1, x < 0), 1, x > 0)' },
  floor: { f: 'floor(x)', i: 'x' },
  ceil: { f: 'ceil(x)', i: 'x' },
  round: { f: 'round(x)', i: 'x' },   // WGSL round() is half-to-even, as torch.round
  trunc: { f: 'trunc(x)', i: 'x' },
  frac: { f: 'x - trunc(x)' },
  reciprocal: { f: '1.0 / x' },
  square: { f: 'x * x', i: 'x * x' },
  erf: { f: 'erf_(x)' },
  erfc: { f: 'erfc_(x)' },
  isnan: { f: 'i32(isnan_(x))', i: '0', out: 'bool' },
  isinf: { f: 'i32(isinf_(x))', i: '0', out: 'bool' },
  isfinite: { f: 'i32(!isinf_(x) && !isnan_(x))', i: '1', out: 'bool' },
  isposinf: { f: 'i32(isinf_(x) && x > 0.0)', i: '0', out: 'bool' },
  isneginf: { f: 'i32(isinf_(x) && x < 0.0)', i: '0', out: 'bool' },
  signbit: { f: 'i32(bitcast<i32>(bitcast<u32>(x)) < 0)', i: 'i32(x < 0)', out: 'bool' },
  logical_not: { f: 'i32(x == 0.0)', i: 'i32(x == 0)', out: 'bool' },
  bitwise_not: { i: 'BNOT' },
  clamp: { f: 'clampf_(x, p0, p1)', i: 'ICLAMP' },
  hardtanh: { f: 'clampf_(x, p0, p1)', i: 'ICLAMP' },
  relu6: { f: 'clampf_(x, 0.0, 6.0)', i: 'select(select(x, 6, x > 6), 0, x < 0)' },
  pow_scalar: { f: 'pow_(x, p0)', i: 'ipow_(x, i32(p0))' },
  rpow_scalar: { f: 'pow_(p0, x)' },
  gelu_erf: { f: 'x * 0.5 * (1.0 + erf_(x * 0.70710678118654752440))' },
  gelu_tanh: { f: '0.5 * x * (1.0 + tanh_(0.79788456080286535588 * (x + 0.044715 * (x * x * x))))' },
  silu: { f: 'x / (1.0 + exp(-x))' },
  softplus: { f: 'softplus_(x, p0, p1)' },
  leaky_relu: { f: 'select(x * p0, x, x > 0.0)' },
  elu: { f: 'elu_(x, p0 * p1, p1, p2)' },
  selu: { f: 'elu_(x, 1.7580993408473766, 1.0507009873554805, 1.0)' },
  log2: { f: 'log2_(x)' },
  exp2: { f: 'exp2(x)' },
  log10: { f: 'log2_(x) * 0.30102999566398120' },
  sinh: { f: 'sinh(x)' },
  cosh: { f: 'cosh(x)' },
  asinh: { f: 'asinh(x)' },
  acosh: { f: 'select(acosh(x), nan_(), x < 1.0)' },
  atanh: { f: 'select(select(atanh(x), nan_(), abs(x) > 1.0), x * inf_(), abs(x) == 1.0)' },
  mish: { f: 'x * tanh_(log1p_(exp(x)))' },
  hardsigmoid: { f: 'clampf_(x + 3.0, 0.0, 6.0) / 6.0' },
  hardswish: { f: 'x * clampf_(x + 3.0, 0.0, 6.0) / 6.0' },
  logsigmoid: { f: 'min(x, 0.0) - log1p_(exp(-abs(x)))' },
  lgamma: { f: 'lgamma_(x)' },
};

// binary: op -> {f, i, out}; a, b are the operands, al is alpha (f32 for floats, i32 for ints).
const B = {
  add: { f: 'ADDF', i: 'a + al * b' },
  sub: { f: 'SUBF', i: 'a - al * b' },
  mul: { f: 'a * b', i: 'a * b' },
  div: { f: 'a / b' },
  floor_divide: { f: 'divfloor_(a, b)', i: 'ifloordiv_(a, b)' },
  remainder: { f: 'remainder_(a, b)', i: 'irem_(a, b)' },
  fmod: { f: 'fmod_(a, b)', i: 'imod_(a, b)' },
  trunc_divide: { f: 'trunc(a / b)', i: 'idiv_(a, b)' },
  pow: { f: 'pow_(a, b)', i: 'ipow_(a, b)' },
  maximum: { f: 'maxnan_(a, b)', i: 'max(a, b)' },
  minimum: { f: 'minnan_(a, b)', i: 'min(a, b)' },
  fmax: { f: 'fmax_(a, b)', i: 'max(a, b)' },
  fmin: { f: 'fmin_(a, b)', i: 'min(a, b)' },
  atan2: { f: 'atan2_(a, b)' },
  eq: { f: 'i32(a == b)', i: 'i32(a == b)', out: 'bool' },
  ne: { f: 'i32(a != b)', i: 'i32(a != b)', out: 'bool' },
  lt: { f: 'i32(a < b)', i: 'i32(a < b)', out: 'bool' },
  le: { f: 'i32(a <= b)', i: 'i32(a <= b)', out: 'bool' },
  gt: { f: 'i32(a > b)', i: 'i32(a > b)', out: 'bool' },
  ge: { f: 'i32(a >= b)', i: 'i32(a >= b)', out: 'bool' },
  logical_and: { f: 'i32(a != 0.0 && b != 0.0)', i: 'i32(a != 0 && b != 0)', out: 'bool' },
  logical_or: { f: 'i32(a != 0.0 || b != 0.0)', i: 'i32(a != 0 || b != 0)', out: 'bool' },
  logical_xor: { f: 'i32((a != 0.0) != (b != 0.0))', i: 'i32((a != 0) != (b != 0))', out: 'bool' },
  bitwise_and: { i: 'a & b' },
  bitwise_or: { i: 'a | b' },
  bitwise_xor: { i: 'a ^ b' },
  lshift: { i: 'SHL' },
  rshift: { i: 'SHR' },
  hypot: { f: 'hypot_(a, b)' },
  copysign: { f: 'copysign_(a, b)' },
  xlogy: { f: 'xlogy_(a, b)' },
};

export const UNARY_OPS = U;
export const BINARY_OPS = B;
const NBITS = { [DT.bool]: 8, [DT.uint8]: 8, [DT.int8]: 8, [DT.int16]: 16, [DT.int32]: 32, [DT.int64]: 64 };
const SIGNED = (d) => d === DT.int8 || d === DT.int16 || d === DT.int32 || d === DT.int64;
// Integer clamp bounds saturate to the dtype's range, as wasm_ext's tjs_sat_i64.
const RANGE = { [DT.bool]: [0, 1], [DT.uint8]: [0, 255], [DT.int8]: [-128, 127], [DT.int16]: [-32768, 32767] };

class OpError extends Error { constructor(m) { super(m); this.code = 2; } }
const unsupported = (d) => { throw new UnsupportedDtype(d); };

/** {expr, kind}: op's WGSL expression of `x` (and p0..p2) for input dtype d; kind of the result ('f' or 'i'). */
export function unaryExpr(op, d) {
  const e = U[op];
  if (!e) throw new OpError(`unknown unary op ${op}`);
  if (d === DT.int64) return unaryExpr64(op) ?? unsupported(d);   // exact on both words (int64.mjs)
  const k = kindOf(d);
  let x = e[k];
  if (x === undefined) throw new UnsupportedDtype(d);
  if (x === 'BNOT') x = d === DT.bool ? 'x ^ 1' : '~x';
  if (x === 'ICLAMP') {
    const [lo, hi] = RANGE[d] || [-2147483648, 2147483647];
    x = `iclamp_(x, p0, p1, f32(${lo}), f32(${hi}))`;
  }
  return { expr: x, kind: e.out === 'bool' ? 'i' : k };
}

/** {expr, kind}: op's WGSL expression of `a`, `b` (and alpha `al`) for operand dtype d. */
export function binaryExpr(op, d) {
  const e = B[op];
  if (!e) throw new OpError(`unknown binary op ${op}`);
  if (d === DT.int64) return binaryExpr64(op) ?? unsupported(d);
  const k = kindOf(d);
  let x = e[k];
  if (x === undefined) throw new UnsupportedDtype(d);
  if (x === 'ADDF') x = 'select(fma(al, b, a), a + b, al == 1.0)';
  if (x === 'SUBF') x = 'select(fma(-al, b, a), a - b, al == 1.0)';
  const nb = NBITS[d], sg = SIGNED(d) ? 1 : 0;
  if (x === 'SHL') x = `select(a << u32(b), 0, (${sg} == 1 && b < 0) || b >= ${Math.min(nb, 32)})`;
  if (x === 'SHR') x = `select(a >> u32(b), a >> ${Math.min(nb - sg, 31)}u, (${sg} == 1 && b < 0) || b >= ${Math.min(nb - sg, 31)})`;
  return { expr: x, kind: e.out === 'bool' ? 'i' : k };
}

export const ICLAMP = `fn iclamp_(x: i32, p0: f32, p1: f32, flo: f32, fhi: f32) -> i32 {
  let lo = i32(clamp(p0, flo, fhi)); let hi = i32(clamp(p1, flo, fhi));
  if (lo > hi) { return hi; } return select(select(x, hi, x > hi), lo, x < lo); }\n`;

/** Store statement of result `r` of kind `kind` ('l': int64 words, 'i') into O of dtype od. */
const store64 = (kind, od) => (kind === 'l' && od === DT.int64 ? 'strw_O(o0, r);' : `st_O(o0, ${cvt(kind, kindOf(od), 'r')});`);

function shell(bindings, body, extra = '') {
  return PRELUDE + bindings + extra + `
@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  let i = ${linearId(WG)};
  if (i >= pu(0u)) { return; }
${body}}
`;
}

/** Operand specs (for common.declare) of family `fam` with dtypes [out, in...]. */
export function elementwiseSpecs(fam, dts) {
  const names = { fill: ['O'], copy: ['O', 'X'], unary: ['O', 'X'], binary: ['O', 'A', 'B'], where: ['O', 'C', 'A', 'B'] }[fam];
  if (!names) throw new OpError(`unknown family ${fam}`);
  return names.map((name, k) => ({ name, dt: dts[k], write: k === 0, atomic: k === 0 && isSubword(dts[0]) }));
}

/** WGSL for family `fam` ('unary' | 'binary' | 'where' | 'copy' | 'fill'), op name, dtypes [out, in...]. */
export function elementwiseSource(fam, op, dts, b) {
  const od = dts[0];
  if (fam === 'fill' && op === 'iota') {   // the element's row-major index (buffers hold < 2^32 elements)
    const st = od === DT.int64 ? 'strw_O(o0, vec2<u32>(i, 0u));' : `st_O(o0, ${cvt('i', kindOf(od), 'i32(i)')});`;
    return shell(b, stridedOffsets(1, [3]) + `  ${st}\n`);
  }
  if (fam === 'fill') {
    return shell(b, stridedOffsets(1, [3]) + '  strw_O(o0, vec2<u32>(pu(13u), pu(14u)));\n');
  }
  if (fam === 'copy') {
    const xd = dts[1];
    let st;
    if (xd === od || (kindOf(xd) === 'f' && kindOf(od) === 'f')) st = xd === od ? 'strw_O(o0, raw_X(o1));' : 'st_O(o0, ld_X(o1));';
    else if (kindOf(xd) === 'f') st = 'stf_O(o0, ld_X(o1));';          // float -> int/bool: truncation rules
    else if (kindOf(od) === 'f') st = 'st_O(o0, ldf_X(o1));';          // int -> float (int64 exactly)
    else if (xd === DT.int64 && od === DT.bool) st = 'let r = raw_X(o1); st_O(o0, i32(r.x != 0u || r.y != 0u));';
    else st = 'st_O(o0, ld_X(o1));';                                  // int -> int: wrap
    return shell(b, stridedOffsets(2, [3, 4]) + `  ${st}\n`);
  }
  if (fam === 'where') {
    const cd = dts[1];
    const cond = cd === DT.int64 ? 'any(raw_C(o1) != vec2<u32>(0u))' : (kindOf(cd) === 'f' ? 'ld_C(o1) != 0.0' : 'ld_C(o1) != 0');
    return shell(b, stridedOffsets(4, [3, 4, 5, 6]) + `  if (${cond}) { strw_O(o0, raw_A(o2)); } else { strw_O(o0, raw_B(o3)); }\n`);
  }
  if (fam === 'unary' && dts[1] === DT.int64) {   // 'l' kind: int64 values as vec2<u32>; bounds as int64 words
    const { expr, kind } = unaryExpr(op, DT.int64);
    return shell(b, stridedOffsets(2, [3, 4]) +
      `  let x = raw_X(o1);\n  let p0 = vec2<u32>(pu(11u), pu(12u)); let p1 = vec2<u32>(pu(13u), pu(14u)); let p0f = pf(8u);
  let r = ${expr};\n  ${store64(kind, od)}\n`, INT64_WGSL);
  }
  if (fam === 'binary' && dts[1] === DT.int64) {
    const { expr, kind } = binaryExpr(op, DT.int64);
    return shell(b, stridedOffsets(3, [3, 4, 5]) +
      `  let a = raw_A(o1);\n  let b = raw_B(o2);\n  let al = vec2<u32>(pu(12u), pu(13u));\n  let r = ${expr};\n  ${store64(kind, od)}\n`,
      INT64_WGSL);
  }
  if (fam === 'unary') {
    const xd = dts[1];
    const { expr, kind } = unaryExpr(op, xd);
    const extra = helpersFor(expr) + (expr.includes('iclamp_') ? ICLAMP : '');
    return shell(b, stridedOffsets(2, [3, 4]) +
      `  let x = ld_X(o1);\n  let p0 = pf(8u); let p1 = pf(9u); let p2 = pf(10u);\n  let r = ${expr};\n  st_O(o0, ${cvt(kind, kindOf(od), 'r')});\n`, extra);
  }
  if (fam === 'binary') {
    const ad = dts[1];
    const { expr, kind } = binaryExpr(op, ad);
    const al = kindOf(ad) === 'f' ? 'pf(11u)' : 'pi(12u)';
    return shell(b, stridedOffsets(3, [3, 4, 5]) +
      `  let a = ld_A(o1);\n  let b = ld_B(o2);\n  let al = ${al};\n  let r = ${expr};\n  st_O(o0, ${cvt(kind, kindOf(od), 'r')});\n`,
      helpersFor(expr));
  }
  throw new OpError(`unknown family ${fam}`);
}
