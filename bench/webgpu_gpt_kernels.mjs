// GPT-2's kernels one by one, every way the bridge can run them: the forward's products (x @ W.T with nn.Linear's
// weight, B read along k; M = 128 tokens) for each tile variant and split-K count, and its causal attention
// (12 heads x 128 rows, head dim 64, q/k/v strided views of one qkv buffer) for each rows-per-workgroup choice of
// kernels/attention.mjs. What `webgpu_host_profile.py --gpu-only` shows as the forward's GPU time, taken apart so
// that the adapter's table (kernels/matmul_table.mjs: tiles, splitK, attention.minWorkgroups) can be set from it.
//
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json QUICK=1 node bench/webgpu_gpt_kernels.mjs
//   (on the GPU machine: bash bench/webgpu_on_device.sh bench/webgpu_gpt_kernels.mjs)
// env: QUICK=1 (small shapes: SwiftShader), MINMS (per timing, default 20), RESULT_JSON (default
//      bench/results/webgpu_gpt_kernels.json), TOKENS (M, default 128), WRITE_TABLE=path (kernels/matmul_table.mjs
//      with this adapter's profile given the fitted `nt` and `attention` entries, written to path).
// The fit: for x @ W.T the one tile variant and split-K rule {below, target, minSlice} (the rule splitKPlan
// applies) with the least summed time over the five products, the variant taking grids of at least 16 workgroups
// and n64 the smaller; for attention the minWorkgroups whose row choice is fastest.
// Every variant's output is compared with the automatic choice's (max relative difference printed).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchBridge, nodeBridge } from './bridge_gemm.mjs';
import { writeMatmulTable } from './matmul_table_io.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.QUICK === '1';
const MINMS = Number(process.env.MINMS || (QUICK ? 5 : 20));
const M = Number(process.env.TOKENS || (QUICK ? 32 : 128));
const log = (...a) => console.log(...a);

const { GEMM_VARIANTS, splitKPlan } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/kernels/matmul.mjs')).href);
const { attentionRows } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/kernels/attention.mjs')).href);
const bridge = await nodeBridge();
const info = JSON.parse(bridge.info());
log('adapter', JSON.stringify(info));
const { rand, upload, gemm, readF32, timeRuns } = benchBridge(bridge);
const F32 = 8;

const D = QUICK ? 64 : 768, HEADS = QUICK ? 4 : 12, VOCAB = QUICK ? 1000 : 50257;
// (name, N, K): the products of one GPT-2 block and the tied LM head, as x [M, K] @ W[N, K].T
const PRODUCTS = [['qkv', 3 * D, D], ['proj', D, D], ['fc', 4 * D, D], ['fc2', D, 4 * D], ['lm_head', VOCAB, D]];
const TILES = QUICK ? ['t64d', 't64du', 't128k8dsu', 'n64', 'n128']
  : ['s32', 't64d', 't64du', 't128x64du', 't128k8ds', 't128k8dsu', 't128dsu', 'n64', 'n64k16', 'n128x64', 'n128'];
const SPLITS = QUICK ? [1, 2] : [1, 2, 4, 8, 16];
const ROWS = QUICK ? [64, 16, 8] : [64, 32, 16, 8, 4, 2];

const out = { date: new Date().toISOString(), adapter: info, profile: bridge.matmulProfile, tokens: M, products: [], attention: [] };
const relDiff = (x, y) => {
  let w = 0;
  for (let i = 0; i < x.length; i++) w = Math.max(w, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
  return w;
};

// B 'k': W [N, K] read transposed (nn.Linear); 'n': the same product with W.T stored [K, N], for comparison
for (const [name, n, k, layout] of PRODUCTS.flatMap((p) => (QUICK ? ['k'] : ['k', 'n']).map((l) => [...p, l]))) {
  const a = upload(rand(M * k, 3)), b = upload(rand(n * k, 5)), o = bridge.alloc(M * n * 4);
  const run = () => gemm(1, M, n, k, o, a, b, [M * k, k, 1], layout === 'k' ? [n * k, 1, k] : [n * k, n, 1]);
  run();
  const ref = await readF32(o, M * n);
  const row = { name, layout, m: M, n, k, auto: +(await timeRuns(run, o, MINMS)).toPrecision(4), ms: {} };
  let worst = 0;
  for (const v of TILES) {
    bridge.gemmForce = v;
    for (const sp of SPLITS) {
      if (sp > 1 && k % (sp * GEMM_VARIANTS[v].tk) !== 0) continue;   // (splitKPlan would run it whole: not a split)
      bridge.splitKForce = sp;
      run();
      worst = Math.max(worst, relDiff(await readF32(o, M * n), ref));
      row.ms[`${v}/${sp}`] = +(await timeRuns(run, o, MINMS)).toPrecision(4);
    }
  }
  bridge.gemmForce = null; bridge.splitKForce = null;
  const best = Object.entries(row.ms).reduce((x, y) => (y[1] < x[1] ? y : x));
  const tf = (ms) => (2 * M * n * k / ms / 1e9).toPrecision(3);
  log(`${name.padEnd(8)} B ${layout} ${M}x${n}x${k}: auto ${row.auto} ms (${tf(row.auto)} TFLOP/s); best ${best[0]} ${best[1]} ms (${tf(best[1])}); max rel diff ${worst.toExponential(1)}`);
  log(`   ${Object.entries(row.ms).map(([key, ms]) => `${key} ${ms}`).join(', ')}`);
  row.maxRelDiff = worst;
  out.products.push(row);
  for (const id of [a, b, o]) bridge.release(id);
}

// causal self-attention over a qkv buffer [M, 3 * D] (q, k, v: heads of 64 as strided views), out (1, H, M, 64)
{
  const E = D / HEADS, qkv = upload(rand(M * 3 * D, 11)), o = bridge.alloc(HEADS * M * E * 4);
  const op = (off) => ({ id: qkv, dt: F32, off });
  const st = [M * 3 * D, E, 3 * D, 1];
  const blk = {
    B: 1, H: HEADS, L: M, S: M, E, Ev: E, rep: 1, flags: 1, out: { id: o, dt: F32, off: 0 },
    q: op(0), k: op(D), v: op(2 * D), mask: { id: 0, dt: F32, off: 0 }, q_st: st, k_st: st, v_st: st, m_st: [0, 0, 0, 0],
  };
  const { runAttention } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/kernels/attention.mjs')).href);
  const run = () => runAttention(bridge, blk, 1 / Math.sqrt(E));
  bridge.attentionRowsForce = 64;
  run();
  const ref = await readF32(o, HEADS * M * E);
  for (const rows of ROWS) {
    bridge.attentionRowsForce = rows;
    run();
    const diff = relDiff(await readF32(o, HEADS * M * E), ref);
    const ms = +(await timeRuns(run, o, MINMS)).toPrecision(4);
    out.attention.push({ heads: HEADS, L: M, E, rows, ms, maxRelDiff: diff });
    log(`attention ${HEADS}x${M}x${E} causal, ${rows} rows per workgroup (${Math.ceil(M / rows) * HEADS} workgroups): ${ms} ms, max rel diff ${diff.toExponential(1)}`);
  }
  bridge.attentionRowsForce = null;
  out.attentionAuto = +(await timeRuns(run, o, MINMS)).toPrecision(4);
  log(`attention auto: ${out.attentionAuto} ms`);
}

out.fit = fit(out);
log('fitted', JSON.stringify(out.fit));
if (process.env.WRITE_TABLE) {
  const a = info, p = bridge.matmulProfile;
  const stamp = `${p.measured}; nt, attention: bench/webgpu_gpt_kernels.mjs ${out.date.slice(0, 10)} on ${[a.vendor, a.architecture, a.device].filter(Boolean).join(' ')}`;
  writeMatmulTable({ ...p, measured: stamp, ...out.fit }, info, process.env.WRITE_TABLE, log);
}

const file = process.env.RESULT_JSON || path.join(REPO, 'bench/results/webgpu_gpt_kernels.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(out, null, 1));
log('wrote', file);
process.exit(0);

/** The nt and attention entries that would have been fastest on what was measured (see the header). */
function fit(res) {
  const prods = res.products.filter((r) => r.layout === 'k');
  const rules = [null];
  for (const below of [66, 132, 264, 528, 1056, 1e9]) {
    for (const target of [132, 264, 528, 1056]) for (const minSlice of [32, 64, 128, 256]) rules.push({ below, target, minSlice });
  }
  let best = { ms: Infinity };
  for (const v of TILES) {
    const cfg = GEMM_VARIANTS[v];
    for (const rule of rules) {
      let ms = 0;
      for (const r of prods) {
        const grid = [Math.ceil(r.n / cfg.tn), Math.ceil(r.m / cfg.tm)];
        const sp = rule ? splitKPlan({ cfg, grid, nt: true }, { batch: 1, k: r.k }, { nt: { splitK: rule } }) : null;
        ms += r.ms[`${v}/${sp ? sp.splits : 1}`] ?? Infinity;
      }
      if (ms < best.ms) best = { ms, v, rule };
    }
  }
  const autoMs = prods.reduce((t, r) => t + r.auto, 0);
  log(`x @ W.T products: ${autoMs.toPrecision(4)} ms with the table as it was, ${best.ms.toPrecision(4)} fitted (${best.v}, split ${JSON.stringify(best.rule)})`);
  const nt = { tiles: best.v === 'n64' ? [['n64', 0]] : [[best.v, 16], ['n64', 0]] };
  if (best.rule) nt.splitK = best.rule;
  const a = res.attention;
  let att = { ms: Infinity };
  for (const minWorkgroups of [0, 48, 96, 192, 384, 768, 1536]) {
    const rows = attentionRows(a[0].L, a[0].E, a[0].heads, minWorkgroups);
    const ms = a.find((x) => x.rows === rows)?.ms ?? Infinity;
    if (ms < att.ms) att = { ms, minWorkgroups };
  }
  return { nt, attention: { minWorkgroups: att.minWorkgroups } };
}
