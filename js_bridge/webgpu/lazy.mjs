// Lazy execution: the layer between the bridge's primitives and the GPU (docs: architecture.md, "execution
// layer"). Elementwise primitives (copy, fill, unary, binary, where) are checked when Python calls them (so an
// error is raised by the op that causes it) and then recorded here instead of dispatched. Any other primitive, a
// readback, synchronize() or MAX_PENDING recorded nodes flush the record: it is cut into groups, each group runs
// as one generated kernel (kernels/fused.mjs), and dispatched in order into the open command batch. A submit
// still happens only where the dispatcher submits (a readback, a full batch).
//
// Grouping (greedy, in program order; groups run in the order they were opened): a node joins a group when
// every dependency allows it to run there (see schedule) and it has the group's element count and no hazard:
// it reads a buffer that a node of the group wrote only through the very view that node wrote (then the value
// is taken from registers), and it writes a buffer only through the view any earlier node of the group read or
// wrote it through (so invocations never touch each other's elements). Nodes that cannot fuse (int64 results,
// int64 conditions) run alone through their eager kernels.
//
// Stores: a value is written to memory only where it is needed: its buffer still has a Python owner (Storage
// not yet collected: Python's refcount reaches the bridge as release(id)), or a later group or kernel reads it
// from memory. A buffer released while pending nodes refer to it is kept until the flush, then freed: an
// intermediate that nobody holds and that stayed in registers never gets a GPUBuffer at all (buffers.mjs).
import { DT, isFloat } from './kernels/common.mjs';
import { MAX_FUSED_WORDS, mapWords, nodeWords } from './kernels/fused.mjs';

export const MAX_PENDING = 1024;       // recorded nodes that force a flush (the size-limit sync point)
const MAX_GROUP_NODES = 64;           // nodes per fused kernel
const SEARCH_GROUPS = 32;             // how far back a node looks for a group to join

/**
 * Canonical form of one operand's view over the row-major walk of `shape`: size-1 dims dropped, dims merged
 * where the pair is contiguous (as the kernels' coalesce); equal maps (same key) read equal elements for every i.
 * cls 'c': element i, 's': one element for all i, 'r': a strided walk.
 */
export function canon(shape, st) {
  const s = [], t = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && t[last] === st[d] * shape[d]) { s[last] *= shape[d]; t[last] = st[d]; continue; }
    s.push(shape[d]);
    t.push(st[d]);
  }
  if (s.length === 0 || (s.length === 1 && t[0] === 1)) return { cls: 'c', key: 'c' };
  if (s.length === 1 && t[0] === 0) return { cls: 's', key: 's' };
  return { cls: 'r', shape: s, st: t, key: s.join(',') + ';' + t.join(',') };
}

const same = (a, b) => a.off === b.off && a.dt === b.dt && a.m.key === b.m.key;

/** Whether a node can be part of a fused kernel (int64 values are exact only in the eager kernels). */
function fusable(fam, dts) {
  if (dts[0] === DT.int64) return false;
  if (fam === 'where' && dts[1] === DT.int64) return false;
  if (fam === 'copy' && dts[1] === DT.int64 && dts[0] === DT.bool) return false;
  return true;
}

export class Lazy {
  /** `run(group)` dispatches a fused program; `runEager(node)` one node through its eager kernel. */
  constructor({ runFused, runEager, releaseNow, maxBindings }) {
    this.runFused = runFused;
    this.runEager = runEager;
    this.releaseNow = releaseNow;
    this.maxBindings = maxBindings;
    this.on = true;
    this.nodes = [];
    this.refs = new Set();              // buffer ids the pending nodes read or write
    this.dead = new Set();              // of those, the ones Python released meanwhile
    this.flushing = false;
    this.counts = { recorded: 0, fused_kernels: 0, fused_nodes: 0, stores_skipped: 0 };
  }

  /** Record one elementwise primitive (already checked); `a` = {fam, op, operands, shape, strides, p, bits}. */
  record(a) {
    const n = a.shape.reduce((x, y) => x * y, 1);
    const dts = a.operands.map((o) => o.dt);
    const views = a.operands.map((o, k) => ({ id: o.id, dt: o.dt, off: o.off, m: canon(a.shape, a.strides[k]) }));
    for (const v of views) this.refs.add(v.id);
    const out = views[0];
    // a write through a broadcast (stride-0) view is not a plain elementwise map: run it alone
    const ok = fusable(a.fam, dts) && !(out.m.cls === 's' && n > 1) && !(out.m.cls === 'r' && out.m.st.includes(0));
    this.nodes.push({ ...a, n, dts, out, ins: views.slice(1), fusable: ok });
    this.counts.recorded++;
    if (this.nodes.length >= MAX_PENDING) this.flush();
  }

  /** Python released buffer `id`: keep it while pending nodes use it. Returns true when deferred. */
  release(id) {
    if (!this.refs.has(id)) return false;
    this.dead.add(id);
    return true;
  }

  /** Run every pending node (fused where possible) into the open command batch. */
  flush() {
    if (!this.nodes.length || this.flushing) return;
    this.flushing = true;
    const nodes = this.nodes;
    this.nodes = [];
    try {
      const groups = this.schedule(nodes);
      this.markStores(groups);
      for (const g of groups) {
        if (g.single) this.runEager(g.single);
        else if (g.nodes.length === 1) { if (g.operands.some((o) => o.store)) this.runEager(g.nodes[0]); else this.counts.stores_skipped++; }
        else if (g.operands.some((o) => o.store)) {
          this.counts.fused_kernels++;
          this.counts.fused_nodes += g.nodes.length;
          this.runFused(g);
        }
      }
    } finally {
      this.refs.clear();
      const dead = [...this.dead];
      this.dead.clear();
      this.flushing = false;
      for (const id of dead) this.releaseNow(id);
    }
  }

  /**
   * Cut the nodes into groups, in execution order. A node may join an earlier open group than the last one
   * when nothing after that group touches what it reads or writes (a scalar fill between the ops of a chain,
   * updates of tensors of another size interleaved): `lo` is the first group it may run in (after the last
   * group that writes one of its inputs or its output, or reads its output).
   */
  schedule(nodes) {
    const groups = [];
    const lastW = new Map(), lastR = new Map();
    for (const nd of nodes) {
      let lo = Math.max(lastW.get(nd.out.id) ?? -1, lastR.get(nd.out.id) ?? -1);
      for (const x of nd.ins) lo = Math.max(lo, lastW.get(x.id) ?? -1);
      let gi = -1;
      if (nd.fusable) {
        for (let k = Math.max(lo, 0, groups.length - SEARCH_GROUPS); k < groups.length; k++) {
          if (!groups[k].single && this.fits(groups[k], nd)) { gi = k; break; }
        }
      }
      if (gi < 0) {
        gi = groups.length;
        groups.push(nd.fusable ? { n: nd.n, nodes: [], operands: [], loadAt: new Map(), lastWrite: new Map(),
          loads: new Map(), ids: new Set(), words: 3 } : { single: nd });
      }
      if (nd.fusable) this.add(groups[gi], nd);
      lastW.set(nd.out.id, gi);
      for (const x of nd.ins) lastR.set(x.id, Math.max(lastR.get(x.id) ?? -1, gi));
    }
    return groups;
  }

  /** Can node nd join group g without a hazard, within the binding and params limits? */
  fits(g, nd) {
    if (g.n !== nd.n || g.nodes.length >= MAX_GROUP_NODES) return false;
    let words = g.words + nodeWords(nd.fam) + 1;
    let ids = g.ids.size;
    for (const x of nd.ins) {
      const w = g.lastWrite.get(x.id);
      if (w) { if (!same(w, x)) return false; continue; }
      if (!g.ids.has(x.id)) ids++;
      words += 1 + mapWords(x.m);
    }
    const o = nd.out;
    const read = g.loads.get(o.id);
    if (read && read.some((r) => !same(r, o))) return false;
    const w = g.lastWrite.get(o.id);
    if (w && !same(w, o)) return false;
    if (!g.ids.has(o.id) && !nd.ins.some((x) => x.id === o.id)) ids++;
    words += mapWords(o.m);
    return ids <= this.maxBindings && words <= MAX_FUSED_WORDS;
  }

  add(g, nd) {
    const j = g.nodes.length;
    const refs = nd.ins.map((x) => {
      const w = g.lastWrite.get(x.id);
      if (w) return w.j;
      const mode = nd.fam === 'copy' && x.dt === DT.int64 && isFloat(nd.dts[0]) ? 'ldf' : 'ld';
      const key = `${x.id}:${x.dt}:${x.off}:${x.m.key}:${mode}`;
      let k = g.loadAt.get(key);
      if (k === undefined) {
        k = g.operands.length;
        g.operands.push({ id: x.id, dt: x.dt, off: x.off, m: x.m, mode, store: false });
        g.loadAt.set(key, k);
        g.words += 1 + mapWords(x.m);
        if (!g.loads.has(x.id)) g.loads.set(x.id, []);
        g.loads.get(x.id).push(x);
      }
      g.ids.add(x.id);
      return -(k + 1);
    });
    g.nodes.push({ ...nd, refs });
    g.lastWrite.set(nd.out.id, { ...nd.out, j });
    g.ids.add(nd.out.id);
    g.words += nodeWords(nd.fam) + 1 + mapWords(nd.out.m);
  }

  /** Add each group's stores: the last value written to each buffer, where it is still needed afterwards. */
  markStores(groups) {
    const readLater = new Set();
    for (let gi = groups.length - 1; gi >= 0; gi--) {
      const g = groups[gi];
      if (g.single) { for (const x of g.single.ins) readLater.add(x.id); continue; }
      for (const [id, w] of g.lastWrite) {
        if (this.dead.has(id) && !readLater.has(id)) { this.counts.stores_skipped++; continue; }
        g.operands.push({ id, dt: w.dt, off: w.off, m: w.m, mode: 'st', store: true, node: w.j });
      }
      for (const o of g.operands) if (!o.store) readLater.add(o.id);
    }
  }
}
