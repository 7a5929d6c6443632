// Fused scaled-dot-product attention, forward (flash-style): out = softmax(Q K^T * scale + mask) V in one kernel,
// the L x S score matrix never stored. A workgroup of BR invocations takes BR query rows of one (batch, head);
// each invocation holds its row of Q (pre-scaled) and its output row in registers and walks the keys in blocks of
// BC, staged in workgroup memory (K and V blocks, one barrier pair per block), with an online softmax: per block
// the row's scores, their max, one rescale of the running sum and output, then the block's weighted V rows.
// Causal attention stops at the block holding the workgroup's last row. Masks: boolean (false: -inf) or additive,
// read through broadcast strides. Rows with a NaN or +inf score are NaN and rows with every key masked are NaN,
// as the composite's softmax gives. GQA: key/value head = query head / rep.
//
// Header: 0 L, 1 S, 2 unused, 3 H, 4 rep, 5 flags (1 causal, 2 mask), 6 q offset, 7 k offset, 8 v offset,
// 9 mask offset, 10 out offset, 11 scale (f32 bits). Arrays (4 words each: batch, head, row, column strides):
// q, k, v, mask. out is contiguous (B, H, L, Ev). Grid: (ceil(L / BR), H, B).
import { ARR, MAX_GROUPS, PRELUDE, aliasOf, declare, isFloat, isSubword } from './common.mjs';

export const BR = 64;

/** Key block length: K and V blocks (BC x ceil(E/4) and BC x ceil(Ev/4) vec4) within 16 KiB of workgroup memory. */
export function attentionBlock(E, Ev) {
  const q = Math.ceil(E / 4) + Math.ceil(Ev / 4);
  let bc = 64;
  while (bc > 1 && bc * q > 1024) bc >>= 1;
  return bc;
}

/**
 * Rows per workgroup: BR, or fewer rows with the keys split into BR / rows partitions (flash-decoding inside one
 * workgroup: every invocation busy) when the partial outputs fit workgroup memory (Ev <= 64) and either there are
 * few query rows (decoding: L = 1 with a KV cache) or BR-row workgroups would be fewer than `minWorkgroups` (the
 * adapter profile's attention.minWorkgroups: GPT-2's 12 heads x 128 rows are 24 workgroups of 64 serial rows on a
 * GPU of 132 SMs; alone on an H100 that ran as fast as 8 rows in 192 workgroups, so no profile sets it yet).
 * `force`: that many rows (benchmarks, tests).
 */
export function attentionRows(L, Ev, groups = 1, minWorkgroups = 0, force = null) {
  if (Ev > 64) return BR;
  if (force) return force;
  let rb = 1;
  if (L <= 16) {
    while (rb < L) rb <<= 1;
    return rb;
  }
  rb = BR;
  while (rb > 2 && Math.ceil(L / rb) * groups < minWorkgroups) rb >>= 1;
  return rb;
}

/** Operand specs: out, q, k, v and the mask (dtype md, or none when md < 0). */
export function attentionSpecs(dt, md) {
  const s = [{ name: 'O', dt, write: true, atomic: isSubword(dt) }, { name: 'Q', dt }, { name: 'K', dt }, { name: 'V', dt }];
  if (md >= 0) s.push({ name: 'M', dt: md });
  return s;
}

/**
 * WGSL for head dims E, Ev; md: mask dtype code (bool: 0, else float) or -1; b: binding code; rows: query rows
 * per workgroup (attentionRows: BR, or fewer with split keys).
 */
export function attentionSource(E, Ev, md, b, rows = BR) {
  if (rows < BR) return splitSource(E, Ev, md, b, rows);
  const E4 = Math.ceil(E / 4), V4 = Math.ceil(Ev / 4), BC = attentionBlock(E, Ev);
  // 4 elements (e4*4 .. +3) of a row at base `base` with column stride `cs`, zero past `n`
  const loadBlock = (name, ld, n, n4, base, rs, cs) => {
    let c = `    for (var t = lid.x; t < ${BC * n4}u; t += ${BR}u) {
      let jj = t / ${n4}u; let e4 = t % ${n4}u; let j = j0 + jj;
      var v = vec4<f32>(0.0);
      if (j < S) {
        let base = ${base} + j * ${rs};
`;
    for (let cc = 0; cc < 4; cc++) c += `        if (e4 * 4u + ${cc}u < ${n}u) { v[${cc}] = f32(${ld}(base + (e4 * 4u + ${cc}u) * ${cs})); }\n`;
    c += `      }
      ${name}[t] = v;
    }
`;
    return c;
  };
  return PRELUDE + b + `
var<workgroup> Ks: array<vec4<f32>, ${BC * E4}>;
var<workgroup> Vs: array<vec4<f32>, ${BC * V4}>;
@compute @workgroup_size(${BR})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let L = pu(0u); let S = pu(1u); let H = pu(3u); let h = wg.y; let bt = wg.z;
  let i = wg.x * ${BR}u + lid.x;
${common(E, Ev)}  var send = S;
  if (causal) { send = min(S, wg.x * ${BR}u + ${BR}u); }   // uniform: the workgroup's last row
  for (var j0 = 0u; j0 < send; j0 += ${BC}u) {
    workgroupBarrier();   // the previous block is used up
${loadBlock('Ks', 'ld_K', E, E4, 'kb', 'krs', 'kcs')}${loadBlock('Vs', 'ld_V', Ev, V4, 'vb', 'vrs', 'vcs')}    workgroupBarrier();
    var sc: array<f32, ${BC}>;
    var bm = -inf_();
    for (var jj = 0u; jj < ${BC}u; jj++) {
      let j = j0 + jj;
      var s = 0.0;
      for (var e = 0u; e < ${E4}u; e++) { s += dot(q[e], Ks[jj * ${E4}u + e]); }
      if (j >= S || (causal && j > ii)) { s = -inf_(); }${maskCode(md, ' else ')}
      if (isnan_(s) || (isinf_(s) && s > 0.0)) { bad = true; s = -inf_(); }
      sc[jj] = s; bm = max(bm, s);
    }
    let mn = max(m, bm);
    if (mn > -inf_()) {
      let corr = exp(m - mn);
      l = l * corr;
      for (var e = 0u; e < ${V4}u; e++) { o[e] = o[e] * corr; }
      for (var jj = 0u; jj < ${BC}u; jj++) {
        let p = exp(sc[jj] - mn);
        l += p;
        for (var e = 0u; e < ${V4}u; e++) { o[e] = fma(vec4<f32>(p), Vs[jj * ${V4}u + e], o[e]); }
      }
      m = mn;
    }
  }
  if (!valid) { return; }
${storeRow(Ev)}}
`;
}

const st = (arr, k) => `pu(${ARR(arr) + k}u)`;
// 4 elements (e4*4 .. +3) of a row at base `base` with column stride `cs`, zero past `n`
const quad = (ld, base, cs, e4, n) => `vec4<f32>(${[0, 1, 2, 3].map((c) => (e4 * 4 + c < n ? `f32(${ld}(${base} + ${e4 * 4 + c}u * ${cs}))` : '0.0')).join(', ')})`;

/** The kernels' common start, after `i` (this invocation's query row) is set: bases, q (scaled), o, m, l. */
function common(E, Ev) {
  const E4 = Math.ceil(E / 4), V4 = Math.ceil(Ev / 4);
  let qload = '';
  for (let e = 0; e < E4; e++) qload += `  q[${e}] = ${quad('ld_Q', 'qb', 'qcs', e, E)} * scale;\n`;
  return `  let causal = (pu(5u) & 1u) != 0u;
  let valid = i < L; let ii = min(i, L - 1u);
  let kh = h / pu(4u);
  let scale = pf(11u);
  let qb = pu(6u) + bt * ${st(0, 0)} + h * ${st(0, 1)} + ii * ${st(0, 2)}; let qcs = ${st(0, 3)};
  let kb = pu(7u) + bt * ${st(1, 0)} + kh * ${st(1, 1)}; let krs = ${st(1, 2)}; let kcs = ${st(1, 3)};
  let vb = pu(8u) + bt * ${st(2, 0)} + kh * ${st(2, 1)}; let vrs = ${st(2, 2)}; let vcs = ${st(2, 3)};
  let mb = pu(9u) + bt * ${st(3, 0)} + h * ${st(3, 1)} + ii * ${st(3, 2)}; let mcs = ${st(3, 3)};
  var q: array<vec4<f32>, ${E4}>;
${qload}  var o: array<vec4<f32>, ${V4}>;
  for (var e = 0u; e < ${V4}u; e++) { o[e] = vec4<f32>(0.0); }
  var m = -inf_(); var l = 0.0; var bad = false;
`;
}

/** The mask applied to score `s` of key j, after `pre` (' else ' after the causal test). */
function maskCode(md, pre = '') {
  if (md === 0) return `${pre}if (ld_M(mb + j * mcs) == 0) { s = -inf_(); }`;
  if (md > 0) return `${pre}{ s += ldf_M(mb + j * mcs); }`;
  return '';
}

/** out row i = o / l (NaN for a row with a NaN or +inf score, or with every key masked). */
function storeRow(Ev) {
  return `  let ob = pu(10u) + ((bt * H + h) * L + i) * ${Ev}u;
  let nanRow = bad || l == 0.0;
  for (var e = 0u; e < ${Math.ceil(Ev / 4)}u; e++) {
    let r = o[e] / l;
    for (var c = 0u; c < 4u; c++) {
      if (e * 4u + c < ${Ev}u) { st_O(ob + e * 4u + c, select(r[c], nan_(), nanRow)); }
    }
  }
`;
}

/**
 * Few query rows: `rows` rows x P = BR / rows key partitions per workgroup. Invocation (r, p) takes keys p, p + P, ...
 * of row r straight from memory (no staging: each key is read by the rows' invocations of one partition), with a
 * per-key online softmax; the P partial (max, sum, output) of a row are then merged in workgroup memory.
 */
function splitSource(E, Ev, md, b, rows) {
  const E4 = Math.ceil(E / 4), V4 = Math.ceil(Ev / 4), P = BR / rows;
  return PRELUDE + b + `
var<workgroup> so: array<vec4<f32>, ${(BR / 2) * V4}>;
var<workgroup> sm: array<f32, ${BR / 2}>;
var<workgroup> sl: array<f32, ${BR / 2}>;
var<workgroup> sb: array<u32, ${BR / 2}>;
@compute @workgroup_size(${BR})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let L = pu(0u); let S = pu(1u); let H = pu(3u); let h = wg.y; let bt = wg.z;
  let p = lid.x % ${P}u;
  let i = wg.x * ${rows}u + lid.x / ${P}u;
${common(E, Ev)}  var send = S;
  if (causal) { send = min(S, ii + 1u); }
  if (!valid) { send = 0u; }
  for (var j = p; j < send; j += ${P}u) {
    var s = 0.0;
    { let base = kb + j * krs;
      for (var e = 0u; e < ${E4}u; e++) {
        var kq = vec4<f32>(0.0);
        for (var c = 0u; c < 4u; c++) { if (e * 4u + c < ${E}u) { kq[c] = f32(ld_K(base + (e * 4u + c) * kcs)); } }
        s += dot(q[e], kq);
      }
    }
    ${maskCode(md)}
    if (isnan_(s) || (isinf_(s) && s > 0.0)) { bad = true; continue; }
    if (s == -inf_()) { continue; }
    var w = 1.0;
    if (s > m) { let corr = exp(m - s); l = l * corr; for (var e = 0u; e < ${V4}u; e++) { o[e] = o[e] * corr; } m = s; }
    else { w = exp(s - m); }
    l += w;
    let vbase = vb + j * vrs;
    for (var e = 0u; e < ${V4}u; e++) {
      var vq = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) { if (e * 4u + c < ${Ev}u) { vq[c] = f32(ld_V(vbase + (e * 4u + c) * vcs)); } }
      o[e] = fma(vec4<f32>(w), vq, o[e]);
    }
  }
  // merge the partitions' partial results pairwise: the upper half of the live ones hands over through memory
  let r = lid.x / ${P}u;
  for (var hh = ${P / 2}u; hh > 0u; hh >>= 1u) {
    if (p >= hh && p < 2u * hh) {
      let t = r * ${P / 2}u + p - hh;
      sm[t] = m; sl[t] = l; sb[t] = u32(bad);
      for (var e = 0u; e < ${V4}u; e++) { so[t * ${V4}u + e] = o[e]; }
    }
    workgroupBarrier();
    if (p < hh) {
      let t = r * ${P / 2}u + p;
      let m2 = sm[t]; let mm = max(m, m2);
      bad = bad || sb[t] != 0u;
      if (mm > -inf_()) {
        let ca = exp(m - mm); let cb = exp(m2 - mm);
        l = l * ca + sl[t] * cb;
        for (var e = 0u; e < ${V4}u; e++) { o[e] = o[e] * ca + so[t * ${V4}u + e] * cb; }
      }
      m = mm;
    }
    workgroupBarrier();
  }
  if (!valid || p != 0u) { return; }
${storeRow(Ev)}}
`;
}

/** Check a decoded ATTENTION block on bridge `br` (index.mjs's Bridge), at the op's call; false: nothing to compute. */
export function checkAttention(br, a) {
  const { B, H, L, Ev, flags, q, k, v, mask } = a, odt = a.out.dt;
  if (!B || !H || !L || !Ev) return false;
  br._checkDtypes(flags & 2 ? [q.dt, odt, mask.dt] : [q.dt, odt]);
  if (!isFloat(q.dt) || k.dt !== q.dt || v.dt !== q.dt || odt !== q.dt) throw Object.assign(new Error('attention: one float dtype'), { code: 1 });
  if (B > MAX_GROUPS || H > MAX_GROUPS) throw Object.assign(new Error('attention: too many heads'), { code: 1 });
  return true;
}

/** Run attention `a` (a checked ATTENTION block) on bridge `br`; `epi`: a gemmEpilogue (out offset: word 10) storing it. */
export function runAttention(br, a, scale, epi = null) {
  const { B, H, L, S, E, Ev, rep, flags } = a, { id: oid, dt: odt, off: ooff } = a.out;
  const { q, k, v, mask } = a;
  const withMask = (flags & 2) !== 0;
  const md = withMask ? mask.dt : -1;
  const ins = withMask ? [q.id, k.id, v.id, mask.id] : [q.id, k.id, v.id];
  // fewer rows per workgroup, keys split, for decoding and for grids too small to fill the GPU
  const rows = attentionRows(L, Ev, B * H, br.matmulProfile.attention?.minWorkgroups ?? 0, br.attentionRowsForce);
  const base = `attention:${q.dt}:${md}:${E},${Ev}:${rows}`;
  let p, ids;
  if (!epi) {
    ids = [oid, ...ins];
    p = br._pipe(base, ids, () => attentionSpecs(q.dt, md), (b) => attentionSource(E, Ev, md, b, rows));
  } else {   // the output is the epilogue's to store
    ids = [...ins, ...epi.ids];
    const alias = aliasOf(ids);
    p = br.disp.pipeline(`${base}${epi.key}|${alias}`, () => {
      const dec = declare([...attentionSpecs(q.dt, md).slice(1), ...epi.specs], alias);
      return { code: epi.wrap(attentionSource(E, Ev, md, dec.code, rows)), sig: dec.sig, slots: dec.slots, pslots: epi.pslots };
    });
  }
  const d = br.disp;
  const w = d.slot(p.pslots);
  d.u32.set([L, S, 0, H, rep, flags, q.off, k.off, v.off, withMask ? mask.off : 0, ooff], w);
  d.f32[w + 11] = scale;
  for (const [j, st] of [a.q_st, a.k_st, a.v_st, a.m_st].entries()) d.u32.set(st, w + ARR(j));
  if (epi) epi.write(d.u32, d.f32, w);
  d.dispatch(p, ids, w, Math.ceil(L / rows), H, B);
}
