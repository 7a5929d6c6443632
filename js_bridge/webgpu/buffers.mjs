// GPU buffers behind integer ids (Python's Storage.ptr). Freed buffers go to a pool keyed by padded size
// (tinygrad's LRUAllocator, jax-js's #acquireBuffer). A buffer freed while the open command batch may still
// use it waits in `pendingFree` until that batch is submitted, so a later queue.writeBuffer into a reused
// buffer can never overtake commands recorded before it. A kernel may take such a buffer at once, though: its
// commands are recorded after those that used the buffer last, and run after them.
// An id gets its GPUBuffer on first use (get), not at alloc: under lazy execution (lazy.mjs) an intermediate
// that a fused kernel keeps in registers is never written, so it never needs memory.

export const MAX_REUSABLE_BUFFER_BYTES = 64 << 20;   // larger buffers are destroyed, not pooled
export const MAX_POOL_BYTES = 512 << 20;              // pool beyond this is trimmed
const USAGE_STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/**
 * Padded size: a multiple of 256 up to 4 KiB, then 16 buckets per power of two (at most 1/8 more than asked), so
 * that a buffer that grows a little each step (a KV cache grown by torch.cat, one row a token) finds a freed one
 * of its bucket in the pool for several steps, instead of a new GPUBuffer and new bind groups every time.
 */
export function paddedSize(n) {
  if (n <= 256) return 256;
  if (n <= 4096) return (n + 255) & ~255;
  const step = 2 ** (Math.ceil(Math.log2(n)) - 4);   // 1/16 of the next power of two
  return Math.ceil(n / step) * step;
}

export class Buffers {
  constructor(device) {
    this.device = device;
    this.byId = new Map();        // id -> {buf, nbytes}
    this.nextId = 2;
    this.pool = new Map();        // padded size -> [GPUBuffer]
    this.pendingFree = new Map();   // padded size -> [GPUBuffer] freed since the last submit
    this.allocated = 0;           // bytes held by live ids (their requested sizes)
    this.reserved = 0;            // bytes of GPUBuffers that exist (live + pooled), padded
    this.pooled = 0;
    this.serial = 0;              // GPUBuffer serials, for bind-group cache keys
    this.created = 0;             // GPUBuffers made (pool misses)
    this.readStaging = [];        // MAP_READ buffers
    this.slots = null;            // while a planned flush runs: virtual id ~s names buffer slots[s] (lazy_plans.mjs)
    this.slotBufs = null;         // ... and slot s took GPUBuffer slotBufs[s] the last time its plan ran
    this.slotOf = null;           // ... and buffer id -> its slot (an opaque node's kernel names real ids)
  }

  /** The buffer id that `id` names: itself, or a virtual id's (lazy_plans.mjs). */
  real(id) { return id < 0 ? this.slots[~id] : id; }

  /**
   * A planned flush's kernels run now: virtual id ~s names buffer ids[s] (slotOf: the inverse map), its GPUBuffer
   * preferably bufs[s]; all null: none.
   */
  bindSlots(ids, bufs, slotOf) { this.slots = ids; this.slotBufs = bufs; this.slotOf = slotOf; }

  _create(size) {
    let buf;
    try {
      buf = this.device.createBuffer({ size, usage: USAGE_STORAGE() });
    } catch (e) {
      this.emptyCache();
      buf = this.device.createBuffer({ size, usage: USAGE_STORAGE() });
    }
    buf._tjsSerial = ++this.serial;
    this.created++;
    this.reserved += size;
    return buf;
  }

  /** A new id (even: Python numbers its own buffers with odd ids, allocAs) for nbytes. */
  alloc(nbytes) {
    const id = this.nextId;
    this.nextId += 2;
    this.allocAs(id, nbytes);
    return id;
  }

  /** Register id (numbered by the caller) for nbytes. */
  allocAs(id, nbytes) {
    this.byId.set(id, { buf: null, nbytes });
    this.allocated += nbytes;
  }

  /** The GPUBuffer of `id` for a command being recorded (created, or taken from the pool, on first use). */
  get(id) {
    if (id < 0) return this._getSlot(~id);
    if (this.slotOf) {
      const s = this.slotOf.get(id);
      if (s !== undefined) return this._getSlot(s);
    }
    const e = this.byId.get(id);
    if (!e) throw new Error(`torch_js webgpu: buffer ${id} was already released`);
    return e.buf ?? (e.buf = this._take(paddedSize(e.nbytes), true));
  }

  /**
   * The GPUBuffer of slot s of the planned flush being run: a new value of the slot takes the buffer the slot had the
   * last time the plan ran where that one is free, so a repeated step binds the very buffers it bound before and
   * finds its bind groups in the cache (dispatch.mjs) instead of making them again.
   */
  _getSlot(s) {
    const id = this.slots[s], e = this.byId.get(id);
    if (!e) throw new Error(`torch_js webgpu: buffer ${id} was already released`);
    if (!e.buf) {
      const size = paddedSize(e.nbytes);
      e.buf = this._takeThis(this.slotBufs[s], size) ?? this._take(size, true);
    }
    this.slotBufs[s] = e.buf;
    return e.buf;
  }

  /** Buffer `buf` of padded size `size` out of the free ones (freed in the open batch, or pooled), or null. */
  _takeThis(buf, size) {
    if (!buf || buf.size !== size) return null;
    const pending = this.pendingFree.get(size);
    let i = pending ? pending.lastIndexOf(buf) : -1;
    if (i >= 0) return pending.splice(i, 1)[0];
    const list = this.pool.get(size);
    i = list ? list.lastIndexOf(buf) : -1;
    if (i < 0) return null;
    this.pooled -= size;
    return list.splice(i, 1)[0];
  }

  /** A buffer of padded size `size`: freed in the open batch (only for commands: `recorded`), pooled, or new. */
  _take(size, recorded) {
    const pending = recorded && this.pendingFree.get(size);
    if (pending && pending.length) return pending.pop();
    const list = this.pool.get(size);
    if (list && list.length) {
      this.pooled -= size;
      return list.pop();
    }
    return this._create(size);
  }

  /** `batchOpen`: the dispatcher has recorded commands not yet submitted. */
  release(id, batchOpen) {
    const e = this.byId.get(id);
    if (!e) return;
    this.byId.delete(id);
    this.allocated -= e.nbytes;
    if (!e.buf) return;
    if (batchOpen) {
      let list = this.pendingFree.get(e.buf.size);
      if (!list) this.pendingFree.set(e.buf.size, list = []);
      list.push(e.buf);
    }
    else this._toPool(e.buf);
  }

  /** Called by the dispatcher right after a submit. */
  afterSubmit() {
    const p = this.pendingFree;
    this.pendingFree = new Map();
    for (const list of p.values()) for (const b of list) this._toPool(b);
  }

  _toPool(buf) {
    const size = buf.size;
    if (size > MAX_REUSABLE_BUFFER_BYTES || this.pooled + size > MAX_POOL_BYTES) {
      buf.destroy();
      this.reserved -= size;
      return;
    }
    let list = this.pool.get(size);
    if (!list) this.pool.set(size, list = []);
    list.push(buf);
    this.pooled += size;
  }

  emptyCache() {
    for (const list of this.pool.values()) for (const b of list) { b.destroy(); this.reserved -= b.size; }
    this.pool.clear();
    this.pooled = 0;
    for (const b of this.readStaging) b.destroy();
    this.readStaging = [];
  }

  /** Write bytes (a Uint8Array) at the start of buffer `id`; the buffer must not be used by open commands. */
  upload(id, bytes) {
    const e = this.byId.get(id);
    if (!e) throw new Error(`torch_js webgpu: buffer ${id} was already released`);
    const buf = e.buf ?? (e.buf = this._take(paddedSize(e.nbytes), false));
    const n = bytes.byteLength & ~3;
    if (n) this.device.queue.writeBuffer(buf, 0, bytes.buffer, bytes.byteOffset, n);
    if (n !== bytes.byteLength) {   // tail: writeBuffer wants a multiple of 4 bytes
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(n));
      this.device.queue.writeBuffer(buf, n, tail);
    }
  }

  stagingFor(size) {
    const i = this.readStaging.findIndex((b) => b.size >= size);
    if (i >= 0) return this.readStaging.splice(i, 1)[0];
    return this.device.createBuffer({ size: paddedSize(size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  returnStaging(b) {
    if (this.readStaging.length < 8 && b.size <= MAX_REUSABLE_BUFFER_BYTES) this.readStaging.push(b);
    else b.destroy();
  }

  stats() {
    return { allocated: this.allocated, reserved: this.reserved, pooled: this.pooled, live: this.byId.size };
  }
}
