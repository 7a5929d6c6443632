// torch.mjs: PyTorch's API for JavaScript (Node >= 20 and browsers), on torch_js, the same engine as the Python
// package, in a Worker, so the page never blocks.
//
//   import * as torch from "./torch.mjs";
//   const nn = torch.nn;
//   class Net extends nn.Module {
//     constructor() {
//       super();
//       this.convs = nn.Sequential(nn.Conv2d(1, 8, 3, {padding: 1}), nn.ReLU(), nn.MaxPool2d(2));
//       this.mlp = nn.Linear(8 * 14 * 14, 10);
//     }
//     forward(x) { x = this.convs(x); return this.mlp(x.view([x.size(0), -1])); }
//   }
//   const model = new Net();
//   await model.load_state_dict("net.pt");            // PyTorch's torch.save(model.state_dict()) or safetensors
//   const y = model(torch.randn([1, 1, 28, 28]));      // no await: a handle, the op is queued
//   const values = await y.data();                     // Float32Array
//
// Rules (see README.md "torch.mjs"): names and arguments are Python's, keyword arguments a trailing options object
// (x.sum({dim: 1, keepdim: true})); no operator overloading (x.add(y)); a number without a fraction is a Python int
// (torch.pyfloat(2) is 2.0); x.get(i, j) is x[i, j]; readback is awaited (data(), item(), tolist(), meta()).
// Ops return at once: they are queued and sent to the worker once per microtask; an op's error rejects the next
// awaited call, naming the op and the line that called it. x.size(d) is a number once the worker has run x's op
// (shapes come back with every reply, and `await x.meta()` waits for them); before that it is a SymSize that ops
// accept as an argument (x.view([x.size(0), -1]) works either way) and that becomes a number when known.
// The engine starts on the first op, or with torch.init({install, webgpu, pyodideURL, wheelURL}).
export { close, init, sync, TorchError } from "./torch_core.mjs";
export {
  DType, Module, frombuffer, PyFloat, Slice, SymSize, Tensor, autograd, ellipsis, enable_grad, fft, linalg, nn, no_grad, optim,
  load, pyfloat, save, signal, slice, special, tensor,
} from "./torch_api.mjs";
export * from "./torch_ops.mjs";
