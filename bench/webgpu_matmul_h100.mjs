// torch_js WebGPU f32 matmul vs TensorFlow.js (tfjs-backend-webgpu) and jax-js (webgpu device), in one Node
// process on one GPU (Dawn, npm webgpu). What runs is torch_js's own path: the bridge's GEMM primitive
// (js_bridge/webgpu/index.mjs _gemm -> kernels/matmul.mjs), with its pipeline cache, params uniform and
// command batching; only Pyodide is left out. Each kernel variant of GEMM_CONFIGS can be forced; "auto" is
// the bridge's own size-dependent choice, i.e. what torch.matmul runs.
//
// Two timings per engine and size (GFLOP/s = 2 N^3 / time):
//   sync   one matmul, then read one element back, repeated (peers.mjs's method for tfjs: latency-bound
//          at small N)
//   batch  R matmuls back to back, then one readback (throughput)
// Results are checked: small odd shapes, transposed operands and batches against a float64 CPU reference
// for every variant, and sampled entries of each benchmark product.
//
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json SIZES=64,128 node bench/webgpu_matmul_h100.mjs
// env: SIZES (default 256,512,1024,2048,4096), VARIANTS (comma list of GEMM_CONFIGS names, default all),
//      MINMS (per measurement, default 400), ROUNDS (interleaved repetitions, medians reported, default 1),
//      PEERS=0 to skip tfjs / jax-js, RESULT_JSON=path, CHECK=0.
// On the device: NODE_PATH is not used by ES imports, so webgpu / tfjs / jax-js are resolved from
// .gpukit/package.json when that exists (the device kit), else from the repository.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchBridge } from './bridge_gemm.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const kitPkg = path.join(REPO, '.gpukit', 'package.json');
const req = createRequire(fs.existsSync(kitPkg) ? kitPkg : path.join(REPO, 'package.json'));
const webgpu = req('webgpu');
for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in globalThis)) globalThis[k] = v;
globalThis.__torchJsDawnGPU ??= webgpu.create((process.env.DAWN_OPTS || '').split(/\s+/).filter(Boolean));
const gpu = globalThis.__torchJsDawnGPU;
if (!globalThis.navigator) globalThis.navigator = { userAgent: 'Node.js' };
Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true });

const { createBridge } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/index.mjs')).href);
const { GEMM_CONFIGS, gemmConfig } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/kernels/matmul.mjs')).href);

const sizes = (process.env.SIZES || '256,512,1024,2048,4096').split(',').filter(Boolean).map(Number);
const variants = ['auto', ...(process.env.VARIANTS ? process.env.VARIANTS.split(',') : Object.keys(GEMM_CONFIGS))];
const minMs = Number(process.env.MINMS || 400);
const log = (...a) => console.log(...a);

const bridge = await createBridge({ gpu });
const info = JSON.parse(bridge.info());
log('adapter', JSON.stringify(info));
const out = { date: new Date().toISOString(), node: process.version, adapter: info, sizes, minMs, variants: {}, configs: GEMM_CONFIGS, checks: [], peers: {} };

const { rand, upload, gemm, readF32 } = benchBridge(bridge);

// ---- correctness: every variant, odd shapes, transposes, batches, offsets -------------------------------------
async function check(variant) {
  bridge.gemmForce = variant === 'auto' ? null : variant;
  const cases = [[1, 1, 1, 1], [1, 3, 5, 7], [1, 65, 33, 70], [1, 128, 64, 256], [2, 200, 136, 260], [1, 257, 100, 129], [3, 64, 20, 132]];
  let worst = 0; let bad = 0;
  for (const [batch, m, k, n] of cases) {
    for (const [ta, tb, off] of [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 4], [0, 0, 1]]) {
      const A = rand(batch * m * k + off, 7 + m), B = rand(batch * k * n + off, 9 + n);
      // logical A[bt][i][p]: at off + bt*m*k + (ta ? p*m + i : i*k + p)
      const ast = [m * k, ta ? 1 : k, ta ? m : 1], bst = [k * n, tb ? 1 : n, tb ? k : 1];
      const a = upload(A), b = upload(B), o = bridge.alloc(batch * m * n * 4);
      gemm(batch, m, n, k, o, a, b, ast, bst, off, off);
      const C = await readF32(o, batch * m * n);
      let err = 0;
      for (let bt = 0; bt < batch; bt++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
        let r = 0;
        for (let p = 0; p < k; p++) r += A[off + bt * ast[0] + i * ast[1] + p * ast[2]] * B[off + bt * bst[0] + p * bst[1] + j * bst[2]];
        err = Math.max(err, Math.abs(C[(bt * m + i) * n + j] - r) / Math.max(1, Math.abs(r)));
      }
      if (!(err < 1e-4)) { bad++; log(`  CHECK FAIL ${variant} b${batch} ${m}x${k}x${n} ta${ta} tb${tb} off${off}: rel err ${err}`); }
      worst = Math.max(worst, err);
      bridge.release(a); bridge.release(b); bridge.release(o);
    }
  }
  out.checks.push({ variant, cases: cases.length * 5, bad, maxRelErr: worst });
  log(`check ${variant.padEnd(10)} ${bad ? bad + ' FAILED' : 'ok'} maxRelErr=${worst.toExponential(2)}`);
  return bad === 0;
}

// ---- timing -------------------------------------------------------------------------------------------------
async function timeLoop(once, sync, per) {
  // per: ops between syncs; grow the repetition count until a measurement lasts >= minMs
  await sync(once()); await sync(once());
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) { let last; for (let i = 0; i < per; i++) last = once(); await sync(last); }
    const ms = performance.now() - t0;
    if (ms >= minMs || reps >= 4096) return ms / (reps * per);
    reps = Math.min(4096, Math.max(reps * 2, Math.ceil(reps * minMs / Math.max(ms, 0.05) * 1.1)));
  }
}
const gf = (n, ms) => +(2 * n ** 3 / ms / 1e6).toFixed(1);
const batchOf = (n) => Math.max(4, Math.min(64, Math.round(2 ** 33 / n ** 3)));   // ~ >= 10 ms of work per sync

async function benchOurs(n, A, B) {
  const a = upload(A), b = upload(B), o = bridge.alloc(n * n * 4);
  const res = {};
  for (const v of variants) {
    bridge.gemmForce = v === 'auto' ? null : v;
    const once = () => gemm(1, n, n, n, o, a, b, [0, n, 1], [0, n, 1]);
    const sync = () => bridge.read(o, 0, 4);
    const msSync = await timeLoop(once, sync, 1);
    const per = batchOf(n);
    const msBatch = await timeLoop(once, sync, per);
    // sampled check of the product
    const C = await readF32(o, n * n);
    let err = 0;
    for (let t = 0; t < 48; t++) {
      const i = (t * 7919 + 13) % n, j = (t * 104729 + 7) % n;
      let r = 0; for (let p = 0; p < n; p++) r += A[i * n + p] * B[p * n + j];
      err = Math.max(err, Math.abs(C[i * n + j] - r) / Math.max(1, Math.abs(r)));
    }
    const cfg = v === 'auto' ? gemmConfig(n, n, 1).name : v;
    res[v] = { config: cfg, syncGflops: gf(n, msSync), batchGflops: gf(n, msBatch), msSync: +msSync.toFixed(4), msBatch: +msBatch.toFixed(4), perSync: per, maxRelErr: err, ok: err < 1e-3 };
    log(`torch_js ${v.padEnd(9)}${v === 'auto' ? '(' + cfg + ')' : ''} N=${String(n).padEnd(5)} sync ${String(res[v].syncGflops).padStart(8)}  batch ${String(res[v].batchGflops).padStart(8)} GFLOP/s  err ${err.toExponential(1)}${err < 1e-3 ? '' : ' WRONG'}`);
  }
  bridge.release(a); bridge.release(b); bridge.release(o);
  await bridge.synchronize();
  bridge.emptyCache();
  return res;
}

async function loadTfjs() {
  const tf = req('@tensorflow/tfjs-core');
  req('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs webgpu backend failed');
  await tf.ready();
  return {
    name: 'tfjs', version: req('@tensorflow/tfjs-backend-webgpu/package.json').version,
    async bench(n, A, B) {
      const a = tf.tensor(A, [n, n]), b = tf.tensor(B, [n, n]);
      const once = () => tf.matMul(a, b);
      const pending = [];
      const sync = async (c) => { const s = tf.slice(c, [0, 0], [1, 1]); await s.data(); s.dispose(); for (const t of pending) t.dispose(); pending.length = 0; };
      const onceKeep = () => { const c = once(); pending.push(c); return c; };
      const msSync = await timeLoop(onceKeep, sync, 1);
      const msBatch = await timeLoop(onceKeep, sync, batchOf(n));
      const c = once(); const d = await c.data(); c.dispose();
      let r = 0; for (let p = 0; p < n; p++) r += A[3 * n + p] * B[p * n + 5];
      a.dispose(); b.dispose();
      return { syncGflops: gf(n, msSync), batchGflops: gf(n, msBatch), msSync: +msSync.toFixed(4), msBatch: +msBatch.toFixed(4), ok: Math.abs(d[3 * n + 5] - r) < 1e-3 * Math.max(1, Math.abs(r)) };
    },
  };
}
async function loadJax() {
  const jax = await import(pathToFileURL(req.resolve('@jax-js/jax')).href);
  const devs = await jax.init();
  if (!devs.includes('webgpu')) throw new Error('jax-js: no webgpu device (' + devs + ')');
  jax.defaultDevice('webgpu');
  const np = jax.numpy;
  let version = '?';
  try { version = JSON.parse(fs.readFileSync(path.join(path.dirname(req.resolve('@jax-js/jax')), '..', 'package.json'), 'utf8')).version; } catch { /* */ }
  return {
    name: 'jax-js', version,
    async bench(n, A, B) {
      const a = np.array(A).reshape([n, n]), b = np.array(B).reshape([n, n]);
      await a.blockUntilReady(); await b.blockUntilReady();
      const pending = [];
      const once = () => { const c = np.dot(a.ref, b.ref); pending.push(c); return c; };
      const sync = async (c) => { await c.blockUntilReady(); for (const t of pending) t.dispose(); pending.length = 0; };
      const msSync = await timeLoop(once, sync, 1);
      const msBatch = await timeLoop(once, sync, batchOf(n));
      const c = np.dot(a.ref, b.ref); const d = await c.data();
      let r = 0; for (let p = 0; p < n; p++) r += A[3 * n + p] * B[p * n + 5];
      a.dispose(); b.dispose();
      return { syncGflops: gf(n, msSync), batchGflops: gf(n, msBatch), msSync: +msSync.toFixed(4), msBatch: +msBatch.toFixed(4), ok: Math.abs(d[3 * n + 5] - r) < 1e-3 * Math.max(1, Math.abs(r)) };
    },
  };
}

let rc = 0;
if (process.env.CHECK !== '0') for (const v of variants) if (!(await check(v))) rc = 1;
const peers = [];
if (process.env.PEERS !== '0') {
  for (const load of [loadTfjs, loadJax]) {
    try { const p = await load(); peers.push(p); out.peers[p.name] = { version: p.version, results: {} }; } catch (e) { log('peer failed to load:', String(e?.stack ?? e).slice(0, 500)); }
  }
}
const rounds = Number(process.env.ROUNDS || 1);
const median = (xs) => { const v = [...xs].sort((x, y) => x - y); return v[(v.length - 1) >> 1]; };
const merge = (rs) => {   // median over rounds of each timing; the rest from the first round
  const m = { ...rs[0], rounds: rs.length };
  for (const k of ['syncGflops', 'batchGflops', 'msSync', 'msBatch']) { m[k] = median(rs.map((r) => r[k])); m[k + 'All'] = rs.map((r) => r[k]); }
  m.ok = rs.every((r) => r.ok);
  return m;
};
for (const n of sizes) {
  const A = rand(n * n, 1), B = rand(n * n, 2);
  const ours = {}, theirs = {};
  for (let round = 0; round < rounds; round++) {   // interleaved, so clock / thermal drift hits every engine
    const r = await benchOurs(n, A, B);
    for (const [v, x] of Object.entries(r)) (ours[v] ??= []).push(x);
    for (const p of peers) {
      try {
        const x = await p.bench(n, A, B);
        (theirs[p.name] ??= []).push(x);
        log(`${p.name.padEnd(17)} N=${String(n).padEnd(5)} sync ${String(x.syncGflops).padStart(8)}  batch ${String(x.batchGflops).padStart(8)} GFLOP/s  ${x.ok ? 'ok' : 'WRONG'}`);
      } catch (e) { log(`${p.name} N=${n} failed:`, String(e?.stack ?? e).slice(0, 300)); }
    }
  }
  for (const [v, rs] of Object.entries(ours)) { (out.variants[v] ??= {})[n] = merge(rs); if (!out.variants[v][n].ok) rc = 1; }
  for (const [p, rs] of Object.entries(theirs)) out.peers[p].results[n] = merge(rs);
}
// summary: torch_js as shipped (auto) vs the peers, medians, ratio on each timing
out.summary = sizes.map((n) => {
  const o = out.variants.auto?.[n], t = out.peers.tfjs?.results[n], j = out.peers['jax-js']?.results[n];
  const ratio = (a, b) => (a && b ? +(a / b).toFixed(2) : null);
  return { N: n, config: o?.config, ours: { sync: o?.syncGflops, batch: o?.batchGflops },
    tfjs: t ? { sync: t.syncGflops, batch: t.batchGflops } : null, jaxjs: j ? { sync: j.syncGflops, batch: j.batchGflops } : null,
    ratioVsTfjs: { sync: ratio(o?.syncGflops, t?.syncGflops), batch: ratio(o?.batchGflops, t?.batchGflops) },
    ratioVsJaxjs: { sync: ratio(o?.syncGflops, j?.syncGflops), batch: ratio(o?.batchGflops, j?.batchGflops) } };
});
for (const s of out.summary) log(`SUMMARY N=${s.N} ${s.config}: ours ${s.ours.sync}/${s.ours.batch}  tfjs ${s.tfjs?.sync}/${s.tfjs?.batch}  jax ${s.jaxjs?.sync}/${s.jaxjs?.batch}  x tfjs ${s.ratioVsTfjs.sync}/${s.ratioVsTfjs.batch}`);
if (process.env.RESULT_JSON) fs.writeFileSync(process.env.RESULT_JSON, JSON.stringify(out, null, 1));
process.exit(rc);
