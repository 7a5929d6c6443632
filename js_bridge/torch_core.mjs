// torch.mjs's client half: handles, the op queue and the Worker that runs the engine (js_bridge/torch.mjs says
// how to use it; torch_worker.mjs is the other half, pytorchjs_py/torch_js/_jsapi.py the Python side).
//
// Nothing here computes: every call becomes a message [seq, kind, outId, target, name, args, kwargs] naming a
// torch_js function or method, and returns a handle (an id) at once. Messages are sent in one postMessage per
// microtask. Awaited calls (data(), item(), meta(), load_state_dict, sync) wait for the worker's reply; an error
// of any earlier op rejects the next of them, naming the op and the JavaScript line that made it.
// A tensor's shape, dtype and device are known here once the worker has run its op (every reply carries them):
// size() gives numbers then; before, size(d) gives a SymSize, which an op's argument resolves in the worker.
const IS_NODE = typeof process !== "undefined" && !!process.versions?.node;

let engine = null;           // { post(msg, transfer), ref(), unref(), terminate() }
let engineOptions = {};
let queue = [];              // op records not yet posted
let outBuffers = [];         // binary arguments of the queued ops ({$buf: k})
let flushScheduled = false;
let seq = 0;
let nextId = 1;
const callSites = new Map(); // seq -> [Error made at the call, record]: kept until the op's batch is answered
const requests = new Map();  // seq -> { resolve, reject, decode }
const metaById = new Map();  // handle id -> [shape, dtype, device]
let pendingErrors = [];
let callSiteFrames = 4;      // caller frames kept per op for error messages (init({callSiteFrames}); 0: none)
let freed = [];

// ---- the engine ------------------------------------------------------------------------------------------------
/** Start the engine (optional: the first op starts it). options: install ("unpack" | "source" | "micropip",
 *  Node), webgpu (true: the "webgpu" device), pyodideURL / wheelURL (browsers), callSiteFrames (JS frames kept
 *  per op for its error message, default 4; 0 saves ~3 us per op). Resolves when it is ready. */
export function init(options = {}) {
  if (options.callSiteFrames !== undefined) callSiteFrames = options.callSiteFrames;
  if (engine) return engine.ready;
  engineOptions = options;
  engine = startEngine(options);
  engine.ready.catch(() => {});
  if (queue.length && !flushScheduled) {   // ops made before init (browsers wait for it: below)
    flushScheduled = true;
    queueMicrotask(flush);
  }
  return engine.ready;
}

function startEngine(options) {
  const url = new URL("./torch_worker.mjs", import.meta.url);
  let resolveReady, rejectReady;
  const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  const onMessage = (msg) => {
    if (msg.type === "ready") {
      resolveReady(msg.info);
      booted = true;
      syncRef();
    }
    else if (msg.type === "reply") onReply(msg);
    else if (msg.type === "fatal") {
      const err = new Error(`torch.mjs: the engine failed: ${msg.message}`);
      rejectReady(err);
      for (const r of requests.values()) r.reject(err);
      requests.clear();
    }
  };
  if (IS_NODE) {
    const eng = { ready, worker: null, queued: [] };
    const boot = (async () => {
      const { Worker } = await import("node:worker_threads");
      // Node 20-24 keep JSPI (Python waiting on webgpu readbacks), Node 20 also relaxed SIMD, behind V8 flags, which
      // a worker shares with the process: start node with them (Node 20: `--experimental-wasm-stack-switching
      // --experimental-wasm-relaxed-simd`, Node 22-24: `--experimental-wasm-jspi`; pyodide_env.mjs nodeWasmFlags)
      // for webgpu and the faster kernels. They are not set from here: changing V8's flags under the running
      // isolate crashed it (v8.setFlagsFromString).
      const worker = new Worker(url, { workerData: options });
      worker.on("message", onMessage);
      worker.on("error", (e) => onMessage({ type: "fatal", message: e.stack ?? String(e) }));
      eng.worker = worker;
      for (const [m, t] of eng.queued) worker.postMessage(m, t);
      eng.queued = null;
      syncRef();
    })();
    boot.catch((e) => onMessage({ type: "fatal", message: e.stack ?? String(e) }));
    eng.post = (m, t) => (eng.worker ? eng.worker.postMessage(m, t) : eng.queued.push([m, t]));
    eng.ref = () => eng.worker?.ref();
    eng.unref = () => eng.worker?.unref();
    eng.terminate = () => eng.worker?.terminate();
    return eng;
  }
  const worker = new Worker(url, { type: "module" });
  worker.onmessage = (e) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: "fatal", message: e.message ?? String(e) });
  worker.postMessage({ type: "init", options });
  return {
    ready, post: (m, t) => worker.postMessage(m, t), ref() {}, unref() {}, terminate: () => worker.terminate(),
  };
}

// Node keeps running while replies are awaited, and may exit when nothing is.
let booted = false;
let inFlight = 0;            // batches posted and not answered
function syncRef() {
  if (!engine) return;
  // (a worker ended while it runs a batch can take the process down: Node 20, wasm stack switching)
  if (!booted || inFlight > 0 || queue.length > 0) engine.ref();
  else engine.unref();
}

/** Stop the worker (a later op starts a new engine, with no handles). */
export function close() {
  if (engine) engine.terminate();
  const err = new Error("torch.mjs: the engine was closed (torch.close())");
  for (const r of requests.values()) r.reject(err);
  requests.clear();
  callSites.clear();
  queue = [];
  outBuffers = [];
  engine = null;
  booted = false;
  inFlight = 0;
  metaById.clear();
}

// ---- the queue -------------------------------------------------------------------------------------------------
export function enqueue(kind, outId, target, name, args, kwargs) {
  const s = ++seq;
  const record = [s, kind, outId, target, name, args, kwargs];
  // the stack is captured now and formatted only if the op fails (V8 formats .stack lazily); its cost grows with the
  // frames kept: this module's and torch_api.mjs's (up to 3) and the caller's nearest few
  let site = null;
  if (callSiteFrames > 0) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = callSiteFrames + 3;
    site = new Error();
    Error.stackTraceLimit = limit;
  }
  callSites.set(s, [site, record]);
  queue.push(record);
  if (!flushScheduled) {
    flushScheduled = true;
    queueMicrotask(flush);
  }
  return s;
}

function flush() {
  flushScheduled = false;
  if (freed.length) {
    queue.push([++seq, "free", null, null, null, freed, null]);
    freed = [];
  }
  if (queue.length === 0) return;
  // Node starts the engine on the first op; a page must say where the wheel is first (torch.init({wheelURL})):
  // its ops wait in the queue until then
  if (!engine) {
    if (!IS_NODE) return;
    init(engineOptions);
  }
  const ops = queue, bufs = outBuffers;
  queue = [];
  outBuffers = [];
  engine.post({ type: "batch", text: JSON.stringify({ ops }), bufs, first: ops[0][0], last: ops[ops.length - 1][0] },
    bufs.filter((b) => b instanceof ArrayBuffer));
  inFlight++;
  syncRef();
}

function onReply(msg) {
  inFlight--;
  const reply = JSON.parse(msg.text);
  for (const [id, shape, dtype, device] of reply.meta) metaById.set(id, [shape, dtype, device]);
  for (const [s, type, message] of reply.errors) pendingErrors.push(engineError(s, type, message));
  for (let s = msg.first; s <= msg.last; s++) callSites.delete(s);
  for (const [s, fields] of reply.replies) {
    const r = requests.get(s);
    requests.delete(s);
    if (!r) continue;
    if (pendingErrors.length) {
      const [first, ...rest] = pendingErrors;
      pendingErrors = [];
      if (rest.length) first.message += ` (and ${rest.length} later error${rest.length > 1 ? "s" : ""})`;
      r.reject(first);
    } else {
      try {
        r.resolve(r.decode(fields, msg.bufs));
      } catch (e) {
        r.reject(e);
      }
    }
  }
  syncRef();
}

/** An error from the engine: Python's type and message, the op, and the call site's stack. */
export class TorchError extends Error {
  constructor(message, pyType, op) {
    super(message);
    this.name = pyType;
    this.op = op;
  }
}

function opLabel(record) {
  const [, kind, , , name] = record;
  if (kind === "fn") return `torch.${name}`;
  if (kind === "method") return `.${name}()`;
  if (kind === "call") return "a module or function call";
  if (kind === "typed") return "torch.tensor";
  if (kind === "read") return "data()";
  if (kind === "load") return "load_state_dict()";
  return `${kind}${name ? " " + name : ""}`;
}

function engineError(s, type, message) {
  const [site, record] = callSites.get(s) ?? [null, [s, "op", null, null, "?"]];
  const label = opLabel(record);
  const err = new TorchError(`${message} (in ${label})`, type, label);
  // the stack of the call that queued the op, less this module's own frames
  const frames = (site?.stack ?? "").split("\n").slice(1).filter((l) => !/js_bridge\/torch(_\w+)?\.mjs/.test(l));
  err.stack = `${type}: ${err.message}\n${frames.join("\n")}`;
  return err;
}

/** Queue an awaited op; resolves with decode(reply fields, reply buffers). */
export function request(kind, target, name, args, kwargs, decode) {
  if (!engine && !IS_NODE) {
    return Promise.reject(new Error("torch.mjs: call torch.init({wheelURL}) before awaiting results in a browser"));
  }
  return new Promise((resolve, reject) => {
    const s = enqueue(kind, null, target, name, args, kwargs);
    requests.set(s, { resolve, reject, decode });
  });
}

/** Wait until every queued op has run; rejects with the first error of any of them not yet reported. */
export function sync() {
  return request("sync", null, null, null, null, () => undefined);
}

export function newId() {
  return nextId++;
}

const registry = typeof FinalizationRegistry !== "undefined" ? new FinalizationRegistry((id) => {
  metaById.delete(id);
  freed.push(id);
  if (!flushScheduled && engine) {
    flushScheduled = true;
    queueMicrotask(flush);
  }
}) : null;

export function track(handle, id) {
  registry?.register(handle, id, handle);
}

export function untrack(handle, id) {
  registry?.unregister(handle);
  metaById.delete(id);
  freed.push(id);
}

export function metaOf(id) {
  return metaById.get(id);
}

export function setMeta(id, shape, dtype, device) {
  metaById.set(id, [shape, dtype, device]);
}

export function addBuffer(buf) {
  outBuffers.push(buf);
  return outBuffers.length - 1;
}
