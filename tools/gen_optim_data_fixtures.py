"""Record real PyTorch's results for tests/_optim_data_cases.py into tests/fixtures/optim_data_torch.json
(optimizer trajectories in float32 and float64, LBFGS on other objectives, scheduler lr sequences, DataLoader
shuffle orders, random_split), so tests/test_optim.py and tests/test_data.py also check torch_js where torch can't
be imported (Pyodide).

Run: .venv/bin/python tools/gen_optim_data_fixtures.py"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import _optim_data_cases as C  # noqa: E402


def main():
    out = {"torch_version": torch.__version__, "optim": [], "optim_f64": [], "lbfgs_objectives": [], "sched": [],
           "loader": [], "random_split": None}
    for name, kw in C.OPTIM_CASES:
        params, _, losses = C.run_optim(torch, name, kw)
        out["optim"].append({"name": name, "kw": repr(kw), "params": params, "losses": losses})
    for name, kw in C.OPTIM_F64_CASES:
        params, _, losses = C.run_optim(torch, name, kw, dtype=torch.float64)
        out["optim_f64"].append({"name": name, "kw": repr(kw), "params": params, "losses": losses})
    for objective, kw in C.LBFGS_OBJECTIVE_CASES:
        x, losses, func_evals, n_iter = C.run_lbfgs(torch, objective, kw)
        out["lbfgs_objectives"].append({"objective": objective, "kw": repr(kw), "x": x, "losses": losses,
                                    "func_evals": func_evals, "n_iter": n_iter})
    for s in C.SCHED_CASES:
        params, lrs, _ = C.run_optim(torch, "SGD", {"lr": 0.1, "momentum": 0.9}, sched=s)
        out["sched"].append({"name": s[0], "lrs": lrs, "params": params})
    for kw in C.LOADER_CASES:
        orders, after = C.loader_orders(torch, **dict(kw))
        out["loader"].append({"kw": repr(kw), "orders": orders, "after": after})
    torch.manual_seed(1)
    out["random_split"] = [list(s.indices) for s in torch.utils.data.random_split(range(10), [0.3, 0.3, 0.4])]
    path = os.path.join(HERE, "..", "tests", "fixtures", "optim_data_torch.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path)


if __name__ == "__main__":
    main()
