"""CPU thread scaling: torch_js's native kernels against PyTorch native, same thread counts, in one process; or
torch_js's wasm kernels in Pyodide (Node), whose threads are the worker pool of backends/cpu/wasm_threads.py.

    PYTHONPATH=pytorchjs_py .venv/bin/python bench/cpu_threads_bench.py [--threads 1,2] [--sizes 256,512,1024,2048]
        [--reps 5] [--out bench/results/cpu_threads.json]
    make wheel && node js_bridge/pyrun.mjs bench/cpu_threads_bench.py --threads 1,2,4,8,16 [--breakdown]
        (writes bench/results/cpu_threads_pyodide.json; torch_js alone, `import torch` there being torch_js)

Workloads: float32 square matmuls (n×n @ n×n) and a MiniLM-shaped encoder forward (6 post-norm transformer layers,
d_model 384, 12 heads, feed-forward 1536, GELU, batch 8 × 32 tokens, eval mode, no grad: all-MiniLM-L6-v2's
shapes; the same random weights in both libraries). Each figure is the best of --reps timed calls after one warm-up
(the least disturbed by other processes), and torch_js_cpu the process's CPU time per call (all threads: the work the
split adds); torch.set_num_threads sets both libraries' counts before each row.
Writes one JSON object: {"machine": ..., "threads": [...], "matmul": {n: {threads: {"torch_js": ms, "torch_js_cpu": ms,
"torch": ms}}},
"minilm": {threads: {...}}, "speedup": {...: torch_js's 1-thread time over its n-thread time}}. In Pyodide "torch" and
"torch_js_cpu" are null (no per-thread CPU clock there), each row has "worker_tasks" (the tasks the pool's workers
joined: 0 means the caller computed it alone), a matmul's 1-thread row "torch_js_pool" (the shared-memory module
at one thread, operand copies included: the n-thread rows' own baseline; "torch_js" there is the usual side module),
and "pyodide" says which kernels ran and how many workers served. --breakdown (Pyodide) adds "minilm_breakdown":
{threads: where one forward's time went: "pool_kernel_ms" (kernels on the worker pool, the caller waiting for its
workers included), "copy_in_ms"/"copy_in_mb" and "copy_out_ms"/"copy_out_mb" (operands into the pool's shared memory
and results back), "pool_calls", "read_in_place_mb" (operands read where the last pooled op's result sits: copies
not made), "resident_mb" (operands kept in the pool's memory: the weights),
"resident_copied_mb" (copied there during this forward: 0 once the weights are in), "forward_ms" and
"top_ops" (torch.profiler's self time per op, a second forward, profiler overhead included)}.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch_js

IN_PYODIDE = sys.platform == "emscripten"
try:
    if IN_PYODIDE:   # `import torch` would give torch_js there (js_bridge/pyrun.mjs)
        raise ImportError
    import torch
except ImportError:   # torch_js alone
    torch = None

MINILM = dict(layers=6, d_model=384, heads=12, ff=1536, batch=8, tokens=32)


def worker_tasks():
    """Tasks the Pyodide worker pool's workers have joined so far (None natively)."""
    if not IN_PYODIDE:
        return None
    from torch_js.backends.cpu import wasm_threads
    return wasm_threads.joined()


def pyodide_pool(threads):
    """Starts the pool's workers for the largest count and waits for them (so no row pays their start)."""
    from torch_js.backends.cpu import library, threads as cpu_threads, wasm_threads
    info = {"kernels": os.path.basename(library.LIB_PATH), "available": wasm_threads.available(),
            "reason": wasm_threads.unavailable_reason(), "cores": cpu_threads.machine_cores()}
    if info["available"]:
        info["workers_ready"] = wasm_threads.start_workers(max(threads), wait_ms=30000)
        warm_pool(max(threads))
    return info


def warm_pool(threads):
    """The pool's kernels run a few times at the largest count before any row is timed: V8 runs wasm through its
    baseline compiler first and its optimized code comes a few calls later (a 2-thread MiniLM forward: ~300 ms, then
    ~170, ~120, then ~100 on a 2-core box)."""
    torch_js.set_num_threads(threads)
    torch_js.manual_seed(0)
    x, w, s = torch_js.randn(256, 384), torch_js.randn(1536, 384), torch_js.randn(96, 32, 32)
    with torch_js.no_grad():
        for _ in range(10):
            torch_js.nn.functional.gelu(torch_js.nn.functional.linear(x, w))
            torch_js.softmax(s @ s, -1)


def pool_path_ms(fn, reps):
    """best_ms with Pyodide's products taken through the worker pool's module even at one thread."""
    from torch_js.backends.cpu import wasm_threads
    wasm_threads.ALWAYS = True
    try:
        return best_ms(fn, reps)
    finally:
        wasm_threads.ALWAYS = False


class _TimedPool:
    """The Pyodide pool object with its copies and kernel calls timed (--breakdown): wasm_threads calls it as it
    calls the pool."""

    def __init__(self, pool):
        self.pool, self.ms, self.bytes, self.calls = pool, {}, {}, 0

    def run(self, name, args_src, args_bytes, *copies):   # wasm_pool.js's run, its copies and call timed apart
        for i in range(0, len(copies), 3):
            self.copyIn(*copies[i:i + 3])
        self.pool.copyIn(self.pool.argsAddr, args_src, args_bytes)
        return self.call(name)

    def __getattr__(self, name):
        attr = getattr(self.pool, name)
        if name not in ("copyIn", "copyOut", "call"):
            return attr

        def timed(*args):
            t0 = time.perf_counter()
            r = attr(*args)
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1e3
            if name == "call":
                self.calls += 1
            else:
                self.bytes[name] = self.bytes.get(name, 0) + args[2]
            return r
        return timed


def minilm_breakdown(model, x):
    """Where one forward's time goes in Pyodide at the current thread count (see the module's text)."""
    from torch_js.backends.cpu import wasm_threads
    state = wasm_threads._state   # the pool wasm_threads calls: swapped for the timed stand-in for one forward
    if state["pool"] is None:
        return None
    timed, arena = _TimedPool(state["pool"]), state["arena"]
    resident = arena.copied
    find, in_place = wasm_threads._operand_at, []

    def counting(t, heap, nbytes):   # operands read where the last pooled result sits: copies not made
        at = find(t, heap, nbytes)
        in_place.append(nbytes if at else 0)
        return at
    state["pool"] = arena.pool = timed
    wasm_threads._operand_at = counting
    try:
        t0 = time.perf_counter()
        model(x)
        forward = (time.perf_counter() - t0) * 1e3
    finally:
        state["pool"] = arena.pool = timed.pool
        wasm_threads._operand_at = find
    with torch_js.profiler.profile() as prof:
        model(x)
    top = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:10]
    mb = lambda n: round(n / 2 ** 20, 1)   # noqa: E731
    return {"forward_ms": round(forward, 2), "pool_kernel_ms": round(timed.ms.get("call", 0.0), 2),
            "copy_in_ms": round(timed.ms.get("copyIn", 0.0), 2), "copy_in_mb": mb(timed.bytes.get("copyIn", 0)),
            "copy_out_ms": round(timed.ms.get("copyOut", 0.0), 2), "copy_out_mb": mb(timed.bytes.get("copyOut", 0)),
            "pool_calls": timed.calls, "read_in_place_mb": mb(sum(in_place)),
            "resident_mb": mb(sum(key[2] for key in arena.entries)),
            "resident_copied_mb": mb(arena.copied - resident),
            "top_ops": {e.key: round(e.self_cpu_time_total / 1e3, 2) for e in top}}


def best_ms(fn, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return round(best * 1e3, 3)


def cpu_ms(fn, reps):
    """The process's CPU time per call (all its threads), the mean of reps calls: against the 1-thread figure it
    shows the work the split adds, whatever share of the cores the process got."""
    if IN_PYODIDE:   # the workers' CPU time is not this process's clock there
        return None
    t0 = time.process_time()
    for _ in range(reps):
        fn()
    return round((time.process_time() - t0) / reps * 1e3, 3)


def encoder(lib):
    layer = lib.nn.TransformerEncoderLayer(MINILM["d_model"], MINILM["heads"], MINILM["ff"], dropout=0.0,
                                           activation="gelu", batch_first=True)
    return lib.nn.TransformerEncoder(layer, MINILM["layers"], enable_nested_tensor=False).eval()


def minilm_pair():
    """(torch_js model, its input), (torch model, its input) with the same weights, or None for torch."""
    torch_js.manual_seed(0)
    ours = encoder(torch_js)
    x = torch_js.randn(MINILM["batch"], MINILM["tokens"], MINILM["d_model"])
    if torch is None:
        return (ours, x), None
    theirs = encoder(torch)
    theirs.load_state_dict({k: torch.tensor(v.tolist()) for k, v in ours.state_dict().items()})
    return (ours, x), (theirs, torch.tensor(x.tolist()))


def thread_cpu_s():
    """{thread id: CPU seconds} of this process's threads (Linux /proc; {} elsewhere)."""
    out = {}
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[tid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return {}
    return out


def work_split(fn, calls):
    """The CPU seconds each thread spent on `calls` calls, and their wall time: evidence that the work is shared
    even where a busy machine gives the threads no free core at once."""
    fn()
    before, t0 = thread_cpu_s(), time.perf_counter()
    for _ in range(calls):
        fn()
    wall, after = time.perf_counter() - t0, thread_cpu_s()
    per_thread = sorted((round(after[k] - before.get(k, 0.0), 2) for k in after), reverse=True)
    return {"wall_s": round(wall, 3), "thread_cpu_s": [c for c in per_thread if c > 0]}


def set_threads(n):
    torch_js.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--sizes", default="256,512,1024,2048")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--breakdown", action="store_true",
                   help="Pyodide: where a MiniLM forward's time goes at each count (pool kernels, copies, top ops)")
    p.add_argument("--note", default=None, help="a line about the run kept in the JSON (e.g. how busy the machine was)")
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                 "cpu_threads_pyodide.json" if IN_PYODIDE else "cpu_threads.json"))
    args = p.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None},
              "torch": torch.__version__ if torch is not None else None, "threads": threads,
              "note": args.note, "matmul": {}, "minilm": {}, "speedup": {}}
    if IN_PYODIDE:
        result["pyodide"] = pyodide_pool(threads)
        print("pyodide:", result["pyodide"], flush=True)

    for n in sizes:
        torch_js.manual_seed(0)
        a, b = torch_js.randn(n, n), torch_js.randn(n, n)
        ta, tb = (torch.tensor(a.tolist()), torch.tensor(b.tolist())) if torch is not None else (None, None)
        row = result["matmul"][n] = {}
        for t in threads:
            set_threads(t)
            reps = args.reps * 4 if n <= 512 else args.reps if n <= 1024 else max(2, args.reps // 2)
            tasks = worker_tasks()
            row[t] = {"torch_js": best_ms(lambda: a @ b, reps), "torch_js_cpu": cpu_ms(lambda: a @ b, reps),
                      "torch": best_ms(lambda: ta @ tb, reps) if torch is not None else None}
            if tasks is not None:
                row[t]["worker_tasks"] = worker_tasks() - tasks
                if t == 1:   # the shared-memory module at one thread, copies included: what a split starts from
                    row[t]["torch_js_pool"] = pool_path_ms(lambda: a @ b, reps)
            print(f"matmul {n}: {t} thread(s) {row[t]}", flush=True)

    if 1024 in sizes and max(threads) > 1 and not IN_PYODIDE:
        set_threads(max(threads))
        torch_js.manual_seed(0)
        a = torch_js.randn(1024, 1024)
        result["work_split_matmul_1024_x10"] = work_split(lambda: a @ a, 10)
        print("work split:", result["work_split_matmul_1024_x10"], flush=True)

    (ours, x), peer = minilm_pair()
    for t in threads:
        set_threads(t)
        tasks = worker_tasks()
        with torch_js.no_grad():
            ms = best_ms(lambda: ours(x), args.reps)
            ms_cpu = cpu_ms(lambda: ours(x), args.reps)
        theirs_ms = None
        if peer is not None:
            with torch.no_grad():
                theirs_ms = best_ms(lambda: peer[0](peer[1]), args.reps)
        result["minilm"][t] = {"torch_js": ms, "torch_js_cpu": ms_cpu, "torch": theirs_ms}
        if tasks is not None:
            result["minilm"][t]["worker_tasks"] = worker_tasks() - tasks
        print(f"minilm: {t} thread(s) {result['minilm'][t]}", flush=True)
        if args.breakdown and IN_PYODIDE:
            with torch_js.no_grad():
                split = result.setdefault("minilm_breakdown", {})[t] = minilm_breakdown(ours, x)
            print(f"minilm breakdown: {t} thread(s) {split}", flush=True)

    base = threads[0]
    for t in threads[1:]:
        result["speedup"][f"{base}->{t}"] = {
            **{f"matmul_{n}": round(result["matmul"][n][base]["torch_js"] / result["matmul"][n][t]["torch_js"], 2)
               for n in sizes},
            "minilm": round(result["minilm"][base]["torch_js"] / result["minilm"][t]["torch_js"], 2)}
    result["machine"]["load_average_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result["speedup"]))


if __name__ == "__main__":
    main()
