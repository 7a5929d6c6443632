"""Sparse COO tensors (and minimal CSR): construction, repr, coalesce, conversions, arithmetic, products, reductions
and their gradients against live torch (indices, values, nnz and coalesced flags entry for entry, uncoalesced
results included); nn.Embedding(sparse=True) and a pygcn-style GCN trained side by side with torch; PyTorch's errors
for strided ops given a sparse tensor. A torch-free part checks hand-computed values (it runs in Pyodide too)."""
import pytest

import torch_js as tj
from optional_torch import needs_torch, torch

I = [[1, 0, 1, 0], [2, 0, 2, 2]]
V = [3., 4., 5., 1.]
I2 = [[0, 1], [1, 2]]
V2 = [7., 8.]


def _lists(t):
    """A sparse or strided tensor of either library as comparable plain data."""
    name = str(t.layout).rpartition(".")[2]
    if name == "sparse_coo":
        return (name, list(t.shape), t._indices().tolist(), t._values().tolist(), t._nnz(), t.is_coalesced(),
                str(t.dtype).rpartition(".")[2])
    if name == "sparse_csr":
        return (name, list(t.shape), t.crow_indices().tolist(), t.col_indices().tolist(), t.values().tolist(),
                str(t.dtype).rpartition(".")[2])
    return (name, list(t.shape), t.tolist(), str(t.dtype).rpartition(".")[2])


def _approx(a, b, tol=1e-6):
    """_lists outputs equal, floats within tol."""
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, list) and x and _flat(x) and isinstance(_flat(x)[0], float):
            assert _flat(x) == pytest.approx(_flat(y), rel=tol, abs=tol, nan_ok=True)
        else:
            assert x == y


def _flat(x):
    if isinstance(x, list):
        return [v for e in x for v in _flat(e)]
    return [x]


def _both(fn):
    """fn(lib) for torch and torch_js."""
    return fn(torch), fn(tj)


def _coo(lib, i=I, v=V, size=(2, 3), **kw):
    return lib.sparse_coo_tensor(lib.tensor(i), lib.tensor(v), size, **kw)


# ---- construction, repr, properties --------------------------------------------------------------------------

CONSTRUCT = [
    lambda L: _coo(L),
    lambda L: _coo(L).coalesce(),
    lambda L: L.sparse_coo_tensor(L.tensor(I), L.tensor(V)),
    lambda L: L.sparse_coo_tensor(I, [1, 2, 3, 4], (2, 3)),
    lambda L: L.sparse_coo_tensor(I, [1, 2.5, 3, 4]),
    lambda L: _coo(L, dtype=L.float64, requires_grad=True),
    lambda L: _coo(L, dtype=L.int32),
    lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([[1., 2], [3, 4]]), (2, 2)),
    lambda L: L.sparse_coo_tensor(L.tensor([[0], [1]]), L.tensor([[1., 2]]), (2, 2, 2)),
    lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]], dtype=L.int32), L.tensor([1., 2]), (2,)),
    lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]).float(), L.tensor([1., 2]), (2,)),
    lambda L: L.sparse_coo_tensor(L.empty(1, 0, dtype=L.long), L.tensor([])),
    lambda L: L.sparse_coo_tensor(L.empty(0, 2, dtype=L.long), L.tensor([[1., 2], [3, 4]])),
    lambda L: L.sparse_coo_tensor(size=(2, 3)),
    lambda L: L.sparse_coo_tensor(L.tensor([[0], [1]]), L.tensor([1.]), (2, 2)),
    lambda L: L.sparse_coo_tensor(L.tensor(I), L.tensor(V), (2, 3), is_coalesced=True),
    lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse(),
    lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse(1),
    lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse_coo(),
    lambda L: L.tensor(3.).to_sparse(),
    lambda L: L.tensor([[[0, 1.], [0, 0]], [[2, 0], [0, 0]]]).to_sparse(2),
    lambda L: L.zeros(2, 3).to_sparse(),
    lambda L: L.tensor([[0, 1], [2, 0]]).to_sparse(),
    lambda L: L.tensor([[True, False]]).to_sparse(),
    lambda L: L.sparse.FloatTensor(L.tensor(I), L.tensor(V), L.Size([2, 3])),
    lambda L: L.sparse.FloatTensor(2, 3),
    lambda L: L.sparse.FloatTensor(),
    lambda L: L.sparse.DoubleTensor(L.tensor(I), L.tensor(V), (2, 3)),
    lambda L: L.sparse.LongTensor(L.tensor(I), L.tensor([1, 2, 3, 4]), L.Size([2, 3])),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(CONSTRUCT)))
def test_construction_and_repr(case):
    t, j = _both(CONSTRUCT[case])
    assert _lists(j) == _lists(t)
    assert repr(j) == repr(t)
    assert (j.sparse_dim(), j.dense_dim(), j.is_sparse, j.requires_grad, j.is_leaf) == \
        (t.sparse_dim(), t.dense_dim(), t.is_sparse, t.requires_grad, t.is_leaf)
    assert repr(j.layout) == repr(t.layout) and j.layout == tj.sparse_coo and j.layout != tj.strided
    assert j.type() == t.type()
    if t.numel():   # (an empty one's strides come from how PyTorch's impl was sized)
        assert j.stride() == t.stride() and j.is_contiguous() == t.is_contiguous()


@needs_torch
def test_repr_with_grad_fn_and_large_values():
    v = torch.tensor(V, requires_grad=True)
    jv = tj.tensor(V, requires_grad=True)
    t = torch.sparse_coo_tensor(torch.tensor(I), v * 1000.5, (2, 3))
    j = tj.sparse_coo_tensor(tj.tensor(I), jv * 1000.5, (2, 3))
    assert repr(j) == repr(t)
    assert repr(j.coalesce()) == repr(t.coalesce())
    tl, jl = _both(lambda L: L.sparse_coo_tensor(L.tensor([list(range(12)), [0] * 12]), L.arange(12.) / 7, (12, 2)))
    assert repr(jl) == repr(tl)


BAD_CONSTRUCT = [
    (lambda L: L.sparse_coo_tensor(L.tensor([0, 1]), L.tensor([1., 2]), (2,)), RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([1., 2, 3]), (2,)), RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([1., 2]), (2, 3)), RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([[1., 2]]), (2, 2)), RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, 2]]), L.tensor([1., 2]), (2,), check_invariants=True), RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, -1]]), L.tensor([1., 2]), (2,), check_invariants=True),
     RuntimeError),
    (lambda L: L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([1, 2]), (2,), requires_grad=True), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse(3), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]]).to_sparse().to_sparse(1), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]]).coalesce(), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]]).indices(), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]]).is_coalesced(), RuntimeError),
    (lambda L: L.tensor([[0, 1.], [2, 0]])._nnz(), NotImplementedError),
    (lambda L: _coo(L).indices(), RuntimeError),
    (lambda L: _coo(L).values(), RuntimeError),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(BAD_CONSTRUCT)))
def test_construction_errors(case):
    fn, exc = BAD_CONSTRUCT[case]
    with pytest.raises(exc) as te:
        fn(torch)
    with pytest.raises(exc) as je:
        fn(tj)
    assert str(je.value).split("\n")[0][:60] == str(te.value).split("\n")[0][:60]


@needs_torch
def test_invariant_checks_context():
    for L in (torch, tj):
        with L.sparse.check_sparse_tensor_invariants():
            with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
                L.sparse_coo_tensor(L.tensor([[0, 2]]), L.tensor([1., 2]), (2,))
        assert not L.sparse.check_sparse_tensor_invariants.is_enabled()
        L.sparse_coo_tensor(L.tensor([[0, 2]]), L.tensor([1., 2]), (2,))


# ---- strided ops refuse sparse tensors, as PyTorch's dispatcher does -----------------------------------------

@needs_torch
@pytest.mark.parametrize("call", ["s.exp()", "torch.cumsum(s, 0)", "s.view(6)", "s.max()", "s.mean()",
                                  "torch.softmax(s, 0)", "s.cumprod(1)", "torch.exp(s)"])
def test_strided_ops_raise_not_implemented_naming_the_op(call):
    op = call.replace("torch.", "").replace("s.", "").split("(")[0]
    with pytest.raises(NotImplementedError, match=f"Could not run 'aten::_?{op}[.a-z]*' with arguments from the "
                                                  "'SparseCPU' backend"):
        eval(call, {"torch": torch, "s": _coo(torch)})
    with pytest.raises(NotImplementedError, match=f"Could not run 'aten::{op}' with arguments from the 'SparseCPU' "
                                                  "backend"):
        eval(call, {"torch": tj, "s": _coo(tj)})


@needs_torch
@pytest.mark.parametrize("call,exc", [("s.reshape(6)", RuntimeError), ("s.flatten()", RuntimeError),
                                      ("s.contiguous()", RuntimeError), ("s.numpy()", TypeError),
                                      ("s.tolist()", RuntimeError), ("s.data_ptr()", RuntimeError),
                                      ("s.untyped_storage()", NotImplementedError), ("s.expand(2, 2, 3)", RuntimeError),
                                      ("s + torch.ones(2, 3)",
                                                                                     RuntimeError)])
def test_refusals_with_pytorchs_errors(call, exc):
    with pytest.raises(exc) as te:
        eval(call, {"torch": torch, "s": _coo(torch)})
    with pytest.raises(exc) as je:
        eval(call, {"torch": tj, "s": _coo(tj)})
    assert str(je.value) == str(te.value)


# ---- conversions, coalesce, accessors ------------------------------------------------------------------------

UNARY = ["coalesce()", "to_dense()", "_indices()", "_values()", "coalesce().indices()", "coalesce().values()",
         "clone()", "detach()", "double()", "to(torch.float64)", "t()", "T", "mT", "transpose(0, 1)",
         "permute(1, 0)", "unsqueeze(0)", "unsqueeze(2)", "neg()", "abs()", "sin()", "sqrt()", "tanh()", "relu()",
         "pow(2)", "square()", "sum()", "sum(0)", "sum(1)", "sum((0, 1))", "t().coalesce()", "coalesce().t()",
         "to_sparse()", "float()", "half().float()", "zero_()", "sign()", "trunc()"]


@needs_torch
@pytest.mark.parametrize("expr", UNARY)
@pytest.mark.parametrize("coalesced", [False, True])
def test_unary_ops(expr, coalesced):
    t, j = _both(lambda L: _coo(L, v=[3., -4., 5., 1.]))
    if coalesced:
        t, j = t.coalesce(), j.coalesce()
    rt = eval("s." + expr, {"s": t, "torch": torch})
    rj = eval("s." + expr, {"s": j, "torch": tj})
    _approx(_lists(rj), _lists(rt))


@needs_torch
def test_hybrid_tensors():
    def make(L):
        return L.sparse_coo_tensor(L.tensor([[1, 0, 1]]), L.tensor([[1., 2], [3, 4], [5, 6]]), (3, 2))
    t, j = _both(make)
    for expr in ["coalesce()", "to_dense()", "sum(0)", "sum(1)", "sum()", "clone()",
                 "transpose(0, 0)", "unsqueeze(1)", "unsqueeze(2)", "mul(2)"]:
        _approx(_lists(eval("s." + expr, {"s": j})), _lists(eval("s." + expr, {"s": t})))
    _approx(_lists(tj.sparse.sum(j, 1)), _lists(torch.sparse.sum(t, 1)))
    _approx(_lists(tj.sparse.sum(j, 0)), _lists(torch.sparse.sum(t, 0)))
    _approx(_lists(tj.sparse.softmax(j, 1)), _lists(torch.sparse.softmax(t, 1)))
    _approx(_lists(tj.sparse.softmax(j, 0)), _lists(torch.sparse.softmax(t, 0)))


# ---- arithmetic ------------------------------------------------------------------------------------------------

BINARY = ["a + b", "a - b", "torch.add(a, b, alpha=2)", "torch.sub(a, b, alpha=0.5)", "a * b", "b * a", "a * 2",
          "2 * a", "a / 4", "a * torch.tensor(3.)", "d + a", "torch.add(d, a, alpha=3)", "a * d", "d * a",
          "a * torch.arange(3.)", "a + a", "a * a", "a.mul(0.5)", "a.div(2)", "-a"]


@needs_torch
@pytest.mark.parametrize("expr", BINARY)
@pytest.mark.parametrize("coalesced", ["none", "a", "both"])
def test_binary_ops(expr, coalesced):
    def env(L):
        a, b = _coo(L), _coo(L, I2, V2)
        if coalesced != "none":
            a = a.coalesce()
        if coalesced == "both":
            b = b.coalesce()
        return {"a": a, "b": b, "d": L.arange(6.).reshape(2, 3), "torch": L}
    _approx(_lists(eval(expr, env(tj))), _lists(eval(expr, env(torch))))


@needs_torch
@pytest.mark.parametrize("expr", ["a.add_(b)", "a.sub_(b, alpha=2)", "d.add_(a, alpha=2)", "a.mul_(3)", "a.div_(2)",
                                  "a.zero_()", "a += b", "d += a"])
def test_inplace_ops(expr):
    def run(L):
        env = {"a": _coo(L), "b": _coo(L, I2, V2), "d": L.ones(2, 3), "torch": L}
        exec(expr, env)
        return env["a"], env["d"]
    (ta, td), (ja, jd) = _both(run)
    _approx(_lists(ja), _lists(ta))
    _approx(_lists(jd), _lists(td))


# ---- products ------------------------------------------------------------------------------------------------

PRODUCTS = ["torch.mm(s, d)", "torch.matmul(s, d)", "s @ d", "torch.spmm(s, d)", "torch.sparse.mm(s, d)",
            "s.mm(d)", "torch.mv(s, v)", "s @ v", "torch.addmm(m, s, d)", "torch.addmm(m, s, d, beta=2, alpha=3)",
            "torch.sparse.addmm(m, s, d, beta=0.5, alpha=2)", "torch.mm(s, s2.t())", "torch.sparse.mm(s, s2.t())",
            "torch.mm(d.t(), s.t())", "s.t() @ m"]


def _product_env(L, requires_grad=False):
    g = L.Generator().manual_seed(0)
    d = L.randn(3, 4, generator=g, dtype=L.float64)
    m = L.randn(2, 4, generator=g, dtype=L.float64)
    v = L.randn(3, generator=g, dtype=L.float64)
    vals = L.tensor(V, dtype=L.float64, requires_grad=requires_grad)
    if requires_grad:
        d.requires_grad_()
        m.requires_grad_()
    s = L.sparse_coo_tensor(L.tensor(I), vals, (2, 3))
    s2 = L.sparse_coo_tensor(L.tensor(I2), L.tensor(V2, dtype=L.float64), (2, 3))
    return {"torch": L, "s": s, "s2": s2, "d": d, "m": m, "v": v, "vals": vals}


@needs_torch
@pytest.mark.parametrize("expr", PRODUCTS)
def test_products(expr):
    _approx(_lists(eval(expr, _product_env(tj))), _lists(eval(expr, _product_env(torch))), 1e-12)


@needs_torch
@pytest.mark.parametrize("expr", [e for e in PRODUCTS if "s2" not in e])
def test_product_gradients_reach_values_and_dense_operands(expr):
    grads = []
    for L in (torch, tj):
        env = _product_env(L, requires_grad=True)
        out = eval(expr, env)
        assert type(out.grad_fn).__name__ == type(eval(expr, _product_env(torch, True)).grad_fn).__name__
        w = L.arange(float(out.numel()), dtype=L.float64).reshape(out.shape)
        (out * w).sum().backward()
        grads.append([env[k].grad.tolist() if env[k].grad is not None else None for k in ("vals", "d", "m")])
    for jg, tg in zip(grads[1], grads[0]):
        assert (jg is None) == (tg is None)
        if jg is not None:
            assert _flat(jg) == pytest.approx(_flat(tg), rel=1e-12, abs=1e-12)


@needs_torch
@pytest.mark.parametrize("fn", ["torch.mm", "torch.sparse.mm", "torch.matmul"])
@pytest.mark.parametrize("coalesced", [False, True])
def test_sparse_leaf_gradient_follows_the_op(fn, coalesced):
    """torch.mm gives a sparse leaf the dense grad @ mat2^T; torch.sparse.mm only its entries (coalesced COO)."""
    out = []
    for L in (torch, tj):
        s = _coo(L, v=[3., 4., 5., 1.])
        s = (s.coalesce() if coalesced else s).double().detach().requires_grad_()
        d = L.arange(12., dtype=L.float64).reshape(3, 4) / 5
        y = eval(fn, {"torch": L})(s, d)
        (y * L.arange(8., dtype=L.float64).reshape(2, 4)).sum().backward()
        out.append(_lists(s.grad))
    _approx(out[1], out[0], 1e-12)


LEAF_GRADS = ["s.to_dense()", "s.coalesce().to_dense()", "(s * 2).to_dense()", "torch.sparse.sum(s)",
              "torch.sparse.sum(s, 1).to_dense()", "s.sum()", "torch.sparse.softmax(s, 1).to_dense()",
              "torch.sparse.log_softmax(s, 0).to_dense()", "s.coalesce().values()",
              "(s + s).to_dense()", "s.t().to_dense()", "s.double().to_dense()",
              "(d + s)", "(s * d).to_dense()"]


@needs_torch
@pytest.mark.parametrize("expr", LEAF_GRADS)
def test_gradients_of_sparse_leaves_and_values(expr):
    """The gradient a sparse leaf gets (sparse or dense, as PyTorch's), and that of the values it was built from."""
    for leaf in (True, False):
        out = []
        for L in (torch, tj):
            vals = L.tensor([3., 4., 5., 1.], requires_grad=not leaf)
            s = L.sparse_coo_tensor(L.tensor(I), vals, (2, 3))
            if leaf:
                s = s.detach().requires_grad_()
            d = L.arange(6.).reshape(2, 3) / 3
            y = eval(expr, {"torch": L, "s": s, "d": d})
            (y * L.arange(float(y.numel())).reshape(y.shape) / 4).sum().backward()
            g = s.grad if leaf else vals.grad
            # (a sum of two sparse gradients of one leaf: PyTorch flags it coalesced, by a path not mirrored here)
            out.append(_lists(g.coalesce() if leaf and "s + s" in expr else g))
        _approx(out[1], out[0])


@needs_torch
def test_softmax_values_along_each_dim():
    g = torch.Generator().manual_seed(3)
    dense = torch.randn(4, 5, 3, generator=g, dtype=torch.float64) * (torch.rand(4, 5, 3, generator=g) > 0.5) * 30
    t = dense.to_sparse()
    j = tj.tensor(dense.tolist(), dtype=tj.float64).to_sparse()
    for dim in (0, 1, 2, -1):
        for name in ("softmax", "log_softmax"):
            _approx(_lists(getattr(tj.sparse, name)(j, dim)), _lists(getattr(torch.sparse, name)(t, dim)), 1e-12)


# ---- nn.Embedding(sparse=True), optimizers, a GCN ------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_sparse_embedding_gradient_accumulates_and_steps(padding_idx):
    res = []
    for L in (torch, tj):
        L.manual_seed(0)
        e = L.nn.Embedding(5, 3, sparse=True, padding_idx=padding_idx)
        x = L.tensor([[0, 1, 2], [2, 4, 0]])
        (e(x) * L.arange(18.).reshape(2, 3, 3)).sum().backward()
        first = _lists(e.weight.grad)
        e(x).sum().backward()
        opt = L.optim.SGD(e.parameters(), lr=0.1)
        opt.step()
        res.append((first, _lists(e.weight.grad), e.weight.tolist()))
    for j, t in zip(res[1], res[0]):
        _approx(j, t)


@needs_torch
def test_sparse_embedding_refuses_scale_grad_by_freq():
    e = tj.nn.Embedding(5, 3, sparse=True, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        e(tj.tensor([0, 1])).sum().backward()


def _gcn_data(L):
    """A random graph's normalised adjacency (pygcn's D^-1 (A + I)) as a legacy sparse tensor, features, labels."""
    g = torch.Generator().manual_seed(7)
    n, f, c = 30, 8, 3
    a = (torch.rand(n, n, generator=g) < 0.1).double()
    a = ((a + a.t()) > 0).double() + torch.eye(n, dtype=torch.float64)
    a = a / a.sum(1, keepdim=True)
    idx = a.nonzero().t()
    x = torch.randn(n, f, generator=g)
    y = torch.randint(0, c, (n,), generator=g)
    adj = L.sparse.FloatTensor(L.tensor(idx.tolist()), L.tensor(a[idx[0], idx[1]].float().tolist()), L.Size([n, n]))
    return adj, L.tensor(x.tolist()), L.tensor(y.tolist())


def _gcn(L):
    class GraphConvolution(L.nn.Module):
        def __init__(self, fin, fout):
            super().__init__()
            self.weight = L.nn.Parameter(L.empty(fin, fout))
            self.bias = L.nn.Parameter(L.empty(fout))
            stdv = 1. / fout ** 0.5
            self.weight.data.uniform_(-stdv, stdv)
            self.bias.data.uniform_(-stdv, stdv)

        def forward(self, input, adj):
            support = L.mm(input, self.weight)
            return L.spmm(adj, support) + self.bias

    class GCN(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.gc1 = GraphConvolution(8, 16)
            self.gc2 = GraphConvolution(16, 3)

        def forward(self, x, adj):
            x = L.nn.functional.relu(self.gc1(x, adj))
            return L.nn.functional.log_softmax(self.gc2(x, adj), dim=1)
    return GCN


@needs_torch
def test_pygcn_style_training_matches_torch():
    losses, params = [], []
    for L in (torch, tj):
        adj, x, y = _gcn_data(L)
        L.manual_seed(0)
        model = _gcn(L)()
        opt = L.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        run = []
        for _ in range(15):
            opt.zero_grad()
            loss = L.nn.functional.nll_loss(model(x, adj), y)
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
        params.append([p.tolist() for p in model.parameters()])
    assert losses[1] == pytest.approx(losses[0], rel=1e-4, abs=1e-5)
    for j, t in zip(params[1], params[0]):
        assert _flat(j) == pytest.approx(_flat(t), rel=1e-3, abs=1e-4)


# ---- CSR -----------------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("expr", ["d.to_sparse_csr()", "d.to_sparse().to_sparse_csr()", "c.to_dense()",
                                  "c.to_sparse()", "c.to_sparse_coo()", "c @ m", "torch.mm(c, m)",
                                  "torch.sparse.mm(c, m)", "c.clone()", "c.to(torch.float64)", "c * 2", "c.sum()",
                                  "torch.sparse_csr_tensor(torch.tensor([0, 1, 3]), torch.tensor([1, 0, 2]), "
                                  "torch.tensor([1., 2, 3]), (2, 3))", "d.to_sparse(layout=torch.sparse_csr)",
                                  "c.values()", "c.crow_indices()", "c.col_indices()", "c.double().to_dense()"])
def test_csr(expr):
    def env(L):
        d = L.tensor([[0, 1., 0], [2, 0, 3]])
        return {"torch": L, "d": d, "c": d.to_sparse_csr(), "m": L.arange(6.).reshape(3, 2)}
    rt, rj = eval(expr, env(torch)), eval(expr, env(tj))
    _approx(_lists(rj), _lists(rt))
    if "sparse_csr" in str(rt.layout):
        assert repr(rj) == repr(rt)


@needs_torch
def test_csr_product_gradient_and_errors():
    out = []
    for L in (torch, tj):
        c = L.tensor([[0, 1., 0], [2, 0, 3]]).to_sparse_csr().requires_grad_()
        m = L.arange(6.).reshape(3, 2).requires_grad_()
        y = L.mm(c, m)
        (y * L.arange(4.).reshape(2, 2)).sum().backward()
        out.append((_lists(c.grad), _lists(m.grad)))
        with pytest.raises(RuntimeError, match="Sparse CSR tensors do not have strides"):
            c.stride()
        with pytest.raises(RuntimeError, match="expected sparse coordinate tensor layout but got SparseCsr"):
            c.indices()
    _approx(out[1][0], out[0][0])
    _approx(out[1][1], out[0][1])


# ---- torch-free checks -----------------------------------------------------------------------------------------

def test_coalesce_to_dense_and_products_by_hand():
    s = tj.sparse_coo_tensor([[1, 0, 1, 0], [2, 0, 2, 2]], [3., 4., 5., 1.], (2, 3))
    assert not s.is_coalesced() and s._nnz() == 4
    c = s.coalesce()
    assert c.is_coalesced() and c.indices().tolist() == [[0, 0, 1], [0, 2, 2]] and c.values().tolist() == [4, 1, 8]
    assert s.to_dense().tolist() == [[4, 0, 1], [0, 0, 8]]
    assert (s @ tj.ones(3, 2)).tolist() == [[5, 5], [8, 8]]
    assert (s + s).to_dense().tolist() == [[8, 0, 2], [0, 0, 16]]
    assert (tj.ones(2, 3) + s).tolist() == [[5, 1, 2], [1, 1, 9]]
    assert tj.sparse.sum(s, 1).to_dense().tolist() == [5, 8]
    assert s.t().to_dense().tolist() == [[4, 0], [0, 0], [1, 8]]
    assert s.layout is tj.sparse_coo and repr(tj.sparse_coo) == "torch.sparse_coo" and s.is_sparse
    assert tj.ones(2).layout is tj.strided and not tj.ones(2).is_sparse
    with pytest.raises(NotImplementedError, match="Could not run 'aten::exp' with arguments from the 'SparseCPU'"):
        s.exp()


def test_gradients_by_hand():
    v = tj.tensor([1., 2., 3.], requires_grad=True)
    s = tj.sparse_coo_tensor([[0, 1, 1], [1, 0, 1]], v, (2, 2))
    d = tj.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    tj.sparse.mm(s, d).sum().backward()
    assert v.grad.tolist() == [7, 3, 7]          # row sums of d at each entry's column
    assert d.grad.tolist() == [[2, 2], [4, 4]]   # column sums of s, per row of d
    e = tj.nn.Embedding(4, 2, sparse=True)
    e(tj.tensor([3, 1, 3])).sum().backward()
    g = e.weight.grad
    assert g.is_sparse and g._indices().tolist() == [[3, 1, 3]] and g.to_dense().tolist() == [[0, 0], [1, 1], [0, 0],
                                                                                             [2, 2]]


@needs_torch
def test_csr_leaf_gradient_through_to_dense_keeps_its_pattern():
    out = []
    for L in (torch, tj):
        c = L.tensor([[0, 1., 0], [2, 0, 3]]).to_sparse_csr().requires_grad_()
        (c.to_dense() * L.arange(6.).reshape(2, 3)).sum().backward()
        out.append(_lists(c.grad))
    _approx(out[1], out[0])


def test_missing_sparse_kernel_is_pytorchs_not_implemented_error():
    """An op with no kernel for the layout raises what PyTorch raises, shown as NotImplementedError."""
    a = tj.sparse_coo_tensor(tj.tensor([[0, 1], [1, 0]]), tj.tensor([1.0, 2.0]), (2, 2))
    with pytest.raises(NotImplementedError) as info:
        a.view(4)
    assert type(info.value).__name__ == "NotImplementedError"
    assert str(info.value).startswith("Could not run 'aten::view' with arguments from the 'SparseCPU' backend.")
