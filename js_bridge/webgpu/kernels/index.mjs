// Indexing: index_offsets (index tensor -> element offsets, with bounds check), take (gather through
// offsets), put (scatter, optionally accumulating). Semantics of wasm_ext/index.c.
//
// Bounds errors cannot raise from a shader: the first out-of-range index is recorded in a small error buffer
// (flag, index lo, index hi, dim size) and the offset is clamped to 0. The error is reported at the next
// readback or synchronize() as PyTorch's IndexError, as CUDA reports device-side asserts late.
// put with accumulate adds with a compare-and-swap loop on the containing word (floats, sub-word types; int64
// with atomicAdd on both words);
// plain put stores, so duplicate indices leave one of the values (PyTorch CUDA: unspecified which).
import { DT, ENTRY_ARGS, PRELUDE, isFloat, kindOf, linearId, stridedOffsets, ITEMSIZE } from './common.mjs';

const WG = 256;

function shell(body, b) {
  return PRELUDE + b + `
@compute @workgroup_size(${WG})
fn main(${ENTRY_ARGS}) {
  let i = ${linearId(WG)};
  if (i >= pu(0u)) { return; }
${body}}
`;
}

// Operand specs. The error buffer E is declared by name (atomic), as `E`.
export function indexOffsetsSpecs(idd) {
  return [{ name: 'O', dt: DT.int64, write: true }, { name: 'I', dt: idd }, { name: 'E', dt: DT.int32, write: true, atomic: true }];
}
export function takeSpecs(d) {
  return [{ name: 'O', dt: d, write: true, atomic: ITEMSIZE[d] < 4 }, { name: 'S', dt: d }, { name: 'F', dt: DT.int64 }];
}
export function putSpecs(d) {
  return [{ name: 'D', dt: d, write: true, atomic: true }, { name: 'V', dt: d }, { name: 'F', dt: DT.int64 }];
}

// `off`: the element offset that index I (read at element `at`) selects along its dimension, checked (params:
// 8 dim size, 9 dim stride, 10 flags): an index out of range is recorded in E and reads as 0.
function indexOffset(idd, vE, at) {
  // index value as (i32, ok): int64 indices beyond int32 are out of range for any GPU buffer anyway
  const idx = idd === DT.int64
    ? `let r = raw_I(${at}); let v = bitcast<i32>(r.x); let fits = r.y == select(0u, 0xffffffffu, v < 0);`
    : `let r = vec2<u32>(bitcast<u32>(ld_I(${at})), 0u); let v = ld_I(${at}); let fits = true;`;
  return `
  var off: i32;
  {   // (a block: the take or put body that follows has names of its own)
  ${idx}
  let size = pi(8u);
  var w = v;
  if (w < 0) { w += size; }
  if (!fits || w < 0 || w >= size || ((pu(10u) & 2u) != 0u && v < 0)) {   // flags bit 1: negatives refused
    if (atomicCompareExchangeWeak(&${vE}[0], 0u, 1u).exchanged) {
      atomicStore(&${vE}[1], r.x); atomicStore(&${vE}[2], select(select(0u, 0xffffffffu, v < 0), r.y, ${idd === DT.int64})); atomicStore(&${vE}[3], u32(size));
    }
    w = 0;
  }
  off = w * pi(9u);
  }
`;
}

export function indexOffsetsSource(idd, b, vE) {
  return shell(stridedOffsets(2, [3, 4]) + indexOffset(idd, vE, 'o1') + `
  if ((pu(10u) & 1u) == 1u) { off += ld_O(o0); }   // flags bit 0: accumulate
  st_O(o0, off);
`, b);
}

// take and put read their element offsets from F (index_offsets' int64 output), or, `indexed` = {idd, vE}, compute
// them from the index I itself (one index tensor: index_offsets and the take or put as one kernel, index.mjs
// heldOffsets), with index_offsets' params (8-10).
export function takeSpecsIndexed(d, idd) {
  return [...takeSpecs(d).slice(0, 2), { name: 'I', dt: idd }, { name: 'E', dt: DT.int32, write: true, atomic: true }];
}
export function putSpecsIndexed(d, idd) {
  return [...putSpecs(d).slice(0, 2), { name: 'I', dt: idd }, { name: 'E', dt: DT.int32, write: true, atomic: true }];
}

export function takeSource(d, b, indexed = null) {
  const off = indexed ? indexOffset(indexed.idd, indexed.vE, 'o2') : '  let off = ld_F(o2);\n';
  return shell(stridedOffsets(3, [3, 4, 5]) + off + '  strw_O(o0, raw_S(o1 + u32(off)));\n', b);
}

export function putSource(d, accumulate, b, vD, indexed = null) {
  const sz = ITEMSIZE[d];
  const off = indexed ? indexOffset(indexed.idd, indexed.vE, 'o2') : '  let off = ld_F(o2);\n';
  let body = stridedOffsets(3, [4, 3, 5]) + off + '  let di = o1 + u32(off);\n';
  if (!accumulate) {
    body += '  strw_D(di, raw_V(o0));\n';
  } else if (d === DT.int64) {
    // exact and atomic: the low words add atomically, each addition carrying into the high word by itself
    body += `  let v = raw_V(o0);
  let old = atomicAdd(&${vD}[2u * di], v.x);
  atomicAdd(&${vD}[2u * di + 1u], v.y + select(0u, 1u, old + v.x < old));
`;
  } else {
    // CAS loop on the word holding element di: extract, add, insert.
    const T = isFloat(d) ? 'f32' : 'i32';
    const [w, sh, mask] = sz === 1 ? ['di >> 2u', '(di & 3u) * 8u', '0xffu'] : sz === 2 ? ['di >> 1u', '(di & 1u) * 16u', '0xffffu']
      : ['di', '0u', '0xffffffffu'];
    const toBits = {
      [DT.float32]: 'bitcast<u32>(s)', [DT.float16]: 'f2h(s)', [DT.bfloat16]: 'f2bf(s)', [DT.bool]: 'select(0u, 1u, s != 0)',
    }[d] ?? 'bitcast<u32>(s)';
    const fromBits = {
      [DT.float32]: 'bitcast<f32>(f)', [DT.float16]: 'h2f(f)', [DT.bfloat16]: 'bitcast<f32>(f << 16u)',
      [DT.int8]: 'bitcast<i32>(f << 24u) >> 24u', [DT.int16]: 'bitcast<i32>(f << 16u) >> 16u',
    }[d] ?? 'bitcast<i32>(f)';
    body += `  let v: ${T} = ld_V(o0);
  let w = ${w}; let sh = ${sh};
  loop {
    let old = atomicLoad(&${vD}[w]);
    let f = (old >> sh) & ${mask};
    let cur: ${T} = ${fromBits};
    let s = cur + v;
    let nw = (old & ~(${mask} << sh)) | ((${toBits} & ${mask}) << sh);
    if (atomicCompareExchangeWeak(&${vD}[w], old, nw).exchanged) { break; }
  }
`;
  }
  return shell(body, b);
}

export { kindOf };
