// nn primitives: im2col / col2im (convolution as im2col + gemm) and pooling over up to three spatial dims (2-D
// passes D = 1, KD = 1), with the semantics of wasm_ext/conv.c and wasm_ext/pool.c (ABI.md). One invocation per
// output element; col2im gathers (each input voxel sums the column entries that read it), so it needs no atomics;
// pool_backward scatters with a compare-and-swap float add (the Python side zeroes grad_in first).
//
// Header words (all families): 0 n (invocations), 2 grid-x, then
//   im2col / col2im: 3 N, 4 C, 5 D, 6 H, 7 W, 8..22 geom (KD KH KW SD SH SW PD PH PW DD DH DW OD OH OW),
//     23 src offset, 24 dst offset, 25.. strides (im2col: x (5) then out (3); col2im: cols (3))
//   pool: 3 mode, 4 adaptive, 5 D, 6 H, 7 W, 8 OD, 9 OH, 10 OW, 11..22 (KD KH KW SD SH SW PD PH PW DD DH DW),
//     23 count_include_pad, 24 divisor_override, 25 x / grad_in offset, 26 out / grad_out offset, 27 idx offset
import { DT, ITEMSIZE, PRELUDE, isFloat, kernelMain } from './common.mjs';
import { INT64_WGSL } from './int64.mjs';

const WG = 256;
const main = (body) => kernelMain(WG, 'i', body);

// im2col / col2im geometry: per spatial dim k (0 depth, 1 height, 2 width) the input size, kernel, stride,
// padding, dilation and output size
const CONV_GEOM = `
fn cI(k: u32) -> i32 { return pi(5u + k); }
fn cK(k: u32) -> i32 { return pi(8u + k); }
fn cS(k: u32) -> i32 { return pi(11u + k); }
fn cP(k: u32) -> i32 { return pi(14u + k); }
fn cD(k: u32) -> i32 { return pi(17u + k); }
fn cO(k: u32) -> i32 { return pi(20u + k); }
`;

export function im2colSpecs(d) {
  return [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'X', dt: d }];
}

export function im2colSource(d, b) {
  return PRELUDE + b + CONV_GEOM + main(`
  let KK = cK(0u) * cK(1u) * cK(2u);
  let L = cO(0u) * cO(1u) * cO(2u); let R = pi(4u) * KK;
  let ii = i32(i);
  let l = ii % L; let r = (ii / L) % R; let n = ii / (L * R);
  let ow = l % cO(2u); let oh = (l / cO(2u)) % cO(1u); let od = l / (cO(2u) * cO(1u));
  let c = r / KK; let kk = r % KK;
  let kw = kk % cK(2u); let kh = (kk / cK(2u)) % cK(1u); let kd = kk / (cK(2u) * cK(1u));
  let id = od * cS(0u) - cP(0u) + kd * cD(0u);
  let ih = oh * cS(1u) - cP(1u) + kh * cD(1u);
  let iw = ow * cS(2u) - cP(2u) + kw * cD(2u);
  let o = pu(24u) + u32(n) * pu(30u) + u32(r) * pu(31u) + u32(l) * pu(32u);
  if (id < 0 || id >= cI(0u) || ih < 0 || ih >= cI(1u) || iw < 0 || iw >= cI(2u)) {
    strw_O(o, vec2<u32>(0u, 0u)); return;
  }
  let x = pu(23u) + u32(n) * pu(25u) + u32(c) * pu(26u) + u32(id) * pu(27u) + u32(ih) * pu(28u) + u32(iw) * pu(29u);
  strw_O(o, raw_X(x));
`);
}

export function col2imSpecs(d) {
  return [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'C', dt: d }];
}

export function col2imSource(d, b) {
  const f = isFloat(d);
  return PRELUDE + b + CONV_GEOM + main(`
  let D = cI(0u); let H = cI(1u); let W = cI(2u);
  let ii = i32(i);
  let iw = ii % W; let ih = (ii / W) % H; let id = (ii / (W * H)) % D;
  let c = (ii / (W * H * D)) % pi(4u); let n = ii / (W * H * D * pi(4u));
  var acc = ${f ? '0.0' : '0'};
  for (var kd = 0; kd < cK(0u); kd++) {
    let td = id + cP(0u) - kd * cD(0u);
    if (td < 0 || td % cS(0u) != 0 || td / cS(0u) >= cO(0u)) { continue; }
    for (var kh = 0; kh < cK(1u); kh++) {
      let th = ih + cP(1u) - kh * cD(1u);
      if (th < 0 || th % cS(1u) != 0 || th / cS(1u) >= cO(1u)) { continue; }
      for (var kw = 0; kw < cK(2u); kw++) {
        let tw = iw + cP(2u) - kw * cD(2u);
        if (tw < 0 || tw % cS(2u) != 0 || tw / cS(2u) >= cO(2u)) { continue; }
        let r = ((c * cK(0u) + kd) * cK(1u) + kh) * cK(2u) + kw;
        let l = ((td / cS(0u)) * cO(1u) + th / cS(1u)) * cO(2u) + tw / cS(2u);
        acc += ld_C(pu(23u) + u32(n) * pu(25u) + u32(r) * pu(26u) + u32(l) * pu(27u));
      }
    }
  }
  st_O(pu(24u) + i, acc);
`);
}

// the pooling window of one output: per spatial dim k taps [lo, hi) and the avg divisor
const WINDOW = `
struct Win { lo: vec3<i32>, hi: vec3<i32>, div: i32 }
fn window(o: vec3<i32>) -> Win {
  var w: Win;
  var padded = 1; var inside = 1;
  for (var k = 0u; k < 3u; k++) {
    let I = pi(5u + k); let O = pi(8u + k);
    if (pu(4u) == 1u) {
      w.lo[k] = (o[k] * I) / O; w.hi[k] = ((o[k] + 1) * I + O - 1) / O;
      continue;
    }
    let K = pi(11u + k); let S = pi(14u + k); let P = pi(17u + k); let Dl = pi(20u + k);
    var a = o[k] * S - P;
    if (pu(3u) == 0u) {
      let a1 = min(a + (K - 1) * Dl + 1, I);
      if (a < 0) { a += ((-a + Dl - 1) / Dl) * Dl; }
      w.lo[k] = a; w.hi[k] = a1;
      continue;
    }
    var a1 = min(a + K, I + P);
    padded *= a1 - a;
    a = max(a, 0); a1 = min(a1, I);
    w.lo[k] = a; w.hi[k] = a1;
    inside *= max(a1 - a, 0);
  }
  w.div = pi(24u);
  if (w.div == 0) { w.div = select(inside, padded, pu(23u) == 1u); }
  return w;
}
fn outIndex(ii: i32) -> vec3<i32> {
  let OH = pi(9u); let OW = pi(10u);
  return vec3<i32>((ii / (OW * OH)) % pi(8u), (ii / OW) % OH, ii % OW);
}
fn isEmpty(w: Win) -> bool { return any(w.lo >= w.hi); }
`;

export function poolSpecs(d, withIdx) {
  const s = [{ name: 'Y', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'X', dt: d }];
  if (withIdx) s.push({ name: 'I', dt: DT.int64, write: true });
  return s;
}

export function poolSource(d, withIdx, b) {
  const f = isFloat(d);
  const L = d === DT.int64;   // exact in the 'l' kind (kernels/int64.mjs); avg divides truncating, as PyTorch's
  const [lowest, zero] = L ? ['vec2<u32>(0u, 0x80000000u)', 'L0'] : f ? ['-inf_()', '0.0'] : ['i32(-2147483647) - 1', '0'];
  const [ld, st] = L ? ['raw_X', 'strw_Y'] : ['ld_X', 'st_Y'];
  const better = L ? 'llt(mv, v)' : `v > mv${f ? ' || isnan_(v)' : ''}`;
  const add = (e) => (L ? `s = ladd(s, ${e});` : `s += ${e};`);
  const div = (e) => (L ? `ldiv(s, l_(${e}))` : `s / ${f ? 'f32' : 'i32'}(${e})`);
  return PRELUDE + b + WINDOW + (L ? INT64_WGSL : '') + main(`
  let H = pi(6u); let W = pi(7u);
  let ii = i32(i);
  let pl = ii / (pi(8u) * pi(9u) * pi(10u));
  let w = window(outIndex(ii));
  let xb = pu(25u) + u32(pl * pi(5u) * H * W);
  if (pu(3u) == 0u) {
    var step = vec3<i32>(1, 1, 1);
    if (pu(4u) == 0u) { step = vec3<i32>(pi(20u), pi(21u), pi(22u)); }
    var mi = (w.lo.x * H + w.lo.y) * W + w.lo.z;
    var mv = ${lowest};
    for (var id = w.lo.x; id < w.hi.x; id += step.x) {
      for (var ih = w.lo.y; ih < w.hi.y; ih += step.y) {
        for (var iw = w.lo.z; iw < w.hi.z; iw += step.z) {
          let k = (id * H + ih) * W + iw;
          let v = ${ld}(xb + u32(k));
          if (${better}) { mv = v; mi = k; }
        }
      }
    }
    ${st}(pu(26u) + i, mv);
    ${withIdx ? 'st_I(pu(27u) + i, mi);' : ''}
    return;
  }
  if (isEmpty(w)) { ${st}(pu(26u) + i, ${zero}); return; }
  var s = ${zero};
  for (var id = w.lo.x; id < w.hi.x; id++) {
    for (var ih = w.lo.y; ih < w.hi.y; ih++) {
      for (var iw = w.lo.z; iw < w.hi.z; iw++) { ${add(`${ld}(xb + u32((id * H + ih) * W + iw))`)} }
    }
  }
  if (pu(4u) == 1u) {
    s = ${div('w.hi.x - w.lo.x')}; s = ${div('w.hi.y - w.lo.y')}; s = ${div('w.hi.z - w.lo.z')};
  } else { s = ${div('w.div')}; }
  ${st}(pu(26u) + i, s);
`);
}

export function poolBackwardSpecs(d, withIdx) {
  const s = [{ name: 'G', dt: d, write: true, atomic: true }, { name: 'Y', dt: d }];
  if (withIdx) s.push({ name: 'I', dt: DT.int64 });
  return s;
}

/** float32 only (as the CPU kernel's F32/F64): scatter-add with CAS on the f32 word. */
export function poolBackwardSource(withIdx, b, vG) {
  return PRELUDE + b + WINDOW + `
fn addf(k: u32, v: f32) {
  loop {
    let old = atomicLoad(&${vG}[k]);
    if (atomicCompareExchangeWeak(&${vG}[k], old, bitcast<u32>(bitcast<f32>(old) + v)).exchanged) { break; }
  }
}
` + main(`
  let H = pi(6u); let W = pi(7u);
  let ii = i32(i);
  let pl = ii / (pi(8u) * pi(9u) * pi(10u));
  let gb = pu(25u) + u32(pl * pi(5u) * H * W);
  let g = ld_Y(pu(26u) + i);
  if (pu(3u) == 0u) {
    ${withIdx ? 'addf(gb + u32(ld_I(pu(27u) + i)), g);' : ''}
    return;
  }
  let w = window(outIndex(ii));
  if (isEmpty(w)) { return; }
  var d: f32;
  if (pu(4u) == 1u) { d = g / f32(w.hi.x - w.lo.x) / f32(w.hi.y - w.lo.y) / f32(w.hi.z - w.lo.z); }
  else { d = g / f32(w.div); }
  for (var id = w.lo.x; id < w.hi.x; id++) {
    for (var ih = w.lo.y; ih < w.hi.y; ih++) {
      for (var iw = w.lo.z; iw < w.hi.z; iw++) { addf(gb + u32((id * H + ih) * W + iw), d); }
    }
  }
`);
}
