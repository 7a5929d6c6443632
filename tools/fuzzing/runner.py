"""Runs calls in a pool of worker processes (crash and hang isolation), classifies each outcome against torch, and
builds the report.

Classes (differential, with torch): match, value_mismatch (dtype/shape/values of the result or of a mutated input),
type_mismatch (both raise, other exception types), tj_raises (torch succeeds), tj_succeeds (torch raises),
internal (torch_js lets a Python-internal exception escape: AttributeError, KeyError, struct.error, OverflowError,
RecursionError, ...), crash (the worker died by a signal / wasm trap), hang (no answer within the timeout); and
skipped (torch itself crashed, hung, or could not build the inputs).
torch_js alone (replay in Pyodide or under the sanitizers): ok, raised, internal, crash, hang.
"""
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time

import spec

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "worker.py")
BUG_CLASSES = ("crash", "hang", "internal", "value_mismatch", "tj_succeeds", "tj_raises", "type_mismatch")
# results that are uninitialised memory or random draws: compared by dtype/shape only
UNINIT_OPS = {"empty", "empty_like", "empty_strided", "new_empty", "resize"}
RANDOM_KINDS = {"random"}
RANDOM_OPS = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "rrelu",
              "multinomial", "bernoulli", "normal", "rand", "randn", "randint", "randperm", "rand_like", "randn_like",
              "randint_like", "uniform_", "normal_", "random_", "exponential_", "bernoulli_"}
# results unique only up to signs / a basis choice: op -> the result items that are unique (singular values,
# eigenvalues); the others (singular and eigen vectors) are compared by dtype/shape only
NONUNIQUE_OPS = {"svd": (1,), "eigh": (0,), "eig": (0,)}
TOL = {"float64": (1e-6, 1e-9), "float32": (3e-4, 3e-5), "float16": (1e-2, 1e-2), "bfloat16": (3e-2, 3e-2)}


class Worker:
    def __init__(self, use_torch, timeout, mem_gib, env, nice):
        self.stderr = tempfile.TemporaryFile()
        cmd = [sys.executable, WORKER] + (["--torch"] if use_torch else []) + (
            ["--mem-gib", str(mem_gib)] if mem_gib else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env=env, preexec_fn=(lambda: os.nice(nice)) if nice else None)
        self.sides = ["torch", "tj"] if use_torch else ["tj"]
        self.buf = b""
        self.call = None
        self.got = {}
        self.deadline = None
        self.timeout = timeout
        line = self._read_line(time.monotonic() + 300)
        if line is None or b"ready" not in line:
            raise RuntimeError("fuzz worker did not start: " + self.stderr_tail())

    def _read_line(self, deadline):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            sel = selectors.DefaultSelector()
            sel.register(fd, selectors.EVENT_READ)
            if not sel.select(left):
                sel.close()
                continue
            sel.close()
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def send(self, call):
        self.call = call
        self.got = {}
        self.deadline = time.monotonic() + self.timeout
        self.proc.stdin.write((json.dumps(call) + "\n").encode())
        self.proc.stdin.flush()

    def stderr_tail(self, n=1500):
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - n))
        return self.stderr.read().decode("utf-8", "replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def run_calls(calls, use_torch=True, jobs=2, timeout=5.0, mem_gib=4, nice=10, env=None, progress=None):
    """[(call, {"torch": out, "tj": out})] in the calls' order; out is a spec.run_side outcome or
    {"crash": signal, "stderr": tail} / {"hang": seconds}."""
    env = dict(os.environ if env is None else env)
    env.setdefault("PYTHONHASHSEED", "0")
    results = [None] * len(calls)
    todo = list(range(len(calls)))[::-1]
    workers = []
    done = 0
    try:
        while todo or any(w.call is not None for w in workers):
            while len(workers) < min(jobs, len(calls)):
                workers.append(Worker(use_torch, timeout, mem_gib, env, nice))
            for w in workers:
                if w.call is None and todo:
                    i = todo.pop()
                    w.index = i
                    w.send(calls[i])
            sel = selectors.DefaultSelector()
            busy = [w for w in workers if w.call is not None]
            for w in busy:
                sel.register(w.proc.stdout.fileno(), selectors.EVENT_READ, w)
            wait = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else 0
            events = sel.select(wait + 0.01)
            sel.close()
            finished = []
            for key, _ in events:
                w = key.data
                chunk = os.read(w.proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    w.proc.wait()
                    rc = w.proc.returncode
                    side = next(s for s in w.sides if s not in w.got)
                    w.got[side] = {"crash": signal_name(-rc) if rc < 0 else f"exit status {rc}",
                                   "stderr": _excerpt(w.stderr_tail(20000))}
                    finished.append((w, True))
                    continue
                w.buf += chunk
                while b"\n" in w.buf:
                    line, _, w.buf = w.buf.partition(b"\n")
                    msg = json.loads(line)
                    w.got[msg["side"]] = msg["out"]
                    w.deadline = time.monotonic() + timeout
                if all(s in w.got for s in w.sides):
                    finished.append((w, False))
            now = time.monotonic()
            for w in busy:
                if w.deadline < now and not any(w is f for f, _ in finished):
                    side = next(s for s in w.sides if s not in w.got)
                    w.got[side] = {"hang": timeout}
                    finished.append((w, True))
            for w, dead in finished:
                got = dict(w.got)
                for s in w.sides:
                    got.setdefault(s, {"skipped": "after a crash/hang of the other side"})
                results[w.index] = (calls[w.index], got)
                w.call = None
                done += 1
                if dead:
                    w.kill()
                    workers.remove(w)
                if progress:
                    progress(done, len(calls))
    finally:
        for w in workers:
            w.kill()
    return results


# ---------------------------------------------------------------------------------------------------------------
# classification


def _is_internal(j, t):
    if "exc" in j and spec.KERNEL_CHECK in j["msg"]:   # a debug build's kernel caught its own stray access
        return True
    return "exc" in j and j["exc"] in spec.INTERNAL and not ("exc" in t and t["exc"] == j["exc"])


def _float(v):
    return spec.decode_float(v) if isinstance(v, dict) else v


def _close(a, b, rtol, atol):
    a, b = _float(a), _float(b)
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= atol + rtol * abs(b)
    return a == b


def diff(tj, tr, values=True, path="result"):
    """The first difference between two summaries (torch_js, torch), or None."""
    if set(tj) != set(tr) and not ({"t", "shape"} <= set(tj) and {"t", "shape"} <= set(tr)):
        return f"{path}: torch_js {_kind(tj)} vs torch {_kind(tr)}"
    if "t" in tr:
        if tj["t"] != tr["t"]:
            return f"{path}: dtype torch_js={tj['t']} torch={tr['t']}"
        if tj["shape"] != tr["shape"]:
            return f"{path}: shape torch_js={tj['shape']} torch={tr['shape']}"
        if not values or "vals" not in tr or "vals" not in tj:
            return None
        rtol, atol = TOL.get(tr["t"], (0, 0))
        for i, (a, b) in enumerate(zip(tj["vals"], tr["vals"])):
            if not _close(a, b, rtol, atol):
                return f"{path}: value[{i}] torch_js={_float(a)!r} torch={_float(b)!r}"
        return None
    if "seq" in tr:
        if len(tj["seq"]) != len(tr["seq"]):
            return f"{path}: {len(tj['seq'])} items vs torch {len(tr['seq'])}"
        for i, (a, b) in enumerate(zip(tj["seq"], tr["seq"])):
            d = diff(a, b, values, f"{path}[{i}]")
            if d:
                return d
        return None
    if "py" in tr:
        a, b = tj["py"], tr["py"]
        if type(_float(a)) is not type(_float(b)) and not (isinstance(_float(a), (int, float))
                                                          and isinstance(_float(b), (int, float))
                                                          and not isinstance(_float(a), bool)
                                                          and not isinstance(_float(b), bool)):
            return f"{path}: torch_js {a!r} vs torch {b!r}"
        if values and not _close(a, b, 1e-5, 1e-8):
            return f"{path}: torch_js {a!r} vs torch {b!r}"
        return None
    if tj != tr:
        return f"{path}: torch_js {tj} vs torch {tr}"
    return None


def _kind(s):
    return "tensor" if "t" in s else next(iter(s), "?")


def _shape_only(summary):
    return {k: v for k, v in summary.items() if k != "vals"}


def _compare_values(call):
    if call.get("grad") and call["op"] in NONUNIQUE_OPS:   # sum(U) is not sign-invariant: nor are its grads
        return False
    return call["op"] not in UNINIT_OPS and call["op"] not in RANDOM_OPS and \
        not (call["form"] == "inplace" and call["op"] + "_" in RANDOM_OPS)


def _excerpt(text):
    """A dead worker's stderr: from the sanitizer's report when there is one, else its end."""
    for mark in ("ERROR: AddressSanitizer", "runtime error:", "Fatal Python error"):
        i = text.find(mark)
        if i >= 0:
            return text[text.rfind("\n", 0, i) + 1:][:3000]
    return text[-1500:]


def _sanitizer_line(out):
    """The sanitizer's one-line verdict (and the first frame in the kernels) from a dead worker's stderr."""
    lines = out.get("stderr", "").splitlines()
    found = [ln.strip() for ln in lines if "ERROR: AddressSanitizer" in ln or "runtime error:" in ln]
    frame = [ln.strip() for ln in lines if "wasm_ext/" in ln][:1]
    return ("; " + " | ".join(found[:1] + frame)) if found or frame else ""


def classify(call, got):
    """(class, detail) for one call's outcomes."""
    j = got["tj"]
    if "torch" not in got:   # torch_js alone
        if "crash" in j:
            return "crash", f"worker died: {j['crash']}{_sanitizer_line(j)}"
        if "hang" in j:
            return "hang", f"no answer in {j['hang']} s"
        if "exc" in j:
            internal = j["exc"] in spec.INTERNAL or spec.KERNEL_CHECK in j["msg"]
            return ("internal" if internal else "raised"), f"{j['exc']}: {j['msg']}"
        return "ok", ""
    t = got["torch"]
    if "crash" in t or "hang" in t or ("exc" in t and t["phase"] == "setup") or "skipped" in t:
        return "skipped", "torch could not run it"
    if "crash" in j:
        return "crash", f"worker died: {j['crash']}{_sanitizer_line(j)}"
    if "hang" in j:
        return "hang", f"no answer in {j['hang']} s"
    if _is_internal(j, t):
        torch_side = f"torch {t['exc']}" if "exc" in t else "torch ok"
        return "internal", f"{j['exc']} ({j['phase']}): {j['msg']} [{torch_side}]"
    if "exc" in t and "exc" in j:
        if t["exc"] in j["mro"]:
            return "match", ""
        return "type_mismatch", f"torch {t['exc']}: {t['msg']} | torch_js {j['exc']}: {j['msg']}"
    if "exc" in j:
        return "tj_raises", f"torch_js {j['exc']} ({j['phase']}): {j['msg']}"
    if "exc" in t:
        return "tj_succeeds", f"torch {t['exc']}: {t['msg']}"
    values = _compare_values(call)
    keep = NONUNIQUE_OPS.get(call["op"])
    if keep is not None and not call.get("grad") and "seq" in j["ok"] and "seq" in t["ok"]:
        j = dict(j, ok={"seq": [x if i in keep else _shape_only(x) for i, x in enumerate(j["ok"]["seq"])]})
        t = dict(t, ok={"seq": [x if i in keep else _shape_only(x) for i, x in enumerate(t["ok"]["seq"])]})
    d = diff(j["ok"], t["ok"], values)
    if d is None and values:
        for i, (a, b) in enumerate(zip(j["after"], t["after"])):
            d = diff(a, b, True, f"input t{i} after the call")
            if d:
                break
    if d:
        if _non_finite_inputs(call):
            d += " [non-finite inputs]"
        return "value_mismatch", d
    return "match", ""


def _non_finite_inputs(call):
    for s in call["tensors"]:
        for v in s.get("vals", ()):
            if isinstance(v, dict) or (isinstance(v, float) and abs(v) > 1e30):
                return True
    return "nan" in str(call["args"]) or "inf" in str(call["args"]) or "inf" in str(call["kwargs"])


def op_label(call):
    if call["form"] == "inplace":
        return call["op"] + "_"
    if call["form"] in ("getitem", "setitem"):
        return call["op"]
    if call["ns"] != "torch":
        return f"{call['ns']}.{call['op']}"
    return call["op"] + ("(out=)" if "out" in call["kwargs"] else "")


def _signature(cls, detail, call, got):
    """What makes two findings the same: class, op, form and the exception types / difference kind."""
    t, j = got.get("torch", {}), got["tj"]
    parts = [cls, op_label(call)]
    if cls in ("type_mismatch", "internal", "tj_raises", "tj_succeeds", "raised"):
        parts += [t.get("exc", ""), j.get("exc", "")]
    if cls == "value_mismatch":
        where = "result" if detail.startswith("result") else "input"
        parts.append(where + (" dtype" if ": dtype" in detail else " shape" if ": shape" in detail else " value"))
    return " | ".join(parts)


def build_report(results, meta, max_per_signature=1):
    counts, by_op, groups = {}, {}, {}
    for call, got in results:
        cls, detail = classify(call, got)
        counts[cls] = counts.get(cls, 0) + 1
        lab = op_label(call)
        by_op.setdefault(lab, {})
        by_op[lab][cls] = by_op[lab].get(cls, 0) + 1
        if cls in ("match", "ok", "raised", "skipped"):
            continue
        sig = _signature(cls, detail, call, got)
        line = spec.repro(call)
        g = groups.get(sig)
        if g is None or len(line) < len(g["repro"]):
            stderr = got["tj"].get("stderr", "")
            groups[sig] = {"class": cls, "op": lab, "signature": sig, "detail": detail[:400], "repro": line,
                           "src": call.get("src", ""), "call": call, "count": (g or {}).get("count", 0),
                           **({"stderr": stderr} if stderr else {})}
        groups[sig]["count"] += 1
    findings = sorted(groups.values(), key=lambda g: (_class_rank(g["class"]), g["op"], -g["count"]))
    return dict(meta, counts=dict(sorted(counts.items())), by_op=dict(sorted(by_op.items())),
                distinct=len(findings), findings=findings)


def _class_rank(cls):
    order = ("crash", "hang", "internal", "value_mismatch", "tj_succeeds", "tj_raises", "type_mismatch")
    return order.index(cls) if cls in order else len(order)


def summary_text(report, per_class=8):
    lines = [f"calls {report.get('calls')}  seed {report.get('seed')}  "
             + "  ".join(f"{k} {v}" for k, v in report["counts"].items())]
    by_class = {}
    for f in report["findings"]:
        by_class.setdefault(f["class"], []).append(f)
    for cls in BUG_CLASSES + ("raised",):
        fs = by_class.get(cls, [])
        if not fs:
            continue
        lines.append(f"\n== {cls}: {sum(f['count'] for f in fs)} calls, {len(fs)} distinct")
        for f in sorted(fs, key=lambda f: -f["count"])[:per_class]:
            lines.append(f"  [{f['op']}] x{f['count']}  {f['detail'][:200]}")
            lines.append(f"    {f['repro'][:600]}")
    return "\n".join(lines)


def signal_name(n):
    try:
        return signal.Signals(n).name
    except (ValueError, TypeError):
        return str(n)
