// The peers torch_js is measured against, in the same Node process as Pyodide (bench/run.mjs):
//   tfjs-wasm  @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm 4.22: XNNPACK, the SIMD binary, one thread
//   jax-wasm   @jax-js/jax 0.1.25 on its "wasm" device (single-threaded in Node: it needs a global Worker)
// Each engine exposes rep(caseName, targetS) -> seconds per op for one repetition, with the same case names,
// sizes and work units as bench/torch_js_bench.py. Cases a peer has no counterpart for return null.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(REPO, "package.json"));

export const MATMUL_SIZES = [128, 256, 512, 1024];
export const ADD_NUMEL = 1 << 20;
export const TINY_ADD_NUMEL = 4;
export const TINY_MM = 4;
export const MLP = [784, 128, 10];
export const MLP_BATCH = 64;

function pkgVersion(name) {
  // Not require.resolve(`${name}/package.json`): @jax-js/jax's "exports" does not list it.
  return JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8")).version;
}

// Deterministic inputs (values do not matter for timing, but keep them finite and O(1)).
function randomF32(n, seed = 1) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

/** Timer with the same calibration as torch_js_bench.py: warm up twice, grow n by doubling until a run
 *  takes >= target/4, scale n to ~target. run(n) may be async. */
function makeCase(setup) {
  let run = null;
  let n = 0;
  return {
    async rep(targetS) {
      if (!run) {
        run = await setup();
        await run(1);
        await run(1);
        n = 1;
        for (;;) {
          const t0 = performance.now();
          await run(n);
          const dt = (performance.now() - t0) / 1e3;
          if (dt >= targetS / 4 || n >= 1 << 22) {
            n = Math.max(1, Math.floor((n * targetS) / Math.max(dt, 1e-9)));
            break;
          }
          n *= 2;
        }
      }
      const t0 = performance.now();
      await run(n);
      return (performance.now() - t0) / 1e3 / n;
    },
    release() {
      if (run && run.dispose) run.dispose();
      run = null;
    },
  };
}

function engine(name, info, setups, wrap = (f) => f()) {
  const cases = {};
  return {
    name,
    info,
    has: (c) => c in setups,
    async rep(c, targetS) {
      if (!(c in setups)) return null;
      cases[c] ??= makeCase(setups[c]);
      return wrap(() => cases[c].rep(targetS));
    },
    release(c) {
      if (cases[c]) wrap(() => cases[c].release());
      delete cases[c];
    },
  };
}

// tfjs-core's Node bundle ships no gradient functions (the @tensorflow/tfjs union package registers them from
// tfjs-core's ESM sources, which Node cannot load directly). The MLP step needs these five, written as
// tfjs-core's own gradients/*_grad.ts write them (for the cases used here: no transposes, broadcasting adds).
function registerTfjsGradients(tf) {
  const unbroadcast = (g, shape) => {
    const lead = g.rank - shape.length;
    const axes = [];
    for (let i = 0; i < g.rank; i++) if (i < lead || shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
  };
  const grads = [
    { kernelName: "BatchMatMul", inputsToSave: ["a", "b"], gradFunc: (dy, [a, b], attrs) => {
      if (attrs.transposeA || attrs.transposeB) throw new Error("bench: BatchMatMul grad without transposes only");
      return { a: () => tf.matMul(dy, b, false, true), b: () => tf.matMul(a, dy, true, false) };
    } },
    { kernelName: "Add", inputsToSave: ["a", "b"], gradFunc: (dy, [a, b]) =>
      ({ a: () => unbroadcast(dy, a.shape), b: () => unbroadcast(dy, b.shape) }) },
    { kernelName: "Relu", inputsToSave: ["x"], gradFunc: (dy, [x]) =>
      ({ x: () => tf.mul(dy, tf.cast(tf.step(x), "float32")) }) },
    { kernelName: "Sum", inputsToSave: ["x"], gradFunc: (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.axis, x.shape);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return { x: () => tf.mul(tf.reshape(dy, kept), tf.onesLike(x)) };
    } },
    { kernelName: "RealDiv", inputsToSave: ["a", "b"], gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b), a.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a), tf.square(b))), b.shape),
    }) },
  ];
  for (const g of grads) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
}

// ---- tfjs-wasm ---------------------------------------------------------------------------------------------

export async function loadTfjs() {
  const tf = require("@tensorflow/tfjs-core");
  const wasm = require("@tensorflow/tfjs-backend-wasm");
  const dist = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + path.sep;
  tf.env().set("WASM_HAS_SIMD_SUPPORT", true);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false); // Node: tfjs disables threads anyway (tfjs#3830)
  wasm.setThreadsCount(1);
  wasm.setWasmPaths({
    "tfjs-backend-wasm.wasm": dist + "tfjs-backend-wasm.wasm",
    "tfjs-backend-wasm-simd.wasm": dist + "tfjs-backend-wasm-simd.wasm",
    "tfjs-backend-wasm-threaded-simd.wasm": dist + "tfjs-backend-wasm-threaded-simd.wasm",
  });
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: wasm backend failed to initialise");
  await tf.ready();
  const info = {
    version: pkgVersion("@tensorflow/tfjs-backend-wasm"),
    core: tf.version_core,
    backend: tf.getBackend(),
    simd: await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"),
    threads: wasm.getThreadsCount(),
  };

  // Ops on the wasm backend run synchronously inside the call; dataSync() on the last result makes sure.
  const binary = (shapeA, shapeB, op) => () => {
    const a = tf.tensor(randomF32(shapeA.reduce((x, y) => x * y), 1), shapeA);
    const b = tf.tensor(randomF32(shapeB.reduce((x, y) => x * y), 2), shapeB);
    const run = (n) => {
      let c;
      for (let i = 0; i < n; i++) {
        if (c) c.dispose();
        c = op(a, b);
      }
      c.dataSync();
      c.dispose();
    };
    run.dispose = () => { a.dispose(); b.dispose(); };
    return run;
  };
  const setups = {};
  for (const n of MATMUL_SIZES) setups[`matmul_${n}`] = binary([n, n], [n, n], tf.matMul);
  setups.add_1m = binary([ADD_NUMEL], [ADD_NUMEL], tf.add);
  setups.tiny_add = binary([TINY_ADD_NUMEL], [TINY_ADD_NUMEL], tf.add);
  setups.tiny_matmul = binary([TINY_MM, TINY_MM], [TINY_MM, TINY_MM], tf.matMul);
  // MLP training step: raw variables, softmax cross-entropy, SGD through optimizer.minimize (forward, backward
  // and update in one call). No nn.Linear counterpart in tfjs-core; the layer maths is the same.
  setups.mlp_step = () => {
    registerTfjsGradients(tf);
    const [dIn, dH, dOut] = MLP;
    const w1 = tf.variable(tf.tensor(randomF32(dIn * dH, 3).map((v) => v / Math.sqrt(dIn)), [dIn, dH]));
    const b1 = tf.variable(tf.zeros([dH]));
    const w2 = tf.variable(tf.tensor(randomF32(dH * dOut, 4).map((v) => v / Math.sqrt(dH)), [dH, dOut]));
    const b2 = tf.variable(tf.zeros([dOut]));
    const x = tf.tensor(randomF32(MLP_BATCH * dIn, 5), [MLP_BATCH, dIn]);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: MLP_BATCH }, (_, i) => (i * 7) % dOut), "int32"), dOut);
    const opt = tf.train.sgd(0.01);
    const loss = () => {
      const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
      return tf.losses.softmaxCrossEntropy(labels, tf.add(tf.matMul(h, w2), b2));
    };
    const run = (n) => {
      let cost;
      for (let i = 0; i < n; i++) {
        if (cost) cost.dispose();
        cost = opt.minimize(loss, true);
      }
      cost.dataSync();
      cost.dispose();
    };
    run.dispose = () => { for (const t of [w1, b1, w2, b2, x, labels]) t.dispose(); opt.dispose(); };
    return run;
  };
  return engine("tfjs-wasm", info, setups);
}

// ---- jax-js (wasm device) ----------------------------------------------------------------------------------

// jax-js reads navigator.userAgent when it plans a kernel; Node 20 has no navigator. Pyodide reads navigator
// to tell browser from Node when it loads, so the stand-in exists only while jax-js code runs.
async function withNavigator(fn) {
  const had = Object.getOwnPropertyDescriptor(globalThis, "navigator");
  if (!had) {
    Object.defineProperty(globalThis, "navigator", {
      value: { userAgent: "Node.js", hardwareConcurrency: 1 }, configurable: true, writable: true,
    });
  }
  try {
    return await fn();
  } finally {
    if (!had) delete globalThis.navigator;
  }
}

export async function loadJax() {
  return withNavigator(async () => {
    const jax = await import("@jax-js/jax");
    const np = jax.numpy;
    const devices = await jax.init("wasm");
    if (!devices.includes("wasm")) throw new Error("jax-js: wasm device unavailable");
    jax.defaultDevice("wasm");
    const info = {
      version: pkgVersion("@jax-js/jax"),
      device: jax.defaultDevice(),
      // jax-js spreads wasm kernels over Workers only when SharedArrayBuffer and a global Worker exist.
      threads: typeof SharedArrayBuffer !== "undefined" && typeof Worker !== "undefined" ? "workers" : 1,
    };

    // jax-js is lazy: an op only records a pending kernel. blockUntilReady() (its documented way to wait)
    // submits and finishes it, so each op is forced before the next, as an eager op is in torch_js and tfjs.
    const binary = (shapeA, shapeB, op) => () => {
      const a = np.array(randomF32(shapeA.reduce((x, y) => x * y), 1)).reshape(shapeA);
      const b = np.array(randomF32(shapeB.reduce((x, y) => x * y), 2)).reshape(shapeB);
      const run = async (n) => {
        for (let i = 0; i < n; i++) {
          const c = op(a.ref, b.ref);
          await c.blockUntilReady();
          c.dispose();
        }
      };
      run.dispose = () => { a.dispose(); b.dispose(); };
      return run;
    };
    const setups = {};
    for (const n of MATMUL_SIZES) setups[`matmul_${n}`] = binary([n, n], [n, n], np.matmul);
    setups.add_1m = binary([ADD_NUMEL], [ADD_NUMEL], np.add);
    setups.tiny_add = binary([TINY_ADD_NUMEL], [TINY_ADD_NUMEL], np.add);
    setups.tiny_matmul = binary([TINY_MM, TINY_MM], [TINY_MM, TINY_MM], np.matmul);
    // MLP training step, eager (no jit, like the other engines): valueAndGrad of the mean cross-entropy
    // (logSoftmax against one-hot labels) over the parameter tree, then p - lr * g. jax-js takes ownership of
    // arguments, hence the .ref / tree.ref.
    setups.mlp_step = () => {
      const [dIn, dH, dOut] = MLP;
      const init = (n, fanIn, seed) => np.array(randomF32(n, seed).map((v) => v / Math.sqrt(fanIn)));
      let params = {
        w1: init(dIn * dH, dIn, 3).reshape([dIn, dH]), b1: np.zeros([dH]),
        w2: init(dH * dOut, dH, 4).reshape([dH, dOut]), b2: np.zeros([dOut]),
      };
      const x = np.array(randomF32(MLP_BATCH * dIn, 5)).reshape([MLP_BATCH, dIn]);
      const y = jax.nn.oneHot(np.array(Int32Array.from({ length: MLP_BATCH }, (_, i) => (i * 7) % dOut),
        { dtype: np.int32 }), dOut).astype(np.float32);
      const loss = (p, xb, yb) => {
        const h = jax.nn.relu(np.matmul(xb, p.w1).add(p.b1));
        const logits = np.matmul(h, p.w2).add(p.b2);
        return jax.nn.logSoftmax(logits, -1).mul(yb).sum().mul(-1 / MLP_BATCH);
      };
      const step = jax.valueAndGrad(loss);
      const run = async (n) => {
        let value;
        for (let i = 0; i < n; i++) {
          if (value) value.dispose();
          let grads;
          [value, grads] = step(jax.tree.ref(params), x.ref, y.ref);
          const next = jax.tree.map((p, g) => p.sub(g.mul(0.01)), params, grads);
          params = next;
          await jax.blockUntilReady(params);
        }
        await value.blockUntilReady();
        value.dispose();
      };
      run.dispose = () => { jax.tree.dispose(params); x.dispose(); y.dispose(); };
      return run;
    };
    return engine("jax-wasm", info, setups, withNavigator);
  });
}

/** All peers that load; a peer that fails to load is reported, not fatal. */
export async function loadPeers(log = (s) => process.stderr.write(s + "\n")) {
  const peers = [];
  const errors = {};
  for (const [name, load] of [["tfjs-wasm", loadTfjs], ["jax-wasm", loadJax]]) {
    try {
      peers.push(await load());
    } catch (e) {
      errors[name] = String(e?.stack ?? e);
      log(`bench: peer ${name} unavailable: ${e?.message ?? e}`);
    }
  }
  return { peers, errors };
}
