// Plans of repeated flushes (lazy.mjs). A training step, a decoding step or a loop body records the same nodes each
// time, up to the buffers they name and the values of their scalars, and choosing what runs fused with what
// (schedule, markStores, programs) cost 14-16 % of an eager step's host time (bench/results/SUMMARY.md, session
// 10). So a flush is planned once per signature: its nodes' structure, each buffer id written as its slot (the
// order in which the flush first names it), each known scalar as the slot of its value (grouping only asks which
// scalars are equal), the slots Python has released. The first flush of a signature is planned over canonical
// copies of its nodes whose buffer ids are virtual, ~slot (negative), and the plan is kept. A later flush with that
// signature takes the plan as it is: the canonical nodes' values (a scalar's bits, an op's p words, an opaque
// node's kernel) are refreshed from its own nodes, and while its kernels are encoded a virtual id names its slot's
// buffer (Buffers.get). Values never shape a plan: they reach the kernels in the params words, at encoding.
//
// Grouping makes objects from nodes (a cut node's pieces, a known scalar's operand): each such value copy is
// noted as a link (Lazy.link) and followed again, in the order it was made, when a plan is taken.

const MAX_PLANS = 64;   // plans kept (all dropped when full); a step has a few flushes
const MAX_USES = 64;    // a plan's runs between two readbacks whose GPUBuffers are remembered apart (bufsFor)

/** The virtual id of slot s (0 stays "no buffer"). */
const vid = (s) => ~s;

export class Plans {
  constructor() {
    this.plans = new Map();   // signature hash -> [{words, canon, items, freeAfter, used, storesSkipped, links}]
    this.count = 0;           // plans kept
    this.on = globalThis.process?.env?.TORCH_JS_WEBGPU_PLAN_CACHE !== '0';
    this.slots = [];          // slot -> the buffer id it names in the flush being planned or run
    this.slotMap = new Map(); // and back
    this.words = new Int32Array(4096);   // the last signature's words: [0, n)
    this.n = 0;
    this.codes = new Map();   // names -> small ints (code)
    this.epoch = 0;           // readbacks and synchronize() so far (synced)
  }

  /** The host waited for the GPU (a readback, synchronize()): a step of a loop has ended, as far as plans can tell. */
  synced() { this.epoch++; }

  /**
   * The GPUBuffers plan's slots took (and will note) for this run of it: a list per run since the last readback. A
   * plan may run several times in a step (one per layer of a model: its backward flushes), and the buffers its
   * previous run took are then mostly still held; the buffers of the same run of the previous step are free again,
   * so a repeated step binds what it bound before (Buffers._getSlot) and finds its bind groups in the cache.
   */
  bufsFor(plan) {
    if (plan.epoch !== this.epoch) { plan.epoch = this.epoch; plan.uses = 0; }
    const j = Math.min(plan.uses++, MAX_USES - 1);
    return plan.bufs[j] ?? (plan.bufs[j] = []);
  }

  /** The slot of buffer `id` in the flush being planned or run (undefined: its nodes do not name it). */
  slotOf(id) { return this.slotMap.get(id); }

  clear() { this.plans.clear(); this.count = 0; }

  /**
   * The signature of `nodes` (live, in order) with `dead` (ids Python released) and `context` (what else a plan
   * depends on: the bridge's kernel choices), as int words in this.words[0, this.n) and their hash (returned); fills
   * this.slots with the flush's buffer ids by slot. (Words, not a string: a 1,000-node flush is signed in tens of µs.)
   */
  signature(nodes, dead, context) {
    const slotOf = new Map(), slots = [], kOf = new Map();
    let W = this.words, n = 0;
    const push = (x) => {
      if (n === W.length) { const w = new Int32Array(2 * n); w.set(W); this.words = W = w; }
      W[n++] = x;
    };
    const V = (id) => {
      if (!id) return 0;
      let s = slotOf.get(id);
      if (s === undefined) { s = slots.length; slotOf.set(id, s); slots.push(id); }
      return vid(s);
    };
    const view = (v) => {
      push(V(v.id)); push(v.dt); push(v.off);
      if (v.k === undefined) { push(-1); return; }
      const key = v.dt * 4294967296 + (v.k >>> 0);   // grouping asks only which known scalars are equal
      let s = kOf.get(key);
      if (s === undefined) kOf.set(key, s = kOf.size);
      push(s);
    };
    const arr = (xs) => { push(xs.length); for (let i = 0; i < xs.length; i++) push(xs[i]); };
    push(this.code(context));
    for (const nd of nodes) {
      push(this.code(nd.fam)); push(this.code(nd.op));
      if (nd.fam === 'opaque') {
        push(nd.effects ? 1 : 0);
        push(nd.ins.length); for (const x of nd.ins) push(V(x.id));
        push(nd.outs.length); for (const x of nd.outs) push(V(x.id));
      } else if (nd.a) {
        blockWords(nd.a, push, V, arr);
      } else {
        arr(nd.shape);
        for (const st of nd.strides) arr(st);
        view(nd.out);
        push(nd.ins.length); for (const x of nd.ins) view(x);
      }
    }
    push(-1);
    const gone = [];
    for (const id of dead) { const s = slotOf.get(id); if (s !== undefined) gone.push(s); }
    gone.sort((x, y) => x - y);
    for (const s of gone) push(s);
    this.n = n;
    this.slots = slots;
    this.slotMap = slotOf;
    let h = 0x811c9dc5;   // FNV-1a over the words
    for (let i = 0; i < n; i++) h = Math.imul(h ^ W[i], 16777619);
    return h >>> 0;
  }

  /** A small number for string s (an op's name, the context), the same each time. */
  code(s) {
    let c = this.codes.get(s);
    if (c === undefined) this.codes.set(s, c = this.codes.size);
    return c;
  }

  /** Canonical copies of `nodes` (virtual ids by this.slots) and `dead` as virtual ids, to plan over. */
  canonical(nodes, dead) {
    const slotOf = this.slotMap;
    const V = (id) => (id ? vid(slotOf.get(id)) : 0);
    const re = (o) => ({ ...o, id: V(o.id) });
    const canon = nodes.map((nd) => {
      const c = { ...nd, out: re(nd.out), ins: nd.ins.map(re) };
      if (nd.operands) c.operands = nd.operands.map(re);
      if (nd.outs) c.outs = nd.outs.map(re);
      if (nd.a) c.a = canonicalBlock(nd.a, re);
      return c;
    });
    const vdead = new Set();
    for (const id of dead) if (slotOf.has(id)) vdead.add(V(id));
    return { canon, vdead };
  }

  /** The plan kept for the signature just made (hash h), or undefined. */
  get(h) {
    if (!this.on) return undefined;
    const W = this.words, n = this.n;
    same: for (const plan of this.plans.get(h) ?? []) {
      const P = plan.words;
      if (P.length !== n) continue;
      for (let i = 0; i < n; i++) if (P[i] !== W[i]) continue same;
      return plan;
    }
    return undefined;
  }

  /** Keep `plan` for the signature just made (hash h). */
  put(h, plan) {
    if (!this.on) return;
    if (this.count >= MAX_PLANS) { this.plans.clear(); this.count = 0; }   // (a program that never repeats a flush)
    plan.words = this.words.slice(0, this.n);
    const list = this.plans.get(h);
    if (list) list.push(plan); else this.plans.set(h, [plan]);
    this.count++;
  }

  /** Plan `plan`'s canonical nodes take the values of `nodes` (the flush about to run on it). */
  static refresh(plan, nodes) {
    const { canon, links } = plan;
    for (let i = 0; i < nodes.length; i++) {
      const c = canon[i], nd = nodes[i];
      if (nd.fam === 'opaque') { c.run = nd.run; continue; }
      if (nd.a) { if (nd.fam === 'attention') c.a.scale = nd.a.scale; continue; }
      c.p = nd.p; c.bits = nd.bits; c.bitsHi = nd.bitsHi;
      for (let j = 0; j < nd.ins.length; j++) if (nd.ins[j].k !== undefined) c.ins[j].k = nd.ins[j].k;
    }
    for (let i = 0; i < links.length; i += 4) links[i][links[i + 1]] = links[i + 2][links[i + 3]];
  }
}

/** A decoded block's structure (abi.mjs ARGS) as words, buffer ids by slot (V); its values (an attention's scale) left out. */
function blockWords(a, push, V, arr) {
  for (const name in a) {
    const v = a[name];
    if (typeof v === 'number') { if (name !== 'scale' && name !== 'p0') push(v); }
    else if (Array.isArray(v)) arr(v);
    else if (v && typeof v === 'object' && 'id' in v) { push(V(v.id)); push(v.dt); push(v.off); }
  }
}

/** A decoded block with its operands' ids made virtual (`re`). */
function canonicalBlock(a, re) {
  const c = { ...a };
  for (const name in a) {
    const v = a[name];
    if (v && typeof v === 'object' && !Array.isArray(v) && 'id' in v) c[name] = re(v);
  }
  return c;
}
