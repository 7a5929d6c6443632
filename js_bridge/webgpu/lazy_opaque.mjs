// Opaque nodes and dead work of the lazy record (lazy.mjs). A primitive that is not elementwise, a reduction or a
// product (softmax, take, put, index offsets, cumulative sums, im2col / col2im, pooling) is recorded too, not run
// with a flush before it: an opaque node, checked when Python calls it (an error is raised by the op that causes
// it), that runs its own eager kernel at its place in the flush, never fused. It names the buffers it reads and
// writes, so that the scheduler orders it against the other nodes and Python's releases wait for it. A training
// step is then one flush (its sync), not one per softmax, gather and scatter.
//
// At a flush, nodes whose results nobody will see are not run (liveNodes): dead code, as an intermediate's whole
// chain is once Python released it (`a + a` with the result dropped).
import { FAMILY } from './abi.mjs';
import { DT } from './kernels/common.mjs';
import { runRowNorm } from './kernels/norm.mjs';

// Pending nodes from which an opaque node is recorded after a flush, not into a long record; from then on every
// opaque node of that op is (Lazy.cutAt). A loop with no sync (training steps) is so cut at the same node of each
// step, and a step after a sync at that node too: its records fuse the same way each time (the same kernels, none
// compiled anew), where cuts every MAX_PENDING nodes would fall anywhere in a step, a new cut each time.
export const SOFT_PENDING = 512;

/** The ids of the present operands (id 0: absent). */
const ids = (...ops) => ops.filter((o) => o.id).map((o) => o.id);
const dtsOf = (...ops) => ops.map((o) => o.dt);
const unsupported = (m) => Object.assign(new Error(m), { code: 1 });

/**
 * The families recorded as opaque nodes: io(a, bridge) -> [ids read, ids written] of decoded block `a`; dts(a): the
 * dtypes checked when recorded (and check(a), more); run(bridge, a) its eager kernel (a.p0: the block's p0).
 */
export const OPAQUE = {
  [FAMILY.SOFTMAX]: { io: (a) => [ids(a.x), ids(a.out)], dts: (a) => dtsOf(a.x, a.out), run: (b, a) => b._softmax(a) },
  [FAMILY.CUMUL]: { io: (a) => [ids(a.x), ids(a.out)], dts: (a) => dtsOf(a.x, a.out), run: (b, a) => b._cumul(a) },
  [FAMILY.TAKE]: {
    io: (a) => [ids(a.src, a.offs), ids(a.out)], dts: (a) => dtsOf(a.out, a.src, a.offs),
    run: (b, a) => b._ew('take', '', [a.out, a.src, a.offs], a.shape, [a.out_st, a.src_st, a.offs_st]),
  },
  [FAMILY.PUT]: { io: (a) => [ids(a.val, a.offs), ids(a.dst)], dts: (a) => dtsOf(a.dst, a.val), run: (b, a) => b._put(a) },
  [FAMILY.INDEX_OFFSETS]: {   // (accumulating onto another index's offsets: index.mjs holds the others)
    io: (a, b) => [ids(a.idx), [...ids(a.offs), b.errId]], dts: (a) => dtsOf(a.idx), run: (b, a) => b._indexOffsets(a),
  },
  [FAMILY.IM2COL]: { io: (a) => [ids(a.x), ids(a.out)], dts: (a) => dtsOf(a.out, a.x), run: (b, a) => b._im2col(a, true) },
  [FAMILY.COL2IM]: { io: (a) => [ids(a.cols), ids(a.out)], dts: (a) => dtsOf(a.out, a.cols), run: (b, a) => b._im2col(a, false) },
  [FAMILY.POOL]: { io: (a) => [ids(a.x), ids(a.out, a.idx)], dts: (a) => dtsOf(a.out, a.x), run: (b, a) => b._pool(a, true) },
  [FAMILY.POOL_BWD]: {
    io: (a) => [ids(a.grad_out, a.idx), ids(a.grad_in)], dts: (a) => dtsOf(a.grad_in, a.grad_out),
    check: (a) => {
      if (a.grad_in.dt !== DT.float32) throw unsupported('pool_backward: float32 only');
    },
    run: (b, a) => b._pool(a, false),
  },
  [FAMILY.REDUCE]: {   // (those lazy.mjs does not fuse: with indices, int64)
    io: (a) => [ids(a.x), ids(a.out, a.out2)], dts: (a) => dtsOf(a.x, a.out, ...(a.out2.id ? [a.out2] : [])),
    run: (b, a) => b._reduce(a),
  },
  [FAMILY.SORT]: { io: (a) => [ids(a.x), ids(a.values, a.indices)], dts: (a) => dtsOf(a.x, a.values), run: (b, a) => b._sort(a) },
  [FAMILY.CUMEXT]: { io: (a) => [ids(a.x), ids(a.values, a.indices)], dts: (a) => dtsOf(a.x, a.values), run: (b, a) => b._cumext(a) },
  [FAMILY.LOGCUMSUMEXP]: {
    io: (a) => [ids(a.x), ids(a.out)], dts: (a) => dtsOf(a.x, a.out),
    check: (a) => { if (a.x.dt !== a.out.dt) throw unsupported('logcumsumexp: out dtype must match'); },
    run: (b, a) => b._logcumsumexp(a),
  },
  [FAMILY.SEARCHSORTED]: {
    io: (a) => [ids(a.boundaries, a.values), ids(a.out)], dts: (a) => dtsOf(a.boundaries, a.values),
    check: (a) => {
      const t = a.boundaries.dt;
      if (t !== a.values.dt || (t !== DT.float32 && t !== DT.int64)) throw unsupported('searchsorted: float32 or int64 keys');
    },
    run: (b, a) => b._searchsorted(a),
  },
  [FAMILY.ROW_NORM]: {   // (the weight's and bias's dtypes: runRowNorm checks them too)
    io: (a) => [ids(a.x, a.w, a.b), ids(a.out, a.mean, a.rstd)], dts: (a) => dtsOf(a.x, a.out),
    run: (b, a) => runRowNorm(b, a, a.p0),
  },
};

/**
 * The nodes of a flush that must run, in order: those that write a buffer Python still holds or that a later
 * such node reads, and those with effects beyond what they write (a bounds check). A node writing only buffers
 * Python released (`dead`) and nothing later reads is skipped (counted as counts.dead_skipped); an in-place write
 * into such a buffer too. One pass from the last node back (a node's writes count as read too where it is an
 * opaque one: it may write part of a buffer, the rest kept).
 */
export function liveNodes(nodes, dead, counts) {
  if (!dead.size) return nodes;
  const needed = new Set();   // buffer ids a live node after this one reads
  const live = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const nd = nodes[i];
    if (!nd.effects && !needed.has(nd.out.id) && dead.has(nd.out.id) &&
        (!nd.outs || nd.outs.every((o) => dead.has(o.id) && !needed.has(o.id)))) {
      counts.dead_skipped++;
      continue;
    }
    for (const x of nd.ins) needed.add(x.id);
    live.push(nd);
  }
  return live.length === nodes.length ? nodes : live.reverse();
}
