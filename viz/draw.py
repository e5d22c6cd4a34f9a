"""Graphviz drawings of a tensor's forward graph and of its backward graph.

draw(loss) is micrograd's draw_dot for tensors: a box per tensor (name, shape, dtype,
statistics of its data and grad) and an ellipse per op, edges from inputs to results.
draw(loss, backward=True) draws how the gradient travels from the loss to the leaves:
one node per backward rule, each edge labelled with the shape of the gradient it
carries, the adjoint written on every rule ("scatter-add", "replicate", ...) and the
engine's un-broadcasting sum drawn where a broadcast input gets a smaller gradient.

Both read only what the tape keeps (`_prev`, `_op`, `_attrs`, `_scope`, `.grad`), so a
graph can be drawn before or after `loss.backward()`.
"""
import collections
import collections.abc
import pathlib

import graphviz
import numpy as np

from tensorgrad import OPS, Tensor

# ----------------------------------------------------------------------------
# what each op's backward rule does: every op says it itself (Op.adjoint, beside its rule in the
# op table; user ops through tg.op(..., adjoint=)). ADJOINTS is a live read-only view of those words.

class _Adjoints(collections.abc.Mapping):
    def __getitem__(self, name):
        op = OPS.get(name)
        if op is None or not getattr(op, "adjoint", ""):
            raise KeyError(name)
        return op.adjoint

    def __iter__(self):
        return (name for name, op in list(OPS.items()) if getattr(op, "adjoint", ""))

    def __len__(self):
        return len(list(iter(self)))


ADJOINTS = _Adjoints()
GENERIC_ADJOINT = "backward rule"

# elementwise ops whose rule returns a gradient of the output's shape for every input;
# the engine then sums it down to a broadcast input's shape (tensor.py, _fit)
BROADCASTING = {"add", "sub", "mul", "div", "maximum", "minimum", "where", "pow_tensor", "atan2", "logaddexp",
                "remainder", "fmod", "clamp"}

TINY = 6  # tensors with at most this many elements show their values, not statistics

FONT = dict(fontname="Helvetica", fontsize="11")
STYLES = {
    "param": dict(shape="box", style="filled", fillcolor="#cfe2ff"),                # leaf that requires grad
    "const": dict(shape="box", style="dashed", color="gray50", fontcolor="gray35"),  # no gradient
    "inter": dict(shape="box"),                                                     # op result
    "root": dict(shape="box", style="filled,bold", fillcolor="#ffd98e", penwidth="2"),
    "op": dict(shape="ellipse", style="filled", fillcolor="#eeeeee", fontsize="10"),
    "rule": dict(shape="box", style="rounded,filled", fillcolor="#fff4dc"),
    "unbroadcast": dict(shape="hexagon", style="filled", fillcolor="#ffe9a8", fontsize="10"),
    "note": dict(shape="note", style="filled", fillcolor="#ffffcc"),
}
HEALTH = {  # marks drawn over a node's style
    "nonfinite": dict(style="filled,bold", fillcolor="#ff9a9a", color="red", penwidth="3"),
    "vanishing": dict(color="blue", penwidth="3"),
    "exploding": dict(color="darkorange", penwidth="3"),
}

INSTALL_HINT = ("Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered "
                "(it was built: its DOT source is in `.source`). Install Graphviz: "
                "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
                "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/")


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program, which is not installed."""

    def __init__(self):
        RuntimeError.__init__(self, INSTALL_HINT)


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph whose rendering says how to install Graphviz when `dot` is missing."""

    def pipe(self, *args, **kwargs):
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFound() from None


# ----------------------------------------------------------------------------
# reading the graph

def _collect(roots, grad_only: bool) -> list:
    """Every tensor the roots depend on, each input before the ops that use it (no recursion)."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        stack.extend((x, False) for x in reversed(t._prev) if x.requires_grad or not grad_only)
    return order


def _nearest(roots, limit: int, grad_only: bool) -> set:
    """The ids of the `limit` tensors closest to the roots (breadth first)."""
    kept, queue = set(), collections.deque(roots)
    while queue and len(kept) < limit:
        t = queue.popleft()
        if id(t) not in kept:
            kept.add(id(t))
            queue.extend(x for x in t._prev if x.requires_grad or not grad_only)
    return kept


def _names(params) -> dict:
    """id -> name from a dict of tensors or from a Module's named_parameters()."""
    if params is None:
        return {}
    items = params.named_parameters() if hasattr(params, "named_parameters") else params.items()
    return {id(t): name for name, t in items}


def _shape(shape) -> str:
    return str(tuple(shape))


def _num(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _summary(what: str, a: np.ndarray) -> str:
    """One line about an array: its value (a scalar, as micrograd), its values (tiny), or statistics."""
    if a.size == 0:
        return f"{what} empty"
    if a.size == 1:
        v = a.item()
        if not isinstance(v, float):
            return f"{what} {v}"
        return f"{what} {v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{what} {v:.4g}"  # micrograd's %.4f
    if a.size <= TINY:
        return f"{what} [{', '.join(_num(v) for v in a.ravel().tolist())}]"
    with np.errstate(all="ignore"):
        a = a.astype(np.float64)
        return f"{what} mean {_num(a.mean())} std {_num(a.std())} min {_num(a.min())} max {_num(a.max())}"


def _health(t: Tensor, grad_ratio) -> tuple:
    """(mark, note) for a tensor whose data or grad is NaN/Inf, or whose gradient is vanishing
    or exploding relative to its data (|grad| / |data| outside grad_ratio = (low, high))."""
    return _health_of(t.numpy(), t.grad, grad_ratio)


def _health_of(data, grad, grad_ratio) -> tuple:
    """_health of a data array and its gradient (None if it has none)."""
    data, grad = np.asarray(data), None if grad is None else np.asarray(grad)
    for what, a in (("grad", grad), ("data", data)):
        if a is not None and a.dtype.kind == "f" and not np.isfinite(a).all():
            kind = "NaN" if np.isnan(a).any() else "Inf"
            return "nonfinite", f"{what} has {kind}"
    if grad_ratio is not None and grad is not None and data.dtype.kind == "f":
        data_norm = np.linalg.norm(data.astype(np.float64))
        if data_norm > 0:
            ratio = np.linalg.norm(grad.astype(np.float64)) / data_norm
            if ratio < grad_ratio[0]:
                return "vanishing", f"vanishing: |grad|/|data| = {ratio:.2g}"
            if ratio > grad_ratio[1]:
                return "exploding", f"exploding: |grad|/|data| = {ratio:.2g}"
    return None, None


def _attr(v) -> str:
    """A short text for an op's non-tensor argument (index arrays show dtype and shape only)."""
    if isinstance(v, np.ndarray):
        return str(v.tolist()) if v.size <= TINY else f"{v.dtype}{list(v.shape)}"
    if isinstance(v, slice):
        text = ":".join("" if s is None else str(s) for s in (v.start, v.stop, v.step))
        return text.rstrip(":") or ":"
    if isinstance(v, tuple):
        return "(" + ", ".join(_attr(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, (np.dtype, type)):
        return np.dtype(v).name
    return _num(v)


# ----------------------------------------------------------------------------
# drawing

class _Canvas:
    """The Digraph, a cluster per name scope (nested as the dotted names are), and the styles."""

    def __init__(self, graph: Drawing, clusters: bool):
        self.graph, self.clusters, self.scopes = graph, clusters, {}

    def node(self, node_id: str, lines: list, kind: str, scope: str = "", mark=None):
        attrs = dict(STYLES[kind], **HEALTH.get(mark, {}))
        self._where(scope).node(node_id, "\\n".join(lines), **attrs)

    def _where(self, scope: str):
        if not scope or not self.clusters:
            return self.graph
        if scope not in self.scopes:
            parent = scope.rpartition(".")[0]
            if parent:
                self._where(parent)
            self.scopes[scope] = graphviz.Digraph(name="cluster_" + scope, graph_attr=dict(
                label=scope.rpartition(".")[2], style="rounded", color="gray60", fontcolor="gray40",
                fontname=FONT["fontname"]))
        return self.scopes[scope]

    def close(self) -> Drawing:
        for scope in sorted(self.scopes, key=lambda s: -s.count(".")):  # innermost first
            parent = scope.rpartition(".")[0]
            (self.scopes[parent] if parent else self.graph).subgraph(self.scopes[scope])
        return self.graph


def draw(root, *, backward: bool = False, params=None, rankdir: str = "LR", stats: bool = True,
         max_nodes: int | None = None, grad_ratio: tuple | None = None, clusters: bool = True,
         compact: bool = False, format: str = "svg") -> Drawing:
    """The graph of root (a tensor or a list of them) as a graphviz.Digraph (see the module doc).

    params: a dict name -> tensor, or a Module (its named_parameters()), naming tensors in the
    drawing (over their own .name). max_nodes: draw only the tensors nearest the root, with a note
    of what was cut. grad_ratio=(low, high): mark gradients with |grad|/|data| outside the range.
    compact: write each op in its result's box instead of an ellipse of its own (forward only)."""
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    roots = [root] if isinstance(root, Tensor) else list(root)
    if backward and not all(r.requires_grad for r in roots):
        raise ValueError("draw(backward=True): the root does not require grad, so no gradient flows through it")
    names = _names(params)
    everything = _collect(roots, grad_only=backward)
    kept = _nearest(roots, max_nodes, backward) if max_nodes is not None else {id(t) for t in everything}
    tensors = [t for t in everything if id(t) in kept]
    ids = {id(t): f"t{i}" for i, t in enumerate(tensors)}
    graph = Drawing(name="backward" if backward else "forward", format=format,
                    graph_attr=dict(rankdir=rankdir), node_attr=FONT, edge_attr=dict(fontname=FONT["fontname"],
                                                                                     fontsize="9"))
    canvas = _Canvas(graph, clusters)
    ctx = dict(names=names, ids=ids, roots={id(r) for r in roots}, stats=stats, grad_ratio=grad_ratio,
               compact=compact)
    if backward:
        cut_at = _draw_backward(canvas, tensors, ctx)
    else:
        cut_at = _draw_forward(canvas, tensors, ctx)
    cut = [t for t in everything if id(t) not in kept]
    if cut:
        shown = [names.get(id(t), t.name) for t in cut]
        shown = [s for s in shown if s]
        lines = [f"{len(cut)} more tensors not drawn (max_nodes={max_nodes})"]
        if shown:
            lines.append("among them: " + ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else ""))
        canvas.node("cut", lines, "note")
        for node_id in cut_at:
            if backward:
                graph.edge(node_id, "cut", style="dashed")
            else:
                graph.edge("cut", node_id, style="dashed")
    return canvas.close()


def _tensor_lines(t: Tensor, ctx, grad_only=False) -> tuple:
    """The label lines of a tensor node and its health mark."""
    name = ctx["names"].get(id(t), t.name)
    if grad_only:
        lines = [f"{name or ''}.grad"]  # the leaf's gradient, where backward accumulates it
    else:
        lines = [name] if name else []
    lines.append(f"{_shape(t.shape)} {t.dtype}")
    if ctx["stats"]:
        if not grad_only:
            lines.append(_summary("data", t.numpy()))
        if t.grad is not None:
            lines.append(_summary("grad", np.asarray(t.grad)))
    mark, note = _health(t, ctx["grad_ratio"])
    if note:
        lines.append(note)
    return lines, mark


def _draw_forward(canvas: _Canvas, tensors: list, ctx) -> list:
    """Tensor boxes and op ellipses, edges from inputs to ops to results; returns the ops with cut inputs."""
    ids, cut_at = ctx["ids"], []
    for t in tensors:
        node_id = ids[id(t)]
        lines, mark = _tensor_lines(t, ctx)
        if id(t) in ctx["roots"]:
            kind = "root"
        elif t._op:
            kind = "inter"
        else:
            kind = "param" if t.requires_grad else "const"
        compact = ctx["compact"] and t._op
        if compact:  # the op written in its result's box: "h = tanh"
            name = ctx["names"].get(id(t), t.name)
            lines = [f"{name} = {t._op}"] + lines[1:] if name else [t._op] + lines
        canvas.node(node_id, lines, kind, t._scope, mark)
        if not t._op:
            continue
        op_id = node_id if compact else "op" + node_id[1:]
        if not compact:
            op_lines = [t._op]
            if t._attrs:  # None once a backward freed the node
                text = " ".join(f"{k}={_attr(v)}" for k, v in t._attrs.items())
                op_lines.append(text if len(text) <= 40 else text[:37] + "...")
            canvas.node(op_id, op_lines, "op", t._scope)
            canvas.graph.edge(op_id, node_id)
        for x in t._prev:
            if id(x) in ids:
                canvas.graph.edge(ids[id(x)], op_id)
            elif op_id not in cut_at:
                cut_at.append(op_id)
    return cut_at


def _raw_shape(t: Tensor, x: Tensor) -> tuple:
    """The shape of the gradient t's rule returns for input x, before the engine fits it to x."""
    if t._op in BROADCASTING:
        return t.shape
    if t._op == "matmul" and t.ndim > 2:  # batch dims broadcast too
        return t.shape[:-2] + x.shape[-2:]
    return x.shape


def _draw_backward(canvas: _Canvas, tensors: list, ctx) -> list:
    """A node per backward rule and per leaf's .grad, edges along the gradient; returns the rules with cut inputs."""
    ids, names, cut_at = ctx["ids"], ctx["names"], []
    uses = collections.Counter(id(x) for t in tensors for x in t._prev if x.requires_grad)  # x * x: 2 uses
    for t in tensors:
        node_id = ids[id(t)]
        if id(t) in ctx["roots"]:
            name = names.get(id(t), t.name)
            seed = f"seed{node_id[1:]}"
            canvas.node(seed, [f"d{name or 'root'} = 1", f"{_shape(t.shape)} {t.dtype}"], "root")
            canvas.graph.edge(seed, node_id, label=_shape(t.shape))
        if t.is_leaf:  # where the gradient is accumulated: .grad
            lines, mark = _tensor_lines(t, ctx, grad_only=True)
            canvas.node(node_id, lines, "param", t._scope, mark)
            continue
        name = names.get(id(t), t.name)
        lines = [f"{t._op} backward", ADJOINTS.get(t._op, GENERIC_ADJOINT)]
        if name:
            lines.append(f"receives d{name}")
        grad_inputs = [x for x in t._prev if x.requires_grad]
        if len(grad_inputs) == 1 and grad_inputs[0].shape != t.shape:  # the adjoint changes the shape
            lines.append(f"{_shape(t.shape)} -> {_shape(grad_inputs[0].shape)}")
        if uses[id(t)] > 1:
            lines.append(f"{uses[id(t)]} uses: their gradients add up")
        mark = None
        if t.grad is not None:  # retained with retain_grad()
            if ctx["stats"]:
                lines.append(_summary("grad", np.asarray(t.grad)))
            mark, note = _health(t, ctx["grad_ratio"])
            if note:
                lines.append(note)
        canvas.node(node_id, lines, "rule", t._scope, mark)
        for i, x in enumerate(t._prev):
            if not x.requires_grad:
                continue
            if id(x) not in ids:
                if node_id not in cut_at:
                    cut_at.append(node_id)
                continue
            raw = _raw_shape(t, x)
            if raw != x.shape and t._op != "expand":  # the engine's sum, the adjoint of broadcasting
                ub = f"{node_id}_sum{i}"
                canvas.node(ub, ["sum (un-broadcast)", f"{_shape(raw)} -> {_shape(x.shape)}"], "unbroadcast", t._scope)
                canvas.graph.edge(node_id, ub, label=_shape(raw))
                canvas.graph.edge(ub, ids[id(x)], label=_shape(x.shape))
            else:
                canvas.graph.edge(node_id, ids[id(x)], label=_shape(x.shape))
    return cut_at


draw_dot = draw  # micrograd's name


def render(graph, path, format: str | None = None, **draw_kwargs) -> pathlib.Path:
    """Write a drawing (or the drawing of a tensor, with draw's keywords) to path as SVG, PNG or PDF
    (the format from the suffix unless given). Needs Graphviz's `dot` program."""
    if isinstance(graph, (Tensor, list, tuple)):
        graph = draw(graph, **draw_kwargs)
    path = pathlib.Path(path)
    format = format or path.suffix.lstrip(".") or "svg"
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:  # also a plain graphviz.Digraph's
        raise GraphvizNotFound() from None
    path.write_bytes(data)
    return path


def save(graph, path) -> pathlib.Path:
    """render(graph, path), or without Graphviz's `dot` the DOT source beside it (path with .gv)."""
    try:
        return render(graph, path)
    except GraphvizNotFound:
        path = pathlib.Path(path).with_suffix(".gv")
        path.write_text(graph.source)
        return path
