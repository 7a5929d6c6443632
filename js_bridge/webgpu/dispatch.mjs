// Pipelines and command batching.
//
// Pipelines are cached by key (family/op/dtypes/variant); shapes and strides travel in a per-dispatch
// uniform slot, so one pipeline serves every shape and rank (the rank is a loop bound, not baked in: in eager
// code a new rank must not cost a shader compile). One command encoder and one compute pass stay open;
// they are submitted every BATCH dispatches, when the params buffer is full, and before any readback (tfjs's
// recordAndSubmit); also early, once a batch has EARLY_DISPATCHES dispatches and has been open EARLY_MS of host
// time: the GPU then runs the start of a step while Python records the rest (without it, a step's recording and
// its GPU time add up: GPT-2's eager forward went 38.0 -> 26.9 ms on an H100). All params of a batch live in one
// uniform buffer bound with a dynamic offset; it is written with one writeBuffer right before the submit, so queue
// order keeps earlier batches' params intact. A kernel takes one 512-byte params slot, or `pslots` consecutive ones
// (fused kernels, kernels/fused.mjs).
import { PARAM_SLOT_BYTES, PARAM_WORDS } from './kernels/common.mjs';

export const BATCH = 256;            // dispatches per submit
export const PARAM_SLOTS = 1024;     // params slots per submit (512 KiB uniform buffer)
// an early submit (see above); TORCH_JS_WEBGPU_EARLY_MS=Infinity turns it off (A/B benchmarks)
export const EARLY_DISPATCHES = 16, EARLY_MS = Number(globalThis.process?.env?.TORCH_JS_WEBGPU_EARLY_MS ?? 1);
const SLOT_WORDS = PARAM_SLOT_BYTES / 4;
export let DEBUG = Number(globalThis.process?.env?.TORCH_JS_WEBGPU_DEBUG ?? 0);   // >= 2 prints shaders

/** The counters a user reads through torch_js.webgpu.stats(): work the bridge sent to the GPU, by kind. */
export function newCounts() {
  return {
    dispatches: 0, submits: 0, readbacks: 0, syncs: 0, compiles: 0, bytes_uploaded: 0, bytes_read: 0,
    // host time, µs: in the bridge's run() (recording an op, or running it and the pending work before it), and
    // waiting for the GPU in readbacks and synchronize()
    bridge_us: 0, wait_us: 0, encode_us: 0,   // encode_us: recording dispatches into the command encoder
    buffers_created: 0, bind_groups_created: 0,   // GPU objects made (not found in the pool / cache)
  };
}

export class Dispatcher {
  constructor(device, buffers) {
    this.device = device;
    this.buffers = buffers;
    this.pipelines = new Map();           // key -> {pipeline, nbind}
    this.layouts = new Map();             // params slots + binding signature ('r'/'w' per storage binding) -> {bgl, pl}
    this.bindGroups = new Map();          // cache: params slots|sig|serials -> GPUBindGroup
    this.params = device.createBuffer({ size: PARAM_SLOTS * PARAM_SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.paramsCPU = new ArrayBuffer(PARAM_SLOTS * PARAM_SLOT_BYTES);
    this.u32 = new Uint32Array(this.paramsCPU);
    this.f32 = new Float32Array(this.paramsCPU);
    this.encoder = null;
    this.pass = null;
    this.count = 0;                       // params slots used by the open batch
    this.ndisp = 0;                       // dispatches in the open batch
    this.batchT0 = 0;                     // performance.now() when the open batch began
    this.early = { dispatches: EARLY_DISPATCHES, ms: EARLY_MS };   // (tests change it)
    this.nextSlots = 1;                   // slots reserved by the last slot() call
    this.lastPipeline = null;             // set on the open pass (each Dawn call costs ~2 us through N-API)
    this.dynOffset = new Uint32Array(1);
    this.errors = [];                     // compile / validation messages not yet reported
    this.counts = newCounts();            // what torch_js.webgpu.stats() reports
    this.kernelLog = null;                // while an array: the pipeline key of every dispatch (counter(kernels=True))
    this.timing = null;                   // while on: GPU time per kernel (startTiming)
    this.recordOnly = false;              // a graph is capturing: encode nothing, as CUDA capture runs nothing (graph.mjs)
    device.addEventListener?.('uncapturederror', (ev) => this._error(ev.error?.message ?? String(ev.error)));
  }

  _error(msg) {
    this.errors.push(msg);
    if (DEBUG) console.error('[torch_js webgpu]', msg);
  }

  /** Take (and clear) the pending error messages. */
  takeErrors() {
    const e = this.errors;
    this.errors = [];
    return e;
  }

  /** Bytes of the params binding of a kernel taking `pslots` slots (one slot: the PARAM_WORDS that kernels read). */
  static paramBytes(pslots) { return pslots === 1 ? PARAM_WORDS * 4 : pslots * PARAM_SLOT_BYTES; }

  layout(sig, pslots = 1) {
    const lkey = pslots + sig;
    let l = this.layouts.get(lkey);
    if (l) return l;
    const entries = [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: Dispatcher.paramBytes(pslots) } }];
    for (let i = 0; i < sig.length; i++) {
      entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: sig[i] === 'w' ? 'storage' : 'read-only-storage' } });
    }
    const bgl = this.device.createBindGroupLayout({ entries });
    l = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
    this.layouts.set(lkey, l);
    return l;
  }

  /**
   * The pipeline for `key`, compiling on first use: `make()` returns {code, sig, slots, pslots?}, where sig gives
   * each storage binding's access, slots[j] the operand whose buffer goes to binding j + 1, and pslots the params
   * slots the kernel reads (default 1).
   */
  pipeline(key, make) {
    let p = this.pipelines.get(key);
    if (p) return p;
    const { code, sig, slots, pslots = 1 } = make();
    if (DEBUG >= 2) console.error(`[torch_js webgpu] ${key}\n${code}`);
    const module = this.device.createShaderModule({ code, label: key });
    module.getCompilationInfo?.().then((info) => {
      const errs = info.messages.filter((m) => m.type === 'error');
      if (!errs.length) return;
      const lines = code.split('\n');
      const msg = errs.map((m) => `${key}:${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`).join('\n');
      this._error(`WGSL compile error\n${msg}\n--- source ---\n${lines.map((l, i) => `${String(i + 1).padStart(4)}  ${l}`).join('\n')}`);
    });
    const pipeline = this.device.createComputePipeline({ layout: this.layout(sig, pslots).pl, compute: { module, entryPoint: 'main' }, label: key });
    this.counts.compiles++;
    p = { pipeline, sig, slots, pslots, key };
    this.pipelines.set(key, p);
    return p;
  }

  /** The params (word index into this.u32 / this.f32) for the next dispatch, `n` slots long; zeroed unless the
   *  caller writes all of them (`zero` false: a graph's replay). */
  slot(n = 1, zero = true) {
    if (this.ndisp >= BATCH || this.count + n > PARAM_SLOTS ||
        (this.ndisp >= this.early.dispatches && performance.now() - this.batchT0 >= this.early.ms)) this.flush();
    const w = this.count * SLOT_WORDS;
    if (zero) this.u32.fill(0, w, w + n * SLOT_WORDS);
    this.nextSlots = n;
    return w;
  }

  /**
   * Record a dispatch of pipeline `p` over operand buffer ids `ids` with the params written at slot `w`. `memo`:
   * an object the caller keeps for repeats of this very dispatch (a graph's log entry): the bind group used last
   * time is taken again while the ids still name the same GPUBuffers, with no cache key to build.
   */
  dispatch(p, ids, w, gx, gy = 1, gz = 1, memo = null) {
    const t0 = performance.now();
    if (!this.encoder) { this.encoder = this.device.createCommandEncoder(); this.batchT0 = t0; }
    const t = this.timing;
    if (t) {   // a pass of its own, timestamped at its start and end
      if (this.pass) this.pass.end();
      const q = 2 * t.keys.length;
      this.pass = this.encoder.beginComputePass({ timestampWrites: { querySet: t.querySet, beginningOfPassWriteIndex: q, endOfPassWriteIndex: q + 1 } });
      this.lastPipeline = null;
      t.keys.push(p.key);
    } else if (!this.pass) { this.pass = this.encoder.beginComputePass(); this.lastPipeline = null; }
    const bg = memo?.bg && this._sameBuffers(memo.bufs, p.slots, ids) ? memo.bg : this._bindGroup(p, ids, memo);
    if (this.lastPipeline !== p.pipeline) { this.pass.setPipeline(p.pipeline); this.lastPipeline = p.pipeline; }
    this.dynOffset[0] = this.count * PARAM_SLOT_BYTES;
    this.pass.setBindGroup(0, bg, this.dynOffset, 0, 1);
    if (!this.recordOnly) this.pass.dispatchWorkgroups(gx, gy, gz);
    this.count += this.nextSlots;
    this.nextSlots = 1;
    this.ndisp++;
    this.counts.dispatches++;
    if (this.kernelLog) this.kernelLog.push(p.key);
    if (t) { this.pass.end(); this.pass = null; }
    this.counts.encode_us += (performance.now() - t0) * 1e3;
  }

  /** The bind group of pipeline p over `ids` (cached by the GPUBuffers' serials); noted in `memo` if given. */
  _bindGroup(p, ids, memo) {
    const slots = p.slots;
    let key = p.pslots + p.sig;
    const bufs = new Array(slots.length);
    for (let i = 0; i < slots.length; i++) { bufs[i] = this.buffers.get(ids[slots[i]]); key += '|' + bufs[i]._tjsSerial; }
    let bg = this.bindGroups.get(key);
    if (!bg) {
      const entries = [{ binding: 0, resource: { buffer: this.params, size: Dispatcher.paramBytes(p.pslots) } }];
      for (let i = 0; i < bufs.length; i++) entries.push({ binding: i + 1, resource: { buffer: bufs[i] } });
      bg = this.device.createBindGroup({ layout: this.layout(p.sig, p.pslots).bgl, entries });
      this.counts.bind_groups_created++;
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      this.bindGroups.set(key, bg);
    }
    if (memo) { memo.bufs = bufs; memo.bg = bg; }
    return bg;
  }

  _sameBuffers(bufs, slots, ids) {
    for (let i = 0; i < slots.length; i++) if (this.buffers.get(ids[slots[i]]) !== bufs[i]) return false;
    return true;
  }

  // ---- GPU time per kernel ----------------------------------------------------------------------------------
  // While timing, every dispatch runs in a compute pass of its own whose start and end timestamps go to a query
  // set; each submit resolves its queries into a buffer read back asynchronously, and the durations add up per
  // pipeline key. Passes of one dispatch serialise work the GPU could overlap: the figures are for finding the
  // slow kernels, not for the step's wall time.

  /** Start timing (needs the 'timestamp-query' feature); false when the device cannot. */
  startTiming() {
    if (!this.device.features?.has('timestamp-query')) return false;
    if (this.timing) return true;
    this.flush();
    this.timing = { querySet: this.device.createQuerySet({ type: 'timestamp', count: 2 * BATCH }), keys: [], pending: [], totals: new Map() };
    return true;
  }

  /** Stop timing; resolves to [[pipeline key, dispatches, total ns], ...] for the work timed since startTiming. */
  async stopTiming() {
    const t = this.timing;
    if (!t) return [];
    this.flush();
    this.timing = null;
    await Promise.all(t.pending);
    t.querySet.destroy();
    return [...t.totals].map(([key, v]) => [key, v.n, v.ns]);
  }

  /** Resolve the open batch's timestamps (before its submit); the returned function, called after the submit,
   *  reads them once the GPU is done. */
  _resolveTiming(t) {
    const n = t.keys.length, bytes = 16 * n;
    const resolved = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.encoder.resolveQuerySet(t.querySet, 0, 2 * n, resolved, 0);
    this.encoder.copyBufferToBuffer(resolved, 0, read, 0, bytes);
    const keys = t.keys;
    t.keys = [];
    return () => t.pending.push(read.mapAsync(GPUMapMode.READ).then(() => {
      const ts = new BigUint64Array(read.getMappedRange());
      for (let i = 0; i < n; i++) {
        const e = t.totals.get(keys[i]) ?? { n: 0, ns: 0 };
        e.n++;
        e.ns += ts[2 * i + 1] > ts[2 * i] ? Number(ts[2 * i + 1] - ts[2 * i]) : 0;
        t.totals.set(keys[i], e);
      }
      read.unmap();
      read.destroy();
      resolved.destroy();
    }));
  }

  /** Record a buffer-to-buffer copy (ends the open compute pass). */
  copyBuffer(src, srcOff, dst, dstOff, size) {
    if (!this.encoder) { this.encoder = this.device.createCommandEncoder(); this.batchT0 = performance.now(); }
    if (this.pass) { this.pass.end(); this.pass = null; }
    this.encoder.copyBufferToBuffer(src, srcOff, dst, dstOff, size);
    this.count = Math.max(this.count, 1);
  }

  /** Submit the open batch (params first, then the commands); pooled frees become reusable. */
  flush() {
    if (!this.encoder) return;
    if (this.pass) this.pass.end();
    const readTiming = this.timing?.keys.length ? this._resolveTiming(this.timing) : null;
    if (this.count) this.device.queue.writeBuffer(this.params, 0, this.paramsCPU, 0, this.count * PARAM_SLOT_BYTES);
    this.device.queue.submit([this.encoder.finish()]);
    readTiming?.();
    this.counts.submits++;
    this.encoder = null;
    this.pass = null;
    this.count = 0;
    this.ndisp = 0;
    this.buffers.afterSubmit();
  }

  get open() { return this.encoder !== null; }
  get dispatches() { return this.counts.dispatches; }

  /** Forget cached bind groups (their buffers may be destroyed). */
  dropBindGroups() { this.bindGroups.clear(); }
}
