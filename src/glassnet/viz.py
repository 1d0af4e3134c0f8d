"""Draw the computation graph behind a tensor (micrograd's ``draw_dot``, for glassnet).

``glassnet.viz.graph(loss)`` returns a ``graphviz.Digraph`` (DOT text in
``.source``; ``.render()`` / ``.pipe()`` make SVG or PNG where Graphviz's
``dot`` program is installed, Debian package ``graphviz``). One box per tensor,
arrows from inputs to results; each box shows

- the op that made it (``conv2d``, ``batch_norm``, ``add_relu``…), or for a
  leaf its name (from ``params``, e.g. ``dict(model.named_parameters())``);
- its shape and value statistics: mean ± standard deviation, [min, max];
- after ``backward()``, the norm of the gradient of the root with respect to
  it, ‖∂L/∂t‖ (a note in the title says so when ``backward()`` has not run).

Gradients: leaves hold theirs in ``.grad``; for the intermediate results the
graph is replayed backwards once more (the same closures ``backward()`` ran),
which needs the graph to be alive: call ``graph`` before ``backward()``, or
after ``backward(retain_graph=True)``.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, _graph_freed, _topological_order


def _nodes(root: Tensor) -> list:
    """Every tensor that leads to ``root`` (also those that need no gradient), inputs first."""
    return _topological_order(root, every_node=True)


def _gradients(root: Tensor) -> dict:
    """id(tensor) → ∂root/∂tensor for every node on a gradient path, by one more reverse pass."""
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(_topological_order(root)):
        g = grads.get(id(node))
        if g is None or node._backward is None:
            continue
        for parent, pg in zip(node._parents, node._backward(g)):
            if pg is not None and parent.requires_grad:
                grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg
    return grads


def _stats(a: np.ndarray) -> str:
    if a.size == 0:
        return "empty"
    if a.dtype.kind not in "fiu":
        return str(a.dtype)
    a = a.astype(np.float64, copy=False)
    if a.size == 1:
        return f"value {a.item():.4g}"
    return f"mean {a.mean():.3g} ± {a.std():.3g}\\n[{a.min():.3g}, {a.max():.3g}]"


def graph(root: Tensor, params: dict | None = None, title: str | None = None, rankdir: str = "LR"):
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (see the module docstring).

    ``params``: names for leaf tensors, ``{name: tensor}`` (``dict(model.named_parameters())``);
    other leaves are called "input" (or "constant" when they hold one number).
    ``rankdir``: "LR" (left to right) or "TB" (top to bottom).
    """
    try:
        import graphviz
    except ImportError as e:
        raise ImportError("glassnet.viz needs the graphviz package: pip install 'glassnet[viz]'") from e
    if not isinstance(root, Tensor):
        raise TypeError(f"viz.graph: expected a glassnet Tensor, got a {type(root).__name__}")
    if root._backward is _graph_freed:
        raise ValueError("viz.graph: backward() already freed this graph; call viz.graph before backward(), "
                         "or run backward(retain_graph=True)")
    names = {id(t): name for name, t in (params or {}).items()}
    nodes = _nodes(root)
    leaves = [n for n in nodes if not n._parents and n.requires_grad]
    backward_ran = any(leaf.grad is not None for leaf in leaves)
    grads = _gradients(root) if backward_ran and root.requires_grad else {}
    note = "after backward(): ‖∂L/∂t‖ per node" if backward_ran else "backward() has not run yet: no gradients"
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, "label": f"{title + chr(10) if title else ''}{note}",
                                       "labelloc": "t", "fontname": "Helvetica"},
                           node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                                      "fontsize": "10"})
    ids = {id(n): f"t{i}" for i, n in enumerate(nodes)}
    for n in nodes:
        if n._parents:
            heading, color = n._op or "op", "#dbe9f6"
        elif id(n) in names:
            heading, color = names[id(n)], "#fde9c9"
        else:
            heading, color = ("constant" if n.data.size == 1 else "input"), "#e6e6e6"
        lines = [heading, f"{tuple(n.shape)} {n.dtype}", _stats(n.data)]
        g = n.grad if not n._parents and n.grad is not None else grads.get(id(n))
        if g is not None:
            lines.append(f"‖grad‖ {np.linalg.norm(np.asarray(g, dtype=np.float64)):.3g}")
        elif backward_ran and n.requires_grad:
            lines.append("no gradient")
        dot.node(ids[id(n)], "\\n".join(lines), fillcolor=color)
        for parent in n._parents:
            dot.edge(ids[id(parent)], ids[id(n)])
    return dot
