"""Shrinks each distinct finding's call while it keeps its signature (class, op, exception types / difference kind):
unused tensors go, explicit values become a short pattern, shapes shrink, views and keyword arguments drop.
Candidates of all findings run together in the worker pool, a few rounds, first success per finding wins.
"""
import copy

import runner
import spec
from corpus import random_pat


def _refs(obj, out):
    if isinstance(obj, list):
        for v in obj:
            _refs(v, out)
    elif isinstance(obj, dict):
        if "T" in obj:
            out.add(obj["T"])
        for v in obj.values():
            _refs(v, out)
    return out


def _renumber(obj, m):
    if isinstance(obj, list):
        return [_renumber(v, m) for v in obj]
    if isinstance(obj, dict):
        if "T" in obj and len(obj) == 1:
            return {"T": m[obj["T"]]}
        return {k: _renumber(v, m) for k, v in obj.items()}
    return obj


def prune(call):
    """The call without table tensors nothing refers to (pure cosmetics: results do not change)."""
    used = _refs([call["args"], call["kwargs"]], set())
    changed = True   # a used view keeps its base and the tensors its views name
    while changed:
        changed = False
        for i in list(used):
            s = call["tensors"][i]
            more = _refs(s.get("views", []), set()) | ({s["of"]} if "of" in s else set())
            if not more <= used:
                used |= more
                changed = True
    keep = sorted(used)
    if len(keep) == len(call["tensors"]):
        return call
    m = {old: new for new, old in enumerate(keep)}
    c = copy.deepcopy(call)
    tensors = []
    for old in keep:
        s = c["tensors"][old]
        if "of" in s:
            s["of"] = m[s["of"]]
        if "views" in s:
            s["views"] = _renumber(s["views"], m)
        tensors.append(s)
    c["tensors"] = tensors
    c["args"] = _renumber(c["args"], m)
    c["kwargs"] = _renumber(c["kwargs"], m)
    return c


def candidates(call):
    """Simpler versions of call, most promising first."""
    out = []
    for i, s in enumerate(call["tensors"]):
        if "of" in s:
            continue
        n = spec.numel(s["shape"])
        if "vals" in s and (n > 6 or len(str(s["vals"])) > 40):
            c = copy.deepcopy(call)
            c["tensors"][i].pop("vals")
            c["tensors"][i]["pat"] = random_pat(__import__("random").Random(n), s["dtype"])
            out.append(c)
        if n > 4 and s["shape"]:
            c = copy.deepcopy(call)
            t = c["tensors"][i]
            d = max(range(len(t["shape"])), key=lambda k: t["shape"][k])
            t["shape"][d] = max(1, t["shape"][d] // 2)
            vals = spec.spec_values(s) if "vals" in s else None
            if vals is not None:
                t["vals"] = [spec.enc_float(v) if isinstance(v, float) else int(v) for v in
                             vals[:spec.numel(t["shape"])]]
            out.append(c)
    for i, s in enumerate(call["tensors"]):
        if s.get("views"):
            c = copy.deepcopy(call)
            c["tensors"][i].pop("views")
            out.append(c)
    for k in list(call["kwargs"]):
        c = copy.deepcopy(call)
        del c["kwargs"][k]
        out.append(c)
    return out


def minimize(findings, run_kwargs, rounds=6, per_round=4):
    """Shrink findings[i]["call"] in place (and its repro line); findings are build_report's dicts."""
    active = []
    for f in findings:
        f["call"] = prune(f["call"])
        f["repro"] = spec.repro(f["call"])
        if f["class"] != "hang" and (f["class"] != "crash" or sum(g["class"] == "crash" for g in active) < 10):
            active.append(f)
    tried = {}
    for _ in range(rounds):
        batch, owners = [], []
        for f in active:
            cands = [prune(c) for c in candidates(f["call"])]
            seen = tried.setdefault(id(f), set())
            cands = [c for c in cands if spec.repro(c) not in seen and len(spec.repro(c)) < len(f["repro"])]
            for c in cands[:per_round if f["class"] != "crash" else 2]:
                seen.add(spec.repro(c))
                batch.append(c)
                owners.append(f)
        if not batch:
            break
        results = runner.run_calls(batch, **run_kwargs)
        improved = set()
        for (c, got), f in zip(results, owners):
            if id(f) in improved:
                continue
            cls, detail = runner.classify(c, got)
            if runner._signature(cls, detail, c, got) == f["signature"]:
                f["call"], f["repro"], f["detail"] = c, spec.repro(c), detail[:400]
                improved.add(id(f))
        active = [f for f in active if id(f) in improved]
    return findings
