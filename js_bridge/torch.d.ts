// TypeScript declarations of js_bridge/torch.mjs (PyTorch's API for JavaScript on torch_js). The top-level op
// functions (torch.add, torch.randn, ...) and dtypes are in torch_ops.d.ts, generated with torch_ops.mjs.
export * from "./torch_ops.js";

/** Options of torch.init(): how the engine (Pyodide + torch_js, in a Worker) starts. */
export interface InitOptions {
  /** Node: how torch_js is installed in Pyodide ("unpack" the dist/ wheel (default), "source", "micropip"). */
  install?: "unpack" | "source" | "micropip";
  /** Make the "webgpu" device available (Node 20: start node with --experimental-wasm-stack-switching). */
  webgpu?: boolean;
  /** Browsers: the folder of pyodide.mjs, and the torch_js wheel's URL. */
  pyodideURL?: string;
  wheelURL?: string;
  /** Caller stack frames kept per op for its error message (default 4; 0 saves a few microseconds per op). */
  callSiteFrames?: number;
}
export function init(options?: InitOptions): Promise<{ version: string }>;
/** Wait until every queued op has run; rejects with the first error not yet reported. */
export function sync(): Promise<void>;
/** Stop the worker. */
export function close(): void;

/** An op's error from the engine: name is Python's exception type, message Python's message and the op. */
export class TorchError extends Error {
  op: string;
}

export class DType {
  readonly name: string;
}
/** A number passed as a Python float (pyfloat(2) is 2.0; a plain 2 is a Python int). */
export class PyFloat {
  readonly value: number;
}
export function pyfloat(value: number): PyFloat;
export class Slice {}
/** Python's slice(stop) / slice(start, stop, step), for Tensor.get(...). */
export function slice(...args: (number | null)[]): Slice;
export const ellipsis: object;

/** x.size(d) before the worker has reported x's shape: accepted by ops; a number once known. */
export class SymSize {
  [Symbol.toPrimitive](hint: string): number | string;
}
export type Size = number | SymSize;
export type Shape = Size[];
export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array
  | Uint32Array | BigUint64Array;
/** The trailing options object of a call: Python's keyword arguments. */
export type Options = { [name: string]: any };
export type Device = "cpu" | "webgpu" | string;

/** A handle to a value in the engine, most often a tensor. Any torch_js Tensor method can be called by name. */
export class Tensor {
  /** The values (float16/bfloat16 as Float32Array, bool as Uint8Array, int64 as BigInt64Array). */
  data(): Promise<TypedArray>;
  /** A non-tensor value (number, list, dict) as JavaScript, or a tensor's values. */
  value(): Promise<any>;
  item(): Promise<number | bigint | boolean>;
  tolist(): Promise<any>;
  meta(): Promise<{ shape: number[]; dtype: string; device: string }>;
  size(): number[];
  size(dim: number): Size;
  readonly shape: number[];
  dim(): number;
  readonly ndim: number;
  numel(): number;
  readonly dtype: DType | undefined;
  readonly device: string | undefined;
  readonly grad: Tensor;
  readonly T: Tensor;
  readonly mT: Tensor;
  readonly H: Tensor;
  readonly real: Tensor;
  readonly imag: Tensor;
  /** Python's x[index]: get(0, 1) is x[0, 1]. */
  get(...index: any[]): Tensor;
  /** Python's x[index] = value. */
  set(...indexAndValue: any[]): this;
  unpack(): Promise<any[] | { [key: string]: any }>;
  method(name: string, ...args: any[]): Tensor;
  attr(name: string): Tensor;
  dispose(): void;
  to(...args: any[]): Tensor;
  view(shape: Shape | Size, ...rest: Size[]): Tensor;
  reshape(shape: Shape | Size, ...rest: Size[]): Tensor;
  add(other: Tensor | number, options?: Options): Tensor;
  sub(other: Tensor | number, options?: Options): Tensor;
  mul(other: Tensor | number): Tensor;
  div(other: Tensor | number, options?: Options): Tensor;
  matmul(other: Tensor): Tensor;
  sum(options?: Options): Tensor;
  mean(options?: Options): Tensor;
  backward(gradient?: Tensor, options?: Options): Tensor;
  [method: string]: any;
}

export function tensor(data: number[] | any[] | TypedArray, options?: Options): Tensor;
export function frombuffer(buffer: ArrayBuffer | ArrayBufferView, options: Options & { dtype: DType }): Tensor;
/** torch.save(obj): the bytes of PyTorch's checkpoint format (Python's torch.load reads them). */
export function save(obj: Tensor | Module): Promise<Uint8Array>;
/** torch.load(source): a handle to what the checkpoint holds (weights only). */
export function load(source: WeightsSource, options?: Options): Promise<Tensor>;
export function no_grad<T>(fn: () => T): T;
export function enable_grad<T>(fn: () => T): T;

/** A source of weights for load_state_dict: a URL, a Response, bytes, or (Node) a file path. */
export type WeightsSource = string | URL | Response | ArrayBuffer | ArrayBufferView;

/** nn.Module: subclass it; assigning a module or tensor to this.name registers it; instances are callable. */
export class Module {
  constructor();
  training: boolean;
  forward(...args: any[]): any;
  parameters(recurse?: boolean): Tensor;
  named_parameters(): Tensor;
  buffers(recurse?: boolean): Tensor;
  children(): Tensor;
  modules(): Tensor;
  state_dict(): Tensor;
  train(mode?: boolean): this;
  eval(): this;
  to(...args: any[]): this;
  cpu(): this;
  float(): this;
  double(): this;
  zero_grad(...args: any[]): this;
  requires_grad_(...args: any[]): this;
  get(index: number): Module & ((...args: any[]) => Tensor) & { [attr: string]: any };
  method(name: string, ...args: any[]): Tensor;
  load_state_dict(
    source: WeightsSource, options?: { strict?: boolean; format?: "pt" | "safetensors"; key?: string },
  ): Promise<{ missing_keys: string[]; unexpected_keys: string[] }>;
}
/** A built-in module (nn.Conv2d, ...): callable, its attributes (weight, bias) are handles. */
export type BuiltinModule = Module & ((...args: any[]) => Tensor) & { [attr: string]: any };
type ModuleClass = ((...args: any[]) => BuiltinModule) & (new (...args: any[]) => BuiltinModule);
type Functions = { [name: string]: (...args: any[]) => Tensor };
/** An optimizer or scheduler: every property is a method of the engine's object (step(), zero_grad(), ...). */
export type EngineObject = { [method: string]: (...args: any[]) => Tensor } & { attr(name: string): Tensor };
type ObjectClass = ((...args: any[]) => EngineObject) & (new (...args: any[]) => EngineObject);

export const nn: {
  Module: typeof Module;
  Parameter(data: Tensor, options?: Options): Tensor;
  functional: Functions;
  init: Functions;
  utils: Functions;
  [cls: string]: any;
} & { [cls: string]: ModuleClass };
export const optim: { lr_scheduler: { [cls: string]: ObjectClass } } & { [cls: string]: ObjectClass };
export const linalg: Functions;
export const fft: Functions;
export const special: Functions;
export const signal: { windows: Functions };
export const autograd: Functions;
