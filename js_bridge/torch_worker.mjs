// torch.mjs's engine Worker: Pyodide with torch_js, running the batches torch_core.mjs posts through
// torch_js._jsapi.run_batch, one at a time and in order. worker_threads in Node, a module Worker in browsers.
//
// Node: Pyodide and the torch_js wheel come from the checkout (js_bridge/pyodide_env.mjs: install "unpack" (default,
// dist/torch_js-*.whl from `make wheel`), "source" or "micropip"; or env TORCH_JS_INSTALL).
// Browsers: options.pyodideURL (the folder of pyodide.mjs) and options.wheelURL (torch_js's wheel), unpacked into
// site-packages. options.webgpu (or env TORCH_JS_WEBGPU=1 in Node) makes the "webgpu" device available.
const IS_NODE = typeof process !== "undefined" && !!process.versions?.node;

let post;
let runBatch = null;

async function bootNode(options) {
  const webgpu = options.webgpu ?? process.env.TORCH_JS_WEBGPU === "1";
  if (webgpu && typeof WebAssembly.Suspender !== "function" && typeof WebAssembly.Suspending !== "function") {
    throw new Error("the webgpu device needs JSPI: start node with --experimental-wasm-jspi on Node 22-24, " +
      "--experimental-wasm-stack-switching (and --experimental-wasm-relaxed-simd) on Node 20");
  }
  const { bootPyodide, passEnv } = await import("./pyodide_env.mjs");
  const { pyodide } = await bootPyodide({
    install: options.install ?? process.env.TORCH_JS_INSTALL ?? "unpack",
    env: passEnv(),
    webgpu,
  });
  return pyodide;
}

async function bootBrowser(options) {
  // default: the checkout's npm Pyodide beside js_bridge/ (the version torch_js is tested with)
  const base = new URL(options.pyodideURL ?? "../node_modules/pyodide/", import.meta.url).href;
  if (!options.wheelURL) throw new Error("torch.init({wheelURL}): the URL of torch_js's wheel is needed in a browser");
  const { loadPyodide } = await import(new URL("pyodide.mjs", base).href);
  const pyodide = await loadPyodide({ indexURL: base });
  const wheel = await fetch(new URL(options.wheelURL, import.meta.url));
  if (!wheel.ok) throw new Error(`could not fetch torch_js's wheel ${options.wheelURL}: HTTP ${wheel.status}`);
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(await wheel.arrayBuffer(), "wheel", { extractDir: site });
  if (options.webgpu) {
    const { installWebGPU } = await import("./webgpu/index.mjs");
    await installWebGPU({ eager: true });
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches(); import torch_js");
  return pyodide;
}

async function boot(options) {
  const pyodide = IS_NODE ? await bootNode(options) : await bootBrowser(options);
  const fn = pyodide.runPython("from torch_js._jsapi import run_batch\nrun_batch");
  // callPromising (JSPI) lets Python wait on WebGPU readbacks; without JSPI, plain calls
  const jspi = typeof WebAssembly.Suspender === "function" || typeof WebAssembly.Suspending === "function";
  const promising = jspi && typeof fn.callPromising === "function";
  runBatch = async (text, bufs) => {
    const res = promising ? await fn.callPromising(text, bufs) : fn(text, bufs);
    try {
      const replyText = res.get(0);
      const pyBufs = res.get(1);
      const out = [];
      for (let i = 0; i < pyBufs.length; i++) {
        const data = pyBufs.get(i);
        const view = data.getBuffer("u8");
        // a fresh ArrayBuffer per tensor: transferable and aligned for its typed array
        out.push(view.data.slice().buffer);
        view.release();
        data.destroy();
      }
      pyBufs.destroy();
      return [replyText, out];
    } finally {
      res.destroy();
    }
  };
  return pyodide.runPython("import torch_js; torch_js.__version__");
}

let chain = null;

function onMessage(msg, options) {
  if (msg.type === "batch") {
    chain = chain.then(async () => {
      const [text, bufs] = await runBatch(msg.text, msg.bufs);
      post({ type: "reply", text, bufs, first: msg.first, last: msg.last }, bufs);
    }).catch((e) => post({ type: "fatal", message: e.stack ?? String(e) }));
  } else if (msg.type === "init") {
    chain = boot(options = msg.options).then((version) => post({ type: "ready", info: { version } }));
    chain.catch((e) => post({ type: "fatal", message: e.stack ?? String(e) }));
  }
}

if (IS_NODE) {
  const { parentPort, workerData } = await import("node:worker_threads");
  post = (m, t) => parentPort.postMessage(m, t);
  parentPort.on("message", (m) => onMessage(m));
  onMessage({ type: "init", options: workerData ?? {} });
} else {
  post = (m, t) => self.postMessage(m, t);
  self.onmessage = (e) => onMessage(e.data);
}
