"""torch_js.utils: data loading (utils.data) and hook handles."""
from . import data, hooks  # noqa: F401
from . import _pytree, checkpoint  # noqa: F401
from ._swap import swap_tensors  # noqa: F401
