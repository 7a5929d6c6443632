"""torch.fx in torch_js: symbolic tracing, the generated code, GraphModule, Interpreter/Transformer, the subgraph
rewriter and ShapeProp, each compared with live PyTorch's fx on the same model written once for both; and
pytorch/examples' fx programs (tests/fx_examples, unchanged) run under both with their output compared."""
import copy
import io
import operator
import os
import re
import subprocess
import sys

import pytest

import torch_js
import torch_js.fx as fx
from optional_torch import needs_torch, torch

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(os.path.dirname(HERE), "pytorchjs_py")


def _models(t):
    """The same models for torch_js and torch (t is the library)."""
    nn, F = t.nn, t.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 8)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(8, 3)

        def forward(self, x):
            x = t.flatten(x, 1)
            return F.log_softmax(self.fc2(self.act(self.fc1(x))), dim=-1)

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
            self.head = nn.Linear(4 * 2 * 2, 5)

        def forward(self, x):
            x = self.features(x)
            x = F.max_pool2d(x, 2)
            x = x.view(x.size(0), -1)
            return self.head(x)

    class Block(nn.Module):   # user module: traced through (qualified names of its leaves)
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.scale = nn.Parameter(t.ones(4) * 0.5)

        def forward(self, x):
            return t.relu(self.lin(x)) * self.scale + x

    class Functional(nn.Module):
        def __init__(self, use_tanh=True):
            super().__init__()
            self.block = Block()
            self.use_tanh = use_tanh   # control flow on a Python attribute: resolved at trace time
            self.weight = nn.Parameter(t.ones(4, 4) / 4)

        def forward(self, x, y):
            z = t.cat([self.block(x), y], dim=0)
            z = t.matmul(z, self.weight.t())
            values, idx = t.max(z, dim=1)
            if self.use_tanh:
                z = t.tanh(z)
            out = z.transpose(0, 1).reshape(-1).sum(dim=0, keepdim=True)
            return out + values.mean() - idx.float().sum() + F.softmax(y, dim=-1)[0, 1], z.shape[0] * 2

    return {"MLP": (MLP, lambda: (t.arange(12.0).reshape(2, 6) / 7,)),
            "ConvNet": (ConvNet, lambda: (t.linspace(-1, 1, 2 * 2 * 4 * 4).reshape(2, 2, 4, 4),)),
            "Functional": (Functional, lambda: (t.linspace(-1, 1, 8).reshape(2, 4), t.linspace(0, 1, 4).reshape(1, 4)))}


def _copy_state(src, dst):
    """dst (a torch model) gets src's (torch_js model) values."""
    dst.load_state_dict({k: torch.tensor(v.tolist(), dtype=getattr(torch, str(v.dtype).split(".")[1]))
                         for k, v in src.state_dict().items()})


def _close(a, b):
    if isinstance(a, (tuple, list)):
        return all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)):
        return a == b
    return torch.allclose(torch.tensor(a.tolist()), torch.tensor(b.tolist()) if not isinstance(b, torch.Tensor)
                          else b, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("name", ["MLP", "ConvNet", "Functional"])
def test_trace_matches_torch(name):
    cls_js, inputs_js = _models(torch_js)[name]
    cls_pt, inputs_pt = _models(torch)[name]
    torch_js.manual_seed(0)
    m_js, m_pt = cls_js(), cls_pt()
    _copy_state(m_js, m_pt)
    gm_js, gm_pt = fx.symbolic_trace(m_js), torch.fx.symbolic_trace(m_pt)
    # the graph, the generated code and the module's printout are PyTorch's, character for character
    assert str(gm_js.graph) == str(gm_pt.graph)
    assert gm_js.code == gm_pt.code
    assert str(gm_js) == str(gm_pt)
    assert list(gm_js.state_dict()) == list(gm_pt.state_dict())
    assert type(gm_js).__name__ == type(gm_pt).__name__ == name
    # running the generated forward: equal to the eager module, and to PyTorch
    for mode in ("eval", "train"):
        getattr(m_js, mode)(), getattr(gm_js, mode)(), getattr(m_pt, mode)()
        out_js, eager_js, out_pt = gm_js(*inputs_js()), m_js(*inputs_js()), m_pt(*inputs_pt())
        assert _close(out_js, eager_js) and _close(out_js, out_pt)


@pytest.mark.parametrize("name", ["MLP", "ConvNet", "Functional"])
def test_trace_matches_recorded_torch(name):
    """Where there is no live torch (Pyodide): the graph and code PyTorch 2.13 printed for the model
    (tests/fixtures/fx/<name>.txt, written from torch.fx on this same _models source)."""
    cls, inputs = _models(torch_js)[name]
    torch_js.manual_seed(0)
    m = cls()
    gm = fx.symbolic_trace(m)
    with open(os.path.join(HERE, "fixtures", "fx", name + ".txt"), encoding="utf-8") as f:
        assert str(gm.graph) + "\n" + gm.code == f.read()
    m.eval(), gm.eval()
    for got, want in zip(*(r if isinstance(r, tuple) else (r,) for r in (gm(*inputs()), m(*inputs())))):
        assert got == want if isinstance(got, int) else torch_js.allclose(got, want)


@needs_torch
def test_nn_module_stack_and_pickle():
    stacks = []
    for lib in (torch_js, torch):
        class Inner(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 2)

            def forward(self, x):
                return lib.relu(self.lin(x)) + self.lin(x)

        class Outer(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                return self.inner(x) * 2
        gm = lib.fx.symbolic_trace(Outer())
        stacks.append([(n.name, [(k, v[0], v[1].__name__) for k, v in n.meta.get("nn_module_stack", {}).items()])
                       for n in gm.graph.nodes])
    assert stacks[0] == stacks[1]
    lib = torch_js
    torch_js.manual_seed(0)
    m = _models(torch_js)["Functional"][0]()
    gm = fx.symbolic_trace(m)
    buf = io.BytesIO()
    torch_js.save(gm, buf)
    buf.seek(0)
    loaded = torch_js.load(buf, weights_only=False)
    x, y = _models(torch_js)["Functional"][1]()
    assert loaded.code == gm.code and type(loaded).__name__ == "Functional"
    assert torch_js.equal(loaded(x, y)[0], gm(x, y)[0])
    assert list(loaded.state_dict()) == list(gm.state_dict())


def test_graph_module_parameters_are_the_roots():
    torch_js.manual_seed(0)
    m = _models(torch_js)["Functional"][0]()
    gm = fx.symbolic_trace(m)
    assert gm.block.lin is m.block.lin and gm.weight is m.weight and gm.block.scale is m.block.scale
    gm2 = copy.deepcopy(gm)
    assert gm2.weight is not gm.weight and torch_js.equal(gm2.weight, gm.weight)
    assert gm2.code == gm.code and type(gm2) is not type(gm)
    x, y = _models(torch_js)["Functional"][1]()
    assert torch_js.allclose(gm2(x, y)[0], gm(x, y)[0])
    # editing the copy's graph leaves the original alone
    for n in gm2.graph.nodes:
        if n.target is torch_js.tanh:
            n.target = torch_js.sigmoid
    gm2.recompile()
    assert "torch.sigmoid" in gm2.code and "torch.tanh" in gm.code


@needs_torch
def test_proxy_errors_match_torch():
    def loop(x):
        for v in x:
            x = x + v
        return x

    def branch(x):
        if x.sum() > 0:
            return x
        return -x

    def length(x):
        return x * len(x)

    def shape_flow(x):   # control flow on a traced shape is an error too
        return x if x.shape[0] > 1 else x + 1
    for fn in (loop, branch, length, shape_flow):
        with pytest.raises(Exception) as pt_err:
            torch.fx.symbolic_trace(fn)
        with pytest.raises(Exception) as js_err:
            fx.symbolic_trace(fn)
        assert type(js_err.value).__name__ == type(pt_err.value).__name__
        assert type(js_err.value).__mro__[1].__name__ == type(pt_err.value).__mro__[1].__name__
        assert str(js_err.value) == str(pt_err.value)
    assert issubclass(fx.proxy.TraceError, ValueError)

    def unpack(x):   # `a, b = proxy` unpacks through indexing
        a, b = x
        return a - b
    assert fx.symbolic_trace(unpack).code == torch.fx.symbolic_trace(unpack).code


@needs_torch
def test_concrete_args_and_wrap():
    def f(x, flag, n=None):
        if flag:
            x = x * 2
        return x if n is None else x + n
    gm_js = fx.symbolic_trace(f, concrete_args={"flag": True, "n": None})
    gm_pt = torch.fx.symbolic_trace(f, concrete_args={"flag": True, "n": None})
    assert gm_js.code == gm_pt.code
    assert torch_js.equal(gm_js(torch_js.ones(2), True), torch_js.full((2,), 2.0))
    with pytest.raises(AssertionError, match="flag has been specialized"):
        gm_js(torch_js.ones(2), False)
    # a plain function of the program stays one call_function node
    src = ("import torch\nimport torch.fx\n\ndef my_norm(x):\n    return x / x.norm()\ntorch.fx.wrap('my_norm')\n\n"
           "def g(x):\n    return my_norm(x) + 1\n")
    codes = []
    for lib in (torch_js, torch):
        ns = {"__name__": "fxwrapmod"}
        saved = sys.modules.get("torch")
        sys.modules["torch"], sys.modules["torch.fx"] = lib, lib.fx
        try:
            exec(compile(src, "fxwrapmod", "exec"), ns)
        finally:
            sys.modules["torch"], sys.modules["torch.fx"] = saved, torch.fx
        codes.append(lib.fx.symbolic_trace(ns["g"]).code)
    assert codes[0] == codes[1] and "fxwrapmod_my_norm(x)" in codes[0]


class _SwapReluToSigmoid(fx.Interpreter):
    def call_function(self, target, args, kwargs):
        if target is torch_js.relu:
            target = torch_js.sigmoid
        return super().call_function(target, args, kwargs)


def test_interpreter_round_trip():
    torch_js.manual_seed(0)
    m = _models(torch_js)["Functional"][0]()
    gm = fx.symbolic_trace(m)
    x, y = _models(torch_js)["Functional"][1]()
    expected = gm(x, y)
    got = fx.Interpreter(gm).run(x, y)
    assert torch_js.equal(got[0], expected[0]) and got[1] == expected[1]
    swapped = _SwapReluToSigmoid(gm).run(x, y)[0]
    assert not torch_js.allclose(swapped, expected[0])
    with pytest.raises(RuntimeError, match="Expected positional argument for parameter y"):
        fx.Interpreter(gm).run(x)


@needs_torch
def test_transformer_matches_torch():
    def make(lib):
        class AddToMul(lib.fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target is operator.add:
                    target = operator.mul
                return super().call_function(target, args, kwargs)
        return AddToMul

    def f(x, y):
        return lib_relu(x + y) + y.neg()
    outs = []
    for lib in (torch_js, torch):
        global lib_relu
        lib_relu = lib.relu
        gm = lib.fx.symbolic_trace(f)
        new = make(lib)(gm).transform()
        outs.append((new.code, str(new.graph), new(lib.tensor([1.0, -2.0]), lib.tensor([3.0, 4.0])).tolist()))
    assert outs[0] == outs[1]


@needs_torch
def test_replace_pattern_matches_torch():
    results = []
    for lib in (torch_js, torch):
        class M(lib.nn.Module):
            def forward(self, x, w1, w2):
                m1 = lib.cat([lib.neg(w1), w2]).sum()
                m2 = lib.cat([lib.neg(w1), w2]).sum()
                return x + lib.max(m1) + lib.max(m2)

        def pattern(a1, a2):
            return lib.cat([lib.neg(a1), a2]).sum()

        def replacement(w1, w2):
            return lib.stack([w1, w2])
        traced = lib.fx.symbolic_trace(M())
        matches = lib.fx.replace_pattern(traced, pattern, replacement)
        traced.graph.lint()
        out = traced(lib.tensor([1.0]), lib.tensor([2.0, 3.0]), lib.tensor([4.0, 5.0]))
        results.append((traced.code, len(matches), [m.anchor.name for m in matches], out.tolist()))
    assert results[0] == results[1]


@needs_torch
def test_replace_pattern_two_results_matches_torch():
    results = []
    for lib in (torch_js, torch):
        class M(lib.nn.Module):
            def forward(self, x, y):
                a, b = lib.sin(x), lib.cos(x)
                return a * b + lib.sin(y) - lib.cos(y), a + 1

        def pattern(x):
            return lib.sin(x), lib.cos(x)

        def replacement(x):
            s = lib.tanh(x)
            return s, lib.neg(s)
        gm = lib.fx.symbolic_trace(M())
        matches = lib.fx.replace_pattern(gm, pattern, replacement)
        out = gm(lib.tensor([0.5]), lib.tensor([1.5]))
        results.append((gm.code, [m.anchor.name for m in matches],
                        [sorted(f"{k.name}>{v.name}" for k, v in m.nodes_map.items()) for m in matches],
                        [o.tolist() for o in out]))
    assert results[0] == results[1]


@needs_torch
def test_shape_prop_matches_torch():
    metas = []
    for lib in (torch_js, torch):
        cls, inputs = _models(lib)["ConvNet"]
        lib.manual_seed(0)
        gm = lib.fx.symbolic_trace(cls())
        from importlib import import_module
        ShapeProp = import_module(lib.__name__ + ".fx.passes.shape_prop").ShapeProp
        ShapeProp(gm).propagate(*inputs())
        metas.append([(n.name, tuple(n.meta["tensor_meta"].shape), str(n.meta["tensor_meta"].dtype),
                       n.meta["tensor_meta"].requires_grad, tuple(n.meta["tensor_meta"].stride),
                       str(n.meta["tensor_meta"].memory_format), n.meta["type"].__name__)
                      for n in gm.graph.nodes if "tensor_meta" in n.meta])
    assert metas[0] == metas[1] and len(metas[0]) >= 6


@needs_torch
def test_graph_editing_matches_torch():
    built = []
    for lib in (torch_js, torch):
        g = lib.fx.Graph()
        x = g.placeholder("x")
        w = g.get_attr("w")
        mm = g.call_function(lib.matmul, (x, w))
        relu = g.call_method("relu", (mm,))
        dead = g.call_function(lib.sin, (x,))
        out = g.output(relu)
        with g.inserting_after(mm):
            scaled = g.call_function(operator.mul, (mm, 2.0))
            shifted = g.call_function(operator.add, (mm, 1.0))
        relu.replace_input_with(mm, scaled)   # inserting_after(mm) twice: the later node comes first
        scaled.replace_input_with(mm, shifted)
        with pytest.raises(RuntimeError) as err:
            g.erase_node(mm)
        assert "still had" in str(err.value)
        assert g.eliminate_dead_code()
        g.lint()
        root = lib.nn.Module()
        root.w = lib.nn.Parameter(lib.eye(2))
        gm = lib.fx.GraphModule(root, g)
        assert [n.name for n in mm.users] == ["add"] and dead.name == "sin" and out.all_input_nodes == [relu]
        built.append((str(g), gm.code, gm(lib.tensor([[1.0, -3.0]])).tolist(), list(gm.state_dict())))
    assert built[0] == built[1]
    g = fx.Graph()
    a = g.placeholder("a")
    b = g.call_function(torch_js.neg, (a,))
    g.output(b)
    with g.inserting_before(b):
        c = g.call_function(torch_js.exp, (b,))   # used before it is defined
    with pytest.raises(RuntimeError, match="used before it has been defined"):
        g.lint()
    assert c.prev is a


def test_unpacking_and_iteration():
    def unpack(x):   # `a, b = proxy` unpacks by indexing (read from the caller's bytecode)
        a, b = x
        return a - b

    def loop(x):
        return [v for v in x]
    gm = fx.symbolic_trace(unpack)
    assert [n.target for n in gm.graph.nodes if n.op == "call_function"] == [operator.getitem, operator.getitem,
                                                                             operator.sub]
    assert torch_js.equal(gm(torch_js.tensor([5.0, 2.0])), torch_js.tensor(3.0))
    with pytest.raises(fx.proxy.TraceError, match="Proxy object cannot be iterated"):
        fx.symbolic_trace(loop)


@needs_torch
def test_erasing_while_iterating_matches_torch():
    def f(x):
        return torch_or_js.sin(torch_or_js.exp(torch_or_js.neg(x))).cos()
    codes = []
    for lib in (torch_js, torch):
        global torch_or_js
        torch_or_js = lib
        gm = lib.fx.symbolic_trace(f)
        for n in gm.graph.nodes:
            if n.name == "neg":   # erase the node after the current one
                nxt = n.next
                nxt.replace_all_uses_with(n)
                gm.graph.erase_node(nxt)
            if n.name == "sin":   # and the current one
                n.replace_all_uses_with(n.args[0])
                gm.graph.erase_node(n)
        gm.recompile()
        codes.append((gm.code, len(gm.graph.nodes), gm(lib.tensor([0.5])).tolist()))
    assert codes[0] == codes[1]


@needs_torch
def test_dead_code_keeps_side_effects_as_torch():
    def f(x):
        torch_or_js.relu_(x.clone())
        torch_or_js.rand_like(x)
        x.add_(1)
        torch_or_js.neg(x)
        torch_or_js._assert(x.sum() > -1e9, "never")
        return x
    codes = []
    for lib in (torch_js, torch):
        global torch_or_js
        torch_or_js = lib
        for impure_random in (True, False):
            gm = lib.fx.symbolic_trace(f)
            gm.graph.eliminate_dead_code(is_impure_node=lambda n: n.is_impure(impure_random=impure_random))
            gm.recompile()
            codes.append(gm.code)
    assert codes[:2] == codes[2:] and "torch.rand_like(x)" in codes[0] and "add_" not in codes[0]


def test_map_arg_and_aggregate():
    g = fx.Graph()
    a, b = g.placeholder("a"), g.placeholder("b")
    n = g.call_function(torch_js.add, (a, [b, 3]), {"alpha": b})
    assert n.all_input_nodes == [a, b] and set(a.users) == {n}
    mapped = fx.node.map_arg(n.args, lambda x: x.name)
    assert mapped == ("a", ["b", 3])
    assert fx.node.map_aggregate((1, [2, {"k": 3}]), lambda v: v * 10) == (10, [20, {"k": 30}])
    with pytest.raises(TypeError):
        n.args[1].append(4)
    n.replace_input_with(b, a)
    assert n.all_input_nodes == [a] and not b.users and n.kwargs["alpha"] is a


# pytorch/examples' fx programs; after each, print the code of the GraphModules it built (most print nothing)
EXAMPLES = ["invert", "primitive_library", "proxy_based_graph_creation", "replace_op", "subgraph_rewriter_basic_use",
            "wrap_output_dynamically", "inline_function", "custom_tracer"]
_RUNNER = """
import runpy, sys, traceback
if sys.argv[1] == "js":
    import torch_js; torch_js.install_as_torch()
import torch, torch.fx
path = sys.argv[2]
sys.argv = [path]
try:
    g = runpy.run_path(path, run_name="__main__")
except Exception as e:
    print("raised", type(e).__name__, str(e).splitlines()[0])
else:
    for name, value in sorted(g.items()):
        if isinstance(value, torch.fx.GraphModule):
            print(name, value.code)
"""


def _run_example(which, path):
    env = dict(os.environ, PYTHONPATH=PKG)
    r = subprocess.run([sys.executable, "-c", _RUNNER, which, path], capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(path), timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return re.sub(r" at 0x[0-9a-f]+", " at 0x...", r.stdout)   # reprs of functions name their addresses


@needs_torch
@pytest.mark.parametrize("name", EXAMPLES)
def test_pytorch_examples_fx(name):
    path = os.path.join(HERE, "fx_examples", name + ".py")
    assert _run_example("js", path) == _run_example("torch", path)


# a program using more of the surface: annotations (typing generics in the signature), a tensor constant on the
# left of operators, slicing with Ellipsis, kwargs, dtype arguments, print_readable, *args, a custom leaf rule
_PROGRAM = """
import operator
from typing import Tuple
import torch, torch.fx as fx
import torch.nn.functional as F

class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(1, 2, 3)
        self.seq = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 3), torch.nn.Tanh())
        self.register_buffer("k", torch.ones(2))
    def forward(self, x: torch.Tensor, scale: float = 2.0) -> Tuple[torch.Tensor, torch.Tensor]:
        y = self.c(x)
        a = torch.ones(3) + y.mean()
        b = y[:, 0, ...] * scale
        z = y.permute(0, 2, 3, 1) @ self.k.unsqueeze(-1)
        s = torch.stack([a, a]).clamp(min=0.1)
        t = -z ** 2 // 3
        return F.relu(b, inplace=True) + self.seq(y).sum(), s.to(torch.float64) + t.sum() + y.size(1)

class KeepSequential(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, torch.nn.Sequential) or super().is_leaf_module(m, qualname)

def varargs(x, *rest, scale=1.0, **extra):
    return torch.cat([x, rest[0]]) * scale

def tensor_lhs(x, y):
    t = torch.ones(2)
    return t - x, t / x, t @ y, t ** x, t // x, t % x, t * x, t & x.bool(), 2 - x, torch.arctan2(x, t)

torch.manual_seed(0)
m = M()
gm = fx.symbolic_trace(m)
print(gm.code)
print(gm.graph)
x = torch.linspace(-1, 1, 32).reshape(2, 1, 4, 4)
print([o.shape for o in gm(x)])
print(all(torch.allclose(a, b) for a, b in zip(gm(x), m(x))))
gm.print_readable()
g = KeepSequential().trace(m)
print(g)
print(fx.GraphModule(m, g)(x)[1].dtype)
print(fx.symbolic_trace(varargs).code)
print(fx.symbolic_trace(tensor_lhs).code)
"""


# model surgery as the FX conv/batch-norm fusion tutorial does it: named_modules, replacing a submodule,
# replace_all_uses_with, erase_node, delete_all_unused_submodules, recompile; then ShapeProp
_FUSION_PROGRAM = """import copy
from typing import Type, Dict, Any, Tuple, Iterable
import torch, torch.fx as fx
import torch.nn as nn

def _parent_name(target):
    *parent, name = target.rsplit('.', 1)
    return parent[0] if parent else '', name

def replace_node_module(node, modules, new_module):
    parent_name, name = _parent_name(node.target)
    modules[node.target] = new_module
    setattr(modules[parent_name], name, new_module)

def fuse_conv_bn_eval(conv, bn):
    fused = copy.deepcopy(conv)
    w, b = fused.weight, fused.bias if fused.bias is not None else torch.zeros_like(bn.running_mean)
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    fused.weight = nn.Parameter(w * scale.reshape(-1, 1, 1, 1))
    fused.bias = nn.Parameter((b - bn.running_mean) * scale + bn.bias)
    return fused

def fuse(model):
    model = copy.deepcopy(model)
    fx_model = fx.symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    for node in fx_model.graph.nodes:
        if node.op != 'call_module':
            continue
        if type(modules[node.target]) is nn.BatchNorm2d and type(modules[node.args[0].target]) is nn.Conv2d:
            if len(node.args[0].users) > 1:
                continue
            conv, bn = modules[node.args[0].target], modules[node.target]
            replace_node_module(node.args[0], modules, fuse_conv_bn_eval(conv, bn))
            node.replace_all_uses_with(node.args[0])
            fx_model.graph.erase_node(node)
    fx_model.graph.lint()
    fx_model.delete_all_unused_submodules()
    fx_model.recompile()
    return fx_model

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3); self.bn1 = nn.BatchNorm2d(4)
        self.layer = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    def forward(self, x):
        return self.layer(torch.relu(self.bn1(self.conv1(x))))

torch.manual_seed(0)
net = Net()
for m in net.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.running_mean.uniform_(-0.5, 0.5); m.running_var.uniform_(0.5, 1.5)
net.eval()
fused = fuse(net)
print(fused)
print(fused.graph)
x = torch.linspace(-1, 1, 2 * 3 * 6 * 6).reshape(2, 3, 6, 6)
print(torch.allclose(fused(x), net(x), atol=1e-5))
print(sorted(fused.state_dict().keys()))
sp = __import__("torch.fx.passes.shape_prop", fromlist=["ShapeProp"])
sp.ShapeProp(fused).propagate(x)
for n in fused.graph.nodes:
    tm = n.meta.get("tensor_meta")
    print(n.name, tm.shape if tm is not None else None, tm.dtype if tm is not None else None)
"""


@needs_torch
@pytest.mark.parametrize("program", [_PROGRAM, _FUSION_PROGRAM], ids=["surface", "conv_bn_fusion"])
def test_program_matches_torch(tmp_path, program):
    path = tmp_path / "fx_program.py"
    path.write_text(program)
    assert _run_example("js", str(path)) == _run_example("torch", str(path))
