// CUDA-graph-style capture and replay of the bridge's work (torch_js.webgpu.Graph / torch_js.webgpu.graph, in
// pytorchjs_py/torch_js/_webgpu_graph.py). While a graph captures, the bridge works as usual (primitives decoded,
// elementwise work fused by lazy.mjs, pipelines compiled, bind groups made) except that no kernel runs
// (dispatch.mjs recordOnly), as CUDA capture runs nothing; the graph logs, in order, every dispatch (its pipeline,
// buffer ids, params words and grid) and every buffer allocation and release (Python's, through index.mjs _drain,
// and the bridge's own scratch buffers). replay() applies the log again in one call: no Python, no decoding, no
// fusion planning; each kernel comes from the pipeline cache and, its buffers being those of the last replay,
// its bind group from the bind-group cache.
//
// Buffers, as a CUDA graph's private pool: ids that exist at replay keep their buffers (an allocation entry for a
// live id is skipped), so the tensors created during capture are the static outputs that every replay overwrites;
// ids allocated and released within the capture (intermediates, scratch) are allocated and released again, from
// the pool. The graph holds until reset() every id it needs at replay: those allocated during capture and not
// released in it (outputs, new grads, saved tensors), and those from before capture that a dispatch uses (inputs,
// parameters). Python releasing a held id is deferred (an orphan) until the last graph holding it is reset.
import { PARAM_SLOT_BYTES } from './kernels/common.mjs';

const SLOT_WORDS = PARAM_SLOT_BYTES / 4;

class Graph {
  constructor() {
    this.log = [];                // {alloc: id, nbytes}, {release: id} and {p, ids, words, grid} dispatches, in order
    this.allocated = new Set();   // ids allocated during capture
    this.released = new Set();    // of those, the ones released during capture
    this.used = new Set();        // ids from before capture that a dispatch uses
    this.held = new Set();        // ids this graph keeps alive until reset
    this.written = [];            // every id a dispatch writes (lazy.mjs forgets what it knew of their values)
    this.constsBefore = null;     // the scalar values lazy.mjs knew when capture began (set aside meanwhile)
    this.indexChecks = false;     // a dispatch writes the bridge's bounds-error buffer
    this.captured = false;
    this.dispatches = 0;
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

  /** A queue entry about to be applied: true when it is the release of a held id (deferred). */
  queued(id, nbytes) {
    if (nbytes >= 0) return false;
    const g = this.capturing;
    if (g && !g.allocated.has(id)) this._hold(g, id);   // from before capture: a logged dispatch may use it
    if (this.holds.has(id)) { this.orphans.add(id); return true; }
    return false;
  }

  begin() {
    if (this.capturing) throw new Error('torch_js webgpu: a graph is already being captured');
    const b = this.bridge, d = b.disp, bufs = b.buffers;
    b.lazy.flush();   // work recorded before capture is not part of the graph
    const h = this.nextHandle++, g = new Graph();
    // a scalar filled before capture is an input: read at replay, never baked in as a value (known again after)
    g.constsBefore = new Map(b.lazy.consts);
    b.lazy.consts.clear();
    this.byHandle.set(h, this.capturing = g);
    d.recordOnly = true;
    // log through instance wrappers (removed by _stopLogging): allocAs also serves alloc, the bridge's own ids
    const { dispatch } = d, { allocAs, release } = bufs;
    d.dispatch = (p, ids, w, gx, gy = 1, gz = 1) => {
      ids = ids.map((id) => bufs.real(id));   // (a planned flush's kernels name virtual ids: lazy_plans.mjs)
      g.log.push({ p, ids, words: d.u32.slice(w, w + d.nextSlots * SLOT_WORDS), grid: [gx, gy, gz] });
      for (const id of ids) if (!g.allocated.has(id)) g.used.add(id);
      return dispatch.call(d, p, ids, w, gx, gy, gz);
    };
    bufs.allocAs = (id, nbytes) => { g.log.push({ alloc: id, nbytes }); g.allocated.add(id); return allocAs.call(bufs, id, nbytes); };
    bufs.release = (id, open) => {
      g.log.push({ release: id });
      if (g.allocated.has(id)) g.released.add(id);
      return release.call(bufs, id, open);
    };
    return h;
  }

  end(h) {
    const g = this._get(h);
    if (g !== this.capturing) throw new Error('torch_js webgpu: capture_end() without capture_begin()');
    this.bridge.lazy.flush();
    this._stopLogging();
    for (const id of g.allocated) if (!g.released.has(id)) this._hold(g, id);
    for (const id of g.used) this._hold(g, id);
    for (const id of [...g.held]) {   // released during capture, from before it, and used by no dispatch: free now
      if (!g.allocated.has(id) && !g.used.has(id)) this._unhold(g, id);
    }
    const written = new Set();
    for (const e of g.log) {
      if (!e.p) continue;
      g.dispatches++;
      const { sig, slots } = e.p;
      for (let j = 0; j < slots.length; j++) if (sig[j] === 'w') written.add(e.ids[slots[j]]);
    }
    g.written = [...written];
    g.indexChecks = written.has(this.bridge.errId);
    g.captured = true;
    this._restoreConsts(g);
    return g.dispatches;
  }

  replay(h) {
    const g = this._get(h), b = this.bridge, d = b.disp, bufs = b.buffers;
    if (!g.captured) throw new Error('torch_js webgpu: replay() without a preceding successful capture');
    if (this.capturing) throw new Error('torch_js webgpu: replay() is not permitted while a graph is being captured');
    const t0 = performance.now();
    b.lazy.flush();   // pending work (the copies into the static inputs) goes first
    if (b.lazy.consts.size) for (const id of g.written) b.lazy.forget(id);
    for (const e of g.log) {
      if (e.p) {
        const w = d.slot(e.words.length / SLOT_WORDS, false);
        d.u32.set(e.words, w);
        d.dispatch(e.p, e.ids, w, e.grid[0], e.grid[1], e.grid[2], e);   // (e keeps its bind group)
      } else if (e.alloc !== undefined) {
        if (!bufs.byId.has(e.alloc)) bufs.allocAs(e.alloc, e.nbytes);
      } else if (!this.holds.has(e.release)) bufs.release(e.release, d.open);
    }
    if (g.indexChecks) b.indexUsed = true;
    d.counts.bridge_us += (performance.now() - t0) * 1e3;
  }

  /** Drop the graph (a capture in progress is abandoned): its held buffers go back unless Python still owns them. */
  reset(h) {
    const g = this.byHandle.get(h);
    if (!g) return;
    if (g === this.capturing) { this.bridge.lazy.flush(); this._stopLogging(); this._restoreConsts(g); }
    for (const id of [...g.held]) this._unhold(g, id);
    this.byHandle.delete(h);
  }

  /** After capture: the values known before it hold again for the buffers that exist, no kernel of it wrote and no
   *  fill of it gave a value (an ended capture's `written`; an abandoned one's log). */
  _restoreConsts(g) {
    const { consts } = this.bridge.lazy, bufs = this.bridge.buffers;
    const written = new Set(g.written);
    if (!g.captured) for (const e of g.log) if (e.p) for (const id of e.ids) written.add(id);
    for (const [id, c] of g.constsBefore) if (bufs.byId.has(id) && !written.has(id) && !consts.has(id)) consts.set(id, c);
    g.constsBefore = null;
  }

  _stopLogging() {
    const b = this.bridge;
    delete b.disp.dispatch;
    delete b.buffers.allocAs;
    delete b.buffers.release;
    b.disp.recordOnly = false;
    this.capturing = null;
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
