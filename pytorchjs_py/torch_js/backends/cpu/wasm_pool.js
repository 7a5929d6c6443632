// The worker pool of the threaded wasm kernels (libtjs_wasm32_threads*.wasm, mk/wasm_threads.mk), for
// torch.set_num_threads in Pyodide. A classic script: backends/cpu/wasm_threads.py reads it from the package and
// evaluates it with pyodide.code.run_js; its value is {unavailableReason, machineCores, createPool, startsLate}.
// Nothing is async: Python calls it synchronously from Pyodide's thread (Node's main thread, or the Web Worker Pyodide
// runs in, in a browser), whose event loop does not turn while Python runs.
//
// One shared WebAssembly.Memory; the module instantiated over it once here (the caller's instance) and once in each
// worker (worker_threads in Node, Web Workers in browsers). A worker sets its own stack (a region this side grew the
// memory for) through the exported __stack_pointer and then sits in tjs_worker_main, waiting on the pool's words with
// memory.atomic.wait32 (wasm_ext/threads.c). The caller's tjs_gemm hands out tiles through them and waits for those
// that joined; it never waits for a worker that has not started, so workers still starting (a browser starts them
// only once Pyodide's worker returns to its event loop) cost nothing but their share.
//
// Python moves the operands: copyIn/copyOut between Pyodide's heap (HEAPU8 of the module Python runs in) and this
// memory, reserve() for the staging area, alloc() for the regions that keep operands between calls, call() for a
// kernel, run() for a kernel with its operands' copies and arguments in one call.
(() => {
  const PAGE = 65536;
  const WORKER_STACK = 256 * 1024;

  // the worker's whole program (stringified into its source): instantiate, take its stack, serve forever
  function workerMain(init) {
    const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
    instance.exports.__stack_pointer.value = init.stackTop;
    instance.exports.tjs_worker_main(init.worker);
  }

  const IN_NODE = typeof process === "object" && !!(process.versions && process.versions.node);

  // why threads cannot run here, or "" when they can
  function unavailableReason() {
    if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined")
      return "SharedArrayBuffer is not available (the page is not cross-origin isolated: it needs the " +
        "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp headers)";
    if (IN_NODE) {
      if (typeof process.getBuiltinModule !== "function")
        return "this Node has no process.getBuiltinModule (Node >= 20.16 needed for worker_threads from Pyodide)";
      return "";
    }
    if (typeof crossOriginIsolated !== "undefined" && !crossOriginIsolated)
      return "the page is not cross-origin isolated (Cross-Origin-Opener-Policy: same-origin and " +
        "Cross-Origin-Embedder-Policy: require-corp headers), so memory cannot be shared with workers";
    if (typeof WorkerGlobalScope === "undefined" || !(self instanceof WorkerGlobalScope))
      return "Pyodide runs on the page's main thread, which may not block (Atomics.wait) for workers";
    if (typeof Worker === "undefined") return "this worker cannot start workers (no nested Worker)";
    return "";
  }

  function machineCores() {
    if (IN_NODE) {
      const os = process.getBuiltinModule && process.getBuiltinModule("os");
      if (os) return os.availableParallelism ? os.availableParallelism() : os.cpus().length;
    }
    return (typeof navigator === "object" && navigator.hardwareConcurrency) || 1;
  }

  function startWorker(init) {
    if (IN_NODE) {
      const { Worker } = process.getBuiltinModule("worker_threads");
      const w = new Worker(`(${workerMain})(require("worker_threads").workerData)`, { eval: true, workerData: init });
      w.unref();   // a worker waiting for tasks keeps no process alive
      return w;
    }
    const src = `onmessage = (e) => (${workerMain})(e.data);`;
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    const w = new Worker(url);
    URL.revokeObjectURL(url);
    w.postMessage(init);
    return w;
  }

  // the largest shared memory this engine grants (its maximum is reserved up front; the module declares 65535 pages)
  function sharedMemory(minPages) {
    for (const maximum of [65535, 32768, 16384, 4096]) {
      try {
        return new WebAssembly.Memory({ initial: minPages, maximum, shared: true });
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
    }
    throw new RangeError("no shared WebAssembly.Memory could be reserved");
  }

  // the memory's minimum from the module's import section (the JS API does not say it)
  function importedMinPages(bytes) {
    let p = 8;
    const leb = () => {
      let r = 0, s = 0, x;
      do { x = bytes[p++]; r += (x & 127) * 2 ** s; s += 7; } while (x & 128);
      return r;
    };
    const name = () => { const n = leb(); p += n; };
    while (p < bytes.length) {
      const id = bytes[p++], size = leb(), end = p + size;
      if (id === 2) {
        for (let n = leb(); n > 0; n--) {
          name(); name();
          const kind = bytes[p++];
          if (kind === 2) { leb(); return leb(); }   // memory: flags, min
          if (kind === 0) leb();
          else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); }
          else if (kind === 3) p += 2;
        }
      }
      p = end;
    }
    throw new Error("threaded kernel module imports no memory");
  }

  // the pool over a new shared memory: `bytes` the module's, heapOwner.HEAPU8 the heap Python's pointers index
  function createPool(bytes, heapOwner) {
    bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const module = new WebAssembly.Module(bytes);
    const memory = sharedMemory(importedMinPages(bytes));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const ex = instance.exports;
    const readyWord = ex.tjs_pool_ready_word() >>> 2, joinedWord = ex.tjs_pool_joined_word() >>> 2;
    const spin = Number(globalThis.process?.env?.TORCH_JS_POOL_SPIN);   // (polls before a worker sleeps: measuring)
    if (spin >= 0) Atomics.store(new Int32Array(memory.buffer), ex.tjs_pool_spin.value >>> 2, spin);
    const workers = [];
    let staging = 0, stagingBytes = 0;

    const grow = (bytes) => memory.grow(Math.ceil(bytes / PAGE)) * PAGE;   // fresh pages; nothing is freed
    const u8 = () => new Uint8Array(memory.buffer);   // a new view after any growth
    return {
      argsAddr: ex.tjs_args.value, errAddr: ex.tjs_err.value,
      // workers started (some may still be starting), and those serving (in tjs_worker_main)
      started: () => workers.length,
      ready: () => Atomics.load(new Int32Array(memory.buffer), readyWord),
      // tasks the workers have joined so far (a call's share taken by a worker counts once): all, or worker w's
      joined: (w = 0) => Atomics.load(new Int32Array(memory.buffer), joinedWord + w),
      // starts workers up to `n` (the caller's instance is the (n+1)-th thread)
      ensureWorkers(n) {
        while (workers.length < n) {
          const stackTop = grow(WORKER_STACK) + WORKER_STACK;
          workers.push(startWorker({ module, memory, worker: workers.length + 1, stackTop }));
        }
        return workers.length;
      },
      // blocks (Atomics.wait: allowed on Node's main thread and in workers) until n workers serve or ms pass
      waitReady(n, ms) {
        const words = new Int32Array(memory.buffer), until = Date.now() + ms;
        for (let have; (have = Atomics.load(words, readyWord)) < n;) {
          const left = until - Date.now();
          if (left <= 0) return have;
          Atomics.wait(words, readyWord, have, Math.min(left, 10));
        }
        return Atomics.load(words, readyWord);
      },
      // a staging area of at least `bytes` (the last one, or fresh pages); 0 when the memory is full
      reserve(bytes) {
        if (bytes > stagingBytes) {
          const want = Math.max(bytes, 2 * stagingBytes);
          try {
            staging = grow(want);
          } catch (e) {
            if (!(e instanceof RangeError)) throw e;
            return 0;
          }
          stagingBytes = Math.ceil(want / PAGE) * PAGE;
        }
        return staging;
      },
      // fresh pages of at least `bytes` for good (wasm_resident.py's arena); 0 when the memory is full
      alloc(bytes) {
        try {
          return grow(bytes);
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          return 0;
        }
      },
      copyIn(dst, src, n) { u8().set(heapOwner.HEAPU8.subarray(src, src + n), dst); },
      copyOut(dst, src, n) { heapOwner.HEAPU8.set(u8().subarray(src, src + n), dst); },
      call(name) { return ex["tjs_" + name](); },
      // a kernel call in one crossing from Python: the copies [dst, src, bytes]... into this memory, the argument
      // block (argsBytes at argsSrc in the heap) into tjs_args, then tjs_<name>; its status
      run(name, argsSrc, argsBytes, ...copies) {
        const mem = u8(), heap = heapOwner.HEAPU8;
        for (let i = 0; i < copies.length; i += 3) {
          mem.set(heap.subarray(copies[i + 1], copies[i + 1] + copies[i + 2]), copies[i]);
        }
        mem.set(heap.subarray(argsSrc, argsSrc + argsBytes), ex.tjs_args.value);
        return ex["tjs_" + name]();
      },
      // the kernels' thread count (tjs_num_threads); they use at most the serving workers + 1
      setThreads(n) { Atomics.store(new Int32Array(memory.buffer), ex.tjs_num_threads.value >>> 2, n); },
    };
  }

  // startsLate: workers come up only once this thread's event loop turns (a browser's nested workers), so
  // Python starts them as soon as a count is set; Node's start on their own threads at once
  return { unavailableReason, machineCores, createPool, startsLate: !IN_NODE };
})()
