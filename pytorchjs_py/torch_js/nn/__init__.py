"""torch_js.nn: modules, parameters, init and functional — `import torch_js.nn as nn` like `torch.nn`."""
from . import functional  # noqa: F401  (keep first: the modules import it)
from . import init  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .modules.module import _IncompatibleKeys  # noqa: F401
from . import modules  # noqa: F401
from . import utils  # noqa: F401
from . import parallel  # noqa: F401
from . import attention  # noqa: F401
