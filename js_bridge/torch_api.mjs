// torch.mjs's API objects: Tensor handles, nn.Module (subclassable, callable), built-in modules, optimizers and
// namespaces (torch.nn.functional, torch.linalg, ...). Each call is encoded (options object -> Python kwargs, arrays
// -> lists, handles -> {$h: id}) and queued by torch_core.mjs; torch_js runs it in the worker.
import { addBuffer, enqueue, metaOf, newId, request, setMeta, track, untrack } from "./torch_core.mjs";

const IS_NODE = typeof process !== "undefined" && !!process.versions?.node;
export const ID = Symbol("torch.mjs handle id");

// ---- values that are not plain JSON ----------------------------------------------------------------------------
export class DType {
  constructor(name) { this.name = name; }
  toString() { return `torch.${this.name}`; }
}
const DTYPES = new Map();
export function dtype(name) {
  if (!DTYPES.has(name)) DTYPES.set(name, new DType(name));
  return DTYPES.get(name);
}

/** A number passed as a Python float even when it has no fraction: pyfloat(2) is Python's 2.0 (2 is an int). */
export class PyFloat {
  constructor(value) { this.value = value; }
}
export const pyfloat = (value) => new PyFloat(value);

/** Python's slice(stop) / slice(start, stop[, step]), for x.get(...). */
export class Slice {
  constructor(...args) { this.args = args; }
}
export const slice = (...args) => new Slice(...args);
export const ellipsis = Object.freeze({ ellipsis: true });

function isOptions(v) {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

function encodeNumber(v) {
  if (Number.isFinite(v)) return v;
  return { $f: v !== v ? "nan" : v > 0 ? "inf" : "-inf" };
}

export function encode(v) {
  switch (typeof v) {
    case "number": return encodeNumber(v);
    case "string": case "boolean": return v;
    case "undefined": return null;
    case "bigint": return { $i: v.toString() };
    case "function":
      if (v[ID] !== undefined) return { $h: v[ID] };
      throw new TypeError("torch.mjs: a JavaScript function cannot be passed to the engine");
  }
  if (v === null) return null;
  if (v instanceof Tensor) return { $h: v._id };
  if (Array.isArray(v)) return v.map(encode);
  if (v instanceof SymSize) return { $size: [v.tensor._id, v.dim] };
  if (v instanceof DType) return { $dtype: v.name };
  if (v instanceof PyFloat) return { $f: Number.isFinite(v.value) ? v.value : encodeNumber(v.value).$f };
  if (v instanceof Slice) return { $slice: v.args.map(encode) };
  if (v === ellipsis) return { $ellipsis: 1 };
  if (v[ID] !== undefined) return { $h: v[ID] };
  if (ArrayBuffer.isView(v)) throw new TypeError("torch.mjs: make a tensor of a typed array with torch.tensor(array)");
  if (isOptions(v)) return { $obj: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)])) };
  throw new TypeError(`torch.mjs: cannot pass a ${v.constructor?.name ?? typeof v} to the engine`);
}

function encodeKwargs(options) {
  const kw = {};
  for (const k in options) kw[k] = encode(options[k]);
  return kw;
}

/** [positional args, kwargs]: a trailing plain object is the keyword arguments. */
function splitArgs(args) {
  const n = args.length;
  if (n > 0 && isOptions(args[n - 1])) {
    return [n > 1 ? args.slice(0, n - 1).map(encode) : null, encodeKwargs(args[n - 1])];
  }
  return [n > 0 ? args.map(encode) : null, null];
}

function decodeValue(v) {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v !== null && typeof v === "object") {
    if ("$f" in v) return { nan: NaN, inf: Infinity, "-inf": -Infinity }[v.$f];
    if ("$i" in v) return BigInt(v.$i);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeValue(x)]));
  }
  return v;
}

const TYPED = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array,
  int64: BigInt64Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  bool: Uint8Array, complex64: Float32Array, complex128: Float64Array,
};
const DTYPE_OF_ARRAY = new Map([
  [Float32Array, "float32"], [Float64Array, "float64"], [Int8Array, "int8"], [Int16Array, "int16"],
  [Int32Array, "int32"], [BigInt64Array, "int64"], [Uint8Array, "uint8"], [Uint16Array, "uint16"],
  [Uint32Array, "uint32"], [BigUint64Array, "uint64"],
]);

function decodeRead(fields, bufs) {
  if ("value" in fields) return decodeValue(fields.value);
  const Typed = TYPED[fields.dtype];
  if (!Typed) throw new TypeError(`torch.mjs: no typed array for dtype ${fields.dtype}`);
  const b = bufs[fields.buf];
  const ab = b instanceof ArrayBuffer ? b : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return new Typed(ab);
}

// ---- tensors ---------------------------------------------------------------------------------------------------
function newTensor() {
  const t = new Tensor(newId());
  track(t, t._id);
  return t;
}

/** torch.<name>(...args): a handle to the result (most are tensors). */
export function callFn(name, args) {
  const [a, k] = splitArgs(args);
  const t = newTensor();
  enqueue("fn", t._id, null, name, a, k);
  return t;
}

function callMethod(targetId, name, args) {
  const [a, k] = splitArgs(args);
  const t = newTensor();
  enqueue("method", t._id, targetId, name, a, k);
  return t;
}

function getAttr(targetId, name) {
  const t = newTensor();
  enqueue("getattr", t._id, targetId, name, null, null);
  return t;
}

/** The size of a tensor along dim, before the worker has told it: an op's argument resolves it there. */
export class SymSize {
  constructor(tensor, dim) { this.tensor = tensor; this.dim = dim; }
  [Symbol.toPrimitive](hint) {
    const m = metaOf(this.tensor._id);
    if (!m) {
      throw new Error("torch.mjs: this size is not known yet (its op has not run): pass x.size(d) to an op as is, " +
        "or `await x.meta()` first");
    }
    const v = m[0][this.dim < 0 ? this.dim + m[0].length : this.dim];
    return hint === "string" ? String(v) : v;
  }
}

function unknownShape(what) {
  return new Error(`torch.mjs: ${what} is not known until the op that makes the tensor has run: ` +
    "`await x.meta()` first (x.size(d) can be passed to ops before that)");
}

/** A handle to a value in the engine (most often a Tensor). Methods not defined here are torch_js's Tensor
 *  methods, called by name: x.add(y), x.sum({dim: 1, keepdim: true}), x.view([x.size(0), -1]). */
export class Tensor {
  constructor(id) { this._id = id; }
  /** The values, as a typed array of the dtype (float16/bfloat16 as Float32Array, bool as Uint8Array). */
  data() { return request("read", this._id, null, null, null, decodeRead); }
  /** A non-tensor value (a number, list, dict) as JSON-like JavaScript, or a tensor's values. */
  value() { return this.data(); }
  item() { return callMethod(this._id, "item", []).value(); }
  tolist() { return callMethod(this._id, "tolist", []).value(); }
  /** {shape, dtype, device} once the op that makes this has run (and any error before it is reported). */
  async meta() {
    await request("sync", null, null, null, null, () => undefined);
    const m = metaOf(this._id);
    if (!m) throw new TypeError("torch.mjs: this handle is not a tensor");
    return { shape: m[0].slice(), dtype: m[1], device: m[2] };
  }
  size(dim) {
    const m = metaOf(this._id);
    if (dim === undefined) {
      if (!m) throw unknownShape("the shape");
      return m[0].slice();
    }
    if (m && Number.isInteger(dim) && dim >= -m[0].length && dim < m[0].length) {
      return m[0][dim < 0 ? dim + m[0].length : dim];
    }
    return new SymSize(this, dim);  // unknown yet (or out of range: the engine raises PyTorch's error)
  }
  get shape() { return this.size(); }
  dim() {
    const m = metaOf(this._id);
    if (!m) throw unknownShape("the number of dimensions");
    return m[0].length;
  }
  get ndim() { return this.dim(); }
  numel() {
    const m = metaOf(this._id);
    if (!m) throw unknownShape("the number of elements");
    return m[0].reduce((a, b) => a * b, 1);
  }
  get dtype() { const m = metaOf(this._id); return m ? dtype(m[1]) : undefined; }
  get device() { return metaOf(this._id)?.[2]; }
  get grad() { return getAttr(this._id, "grad"); }
  get T() { return getAttr(this._id, "T"); }
  get mT() { return getAttr(this._id, "mT"); }
  get H() { return getAttr(this._id, "H"); }
  get real() { return getAttr(this._id, "real"); }
  get imag() { return getAttr(this._id, "imag"); }
  /** Python's x[index]: x.get(0, 1) is x[0, 1]; x.get([0, 2]) is x[[0, 2]]; torch.slice(...) / torch.ellipsis. */
  get(...index) {
    const t = newTensor();
    enqueue("getitem", t._id, this._id, null, [index.length === 1 ? encode(index[0]) : { $tuple: index.map(encode) }],
      null);
    return t;
  }
  /** Python's x[index] = value (in place). */
  set(...indexAndValue) {
    const value = indexAndValue.pop();
    const index = indexAndValue.length === 1 ? encode(indexAndValue[0]) : { $tuple: indexAndValue.map(encode) };
    enqueue("method", null, this._id, "__setitem__", [index, encode(value)], null);
    return this;
  }
  /** The elements of a list / tuple / dict handle (e.g. model.parameters(), x.max({dim: 1})). */
  unpack() {
    return request("unpack", this._id, null, null, null, (fields) => {
      const one = (e) => {
        if (e === null || typeof e !== "object" || !("$h" in e)) return decodeValue(e);
        if (e.module) return wrapModule(e.$h);
        const h = new Tensor(e.$h);
        track(h, e.$h);
        if (e.shape) setMeta(e.$h, e.shape, e.dtype, e.device);
        return h;
      };
      return fields.dict ? Object.fromEntries(fields.dict.map(([k, e]) => [k, one(e)])) : fields.list.map(one);
    });
  }
  /** Call a torch_js method by name (for names this class defines otherwise, e.g. "data"). */
  method(name, ...args) { return callMethod(this._id, name, args); }
  attr(name) { return getAttr(this._id, name); }
  /** Drop the engine's reference now rather than when this handle is garbage-collected. */
  dispose() { untrack(this, this._id); }
  toString() {
    const m = metaOf(this._id);
    return m ? `Tensor(shape=[${m[0]}], dtype=${m[1]}, device=${m[2]})` : `Tensor(#${this._id}, pending)`;
  }
  [Symbol.for("nodejs.util.inspect.custom")]() { return this.toString(); }
}

// Any other property of a Tensor is a torch_js method of that name (not "then": a handle is not a promise).
const METHOD_CACHE = new Map();
const NOT_METHODS = new Set(["then", "toJSON", "constructor", "asymmetricMatch", "$$typeof", "nodeType"]);
Object.setPrototypeOf(Tensor.prototype, new Proxy(Object.prototype, {
  get(target, name, receiver) {
    if (typeof name === "symbol" || NOT_METHODS.has(name) || name in target) return Reflect.get(target, name, receiver);
    let f = METHOD_CACHE.get(name);
    if (!f) {
      f = function (...args) { return callMethod(this._id, name, args); };
      METHOD_CACHE.set(name, f);
    }
    return f;
  },
}));

/** torch.tensor(nestedArrayOrTypedArray, {dtype, device, requires_grad}). Numbers without a fraction are Python
 *  ints (torch.tensor([1, 2]) is int64, as in Python); a typed array keeps its element type unless dtype is given. */
export function tensor(data, options = undefined) {
  if (ArrayBuffer.isView(data)) {
    const dt = DTYPE_OF_ARRAY.get(data.constructor);
    if (!dt) throw new TypeError(`torch.mjs: no dtype for a ${data.constructor.name}`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const k = addBuffer(bytes.buffer);
    const t = newTensor();
    enqueue("typed", t._id, null, null, [{ $buf: k }, dt], options ? encodeKwargs(options) : null);
    return t;
  }
  return options === undefined ? callFn("tensor", [data]) : callFn("tensor", [data, options]);
}

/** torch.frombuffer(typedArrayOrArrayBuffer, {dtype, requires_grad}): its bytes read as dtype (1-D), e.g. a
 *  Uint16Array's bits as float16. */
export function frombuffer(buffer, options = {}) {
  const { dtype: dt, ...rest } = options;
  if (!(dt instanceof DType)) throw new TypeError("frombuffer() missing required keyword argument 'dtype'");
  const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const k = addBuffer(view.slice().buffer);
  const t = newTensor();
  enqueue("typed", t._id, null, null, [{ $buf: k }, dt.name], encodeKwargs(rest));
  return t;
}

/** torch.save(obj): the bytes torch.save writes (PyTorch's zip format), e.g. of model.state_dict(): Python's
 *  torch.load reads them. Resolves to a Uint8Array. */
export function save(obj) {
  const target = typeof obj === "function" ? obj[ID] : obj?._id;
  if (target === undefined) throw new TypeError("torch.save: expected a handle (a tensor, a state_dict, ...)");
  return request("save", target, null, null, null, decodeRead);
}

/** torch.load(source, options): a checkpoint (a URL, Response, bytes or, in Node, a path) as a handle to what it
 *  holds (weights only, as torch.load's default); options are torch.load's keyword arguments. */
export async function load(source, options = {}) {
  const k = addBuffer(await sourceBytes(source));
  const t = newTensor();
  enqueue("loadobj", t._id, null, null, [{ $buf: k }], encodeKwargs(options));
  await request("sync", null, null, null, null, () => undefined);
  return t;
}

/** torch.no_grad(fn): fn's ops run without recording gradients (after fn's promise settles if it returns one). */
export function no_grad(fn) { return gradMode("no_grad", fn); }
export function enable_grad(fn) { return gradMode("enable_grad", fn); }

function gradMode(mode, fn) {
  enqueue("grad", null, null, null, [true, mode], null);
  let result, thenable = false;
  try {
    result = fn();
    thenable = result !== null && typeof result?.then === "function";
  } finally {
    if (!thenable) enqueue("grad", null, null, null, [false], null);
  }
  if (thenable) return Promise.resolve(result).finally(() => enqueue("grad", null, null, null, [false], null));
  return result;
}

// ---- modules ---------------------------------------------------------------------------------------------------
const STATE = Symbol("torch.mjs module state");
const CHILDREN = Symbol("torch.mjs submodules");
let pendingPython = null;   // set while a built-in module's proxy is being made: [name, args] or ["$wrap", id]

function isModule(v) {
  return typeof v === "function" && v[STATE] !== undefined;
}

/** nn.Module: subclass it in JavaScript. Assigning a module or a tensor to `this.name` registers it with the
 *  engine's module (so parameters(), state_dict(), to(), train() see it); instances are callable: model(x). */
export class Module {
  constructor() {
    const state = Object.create(new.target.prototype);
    state[CHILDREN] = new Map();
    state.training = true;
    let id;
    if (pendingPython && pendingPython[0] === "$wrap") {
      id = pendingPython[1];
    } else {
      id = newId();
      const [name, args] = pendingPython ?? ["nn.Module", []];
      const [a, k] = splitArgs(args);
      enqueue("fn", id, null, name, a, k);
    }
    state[ID] = id;
    const builtin = pendingPython !== null;
    pendingPython = null;
    const proxy = new Proxy(() => {}, {
      apply: (_, thisArg, args) => proxy.forward(...args),
      get(_, k) {
        if (k === STATE) return state;
        if (k in state) return Reflect.get(state, k, proxy);
        // a built-in module's other attributes (weight, bias, ...) are the engine's
        if (builtin && typeof k === "string" && !NOT_METHODS.has(k)) return getAttr(id, k);
        return undefined;
      },
      set(_, k, v) { register(state, id, k, v); state[k] = v; return true; },
      defineProperty(_, k, d) {
        if ("value" in d) register(state, id, k, d.value);
        return Reflect.defineProperty(state, k, d);
      },
      has: (_, k) => k in state,
      deleteProperty: (_, k) => delete state[k],
      ownKeys: () => Reflect.ownKeys(state),
      getOwnPropertyDescriptor(_, k) {
        const d = Reflect.getOwnPropertyDescriptor(state, k);
        if (d) d.configurable = true;
        return d;
      },
      getPrototypeOf: () => Object.getPrototypeOf(state),
    });
    track(proxy, id);
    return proxy;
  }
  forward() {
    throw new Error(`torch.mjs: ${this.constructor.name} has no forward(); define forward(...) in the subclass`);
  }
  parameters(recurse = true) { return callMethod(this[ID], "parameters", [recurse]); }
  named_parameters() { return callMethod(this[ID], "named_parameters", []); }
  buffers(recurse = true) { return callMethod(this[ID], "buffers", [recurse]); }
  children() { return callMethod(this[ID], "children", []); }
  modules() { return callMethod(this[ID], "modules", []); }
  state_dict() { return callMethod(this[ID], "state_dict", []); }
  train(mode = true) {
    enqueue("method", null, this[ID], "train", [mode], null);
    setTraining(this, mode);
    return this;
  }
  eval() { return this.train(false); }
  /** In place, as in Python: model.to("webgpu"), model.to({dtype: torch.float64}). */
  to(...args) { inPlace(this, "to", args); return this; }
  cpu() { inPlace(this, "cpu", []); return this; }
  float() { inPlace(this, "float", []); return this; }
  double() { inPlace(this, "double", []); return this; }
  zero_grad(...args) { inPlace(this, "zero_grad", args); return this; }
  requires_grad_(...args) { inPlace(this, "requires_grad_", args); return this; }
  /** Python's module[index] (nn.Sequential, nn.ModuleList): the submodule. */
  get(index) {
    const id = newId();
    enqueue("getitem", id, this[ID], null, [encode(index)], null);
    return wrapModule(id);
  }
  /** Call any other method of the engine's module by name. */
  method(name, ...args) { return callMethod(this[ID], name, args); }
  /** Weights from PyTorch's .pt (torch.save of a state_dict) or a safetensors file: a URL, a Response, an
   *  ArrayBuffer / typed array, or (Node) a file path. options: strict (as in Python), format ("pt" |
   *  "safetensors"; default from the name, else sniffed), key (the entry of a saved dict holding the state_dict,
   *  e.g. "model" for torch.save({"model": model.state_dict(), ...})). Resolves to {missing_keys, unexpected_keys}. */
  async load_state_dict(source, options = {}) {
    const { strict = true, format, key = null } = options;
    const bytes = await sourceBytes(source);
    const fmt = format ?? (/\.safetensors(\?|$)/.test(String(source?.url ?? source)) ? "safetensors" : "auto");
    const k = addBuffer(bytes);
    return request("load", this[ID], null, [{ $buf: k }, fmt], { strict, key }, decodeRead);
  }
  toString() { return `${this.constructor.name}(#${this[ID]})`; }
  [Symbol.for("nodejs.util.inspect.custom")]() { return this.toString(); }
}

function register(state, id, k, v) {
  if (typeof k !== "string") return;
  if (isModule(v)) {
    state[CHILDREN].set(k, v);
    enqueue("setattr", null, id, k, [{ $h: v[ID] }], null);
  } else if (v instanceof Tensor) {
    enqueue("setattr", null, id, k, [{ $h: v._id }], null);
  }
}

function inPlace(module, name, args) {
  const [a, k] = splitArgs(args);
  enqueue("method", null, module[ID], name, a, k);
}

function setTraining(module, mode) {
  module[STATE].training = mode;
  for (const child of module[STATE][CHILDREN].values()) setTraining(child, mode);
}

/** A built-in module (nn.Conv2d, nn.Sequential, ...): the engine's; calling it calls the engine's. */
class PythonModule extends Module {
  forward(...args) {
    const [a, k] = splitArgs(args);
    const t = newTensor();
    enqueue("call", t._id, this[ID], null, a, k);
    return t;
  }
  toString() { return `nn module #${this[ID]}`; }
}

function pythonModule(name, args) {
  pendingPython = [name, args];
  return new PythonModule();
}

function wrapModule(id) {
  pendingPython = ["$wrap", id];
  return new PythonModule();
}

async function sourceBytes(source) {
  if (source instanceof ArrayBuffer) return source.slice(0);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength).slice().buffer;
  }
  if (typeof Response !== "undefined" && source instanceof Response) {
    if (!source.ok) throw new Error(`torch.mjs: load_state_dict: HTTP ${source.status} for ${source.url}`);
    return source.arrayBuffer();
  }
  const s = String(source);
  if (IS_NODE && !/^(https?|data|blob):/.test(s)) {
    const fs = await import("node:fs/promises");
    const { fileURLToPath } = await import("node:url");
    const b = await fs.readFile(s.startsWith("file:") ? fileURLToPath(s) : s);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }
  const res = await fetch(s);
  if (!res.ok) throw new Error(`torch.mjs: load_state_dict: HTTP ${res.status} for ${s}`);
  return res.arrayBuffer();
}

// ---- other engine objects (optimizers, schedulers): every property is a method of that name ----------------------
function pythonObject(name, args) {
  const [a, k] = splitArgs(args);
  const id = newId();
  enqueue("fn", id, null, name, a, k);
  const state = { [ID]: id, attr: (n) => getAttr(id, n) };
  const proxy = new Proxy(state, {
    get(target, key) {
      if (key in target || typeof key === "symbol" || NOT_METHODS.has(key)) return target[key];
      return (...margs) => callMethod(id, key, margs);
    },
  });
  track(proxy, id);
  return proxy;
}

// ---- namespaces ------------------------------------------------------------------------------------------------
/** prefix.name(...) for any name: a function (result: a Tensor handle) or, when capitalized, a class. */
function namespace(prefix, { classes = null, explicit = {} } = {}) {
  const cache = new Map();
  return new Proxy(explicit, {
    get(target, name) {
      if (name in target || typeof name === "symbol" || NOT_METHODS.has(name)) return target[name];
      if (!cache.has(name)) {
        const full = `${prefix}.${name}`;
        const f = classes && /^[A-Z]/.test(name)
          ? function (...args) { return classes(full, args); }   // nn.Linear(...) or new nn.Linear(...)
          : (...args) => callFn(full, args);
        cache.set(name, f);
      }
      return cache.get(name);
    },
  });
}

export const nn = namespace("nn", {
  classes: pythonModule,
  explicit: {
    Module,
    Parameter: (...args) => callFn("nn.Parameter", args),
    functional: namespace("nn.functional"),
    init: namespace("nn.init"),
    utils: namespace("nn.utils"),
  },
});
export const optim = namespace("optim", {
  classes: pythonObject, explicit: { lr_scheduler: namespace("optim.lr_scheduler", { classes: pythonObject }) },
});
export const linalg = namespace("linalg");
export const fft = namespace("fft");
export const special = namespace("special");
export const signal = namespace("signal", { explicit: { windows: namespace("signal.windows") } });
export const autograd = namespace("autograd");
