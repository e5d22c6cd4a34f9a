"""viz.walk: watch backprop happen, one node at a time, in a self-contained HTML page.

walk(loss) records the engine's own backward walk (record_walk: the order `backward()` visits the
tensors, each one's complete gradient, and what its rule sends to each input), lays the backward
graph out with Graphviz once per fold level (the full graph, every module depth, and each module
opened on its own), and writes one HTML file with everything inline (the SVGs, the recorded numbers,
viz/static/walk.{html,css,js}): no server, no network. The page replays the walk with a step control,
shows each tensor's data and gradient on hover or click, highlights the path from the loss to it,
and folds modules: a folded module is one box and one step, and the page swaps in the layout of
the new fold level.

After loss.backward() has freed the graph the walk cannot be replayed with its numbers: the page
then shows the graph, the order of the walk and what is still known (the leaves' .grad).
"""
import html
import json
import pathlib
import re

import numpy as np

from tensorgrad import Tensor

from .draw import GENERIC_ADJOINT, OPS, TINY, Facts, health_of, sketch
from .graph import Graph, module_of, record, toposort, vertex

STATIC = pathlib.Path(__file__).parent / "static"
HIST_BINS = 20
MAX_VIEWS = 32      # fold levels laid out for the page: every depth, single modules opened, folded alone
FOLD_ALONE = 300    # up to this many tensors, also a layout per module folded alone (else a fold goes to its depth)

FREED = ("This graph was drawn after loss.backward() freed it, so the gradient of each step cannot be "
         "replayed: only the order of the walk and the leaves' .grad are shown. For every step's numbers call "
         "viz.walk(loss) before loss.backward(), or call loss.backward(retain_graph=True).")


def adjoint(t: Tensor) -> str:
    """The one-line words for t's backward rule, from its op's row in the op table."""
    words = getattr(getattr(t, "_fn", None), "adjoint", None)
    if words:
        return words
    op = OPS.get(t._op)
    return getattr(op, "adjoint", "") or GENERIC_ADJOINT


def _adjoint_for(t: Tensor, index: int) -> str:
    """The part of the words about input `index` when they have one part per input
    ("g * y, g * x" -> "g * x" for input 1), else all of them."""
    words = adjoint(t)
    parts = words.split(", ")
    return parts[index] if len(parts) == len(t._prev) > 1 else words


SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


def _describe(t: Tensor, graph: Graph) -> str:
    """A name for an unnamed result from its inputs' names: "embcat @ W1", "tanh(hpreact)"."""
    def short(x):
        name = graph.name(x)
        if name:
            return name
        if x.numel() == 1 and not x.requires_grad:
            return f"{np.asarray(x).item():.4g}"      # a constant such as 1/n
        return "(...)"
    args = [short(x) for x in t._prev]
    if t._op in SYMBOLS and len(args) == 2:
        return f" {SYMBOLS[t._op]} ".join(args)
    if t._op == "getitem":
        return f"{args[0]}[...]"
    return f"{t._op}({', '.join(args)})" if t._op else "(leaf)"


class Walk:
    """A recorded backward walk and its page: .html (the page), .path (where it was written,
    or None), .steps (the engine's WalkSteps; empty if the graph was freed). Shows itself inline in Jupyter."""

    def __init__(self, page: str, steps: list, path):
        self.html, self.steps, self.path = page, steps, path

    def _repr_html_(self) -> str:
        # an iframe keeps the page's script and styles apart from the notebook's
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                'style="width: 100%; height: 720px; border: 1px solid #ccc"></iframe>')

    def save(self, path) -> pathlib.Path:
        path = pathlib.Path(path)
        path.write_text(self.html, encoding="utf-8")
        self.path = path
        return path

    def __repr__(self):
        return f"<viz.Walk: {len(self.steps)} steps{f', {self.path}' if self.path else ''}>"


def walk(loss: Tensor, path="backward.html", *, depth: int | None = None, max_nodes: int | None = None, params=None,
         steps=None, grad_ratio: tuple | None = None, rankdir: str = "TB", clusters: bool = True,
         title: str | None = None) -> Walk:
    """Write a page that steps through loss's backward walk to path (None: write nothing) and return it.

    The walk is recorded with tg.grad(loss, leaves, retain_graph=True): the engine's real order and
    values, leaving every .grad as it was and the graph in place; or pass steps= recorded yourself
    with record_walk() around loss.backward(). depth: the fold level the page opens at (None: every
    op). params, max_nodes (the page then holds only the steps of the drawn tensors), grad_ratio,
    rankdir and clusters are viz.draw's."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"viz.walk: expected the loss tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise ValueError("viz.walk: the loss does not require grad, so there is no backward walk")
    graph = Graph(loss, grad_only=True, params=params, max_nodes=max_nodes)
    if steps is not None:
        steps = list(steps)
        if not steps or steps[0].tensor is not loss:
            raise ValueError("viz.walk: steps= must be the walk of this loss's backward (its first step visits the loss)")
    else:
        steps = record(loss, [t for t in graph.everything if t.is_leaf])
    facts = Facts(steps)
    data = _page_data(graph, steps, grad_ratio) if steps is not None else _unrecorded(graph)
    data.update(rankdir=rankdir, max_nodes=max_nodes, cut=len(graph.cut), title=title or f"backward walk of "
                f"{data['tensors'][0]['name']}", freed=FREED if steps is None else "")
    data["views"], data["view"] = _views(graph, facts, depth, rankdir, clusters)
    data["scopes"], data["labels"] = graph.scopes, {s: module_of(s).label for s in graph.scopes}
    page = Walk(_page(data), steps or [], None)
    if path is not None:
        page.save(path)
    return page


# ----------------------------------------------------------------------------
# the layouts: one per fold level

def _fold_sets(graph: Graph, depth) -> list:
    """The fold levels the page offers, as (key, (depth, folded scopes)): the one asked for, every op,
    each depth, each module of a depth opened alone, each module folded alone; at most MAX_VIEWS."""
    levels = [(None, set())] + [(d, graph.folded_at(d)) for d in range(graph.depth() + 1)]
    sets = [(depth, graph.folded_at(depth))] if depth is not None and depth <= graph.depth() else []
    sets += levels
    for d, folded in levels[1:]:
        for scope in sorted(folded):
            children = {s for s in graph.scopes if s.startswith(scope + ".") and s.count(".") == d + 1}
            sets.append((d, (folded - {scope}) | children))
    if len(graph.tensors) <= FOLD_ALONE:                         # each module folded alone (near full size)
        sets += [(None, {scope}) for scope in graph.scopes]
    unique = {}
    for d, folded in sets:
        unique.setdefault("|".join(sorted(folded)), (d, folded))
    return list(unique.items())[:MAX_VIEWS]


def _views(graph: Graph, facts: Facts, depth, rankdir, clusters) -> tuple:
    """{key: a fold level's SVG and its boxes} and the key of the one the page opens at."""
    views = {}
    for key, (d, folded) in _fold_sets(graph, depth):
        units = graph.fold(folded)
        drawing = sketch(graph, units, facts, backward=True, rankdir=rankdir, stats=False, clusters=clusters)
        drawing.graph_attr.update(pad="0.3", nodesep="0.8")                 # room for the gradient badges
        svg = drawing.pipe(format="svg").decode("utf-8")
        index = {id(t): k for k, t in enumerate(_page_order(graph))}      # as the page's tensors
        boxes = {u.id: dict(scope=u.module.scope, label=u.module.label, members=[index[id(t)] for t in u.tensors],
                            params=[index[id(p)] for p in u.params if p.requires_grad])
                 for u in units if u.module is not None}
        views[key] = dict(depth=d, level=folded == graph.folded_at(d), folded=sorted(folded),
                          svg=svg[svg.index("<svg"):], boxes=boxes)
    first = next(iter(views))
    return views, first


# ----------------------------------------------------------------------------
# what the page shows, as JSON

def _num(v):
    return float(v)        # json writes nan and inf as NaN and Infinity, which the page's script reads


def _stats(a) -> dict:
    """Shape, dtype, mean std min max norm (NaN if any is), NaN/Inf counts, a histogram of the finite values."""
    a = np.asarray(a)
    f = a.astype(np.float64).ravel()
    finite = f[np.isfinite(f)]
    s = dict(shape=list(a.shape), dtype=str(a.dtype), size=int(a.size),
             nan=int(np.isnan(f).sum()), inf=int(np.isinf(f).sum()))
    if f.size:
        with np.errstate(all="ignore"):
            s.update(mean=_num(f.mean()), std=_num(f.std()), min=_num(f.min()), max=_num(f.max()),
                     norm=_num(np.linalg.norm(f)))
    if finite.size:
        counts, edges = np.histogram(finite, bins=HIST_BINS)
        s["hist"] = dict(counts=counts.tolist(), lo=_num(edges[0]), hi=_num(edges[-1]))
    if a.size <= TINY:
        s["values"] = [_num(v) for v in f]
    return s


def _page_order(graph: Graph) -> list:
    """The drawn tensors in the page's order: the loss first."""
    loss = graph.roots[0]
    return [loss] + [t for t in graph.tensors if t is not loss]


def _tensors(graph: Graph) -> tuple:
    """The page's tensor entries (the drawn ones, the loss first) and id(tensor) -> its position."""
    loss = graph.roots[0]
    index, tensors = {}, []
    for t in _page_order(graph):
        index[id(t)] = len(tensors)
        name = graph.name(t)
        tensors.append(dict(name=name or _describe(t, graph), named=bool(name),
                            kind="root" if t is loss else "inter" if not t.is_leaf else "param",
                            op=t._op, adjoint=adjoint(t) if t._op else "", scope=t._scope, node=graph.node_id(t),
                            data=_stats(t), grad=None, visit=None, first=None, done=None, uses=0))
    tensors[0].update(first=0, done=0)            # the seed: dloss/dloss = 1 before the first step
    return tensors, index


def _page_data(graph: Graph, steps: list, grad_ratio) -> dict:
    """The drawn tensors (data, gradient, when each gradient starts and is complete) and their steps."""
    tensors, index = _tensors(graph)
    page_steps, hidden = [dict(t=0, seed=True, sends=[])], 0
    with np.errstate(all="ignore"):               # NaN/Inf are shown, not warned about
        for step in steps:
            if id(step.tensor) not in index:      # not drawn (max_nodes): not in the page
                hidden += 1
                continue
            page_steps.append(_page_step(len(page_steps), step, tensors, index, grad_ratio))
    return dict(tensors=tensors, steps=page_steps, hidden_steps=hidden)


def _page_step(k: int, step, tensors: list, index: dict, grad_ratio) -> dict:
    """Step k: the visited tensor's complete gradient and health, and what its rule sends where."""
    t = step.tensor
    i = index[id(t)]
    data = np.asarray(t, dtype=np.float64)
    tensors[i].update(visit=k, grad=_stats(step.grad), health=list(health_of(np.asarray(t), step.grad, grad_ratio)))
    if t.is_leaf:
        grad = np.asarray(step.grad, dtype=np.float64)
        tensors[i]["ratio"] = dict(std=_num(grad.std() / data.std()) if data.std() else None,   # the lecture's
                                   norm=_num(np.linalg.norm(grad) / np.linalg.norm(data)) if data.any() else None)
    sends = []
    for send in step.sends:
        j = index.get(id(send.input))
        if j is not None:
            target = tensors[j]
            target["uses"] += 1
            target["first"] = k if target["first"] is None else target["first"]
            target["done"] = k                    # so far the last gradient it receives
        g = np.asarray(send.grad, dtype=np.float64)
        sends.append(dict(
            to=j, use=tensors[j]["uses"] if j is not None else 0, index=send.index, raw=list(send.raw_shape),
            shape=list(send.grad.shape), summed=bool(send.summed), acc=bool(send.accumulated),
            adjoint=_adjoint_for(t, send.index), scatter="scatter" in adjoint(t),   # the op row's own words
            occurrence=sum(1 for x in t._prev[:send.index] if x is send.input),    # x * x: its 2nd edge
            stats=dict(mean=_num(g.mean()), norm=_num(np.linalg.norm(g))) if g.size else {}))
    return dict(t=i, sends=sends)


def _unrecorded(graph: Graph) -> dict:
    """The page's data when the graph was freed: the engine's order of the walk, the gradient shapes,
    and the values still known (the leaves' .grad, gradients kept with retain_grad())."""
    tensors, index = _tensors(graph)
    owner = {id(t.grad_fn if t.grad_fn is not None else t): t for t in graph.tensors}
    page_steps, received = [dict(t=0, seed=True, sends=[])], set()
    for v in reversed(toposort([vertex(graph.roots[0])])):
        t = owner.get(id(v))
        if t is None:
            continue
        k, i = len(page_steps), index[id(t)]
        tensors[i].update(visit=k, grad=None if t.grad is None else _stats(t.grad), health=[None, None])
        sends = []
        for n, x in enumerate(t._prev):
            j = index.get(id(x))
            if not x.requires_grad or j is None:
                continue
            tensors[j]["uses"] += 1
            tensors[j]["first"] = k if tensors[j]["first"] is None else tensors[j]["first"]
            tensors[j]["done"] = k
            sends.append(dict(to=j, use=tensors[j]["uses"], index=n, raw=list(x.shape), shape=list(x.shape),
                              summed=False, acc=id(x) in received, adjoint=_adjoint_for(t, n),
                              scatter="scatter" in adjoint(t), occurrence=sum(1 for y in t._prev[:n] if y is x),
                              stats={}))
            received.add(id(x))
        page_steps.append(dict(t=i, sends=sends))
    return dict(tensors=tensors, steps=page_steps, hidden_steps=0)


def _page(data: dict) -> str:
    """The page: walk.html with its style, script and data inline."""
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")   # safe inside <script>
    parts = dict(TITLE=html.escape(data["title"]), STYLE=(STATIC / "walk.css").read_text(), DATA=payload,
                 SCRIPT=(STATIC / "walk.js").read_text())
    template = (STATIC / "walk.html").read_text()
    return re.sub(r"/\*(TITLE|STYLE|DATA|SCRIPT)\*/", lambda m: parts[m[1]], template)   # one pass
