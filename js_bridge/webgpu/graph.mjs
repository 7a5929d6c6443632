// CUDA-graph-style capture and replay of the bridge's work (torch_js.webgpu.Graph / torch_js.webgpu.graph, in
// pytorchjs_py/torch_js/_webgpu_graph.py). While a graph captures, the bridge works as usual (pipelines compiled,
// bind groups made) except that no kernel runs (dispatch.mjs recordOnly), as CUDA capture runs nothing; it logs,
// in order, every queue entry it applies (Python's buffer allocations and releases, index.mjs _drain) and a copy of
// every argument block that run() executed (the words its family uses and the four f64). replay() applies the log
// again in one call, then flushes: no Python runs, the kernels come from the pipeline and bind-group caches.
//
// Buffers, as a CUDA graph's private pool: ids that exist at replay keep their buffers (an allocation entry for a
// live id is skipped), so the tensors created during capture are the static outputs that every replay overwrites;
// ids allocated and released within the capture (intermediates) are allocated and released again, from the pool.
// The graph holds until reset() every id it needs at replay: those allocated during capture and not released in
// it (outputs, new grads, saved tensors), and those from before capture that a logged block names (inputs,
// parameters). Python releasing a held id is deferred (an orphan) until the last graph holding it is reset.
import { ARGS, FAMILY } from './abi.mjs';

const FAMILY_NAME = Object.fromEntries(Object.entries(FAMILY).map(([k, v]) => [v, k]));

/** The int32 words block I uses (decoders list every field in layout order) and the buffer ids it names. */
function scan(I) {
  const a = ARGS[FAMILY_NAME[I[0]]]?.(I);
  if (!a) throw new Error(`torch_js webgpu graph: unknown family ${I[0]}`);
  let n = 2;   // family, op
  const ids = I[0] === FAMILY.LINALG ? [...a.ids] : [];
  for (const [k, v] of Object.entries(a)) {
    if (k === 'op') continue;
    if (Array.isArray(v)) n += v.length;
    else if (v && typeof v === 'object') { n += 3; if (v.id) ids.push(v.id); }
    else n += 1;
  }
  return { n, ids };
}

class Graph {
  constructor() {
    this.log = [];                // {id, nbytes} queue entries and {I, F} argument blocks, in order
    this.allocated = new Set();   // ids allocated during capture
    this.released = new Set();    // ids released during capture
    this.named = new Set();       // ids from before capture that a logged block names
    this.held = new Set();        // ids this graph keeps alive until reset
    this.captured = false;
    this.runs = 0;
  }
}

export class Graphs {
  constructor(bridge) {
    this.bridge = bridge;
    this.byHandle = new Map();
    this.nextHandle = 1;
    this.capturing = null;        // the Graph being captured
    this.holds = new Map();       // id -> how many graphs hold it
    this.orphans = new Set();     // held ids that Python has released
  }

  /** Whether _drain must show its entries to queued(). */
  get active() { return this.capturing !== null || this.holds.size > 0; }

  /** A queue entry being applied: logged while capturing; true when it is a release the graphs defer. */
  queued(id, nbytes) {
    const g = this.capturing;
    if (g) {
      g.log.push({ id, nbytes });
      if (nbytes >= 0) g.allocated.add(id);
      else if (g.allocated.has(id)) g.released.add(id);
      else this._hold(g, id);   // from before capture: a logged block may read it at replay
    }
    if (nbytes < 0 && this.holds.has(id)) { this.orphans.add(id); return true; }
    return false;
  }

  /** run() executed block I (int32 words) with F (four f64): log a copy while capturing. */
  ran(I, F) {
    const g = this.capturing, { n, ids } = scan(I);
    g.log.push({ I: I.slice(0, n), F: F.slice() });
    g.runs++;
    for (const id of ids) if (!g.allocated.has(id)) g.named.add(id);
  }

  begin() {
    if (this.capturing) throw new Error('torch_js webgpu: a graph is already being captured');
    this.bridge.lazy.flush();   // work recorded before capture is not part of the graph
    const h = this.nextHandle++;
    this.byHandle.set(h, this.capturing = new Graph());
    this.bridge.disp.recordOnly = true;
    return h;
  }

  end(h) {
    const g = this._get(h);
    if (g !== this.capturing) throw new Error('torch_js webgpu: capture_end() without capture_begin()');
    this.bridge.lazy.flush();
    this.capturing = null;
    this.bridge.disp.recordOnly = false;
    for (const id of g.allocated) if (!g.released.has(id)) this._hold(g, id);
    for (const id of g.named) this._hold(g, id);
    for (const id of [...g.held]) {   // released during capture, from before it, and named by no block: free now
      if (!g.allocated.has(id) && !g.named.has(id)) this._unhold(g, id);
    }
    g.captured = true;
    return g.runs;
  }

  replay(h) {
    const g = this._get(h), b = this.bridge;
    if (!g.captured) throw new Error('torch_js webgpu: replay() without a preceding successful capture');
    if (this.capturing) throw new Error('torch_js webgpu: replay() is not permitted while a graph is being captured');
    const t0 = performance.now();
    b.lazy.flush();
    for (const e of g.log) {
      if (e.I) b._run(e.I, e.F);
      else if (e.nbytes >= 0) { if (!b.buffers.byId.has(e.id)) b.buffers.allocAs(e.id, e.nbytes); }
      else if (!this.holds.has(e.id)) this._release(e.id);
    }
    b.lazy.flush();
    b.disp.counts.bridge_us += (performance.now() - t0) * 1e3;
  }

  /** Drop the graph (a capture in progress is abandoned): its held buffers go back unless Python still owns them. */
  reset(h) {
    const g = this.byHandle.get(h);
    if (!g) return;
    if (g === this.capturing) { this.bridge.lazy.flush(); this.capturing = null; this.bridge.disp.recordOnly = false; }
    for (const id of [...g.held]) this._unhold(g, id);
    this.byHandle.delete(h);
  }

  _get(h) {
    const g = this.byHandle.get(h);
    if (!g) throw new Error(`torch_js webgpu: no graph ${h} (reset?)`);
    return g;
  }

  _hold(g, id) {
    if (g.held.has(id)) return;
    g.held.add(id);
    this.holds.set(id, (this.holds.get(id) ?? 0) + 1);
  }

  _unhold(g, id) {
    g.held.delete(id);
    const n = this.holds.get(id) - 1;
    if (n > 0) { this.holds.set(id, n); return; }
    this.holds.delete(id);
    if (this.orphans.delete(id)) this._release(id);
  }

  _release(id) {
    const b = this.bridge;
    if (!b.lazy.release(id)) b.buffers.release(id, b.disp.open);
  }
}

/** The bridge's public graph methods (Object.assign'ed to Bridge.prototype; handles are small integers). */
export const GRAPH_METHODS = {
  graphBegin() { return this.graphs.begin(); },
  graphEnd(h) { return this.graphs.end(h); },
  graphReplay(h) { this.graphs.replay(h); },
  graphReset(h) { this.graphs.reset(h); },
};
