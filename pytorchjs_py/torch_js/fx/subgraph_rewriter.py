"""torch.fx.subgraph_rewriter.replace_pattern: replace every non-overlapping match of a pattern function's graph
in a GraphModule with a replacement function's graph."""
from typing import NamedTuple

from .graph import Graph
from .graph_module import GraphModule
from .node import Node
from ._symbolic_trace import symbolic_trace

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    anchor: Node
    nodes_map: dict


def _as_graph(fn):
    if isinstance(fn, GraphModule):
        return fn.graph
    if isinstance(fn, Graph):
        return fn
    return symbolic_trace(fn).graph


def _match_arg(pa, ga, nodes_map):
    if isinstance(pa, Node):
        return isinstance(ga, Node) and _match_node(pa, ga, nodes_map)
    if isinstance(pa, (list, tuple)):
        return (isinstance(ga, (list, tuple)) and len(pa) == len(ga)
                and all(_match_arg(p, g, nodes_map) for p, g in zip(pa, ga)))
    if isinstance(pa, dict):
        return isinstance(ga, dict) and pa.keys() == ga.keys() and all(
            _match_arg(pa[k], ga[k], nodes_map) for k in pa)
    return type(pa) is type(ga) and pa == ga


def _match_node(pn, gn, nodes_map):
    """Does pattern node pn match graph node gn (and recursively their inputs)? Extends nodes_map."""
    if pn in nodes_map:
        return nodes_map[pn] is gn
    if pn.op == "placeholder":
        if gn in nodes_map.values():
            return False
        nodes_map[pn] = gn
        return True
    if pn.op != gn.op or gn in nodes_map.values():
        return False
    if pn.op in ("call_function", "call_method", "call_module", "get_attr") and pn.target != gn.target:
        return False
    if len(pn.args) != len(gn.args) or pn.kwargs.keys() != gn.kwargs.keys():
        return False
    saved = dict(nodes_map)
    nodes_map[pn] = gn
    if all(_match_arg(p, g, nodes_map) for p, g in zip(pn.args, gn.args)) and all(
            _match_arg(pn.kwargs[k], gn.kwargs[k], nodes_map) for k in pn.kwargs):
        return True
    nodes_map.clear()
    nodes_map.update(saved)
    return False


def _match_anchors(anchors, candidates, nodes_map):
    """Match every pattern anchor (returning node) to a graph node, backtracking over the choices."""
    if not anchors:
        return True
    for gn in candidates:
        saved = dict(nodes_map)
        if _match_node(anchors[0], gn, nodes_map) and _match_anchors(anchors[1:], candidates, nodes_map):
            return True
        nodes_map.clear()
        nodes_map.update(saved)
    return False


def _find_matches(graph, pattern_graph):
    """[(returning graph nodes, nodes_map, graph nodes for the pattern's placeholders)], non-overlapping, in graph
    order of the first returning node."""
    output = next(n for n in pattern_graph.nodes if n.op == "output")
    returned = output.args[0]
    anchors = list(returned) if isinstance(returned, (list, tuple)) else [returned]
    pattern_nodes = [n for n in pattern_graph.nodes if n.op not in ("placeholder", "output")]
    placeholders = [n for n in pattern_graph.nodes if n.op == "placeholder"]
    candidates = list(graph.nodes)
    matches, used = [], set()
    for gn in candidates:
        nodes_map = {}
        if not (_match_node(anchors[0], gn, nodes_map) and _match_anchors(anchors[1:], candidates, nodes_map)):
            continue
        if any(pn not in nodes_map for pn in pattern_nodes):
            continue
        internal = {nodes_map[pn] for pn in pattern_nodes}
        # a matched inner value used outside the match cannot be removed
        if any(u not in internal for pn in pattern_nodes if pn not in anchors for u in nodes_map[pn].users):
            continue
        if internal & used:
            continue
        used |= internal
        matches.append(([nodes_map[a] for a in anchors], nodes_map, [nodes_map.get(p) for p in placeholders]))
    return matches, anchors


def replace_pattern(gm, pattern, replacement):
    """Replace each match of pattern (a function, Graph or GraphModule) in gm with replacement; returns the
    Matches (anchor: the pattern's returning node, nodes_map: pattern node -> the graph node it matched)."""
    original_graph = gm.graph
    pattern_graph = _as_graph(pattern)
    replacement_graph = _as_graph(replacement)
    matches, pattern_anchors = _find_matches(original_graph, pattern_graph)
    out = []
    for returning, nodes_map, placeholder_nodes in matches:
        replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
        if len(replacement_placeholders) != len(placeholder_nodes):
            raise AssertionError(f"Placeholder count mismatch: {len(placeholder_nodes)} vs "
                                 f"{len(replacement_placeholders)}")
        val_map = dict(zip(replacement_placeholders, placeholder_nodes))
        # the replacement goes before the first user of the match's results (else after the last result)
        users = {u for n in returning for u in n.users}
        insert_point = next((n for n in original_graph.nodes if n in users), None)
        if insert_point is None:
            last = [n for n in original_graph.nodes if n in returning][-1]
            insert_point = last.next
        with original_graph.inserting_before(insert_point):
            copied = original_graph.graph_copy(replacement_graph, val_map)
        copied = list(copied) if isinstance(copied, (list, tuple)) else [copied]
        if len(copied) != len(returning):
            raise AssertionError(f"Returning nodes count mismatch: {len(returning)} vs {len(copied)}")
        for gn, new in zip(returning, copied):
            gn.replace_all_uses_with(new)
        for pn in reversed(list(pattern_graph.nodes)):
            if pn.op not in ("placeholder", "output"):
                original_graph.erase_node(nodes_map[pn])
        out.append(Match(anchor=pattern_anchors[0], nodes_map=nodes_map))
    gm.recompile()
    return out
