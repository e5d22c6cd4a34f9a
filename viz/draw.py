"""Graphviz drawings of a tensor's forward graph and of its backward graph.

draw(loss) is micrograd's draw_dot for tensors: a box per tensor (name, shape, dtype,
statistics of its data and grad) and an ellipse per op, edges from inputs to results.
draw(loss, backward=True) draws how the gradient travels from the loss to the leaves:
one node per backward rule, each edge labelled with the shape of the gradient it
carries, the adjoint written on every rule ("scatter-add", "replicate", ...) and the
engine's un-broadcasting sum drawn where a broadcast input gets a smaller gradient.

Both read what the tape keeps (`_prev`, `_op`, `_attrs`, `_scope`, `.grad`) through viz.graph,
so a graph can be drawn before or after `loss.backward()`; the un-broadcast sums are what the
engine recorded on a walk run on the side (viz.graph.record), never guessed from op names.
draw(loss, depth=k) folds every module deeper than k into one box (viz.graph.Graph.fold).
"""
import collections
import collections.abc
import pathlib

import graphviz
import numpy as np

from tensorgrad import OPS, Tensor
from tensorgrad.engine import is_freed

from .graph import Graph, Unit, module_of, record, vertex

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
    "module": dict(shape="box", style="rounded,filled,bold", fillcolor="#dff0d8", color="#3c763d"),  # folded
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
    return health_of(t.numpy(), t.grad, grad_ratio)


def health_of(data, grad, grad_ratio) -> tuple:
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

AUTO_TB = 24        # drawings with more nodes than this go top to bottom (micrograd's left to right below)
PARAM_LINES = 48    # a folded module lists at most this many of its parameters


class _Canvas:
    """The Digraph, a cluster per name scope (nested as the dotted names are), and the styles."""

    def __init__(self, graph: Drawing, clusters: bool):
        self.graph, self.clusters, self.scopes = graph, clusters, {}

    def node(self, node_id: str, lines: list, kind: str, scope: str = "", mark=None, left=(), **attrs):
        """A node labelled with lines (centred) then `left` (left-aligned, as a list)."""
        attrs = dict(STYLES[kind], **HEALTH.get(mark, {}), **attrs)
        label = "\\n".join(lines) + ("\\n" + "".join(f"{line}\\l" for line in left) if left else "")
        self._where(scope).node(node_id, label, **attrs)

    def edge(self, tail: str, head: str, label: str = "", **attrs):
        if label:
            attrs["label"] = label
        self.graph.edge(tail, head, **attrs)

    def _where(self, scope: str):
        if not scope or not self.clusters:
            return self.graph
        if scope not in self.scopes:
            parent = scope.rpartition(".")[0]
            if parent:
                self._where(parent)
            self.scopes[scope] = graphviz.Digraph(name="cluster_" + scope, graph_attr=dict(
                label=module_of(scope).label, style="rounded", color="gray60", fontcolor="gray40",
                fontname=FONT["fontname"]))
        return self.scopes[scope]

    def close(self) -> Drawing:
        for scope in sorted(self.scopes, key=lambda s: -s.count(".")):  # innermost first
            parent = scope.rpartition(".")[0]
            (self.scopes[parent] if parent else self.graph).subgraph(self.scopes[scope])
        return self.graph


class Facts:
    """What the engine's backward walk recorded (viz.graph.record): what each rule sent to each input
    (Send: raw_shape, summed). `known` is False when the walk could not be recorded (an earlier
    backward() freed the graph)."""

    def __init__(self, steps):
        self.known, self.sends = steps is not None, {}
        for step in steps or ():
            v = vertex(step.tensor)
            for send in step.sends:
                self.sends[id(v), send.index] = send

    def send(self, t: Tensor, index: int):
        return self.sends.get((id(vertex(t)), index))


class _Context:
    def __init__(self, graph: Graph, units: list, facts: Facts, **options):
        self.graph, self.units, self.facts = graph, units, facts
        self.unit_of = graph.unit_of(units)
        self.stats, self.grad_ratio, self.compact = options["stats"], options["grad_ratio"], options["compact"]


def draw(root, *, backward: bool = False, params=None, depth: int | None = None, rankdir: str | None = None,
         stats: bool = True, max_nodes: int | None = None, grad_ratio: tuple | None = None, clusters: bool = True,
         compact: bool | None = None, steps=None, format: str = "svg") -> Drawing:
    """The graph of root (a tensor or a list of them) as a graphviz.Digraph (see the module doc).

    params: a dict name -> tensor, or a Module (its named_parameters()), naming tensors in the
    drawing (over their own .name). depth: every module nested deeper than depth (the model is 0,
    its children 1, ...) is one box with its class, path, shapes and parameters; None draws every op.
    rankdir: "LR" or "TB" (None: top to bottom with a depth or over 24 nodes, else left to right). max_nodes: draw
    only the tensors nearest the root, with a note of what was cut. grad_ratio=(low, high): mark
    gradients with |grad|/|data| outside the range. compact: write each op in its result's box
    instead of an ellipse of its own (forward; None: when depth is given). steps: the recorded walk
    to draw the backward from (by default recorded on the side when the graph is still there)."""
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"draw: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValueError(f"draw: depth must be None or an int >= 0 (the model is depth 0), got {depth!r}")
    graph = Graph(root, grad_only=backward, params=params, max_nodes=max_nodes)
    if backward and not all(r.requires_grad for r in graph.roots):
        raise ValueError("draw(backward=True): the root does not require grad, so no gradient flows through it")
    if backward and steps is None and len(graph.roots) == 1:
        steps = record(graph.roots[0])
    return sketch(graph, graph.fold(depth), Facts(steps if backward else None), backward=backward,
                  rankdir=rankdir or ("TB" if depth is not None else None), stats=stats, grad_ratio=grad_ratio, clusters=clusters,
                  compact=depth is not None if compact is None else compact, format=format)


def sketch(graph: Graph, units: list, facts: Facts, *, backward: bool, rankdir=None, stats=True, grad_ratio=None,
           clusters=True, compact=False, format="svg") -> Drawing:
    """The drawing of graph's units (Graph.fold) with the recorded facts: draw's work, for viz.walk too."""
    ctx = _Context(graph, units, facts, stats=stats, grad_ratio=grad_ratio, compact=compact and not backward)
    nodes = len(units) * (1 if backward or compact else 2)
    drawing = Drawing(name="backward" if backward else "forward", format=format,
                      graph_attr=dict(rankdir=rankdir or ("LR" if nodes <= AUTO_TB else "TB")), node_attr=FONT,
                      edge_attr=dict(fontname=FONT["fontname"], fontsize="9"))
    canvas = _Canvas(drawing, clusters)
    cut_at = _draw_backward(canvas, ctx) if backward else _draw_forward(canvas, ctx)
    _draw_cut(canvas, graph, cut_at, backward)
    unsure = any(x.shape != t.shape for t in graph.tensors for x in t._prev if x.requires_grad)
    if backward and not facts.known and unsure:     # a shape changes somewhere: was it the engine's sum?
        canvas.node("freed", ["drawn after backward() freed the graph: the engine's un-broadcast sums",
                              "are not shown (draw before backward, or use backward(retain_graph=True))"], "note")
    return canvas.close()


def _draw_cut(canvas: _Canvas, graph: Graph, cut_at: list, backward: bool) -> None:
    """The note standing for the tensors max_nodes left out, joined to where the graph was cut."""
    if not graph.cut:
        return
    shown = [s for s in (graph.name(t) for t in graph.cut) if s]
    lines = [f"{len(graph.cut)} more tensors not drawn (max_nodes={graph.max_nodes})"]
    if shown:
        lines.append("among them: " + ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else ""))
    canvas.node("cut", lines, "note")
    for node_id in cut_at:   # dashed, the way the gradient (or the data) goes
        tail, head = (node_id, "cut") if backward else ("cut", node_id)
        canvas.edge(tail, head, style="dashed")


def _tensor_lines(t: Tensor, ctx: _Context, grad_only=False) -> tuple:
    """The label lines of a tensor node and its health mark."""
    name = ctx.graph.name(t)
    if grad_only:
        lines = [f"{name or ''}.grad"]  # the leaf's gradient, where backward accumulates it
    else:
        lines = [name] if name else []
    lines.append(f"{_shape(t.shape)} {t.dtype}")
    grad = None if t.grad is None else np.asarray(t.grad)
    if ctx.stats:
        if not grad_only:
            lines.append("data freed by backward" if is_freed(t) else _summary("data", t.numpy()))
        if grad is not None:
            lines.append(_summary("grad", grad))
    mark, note = health_of(None if is_freed(t) else t.numpy(), grad, ctx.grad_ratio)
    if note:
        lines.append(note)
    return lines, mark


def _shapes(tensors: list, most: int = 3) -> str:
    text = ", ".join(_shape(t.shape) for t in tensors[:most])
    return (text + (", ..." if len(tensors) > most else "")) or "-"


def _box(canvas: _Canvas, u: Unit, ctx: _Context, backward: bool) -> None:
    """A folded module: its class and path, in/out shapes, ops folded, the gradient it passes on
    (backward), and its parameters (name, shape, |grad|)."""
    m = u.module
    params = [p for p in u.params if p.requires_grad]
    inputs = [x for x in u.inputs if x.requires_grad and not x.is_leaf]    # what flows in (not scalars, masks)
    inputs = inputs or [x for x in u.inputs if not x.requires_grad and x.numel() > 1]   # or the data: token ids
    lines = [m.label + (" backward" if backward else ""),
             (f"in {_shapes(inputs)}  " if inputs else "") + f"out {_shapes(u.outputs)}",
             f"{len(u.tensors)} op{'s' * (len(u.tensors) != 1)} folded"]
    if backward and ctx.facts.known and ctx.stats and any(x.requires_grad for x in u.inputs):
        lines.append(f"passes on |grad| {_num(_passed_on(u, ctx))}")
    left = []
    for p in params[:PARAM_LINES]:
        name = ctx.graph.name(p) or "(parameter)"
        name = name[len(m.path) + 1:] if name.startswith(m.path + ".") else name
        g = None if p.grad is None else np.asarray(p.grad)
        norm = f"  |grad| {_num(float(np.linalg.norm(g.astype(np.float64))))}" if g is not None and ctx.stats else ""
        left.append(f"{name} {_shape(p.shape)}{norm}")
    if len(params) > PARAM_LINES:
        left.append(f"... {len(params) - PARAM_LINES} more parameters")
    group = m.scope.rpartition(".")[0] + "/" + m.cls        # repeated siblings (h.0, h.1, ...) line up
    canvas.node(u.id, lines, "module", m.scope.rpartition(".")[0], left=left, group=group)


def _passed_on(u: Unit, ctx: _Context) -> float:
    """The norm of the gradient a folded module sends to what lies outside it (its parameters aside)."""
    inside = {id(t) for t in u.tensors + u.params}
    total = {}
    for t in u.tensors:
        for i, x in enumerate(t._prev):
            send = ctx.facts.send(t, i)
            if send is not None and id(x) not in inside:
                total[id(x)] = total.get(id(x), 0) + np.asarray(send.grad, dtype=np.float64)
    return float(np.sqrt(sum(np.sum(np.square(g)) for g in total.values())))


def _draw_forward(canvas: _Canvas, ctx: _Context) -> list:
    """Tensor boxes and op ellipses (or module boxes), edges from inputs to ops to results; returns
    the nodes with cut inputs."""
    cut_at = []
    for u in ctx.units:
        if u.module is not None:
            _box(canvas, u, ctx, backward=False)
            target, inputs = u.id, u.inputs
        else:
            target, inputs = _draw_tensor(canvas, u.tensors[0], ctx), u.tensors[0]._prev
        if target is None:
            continue
        for x in inputs:
            source = ctx.unit_of.get(id(x))
            if source is None:
                if target not in cut_at:
                    cut_at.append(target)
            elif source is not u:
                labelled = source.module is not None or u.module is not None or ctx.compact
                canvas.edge(source.id, target, _shape(x.shape) if labelled else "")
    return cut_at


def _draw_tensor(canvas: _Canvas, t: Tensor, ctx: _Context):
    """A tensor's box, and its op's ellipse; returns the node its inputs point to (None for a leaf)."""
    node_id = ctx.graph.node_id(t)
    lines, mark = _tensor_lines(t, ctx)
    if ctx.graph.is_root(t):
        kind = "root"
    elif t._op:
        kind = "inter"
    else:
        kind = "param" if t.requires_grad else "const"
    if ctx.compact and t._op:  # the op written in its result's box: "h = tanh"
        name = ctx.graph.name(t)
        lines = [f"{name} = {t._op}"] + lines[1:] if name else [t._op] + lines
    canvas.node(node_id, lines, kind, t._scope, mark)
    if not t._op:
        return None
    if ctx.compact:
        return node_id
    op_id = "op" + node_id[1:]
    op_lines = [t._op]
    if t._attrs:  # None once a backward freed the node
        text = " ".join(f"{k}={_attr(v)}" for k, v in t._attrs.items())
        op_lines.append(text if len(text) <= 40 else text[:37] + "...")
    canvas.node(op_id, op_lines, "op", t._scope)
    canvas.edge(op_id, node_id)
    return op_id


def _draw_backward(canvas: _Canvas, ctx: _Context) -> list:
    """A node per backward rule (or folded module) and per leaf's .grad, edges along the gradient;
    returns the nodes with cut inputs."""
    graph, cut_at = ctx.graph, []
    uses = collections.Counter(id(x) for t in graph.tensors for x in t._prev if x.requires_grad)  # x * x: 2 uses
    for u in ctx.units:
        if u.module is not None:
            _box(canvas, u, ctx, backward=True)
            inside, seen, sends = {id(t) for t in u.tensors + u.params}, set(), []
            for t in u.tensors:
                for i, x in enumerate(t._prev):
                    if x.requires_grad and id(x) not in inside and id(x) not in seen:
                        seen.add(id(x))
                        sends.append((t, i, x))
        else:
            t = u.tensors[0]
            if graph.is_root(t):
                seed = f"seed{u.id[1:]}"
                canvas.node(seed, [f"d{graph.name(t) or 'root'} = 1", f"{_shape(t.shape)} {t.dtype}"], "root")
                canvas.edge(seed, u.id, _shape(t.shape))
            if t.is_leaf:  # where the gradient is accumulated: .grad
                lines, mark = _tensor_lines(t, ctx, grad_only=True)
                canvas.node(u.id, lines, "param", t._scope, mark)
                continue
            _rule(canvas, u.id, t, ctx, uses[id(t)])
            sends = [(t, i, x) for i, x in enumerate(t._prev) if x.requires_grad]
        for t, i, x in sends:
            target = ctx.unit_of.get(id(x))
            if target is None:
                if u.id not in cut_at:
                    cut_at.append(u.id)
                continue
            send = ctx.facts.send(t, i)
            if send is not None and send.summed and u.module is None:   # the engine's sum, the adjoint of broadcasting
                hexagon = f"{u.id}_sum{i}"
                canvas.node(hexagon, ["sum (un-broadcast)", f"{_shape(send.raw_shape)} -> {_shape(x.shape)}"],
                            "unbroadcast", t._scope)
                canvas.edge(u.id, hexagon, _shape(send.raw_shape))
                canvas.edge(hexagon, target.id, _shape(x.shape))
            else:
                canvas.edge(u.id, target.id, _shape(x.shape))
    return cut_at


def _rule(canvas: _Canvas, node_id: str, t: Tensor, ctx: _Context, uses: int) -> None:
    """The node of t's backward rule: the op, its adjoint, the shape change, the uses, t's gradient."""
    name = ctx.graph.name(t)
    lines = [f"{t._op} backward", ADJOINTS.get(t._op, GENERIC_ADJOINT)]
    if name:
        lines.append(f"receives d{name}")
    grad_inputs = [x for x in t._prev if x.requires_grad]
    if len(grad_inputs) == 1 and grad_inputs[0].shape != t.shape:  # the adjoint changes the shape
        lines.append(f"{_shape(t.shape)} -> {_shape(grad_inputs[0].shape)}")
    if uses > 1:
        lines.append(f"{uses} uses: their gradients add up")
    mark = None
    if t.grad is not None:  # retained with retain_grad()
        if ctx.stats:
            lines.append(_summary("grad", np.asarray(t.grad)))
        mark, note = _health(t, ctx.grad_ratio)
        if note:
            lines.append(note)
    canvas.node(node_id, lines, "rule", t._scope, mark)


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
