// nn primitives: im2col / col2im (convolution as im2col + gemm) and 2-D pooling, with the semantics of
// wasm_ext/conv.c and wasm_ext/pool.c (ABI.md). One invocation per output element; col2im gathers (each
// image pixel sums the column entries that read it), so it needs no atomics; pool2d_backward scatters with
// a compare-and-swap float add (the Python side zeroes grad_in first).
//
// Header words (all families): 0 n (invocations), 2 grid-x, then
//   im2col / col2im: 3 N, 4 C, 5 H, 6 W, 7..16 geom (KH KW SH SW PH PW DH DW OH OW), 17 src offset,
//     18 dst offset, 19.. strides (im2col: x (4) then out (3); col2im: cols (3))
//   pool: 3 mode, 4 adaptive, 5 H, 6 W, 7 OH, 8 OW, 9..16 (KH KW SH SW PH PW DH DW), 17 count_include_pad,
//     18 divisor_override, 19 x / grad_in offset, 20 out / grad_out offset, 21 idx offset
import { DT, ITEMSIZE, PRELUDE, isFloat, kernelMain } from './common.mjs';

const WG = 256;
const main = (body) => kernelMain(WG, 'i', body);

export function im2colSpecs(d) {
  return [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'X', dt: d }];
}

export function im2colSource(d, b) {
  return PRELUDE + b + main(`
  let OH = pi(15u); let OW = pi(16u); let KH = pi(7u); let KW = pi(8u);
  let L = OH * OW; let R = pi(4u) * KH * KW;
  let ii = i32(i);
  let l = ii % L; let r = (ii / L) % R; let n = ii / (L * R);
  let oh = l / OW; let ow = l % OW;
  let c = r / (KH * KW); let kk = r % (KH * KW); let kh = kk / KW; let kw = kk % KW;
  let ih = oh * pi(9u) - pi(11u) + kh * pi(13u);
  let iw = ow * pi(10u) - pi(12u) + kw * pi(14u);
  let o = pu(18u) + u32(n) * pu(23u) + u32(r) * pu(24u) + u32(l) * pu(25u);
  if (ih < 0 || ih >= pi(5u) || iw < 0 || iw >= pi(6u)) { strw_O(o, vec2<u32>(0u, 0u)); return; }
  let x = pu(17u) + u32(n) * pu(19u) + u32(c) * pu(20u) + u32(ih) * pu(21u) + u32(iw) * pu(22u);
  strw_O(o, raw_X(x));
`);
}

export function col2imSpecs(d) {
  return [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'C', dt: d }];
}

export function col2imSource(d, b) {
  const f = isFloat(d);
  return PRELUDE + b + main(`
  let H = pi(5u); let W = pi(6u); let KH = pi(7u); let KW = pi(8u); let SH = pi(9u); let SW = pi(10u);
  let PH = pi(11u); let PW = pi(12u); let DH = pi(13u); let DW = pi(14u); let OH = pi(15u); let OW = pi(16u);
  let ii = i32(i);
  let iw = ii % W; let ih = (ii / W) % H; let c = (ii / (W * H)) % pi(4u); let n = ii / (W * H * pi(4u));
  var acc = ${f ? '0.0' : '0'};
  for (var kh = 0; kh < KH; kh++) {
    let th = ih + PH - kh * DH;
    if (th < 0 || th % SH != 0 || th / SH >= OH) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let tw = iw + PW - kw * DW;
      if (tw < 0 || tw % SW != 0 || tw / SW >= OW) { continue; }
      let r = (c * KH + kh) * KW + kw; let l = (th / SH) * OW + tw / SW;
      acc += ld_C(pu(17u) + u32(n) * pu(19u) + u32(r) * pu(20u) + u32(l) * pu(21u));
    }
  }
  st_O(pu(18u) + i, acc);
`);
}

const WINDOW = `
struct Win { h0: i32, h1: i32, w0: i32, w1: i32, div: i32 }
fn window(oh: i32, ow: i32) -> Win {
  let H = pi(5u); let W = pi(6u); let OH = pi(7u); let OW = pi(8u);
  if (pu(4u) == 1u) {
    return Win((oh * H) / OH, ((oh + 1) * H + OH - 1) / OH, (ow * W) / OW, ((ow + 1) * W + OW - 1) / OW, 0);
  }
  let KH = pi(9u); let KW = pi(10u); let SH = pi(11u); let SW = pi(12u); let PH = pi(13u); let PW = pi(14u);
  var a = oh * SH - PH; var b = ow * SW - PW;
  if (pu(3u) == 0u) {
    let DH = pi(15u); let DW = pi(16u);
    let a1 = min(a + (KH - 1) * DH + 1, H); let b1 = min(b + (KW - 1) * DW + 1, W);
    if (a < 0) { a += ((-a + DH - 1) / DH) * DH; }
    if (b < 0) { b += ((-b + DW - 1) / DW) * DW; }
    return Win(a, a1, b, b1, 0);
  }
  var a1 = min(a + KH, H + PH); var b1 = min(b + KW, W + PW);
  let pool = (a1 - a) * (b1 - b);
  a = max(a, 0); b = max(b, 0); a1 = min(a1, H); b1 = min(b1, W);
  var div = pi(18u);
  if (div == 0) { div = select((a1 - a) * (b1 - b), pool, pu(17u) == 1u); }
  return Win(a, a1, b, b1, div);
}
`;

export function poolSpecs(d, withIdx) {
  const s = [{ name: 'Y', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'X', dt: d }];
  if (withIdx) s.push({ name: 'I', dt: DT.int64, write: true });
  return s;
}

export function poolSource(d, withIdx, b) {
  const f = isFloat(d);
  const lowest = f ? '-inf_()' : 'i32(-2147483647) - 1';
  return PRELUDE + b + WINDOW + main(`
  let W = pi(6u); let OH = pi(7u); let OW = pi(8u);
  let ii = i32(i);
  let ow = ii % OW; let oh = (ii / OW) % OH; let pl = ii / (OW * OH);
  let w = window(oh, ow);
  let xb = pu(19u) + u32(pl * pi(5u) * W);
  if (pu(3u) == 0u) {
    var dh = 1; var dw = 1;
    if (pu(4u) == 0u) { dh = pi(15u); dw = pi(16u); }
    var mi = w.h0 * W + w.w0;
    var mv = ${lowest};
    for (var ih = w.h0; ih < w.h1; ih += dh) {
      for (var iw = w.w0; iw < w.w1; iw += dw) {
        let k = ih * W + iw;
        let v = ld_X(xb + u32(k));
        if (v > mv${f ? ' || isnan_(v)' : ''}) { mv = v; mi = k; }
      }
    }
    st_Y(pu(20u) + i, mv);
    ${withIdx ? 'st_I(pu(21u) + i, mi);' : ''}
    return;
  }
  if (w.h0 >= w.h1 || w.w0 >= w.w1) { st_Y(pu(20u) + i, ${f ? '0.0' : '0'}); return; }
  var s = ${f ? '0.0' : '0'};
  for (var ih = w.h0; ih < w.h1; ih++) { for (var iw = w.w0; iw < w.w1; iw++) { s += ld_X(xb + u32(ih * W + iw)); } }
  if (pu(4u) == 1u) { s = s / ${f ? 'f32' : 'i32'}(w.h1 - w.h0) / ${f ? 'f32' : 'i32'}(w.w1 - w.w0); }
  else { s = s / ${f ? 'f32' : 'i32'}(w.div); }
  st_Y(pu(20u) + i, s);
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
  let W = pi(6u); let OH = pi(7u); let OW = pi(8u);
  let ii = i32(i);
  let ow = ii % OW; let oh = (ii / OW) % OH; let pl = ii / (OW * OH);
  let gb = pu(19u) + u32(pl * pi(5u) * W);
  let g = ld_Y(pu(20u) + i);
  if (pu(3u) == 0u) {
    ${withIdx ? 'addf(gb + u32(ld_I(pu(21u) + i)), g);' : ''}
    return;
  }
  let w = window(oh, ow);
  if (w.h0 >= w.h1 || w.w0 >= w.w1) { return; }
  var d: f32;
  if (pu(4u) == 1u) { d = g / f32(w.h1 - w.h0) / f32(w.w1 - w.w0); } else { d = g / f32(w.div); }
  for (var ih = w.h0; ih < w.h1; ih++) { for (var iw = w.w0; iw < w.w1; iw++) { addf(gb + u32(ih * W + iw), d); } }
`);
}
