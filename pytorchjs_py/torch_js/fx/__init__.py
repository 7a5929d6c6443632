"""torch.fx: symbolic tracing of modules into an editable Graph, Python code generated from it (GraphModule), and
graph interpreters. See _symbolic_trace.py for how torch_js functions given Proxies are recorded."""
from . import node, graph, proxy, graph_module  # noqa: F401
from .graph import Graph, CodeGen  # noqa: F401
from .graph_module import GraphModule  # noqa: F401
from .node import Node, map_arg, map_aggregate, has_side_effect  # noqa: F401
from .proxy import Proxy, TraceError  # noqa: F401
from ._symbolic_trace import Tracer, symbolic_trace, PH  # noqa: F401
from ._wrap import wrap  # noqa: F401
from . import _symbolic_trace  # noqa: F401
from .interpreter import Interpreter, Transformer  # noqa: F401
from .subgraph_rewriter import replace_pattern  # noqa: F401
from . import interpreter, subgraph_rewriter, passes  # noqa: F401

__all__ = ["symbolic_trace", "Tracer", "wrap", "Graph", "GraphModule", "Interpreter", "Transformer", "Node", "Proxy",
           "replace_pattern", "has_side_effect", "map_arg", "map_aggregate", "PH"]
