"""torch.autograd.graph: the public path of torch_js._graph, where the graph's nodes live (below ops, which
record into it; this package's __init__ loads the engine, which sits above ops)."""
from .._graph import AccumulateGrad, Node, SavedTensor, edge_of, grad_accumulator, node_class  # noqa: F401
