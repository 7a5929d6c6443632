"""torch.fx.wrap's registry: the names wrap() marks, patched in every trace (_symbolic_trace.py) and re-marked by
generated code that calls them (graph.py)."""
import inspect

__all__ = ["wrap"]

# (id of the module globals, name) -> (those globals, name)
_wrapped_fns_to_patch = {}
# functions recorded as call_function whatever module references them (wrap(fn) given a function)
_wrapped_fn_ids = set()


def wrap(fn_or_name):
    """Record calls of this module-level function (or global name) as call_function nodes instead of tracing
    through it. Must be called at the top level of a module."""
    if callable(fn_or_name):
        fn_name = fn_or_name.__name__
        _wrapped_fn_ids.add(id(fn_or_name))
    elif isinstance(fn_or_name, str):
        fn_name = fn_or_name
    else:
        raise AssertionError("Unsupported type for global function! Must be either a callable or string name")
    f = inspect.currentframe().f_back
    if f.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _wrapped_fns_to_patch[(id(f.f_globals), fn_name)] = (f.f_globals, fn_name)
    return fn_or_name
