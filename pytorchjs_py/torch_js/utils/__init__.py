"""torch_js.utils: data loading (utils.data) and hook handles."""
from . import data, hooks  # noqa: F401
