// Batched, strided GEMM: out[bt] (contiguous M x N) = A[bt] (M x K) @ B[bt] (K x N), A and B given by
// (batch, row, col) element strides, so transposed operands and broadcast batches cost nothing.
//
// Float kernel (design after tfjs's MatMulPackedVec4 and the classic CUDA SGEMM): a 16 x 16 workgroup computes
// a TM x TN tile of out (TM = 16 * RM, TN = 16 * RN), each invocation an RM x RN register block held in vec4
// accumulators. K advances in steps of TK through workgroup memory, where both tiles are stored k-major as
// vec4 (As[k][m / 4], Bs[k][n / 4]): per k an invocation reads RM / 4 + RN / 4 vec4 and does RM * RN / 4 vec4
// FMAs. An invocation's rows are 4-row groups 64 apart (and its columns 4-column groups 64 apart), so the 16
// invocations of a row read 16 consecutive vec4: no bank conflicts, and one broadcast vec4 for A.
// Double buffering (`db`): the next K tile is loaded from global memory into registers before the current
// one is multiplied and stored to the other half of workgroup memory after it, one barrier per tile.
// `swz`: workgroups walk the output in column strips `swz` tiles tall, so concurrent workgroups share
// operand tiles in L2. Everything inside a K tile is unrolled here (constant indices, accumulators in
// registers).
//
// Operand loads: A is read in 4-element groups along k ('k' mode: rows contiguous along k, the usual case)
// or along m ('m' mode: A transposed); B along n ('n') or along k ('k', B transposed). With vec4 set the
// operand is bound as array<vec4<f32>> (float32, unit stride along the group, 16-byte aligned, extent a
// multiple of 4: the bridge checks); otherwise the 4 elements are read one by one (any dtype and strides).
// Integer dtypes take a plain one-invocation-per-output kernel in i32.
//
// Which kernel runs for a shape is planGemm(): matrix-vector / skinny kernels (matvec.mjs) for a few rows (or a
// few columns, transposed), small tiles for small outputs, big tiles where there are enough of them to fill the
// GPU; the thresholds are data in matmul_table.mjs, measured per adapter by bench/webgpu_matmul_shapes.mjs.
//
// Header: 0 M, 1 N, 2 K, 3 batch, 4 a offset, 5 b offset, 6 out offset, 7..9 a strides (batch, row, col),
// 10..12 b strides, 13..15 out strides (row, col, batch: the big tiles write contiguous out and ignore them).
import { DT, PRELUDE, isFloat, isSubword, kindOf } from './common.mjs';
import { INT64_WGSL } from './int64.mjs';
import { MATMUL_TABLE } from './matmul_table.mjs';
import { MATVEC_CONFIGS, matvecSource } from './matvec.mjs';

/** Float kernel variants. rm, rn: per-invocation rows / columns (multiples of 4); tk: K tile. */
export const GEMM_CONFIGS = {
  t64: { rm: 4, rn: 4, tk: 16, db: false, swz: 0 },       // the original kernel's shape (64 x 64, no double buffer)
  t64d: { rm: 4, rn: 4, tk: 16, db: true, swz: 0 },
  t64k32d: { rm: 4, rn: 4, tk: 32, db: true, swz: 0 },
  t128x64d: { rm: 8, rn: 4, tk: 16, db: true, swz: 0 },
  t128k8d: { rm: 8, rn: 8, tk: 8, db: true, swz: 0 },
  t128d: { rm: 8, rn: 8, tk: 16, db: true, swz: 0 },
  t128ds: { rm: 8, rn: 8, tk: 16, db: true, swz: 8 },
  t128k8ds: { rm: 8, rn: 8, tk: 8, db: true, swz: 8 },
  t64du: { rm: 4, rn: 4, tk: 16, db: true, u2: true, swz: 0 },
  t128x64du: { rm: 8, rn: 4, tk: 16, db: true, u2: true, swz: 8 },
  t128k8dsu: { rm: 8, rn: 8, tk: 8, db: true, u2: true, swz: 8 },
  t128dsu: { rm: 8, rn: 8, tk: 16, db: true, u2: true, swz: 8 },
  // x @ W.T (A and B both read along k: nn.Linear's weight): gemmNTSource where both operands run along k, else
  // the k-major kernel `km` of the same tile (workgroup memory 2 x (TM + TN) x (TK / 4 + 1) vec4: n64 12 KiB,
  // n64k16 20, n128x64 18, n128 24)
  n64: { rm: 4, rn: 4, tk: 8, db: true, nt: true, swz: 0, km: 't64d' },
  n64k16: { rm: 4, rn: 4, tk: 16, db: true, nt: true, swz: 0, km: 't64d' },
  n128x64: { rm: 8, rn: 4, tk: 8, db: true, nt: true, swz: 8, km: 't128x64du' },
  n128: { rm: 8, rn: 8, tk: 8, db: true, nt: true, swz: 8, km: 't128k8ds' },
};
for (const [k, c] of Object.entries(GEMM_CONFIGS)) { c.name = k; c.tm = 16 * c.rm; c.tn = 16 * c.rn; }

/** Small-tile variants (gemmSmallSource). */
export const SMALL_CONFIGS = {
  s16: { rm: 1, rn: 1, tk: 16 },
  s32x16: { rm: 2, rn: 1, tk: 16 },
  s32: { rm: 2, rn: 2, tk: 16 },
};
for (const [k, c] of Object.entries(SMALL_CONFIGS)) { c.name = k; c.tm = 16 * c.rm; c.tn = 16 * c.rn; c.small = true; }

/** Every variant by name: tiles (GEMM_CONFIGS, SMALL_CONFIGS) and matvec (MATVEC_CONFIGS). */
export const GEMM_VARIANTS = { ...GEMM_CONFIGS, ...SMALL_CONFIGS, ...MATVEC_CONFIGS };

/** The matmul_table.mjs profile for an adapter (ctx.info: vendor, architecture, device, description). */
export function pickProfile(table, info = {}) {
  const name = [info.vendor, info.architecture, info.device, info.description].join(' ');
  return table.find((p) => new RegExp(p.match, 'i').test(name)) ?? table[table.length - 1];
}

/** The tile variant for an (m x n) output of `batch` matrices: the first of `tiles` with enough workgroups. */
export function tileConfig(profile, m, n, batch, tiles = profile.tiles) {
  for (const [name, minWg] of tiles) {
    const c = GEMM_VARIANTS[name];
    if (Math.ceil(m / c.tm) * Math.ceil(n / c.tn) * batch >= minWg) return c;
  }
  return GEMM_VARIANTS[tiles[tiles.length - 1][0]];
}

/** The matvec variant for `rows` rows with B's layout `mode` ('k' | 'n'), or null (beyond the profile's skinny M). */
export function skinnyConfig(profile, rows, mode) {
  for (const [maxM, name] of profile.skinny[mode] ?? []) if (rows <= maxM) return MATVEC_CONFIGS[name];
  return null;
}

/** Kept for bench/webgpu_matmul_h100.mjs: the tile variant of the default (last) profile. */
export function gemmConfig(m, n, batch) {
  return tileConfig(MATMUL_TABLE[MATMUL_TABLE.length - 1], m, n, batch);
}

/**
 * Split-K for a big-tile product whose grid leaves the GPU idle (a GPT's 128 x 768 @ 768 x 3072: 96 workgroups,
 * each looping over all of K, latency-bound on an H100's 132 SMs): K is cut into `splits` equal slices run as a
 * batch of products into a float32 scratch [splits, M, N], then summed (splitKSumSource, which also runs the
 * matmul's epilogue). The profile's `splitK` {below, target, minSlice} applies it to single products whose grid has
 * fewer than `below` workgroups: the fewest splits (2, 4, 8, 16) reaching `target` workgroups, or the most whose
 * slices stay whole K tiles of at least `minSlice`. `force`: that many splits wherever they divide K into whole tiles, 1:
 * none (tests, benchmarks).
 * Returns {splits, kslice} or null.
 */
export function splitKPlan(plan, g, profile, force = null) {
  const cfg = plan.cfg, rule = plan.nt ? profile.nt.splitK : profile.splitK;
  if (cfg.small || cfg.mode || g.batch !== 1 || !(force || rule) || force === 1) return null;
  const wgs = plan.grid[0] * plan.grid[1];
  const fits = (sp) => g.k % (sp * cfg.tk) === 0 && g.k / sp >= (force ? cfg.tk : rule.minSlice);
  if (force) return fits(force) ? { splits: force, kslice: g.k / force } : null;
  if (wgs >= rule.below) return null;
  let best = null;
  for (const sp of [2, 4, 8, 16]) {
    if (!fits(sp)) break;
    best = { splits: sp, kslice: g.k / sp };
    if (wgs * sp >= rule.target) break;
  }
  return best;
}

/** The product g as the batch of its K slices, into scratch buffer `tid` (float32, contiguous [splits, M, N]). */
export function splitKSlices(g, { splits, kslice }, tid) {
  const [, ars, acs] = g.a_st, [, brs, bcs] = g.b_st;
  return {
    ...g, batch: splits, k: kslice, out: { id: tid, dt: DT.float32, off: 0 },
    a: { ...g.a }, b: { ...g.b }, a_st: [kslice * acs, ars, acs], b_st: [kslice * brs, brs, bcs],
  };
}

/** Sum of the K slices: header 0 M*N, 1 splits, 2 grid-x, 6 out offset; out[i] = sum_s T[s*MN + i] (contiguous). */
export function splitKSumSpecs(od) {
  return [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'T', dt: DT.float32 }];
}

export function splitKSumSource(b) {
  return PRELUDE + b + `
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let mn = pu(0u);
  let i = (wg.y * pu(2u) + wg.x) * 256u + lid.x;
  if (i >= mn) { return; }
  var acc = 0.0;
  for (var s = 0u; s < pu(1u); s++) { acc += ld_T(s * mn + i); }
  st_O(pu(6u) + i, acc);
}
`;
}

/** B's layout for matvec: 'k' when contiguous along k (and not along n), else 'n'. */
const matvecMode = (brs, bcs) => (bcs !== 1 && brs === 1 ? 'k' : 'n');

/**
 * How one float GEMM runs (g: the bridge's decoded GEMM arguments): the kernel by shape (the profile, or the
 * variant named `force`), and whether it runs transposed (out^T = B^T A^T: few columns, many rows). Returns
 * {key, specs(), src(b), ids, words (header 0..15), grid}.
 */
export function planGemm(g, profile, force = null) {
  const { batch, k } = g;
  let { m, n } = g;
  const o = g.out;
  let a = { ...g.a, st: g.a_st }, bm = { ...g.b, st: g.b_st };
  let ost = [m * n, n, 1];   // out strides (batch, row, col)
  const forced = force ? GEMM_VARIANTS[force] : null;
  let cfg = null;
  if (forced?.mode) {        // a matvec variant: transposed when that has fewer rows
    if (n < m) ({ m, n, a, bm, ost } = transposed(m, n, a, bm, ost));
    cfg = forced;
  } else if (!forced) {
    const rowsMode = matvecMode(bm.st[1], bm.st[2]);
    cfg = skinnyConfig(profile, m, rowsMode);
    if (n < m) {
      const t = transposed(m, n, a, bm, ost);
      const tc = skinnyConfig(profile, t.m, matvecMode(t.bm.st[1], t.bm.st[2]));
      if (tc) ({ m, n, a, bm, ost } = t), cfg = tc;
    }
  }
  const [abs, ars, acs] = a.st, [bbs, brs, bcs] = bm.st;
  const words = [m, n, k, batch, a.off, bm.off, o.off, abs, ars, acs, bbs, brs, bcs, ost[1], ost[2], ost[0]];
  const ids = [o.id, a.id, bm.id];
  const adt = a.dt, odt = o.dt;
  const distinct = a.id !== bm.id && a.id !== o.id && bm.id !== o.id;
  const f32 = distinct && adt === DT.float32;
  const al4 = (x) => x % 4 === 0;
  const batchOk = (bs) => al4(bs) || batch === 1;
  if (cfg) {                 // matvec: 4-element groups along k for A, along B's contiguous dimension for B
    const mode = cfg.mode;
    const vecA = f32 && al4(k) && acs === 1 && (al4(ars) || m === 1) && al4(a.off) && batchOk(abs);
    const vecB = f32 && al4(bm.off) && batchOk(bbs) &&
      (mode === 'k' ? brs === 1 && al4(bcs) && al4(k) : bcs === 1 && (al4(brs) || k === 1) && al4(n));
    return {
      key: `gemv:${adt},${odt}:${cfg.name}:${+vecA}${+vecB}`, cfg, ids, words, vecA, vecB,
      specs: () => gemmSpecs(adt, odt, vecA, vecB), src: (b) => matvecSource(cfg, vecA, vecB, b),
      grid: [Math.ceil(n / cfg.cols), Math.ceil(m / cfg.rows), batch],
    };
  }
  // 4-element load groups along A's and B's contiguous dimension (k for A, n for B unless transposed);
  // vec4 bindings where that dimension has unit stride, 16-byte alignment and an extent divisible by 4.
  const aMode = acs !== 1 && ars === 1 ? 'm' : 'k';
  const bMode = bcs !== 1 && brs === 1 ? 'k' : 'n';
  const nt = aMode === 'k' && bMode === 'k' && !!profile.nt;   // x @ W.T: the profile's own list and split rule
  cfg = forced ?? tileConfig(profile, m, n, batch, nt ? profile.nt.tiles : profile.tiles);
  if (cfg.nt && !(aMode === 'k' && bMode === 'k')) cfg = GEMM_CONFIGS[cfg.km];
  const grid = [Math.ceil(n / cfg.tn), Math.ceil(m / cfg.tm), batch];
  if (cfg.small) {
    return {
      key: `gemm:${adt},${odt}:${cfg.name}:${aMode}${bMode}`, cfg, ids, words, grid, nt,
      specs: () => gemmSpecs(adt, odt, false, false), src: (b) => gemmSmallSource(b, cfg, aMode, bMode),
    };
  }
  const vecA = f32 && al4(a.off) && batchOk(abs) && (aMode === 'k' ? acs === 1 && al4(ars) && al4(k) : al4(acs) && al4(m));
  const vecB = f32 && al4(bm.off) && batchOk(bbs) && (bMode === 'n' ? bcs === 1 && al4(brs) && al4(n) : al4(bcs) && al4(k));
  return {
    key: `gemm:${adt},${odt}:${cfg.name}:${aMode}${+vecA}${bMode}${+vecB}`, cfg, ids, words, grid, nt,
    specs: () => gemmSpecs(adt, odt, vecA, vecB), src: (b) => gemmSource(adt, odt, vecA, vecB, b, cfg, aMode, bMode),
  };
}

/**
 * The kernel of two float32 products of one A by two weights of one shape and strides (g1, g2: decoded GEMM blocks;
 * kernels/matvec.mjs's pair, B2's offset at word 16), or null where they would not run so: g1's kernel is not a
 * matvec in mode 'k' as written (not transposed), or has more than 8 rows (the second partial sums' workgroup
 * memory), or operands that alias. {one: g1's own plan, key, specs(), src(b), ids [out1, A, B, B2], words, grid}.
 */
export function pairPlan(g1, g2, profile, force = null) {
  const eq = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (g1.batch !== g2.batch || g1.m !== g2.m || g1.n !== g2.n || g1.k !== g2.k) return null;
  if (g1.a.id !== g2.a.id || g1.a.off !== g2.a.off || !eq(g1.a_st, g2.a_st) || !eq(g1.b_st, g2.b_st)) return null;
  const dts = [g1.a.dt, g2.a.dt, g1.b.dt, g2.b.dt, g1.out.dt, g2.out.dt];
  if (!dts.every((d) => d === DT.float32)) return null;
  const ids = [g1.out.id, g2.out.id, g1.a.id, g1.b.id, g2.b.id];
  if (new Set(ids).size !== ids.length) return null;
  const one = planGemm(g1, profile, force);
  if (one.cfg?.mode !== 'k' || one.cfg.rows > 8 || one.ids[2] !== g1.b.id) return null;
  const { cfg, vecA } = one, vecB = one.vecB && g2.b.off % 4 === 0;
  return {
    one, key: `gemv2:${cfg.name}:${+vecA}${+vecB}`, ids: [...one.ids, g2.b.id], words: [...one.words, g2.b.off],
    specs: () => [...gemmSpecs(DT.float32, DT.float32, vecA, vecB), { name: 'B2', dt: DT.float32, vec4: vecB }],
    src: (b) => matvecSource(cfg, vecA, vecB, b, true), grid: one.grid,
  };
}

/** The product transposed: out^T (n x m) = B^T (n x k) @ A^T (k x m), out written through its strides. */
function transposed(m, n, a, bm, ost) {
  return {
    m: n, n: m,
    a: { ...bm, st: [bm.st[0], bm.st[2], bm.st[1]] },
    bm: { ...a, st: [a.st[0], a.st[2], a.st[1]] },
    ost: [ost[0], ost[2], ost[1]],
  };
}

// The integer kernel's dispatch tile.
export const TM_INT = 16, TN_INT = 16;

/** Operand specs: out, A, B (vec4: bound as array<vec4<f32>>, read as A4 / B4). */
export function gemmSpecs(ad, od, vecA, vecB) {
  return [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'A', dt: ad, vec4: vecA }, { name: 'B', dt: ad, vec4: vecB }];
}

/**
 * WGSL for the GEMM. ad / od: input / output dtype codes; vecA, vecB: vec4 bindings; b: binding code from
 * declare(); cfg: a GEMM_CONFIGS entry; aMode 'k' | 'm', bMode 'n' | 'k' (the contiguous dimension of the
 * 4-element load groups).
 */
export function gemmSource(ad, od, vecA, vecB, b, cfg = GEMM_CONFIGS.t64d, aMode = 'k', bMode = 'n') {
  if (!isFloat(ad)) {
    return PRELUDE + b + (ad === DT.int64 ? INT64_WGSL : '') + `
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = g.z;
  if (g.x >= N || g.y >= M) { return; }
  let ab = pu(4u) + bt * pu(7u) + g.y * pu(8u); let bb = pu(5u) + bt * pu(10u) + g.x * pu(12u);
  ${ad === DT.int64 ? `var acc = L0;   // exact int64 (kernels/int64.mjs)
  for (var k = 0u; k < K; k++) { acc = ladd(acc, lmul(raw_A(ab + k * pu(9u)), raw_B(bb + k * pu(11u)))); }
  strw_O(pu(6u) + (bt * M + g.y) * N + g.x, acc);` : `var acc = 0;
  for (var k = 0u; k < K; k++) { acc += ld_A(ab + k * pu(9u)) * ld_B(bb + k * pu(11u)); }
  st_O(pu(6u) + (bt * M + g.y) * N + g.x, acc);`}
}
`;
  }
  if (cfg.nt) return gemmNTSource(vecA, vecB, b, cfg);   // (planGemm: both operands along k)
  const { rm, rn, tk: TK, db, u2, swz, tm: TM, tn: TN } = cfg;
  const TM4 = TM / 4, TN4 = TN / 4, GM = rm / 4, GN = rn / 4;
  const LA = (TM * TK) / 1024, LB = (TN * TK) / 1024;   // 4-element groups per invocation per tile
  if (!(LA >= 1 && LB >= 1 && Number.isInteger(LA) && Number.isInteger(LB) && TK % 4 === 0)) throw new Error(`bad gemm config ${cfg.name}`);
  // row (k index) of workgroup memory for k offset kk in buffer half h: a constant when h is a number
  const row = (h, kk) => (typeof h === 'number' ? `${h * TK + kk}u` : `${h} * ${TK}u${kk ? ` + ${kk}u` : ''}`);
  let s = '';
  // ---- global -> registers (tile starting at k0) ----
  const loadA = () => {
    let c = '';
    for (let q = 0; q < LA; q++) {
      c += `    { let e = li + ${q * 256}u;\n`;
      if (aMode === 'k') {
        c += `      let r = e / ${TK / 4}u; let gk = k0 + (e % ${TK / 4}u) * 4u; let gr = m0 + r;\n`;
        if (vecA) c += `      ra${q} = vec4<f32>(0.0); if (gr < M && gk < K) { ra${q} = A4[(ab + gr * ars + gk) / 4u]; }\n`;
        else {
          c += `      ra${q} = vec4<f32>(0.0); if (gr < M) { let base = ab + gr * ars + gk * acs;\n`;
          for (let j = 0; j < 4; j++) c += `        if (gk + ${j}u < K) { ra${q}[${j}] = ld_A(base + ${j}u * acs); }\n`;
          c += '      }\n';
        }
      } else {
        c += `      let gk = k0 + e / ${TM4}u; let gr = m0 + (e % ${TM4}u) * 4u;\n`;
        if (vecA) c += `      ra${q} = vec4<f32>(0.0); if (gr < M && gk < K) { ra${q} = A4[(ab + gr + gk * acs) / 4u]; }\n`;
        else {
          c += `      ra${q} = vec4<f32>(0.0); if (gk < K) { let base = ab + gr * ars + gk * acs;\n`;
          for (let j = 0; j < 4; j++) c += `        if (gr + ${j}u < M) { ra${q}[${j}] = ld_A(base + ${j}u * ars); }\n`;
          c += '      }\n';
        }
      }
      c += '    }\n';
    }
    return c;
  };
  const loadB = () => {
    let c = '';
    for (let q = 0; q < LB; q++) {
      c += `    { let e = li + ${q * 256}u;\n`;
      if (bMode === 'n') {
        c += `      let gk = k0 + e / ${TN4}u; let gc = n0 + (e % ${TN4}u) * 4u;\n`;
        if (vecB) c += `      rb${q} = vec4<f32>(0.0); if (gk < K && gc < N) { rb${q} = B4[(bb + gk * brs + gc) / 4u]; }\n`;
        else {
          c += `      rb${q} = vec4<f32>(0.0); if (gk < K) { let base = bb + gk * brs + gc * bcs;\n`;
          for (let j = 0; j < 4; j++) c += `        if (gc + ${j}u < N) { rb${q}[${j}] = ld_B(base + ${j}u * bcs); }\n`;
          c += '      }\n';
        }
      } else {
        c += `      let cc = e / ${TK / 4}u; let gk = k0 + (e % ${TK / 4}u) * 4u; let gc = n0 + cc;\n`;
        if (vecB) c += `      rb${q} = vec4<f32>(0.0); if (gc < N && gk < K) { rb${q} = B4[(bb + gc * bcs + gk) / 4u]; }\n`;
        else {
          c += `      rb${q} = vec4<f32>(0.0); if (gc < N) { let base = bb + gk * brs + gc * bcs;\n`;
          for (let j = 0; j < 4; j++) c += `        if (gk + ${j}u < K) { rb${q}[${j}] = ld_B(base + ${j}u * brs); }\n`;
          c += '      }\n';
        }
      }
      c += '    }\n';
    }
    return c;
  };
  // ---- registers -> workgroup memory half at vec4 offset `h` (WGSL expression) ----
  const store = (h) => {
    let c = '';
    for (let q = 0; q < LA; q++) {
      c += `    { let e = li + ${q * 256}u;\n`;
      if (aMode === 'k') {
        c += `      let r = e / ${TK / 4}u; let kq = ${row(h, 0)} + (e % ${TK / 4}u) * 4u; let r4 = r / 4u; let rc = r % 4u;\n`;
        for (let j = 0; j < 4; j++) c += `      As[kq + ${j}u][r4][rc] = ra${q}[${j}];\n`;
      } else {
        c += `      As[${row(h, 0)} + e / ${TM4}u][e % ${TM4}u] = ra${q};\n`;
      }
      c += '    }\n';
    }
    for (let q = 0; q < LB; q++) {
      c += `    { let e = li + ${q * 256}u;\n`;
      if (bMode === 'n') {
        c += `      Bs[${row(h, 0)} + e / ${TN4}u][e % ${TN4}u] = rb${q};\n`;
      } else {
        c += `      let cc = e / ${TK / 4}u; let kq = ${row(h, 0)} + (e % ${TK / 4}u) * 4u; let c4 = cc / 4u; let cr = cc % 4u;\n`;
        for (let j = 0; j < 4; j++) c += `      Bs[kq + ${j}u][c4][cr] = rb${q}[${j}];\n`;
      }
      c += '    }\n';
    }
    return c;
  };
  // ---- multiply the tile in half `h` ----
  const compute = (h) => {
    let c = '    {\n';
    for (let kk = 0; kk < TK; kk++) {
      for (let g = 0; g < GM; g++) c += `      let a${kk}_${g} = As[${row(h, kk)}][lid.y${g ? ` + ${g * 16}u` : ''}];\n`;
      for (let g = 0; g < GN; g++) c += `      let b${kk}_${g} = Bs[${row(h, kk)}][lid.x${g ? ` + ${g * 16}u` : ''}];\n`;
      for (let g = 0; g < GM; g++) {
        for (let j = 0; j < 4; j++) {
          const comp = 'xyzw'[j];
          for (let hh = 0; hh < GN; hh++) c += `      c${g * 4 + j}_${hh} = fma(vec4<f32>(a${kk}_${g}.${comp}), b${kk}_${hh}, c${g * 4 + j}_${hh});\n`;
        }
      }
    }
    return c + '    }\n';
  };
  let decl = '';
  for (let i = 0; i < rm; i++) for (let hh = 0; hh < GN; hh++) decl += `  var c${i}_${hh} = vec4<f32>(0.0);\n`;
  for (let q = 0; q < LA; q++) decl += `  var ra${q}: vec4<f32>;\n`;
  for (let q = 0; q < LB; q++) decl += `  var rb${q}: vec4<f32>;\n`;
  let body;
  if (db && u2) {
    // unrolled by two: the buffer halves are constants, so workgroup-memory rows are constant indices
    const step = (h, t) => `    { let more = ${t} + 1u < nt;
      k0 = (${t} + 1u) * ${TK}u;
      if (more) {
${loadA()}${loadB()}      }
${compute(h)}      if (more) {
${store(1 - h)}      }
      workgroupBarrier();
    }
`;
    body = `  var k0 = 0u;
${loadA()}${loadB()}${store(0)}  workgroupBarrier();
  let nt = (K + ${TK - 1}u) / ${TK}u;
  for (var t = 0u; t < nt; t += 2u) {
${step(0, 't')}    if (t + 1u < nt) {
${step(1, '(t + 1u)')}    }
  }
`;
  } else if (db) {
    body = doubleBuffered(TK, loadA() + loadB(), store(0), compute('cur'), store('(1u - cur)'));
  } else {
    body = `  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
${loadA()}${loadB()}${store(0)}    workgroupBarrier();
${compute(0)}    workgroupBarrier();
  }
`;
  }
  let out = '';
  for (let g = 0; g < GM; g++) {
    for (let j = 0; j < 4; j++) {
      out += `  { let gr = m0 + ${g * 64 + j}u + lid.y * 4u;\n    if (gr < M) { let ob = pu(6u) + (bt * M + gr) * N;\n`;
      for (let hh = 0; hh < GN; hh++) {
        out += `      { let gc = n0 + ${hh * 64}u + lid.x * 4u; let v = c${g * 4 + j}_${hh};\n`;
        for (let x = 0; x < 4; x++) out += `        if (gc + ${x}u < N) { st_O(ob + gc + ${x}u, v.${'xyzw'[x]}); }\n`;
        out += '      }\n';
      }
      out += '    }\n  }\n';
    }
  }
  s = PRELUDE + b + `
var<workgroup> As: array<array<vec4<f32>, ${TM4}>, ${(db ? 2 : 1) * TK}>;
var<workgroup> Bs: array<array<vec4<f32>, ${TN4}>, ${(db ? 2 : 1) * TK}>;
${tileMain(cfg)}${decl}${body}${out}}
`;
  return s;
}

/**
 * The double-buffered K loop (WGSL): tile 0 loaded (`load`: global memory -> registers at k0) and stored
 * (`store0`), then per tile the next one loaded before the current one, in half `cur`, is multiplied (`compute`)
 * and stored to the other half after it (`storeNext`); one barrier per tile.
 */
function doubleBuffered(TK, load, store0, compute, storeNext) {
  return `  var k0 = 0u;
${load}${store0}  workgroupBarrier();
  let nt = (K + ${TK - 1}u) / ${TK}u;
  for (var t = 0u; t < nt; t++) {
    let cur = t & 1u;
    k0 = (t + 1u) * ${TK}u;
    let more = t + 1u < nt;
    if (more) {
${load}    }
${compute}    if (more) {
${storeNext}    }
    workgroupBarrier();
  }
`;
}

/**
 * The big tiles' entry point up to the operands' bases and strides: m0, n0 (the workgroup's tile; `swz`: workgroups
 * walk the output in column strips `swz` tiles tall, so that concurrent workgroups share operand tiles in L2) and li
 * (the invocation's index).
 */
function tileMain({ swz, tm, tn }) {
  const origin = swz ? `  let pid = wg.y * nwg.x + wg.x; let width = ${swz}u * nwg.x; let fm = (pid / width) * ${swz}u;
  let gsz = min(nwg.y - fm, ${swz}u); let rr = pid % width;
  let m0 = (fm + rr % gsz) * ${tm}u; let n0 = (rr / gsz) * ${tn}u;
` : `  let m0 = wg.y * ${tm}u; let n0 = wg.x * ${tn}u;
`;
  return `@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = wg.z;
${origin}  let li = lid.y * 16u + lid.x;
  let ab = pu(4u) + bt * pu(7u); let ars = pu(8u); let acs = pu(9u);
  let bb = pu(5u) + bt * pu(10u); let brs = pu(11u); let bcs = pu(12u);
`;
}

/**
 * The product with both operands read along k (A [M, K] and B as W [N, K]: x @ W.T). Both tiles go to workgroup
 * memory as they lie, rows of TK / 4 vec4 along k padded by one vec4 (no transposing scalar stores; the padding
 * keeps 16 invocations reading 16 different rows free of bank conflicts). An invocation's rows are lid.y + 16 i
 * and its columns lid.x + 16 j (coalesced stores); per vec4 of k it reads rm + rn vec4 and does 4 rm rn scalar FMAs
 * into rm rn accumulators. Double-buffered as gemmSource: the next tile is loaded into registers before the current
 * one is multiplied. Same header and grid as gemmSource.
 */
function gemmNTSource(vecA, vecB, b, cfg) {
  const { rm, rn, tk: TK, tm: TM, tn: TN } = cfg;
  const K4 = TK / 4, P4 = K4 + 1;                      // vec4 per tile row, and its padded stride
  const LA = Math.ceil((TM * K4) / 256), LB = Math.ceil((TN * K4) / 256);   // vec4 loads per invocation per tile
  // the last load's invocations past the tile (a tile of fewer than 256 vec4) load and store nothing
  const live = (n, q) => ((q + 1) * 256 > n ? ` && e < ${n}u` : '');
  const guard = (n, q, stmt) => ((q + 1) * 256 > n ? `if (e < ${n}u) { ${stmt} }` : stmt);
  // operand X's load q of the tile at k0 into register rXq: rows r0.., `rows` of them, row stride rs, k stride cs
  const load = (X, q, vec, base0, rows, r0, rs, cs, n) => {
    let c = `    { let e = li + ${q * 256}u; let gk = k0 + (e % ${K4}u) * 4u; let gr = ${r0} + e / ${K4}u;\n`;
    c += `      r${X}${q} = vec4<f32>(0.0);\n`;
    if (vec) c += `      if (gr < ${rows} && gk < K${live(n, q)}) { r${X}${q} = ${X}4[(${base0} + gr * ${rs} + gk) / 4u]; }\n`;
    else {
      c += `      if (gr < ${rows}${live(n, q)}) { let base = ${base0} + gr * ${rs} + gk * ${cs};\n`;
      for (let j = 0; j < 4; j++) c += `        if (gk + ${j}u < K) { r${X}${q}[${j}] = ld_${X}(base + ${j}u * ${cs}); }\n`;
      c += '      }\n';
    }
    return c + '    }\n';
  };
  // registers -> the tile half starting at vec4 `h` (a WGSL expression) of X's workgroup array
  const store = (X, n, h) => {
    let c = '';
    for (let q = 0; q * 256 < n; q++) c += `      { let e = li + ${q * 256}u; ${guard(n, q, `${X}s[${h} + (e / ${K4}u) * ${P4}u + e % ${K4}u] = r${X}${q};`)} }\n`;
    return c;
  };
  let loads = '', decl = '', fmas = '', out = '';
  for (let q = 0; q < LA; q++) { loads += load('A', q, vecA, 'ab', 'M', 'm0', 'ars', 'acs', TM * K4); decl += `  var rA${q}: vec4<f32>;\n`; }
  for (let q = 0; q < LB; q++) { loads += load('B', q, vecB, 'bb', 'N', 'n0', 'bcs', 'brs', TN * K4); decl += `  var rB${q}: vec4<f32>;\n`; }
  for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) decl += `  var c${i}_${j} = 0.0;\n`;
  for (let i = 0; i < rm; i++) fmas += `      let a${i} = As[ha + (lid.y + ${16 * i}u) * ${P4}u + k4];\n`;
  for (let j = 0; j < rn; j++) fmas += `      let b${j} = Bs[hb + (lid.x + ${16 * j}u) * ${P4}u + k4];\n`;
  for (const comp of 'xyzw') {
    for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) fmas += `      c${i}_${j} = fma(a${i}.${comp}, b${j}.${comp}, c${i}_${j});\n`;
  }
  for (let i = 0; i < rm; i++) {
    out += `  { let gr = m0 + lid.y + ${16 * i}u;\n    if (gr < M) { let ob = pu(6u) + (bt * M + gr) * N;\n`;
    for (let j = 0; j < rn; j++) out += `      { let gc = n0 + lid.x + ${16 * j}u; if (gc < N) { st_O(ob + gc, c${i}_${j}); } }\n`;
    out += '    }\n  }\n';
  }
  return PRELUDE + b + `
var<workgroup> As: array<vec4<f32>, ${2 * TM * P4}>;
var<workgroup> Bs: array<vec4<f32>, ${2 * TN * P4}>;
${tileMain(cfg)}${decl}${doubleBuffered(TK, loads, store('A', TM * K4, '0u') + store('B', TN * K4, '0u'), `    let ha = cur * ${TM * P4}u; let hb = cur * ${TN * P4}u;
    for (var k4 = 0u; k4 < ${K4}u; k4++) {
${fmas}    }
`, store('A', TM * K4, `(1u - cur) * ${TM * P4}u`) + store('B', TN * K4, `(1u - cur) * ${TN * P4}u`))}${out}}
`;
}


// Small tiles (16 x 16 invocations, each an rm x rn block of scalars: 16 x 16 to 32 x 32 outputs) for outputs
// too small to give the big tiles' workgroups enough work or enough of them: a 64 x 64 tile over a 96 x 96
// output computes 128 x 128. Any dtype and strides (scalar loads); workgroup-memory tiles are filled along each
// operand's contiguous dimension (aMode / bMode as above).

export function gemmSmallSource(b, cfg, aMode = 'k', bMode = 'n') {
  const { rm, rn, tk: TK, tm: TM, tn: TN } = cfg;
  // element e of a tile load: (row, k) of A and (k, column) of B, the contiguous index fastest
  const aIdx = aMode === 'k' ? `let kk = e % ${TK}u; let r = e / ${TK}u;` : `let r = e % ${TM}u; let kk = e / ${TM}u;`;
  const bIdx = bMode === 'n' ? `let c = e % ${TN}u; let kk = e / ${TN}u;` : `let kk = e % ${TK}u; let c = e / ${TK}u;`;
  let acc = '', fma = '', out = '';
  for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) acc += `  var c${i}_${j} = 0.0;\n`;
  for (let i = 0; i < rm; i++) fma += `      let a${i} = As[kk * ${TM}u + lid.y + ${16 * i}u];\n`;
  for (let j = 0; j < rn; j++) fma += `      let b${j} = Bs[kk * ${TN}u + lid.x + ${16 * j}u];\n`;
  for (let i = 0; i < rm; i++) for (let j = 0; j < rn; j++) fma += `      c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});\n`;
  for (let i = 0; i < rm; i++) {
    for (let j = 0; j < rn; j++) {
      out += `  { let gr = m0 + lid.y + ${16 * i}u; let gc = n0 + lid.x + ${16 * j}u;
    if (gr < M && gc < N) { st_O(pu(6u) + bt * pu(15u) + gr * pu(13u) + gc * pu(14u), c${i}_${j}); } }\n`;
    }
  }
  return PRELUDE + b + `
var<workgroup> As: array<f32, ${TM * TK}>;
var<workgroup> Bs: array<f32, ${TN * TK}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = wg.z;
  let m0 = wg.y * ${TM}u; let n0 = wg.x * ${TN}u; let li = lid.y * 16u + lid.x;
  let ab = pu(4u) + bt * pu(7u); let ars = pu(8u); let acs = pu(9u);
  let bb = pu(5u) + bt * pu(10u); let brs = pu(11u); let bcs = pu(12u);
${acc}  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    for (var e = li; e < ${TM * TK}u; e += 256u) {
      ${aIdx} let gr = m0 + r; let gk = k0 + kk;
      var v = 0.0; if (gr < M && gk < K) { v = f32(ld_A(ab + gr * ars + gk * acs)); }
      As[kk * ${TM}u + r] = v;
    }
    for (var e = li; e < ${TN * TK}u; e += 256u) {
      ${bIdx} let gc = n0 + c; let gk = k0 + kk;
      var v = 0.0; if (gc < N && gk < K) { v = f32(ld_B(bb + gk * brs + gc * bcs)); }
      Bs[kk * ${TN}u + c] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
${fma}    }
    workgroupBarrier();
  }
${out}}
`;
}

export { kindOf };
