"""Operands kept in the worker pool's shared memory between products (backends/cpu/wasm_threads.py).

A model's weights go into every forward's products unchanged, so copying them into the shared memory again for each
product (about 40 MB a forward for a MiniLM encoder: two thirds of what its products copy) is work the pool's
threads cannot share. An operand seen a second time unchanged is instead copied once into an arena of the shared
memory and read from there by later products, until its memory changes.

"Unchanged" is the storage's version counter, which every in-place write through the storage bumps (autograd's own
check). Writes that do not bump it are refused up front: a storage that has been aliased (tensor.data, whose writes
bump the alias's counter: Storage.aliased) or resized (owner set), and memory the storage does not own (frombuffer,
NumPy arrays: only torch_js's own allocations, ctypes arrays with no source object, qualify). The key holds the
storage weakly (a freed storage's id may come back) and the operand's address and byte span, so views at different
offsets of one storage are separate entries.

The arena is fresh pages of the shared memory, at most BUDGET bytes, filled in order; when an operand no longer fits,
the arena is emptied before the next product starts (never during one, whose operands may sit in it) and fills
again from the start: a model larger than the budget costs what it cost without the arena.

A float32 weight kept there is also kept packed as the product's tiles read it (packed(): tjs_pool_gemm
packs it on its first product, and again after it changes), so that the tiles of every later product skip packing
B (with 8 threads each 384-column weight was packed once per 64-row tile: 4 times a product).

Results too: the last pooled op's result is read where it sits by the next pooled op that takes it unchanged
(LastResult), instead of being copied back in.
"""
import ctypes
import os
import struct
import weakref

from . import library

BUDGET = 256 << 20
PACK_BUDGET = 128 << 20   # the packed weights' own (packing stops there: it never evicts operands)
# TORCH_JS_POOL_PACK=0: no weight kept packed (every tile packs its B, as before), for A/B measurements
PACKING = os.environ.get("TORCH_JS_POOL_PACK", "1") != "0"
_CHUNK = 16 << 20      # arena grown this much at a time (or one operand's size, when larger)
_MAX_SIGHTINGS = 4096  # first sightings remembered (cleared when there are more: they are only a hint)


def _cacheable(storage):
    """Whether every write to the storage's memory bumps its version (see the module's text)."""
    buf = storage.buf
    return (storage.owner is None and not storage.aliased and isinstance(buf, ctypes.Array)
            and buf._b_base_ is None and buf._objects is None)


class _Region:
    """Fresh pages of a pool's shared memory handed out in order, at most budget() bytes grown; reset() hands them
    out again from the start."""

    def __init__(self, pool, budget):
        self.pool, self.budget = pool, budget
        self.chunks = []        # [address, bytes] of the region's chunks, in the order they fill
        self.chunk, self.used = 0, 0
        self.grown = 0

    def reset(self):
        self.chunk, self.used = 0, 0

    def alloc(self, nbytes):
        """The address of nbytes (64-byte aligned), or 0 when the budget does not allow them."""
        nbytes = -(-nbytes // 64) * 64
        while True:
            if self.chunk < len(self.chunks):
                base, size = self.chunks[self.chunk]
                if self.used + nbytes <= size:
                    self.used += nbytes
                    return base + self.used - nbytes
                self.chunk, self.used = self.chunk + 1, 0
                continue
            size = max(_CHUNK, nbytes)
            base = self.pool.alloc(size) if self.grown + size <= self.budget() else 0
            if not base:
                return 0
            self.chunks.append([base, size])
            self.grown += size


class Arena:
    """Operands resident in one pool's shared memory: place(tensor, address, nbytes) -> where it sits there, or 0."""

    def __init__(self, pool):
        self.pool = pool
        self.region = _Region(pool, lambda: BUDGET)
        self.pack_region = _Region(pool, lambda: PACK_BUDGET)   # packed()'s
        self.entries = {}       # (id(storage), address, nbytes) -> [storage weakref, version, shared address]
        self.sightings = {}     # the same keys -> [storage weakref, version]: seen once
        # (key, layout) -> [storage weakref, version, shared address]: B packed (packed(); kept when the arena empties:
        # a pack is the weight's bytes at that version wherever they sit)
        self.packs = {}
        self._zero = ctypes.create_string_buffer(4)
        self.full = False       # an operand did not fit: empty the arena before the next product
        self.copied = 0         # bytes copied into the arena so far (tests, benchmarks)

    def start_product(self):
        """Called before a product places its operands: empties a full arena."""
        if self.full:
            self.entries.clear()
            self.region.reset()
            self.full = False

    def place(self, t, address, nbytes):
        """The shared address of t's bytes [address, address + nbytes) kept in the arena (copied in now if they
        changed or were seen once before), or 0: stage them for this product only."""
        storage = t._storage
        if not _cacheable(storage):
            return 0
        key = (id(storage), address, nbytes)
        entry = self.entries.get(key)
        if entry is not None and entry[0]() is storage:
            if entry[1] == storage.version:
                return entry[2]
            entry[1] = storage.version   # written since: the same place again
            self.pool.copyIn(entry[2], address, nbytes)
            self.copied += nbytes
            return entry[2]
        seen = self.sightings.get(key)
        if seen is None or seen[0]() is not storage or seen[1] != storage.version:
            if len(self.sightings) >= _MAX_SIGHTINGS:
                self.sightings.clear()
            self.sightings[key] = [weakref.ref(storage), storage.version]
            return 0
        shared = self._alloc(nbytes)
        if not shared:
            return 0
        del self.sightings[key]
        self.entries[key] = [weakref.ref(storage), storage.version, shared]
        self.pool.copyIn(shared, address, nbytes)
        self.copied += nbytes
        return shared

    def packed(self, t, address, nbytes, layout, pack_bytes):
        """Where t's bytes (kept in the arena by place() for this product) are kept packed as tjs_pool_gemm
        packs B for this layout ((K, N, row stride, column stride)), or 0: pack_bytes of the arena whose first word
        says whether they are packed yet (zeroed here when new or when t has changed since: tjs_pool_gemm packs
        them then)."""
        if not PACKING:
            return 0
        storage = t._storage
        key = ((id(storage), address, nbytes), layout)
        pack = self.packs.get(key)
        if pack is None:
            shared = self.pack_region.alloc(pack_bytes)
            if not shared and self.packs:   # its budget is spent (packs of weights gone too): packed again as used
                self.packs.clear()
                self.pack_region.reset()
                shared = self.pack_region.alloc(pack_bytes)
            if not shared:   # larger than the budget: the tiles pack this B themselves
                return 0
            pack = self.packs[key] = [None, None, shared]
        if pack[0] is None or pack[0]() is not storage or pack[1] != storage.version:
            pack[0], pack[1] = weakref.ref(storage), storage.version
            self.pool.copyIn(pack[2], ctypes.addressof(self._zero), 4)
        return pack[2]

    def _alloc(self, nbytes):
        shared = self.region.alloc(nbytes)
        if not shared:
            self.full = True
        return shared


# what the side module's argument block holds at slot 0 while no kernel has run since a result was kept: every kernel
# call packs its arguments from slot 0, and no argument block starts with this value (op codes, dtypes, counts and
# wasm32 addresses are all below 2^32)
_UNTOUCHED = 0x7E57AB1E0D0E0001
_SLOT0 = struct.Struct("<q")


class LastResult:
    """The last pooled op's result, still in the shared memory after it was copied out (wasm_threads alternates two
    staging areas, so it stays there until the next op ends): that op reads an operand there instead of copying it
    in (a GELU's input is the product before it, a product's the GELU before it), when it is those bytes unchanged.

    Unchanged: the storage is the same object (held weakly) and qualifies as the arena's do, its version is the same,
    and no kernel of the side module has run since (keep() writes _UNTOUCHED into its argument block's first slot,
    which every kernel call overwrites): an internal write that bumps no version (a composite writing into its own
    intermediate) goes through a kernel."""

    def __init__(self):
        self.entry = None   # (storage weakref, version, heap address, bytes, shared address)

    def keep(self, t, heap, nbytes, shared):
        storage = t._storage
        if not _cacheable(storage):
            self.entry = None
            return
        self.entry = (weakref.ref(storage), storage.version, heap, nbytes, shared)
        with library.KERNEL_LOCK:
            _SLOT0.pack_into(library.ARGS_VIEW, 0, _UNTOUCHED)

    def find(self, t, heap, nbytes):
        """The shared address of t's bytes [heap, heap + nbytes) within the kept result, or 0."""
        if self.entry is None:
            return 0
        ref, version, at, size, shared = self.entry
        storage = t._storage
        if (ref() is not storage or storage.version != version or heap < at or heap + nbytes > at + size
                or _SLOT0.unpack_from(library.ARGS_VIEW, 0)[0] != _UNTOUCHED):
            return 0
        return shared + (heap - at)
