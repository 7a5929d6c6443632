// t[idx] and t[idx] = v on the bridge: index_offsets (an index tensor to element offsets, bounds-checked), take
// and put (kernels/index.mjs), and the pair of one index_offsets and its take or put run as one kernel. Methods of
// the Bridge (index.mjs assigns them to its prototype): `this` is the bridge.
import { ARGS, FAMILY } from './abi.mjs';
import { ARR, coalesce, grid } from './kernels/common.mjs';
import { WG } from './kernels/elementwise.mjs';
import { indexOffsetsSource, indexOffsetsSpecs, putSource, putSpecs, putSpecsIndexed } from './kernels/index.mjs';

export const INDEX_METHODS = {
  // ---- t[idx], t[idx] = v: index_offsets and the take or put as one kernel --------------------------------------
  // An index_offsets of one index tensor (not accumulating onto another's) turns an index into element offsets for
  // the take or put Python calls right after, which is all that reads them: Python releases them then. So it is
  // held (heldOffsets) and that take or put reads the index itself (kernels/index.mjs `indexed`): one dispatch, not
  // two (a decoding step's KV-cache writes, an embedding). Anything else the bridge is asked first computes the
  // held offsets as before (_runHeldOffsets: the index still holds the same values then); their release drops them.
  // Each is recorded as an opaque node of the lazy record (index.mjs _opaque), run at its place in the flush: its
  // bounds check writes the error flag, so it is never skipped as dead.

  /** Run take/put `I` with the held offsets computed in its own kernel; false when it cannot (then they are run). */
  _runIndexed(fam, I) {
    const h = this.heldOffsets;
    const a = fam === FAMILY.TAKE ? ARGS.TAKE(I) : fam === FAMILY.PUT ? ARGS.PUT(I) : null;
    const st = a && a.offs.id === h.offs.id && a.offs.off === h.offs.off && this._indexStrides(a, h);
    if (!st || (fam === FAMILY.PUT && a.dst.id === h.idx.id)) { this._runHeldOffsets(); return false; }
    const params = (w, u32) => { u32[w + 8] = h.dim_size; u32[w + 9] = h.dim_stride; u32[w + 10] = h.flags; };
    const idx = { id: h.idx.id, dt: h.idx.dt, off: h.idx.off };
    const run = () => {
      if (fam === FAMILY.TAKE) this._ew('take', '', [a.out, a.src, idx], a.shape, [a.out_st, a.src_st, st], params, true);
      else this._put({ ...a, offs: idx, offs_st: st }, params);
      this.indexUsed = true;
    };
    if (fam === FAMILY.TAKE) this._opaque('take_idx', [a.src.id, idx.id], [a.out.id, this.errId], [a.out.dt, a.src.dt, idx.dt], run);
    else this._opaque('put_idx', [a.val.id, idx.id], [a.dst.id, this.errId], [a.dst.dt, a.val.dt], run);
    return true;
  },

  /** take/put `a`'s strides over the held offsets as strides over their index, or null (a view it cannot map). */
  _indexStrides(a, h) {
    const byStride = new Map();   // the offsets are contiguous over h.shape: a stride names one dimension
    h.shape.forEach((size, k) => { if (size > 1) byStride.set(h.offs_st[k], h.idx_st[k]); });
    const st = new Array(a.shape.length);
    for (let j = 0; j < a.shape.length; j++) {
      const s = a.offs_st[j];
      st[j] = s === 0 || a.shape[j] === 1 ? 0 : byStride.get(s);
      if (st[j] === undefined) return null;
    }
    return st;
  },

  _runHeldOffsets() {
    const a = this.heldOffsets;
    this.heldOffsets = null;
    this._opaque('index_offsets', [a.idx.id], [a.offs.id, this.errId], [a.idx.dt], () => this._indexOffsets(a));
  },

  _indexOffsets(a) {
    const { id: oid, off: ooff } = a.offs, { id: iid, dt: idt, off: ioff } = a.idx;
    const { dim_size: size, dim_stride: stride, flags, shape } = a;
    let n = 1;
    for (const s of shape) n *= s;
    if (!n) return;
    this._checkDtypes([idt]);
    const [cs, cst] = coalesce(shape, [a.offs_st, a.idx_st]);
    const d = this.disp;
    const p = this._pipe(`index_offsets:${idt}`, [oid, iid, this.errId], () => indexOffsetsSpecs(idt), (b, v) => indexOffsetsSource(idt, b, v[2]));
    const w = d.slot();
    const u32 = d.u32;
    const [gx, gy] = grid(Math.ceil(n / WG));
    u32[w] = n; u32[w + 1] = cs.length; u32[w + 2] = gx; u32[w + 3] = ooff; u32[w + 4] = ioff;
    u32[w + 8] = size; u32[w + 9] = stride; u32[w + 10] = flags;
    for (let j = 0; j < cs.length; j++) { u32[w + ARR(0) + j] = cs[j]; u32[w + ARR(1) + j] = cst[0][j]; u32[w + ARR(2) + j] = cst[1][j]; }
    d.dispatch(p, [oid, iid, this.errId], w, gx, gy);
    this.indexUsed = true;
  },

  /** `indexed` (params writer): a.offs is the index itself, its offsets computed in the kernel (_runIndexed). */
  _put(a, indexed = null) {
    const { accumulate: acc, shape } = a;
    const { id: did, dt: ddt, off: doff } = a.dst, { id: vid, dt: vdt, off: voff } = a.val, { id: fid, off: foff } = a.offs;
    let n = 1;
    for (const s of shape) n *= s;
    if (!n) return;
    this._checkDtypes([ddt, vdt]);
    const [cs, cst] = coalesce(shape, [a.val_st, a.dst_st, a.offs_st]);
    const d = this.disp;
    const fdt = a.offs.dt, ids = indexed ? [did, vid, fid, this.errId] : [did, vid, fid];
    const p = indexed
      ? this._pipe(`put_idx:${ddt}:${acc}:${fdt}`, ids, () => putSpecsIndexed(ddt, fdt), (b, v) => putSource(ddt, !!acc, b, v[0], { idd: fdt, vE: v[3] }))
      : this._pipe(`put:${ddt}:${acc}`, ids, () => putSpecs(ddt), (b, v) => putSource(ddt, !!acc, b, v[0]));
    const w = d.slot();
    const u32 = d.u32;
    const [gx, gy] = grid(Math.ceil(n / WG));
    u32[w] = n; u32[w + 1] = cs.length; u32[w + 2] = gx; u32[w + 3] = doff; u32[w + 4] = voff; u32[w + 5] = foff;
    for (let j = 0; j < cs.length; j++) for (let k = 0; k < 3; k++) { u32[w + ARR(0) + j] = cs[j]; u32[w + ARR(k + 1) + j] = cst[k][j]; }
    indexed?.(w, u32);
    d.dispatch(p, ids, w, gx, gy);
  },
};
