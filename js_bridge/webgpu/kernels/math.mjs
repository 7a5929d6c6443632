// WGSL math helpers that the builtins lack or get wrong at the edges (WGSL leaves log(-1), sqrt(-1),
// pow(-2, 3), tanh(100) ... undefined). Each kernel includes only the helpers its expression names.

const H = {
  // sin/cos: Cody-Waite reduction by pi/2 and cephes sinf/cosf polynomials (some drivers' builtins, e.g.
  // SwiftShader's, are only good to ~2e-4 absolute).
  sincos_: `fn sincos_(x: f32) -> vec2<f32> {
  if (isinf_(x) || isnan_(x)) { return vec2<f32>(nan_(), nan_()); }
  let k = round(x * 0.63661977236758134);
  var r = x - k * 1.5703125;
  r = r - k * 4.837512969970703125e-4;
  r = r - k * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(k) & 3;
  if (q == 0) { return vec2<f32>(s, c); }
  if (q == 1) { return vec2<f32>(c, -s); }
  if (q == 2) { return vec2<f32>(-s, -c); }
  return vec2<f32>(-c, s); }`,
  log_: `fn log_(x: f32) -> f32 { if (x < 0.0) { return nan_(); } if (x == 0.0) { return -inf_(); } return log(x); }`,
  log2_: `fn log2_(x: f32) -> f32 { if (x < 0.0) { return nan_(); } if (x == 0.0) { return -inf_(); } return log2(x); }`,
  sqrt_: `fn sqrt_(x: f32) -> f32 { if (x < 0.0) { return nan_(); } return sqrt(x); }`,
  tan_: `fn tan_(x: f32) -> f32 { let sc = sincos_(x); return sc.x / sc.y; }`,
  tanh_: `fn tanh_(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }`,
  // Kahan's tricks: accurate log1p / expm1 from plain log / exp.
  log1p_: `fn log1p_(x: f32) -> f32 {
  if (x < -1.0) { return nan_(); } if (x == -1.0) { return -inf_(); } if (isinf_(x)) { return x; }
  let u = 1.0 + x; if (u == 1.0) { return x; } return log(u) * x / (u - 1.0); }`,
  expm1_: `fn expm1_(x: f32) -> f32 {
  if (x > 88.7) { return inf_(); } if (x < -20.0) { return -1.0; }
  let u = exp(x); if (u == 1.0) { return x; } let um = u - 1.0; if (um == -1.0) { return -1.0; }
  return um * x / log(u); }`,
  // erfc with fractional error < 1.2e-7 (Numerical Recipes erfcc); erf = 1 - erfc away from 0.
  erfc_: `fn erfc_(x: f32) -> f32 {
  let z = abs(x); let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r, 2.0 - r, x < 0.0); }`,
  erf_: `fn erf_(x: f32) -> f32 {
  if (abs(x) < 0.5) {   // series keeps relative accuracy near 0
    let x2 = x * x;
    return x * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268656945 + x2 * 0.0052239776))));
  }
  return 1.0 - erfc_(x); }`,
  // log|Gamma(x)|: Lanczos (g=7, n=9) for x >= 0.5, reflection below.
  lgamma_: `fn lgamma_pos(x: f32) -> f32 {
  let z = x - 1.0;
  var a = 0.99999999999980993;
  a += 676.5203681218851 / (z + 1.0); a += -1259.1392167224028 / (z + 2.0); a += 771.32342877765313 / (z + 3.0);
  a += -176.61502916214059 / (z + 4.0); a += 12.507343278686905 / (z + 5.0); a += -0.13857109526572012 / (z + 6.0);
  a += 9.9843695780195716e-6 / (z + 7.0); a += 1.5056327351493116e-7 / (z + 8.0);
  let t = z + 7.5;
  return 0.91893853320467274 + (z + 0.5) * log(t) - t + log(a); }
fn lgamma_(x: f32) -> f32 {
  if (isinf_(x)) { return inf_(); }
  if (x >= 0.5) { return lgamma_pos(x); }
  if (x == floor(x)) { return inf_(); }
  let s = abs(sin(3.14159265358979 * x));
  return 1.1447298858494002 - log(s) - lgamma_pos(1.0 - x); }`,
  // C pow(), including negative bases with integral exponents.
  pow_: `fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return nan_(); }
  let bi = b == floor(b);
  let odd = bi && abs(b) < 16777216.0 && (i32(abs(b)) & 1) == 1;
  if (a == 0.0) {
    if (b > 0.0) { return select(0.0, a, odd); }
    return select(inf_(), select(inf_(), -inf_(), bitcast<i32>(bitcast<u32>(a)) < 0), odd);
  }
  if (a < 0.0 && !bi) { return nan_(); }
  var r: f32;
  let ab = abs(a);
  if (b == 2.0) { r = ab * ab; } else if (b == 1.0) { r = ab; } else if (b == 0.5) { r = sqrt(ab); }
  else if (b == -1.0) { r = 1.0 / ab; } else if (b == 3.0) { r = ab * ab * ab; } else { r = exp2(b * log2(ab)); }
  return select(r, -r, a < 0.0 && odd); }`,
  sign_: `fn sign_(x: f32) -> f32 { return select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0); }`,
  clampf_: `fn clampf_(x: f32, lo: f32, hi: f32) -> f32 { let r = select(x, lo, x < lo); return select(r, hi, r > hi); }`,
  softplus_: `fn softplus_(x: f32, beta: f32, thr: f32) -> f32 { if (x * beta > thr) { return x; } return log1p_(exp(x * beta)) / beta; }`,
  elu_: `fn elu_(x: f32, nc: f32, pc: f32, ic: f32) -> f32 { if (x <= 0.0) { return expm1_(x * ic) * nc; } return x * pc; }`,
  maxnan_: `fn maxnan_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return a + b; } return select(b, a, a > b); }`,
  minnan_: `fn minnan_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return a + b; } return select(b, a, a < b); }`,
  fmax_: `fn fmax_(a: f32, b: f32) -> f32 { if (isnan_(a)) { return b; } if (isnan_(b)) { return a; } return select(b, a, a > b); }`,
  fmin_: `fn fmin_(a: f32, b: f32) -> f32 { if (isnan_(a)) { return b; } if (isnan_(b)) { return a; } return select(b, a, a < b); }`,
  fmod_: `fn fmod_(a: f32, b: f32) -> f32 {
  if (b == 0.0 || isinf_(a) || isnan_(a) || isnan_(b)) { return nan_(); } if (isinf_(b)) { return a; }
  let r = a - b * trunc(a / b);
  if (abs(r) >= abs(b)) { return a % b; }
  return select(r, 0.0 * a, r == 0.0); }`,
  remainder_: `fn remainder_(a: f32, b: f32) -> f32 {
  var m = fmod_(a, b); if (m != 0.0 && ((b < 0.0) != (m < 0.0))) { m += b; } return m; }`,
  divfloor_: `fn divfloor_(a: f32, b: f32) -> f32 {   // c10::div_floor_floating
  if (b == 0.0) { return a / b; }
  let mo = fmod_(a, b);
  var dv = (a - mo) / b;
  if (mo != 0.0 && ((b < 0.0) != (mo < 0.0))) { dv -= 1.0; }
  if (dv != 0.0) { var fl = floor(dv); if (dv - fl > 0.5) { fl += 1.0; } return fl; }
  return select(0.0, -0.0, (a / b) < 0.0); }`,
  hypot_: `fn hypot_(a: f32, b: f32) -> f32 {
  if (isinf_(a) || isinf_(b)) { return inf_(); }
  let m = max(abs(a), abs(b)); if (m == 0.0 || isnan_(m)) { return m + abs(a) + abs(b); }
  let x = a / m; let y = b / m; return m * sqrt(x * x + y * y); }`,
  copysign_: `fn copysign_(a: f32, b: f32) -> f32 { return bitcast<f32>((bitcast<u32>(a) & 0x7fffffffu) | (bitcast<u32>(b) & 0x80000000u)); }`,
  xlogy_: `fn xlogy_(x: f32, y: f32) -> f32 { if (isnan_(y)) { return y; } if (x == 0.0) { return 0.0; } return x * log_(y); }`,
  atan2_: `fn atan2_(y: f32, x: f32) -> f32 { if (isnan_(x) || isnan_(y)) { return nan_(); } return atan2(y, x); }`,
  // integer helpers (i32 compute; INT_MIN / -1 wraps)
  idiv_: `fn idiv_(a: i32, b: i32) -> i32 { if (b == 0) { return 0; } if (b == -1) { return -a; } return a / b; }
fn imod_(a: i32, b: i32) -> i32 { if (b == 0 || b == -1) { return 0; } return a % b; }`,
  ifloordiv_: `fn ifloordiv_(a: i32, b: i32) -> i32 {
  var q = idiv_(a, b); if (((a < 0) != (b < 0)) && imod_(a, b) != 0) { q -= 1; } return q; }`,
  irem_: `fn irem_(a: i32, b: i32) -> i32 { var r = imod_(a, b); if (r != 0 && ((r < 0) != (b < 0))) { r += b; } return r; }`,
  ipow_: `fn ipow_(a: i32, e: i32) -> i32 {
  if (e < 0) { if (a == 1) { return 1; } if (a == -1) { return select(1, -1, (e & 1) == 1); } return 0; }
  var r = 1; var base = a; var k = u32(e);
  loop { if (k == 0u) { break; } if ((k & 1u) == 1u) { r *= base; } base *= base; k >>= 1u; }
  return r; }`,
};
const DEPS = {
  tan_: ['sincos_'],
  log1p_: [], expm1_: [], erf_: ['erfc_'], softplus_: ['log1p_'], elu_: ['expm1_'], remainder_: ['fmod_'],
  divfloor_: ['fmod_'], xlogy_: ['log_'], ifloordiv_: ['idiv_'], irem_: ['idiv_'],
};

/** The helper definitions that expression source `src` calls (with their dependencies). */
export function helpersFor(src) {
  const need = new Set();
  const add = (name) => { if (need.has(name)) return; (DEPS[name] || []).forEach(add); need.add(name); };
  for (const name of Object.keys(H)) if (src.includes(name + '(')) add(name);
  if (src.includes('imod_(')) add('idiv_');
  return [...need].map((n) => H[n]).join('\n') + '\n';
}
