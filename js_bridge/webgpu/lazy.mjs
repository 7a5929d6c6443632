// Lazy execution: the layer between the bridge's primitives and the GPU (docs: architecture.md, "execution
// layer"). Elementwise primitives (copy, fill, unary, binary, where) are checked when Python calls them (so an
// error is raised by the op that causes it) and then recorded here instead of dispatched; reductions, products and
// most other primitives too (those as opaque nodes: lazy_opaque.mjs). The few others, a readback, synchronize()
// or MAX_PENDING recorded nodes flush the record: nodes nobody will read are dropped (lazy_opaque.mjs liveNodes),
// the rest cut into groups, each group runs
// as one generated kernel (kernels/fused.mjs), and dispatched in order into the open command batch. A submit
// still happens only where the dispatcher submits (a readback, a full batch).
//
// Grouping (greedy, in program order; groups run in the order they were opened): a node joins a group when
// every dependency allows it to run there (see schedule) and it has the group's element count and no hazard:
// it reads a buffer that a node of the group wrote only through the very view that node wrote (then the value
// is taken from registers), and it writes a buffer only through the view any earlier node of the group read or
// wrote it through (so invocations never touch each other's elements). Nodes that cannot fuse (int64 results,
// int64 operands of unary / binary ops, int64 conditions) run alone through their eager kernels.
//
// Stores: a value is written to memory only where it is needed: its buffer still has a Python owner (Storage
// not yet collected: Python's refcount reaches the bridge as release(id)), or a later group or kernel reads it
// from memory. A buffer released while pending nodes refer to it is kept until the flush, then freed: an
// intermediate that nobody holds and that stayed in registers never gets a GPUBuffer at all (buffers.mjs).
import { DT, isFloat } from './kernels/common.mjs';
import { MAX_FUSED_WORDS, RED_WORDS, isBound, mapWords, nodeWords, programWords, segmentKey } from './kernels/fused.mjs';
import { reducePlan } from './kernels/reduce.mjs';
import { SOFT_PENDING, liveNodes } from './lazy_opaque.mjs';
import { Plans } from './lazy_plans.mjs';
import { CONTIGUOUS, SCALAR, canon, covers, disjoint, rowView, same } from './lazy_views.mjs';

export const MAX_PENDING = 1024;       // recorded nodes that force a flush (the size-limit sync point)
const MAX_GROUP_NODES = 64;           // nodes per fused kernel
const SEARCH_GROUPS = 32;             // how far back a node looks for a group to join
const MAX_SEGMENTS = 16;              // groups run side by side in one kernel
// kernels with their own walk over their inputs whose contiguous output takes an epilogue (index.mjs _runReduce)
const PRODUCERS = new Set(['gemm', 'attention']);


/** The operands of a fused group that are buffers (known scalars travel in the params). */
const bound = (g) => g.operands.filter(isBound);
const bindings = (g) => (g.red ? (g.pro ? bindings(g.pro) : g.red.ins.length) + bindings(g.epi) + (g.row ? bindings(g.row) : 0)
  : new Set(bound(g).map((o) => o.id)).size);
/** The fused groups of a schedule entry: a plain group, or a reduction's prologue, epilogue and row epilogue. */
const partsOf = (g) => (g.single ? [] : g.red ? [g.pro, g.epi, g.row].filter(Boolean) : [g]);
// reductions whose epilogue's values a row epilogue may read back over the row (ops with an index: int results)
const ROW_OPS = new Set(['sum', 'prod', 'max', 'min']);
// lastWrite: buffer id -> the view the group last wrote it through and the node that wrote it (its value is in
// registers for a later read through that view); a buffer also written through views disjoint from that one (a
// cat's pieces) has those under `id#off#map` keys (stored too; a read through such a view takes its register),
// and `pieces` set
const newGroup = (n) => ({ n, nodes: [], operands: [], loadAt: new Map(), lastWrite: new Map(), loads: new Map(),
  ids: new Set(), words: 3, pieces: false });
const writeKey = (g, o) => {
  const w = g.lastWrite.get(o.id);
  return !w || same(w, o) ? o.id : `${o.id}#${o.off}#${o.m.key}`;
};
/** Group g's last write of x's buffer through exactly x's view (its main one or a piece), or undefined. */
const viewWrite = (g, x) => {
  const w = g.lastWrite.get(x.id);
  if (!w || same(w, x)) return w;
  const p = g.lastWrite.get(`${x.id}#${x.off}#${x.m.key}`);
  return p && same(p, x) ? p : undefined;
};
// families a virtual cat cuts (splitAtPieces): one value per element from inputs of the node's own walk
const CUTS = new Set(['unary', 'binary', 'where', 'copy']);

/** f(id) for each buffer id a kernel of the flush may read or write (a group of one node runs eagerly: all its
 * operands); no arrays made (a flush calls it for every kernel). */
function eachId(item, f) {
  const visit = (nd) => {
    f(nd.out.id);
    if (nd.outs) for (const x of nd.outs) f(x.id);
    for (const x of nd.ins) f(x.id);
  };
  if (item.single) visit(item.single);
  else if (item.red) { visit(item.red); for (const g of partsOf(item)) g.nodes.forEach(visit); }
  else for (const g of item.segs) g.nodes.forEach(visit);
}

/** Whether a node can be part of a fused kernel (int64 values are exact only in the eager kernels). */
function fusable(fam, op, dts) {
  if (dts[0] === DT.int64 || op === 'iota') return false;   // (an iota runs alone: arange's int64 ranges)
  if ((fam === 'unary' || fam === 'binary') && dts[1] === DT.int64) return false;   // int64 operands: 'l' kernels
  if (fam === 'where' && dts[1] === DT.int64) return false;
  if (fam === 'copy' && dts[1] === DT.int64 && dts[0] === DT.bool) return false;
  return true;
}

export class Lazy {
  /**
   * runFused(segments) dispatches a fused program; runEager(node) one node through its eager kernel;
   * runReduce(item) a reduction with its prologue and epilogue (see schedule); pairPlan(a1, a2) the kernel plan
   * that runs two decoded GEMM blocks as one kernel, or null where they do not run so (pairGemm keeps it on the item);
   * bindSlots(ids, bufs, slotOf) makes virtual id ~s name buffer ids[s] while a flush's kernels are encoded (slotOf:
   * the inverse map), its GPUBuffer preferably bufs[s], the one it had the last time (and noted there; nulls: none);
   * planContext() what a plan depends on besides the nodes (lazy_plans.mjs).
   */
  constructor({ runFused, runEager, runReduce, releaseNow, maxBindings, pairPlan = () => null, bindSlots = () => {},
    planContext = () => '' }) {
    this.runFused = runFused;
    this.pairPlan = pairPlan;
    this.runReduce = runReduce;
    this.runEager = runEager;
    this.releaseNow = releaseNow;
    this.maxBindings = maxBindings;
    this.bindSlots = bindSlots;
    this.planContext = planContext;
    this.plans = new Plans();           // flush plans by signature (lazy_plans.mjs)
    this.links = [];                    // value copies the schedule being made has made (link)
    this.on = true;
    this.nodes = [];
    this.refs = new Set();              // buffer ids the pending nodes read or write
    this.dead = new Set();              // of those, the ones Python released meanwhile
    this.consts = new Map();            // buffer id -> {dt, off, bits}: holds one element, filled with bits (scalars)
    this.writers = new Map();           // buffer id -> the view the last pending node wrote it through
    this.flushing = false;
    this.cutAt = null;                  // the opaque op that the record is flushed before (lazy_opaque.mjs SOFT_PENDING)
    this.assumeStored = new Set();
    this.counts = { recorded: 0, fused_kernels: 0, fused_nodes: 0, stores_skipped: 0, dead_skipped: 0, flushes: 0, flush_us: 0, plan_us: 0, plan_hits: 0 };
  }

  /** Record one elementwise primitive (already checked); `a` = {fam, op, operands, shape, strides, p, bits}. */
  record(a) {
    if (a.fam === 'copy' && this.writers.has(a.operands[1].id)) this.walkInputOrder(a);
    let n = 1;
    for (const x of a.shape) n *= x;
    const ops = a.operands;
    const dts = new Array(ops.length);
    const ins = new Array(ops.length - 1);
    let out = null;
    for (let k = 0; k < ops.length; k++) {
      const o = ops[k];
      const v = { id: o.id, dt: o.dt, off: o.off, m: canon(a.shape, a.strides[k]) };
      dts[k] = o.dt;
      this.refs.add(o.id);
      if (k === 0) { out = v; continue; }
      const c = this.consts.get(o.id);   // a scalar whose value is known: an immediate in the kernel, not a binding
      if (c && c.dt === v.dt && c.off === v.off && (v.m.cls === 's' || n === 1)) v.k = c.bits;
      ins[k - 1] = v;
    }
    if (a.fam === 'fill' && a.op !== 'iota' && n === 1 && out.dt !== DT.int64) this.consts.set(out.id, { dt: out.dt, off: out.off, bits: a.bits });
    else if (this.consts.size) this.consts.delete(out.id);
    // a write through a broadcast (stride-0) view is not a plain elementwise map: run it alone
    const ok = fusable(a.fam, a.op, dts) && !(out.m.cls === 's' && n > 1) && !(out.m.cls === 'r' && out.m.st.includes(0));
    a.n = n; a.dts = dts; a.out = out; a.ins = ins; a.fusable = ok;
    if (ok) this.writers.set(out.id, out);
    else this.writers.delete(out.id);   // (a node run alone takes no copy after it)
    this.nodes.push(a);
    this.counts.recorded++;
    if (this.nodes.length >= MAX_PENDING) this.flush();
  }

  /**
   * Record a reduction (already checked) of x over shape's last `nred` dims into out (the kept dims): `a` = the
   * decoded REDUCE block (abi.mjs), run as recorded (eager) when nothing fuses with it.
   */
  recordReduce(a, op) {
    const kept = a.shape.slice(0, a.nd - a.nred);
    const n = kept.reduce((x, y) => x * y, 1), nIn = a.shape.reduce((x, y) => x * y, 1);
    const out = { ...a.out, m: canon(kept, a.out_st) };
    const x = { ...a.x, m: canon(a.shape, a.x_st) };
    this.refs.add(out.id);
    this.refs.add(x.id);
    this.consts.delete(out.id);
    this.writers.set(out.id, out);
    this.nodes.push({ fam: 'reduce', op, a, n, nIn, dts: [out.dt, x.dt], out, ins: [x], fusable: true });
    this.counts.recorded++;
    if (this.nodes.length >= MAX_PENDING) this.flush();
  }

  /**
   * Record a float matmul (already checked): `a` = the decoded GEMM block. Its output (contiguous) takes an
   * epilogue as a reduction's does: the bias add and activation after a linear layer run in its store.
   */
  recordGemm(a) { this.recordProducer('gemm', a, a.batch * a.m * a.n, [a.a, a.b]); }

  /** Record a fused attention (already checked): `a` = the decoded ATTENTION block; an epilogue as a matmul's. */
  recordAttention(a) {
    const ins = a.flags & 2 ? [a.q, a.k, a.v, a.mask] : [a.q, a.k, a.v];
    this.recordProducer('attention', a, a.B * a.H * a.L * a.Ev, ins);
  }

  /** A kernel with its own walk over inputs `ins` (PRODUCERS) whose n outputs, contiguous, take an epilogue. */
  recordProducer(fam, a, n, ins) {
    const opaque = (o) => ({ ...o, m: { cls: 'x', key: 'x' } });   // read by the kernel's own walk: never inline
    const out = { ...a.out, m: CONTIGUOUS };
    this.refs.add(out.id);
    for (const x of ins) this.refs.add(x.id);
    this.consts.delete(out.id);
    this.nodes.push({ fam, op: fam, a, n, dts: [out.dt], out, ins: ins.map(opaque), fusable: true });
    this.writers.set(out.id, out);
    this.counts.recorded++;
    if (this.nodes.length >= MAX_PENDING) this.flush();
  }

  /**
   * Record a primitive that runs its own (eager) kernel at its place in the flush, never fused (lazy_opaque.mjs):
   * `run()` dispatches it; it reads buffers `reads` and writes `writes` (ids; each also counted as read: it may
   * write part of one), `effects`: it does more than write them (the bounds-error flag), so it always runs. What
   * it only reads keeps its writer and known value (a later node may still fuse with that writer or inline that
   * scalar); what it writes does not.
   */
  recordOpaque(op, reads, writes, effects, run) {
    const v = (id) => ({ id });
    const ins = [...reads, ...writes].map(v), outs = writes.map(v);
    if (this.nodes.length && (op === this.cutAt || this.nodes.length >= SOFT_PENDING)) { this.cutAt = op; this.flush(); }
    for (const x of ins) this.refs.add(x.id);
    for (const o of outs) this.forget(o.id);
    this.nodes.push({ fam: 'opaque', op, out: outs[0], outs, ins, effects, run, fusable: false });
    this.counts.recorded++;
    if (this.nodes.length >= MAX_PENDING) this.flush();
  }

  /** Whether grouping counts a binding for a value written to buffer `id` (see flush). */
  stored(id) { return !this.dead.has(id) || this.assumeStored.has(id); }

  /** Buffer `id` was written other than by a recorded node (another primitive, an upload): its value is unknown. */
  forget(id) { this.consts.delete(id); this.writers.delete(id); }

  /**
   * A transpose's copy (out contiguous; x a permutation of the contiguous block a pending node wrote) walks x's
   * order instead: x is then read as it was written, from registers where the copy joins its writer's kernel (the
   * head merge after attention), and the copy stores through the permuted view. `a` (shape, strides) rewritten.
   */
  walkInputOrder(a) {
    const x = a.operands[1], w = this.writers.get(x.id);
    if (w.m.cls !== 'c' || w.off !== x.off || w.dt !== x.dt || x.id === a.operands[0].id) return;
    if (canon(a.shape, a.strides[0]).cls !== 'c' || canon(a.shape, a.strides[1]).cls !== 'r') return;
    const xs = a.strides[1];
    const dims = [];
    for (let d = 0; d < a.shape.length; d++) if (a.shape[d] !== 1) dims.push(d);
    dims.sort((p, q) => xs[q] - xs[p]);
    for (let j = dims.length - 1, acc = 1; j >= 0; j--) {
      if (xs[dims[j]] !== acc) return;   // not a permutation of a contiguous block
      acc *= a.shape[dims[j]];
    }
    a.shape = dims.map((d) => a.shape[d]);
    a.strides = a.strides.map((st) => dims.map((d) => st[d]));
  }

  /** Python released buffer `id`: keep it while pending nodes use it. Returns true when deferred. */
  release(id) {
    this.consts.delete(id);
    if (!this.refs.has(id)) return false;
    this.dead.add(id);
    return true;
  }

  /** Run every pending node (fused where possible) into the open command batch. */
  flush() {
    if (!this.nodes.length || this.flushing) return;
    this.flushing = true;
    const t0 = performance.now();
    // nodes whose results nobody holds or reads (liveNodes) never run; when none is left, this is no flush
    const nodes = liveNodes(this.nodes, this.dead, this.counts);
    this.nodes = [];
    if (nodes.length) this.counts.flushes++;
    const plans = this.plans;
    try {
      // the plan of an earlier flush of the same signature (lazy_plans.mjs), or a new one
      const sig = plans.signature(nodes, this.dead, this.planContext());
      let plan = plans.get(sig);
      if (plan) { Plans.refresh(plan, nodes); this.counts.plan_hits++; }
      else {
        const { canon, vdead } = plans.canonical(nodes, this.dead);
        plan = this.plan(canon, vdead);
        plans.put(sig, plan);
      }
      this.counts.stores_skipped += plan.storesSkipped;
      // a buffer Python released goes back as soon as the last kernel that uses it is recorded (a later kernel of
      // this flush may take it: it runs after), so a long flush holds no more memory than eager execution would
      const slots = plans.slots;
      for (const id of this.dead) {
        const s = plans.slotOf(id);
        if (s === undefined || !plan.used.has(~s)) { this.dead.delete(id); this.releaseNow(id); }
      }
      this.counts.plan_us += (performance.now() - t0) * 1e3;   // (the rest: encoding the kernels)
      this.bindSlots(slots, plans.bufsFor(plan), plans.slotMap);
      plan.items.forEach((item, i) => {
        if (item.single) this.runEager(item.single);
        else if (item.red) this.runReduce(item);
        else if (item.segs.length === 1 && item.segs[0].nodes.length === 1) this.runEager(item.segs[0].nodes[0]);
        else {
          this.counts.fused_kernels++;
          for (const g of item.segs) this.counts.fused_nodes += g.nodes.length;
          this.runFused(item.segs);
        }
        for (const v of plan.freeAfter[i]) { const id = slots[~v]; this.dead.delete(id); this.releaseNow(id); }
      });
    } finally {
      this.bindSlots(null, null, null);
      this.refs.clear();
      this.writers.clear();
      const dead = [...this.dead];
      this.dead.clear();
      this.flushing = false;
      for (const id of dead) this.releaseNow(id);
      this.counts.flush_us += (performance.now() - t0) * 1e3;
    }
  }

  /**
   * The plan of a flush of canonical nodes `nodes` (lazy_plans.mjs; `dead`: the released buffers among theirs):
   * {canon: nodes, items: the kernels to run in order, freeAfter[i]: the released buffers whose last use is item i,
   * used: every buffer an item names, storesSkipped, links: the value copies grouping made, bufs: per run since the
   * last readback, the GPUBuffer each slot took in that run the last time (Plans.bufsFor, Buffers.bindSlots)}.
   */
  plan(nodes, dead) {
    const real = this.dead;
    this.dead = dead;   // (stored() and markStores ask it: the virtual ids')
    try {
      // A value nobody holds any more takes no binding unless a later kernel reads it, which grouping cannot know
      // yet: schedule on that guess, and again counting the stores that overflowed a kernel (rare; converges, as
      // each round only adds to `assumeStored`).
      let groups;
      this.assumeStored = new Set();
      for (let limit = this.maxBindings; ;) {
        groups = this.schedule(nodes, limit);
        this.markStores(groups);
        const over = groups.filter((g) => !g.single && bindings(g) > this.maxBindings);
        if (!over.length) break;
        const more = over.flatMap(partsOf)
          .flatMap((g) => g.operands.filter((o) => o.store && !this.stored(o.id)).map((o) => o.id));
        for (const id of more) this.assumeStored.add(id);
        if (!more.length && --limit < 4) throw new Error('lazy: kernels overflow the binding limit');   // not expected
      }
      let storesSkipped = 0;
      for (const g of groups) for (const x of partsOf(g)) {
        if (x) storesSkipped += x.lastWrite.size - x.operands.filter((o) => o.store).length;
      }
      const items = this.programs(groups);
      const lastUse = new Map();
      items.forEach((item, i) => eachId(item, (id) => lastUse.set(id, i)));
      const freeAfter = items.map(() => []);
      for (const id of dead) if (lastUse.has(id)) freeAfter[lastUse.get(id)].push(id);
      return { canon: nodes, items, freeAfter, used: new Set(lastUse.keys()), storesSkipped, links: this.links,
        bufs: [] };
    } finally {
      this.dead = real;
      this.assumeStored = new Set();
    }
  }

  /** Note that grouping copied value `from[g]` into `to[f]` (followed again when a plan is taken: lazy_plans.mjs). */
  link(to, f, from, g) { this.links.push(to, f, from, g); }

  /**
   * Cut the nodes into groups, in execution order. Each group knows the groups it must run after (deps: the last
   * writers of what its nodes read or write, the last readers of what they write) and those that must run after
   * it (users). A node joins the first group it fits from `lo` on (the position of its last dependency: it must
   * run after that), else opens a group: a fill (no inputs) as early as it may run, so that the chain it feeds
   * can stay one group; any other node at the end. A node may also join the group that produced one of its
   * inputs (in registers, then) when the groups that hold it back can move ahead of that group (a mask built
   * after the scores it masks, say).
   */
  schedule(nodes, limit) {
    const groups = [];
    this.links = [];
    this.reductions = new Map();                         // reduction signature -> its item (reuseReduction)
    const lastW = new Map(), lastR = new Map();          // buffer id -> the last group writing / reading it
    const pos = (g) => (g ? g.pos : -1);
    const queue = nodes.slice();
    for (let qi = 0; qi < queue.length; qi++) {
      let nd = queue[qi];
      const deps = [];   // the groups nd must run after (few: no Set)
      const dep = (d) => { if (d && !deps.includes(d)) deps.push(d); };
      dep(lastW.get(nd.out.id));
      dep(lastR.get(nd.out.id));
      for (const x of nd.ins) dep(lastW.get(x.id));
      if (nd.outs) for (const o of nd.outs) dep(lastR.get(o.id));   // (an opaque node's writes are among its ins)
      let lo = -1;
      for (const d of deps) if (d.pos > lo) lo = d.pos;
      const parts = this.splitAtPieces(nd, lastW, lo, limit);
      if (parts) { queue.splice(qi + 1, 0, ...parts); continue; }
      let g = null, into = null;   // the entry nd joins, and the group of it that takes nd
      if (nd.fam === 'reduce' && (g = this.reuseReduction(nd, lastW, limit))) {
        nd = g.epi.nodes.at(-1);   // now a copy of the earlier result, in its epilogue
      } else if (nd.fam === 'gemm' && (g = this.pairGemm(nd, lo, groups, limit))) {
        // (the second product of g's kernel)
      } else if (nd.fam === 'reduce' || PRODUCERS.has(nd.fam)) g = this.scheduleReduce(nd, lo, groups, lastW, limit);
      else if (nd.fusable) {
        for (let k = Math.max(lo, 0, groups.length - SEARCH_GROUPS); k < groups.length && !g; k++) {
          if ((into = this.joinOf(groups[k], nd, limit))) g = groups[k];
        }
        if (!g) ({ g, into } = this.pullForward(nd, deps, groups, lastW, limit));
      }
      if (!g) {
        g = nd.fusable ? newGroup(nd.n) : { single: nd };
        g.deps = new Set();
        g.users = new Set();
        const at = nd.ins.length ? groups.length : lo + 1;
        groups.splice(at, 0, g);
        for (let k = at; k < groups.length; k++) groups[k].pos = k;
      }
      if (into) this.add(into, nd, into === g.row ? g.epi : null);
      else if (nd.fusable && !g.red) this.add(g, nd);
      for (const d of deps) if (d !== g) { g.deps.add(d); d.users.add(g); }
      lastW.set(nd.out.id, g);
      if (nd.outs) for (const o of nd.outs) lastW.set(o.id, g);
      for (const x of nd.ins) if (pos(lastR.get(x.id)) < g.pos) lastR.set(x.id, g);
    }
    return groups;
  }

  /**
   * A virtual cat: node nd reads whole a buffer x that the last group W (nothing nd depends on runs after it; a plain
   * group or a product's or reduction's epilogue) wrote in pieces along one dim of nd's walk (a cat's: rotate_half's
   * two halves). nd is cut along that dim into one node per piece, each reading its piece through the very view W
   * wrote it through, so that they join W and take the pieces from registers (rope's rotate_half(x) * sin + x * cos:
   * the cat and the products one kernel, the cat never stored). Returns the cut nodes when the first of them fits W, else null (nd runs whole).
   */
  splitAtPieces(nd, lastW, lo, limit) {
    if (nd.part || !nd.fusable || !CUTS.has(nd.fam) || !nd.shape) return null;
    for (let k = 0; k < nd.ins.length; k++) {
      const W = lastW.get(nd.ins[k].id);
      const T = W && !W.single && W.pos === lo ? (W.red ? W.epi : W) : null;   // a plain group, or an epilogue
      if (!T?.pieces) continue;
      const parts = this.cutAlong(nd, k + 1, [...T.lastWrite.values()].filter((v) => v.id === nd.ins[k].id), T);
      if (!parts) continue;
      if (W.red ? parts[0].n === W.red.n && this.fitsEpilogue(W, parts[0], limit) : this.fits(W, parts[0], limit)) return parts;
    }
    return null;
  }

  /**
   * nd cut along the dim of its walk where `pieces` (views of its operand k's buffer, each written by a node of W)
   * tile its view of operand k: same sizes and strides elsewhere, consecutive ranges of that dim. Each cut node
   * walks one piece's shape, its operands' offsets moved to the piece's start. Null where they do not tile it.
   */
  cutAlong(nd, k, pieces, W) {
    const x = nd.ins[k - 1], shape = nd.shape, st = nd.strides[k];
    if (pieces.length < 2 || shape.length !== nd.strides[0].length) return null;
    const keep = [];   // nd's dims of more than one element (a writer's walk may have other dims of one: a stack's)
    shape.forEach((size, e) => { if (size > 1) keep.push(e); });
    let d = -1;
    const cuts = [];
    for (const v of pieces) {
      const w = W.nodes[v.j];
      if (v.dt !== x.dt || !w.shape) return null;
      const ws = [];
      for (let e = 0; e < w.shape.length; e++) {
        if (w.shape[e] === 1) continue;
        const j = ws.length, D = keep[j];
        if (D === undefined || w.strides[0][e] !== st[D]) return null;
        if (w.shape[e] !== shape[D]) {
          if (d >= 0 && d !== D) return null;   // pieces along one dim
          d = D;
        }
        ws.push(w.shape[e]);
      }
      if (ws.length !== keep.length) return null;
      cuts.push({ ws, v });
    }
    if (d < 0 || st[d] === 0) return null;
    for (const c of cuts) {
      const delta = c.v.off - x.off;
      if (delta % st[d] !== 0) return null;
      c.at = delta / st[d];
      c.size = c.ws[keep.indexOf(d)];
    }
    cuts.sort((a, b) => a.at - b.at);
    let end = 0;
    for (const c of cuts) {
      if (c.at !== end) return null;
      end += c.size;
    }
    if (end !== shape[d]) return null;
    return cuts.map(({ at, size }) => {
      const sh = shape.slice();
      sh[d] = size;
      const n = (nd.n / shape[d]) * size;
      const view = (v, kk) => {
        const m = canon(sh, nd.strides[kk]);
        const out = { ...v, off: v.off + at * nd.strides[kk][d], m };
        if (out.k !== undefined && m.cls !== 's' && n !== 1) delete out.k;
        if (out.k !== undefined) this.link(out, 'k', v, 'k');
        return out;
      };
      const operands = nd.operands.map((o, kk) => ({ ...o, off: o.off + at * nd.strides[kk][d] }));
      const part = { ...nd, part: true, shape: sh, n, operands, out: view(nd.out, 0), ins: nd.ins.map((v, i) => view(v, i + 1)) };
      for (const f of ['p', 'bits', 'bitsHi']) this.link(part, f, nd, f);
      return part;
    });
  }

  /** The group of entry c that node nd can join (a plain group, a reduction's epilogue or row epilogue), or null. */
  joinOf(c, nd, limit) {
    if (c.single) return null;
    if (!c.red) return this.fits(c, nd, limit) ? c : null;
    if (nd.n === c.red.n && this.fitsEpilogue(c, nd, limit)) return c.epi;
    return c.row && nd.n === c.red.nIn && this.fitsRow(c, nd, limit) ? c.row : null;
  }

  /**
   * Join nd to an earlier group c although a dependency of nd runs after c: move those dependencies ahead of c
   * when they may (their own deps run before c, and nothing from c up to them uses them). c: a group that produced
   * one of nd's inputs (nd reads it from registers), else a recent group of nd's size (rope's x * cos, recorded
   * before rotate_half(x) * sin that it is added to). Returns {g: c, into: the group of c nd joins}, or nulls.
   */
  pullForward(nd, deps, groups, lastW, limit) {
    const near = [];
    for (let k = groups.length - 1; k >= Math.max(0, groups.length - SEARCH_GROUPS); k--) {
      if (groups[k].n === nd.n) near.push(groups[k]);
    }
    for (const c of new Set([...nd.ins.map((x) => lastW.get(x.id)), ...near])) {
      const into = c && this.joinOf(c, nd, limit);
      if (!into) continue;
      const blockers = deps.filter((d) => d.pos > c.pos).sort((a, b) => a.pos - b.pos);
      const movable = (b) => [...b.deps].every((d) => d.pos < c.pos) &&
        ![...b.users].some((u) => u.pos >= c.pos && u.pos < b.pos);
      if (!blockers.every(movable)) continue;
      for (const b of blockers) {
        groups.splice(b.pos, 1);
        groups.splice(c.pos, 0, b);
        for (let k = 0; k < groups.length; k++) groups[k].pos = k;
      }
      return { g: c, into };
    }
    return { g: null, into: null };
  }

  /**
   * A reduction becomes an item {red, pro, xw, epi} in the schedule: returned, to be recorded as nd's group. Its
   * prologue is the group that wrote its input x, when the reduction may run where that group runs (`lo`:
   * nothing after it touches the reduction's output), the group wrote x contiguously and the reduction reads
   * each element of it once (x's view covers exactly what the group wrote): that group becomes the item, its
   * nodes the prologue, run inside the reduction's loads. Its epilogue is a group over its outputs, opened with
   * the result as node 0 ('reduced'), which later nodes join as they would join any group (fitsEpilogue). Where
   * one workgroup reduces whole rows (reducePlan: one pass, 'row' layout), a row epilogue over x's walk (`row`)
   * takes the nodes that broadcast the epilogue's values back over the rows (fitsRow).
   */
  scheduleReduce(nd, lo, groups, lastW, limit) {
    const x = nd.ins[0];
    const W = nd.fam === 'reduce' ? lastW.get(x.id) : null;   // a matmul takes no prologue
    const xw = W && !W.single && !W.red && !W.pieces && W.pos === lo ? W.lastWrite.get(x.id) : null;
    const absorb = xw && xw.m.cls === 'c' && xw.dt === x.dt && W.n === nd.nIn && covers(x, xw.off, nd.nIn) &&
      W.ids.size + 1 <= limit && RED_WORDS + 1 + W.words + 3 + mapWords(nd.out.m) <= MAX_FUSED_WORDS;
    const epi = newGroup(nd.n);
    epi.nodes.push({ fam: 'reduced', op: nd.op, dts: [nd.out.dt], refs: [], out: nd.out, ins: [] });
    epi.lastWrite.set(nd.out.id, { ...nd.out, j: 0 });
    if (this.stored(nd.out.id)) epi.ids.add(nd.out.id);
    epi.words += 1 + mapWords(nd.out.m);
    let row = null;
    if (nd.fam === 'reduce' && ROW_OPS.has(nd.op) && isFloat(nd.out.dt) && nd.nIn > 0) {
      const { ws, nout, R } = reducePlan(nd.a, nd.op);
      if (ws.layout === 'row' && !ws.parts && nout * R === nd.nIn) row = Object.assign(newGroup(nd.nIn), { R });
    }
    let item;
    if (!absorb) {
      item = { red: nd, pro: null, xw: null, epi, row, deps: new Set(), users: new Set(), pos: groups.length };
      groups.push(item);
    } else {
      // W becomes the item (the same object keeps its place, deps and users); its group fields the prologue
      const pro = newGroup(W.n);
      for (const k of Object.keys(pro)) { pro[k] = W[k]; delete W[k]; }
      item = Object.assign(W, { red: nd, pro, xw, epi, row });
    }
    if (nd.fam === 'reduce') {
      item.xWriter = lastW.get(x.id);
      this.reductions.set(`${nd.op}|${x.id}|${x.dt}|${x.off}|${x.m.key}|${nd.nIn}|${nd.n}|${nd.out.dt}`, item);
    }
    return item;
  }

  /**
   * A product of the same A as an earlier matmul item c by a weight of the same shape (a SiLU-gated MLP's up
   * projection after its gate): nd joins c as its second product (one kernel takes both dot products of each
   * column: kernels/matvec.mjs's pair) when nothing nd depends on runs after c, c's epilogue writes nothing nd
   * reads and reads or writes nothing nd writes, and the bridge runs the two so (pairPlan, kept as c.pairPlan for
   * runReduce). nd's result is a second 'reduced' node of c's epilogue, which later nodes join as any epilogue
   * (silu(gate) * up). Returns c, or null.
   */
  pairGemm(nd, lo, groups, limit) {
    const [a, b2] = nd.ins, o = nd.out;
    for (let k = groups.length - 1; k > lo && k >= groups.length - SEARCH_GROUPS; k--) {
      const c = groups[k], E = c.epi;
      if (!c.red || c.red.fam !== 'gemm' || c.red2 || c.pro) continue;
      if ([a.id, b2.id, o.id].some((id) => E.lastWrite.has(id)) || E.loads.has(o.id)) continue;
      const [ids, words] = this.besides(c, E);
      const more = 1 + (this.stored(o.id) ? 1 : 0);   // B2, and the second product where it is stored
      if (ids + E.ids.size + more > limit || words + E.words + 1 + mapWords(o.m) > MAX_FUSED_WORDS) continue;
      const plan = this.pairPlan(c.red.a, nd.a);
      if (!plan) continue;
      c.pairPlan = plan;
      c.red = { ...c.red, ins: [...c.red.ins, b2] };   // (counted as the kernel's own bindings: bindings, besides)
      c.red2 = nd;
      E.nodes.push({ fam: 'reduced', op: 'gemm', dts: [o.dt], refs: [], out: o, ins: [] });
      E.lastWrite.set(o.id, { ...o, j: E.nodes.length - 1 });
      if (this.stored(o.id)) E.ids.add(o.id);
      E.words += 1 + mapWords(o.m);
      return c;
    }
    return null;
  }

  /**
   * The same reduction of the same input again (layer norm's mean, then its variance's own mean): no second
   * kernel, the first one's epilogue copies its result to this one's output. Returns that item, or null.
   */
  reuseReduction(nd, lastW, limit) {
    const x = nd.ins[0];
    const key = `${nd.op}|${x.id}|${x.dt}|${x.off}|${x.m.key}|${nd.nIn}|${nd.n}|${nd.out.dt}`;
    const r = this.reductions.get(key);
    if (!r || r.xWriter !== lastW.get(x.id)) return null;
    const copy = { fam: 'copy', op: '', dts: [nd.out.dt, nd.out.dt], n: nd.n, out: nd.out, ins: [{ ...r.red.out }],
      p: [0, 0, 0, 0], fusable: true };
    if (!this.fitsEpilogue(r, copy, limit)) return null;
    this.add(r.epi, copy);
    return r;
  }

  /** Can node nd join item r's epilogue? Not if it races with the prologue's stores or the inputs' reads. */
  fitsEpilogue(r, nd, limit) {
    const P = r.pro, W = r.row;
    if (r.red.ins.some((x) => x.id === nd.out.id)) return false;
    // a matmul may bind its inputs as vec4 arrays, which nothing else can share: its epilogue leaves them alone
    if (PRODUCERS.has(r.red.fam) && nd.ins.some((v) => r.red.ins.some((x) => x.id === v.id))) return false;
    if (P && (nd.ins.some((v) => P.lastWrite.has(v.id)) || P.loads.has(nd.out.id) || P.lastWrite.has(nd.out.id))) return false;
    // the row epilogue runs after the epilogue: nothing there may read its values or touch what it reads or writes
    if (W && (nd.ins.some((v) => W.lastWrite.has(v.id)) || W.loads.has(nd.out.id) || W.lastWrite.has(nd.out.id))) return false;
    const [ids, words] = this.besides(r, r.epi);
    return this.fits(r.epi, nd, limit - ids, MAX_FUSED_WORDS - words);
  }

  /** The bindings and params words of item r's kernel other than group `g`'s (RED_WORDS + 1 its own words). */
  besides(r, g) {
    let ids = r.pro ? 0 : r.red.ins.length, words = RED_WORDS + 1;
    for (const x of [r.pro, r.epi, r.row]) if (x && x !== g) { ids += x.ids.size; words += x.words; }
    return [ids, words];
  }

  /**
   * Can node nd join item r's row epilogue W? It runs in the workgroup that reduced the row, after the epilogue E:
   * nd reads E's values only broadcast over the row (the view that gives element e of x's walk the value of output
   * e / R), from registers, never a value of the prologue, and writes nothing the kernel reads or writes elsewhere
   * (each row is one workgroup's; rows run in any order).
   */
  fitsRow(r, nd, limit) {
    const P = r.pro, E = r.epi, o = nd.out.id;
    if (r.red.ins.some((x) => x.id === o) || E.loads.has(o) || E.lastWrite.has(o)) return false;
    if (P && (P.lastWrite.has(o) || P.loads.has(o))) return false;
    for (const x of nd.ins) {
      if (r.row.lastWrite.has(x.id)) continue;   // the row's own value (fits: through the view it was written)
      if (P && P.lastWrite.has(x.id)) return false;
      const w = E.lastWrite.get(x.id);
      if (w && !(w.id === x.id && w.dt === x.dt && w.off === x.off && x.m.key === rowView(w.m, r.red.n, r.row.R).key)) return false;
    }
    const [ids, words] = this.besides(r, r.row);
    return this.fits(r.row, nd, limit - ids, MAX_FUSED_WORDS - words, E);
  }

  /**
   * Can node nd join group g without a hazard, within `limit` bindings and `maxWords` params words? `from`: the
   * epilogue whose values a row epilogue g reads from registers (fitsRow checked the views).
   */
  fits(g, nd, limit, maxWords = MAX_FUSED_WORDS, from = null) {
    if (g.n !== nd.n || g.nodes.length >= MAX_GROUP_NODES) return false;
    let words = g.words + nodeWords(nd.fam) + 1;
    let ids = g.ids.size;
    for (const x of nd.ins) {
      if (viewWrite(g, x)) continue;
      if (g.lastWrite.has(x.id)) return false;
      if (x.k !== undefined || from?.lastWrite.has(x.id)) { words += 1; continue; }
      if (!g.ids.has(x.id)) ids++;
      words += 1 + mapWords(x.m);
    }
    const o = nd.out;
    // every view the group has read or written o's buffer through: o's own, or one with no element in common
    const apart = (v) => same(v, o) || disjoint(v, o, g.n);
    const read = g.loads.get(o.id);
    if (read && !read.every(apart)) return false;
    const w = g.lastWrite.get(o.id);
    if (w && !same(w, o) && [...g.lastWrite.values()].some((v) => v.id === o.id && !apart(v))) return false;
    if (this.stored(o.id) && !g.ids.has(o.id) && !nd.ins.some((x) => x.id === o.id)) ids++;
    words += mapWords(o.m);
    return ids <= limit && words <= maxWords;
  }

  /** Add node nd to group g (`from`: as fits'). */
  add(g, nd, from = null) {
    const j = g.nodes.length;
    const refs = nd.ins.map((x) => {
      const w = viewWrite(g, x);
      if (w) return w.j;
      const e = from?.lastWrite.get(x.id);
      if (e && x.k === undefined) {   // the epilogue's value of node e.j, in registers (kernels/fused.mjs mode 'e')
        const key = `e:${e.j}`;
        let k = g.loadAt.get(key);
        if (k === undefined) {
          k = g.operands.length;
          g.operands.push({ id: x.id, dt: x.dt, off: 0, m: { cls: 'e', key: 'e' }, mode: 'e', node: e.j, store: false });
          g.loadAt.set(key, k);
          g.words += 1;
        }
        return -(k + 1);
      }
      if (x.k !== undefined) {   // a known scalar: its bits go in the params, as the operand's offset word would
        const key = `k:${x.dt}:${x.k}`;
        let k = g.loadAt.get(key);
        if (k === undefined) {
          k = g.operands.length;
          const o = { id: 0, dt: x.dt, off: x.k, m: { cls: 'k', key: 'k' }, mode: 'k', store: false };
          g.operands.push(o);
          this.link(o, 'off', x, 'k');
          g.loadAt.set(key, k);
          g.words += 1;
        }
        return -(k + 1);
      }
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
    nd.refs = refs;   // (a node joins one group per schedule: rescheduling overwrites them)
    g.nodes.push(nd);
    const o = nd.out;
    const key = writeKey(g, o);
    if (key !== o.id) g.pieces = true;
    g.lastWrite.set(key, { id: o.id, dt: o.dt, off: o.off, m: o.m, j });
    if (this.stored(nd.out.id)) g.ids.add(nd.out.id);
    g.words += nodeWords(nd.fam) + 1 + mapWords(nd.out.m);
  }

  /** Add each group's stores: the last value written to each buffer, where it is still needed afterwards. */
  markStores(groups) {
    const readLater = new Set();
    const stores = (g) => {
      g.operands = g.operands.filter((o) => !o.store);
      for (const w of g.lastWrite.values()) {
        if (this.dead.has(w.id) && !readLater.has(w.id)) continue;
        g.operands.push({ id: w.id, dt: w.dt, off: w.off, m: w.m, mode: 'st', store: true, node: w.j });
      }
      for (const o of g.operands) if (!o.store && isBound(o)) readLater.add(o.id);
    };
    for (let gi = groups.length - 1; gi >= 0; gi--) {
      const g = groups[gi];
      if (g.single) { for (const x of g.single.ins) readLater.add(x.id); continue; }
      if (!g.red) {
        stores(g);
        // a group of one node runs its eager kernel (flush), which reads even known scalars from memory
        if (g.nodes.length === 1) for (const x of g.nodes[0].ins) readLater.add(x.id);
        continue;
      }
      if (g.row) stores(g.row);
      stores(g.epi);
      if (g.pro) stores(g.pro);
      else for (const x of g.red.ins) readLater.add(x.id);
    }
  }

  /**
   * The kernels to run, in order: eager single nodes, and programs of one or more fused groups. Adjacent groups
   * of the same structure that touch nothing the other writes run side by side as segments of one kernel (as
   * PyTorch's multi-tensor apply: each parameter's optimizer update is such a group), within the binding limit.
   * A group that stores nothing (all its values died in registers) runs nowhere.
   */
  programs(groups) {
    const out = [];
    let cur = null;
    for (const g of groups) {
      if (g.single || g.red) { out.push(g); cur = null; continue; }
      if (!g.operands.some((o) => o.store)) continue;
      const reads = new Set(bound(g).filter((o) => !o.store).map((o) => o.id));
      const writes = new Set(g.operands.filter((o) => o.store).map((o) => o.id));
      if (cur && cur.segs.length < MAX_SEGMENTS && segmentKey(g) === segmentKey(cur.segs[0]) &&
          ![...writes].some((id) => cur.reads.has(id) || cur.writes.has(id)) &&
          ![...reads].some((id) => cur.writes.has(id)) &&
          new Set([...cur.ids, ...reads, ...writes]).size <= this.maxBindings &&
          programWords([...cur.segs, g]) <= MAX_FUSED_WORDS) {
        cur.segs.push(g);
        for (const id of reads) { cur.reads.add(id); cur.ids.add(id); }
        for (const id of writes) { cur.writes.add(id); cur.ids.add(id); }
        continue;
      }
      cur = { segs: [g], reads, writes, ids: new Set([...reads, ...writes]) };
      out.push(cur);
    }
    return out;
  }
}
