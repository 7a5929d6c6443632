// The API that torch_js/backends/webgpu/ calls. Coarse and numeric: Python packs one primitive's
// arguments into its argument block (Python-owned memory in the wasm heap) and calls run() with no
// arguments; buffers are integer ids. One bridge call per op: Python numbers its own buffers (odd ids; the
// bridge's own are even) and writes their allocations and releases into a queue in the wasm heap, which every
// bridge call applies first (setQueue, _drain), so creating and freeing a tensor costs no call.
//
//   const bridge = await createBridge();           // or installWebGPU() -> globalThis.torchJsWebGPU
//   bridge.attach(pyodideModule); bridge.setArgBlock(ptr, nbytes); bridge.setQueue(ptr, entries)   (Python, at init)
//
// Argument block: four f64 then int32 words, [0] family, [1] op, then the family's words. Its layout is written
// once, in torch_js/backends/webgpu/bridge_abi.py; tools/gen_abi.py generates ./abi.mjs from it (FAMILY and
// one decoder per family, ARGS.<FAMILY>(I) -> the words by name), so nothing here counts word offsets.
// run() returns 0, or an error code with the message in bridge.lastError: 1 dtype not supported, 2 unknown
// op, 3 other. Readbacks (read, synchronize) reject with "TJS_INDEX_ERROR <index> <size>" for a bounds error
// found by an earlier index kernel, or with pending WGSL compile/validation messages.
import { createDevice } from './device.mjs';
import { Buffers } from './buffers.mjs';
import { Dispatcher, newCounts } from './dispatch.mjs';
import { ARR, DT, ITEMSIZE, MAX_GROUPS, aliasOf, coalesce, declare, grid, isFloat, isSubword } from './kernels/common.mjs';
import { BINARY_OPS, UNARY_OPS, WG, binaryExpr, elementwiseSource, elementwiseSpecs, unaryExpr } from './kernels/elementwise.mjs';
import {
  WG_FUSED, boundOperands, fusedKey, fusedReduce, fusedSource, fusedSpecs, gemmEpilogue, writeFusedParams,
} from './kernels/fused.mjs';
import { Lazy } from './lazy.mjs';
import { OPAQUE } from './lazy_opaque.mjs';
import { GRAPH_METHODS, Graphs } from './graph.mjs';
import {
  REDUCE_OPS, SPLIT_SECOND, WG_RED, cumulativeSource, reduceKind, reducePlan, reduceShape, reduceSource, reduceSpecs, rowSpecs,
  softmaxShape, softmaxSource,
} from './kernels/reduce.mjs';
import {
  TM_INT, TN_INT, gemmSource, gemmSpecs, pairPlan, pickProfile, planGemm, splitKPlan, splitKSlices, splitKSumSource, splitKSumSpecs,
} from './kernels/matmul.mjs';
import { MATMUL_TABLE } from './kernels/matmul_table.mjs';
import { takeSource, takeSpecs, takeSpecsIndexed } from './kernels/index.mjs';
import { INDEX_METHODS } from './indexing.mjs';
import {
  col2imSource, col2imSpecs, im2colSource, im2colSpecs, poolBackwardSource, poolBackwardSpecs, poolSource, poolSpecs,
} from './kernels/nn.mjs';
import {
  WG_SORT, cumextSource, cumextSpecs, lcseSource, lcseSpecs, modeSource, searchSource, searchSpecs, sortInitSource,
  sortInitSpecs, sortOutSource, sortOutSpecs, sortStepSource,
} from './kernels/sort.mjs';
import { LINALG_OPS, WG_LINALG, linalgSource } from './kernels/linalg.mjs';
import { int64Words } from './kernels/int64.mjs';
import { checkAttention, runAttention } from './kernels/attention.mjs';
import { runQuantMatmul } from './kernels/quant_matmul.mjs';
import { ARGS, FAMILY } from './abi.mjs';

export { FAMILY };
const FAMILY_NAME = Object.fromEntries(Object.entries(FAMILY).map(([k, v]) => [v, k]));
const serials = new WeakMap();   // an object -> a number of its own (plan keys: lazy_plans.mjs)
let lastSerial = 0;
const serialOf = (o) => { if (!serials.has(o)) serials.set(o, ++lastSerial); return serials.get(o); };
export const OPS = {
  unary: Object.keys(UNARY_OPS), binary: Object.keys(BINARY_OPS), reduce: Object.keys(REDUCE_OPS), linalg: LINALG_OPS,
};
class UnsupportedError extends Error { constructor(m) { super(m); this.code = 1; } }

export class Bridge {
  constructor(ctx) {
    this.ctx = ctx;
    this.device = ctx.device;
    this.buffers = new Buffers(ctx.device);
    this.disp = new Dispatcher(ctx.device, this.buffers);
    this.errId = this.buffers.alloc(16);
    this.buffers.upload(this.errId, new Uint8Array(16));
    this.indexUsed = false;
    this.lastError = '';
    this.gemmForce = null;                // a GEMM_VARIANTS name to use for every float matmul (benchmarks)
    this.splitKForce = null;              // split K into this many slices wherever it divides; 1: never (tests, benchmarks)
    this.attentionRowsForce = null;       // query rows per attention workgroup (kernels/attention.mjs attentionRows)
    this.matmulProfile = pickProfile(MATMUL_TABLE, ctx.info);   // kernel choice by shape (kernels/matmul_table.mjs)
    this.mod = null;
    this.argPtr = 0;
    this.argBytes = 0;
    this.heap = null;
    this.checked = new Map();             // elementwise `family:op` -> the operand dtype codes found valid (packed)
    this.lazy = new Lazy({
      runFused: (g) => this._runFused(g),
      runEager: (a) => (a.run ? a.run() : this._ew(a.fam, a.op, a.operands, a.shape, a.strides, this._extra(a))),
      runReduce: (item) => this._runReduce(item),
      pairPlan: (g1, g2) => this._pairPlan(g1, g2),
      releaseNow: (id) => this.buffers.release(id, this.disp.open),
      bindSlots: (ids, bufs, slotOf) => this.buffers.bindSlots(ids, bufs, slotOf),
      // a product pair's kernel is chosen while planning (pairGemm): by these, which tests and benchmarks change
      planContext: () => `${this.gemmForce}|${this.splitKForce}|${serialOf(this.matmulProfile)}`,
      maxBindings: Math.min(ctx.limits.maxStorageBuffersPerShaderStage ?? 8, 16),
    });
    this.lazy.on = globalThis.process?.env?.TORCH_JS_WEBGPU_LAZY !== '0';
    this.graphs = new Graphs(this);       // capture and replay (graph.mjs)
    this.queuePtr = 0;
    this.queueEntries = 0;
    this.queue = null;
    // every call from outside applies Python's queued allocations and releases first (run does it itself)
    for (const name of Object.getOwnPropertyNames(Bridge.prototype)) {
      const f = this[name];
      if (name === 'constructor' || name === 'run' || name.startsWith('_') || typeof f !== 'function') continue;
      this[name] = (...args) => {
        if (this.queue) this._drain();
        if (this.heldOffsets) this._runHeldOffsets();
        return f.apply(this, args);
      };
    }
  }

  // ---- setup ------------------------------------------------------------------------------------------
  attach(mod) { this.mod = mod; this.heap = null; }
  setArgBlock(ptr, nbytes) { this.argPtr = ptr; this.argBytes = nbytes; this.heap = null; }
  /** The allocation queue: int32 [count, (id, nbytes) * entries], nbytes -1 for a release (runtime.py). */
  setQueue(ptr, entries) { this.queuePtr = ptr; this.queueEntries = entries; this.heap = null; this._views(); }
  /** Nothing but what every call does first: apply the queue (Python calls it when the queue is full). */
  applyQueue() {}
  opNames() { return JSON.stringify(OPS); }
  info() { return JSON.stringify({ ...this.ctx.info, features: [...this.ctx.features], maxStorageBufferBindingSize: this.ctx.limits.maxStorageBufferBindingSize }); }

  _views() {
    const h = this.mod.HEAPU8;
    if (this.heap !== h.buffer) {
      this.heap = h.buffer;
      this.f64 = new Float64Array(this.heap, this.argPtr, 4);
      this.i32 = new Int32Array(this.heap, this.argPtr + 32, (this.argBytes - 32) >> 2);
      this.queue = this.queuePtr ? new Int32Array(this.heap, this.queuePtr, 1 + 2 * this.queueEntries) : null;
    }
  }

  /** Apply the allocations and releases Python queued since the last call, in order. */
  _drain() {
    this._views();
    const q = this.queue, n = q[0];
    for (let i = 0; i < n; i++) {
      const id = q[1 + 2 * i], nbytes = q[2 + 2 * i];
      if (this.graphs.active && this.graphs.queued(id, nbytes)) continue;   // a graph holds id: release deferred
      if (nbytes >= 0) this.buffers.allocAs(id, nbytes);
      else {
        if (this.heldOffsets?.offs.id === id) this.heldOffsets = null;   // offsets nobody will read: never computed
        if (!this.lazy.release(id)) this.buffers.release(id, this.disp.open);
      }
    }
    q[0] = 0;
  }

  // ---- memory -----------------------------------------------------------------------------------------
  alloc(nbytes) { return this.buffers.alloc(nbytes); }
  release(id) { if (!this.lazy.release(id)) this.buffers.release(id, this.disp.open); }
  /** Copy nbytes at wasm address ptr into (fresh) buffer id. */
  upload(id, ptr, nbytes) {
    if (nbytes) this.uploadBytes(id, this.mod.HEAPU8.subarray(ptr, ptr + nbytes));
  }
  uploadBytes(id, u8) {
    if (this.lazy.refs.has(id)) this.lazy.flush();   // pending work that reads or writes id goes first
    this.lazy.forget(id);
    this.buffers.upload(id, u8);
    this.disp.counts.bytes_uploaded += u8.byteLength;
  }
  emptyCache() { this.lazy.flush(); this.disp.flush(); this.buffers.emptyCache(); this.disp.dropBindGroups(); }
  stats() {
    const st = this.buffers.stats();
    for (const id of this.lazy.dead) { st.allocated -= this.buffers.byId.get(id)?.nbytes ?? 0; st.live--; }   // freed by Python
    return JSON.stringify({ ...st, dispatches: this.disp.dispatches, pipelines: this.disp.pipelines.size });
  }
  /** Dispatch the pending (lazily recorded) work into the open command batch; no submit, no wait. */
  flush() { this.lazy.flush(); }
  /** Start (on) or stop logging the pipeline key of each dispatch; returns the log so far as JSON. */
  logKernels(on) {
    const log = JSON.stringify(this.disp.kernelLog ?? []);
    this.disp.kernelLog = on ? [] : null;
    return log;
  }
  /** Time each kernel on the GPU from now (dispatch.mjs startTiming); false when the adapter has no timestamps. */
  startTiming() { this.lazy.flush(); return this.disp.startTiming(); }
  /** Stop timing: JSON [[pipeline key, dispatches, GPU ns], ...] once the timed work has run. */
  async stopTiming() { this.lazy.flush(); return JSON.stringify(await this.disp.stopTiming()); }
  /** Lazy execution on (true) or off; turning it off flushes. Returns the previous setting. */
  setLazy(on) { const was = this.lazy.on; if (!on) this.lazy.flush(); this.lazy.on = !!on; return was; }
  lazyEnabled() { return this.lazy.on; }
  /** Flush plans kept by signature (lazy_plans.mjs) on (true) or off (the kept ones dropped); returns the previous setting. */
  setPlanCache(on) { const was = this.lazy.plans.on; this.lazy.flush(); if (!on) this.lazy.plans.clear(); this.lazy.plans.on = !!on; return was; }
  /** The work counters (dispatch.mjs newCounts) as JSON; `reset` zeroes them after reading. */
  counts(reset = false) {
    this.disp.counts.buffers_created = this.buffers.created - (this.createdAtReset ?? 0);
    const c = JSON.stringify({ ...this.disp.counts, ...this.lazy.counts });
    if (reset) {
      this.createdAtReset = this.buffers.created;
      this.disp.counts = newCounts();
      for (const k in this.lazy.counts) this.lazy.counts[k] = 0;
    }
    return c;
  }

  /** Bytes [off, off+n) of buffer id, after every recorded command: a new Uint8Array, or with `dst` (an address in
   *  the wasm heap, e.g. a CPU tensor's storage) copied straight there (null returned): one copy of a large
   *  readback instead of three (out of the mapping, into a Python bytes object, into the storage). */
  async read(id, off, n, dst = -1) {
    this.lazy.flush();
    const src = this.buffers.get(id);
    const start = off & ~3, end = (off + n + 3) & ~3, size = end - start;
    const withErr = this.indexUsed;
    const total = size + (withErr ? 16 : 0);
    if (!total) { this.disp.flush(); this._throwPending(); return new Uint8Array(0); }
    const staging = this.buffers.stagingFor(total);
    this.disp.counts.readbacks++;
    this.disp.counts.bytes_read += n;
    if (size) this.disp.copyBuffer(src, start, staging, 0, size);
    if (withErr) this.disp.copyBuffer(this.buffers.get(this.errId), 0, staging, size, 16);
    this.disp.flush();
    this.lazy.plans.synced();
    this.indexUsed = false;
    const t0 = performance.now();
    await staging.mapAsync(GPUMapMode.READ, 0, total);
    this.disp.counts.wait_us += (performance.now() - t0) * 1e3;
    const pending = this.disp.takeErrors();   // a failed submit leaves the staging buffer stale: report that first
    if (pending.length) { staging.unmap(); this.buffers.returnStaging(staging); throw new Error(`torch_js webgpu error: ${pending.join('\n')}`); }
    const mapped = staging.getMappedRange(0, total);
    const bytes = new Uint8Array(mapped, off - start, n);
    let out = null;
    if (dst >= 0) this.mod.HEAPU8.set(bytes, dst);   // (HEAPU8 read now: the heap may have grown while we waited)
    else out = bytes.slice();
    let err = null;
    if (withErr) {
      const e = new Uint32Array(mapped, size, 4);
      if (e[0]) err = [e[1], e[2], e[3]];
    }
    staging.unmap();
    this.buffers.returnStaging(staging);
    if (err) {
      this.buffers.upload(this.errId, new Uint8Array(16));
      const idx = BigInt.asIntN(64, (BigInt(err[1]) << 32n) | BigInt(err[0]));
      throw new Error(`TJS_INDEX_ERROR ${idx} ${err[2]}`);
    }
    this._throwPending();
    return out;
  }

  _throwPending() {
    const e = this.disp.takeErrors();
    if (e.length) throw new Error(`torch_js webgpu error: ${e.join('\n')}`);
  }

  /** Wait for all recorded work; reports bounds errors and validation errors like read(). */
  async synchronize() {
    this.lazy.flush();
    if (this.indexUsed) { await this.read(this.errId, 0, 0); return; }
    this.disp.flush();
    this.lazy.plans.synced();
    this.disp.counts.syncs++;
    const t0 = performance.now();
    await this.device.queue.onSubmittedWorkDone();
    this.disp.counts.wait_us += (performance.now() - t0) * 1e3;
    this._throwPending();
  }

  // ---- kernels ----------------------------------------------------------------------------------------
  run() {
    const t0 = performance.now();
    try {
      this._views();
      if (this.queue && this.queue[0]) this._drain();
      this._run(this.i32, this.f64);
      return 0;
    } catch (e) {
      this.lastError = e.message;
      return e.code ?? 3;
    } finally {
      this.disp.counts.bridge_us += (performance.now() - t0) * 1e3;
    }
  }

  _run(I, F) {
    const fam = I[0];
    if (this.heldOffsets && this._runIndexed(fam, I)) return;
    switch (fam) {
      case FAMILY.COPY: {
        const a = ARGS.COPY(I);
        return this._elementwise('copy', '', [a.out, a.x], a.shape, [a.out_st, a.x_st], F);
      }
      case FAMILY.FILL: {
        const a = ARGS.FILL(I);   // op 0: the value's bits; 1: each element's row-major index (arange)
        if (a.op === 0 && this._fillScalar(a)) return;
        return this._elementwise('fill', a.op === 1 ? 'iota' : '', [a.out], a.shape, [a.out_st], F, [a.bits_lo, a.bits_hi]);
      }
      case FAMILY.UNARY: {
        const a = ARGS.UNARY(I);
        return this._elementwise('unary', OPS.unary[a.op], [a.out, a.x], a.shape, [a.out_st, a.x_st], F);
      }
      case FAMILY.BINARY: {
        const a = ARGS.BINARY(I);
        return this._elementwise('binary', OPS.binary[a.op], [a.out, a.a, a.b], a.shape, [a.out_st, a.a_st, a.b_st], F);
      }
      case FAMILY.WHERE: {
        const a = ARGS.WHERE(I);
        return this._elementwise('where', '', [a.out, a.cond, a.a, a.b], a.shape, [a.out_st, a.cond_st, a.a_st, a.b_st], F);
      }
      case FAMILY.REDUCE: {
        const a = ARGS.REDUCE(I);
        const op = OPS.reduce[a.op];
        if (this.lazy.on && op !== undefined && !a.out2.id && a.x.dt !== DT.int64 && reduceKind(op, a.x.dt, a.out.dt) !== 'l') {
          this._checkDtypes([a.x.dt, a.out.dt]);
          if (!a.shape.slice(0, a.nd - a.nred).includes(0)) this.lazy.recordReduce(a, op);
          return;
        }
        break;
      }
      case FAMILY.ATTENTION: {
        if (!this.lazy.on) break;
        const a = ARGS.ATTENTION(I);
        a.scale = F[0];
        if (checkAttention(this, a)) this.lazy.recordAttention(a);
        return;
      }
      case FAMILY.GEMM: {
        const a = ARGS.GEMM(I);
        if (!this.lazy.on || !isFloat(a.a.dt) || a.out.dt === DT.float64) break;
        this._checkDtypes([a.a.dt, a.b.dt, a.out.dt]);
        if (a.batch > MAX_GROUPS) throw new Error(`matmul batch ${a.batch} > ${MAX_GROUPS}`);
        if (a.batch && a.m && a.n) this.lazy.recordGemm(a);
        return;
      }
    }
    const o = OPAQUE[fam];   // recorded as an opaque node (lazy_opaque.mjs), run at its place in the flush
    if (o) {
      const a = ARGS[FAMILY_NAME[fam]](I), [reads, writes] = o.io(a, this);
      a.p0 = F[0];
      // offsets of one index (flags 1: accumulating, a later index of several): for the take or put that comes
      // next (indexing.mjs _runIndexed)
      if (fam === FAMILY.INDEX_OFFSETS && !(a.flags & 1)) { this.heldOffsets = a; return; }
      o.check?.(a);
      return this._opaque(FAMILY_NAME[fam], reads, writes, o.dts(a), () => o.run(this, a));
    }
    // the rest (integer matmul, linalg, unfused attention, quantized matmul) reads or writes memory now: pending
    // work goes first
    this.lazy.flush();
    this._forgetWritten(fam, I);
    switch (fam) {
      case FAMILY.GEMM: return this._gemm(ARGS.GEMM(I));
      case FAMILY.LINALG: return this._linalg(ARGS.LINALG(I));
      case FAMILY.ATTENTION: { const a = ARGS.ATTENTION(I); return checkAttention(this, a) && runAttention(this, a, F[0]); }
      case FAMILY.QUANT_MATMUL: return runQuantMatmul(this, ARGS.QUANT_MATMUL(I));
      default: throw Object.assign(new Error(`unknown family ${fam}`), { code: 2 });
    }
  }

  /**
   * A fresh one-element tensor filled with a value (a Python scalar's operand, ops/_util.py scalar_tensor) is
   * written now, not recorded: its value is known to the nodes that read it, and a flush's plan (lazy_plans.mjs) is
   * the same whether the scalar was filled in it or came from the cache. Only where no pending node names it. Eager,
   * the queue writes it, into a buffer that has no GPUBuffer yet (Buffers.upload takes none freed in the open batch:
   * no command is overtaken). Captured, its fill kernel runs now, logged: each replay fills it again. True: done.
   */
  _fillScalar(a) {
    const { out } = a, lazy = this.lazy, capturing = this.graphs.capturing;
    if (!lazy.on || out.off !== 0 || lazy.refs.has(out.id)) return false;
    for (const x of a.shape) if (x !== 1) return false;
    const size = ITEMSIZE[out.dt], e = this.buffers.byId.get(out.id);
    if (!e || e.nbytes !== size || (e.buf && !capturing)) return false;
    this._checkDtypes([out.dt]);
    if (capturing) {
      this._ew('fill', '', [out], a.shape, [a.out_st], this._extra({ fam: 'fill', bits: a.bits_lo, bitsHi: a.bits_hi }));
    } else {
      this.buffers.upload(out.id, new Uint8Array(new Uint32Array([a.bits_lo, a.bits_hi]).buffer, 0, size));
      this.disp.counts.bytes_uploaded += size;
    }
    if (out.dt !== DT.int64) lazy.consts.set(out.id, { dt: out.dt, off: 0, bits: a.bits_lo });
    else lazy.forget(out.id);
    return true;
  }

  /**
   * A primitive run by its own kernel (`run`) that reads buffer ids `reads` and writes `writes`, its dtypes `dts`
   * checked now: recorded as an opaque node (lazy.mjs recordOpaque) or, lazy execution off, run now. A write of the
   * bounds-error flag is an effect: the node always runs.
   */
  _opaque(op, reads, writes, dts, run) {
    this._checkDtypes(dts);
    if (this.lazy.on) return this.lazy.recordOpaque(op, reads, writes, writes.includes(this.errId), run);
    for (const id of [...reads, ...writes]) this.lazy.forget(id);
    run();
  }

  /** A primitive that is not elementwise may write any buffer it names: no scalar value is known for them now. */
  _forgetWritten(fam, I) {
    const a = ARGS[FAMILY_NAME[fam]]?.(I);
    if (!a) return;
    for (const v of Object.values(a)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && v.id) this.lazy.forget(v.id);
    }
    if (fam === FAMILY.LINALG) for (const id of a.ids) this.lazy.forget(id);
  }

  /** Pipeline for `base` + the alias pattern of `ids`; on a miss, specs() -> declare -> src(code, varOf). */
  _pipe(base, ids, specs, src) {
    const key = base + '|' + aliasOf(ids);
    return this.disp.pipeline(key, () => {
      const dec = declare(specs(), aliasOf(ids));
      return { code: src(dec.code, dec.varOf), sig: dec.sig, slots: dec.slots };
    });
  }

  _checkDtypes(dts) {
    for (const d of dts) {
      if (d === DT.float64) throw new UnsupportedError('float64');
      if (d < 0 || d > 9) throw new UnsupportedError(`dtype code ${d}`);
    }
  }

  /**
   * An elementwise primitive (copy, fill, unary, binary, where) from the argument block: checked now (so the op
   * that causes an error raises it), then recorded for lazy execution or dispatched. F: the block's four f64
   * (p0..p2, alpha), copied; bits: fill's value bits (lo, hi).
   */
  _elementwise(fam, op, operands, shape, strides, F, bits = null) {
    if (op === undefined) throw Object.assign(new Error(`unknown ${fam} op`), { code: 2 });
    let n = 1;
    for (const s of shape) n *= s;
    if (n === 0) return;
    // checked once per (family, op, dtypes): the op's name is an interned table string, the dtypes one number
    let dk = 0;
    for (let k = 0; k < operands.length; k++) dk = dk * 64 + operands[k].dt + 1;
    const byOp = this.checked.get(fam) ?? this.checked.set(fam, new Map()).get(fam);
    let valid = byOp.get(op);
    if (!valid?.has(dk)) {
      const dts = operands.map((o) => o.dt);
      this._checkDtypes(dts);
      if (fam === 'unary') unaryExpr(op, dts[1]);
      if (fam === 'binary') binaryExpr(op, dts[1]);
      if (!valid) byOp.set(op, valid = new Set());
      valid.add(dk);
    }
    const a = { fam, op, operands, shape, strides, p: [F[0], F[1], F[2], F[3]], bits: bits ? bits[0] : 0, bitsHi: bits ? bits[1] : 0 };
    if (this.lazy.on) this.lazy.record(a);
    else this._ew(fam, op, operands, shape, strides, this._extra(a));
  }

  /** The family-specific header words of an eager elementwise kernel (elementwise.mjs's layout). */
  _extra(a) {
    const { p } = a;
    if (a.fam === 'fill') return (w, u32) => { u32[w + 13] = a.bits; u32[w + 14] = a.bitsHi; };
    const wide = a.operands[1]?.dt === DT.int64;   // int64 kernels take bounds and alpha as int64 words too
    if (a.fam === 'unary') return (w, u32, f32) => {
      f32[w + 8] = p[0]; f32[w + 9] = p[1]; f32[w + 10] = p[2]; if (wide) u32.set([...int64Words(p[0]), ...int64Words(p[1])], w + 11);
    };
    if (a.fam === 'binary') return (w, u32, f32) => { f32[w + 11] = p[3]; if (wide) u32.set(int64Words(p[3]), w + 12); else u32[w + 12] = Math.trunc(p[3]) | 0; };
    return null;
  }

  /** Dispatch fused groups (lazy.mjs), side by side, as one generated kernel (kernels/fused.mjs). */
  _runFused(segs) {
    const ids = boundOperands(segs).map(({ o }) => o.id);
    const alias = aliasOf(ids);
    const p = this.disp.pipeline(fusedKey(segs, alias), () => fusedSource(segs, declare(fusedSpecs(segs), alias)));
    const d = this.disp;
    const w = d.slot(p.pslots);
    const n = writeFusedParams(segs, d.u32, d.f32, w);
    const [gx, gy] = grid(Math.ceil(n / WG_FUSED));
    d.u32[w + 2] = gx;
    d.dispatch(p, ids, w, gx, gy);
  }

  /** Elementwise-shaped families: `operands` ({id, dt, off}) over `shape`, one stride list per operand. */
  _ew(fam, op, operands, shape, strides, extra, indexed = false) {
    if (op === undefined) throw Object.assign(new Error(`unknown ${fam} op`), { code: 2 });
    const nops = operands.length;
    const ids = operands.map((o) => o.id), dts = operands.map((o) => o.dt), offs = operands.map((o) => o.off);
    let n = 1;
    for (const s of shape) n *= s;
    if (n === 0) return;
    this._checkDtypes(dts);
    const [cs, cst] = coalesce(shape, strides);
    const d = this.disp;
    if (indexed) ids.push(this.errId);   // (a take reading its index: operand 2, with the error buffer)
    const p = indexed
      ? this._pipe(`take_idx:${dts[0]}:${dts[2]}`, ids, () => takeSpecsIndexed(dts[0], dts[2]), (b, v) => takeSource(dts[0], b, { idd: dts[2], vE: v[3] }))
      : fam === 'take' ? this._pipe(`take:${dts[0]}`, ids, () => takeSpecs(dts[0]), (b) => takeSource(dts[0], b))
      : this._pipe(`${fam}:${op}:${dts.join(',')}`, ids, () => elementwiseSpecs(fam, dts), (b) => elementwiseSource(fam, op, dts, b));
    const w = d.slot();
    const u32 = d.u32;
    const [gx, gy] = grid(Math.ceil(n / WG));
    u32[w] = n; u32[w + 1] = cs.length; u32[w + 2] = gx;
    for (let k = 0; k < nops; k++) u32[w + 3 + k] = offs[k];
    for (let j = 0; j < cs.length; j++) {
      u32[w + ARR(0) + j] = cs[j];
      for (let k = 0; k < nops; k++) u32[w + ARR(k + 1) + j] = cst[k][j];
    }
    if (extra) extra(w, u32, d.f32);
    d.dispatch(p, ids, w, gx, gy);
  }

  /** A reduction with what lazy.mjs fused around it: plain (eager kernel), fused (fusedReduce), or nothing. */
  _runReduce(item) {
    const { red, pro, xw, epi } = item;
    const row = item.row?.nodes.length ? item.row : null;   // a row epilogue (lazy.mjs fitsRow)
    const stored = [pro, epi, row].some((g) => g && g.operands.some((o) => o.store));
    if (!stored) return;
    if (red.fam === 'gemm' || red.fam === 'attention') {
      if (epi.nodes.length > 1) { this.lazy.counts.fused_kernels++; this.lazy.counts.fused_nodes += epi.nodes.length; }
      if (item.red2) this._gemmEpi(item.pairPlan, gemmEpilogue(epi));
      else if (red.fam === 'gemm') this._gemm(red.a, epi.nodes.length > 1 ? gemmEpilogue(epi) : null);
      else runAttention(this, red.a, red.a.scale, epi.nodes.length > 1 ? gemmEpilogue(epi, 10) : null);
      return;
    }
    if (!pro && !row && epi.nodes.length === 1) { this._reduce(red.a); return; }
    this.lazy.counts.fused_kernels++;
    this.lazy.counts.fused_nodes += epi.nodes.length + (pro ? pro.nodes.length : 0) + (row ? row.nodes.length : 0);
    this._reduce(red.a, { f: fusedReduce(red, pro, xw, epi, row), pro: !!pro });
  }

  /**
   * Reduction `a` (decoded REDUCE block). `fused` ({f: fusedReduce, pro}): the prologue replaces x's loads in
   * the (first) pass, the epilogue the result's store in the (last) pass.
   */
  _reduce(a, fused = null) {
    const op = OPS.reduce[a.op];
    if (op === undefined) throw Object.assign(new Error('unknown reduce op'), { code: 2 });
    const { id: oid, dt: odt, off: ooff } = a.out, { id: o2id, dt: o2dt, off: o2off } = a.out2;
    const { id: xid, dt: xdt, off: xoff } = a.x;
    // the workgroup's shape by the data (kernels/reduce.mjs reduceShape); few outputs of many elements: two passes
    const { ks, kst, rs, rst, nout, R, ws } = reducePlan(a, op);
    if (nout === 0) return;
    const withIdx = o2id !== 0;
    this._checkDtypes(withIdx ? [xdt, odt, o2dt] : [xdt, odt]);
    const own = (name, id, dt) => ({ id, spec: { name, dt, write: name === 'O', atomic: name === 'O' && isSubword(dt) } });
    const X = fused && !fused.pro ? [own('X', xid, xdt)] : [];
    if (!ws.parts) {
      this._reduceRun(op, withIdx ? [oid, xid, o2id] : [oid, xid], [xdt, odt, withIdx ? o2dt : -1], ws, nout,
        [xoff, ooff, o2off], R, ks, kst[0], kst[1], rs, rst[0], fused && fused.f.pass(fused.pro, true, X));
      return;
    }
    if (fused?.f.row) throw new Error('reduce: a row epilogue needs a one-pass reduction (lazy.mjs asks reducePlan)');
    const pdt = reduceKind(op, xdt, odt) === 'l' ? DT.int64 : REDUCE_OPS[op].bool || !isFloat(xdt) ? DT.int32 : DT.float32;   // the accumulator's type
    const tid = this.buffers.alloc(nout * ws.parts * (pdt === DT.int64 ? 8 : 4));
    this._reduceRun(op, [tid, xid], [xdt, pdt, -1], ws, nout * ws.parts, [xoff, 0, 0], R, ks, kst[0], ks.map(() => 0), rs, rst[0],
      fused && fused.f.pass(fused.pro, false, [own('O', tid, pdt), ...X]));
    const tst = ks.map((_, j) => ws.parts * ks.slice(j + 1).reduce((x, y) => x * y, 1));   // the partials' kept strides
    const op2 = SPLIT_SECOND[op];
    this._reduceRun(op2, [oid, tid], [pdt, odt, -1], reduceShape(nout, ws.parts), nout, [0, ooff, 0], ws.parts,
      ks, tst, kst[1], [ws.parts], [1], fused && fused.f.pass(false, true, [own('X', tid, pdt)]));
    this.buffers.release(tid, true);
  }

  /**
   * One reduce dispatch: ids out, x[, out2]; dts their dtypes (-1: no out2); offs x, out, out2. `part`: a pass of a
   * fusedReduce (its bindings replace ids).
   */
  _reduceRun(op, ids, [xdt, odt, o2dt], ws, nout, [xoff, ooff, o2off], R, ks, kxst, kost, rs, rxst, part = null) {
    const d = this.disp;
    const key = `reduce:${op}:${xdt},${odt},${o2dt >= 0 ? o2dt : ''}:${ws.layout}${ws.S}${ws.fast ? 'f' : ''}${ws.parts ? 'p' : ''}`;
    let p;
    if (part) {
      ids = part.ids;
      const alias = aliasOf(ids);
      p = d.pipeline(`${key}${part.key}|${alias}`, () => {
        const dec = declare(part.specs, alias);
        return { code: reduceSource(op, xdt, odt, o2dt, dec.code, ws, part.fuse), sig: dec.sig, slots: dec.slots, pslots: part.pslots };
      });
    } else {
      p = this._pipe(key, ids, () => reduceSpecs(op, xdt, odt, o2dt), (b) => reduceSource(op, xdt, odt, o2dt, b, ws));
    }
    const w = d.slot(p.pslots);
    const u32 = d.u32;
    const [gx, gy] = grid(Math.ceil(nout / ws.OX));
    u32[w] = nout; u32[w + 1] = ks.length; u32[w + 2] = gx; u32[w + 3] = xoff; u32[w + 4] = ooff; u32[w + 5] = o2off;
    u32[w + 6] = R; u32[w + 7] = rs.length; u32[w + 8] = ws.parts ?? 0; u32[w + 9] = ws.chunk ?? 0;
    for (let j = 0; j < ks.length; j++) { u32[w + ARR(0) + j] = ks[j]; u32[w + ARR(1) + j] = kxst[j]; u32[w + ARR(2) + j] = kost[j]; }
    for (let j = 0; j < rs.length; j++) { u32[w + ARR(3) + j] = rs[j]; u32[w + ARR(4) + j] = rxst[j]; }
    if (part) part.write(u32, d.f32, w);
    d.dispatch(p, ids, w, gx, gy);
  }

  _softmax(a) {
    const { log, outer, n } = a, { id: oid, dt: odt, off: ooff } = a.out, { id: xid, dt: xdt, off: xoff } = a.x;
    if (!outer || !n) return;
    this._checkDtypes([xdt, odt]);
    const d = this.disp;
    const shape = softmaxShape(n);   // invocations per row fitting the row (kernels/reduce.mjs)
    const p = this._pipe(`softmax:${xdt},${odt}:${shape.S}${shape.cache ? 'c' : ''}`, [oid, xid], () => rowSpecs(xdt, odt), (b) => softmaxSource(xdt, odt, b, shape));
    const w = d.slot();
    const [gx, gy] = grid(Math.ceil(outer / shape.OX));
    d.u32.set([outer, n, gx, xoff, ooff, log], w);
    d.dispatch(p, [oid, xid], w, gx, gy);
  }

  _cumul(a) {
    const { op, outer, n, inner } = a, { id: oid, dt: odt, off: ooff } = a.out, { id: xid, dt: xdt, off: xoff } = a.x;
    const m = outer * inner;
    if (!m || !n) return;
    this._checkDtypes([xdt, odt]);
    const d = this.disp;
    const name = op === 0 ? 'sum' : 'prod';
    const p = this._pipe(`cumul:${name}:${xdt},${odt}`, [oid, xid], () => rowSpecs(xdt, odt), (b) => cumulativeSource(name, xdt, odt, b));
    const w = d.slot();
    const [gx, gy] = grid(Math.ceil(m / WG_RED));
    d.u32.set([m, n, gx, xoff, ooff, inner], w);
    d.dispatch(p, [oid, xid], w, gx, gy);
  }

  /** Matmul `g` (decoded GEMM block); `epi`: a gemmEpilogue storing its product instead of the kernel's st_O. */
  _gemm(g, epi = null) {
    const { batch, m, n, k } = g, { id: oid, dt: odt, off: ooff } = g.out;
    const { id: aid, dt: adt, off: aoff } = g.a, { id: bid, dt: bdt, off: boff } = g.b;
    if (!batch || !m || !n) return;
    this._checkDtypes([adt, bdt, odt]);
    if (batch > MAX_GROUPS) throw new Error(`matmul batch ${batch} > ${MAX_GROUPS}`);
    const d = this.disp;
    if (!isFloat(adt)) {
      const w = d.slot();
      d.u32.set([m, n, k, batch, aoff, boff, ooff, ...g.a_st, ...g.b_st], w);
      const p = this._pipe(`gemm:${adt},${odt}`, [oid, aid, bid], () => gemmSpecs(adt, odt, false, false), (b) => gemmSource(adt, odt, false, false, b));
      d.dispatch(p, [oid, aid, bid], w, Math.ceil(n / TN_INT), Math.ceil(m / TM_INT), batch);
      return;
    }
    // the kernel by shape (kernels/matmul.mjs planGemm, thresholds from kernels/matmul_table.mjs)
    const plan = planGemm(g, this.matmulProfile, this.gemmForce);
    const split = splitKPlan(plan, g, this.matmulProfile, this.splitKForce);
    if (split) return this._gemmSplitK(g, plan, split, epi);
    if (!epi) {
      const p = this._pipe(plan.key, plan.ids, plan.specs, plan.src);
      const w = d.slot();
      d.u32.set(plan.words, w);
      d.dispatch(p, plan.ids, w, ...plan.grid);
      return;
    }
    this._gemmEpi(plan, epi);
  }

  /** Two products of one A in one kernel (kernels/matmul.mjs pairPlan), or null where they do not run so. */
  _pairPlan(g1, g2) {
    const plan = pairPlan(g1, g2, this.matmulProfile, this.gemmForce);
    return plan && !splitKPlan(plan.one, g1, this.matmulProfile, this.splitKForce) ? plan : null;
  }

  /** A matmul plan's kernel with epilogue `epi` (a gemmEpilogue) storing its products. */
  _gemmEpi(plan, epi) {
    const d = this.disp;
    const ids = [...plan.ids.slice(1), ...epi.ids];   // the output is the epilogue's to store
    const alias = aliasOf(ids);
    const p = d.pipeline(`${plan.key}${epi.key}|${alias}`, () => {
      const dec = declare([...plan.specs().slice(1), ...epi.specs], alias);
      return { code: epi.wrap(plan.src(dec.code)), sig: dec.sig, slots: dec.slots, pslots: epi.pslots };
    });
    const w = d.slot(p.pslots);
    d.u32.set(plan.words, w);
    epi.write(d.u32, d.f32, w);
    d.dispatch(p, ids, w, ...plan.grid);
  }

  /** A product as K slices into a scratch buffer, then their sum (with the epilogue): kernels/matmul.mjs splitKPlan. */
  _gemmSplitK(g, plan, split, epi) {
    const d = this.disp, mn = g.m * g.n;
    const tid = this.buffers.alloc(split.splits * mn * 4);
    const part = planGemm(splitKSlices(g, split, tid), this.matmulProfile, plan.cfg.name);
    const pp = this._pipe(part.key, part.ids, part.specs, part.src);
    let w = d.slot();
    d.u32.set(part.words, w);
    d.dispatch(pp, part.ids, w, ...part.grid);
    const odt = g.out.dt;
    const ids = epi ? [tid, ...epi.ids] : [g.out.id, tid];
    const alias = aliasOf(ids);
    const p = d.pipeline(`splitk_sum:${odt}${epi ? epi.key : ''}|${alias}`, () => {
      const specs = epi ? [...splitKSumSpecs(odt).slice(1), ...epi.specs] : splitKSumSpecs(odt);
      const dec = declare(specs, alias);
      const code = splitKSumSource(dec.code);
      return { code: epi ? epi.wrap(code) : code, sig: dec.sig, slots: dec.slots, pslots: epi ? epi.pslots : 1 };
    });
    const [gx, gy] = grid(Math.ceil(mn / 256));
    w = d.slot(p.pslots);
    d.u32[w] = mn; d.u32[w + 1] = split.splits; d.u32[w + 2] = gx; d.u32[w + 6] = g.out.off;
    if (epi) epi.write(d.u32, d.f32, w);
    d.dispatch(p, ids, w, gx, gy);
    this.buffers.release(tid, true);
  }
}

Object.assign(Bridge.prototype, GRAPH_METHODS);   // graphBegin, graphEnd, graphReplay, graphReset
Object.assign(Bridge.prototype, INDEX_METHODS);   // _runIndexed, _indexOffsets, _put

Bridge.prototype._im2col = function (a, fwd) {
  const { N, C, D, H, W, geom } = a;
  const { id: oid, dt: odt, off: ooff } = a.out, { id: sid, dt: sdt, off: soff } = fwd ? a.x : a.cols;
  // geom: KD KH KW SD SH SW PD PH PW DD DH DW OD OH OW
  const n = fwd ? N * C * geom[0] * geom[1] * geom[2] * geom[12] * geom[13] * geom[14] : N * C * D * H * W;
  if (!n) return;
  this._checkDtypes([odt, sdt]);
  const p = fwd
    ? this._pipe(`im2col:${odt}`, [oid, sid], () => im2colSpecs(odt), (b) => im2colSource(odt, b))
    : this._pipe(`col2im:${odt}`, [oid, sid], () => col2imSpecs(odt), (b) => col2imSource(odt, b));
  this._launch(p, [oid, sid], n, WG, [N, C, D, H, W, ...geom, soff, ooff,
    ...(fwd ? [...a.x_st, ...a.out_st] : a.cols_st)]);
};

Bridge.prototype._pool = function (a, fwd) {
  const { mode, adaptive, planes, D, H, W, OD, OH, OW } = a;
  const { id: yid, dt: ydt, off: yoff } = fwd ? a.out : a.grad_in, { id: xid, dt: xdt, off: xoff } = fwd ? a.x : a.grad_out;
  const { id: iid, off: ioff } = a.idx;
  const n = planes * OD * OH * OW;
  if (!n) return;
  this._checkDtypes([ydt, xdt]);
  const withIdx = iid !== 0;
  const ids = withIdx ? [yid, xid, iid] : [yid, xid];
  let p;
  if (fwd) p = this._pipe(`pool:${ydt}:${+withIdx}`, ids, () => poolSpecs(ydt, withIdx), (b) => poolSource(ydt, withIdx, b));
  else {   // (float32 only: lazy_opaque.mjs checks it)
    p = this._pipe(`pool_bwd:${+withIdx}`, ids, () => poolBackwardSpecs(ydt, withIdx), (b, v) => poolBackwardSource(withIdx, b, v[0]));
  }
  // header: x / grad_in offset at 25, out / grad_out at 26 (see kernels/nn.mjs)
  this._launch(p, ids, n, WG, [mode, adaptive, D, H, W, OD, OH, OW, ...a.geom, a.count_include_pad,
    a.divisor_override, fwd ? xoff : yoff, fwd ? yoff : xoff, ioff]);
};

/** Record one dispatch of `p` over `count` invocations of `wg`-wide workgroups; header words 3.. = `words`. */
Bridge.prototype._launch = function (p, ids, count, wg, words) {
  const d = this.disp;
  const w = d.slot();
  const [gx, gy] = grid(Math.ceil(count / wg));
  d.u32[w] = count; d.u32[w + 2] = gx;
  d.u32.set(words, w + 3);
  d.dispatch(p, ids, w, gx, gy);
};

Bridge.prototype._sort = function (a) {
  const { op, outer, n, descending: desc, k } = a;
  const { id: vid, dt: vdt, off: voff } = a.values, { id: iid, off: ioff } = a.indices, { id: xid, dt: xdt, off: xoff } = a.x;
  if (!outer || !n || op > 4) return;
  this._checkDtypes([xdt, vdt]);
  let P = 1;
  while (P < n) P *= 2;
  const sid = this.buffers.alloc(outer * P * 12);     // (key hi, key lo, index) per entry
  const init = this._pipe(`sort_init:${xdt}`, [sid, xid], () => sortInitSpecs(xdt), (b, v) => sortInitSource(xdt, b, v));
  this._launch(init, [sid, xid], outer * P, WG_SORT, [P, n, op === 4 ? 0 : desc, xoff]);
  const step = this.disp.pipeline('sort_step', () => ({ code: sortStepSource(), sig: 'w', slots: [0] }));
  for (let kk = 2; kk <= P; kk <<= 1) {
    for (let j = kk >> 1; j > 0; j >>= 1) this._launch(step, [sid], outer * P / 2, WG_SORT, [P, kk, j]);
  }
  const ids = [vid, iid, xid, sid];
  const kout = op <= 1 ? n : op === 2 ? k : 1;
  if (op === 4) {
    const p = this._pipe(`sort_mode:${xdt}`, ids, () => sortOutSpecs(xdt), (b, v) => modeSource(xdt, b, v));
    this._launch(p, ids, outer, WG_SORT, [P, n, 0, 0, xoff, voff, ioff]);
  } else if (kout) {
    const p = this._pipe(`sort_out:${xdt}`, ids, () => sortOutSpecs(xdt), (b, v) => sortOutSource(xdt, b, v));
    this._launch(p, ids, outer * kout, WG_SORT, [P, n, kout, op === 3 ? k - 1 : 0xffffffff, xoff, voff, ioff]);
  }
  this.buffers.release(sid, true);
};

Bridge.prototype._cumext = function (a) {
  const { op, outer, n, inner } = a;
  const { id: vid, dt: vdt, off: voff } = a.values, { id: iid, off: ioff } = a.indices, { id: xid, dt: xdt, off: xoff } = a.x;
  if (!outer || !n || !inner) return;
  this._checkDtypes([xdt, vdt]);
  const ids = [vid, iid, xid];
  const p = this._pipe(`cumext:${xdt}`, ids, () => cumextSpecs(xdt), (b) => cumextSource(xdt, b));
  this._launch(p, ids, outer * inner, WG_SORT, [n, inner, xoff, voff, ioff, op]);
};

Bridge.prototype._logcumsumexp = function (a) {
  const { outer, n, inner } = a, { id: oid, dt: odt, off: ooff } = a.out, { id: xid, dt: xdt, off: xoff } = a.x;
  if (!outer || !n || !inner) return;
  this._checkDtypes([xdt, odt]);   // (and out's dtype x's: lazy_opaque.mjs checks it)
  const p = this._pipe(`lcse:${xdt}`, [oid, xid], () => lcseSpecs(xdt), (b) => lcseSource(xdt, b));
  this._launch(p, [oid, xid], outer * inner, WG_SORT, [n, inner, xoff, ooff]);
};

Bridge.prototype._searchsorted = function (a) {
  const { rows, nb, nv, right, bnd_stride: bstride } = a, { id: oid, off: ooff } = a.out;
  const { id: bid, dt: bdt, off: boff } = a.boundaries, { id: vid, dt: vdt, off: voff } = a.values;
  if (!rows || !nv) return;
  this._checkDtypes([bdt, vdt]);   // (float32 or int64 keys of one dtype: lazy_opaque.mjs checks it)
  const ids = [oid, bid, vid];
  const p = this._pipe(`searchsorted:${bdt}`, ids, () => searchSpecs(bdt), (b) => searchSource(bdt, b));
  this._launch(p, ids, rows * nv, WG_SORT, [nv, nb, bstride, right, boff, voff, ooff]);
};

Bridge.prototype._linalg = function (a) {
  const op = LINALG_OPS[a.op];
  if (op === undefined) throw Object.assign(new Error('unknown linalg op'), { code: 2 });
  const { count, ids } = a;
  if (!count) return;
  const p = this.disp.pipeline(`linalg:${op}`, () => ({ ...linalgSource(op), slots: ids.map((_, k) => k) }));
  this._launch(p, ids, count, WG_LINALG, a.words);
};

/** Create the device and the bridge. */
export async function createBridge(opts = {}) {
  const ctx = await createDevice(opts);
  return new Bridge(ctx);
}

/**
 * Make WebGPU available to torch_js: sets globalThis.torchJsWebGPUInit, which torch_js.webgpu.init() awaits
 * (lazily, so no adapter is requested until Python asks). With `eager`, creates the bridge now.
 */
export async function installWebGPU(opts = {}) {
  let pending = null;
  globalThis.torchJsWebGPUInit = () => {
    if (!pending) pending = createBridge(opts).then((b) => (globalThis.torchJsWebGPU = b));
    return pending;
  };
  if (opts.eager) await globalThis.torchJsWebGPUInit();
  return globalThis.torchJsWebGPUInit;
}
