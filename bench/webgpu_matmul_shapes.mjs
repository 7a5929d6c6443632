// Which matmul kernel for which shape, measured: every variant of js_bridge/webgpu/kernels (matvec and skinny
// kernels, small tiles, big tiles) timed over shapes from 1 to 4096 through the bridge's own GEMM path
// (Bridge._gemm -> kernels/matmul.mjs planGemm, variant forced by name; no Pyodide), then the choice table
// (kernels/matmul_table.mjs) fitted to the timings for this adapter.
//
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json QUICK=1 node bench/webgpu_matmul_shapes.mjs
//   (on the GPU machine, see bench/README.md "Kernel choice by shape")
// env: QUICK=1 (small shapes, short timings: SwiftShader), MINMS (per timing, default 30), CHECK=0 (skip the
//      correctness pass), RESULT_JSON=path (timings + fitted profile; default bench/results/webgpu_matmul_shapes.json),
//      WRITE_TABLE=path (write kernels/matmul_table.mjs with this adapter's profile replaced or added, to path),
//      TIME=0 (correctness only), PART=tiles|skinny (one study), BUDGET_S (default 520: past it, timing stops
//      and the fit uses what was measured), FIT_FROM=path[,path] (no GPU work: refit from earlier RESULT_JSONs,
//      merged, e.g. brought back from the device).
//
// Correctness: every variant against a float64 CPU product on odd shapes (1, primes, non-multiples of every tile),
// transposed operands (strides), batches, broadcast batches (stride 0) and offsets. Timing: each variant `reps`
// times back to back, then one readback; the repetition count grows until a timing lasts MINMS; best of ROUNDS.
// The fit (fitProfile): per B layout, the matvec family (invocations per column / column quads) whose variants
// with the fewest rows covering each M have the lowest median slowdown against the best kernel of each (N, K),
// used up to the last M where it beats the best tile; for tiles, the ordered list of up to
// three variants with workgroup-count thresholds that minimises the summed log slowdown over all shapes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchBridge, nodeBridge } from './bridge_gemm.mjs';
import { writeMatmulTable } from './matmul_table_io.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KERNELS = path.join(REPO, 'js_bridge/webgpu/kernels');
const { GEMM_VARIANTS, SMALL_CONFIGS } = await import(pathToFileURL(path.join(KERNELS, 'matmul.mjs')).href);
const { MATVEC_CONFIGS } = await import(pathToFileURL(path.join(KERNELS, 'matvec.mjs')).href);

const QUICK = process.env.QUICK === '1';
const MINMS = Number(process.env.MINMS || (QUICK ? 15 : 20));
const ROUNDS = Number(process.env.ROUNDS || 1);
const PART = process.env.PART || 'all';                    // 'tiles' or 'skinny': one study only
const BUDGET_MS = Number(process.env.BUDGET_S || 520) * 1000;   // then stop timing and fit what was measured
const T0 = performance.now();
const overBudget = () => performance.now() - T0 > BUDGET_MS;
const log = (...a) => console.log(...a);

// ---- shapes --------------------------------------------------------------------------------------------------
// skinny study: rows M against (N, K) pairs (GPT-2 / SmolLM-like projections), B laid out 'k' (x @ W.T,
// nn.Linear) and 'n' (x @ W)
const SKINNY_M = QUICK ? [1, 2, 4, 8, 16] : [1, 2, 3, 4, 6, 8, 12, 16, 24];
const SKINNY_NK = QUICK ? [[64, 64], [256, 128], [96, 300]]
  : [[256, 256], [768, 768], [2304, 768], [3072, 768], [768, 3072], [1536, 576], [4096, 4096], [49152, 576]];
// tile study: (batch, M, N, K)
const TILE_SHAPES = QUICK
  ? [[1, 16, 16, 16], [1, 32, 32, 32], [1, 48, 40, 64], [1, 64, 64, 64], [1, 96, 96, 96], [1, 128, 128, 128], [1, 200, 136, 96], [4, 64, 64, 32]]
  : [
    ...[16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096].map((s) => [1, s, s, s]),
    [1, 64, 768, 768], [1, 128, 768, 768], [1, 128, 2304, 768], [1, 128, 3072, 768], [1, 128, 768, 3072],
    [1, 256, 784, 512], [1, 256, 512, 784], [1, 256, 10, 512], [1, 512, 3072, 768], [1, 4096, 768, 768],
    [1, 768, 768, 4096], [1, 64, 64, 4096], [1, 8192, 128, 64],
    [12, 128, 128, 64], [12, 128, 64, 128], [48, 64, 64, 64], [96, 256, 256, 64], [8, 512, 512, 64],
  ];
const TILE_VARIANTS = QUICK ? ['s16', 's32x16', 's32', 't64d', 't128k8dsu']
  : ['s16', 's32x16', 's32', 't64', 't64d', 't64du', 't128x64du', 't128k8ds', 't128k8dsu', 't128dsu'];
const SKINNY_TILES = QUICK ? ['s32', 't64d'] : ['s32', 't64d', 't128k8dsu'];

// ---- refit only --------------------------------------------------------------------------------------------
if (process.env.FIT_FROM) {
  const files = process.env.FIT_FROM.split(',').map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const res = { ...files[0], skinny: files.flatMap((f) => f.skinny), tiles: files.flatMap((f) => f.tiles) };
  res.profile = fitProfile(res);
  log(JSON.stringify(res.profile, null, 1));
  finish(res);
  process.exit(0);
}

// ---- the bridge --------------------------------------------------------------------------------------------
const bridge = await nodeBridge();
const info = JSON.parse(bridge.info());
log('adapter', JSON.stringify(info));
const out = {
  date: new Date().toISOString(), node: process.version, adapter: info, quick: QUICK, minMs: MINMS, rounds: ROUNDS,
  profileBefore: bridge.matmulProfile, skinnyPlan: SKINNY_M.length * SKINNY_NK.length, checks: [], skinny: [], tiles: [],
};

const { rand, upload, gemm, readF32, timeRuns } = benchBridge(bridge);
const timeGemm = (run, o) => timeRuns(run, o, MINMS, ROUNDS);   // ms per GEMM, best of ROUNDS

// ---- correctness ---------------------------------------------------------------------------------------------
const CHECK_CASES = [   // batch, m, k, n, A batch-broadcast
  [1, 1, 1, 1, 0], [1, 1, 37, 50, 0], [1, 3, 5, 7, 0], [1, 1, 64, 129, 0], [1, 2, 129, 33, 0], [1, 17, 33, 1, 0],
  [1, 65, 33, 70, 0], [2, 5, 36, 130, 0], [3, 16, 20, 44, 1], [1, 100, 7, 3, 0], [2, 33, 64, 17, 1],
];
async function check(variant) {
  bridge.gemmForce = variant === 'auto' ? null : variant;
  let worst = 0, bad = 0, n0 = 0;
  for (const [batch, m, k, n, bcast] of CHECK_CASES) {
    for (const [ta, tb, off] of [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 4], [0, 0, 1], [0, 1, 3]]) {
      n0++;
      const A = rand((bcast ? 1 : batch) * m * k + off, 7 + m), B = rand(batch * k * n + off, 9 + n);
      const ast = [bcast ? 0 : m * k, ta ? 1 : k, ta ? m : 1], bst = [k * n, tb ? 1 : n, tb ? k : 1];
      const a = upload(A), b = upload(B), o = bridge.alloc(batch * m * n * 4);
      gemm(batch, m, n, k, o, a, b, ast, bst, off, off);
      const C = await readF32(o, batch * m * n);
      let err = 0;
      for (let bt = 0; bt < batch; bt++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let r = 0;
        for (let p = 0; p < k; p++) r += A[off + bt * ast[0] + i * ast[1] + p * ast[2]] * B[off + bt * bst[0] + p * bst[1] + j * bst[2]];
        const e = Math.abs(C[(bt * m + i) * n + j] - r) / Math.max(1, Math.abs(r));
        err = Number.isNaN(e) ? Infinity : Math.max(err, e);
      }
      if (!(err < 1e-4)) { bad++; log(`  CHECK FAIL ${variant} b${batch}${bcast ? '(A broadcast)' : ''} ${m}x${k}x${n} ta${ta} tb${tb} off${off}: rel err ${err}`); }
      worst = Math.max(worst, err);
      bridge.release(a); bridge.release(b); bridge.release(o);
    }
  }
  out.checks.push({ variant, cases: n0, bad, maxRelErr: worst });
  log(`check ${variant.padEnd(12)} ${bad ? bad + ' FAILED' : 'ok'}  max rel err ${worst.toExponential(2)}`);
  return bad === 0;
}

// ---- timing ----------------------------------------------------------------------------------------------------
/** Time `variants` on one shape (B layout 'n': [K, N] row-major; 'k': W [N, K], read transposed). */
async function timeShape(batch, m, n, k, layout, variants) {
  const A = rand(batch * m * k, 3), B = rand(batch * k * n, 5);
  const a = upload(A), b = upload(B), o = bridge.alloc(batch * m * n * 4);
  const ast = [m * k, k, 1], bst = layout === 'k' ? [k * n, 1, k] : [k * n, n, 1];
  const ms = {};
  for (const v of variants) {
    bridge.gemmForce = v === 'auto' ? null : v;
    ms[v] = +(await timeGemm(() => gemm(batch, m, n, k, o, a, b, ast, bst), o)).toPrecision(4);
  }
  bridge.gemmForce = null;
  bridge.release(a); bridge.release(b); bridge.release(o);
  await bridge.synchronize();
  return ms;
}

const gflops = (batch, m, n, k, ms) => +(2 * batch * m * n * k / ms / 1e6).toFixed(1);

let rc = 0;
const matvecNames = Object.keys(MATVEC_CONFIGS);
if (process.env.CHECK !== '0') {
  const toCheck = ['auto', ...Object.keys(SMALL_CONFIGS), ...(QUICK ? ['t64d', 't128k8dsu'] : TILE_VARIANTS), ...matvecNames];
  for (const v of [...new Set(toCheck)]) if (!(await check(v))) rc = 1;
}

if (process.env.TIME === '0') process.exit(rc);
for (const [batch, m, n, k] of PART === 'skinny' ? [] : TILE_SHAPES) {
  if (overBudget()) { log('time budget spent: stopping'); break; }
  const ms = await timeShape(batch, m, n, k, 'n', [...TILE_VARIANTS, 'auto']);
  const best = Object.entries(ms).reduce((x, y) => (y[1] < x[1] ? y : x));
  out.tiles.push({ batch, m, n, k, ms });
  log(`tiles b${batch} ${m}x${n}x${k}: best ${best[0]} ${best[1]} ms (${gflops(batch, m, n, k, best[1])} GFLOP/s); auto ${ms.auto} ms; ${TILE_VARIANTS.map((v) => `${v} ${ms[v]}`).join(', ')}`);
}
for (const layout of PART === 'tiles' ? [] : ['k', 'n']) {
  const mv = matvecNames.filter((v) => MATVEC_CONFIGS[v].mode === layout);
  for (const [n, k] of SKINNY_NK) {
    for (const m of SKINNY_M) {
      if (overBudget()) break;
      const ms = await timeShape(1, m, n, k, layout, [...mv, ...SKINNY_TILES, 'auto']);
      const best = Object.entries(ms).reduce((x, y) => (y[1] < x[1] ? y : x));
      out.skinny.push({ layout, m, n, k, ms });
      log(`skinny ${layout} M=${String(m).padEnd(3)} N=${String(n).padEnd(6)} K=${String(k).padEnd(5)} best ${best[0].padEnd(10)} ${best[1]} ms (${gflops(1, m, n, k, best[1])} GFLOP/s)  auto ${ms.auto} ms  tiles ${SKINNY_TILES.map((t) => ms[t]).join(' / ')}`);
    }
  }
}
out.profile = fitProfile(out);
log('fitted profile', JSON.stringify(out.profile));
finish(out);
process.exit(rc);

// ---- the fit -----------------------------------------------------------------------------------------------------
/** The adapter's profile from timings: see the header. A study not run keeps the profile it ran with. */
function fitProfile(res) {
  const a = res.adapter;
  const before = res.profileBefore;
  const sw = /swiftshader/i.test(`${a.architecture} ${a.description}`);
  const match = sw ? 'swiftshader' : (a.vendor || a.architecture || a.description || '').toLowerCase().replace(/[^a-z0-9 -]/g, '');
  const skinny = {};
  for (const layout of ['k', 'n']) {
    const rows = res.skinny.filter((r) => r.layout === layout);
    if (!rows.length || rows.length < (res.skinnyPlan ?? 0)) { skinny[layout] = before.skinny[layout]; continue; }   // cut short
    const ms = [...new Set(rows.map((r) => r.m))].sort((x, y) => x - y);
    // median slowdown at M of the variant `pick` chooses for each shape, against the best kernel there (the
    // median: one hiccup of the host can make a timing 25 times too long)
    const score = (m, pick) => {
      const ratios = rows.filter((r) => r.m === m).map((r) => pick(r) / Math.min(...Object.values(r.ms))).sort((x, y) => x - y);
      return (ratios[(ratios.length - 1) >> 1] + ratios[ratios.length >> 1]) / 2;
    };
    const tileScore = (m) => score(m, (r) => Math.min(...Object.keys(r.ms).filter((v) => !MATVEC_CONFIGS[v] && v !== 'auto').map((v) => r.ms[v])));
    // one family (tpc / ct) per layout, its row block the fewest rows covering M: small products are bound by the
    // host's dispatch cost and timed with 10-30 % noise, so a per-M pick would follow the noise
    const families = [...new Set(Object.values(MATVEC_CONFIGS).filter((c) => c.mode === layout).map((c) => c.name.replace(/r\d+$/, '')))];
    const rowsFor = (m) => Math.min(16, 2 ** Math.ceil(Math.log2(m)));
    const variant = (f, m) => `${f}r${rowsFor(m)}`;
    const total = (f) => ms.reduce((s, m) => s + Math.log(score(m, (r) => r.ms[variant(f, m)])), 0);
    const fam = families.sort((x, y) => total(x) - total(y))[0];
    const list = [];
    for (const m of ms) {
      if (!(score(m, (r) => r.ms[variant(fam, m)]) < tileScore(m))) break;   // tiles from here on
      const v = variant(fam, m);
      if (list.length && list[list.length - 1][1] === v) list[list.length - 1][0] = m;
      else list.push([m, v]);
    }
    skinny[layout] = list;
  }
  // tiles: ordered variants (bigger tiles first) with workgroup thresholds
  const shapes = res.tiles;
  if (!shapes.length) return { match, measured: `${before.measured}; skinny: ${stamp(res)}`, skinny, tiles: before.tiles };
  const names = Object.keys(shapes[0].ms).filter((v) => GEMM_VARIANTS[v] && !MATVEC_CONFIGS[v]);
  const area = (v) => GEMM_VARIANTS[v].tm * GEMM_VARIANTS[v].tn;
  const wgs = (v, s) => Math.ceil(s.m / GEMM_VARIANTS[v].tm) * Math.ceil(s.n / GEMM_VARIANTS[v].tn) * s.batch;
  const bestOf = shapes.map((s) => Math.min(...names.map((v) => s.ms[v])));
  const cost = (rule) => shapes.reduce((sum, s, i) => {
    const v = (rule.find(([name, min]) => wgs(name, s) >= min) ?? rule[rule.length - 1])[0];
    return sum + Math.log(s.ms[v] / bestOf[i]);
  }, 0);
  let bestRule = null, bestCost = Infinity;
  const thresholds = (v) => [...new Set(shapes.map((s) => wgs(v, s)))].sort((x, y) => x - y);
  const sorted = [...names].sort((x, y) => area(y) - area(x));
  const consider = (rule) => { const c = cost(rule); if (c < bestCost - 1e-9) { bestCost = c; bestRule = rule.map((r) => [...r]); } };
  for (const v of sorted) consider([[v, 0]]);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      if (area(sorted[i]) === area(sorted[j])) continue;
      for (const t1 of thresholds(sorted[i])) {
        consider([[sorted[i], t1], [sorted[j], 0]]);
        for (let l = j + 1; l < sorted.length; l++) {
          if (area(sorted[j]) === area(sorted[l])) continue;
          for (const t2 of thresholds(sorted[j])) consider([[sorted[i], t1], [sorted[j], t2], [sorted[l], 0]]);
        }
      }
    }
  }
  return {
    match,
    measured: stamp(res), skinny, tiles: bestRule,
  };
}

function stamp(res) {
  const a = res.adapter;
  return `bench/webgpu_matmul_shapes.mjs ${res.date.slice(0, 10)} on ${[a.vendor, a.architecture, a.device].filter(Boolean).join(' ')}${res.quick ? ' (QUICK)' : ''}`;
}

function finish(res) {
  const file = process.env.RESULT_JSON || path.join(REPO, 'bench/results/webgpu_matmul_shapes.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(res, null, 1));
  log('wrote', file);
  if (process.env.WRITE_TABLE) writeMatmulTable(res.profile, res.adapter, process.env.WRITE_TABLE, log);
}
