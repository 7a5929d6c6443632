"""The device API of a build without CUDA (torch.cuda, torch.amp, torch.autocast, torch.backends.*, torch.accelerator,
Tensor.cuda), as calls that run unchanged with `T` = torch or torch_js. Shared by tests/test_import_torch.py and
tools/gen_device_api_fixtures.py, which records PyTorch's outcomes in tests/fixtures/device_api_torch.json.

An outcome is what a script would see: the value (made JSON-able), or the exception's type and message, plus every
warning (category, message, and whether it points at the calling line, i.e. its stacklevel)."""
import warnings

# name -> (call, compare the exception message too). Each call gets the library and returns a JSON-able value.
# Left out on purpose: behaviour torch_js chooses to differ on (CPU autocast, mkldnn/openmp availability, the
# device-list wording of an unknown device string), tested in test_import_torch.py by itself.


def _autocast_state(a):
    return [str(a.fast_dtype), bool(a._enabled), a.device]


def _inside(T, *args, probe="mps", **kwargs):
    """autocast state of `probe` inside `with T.autocast(*args, **kwargs)` and after it."""
    with T.autocast(*args, **kwargs):
        inside = [T.is_autocast_enabled(probe), str(T.get_autocast_dtype(probe))]
    return [inside, T.is_autocast_enabled(probe), str(T.get_autocast_dtype(probe))]


def _nested_mps(T):
    with T.autocast("mps"):
        outer = [T.is_autocast_enabled("mps"), str(T.get_autocast_dtype("mps"))]
        with T.autocast("mps", dtype=T.bfloat16, enabled=False):
            inner = [T.is_autocast_enabled("mps"), str(T.get_autocast_dtype("mps"))]
        back = [T.is_autocast_enabled("mps"), str(T.get_autocast_dtype("mps"))]
    return [outer, inner, back, T.is_autocast_enabled("mps")]


def _param_and_sgd(T, grad=(1.0, 2.0), dtype=None):
    p = T.nn.Parameter(T.tensor([0.5, -1.5], dtype=dtype))
    p.grad = T.tensor(list(grad), dtype=dtype)
    return p, T.optim.SGD([p], lr=0.1)


def _disabled_scaler(T):
    s = T.amp.GradScaler("cuda", enabled=False)
    t = T.tensor(2.0, requires_grad=True)
    p, opt = _param_and_sgd(T)
    out = [s.is_enabled(), s.scale(t) is t, [x is t for x in s.scale([t, t])], s.scale(3.0), s.get_scale(),
           s.state_dict(), s.load_state_dict({"scale": 2.0}), s.unscale_(opt), s.step(opt), s.update(), s.update(2.0)]
    return out + [p.tolist()]


def _scaler_trajectory(T):
    """A CPU GradScaler through inf/NaN steps (backoff), clean runs (growth) and an explicit unscale_."""
    w = T.nn.Parameter(T.tensor([[0.5, -1.0], [2.0, 0.25]]))
    b = T.nn.Parameter(T.tensor([0.125, -0.25]))   # binary fractions: the loss is exact in float32
    opt = T.optim.SGD([w, b], lr=0.1, momentum=0.9)
    s = T.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=3, growth_factor=3.0, backoff_factor=0.3)
    log = [s.get_scale(), s.state_dict()]
    for i in range(9):
        x = T.tensor([[1.0, 2.0], [3.0, -1.0]]) * (i + 1)
        loss = ((x @ w + b) ** 2).mean()
        if i == 2:
            loss = loss * float("inf")
        if i == 5:
            loss = loss * float("nan")
        opt.zero_grad()
        scaled = s.scale(loss)
        log.append(scaled.item())
        scaled.backward()
        if i == 4:
            s.unscale_(opt)
            log.append(w.grad.tolist())
        log.append(s.step(opt))
        s.update()
        log.append([s.get_scale(), s._get_growth_tracker(), w.tolist(), b.tolist()])
    log.append(s.state_dict())
    s.update(5.0)
    log.append(s.get_scale())
    s.update(T.tensor(7.0))
    log.append(s.get_scale())
    return log


def _scaler_scale_containers(T):
    s = T.amp.GradScaler("cpu", init_scale=4.0)
    t = T.tensor([1.0, 2.0])
    nested = s.scale([t, (t, [t])])
    return [nested[0].tolist(), type(nested[1]).__name__, nested[1][1][0].tolist(),
            [x.tolist() for x in s.scale(iter([t]))]]


def _scaler_state_roundtrip(T):
    a = T.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    p, opt = _param_and_sgd(T)
    a.scale(T.tensor(1.0))
    a.step(opt)
    a.update()
    b = T.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    return [a.state_dict(), b.state_dict(), b.get_scale()]


def _scaler_error(T, what):
    s = T.amp.GradScaler("cpu")
    p, opt = _param_and_sgd(T)
    if what == "update_before_scale":
        return s.update()
    s.scale(T.tensor(1.0))
    if what == "unscale_twice":
        s.unscale_(opt)
        return s.unscale_(opt)
    if what == "unscale_after_step":
        s.step(opt)
        return s.unscale_(opt)
    if what == "step_twice":
        s.step(opt)
        return s.step(opt)
    if what == "closure":
        return s.step(opt, closure=lambda: 0.0)
    if what == "no_grads":
        p.grad = None
        return s.step(opt)
    if what == "update_without_step":
        return s.update()
    if what == "bad_new_scale":
        s.step(opt)
        return s.update(T.tensor(2.0, requires_grad=True))
    if what == "fp16_grads":
        q, opt16 = _param_and_sgd(T, dtype=T.float16)
        return s.step(opt16)
    if what == "scale_str":
        return s.scale("loss")
    if what == "load_empty":
        return s.load_state_dict({})
    raise KeyError(what)


def _cudnn_flags(T):
    c = T.backends.cudnn
    before = [c.enabled, c.benchmark, c.deterministic, c.allow_tf32, c.benchmark_limit]
    with c.flags(enabled=False, benchmark=True, deterministic=True, allow_tf32=False):
        inside = [c.enabled, c.benchmark, c.deterministic, c.allow_tf32, c.benchmark_limit]
    after = [c.enabled, c.benchmark, c.deterministic, c.allow_tf32, c.benchmark_limit]
    c.benchmark = True
    try:
        set_ = c.benchmark
    finally:
        c.benchmark = False
    return [before, inside, after, set_]


def _matmul_flags(T):
    m = T.backends.cuda.matmul
    out = [m.allow_tf32, m.allow_fp16_reduced_precision_reduction, m.allow_bf16_reduced_precision_reduction]
    m.allow_tf32 = True
    try:
        out.append(m.allow_tf32)
    finally:
        m.allow_tf32 = False
    return out


def _set_unknown_matmul_flag(T):
    T.backends.cuda.matmul.no_such_flag = True


def _custom_fwd_bwd(T):
    class Double(T.autograd.Function):
        @staticmethod
        @T.amp.custom_fwd(device_type="cpu", cast_inputs=T.float16)
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @T.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            return g * 2

    x = T.tensor([1.0, 3.0], requires_grad=True)
    y = Double.apply(x)
    y.sum().backward()
    return [str(y.dtype), y.tolist(), x.grad.tolist()]


_X = [1.0, 2.0]

CASES = {
    # torch.cuda
    "cuda.is_available": (lambda T: T.cuda.is_available(), True),
    "cuda.device_count": (lambda T: T.cuda.device_count(), True),
    "cuda.is_initialized": (lambda T: T.cuda.is_initialized(), True),
    "cuda.is_bf16_supported": (lambda T: [T.cuda.is_bf16_supported(), T.cuda.is_bf16_supported(False)], True),
    "cuda.is_tf32_supported": (lambda T: T.cuda.is_tf32_supported(), True),
    "cuda.get_arch_list": (lambda T: T.cuda.get_arch_list(), True),
    "cuda.get_gencode_flags": (lambda T: T.cuda.get_gencode_flags(), True),
    "cuda.manual_seed": (lambda T: [T.cuda.manual_seed(0), T.cuda.manual_seed(1.5), T.cuda.manual_seed(-1)], True),
    "cuda.manual_seed_all": (lambda T: T.cuda.manual_seed_all(123), True),
    "cuda.manual_seed(str)": (lambda T: T.cuda.manual_seed("x"), True),
    "cuda.seed": (lambda T: [T.cuda.seed(), T.cuda.seed_all()], True),
    "cuda.empty_cache": (lambda T: T.cuda.empty_cache(), True),
    "cuda.synchronize": (lambda T: T.cuda.synchronize(), True),
    "cuda.current_device": (lambda T: T.cuda.current_device(), True),
    "cuda.get_device_name": (lambda T: T.cuda.get_device_name(), True),
    "cuda.get_device_name(0)": (lambda T: T.cuda.get_device_name(0), True),
    "cuda.get_device_properties": (lambda T: T.cuda.get_device_properties(0), True),
    "cuda.get_device_capability": (lambda T: T.cuda.get_device_capability(), True),
    "cuda.init": (lambda T: T.cuda.init(), True),
    "cuda.mem_get_info": (lambda T: T.cuda.mem_get_info(), True),
    "cuda.get_rng_state": (lambda T: T.cuda.get_rng_state(), True),
    "cuda.get_rng_state_all": (lambda T: T.cuda.get_rng_state_all(), True),
    "cuda.set_rng_state_all": (lambda T: T.cuda.set_rng_state_all([]), True),
    "cuda.initial_seed": (lambda T: T.cuda.initial_seed(), True),
    "cuda.current_stream": (lambda T: T.cuda.current_stream(), True),
    "cuda.default_stream": (lambda T: T.cuda.default_stream(), True),
    "cuda.ipc_collect": (lambda T: T.cuda.ipc_collect(), True),
    "cuda.memory counters": (lambda T: [T.cuda.memory_allocated(), T.cuda.max_memory_allocated(),
                                        T.cuda.memory_reserved(), T.cuda.max_memory_reserved(0),
                                        dict(T.cuda.memory_stats())], True),
    "cuda.OutOfMemoryError": (lambda T: [T.cuda.OutOfMemoryError is T.OutOfMemoryError,
                                         issubclass(T.OutOfMemoryError, RuntimeError)], True),
    # Tensor
    "Tensor.cuda()": (lambda T: T.tensor(_X).cuda(), True),
    "Tensor.cuda(0)": (lambda T: T.tensor(_X).cuda(0), True),
    "Tensor.cuda('cuda:0')": (lambda T: T.tensor(_X).cuda("cuda:0", non_blocking=True), True),
    "Tensor.cuda('cpu')": (lambda T: T.tensor(_X).cuda("cpu"), True),
    "Tensor.cuda(1.5)": (lambda T: T.tensor(_X).cuda(1.5), True),
    "Tensor.is_<device>": (lambda T: [T.tensor(_X).is_cuda, T.tensor(_X).is_mps, T.tensor(_X).is_xpu,
                                      T.tensor(_X).is_cpu], True),
    "device('cuda')": (lambda T: [str(T.device("cuda")), str(T.device("cuda:0"))], True),
    # torch.autocast / torch.amp
    "autocast('cuda')": (lambda T: _autocast_state(T.autocast("cuda")), True),
    "amp.autocast('cuda')": (lambda T: _autocast_state(T.amp.autocast("cuda")), True),
    "autocast('cuda', enabled=False)": (lambda T: _autocast_state(T.autocast("cuda", enabled=False)), True),
    "autocast(device_type='cuda', dtype=bfloat16)": (
        lambda T: _autocast_state(T.autocast(device_type="cuda", dtype=T.bfloat16)), True),
    "autocast('cpu', enabled=False)": (lambda T: _autocast_state(T.autocast("cpu", enabled=False)), True),
    "autocast('cpu', float64)": (lambda T: _autocast_state(T.autocast("cpu", dtype=T.float64)), True),
    "autocast('mps', float32)": (lambda T: _autocast_state(T.autocast("mps", dtype=T.float32)), True),
    "autocast('cpu').fast_dtype": (lambda T: str(T.autocast("cpu", enabled=False).fast_dtype), True),
    "autocast(1)": (lambda T: T.autocast(1), True),
    "autocast()": (lambda T: T.autocast(), True),
    "autocast('foo')": (lambda T: T.autocast("foo"), False),
    "autocast('cuda') block": (lambda T: _inside(T, "cuda", probe="cuda"), True),
    "autocast('cuda', enabled=False) block": (lambda T: _inside(T, "cuda", enabled=False, probe="cuda"), True),
    "autocast('mps') block": (lambda T: _inside(T, "mps"), True),
    "autocast nested": (_nested_mps, True),
    "autocast decorator": (lambda T: T.autocast("cuda", enabled=False)(lambda x: x + 1)(1), True),
    "autocast()(non-callable)": (lambda T: T.autocast("cuda", enabled=False)(3), True),
    "autocast cache_enabled": (lambda T: [T.autocast("mps", cache_enabled=False)._cache_enabled,
                                          T.autocast("mps")._cache_enabled], True),
    "is_autocast_enabled": (lambda T: [T.is_autocast_enabled(), T.is_autocast_enabled("cpu"),
                                       T.is_autocast_enabled("cuda"), T.is_autocast_enabled("mps")], True),
    "get_autocast_dtype": (lambda T: [str(T.get_autocast_dtype(d)) for d in ("cpu", "cuda", "mps")], True),
    "amp.is_autocast_available": (lambda T: [T.amp.is_autocast_available(d) for d in ("cpu", "cuda", "mps")],
                                  True),
    "amp.custom_fwd/custom_bwd": (_custom_fwd_bwd, True),
    "cuda.amp.autocast()": (lambda T: _autocast_state(T.cuda.amp.autocast()), True),
    "cuda.amp.autocast(enabled=False)": (lambda T: _autocast_state(T.cuda.amp.autocast(enabled=False)), True),
    "cuda.amp.autocast(dtype=bfloat16)": (
        lambda T: _autocast_state(T.cuda.amp.autocast(dtype=T.bfloat16, enabled=False)), True),
    "GradScaler()": (lambda T: T.amp.GradScaler().is_enabled(), True),
    "GradScaler('cuda')": (lambda T: T.amp.GradScaler("cuda").is_enabled(), True),
    "GradScaler('cpu')": (lambda T: [T.amp.GradScaler("cpu").is_enabled(), T.amp.GradScaler("cpu").get_scale()],
                          True),
    "cuda.amp.GradScaler()": (lambda T: T.cuda.amp.GradScaler().is_enabled(), True),
    "cuda.amp.GradScaler(enabled=False)": (lambda T: T.cuda.amp.GradScaler(enabled=False).is_enabled(), True),
    "disabled GradScaler": (_disabled_scaler, True),
    "GradScaler('cpu') trajectory": (_scaler_trajectory, True),
    "GradScaler.scale containers": (_scaler_scale_containers, True),
    "GradScaler state_dict round trip": (_scaler_state_roundtrip, True),
    "GradScaler(growth_factor=0.5)": (lambda T: T.amp.GradScaler("cpu", growth_factor=0.5), True),
    "GradScaler(backoff_factor=1.0)": (lambda T: T.amp.GradScaler("cpu", backoff_factor=1.0), True),
    "disabled GradScaler factors": (lambda T: T.amp.GradScaler("cuda").get_growth_factor(), False),
    **{f"GradScaler error: {what}": ((lambda w: lambda T: _scaler_error(T, w))(what), True)
       for what in ("update_before_scale", "unscale_twice", "unscale_after_step", "step_twice", "closure",
                    "no_grads", "update_without_step", "bad_new_scale", "fp16_grads", "scale_str", "load_empty")},
    # torch.backends
    "backends.cudnn": (lambda T: [T.backends.cudnn.is_available(), T.backends.cudnn.version(),
                                  T.backends.cudnn.is_acceptable(T.tensor(_X))], True),
    "backends.cudnn flags": (_cudnn_flags, True),
    "backends.mps": (lambda T: [T.backends.mps.is_available(), T.backends.mps.is_built()], True),
    "backends.cuda": (lambda T: [T.backends.cuda.is_built(), T.backends.cuda.flash_sdp_enabled(),
                                 T.backends.cuda.mem_efficient_sdp_enabled(), T.backends.cuda.math_sdp_enabled(),
                                 T.backends.cuda.cudnn_sdp_enabled()], True),
    "backends.cuda.matmul": (_matmul_flags, True),
    "backends.cuda.matmul unknown": (lambda T: T.backends.cuda.matmul.no_such_flag, True),
    "backends.cuda.matmul set unknown": (_set_unknown_matmul_flag, True),
    "backends.mkldnn.enabled": (lambda T: T.backends.mkldnn.enabled, True),
}

# torch.accelerator where no accelerator is present (torch_js: no WebGPU bridge loaded)
NO_ACCELERATOR_CASES = {
    "accelerator.is_available": (lambda T: T.accelerator.is_available(), True),
    "accelerator.current_accelerator": (lambda T: [T.accelerator.current_accelerator(),
                                                   T.accelerator.current_accelerator(check_available=True)], True),
    "accelerator.device_count": (lambda T: T.accelerator.device_count(), True),
    "accelerator.current_device_index": (lambda T: T.accelerator.current_device_index(), True),
    "accelerator.synchronize": (lambda T: T.accelerator.synchronize(), True),
    "accelerator.set_device_index": (lambda T: T.accelerator.set_device_index(0), True),
    "accelerator.empty_cache": (lambda T: T.accelerator.empty_cache(), True),
    "accelerator.memory_allocated": (lambda T: T.accelerator.memory_allocated(), True),
}


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    raise TypeError(f"case returned {type(value).__name__}: make it JSON-able")


def outcome(T, call):
    """{"value": ...} or {"raises": [type, message]}, with "warnings": [[category, message, at_caller], ...]."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = {"value": _jsonable(call(T))}
        except Exception as e:   # noqa: BLE001  (the exception is the outcome)
            result = {"raises": [type(e).__name__, str(e)]}
    # at_caller: the warning names this file's line (the script's), not the library's (stacklevel=2)
    result["warnings"] = [[w.category.__name__, str(w.message), w.filename == __file__] for w in caught]
    return result
