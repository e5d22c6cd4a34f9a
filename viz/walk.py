"""viz.walk: watch backprop happen, one node at a time, in a self-contained HTML page.

walk(loss) records the engine's own backward walk (tensorgrad.tensor.record_walk: the order
`backward()` visits the tensors, each one's complete gradient, and what its rule sends to each
input), draws the backward graph with viz.draw's Graphviz layout, and writes one HTML file with
everything inline (the SVG, the recorded numbers, the script): no server, no network. The page
replays the walk with a step control (buttons, slider, arrow keys), shows each tensor's data and
gradient on hover or click, highlights the path from the loss to it, and folds module clusters.
"""
import html
import importlib
import json
import pathlib
import re

import numpy as np

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.tensor import record_walk

from .draw import _collect, _health_of, _names, _nearest, draw

_draw = importlib.import_module("viz.draw")   # the module (viz.draw is the function)

HIST_BINS = 20
TINY = _draw.TINY            # tensors with at most this many elements also list their values
SCATTERS = {"getitem"}       # ops whose backward scatter-adds g into a zero tensor of the input's shape

FREED = ("viz.walk replays the backward walk on a graph that is still there: call viz.walk(loss) before "
         "loss.backward(), or call loss.backward(retain_graph=True), or record the walk yourself:\n"
         "    with tensorgrad.tensor.record_walk() as steps:\n        loss.backward()\n"
         "    viz.walk(loss, steps=steps)")


def adjoint(t: Tensor) -> str:
    """The one-line words for t's backward rule: the op table's `adjoint` field, else viz's table."""
    words = getattr(getattr(t, "_fn", None), "adjoint", None)
    if words:
        return words
    table = getattr(_draw, "ADJOINTS", {})
    return table.get(t._op, getattr(_draw, "GENERIC_ADJOINT", "backward rule"))


def _adjoint_for(t: Tensor, index: int) -> str:
    """The part of the words about input `index` when they have one part per input
    ("g * y, g * x" -> "g * x" for input 1), else all of them."""
    words = adjoint(t)
    parts = words.split(", ")
    return parts[index] if len(parts) == len(t._prev) > 1 else words


SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


def _describe(t: Tensor, names: dict) -> str:
    """A name for an unnamed result from its inputs' names: "embcat @ W1", "tanh(hpreact)"."""
    def short(x):
        name = names.get(id(x), x.name)
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
    or None), .steps (the engine's WalkSteps). Shows itself inline in Jupyter."""

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


def walk(loss: Tensor, path="backward.html", *, max_nodes: int | None = None, params=None, steps=None,
         grad_ratio: tuple | None = None, rankdir: str = "TB", clusters: bool = True, title: str | None = None) -> Walk:
    """Write a page that steps through loss's backward walk to path (None: write nothing) and return it.

    The walk is recorded with tg.grad(loss, leaves, retain_graph=True): the engine's real order and
    values, leaving every .grad as it was and the graph in place; or pass steps= recorded yourself
    with tensorgrad.tensor.record_walk() around loss.backward(). params, max_nodes, grad_ratio,
    rankdir and clusters are viz.draw's."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"viz.walk: expected the loss tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise ValueError("viz.walk: the loss does not require grad, so there is no backward walk")
    everything = _collect([loss], grad_only=True)
    steps = list(steps) if steps is not None else _record(loss, everything)
    if not steps or steps[0].tensor is not loss:
        raise ValueError("viz.walk: steps= must be the walk of this loss's backward (its first step visits the loss)")
    drawing = draw(loss, backward=True, params=params, rankdir=rankdir, stats=False, max_nodes=max_nodes,
                   clusters=clusters, grad_ratio=None)
    drawing.graph_attr.update(pad="0.3", nodesep="0.8")                 # room for the gradient badges
    svg = drawing.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]                                        # drop the XML prolog and doctype
    kept = _nearest([loss], max_nodes, True) if max_nodes is not None else {id(t) for t in everything}
    drawn = [t for t in everything if id(t) in kept]
    ids = {id(t): f"t{i}" for i, t in enumerate(drawn)}                  # viz.draw's node ids
    missing = set(ids.values()) - set(re.findall(r"<title>(t\d+)</title>", svg))
    if missing:
        raise RuntimeError(f"viz.walk: the drawing has no node for {sorted(missing)[:5]} (viz.draw's ids changed?)")
    data = _page_data(loss, everything, ids, steps, _names(params), grad_ratio, max_nodes)
    data["rankdir"] = rankdir
    data["title"] = title or f"backward walk of {data['tensors'][0]['name']}"
    page = Walk(_page(svg, data), steps, None)
    if path is not None:
        page.save(path)
    return page


def _record(loss: Tensor, everything: list) -> list:
    """The engine's walk from loss, recorded without touching any .grad or freeing the graph."""
    leaves = [t for t in everything if t.is_leaf]
    try:
        with record_walk() as steps:
            tg.grad(loss, leaves, retain_graph=True, allow_unused=True)
    except RuntimeError as e:
        raise RuntimeError(f"viz.walk: {e}\n{FREED}") from e
    return steps


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


def _page_data(loss, everything, ids, steps, names, grad_ratio, max_nodes) -> dict:
    """The tensors (data, gradient, node, when each gradient starts and is complete) and the steps."""
    index, tensors = {}, []                      # id(tensor) -> its position in `tensors`

    def entry(t):
        if id(t) not in index:
            index[id(t)] = len(tensors)
            name = names.get(id(t), t.name)
            kind = "root" if t is loss else "inter" if not t.is_leaf else "param"
            tensors.append(dict(name=name or _describe(t, names), named=bool(name), kind=kind,
                                op=t._op, adjoint=adjoint(t) if t._op else "", scope=t._scope, node=ids.get(id(t)),
                                data=_stats(t), grad=None, visit=None, first=None, done=None, uses=0))
        return index[id(t)]

    entry(loss)
    for t in everything:
        entry(t)
    tensors[0].update(first=0, done=0)           # the seed: dloss/dloss = 1 before the first step
    page_steps = [dict(t=0, seed=True, sends=[])]
    with np.errstate(all="ignore"):              # NaN/Inf are shown, not warned about
        for k, step in enumerate(steps, start=1):
            page_steps.append(_page_step(k, step, tensors, entry, ids, grad_ratio))
    return dict(tensors=tensors, steps=page_steps, scopes=sorted({t["scope"] for t in tensors if t["scope"]}),
                cut=sum(1 for t in tensors if t["node"] is None), max_nodes=max_nodes, root_node=tensors[0]["node"],
                seed=f"seed{tensors[0]['node'][1:]}" if tensors[0]["node"] else None)


def _page_step(k: int, step, tensors: list, entry, ids: dict, grad_ratio) -> dict:
    """Step k: the visited tensor's complete gradient and health, and what its rule sends where."""
    t = step.tensor
    i = entry(t)
    data = np.asarray(t, dtype=np.float64)
    tensors[i].update(visit=k, grad=_stats(step.grad), health=list(_health_of(np.asarray(t), step.grad, grad_ratio)))
    if t.is_leaf:
        grad = np.asarray(step.grad, dtype=np.float64)
        tensors[i]["ratio"] = dict(std=_num(grad.std() / data.std()) if data.std() else None,   # the lecture's
                                   norm=_num(np.linalg.norm(grad) / np.linalg.norm(data)) if data.any() else None)
    node, sends = ids.get(id(t)), []
    for send in step.sends:
        j = entry(send.input)
        target = tensors[j]
        target["uses"] += 1
        target["first"] = k if target["first"] is None else target["first"]
        target["done"] = k                       # so far the last gradient it receives
        g = np.asarray(send.grad, dtype=np.float64)
        sends.append(dict(
            to=j, use=target["uses"], index=send.index, raw=list(send.raw_shape), shape=list(send.grad.shape), summed=bool(send.summed),
            acc=bool(send.accumulated), adjoint=_adjoint_for(t, send.index), scatter=step.op in SCATTERS,
            occurrence=sum(1 for x in t._prev[:send.index] if x is send.input),   # x * x: its 2nd edge
            stats=dict(mean=_num(g.mean()), norm=_num(np.linalg.norm(g))) if g.size else {},
            via=f"{node}_sum{send.index}" if node else None))   # viz.draw's un-broadcast hexagon, if drawn
    return dict(t=i, sends=sends)


def _page(svg: str, data: dict) -> str:
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")   # safe inside <script>
    parts = dict(TITLE=html.escape(data["title"]), STYLE=STYLE, SVG=svg, DATA=payload, SCRIPT=SCRIPT)
    return re.sub(r"/\*(TITLE|STYLE|SVG|DATA|SCRIPT)\*/", lambda m: parts[m[1]], TEMPLATE)   # one pass


# ----------------------------------------------------------------------------
# the page: markup, style, script (all inline)

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>/*TITLE*/</title>
<link rel="icon" href="data:,">
<style>/*STYLE*/</style>
</head>
<body>
<header>
  <h1>/*TITLE*/</h1>
  <div id="controls">
    <button id="first" title="first step (Home)">|&#x25C0;</button>
    <button id="prev" title="previous step (left arrow)">&#x25C0;</button>
    <button id="play" title="play / pause (space)">play</button>
    <button id="next" title="next step (right arrow)">&#x25B6;</button>
    <button id="last" title="last step (End)">&#x25B6;|</button>
    <input id="slider" type="range" min="0" value="0" aria-label="step">
    <span id="stepno"></span>
    <span class="sep"></span>
    <button id="zoom-out" title="zoom out">&minus;</button>
    <button id="zoom-fit" title="fit the width">fit</button>
    <button id="zoom-in" title="zoom in">+</button>
  </div>
</header>
<main>
  <div id="graph">/*SVG*/</div>
  <aside>
    <section id="step"></section>
    <section id="panel"></section>
    <section id="modules"></section>
    <section id="legend">
      <span class="key current">visited now</span> <span class="key receiving">receives a gradient</span> <span class="key summing">un-broadcast sum</span>
      <span class="key partial">gradient partial</span> <span class="key complete">gradient complete</span>
      <span class="key pending">no gradient yet</span> <span class="key path">path from the loss</span>
      <p class="hint">Keys: &larr; &rarr; step, Home / End, space plays. Hover or click a node for its tensor
      (click the background to go back to the visited one). Click a module's name to fold it.</p>
    </section>
  </aside>
</main>
<script>
const DATA = /*DATA*/;
/*SCRIPT*/
</script>
</body>
</html>
"""

STYLE = """
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
body { display: flex; flex-direction: column; }
header { display: flex; align-items: center; gap: 16px; padding: 6px 12px; border-bottom: 1px solid #ddd; background: #fafafa; flex-wrap: wrap; }
h1 { font-size: 15px; margin: 0; font-weight: 600; }
#controls { display: flex; align-items: center; gap: 4px; }
#controls button { min-width: 30px; height: 26px; border: 1px solid #bbb; background: white; border-radius: 4px; cursor: pointer; }
#controls button:hover { background: #eef; }
#slider { width: 260px; }
#stepno { font-variant-numeric: tabular-nums; min-width: 90px; }
.sep { width: 12px; }
main { flex: 1; display: flex; min-height: 0; }
#graph { flex: 1; overflow: auto; background: white; }
#graph svg { display: block; }
aside { width: 380px; overflow-y: auto; border-left: 1px solid #ddd; padding: 8px 12px; background: #fcfcfc; }
section { margin-bottom: 12px; }
h2 { font-size: 14px; margin: 4px 0 6px; }
h3 { font-size: 12px; margin: 8px 0 2px; color: #555; text-transform: uppercase; letter-spacing: .04em; }
table.stats { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.stats td { padding: 0 8px 0 0; }
table.stats td.k { color: #666; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.hint { color: #777; font-size: 12px; }
ul.sends { padding-left: 16px; margin: 4px 0; }
ul.sends li { margin-bottom: 4px; }
.callout { display: inline-block; padding: 0 6px; margin: 1px 2px; border-radius: 9px; font-size: 11px; }
.callout.acc { background: #ffe0b3; }
.callout.sum { background: #ffe9a8; }
.callout.scatter { background: #d9f2d9; }
.callout.done { background: #d6ecff; }
.callout.bad { background: #ff9a9a; }
.warn { color: #b00; font-weight: 600; }
.hist { display: block; margin: 2px 0; }
#modules button { margin: 2px; border: 1px solid #bbb; background: white; border-radius: 4px; cursor: pointer; font-size: 12px; }
#modules button.folded { background: #e6e6e6; }
.key { display: inline-block; padding: 0 5px; margin: 1px; border-radius: 3px; border: 2px solid; font-size: 11px; }
.key.current { border-color: #c2185b; } .key.receiving { border-color: #7b1fa2; border-style: dotted; }
.key.partial { border-color: #e69500; border-style: dashed; } .key.complete { border-color: #1a9e3a; }
.key.summing { border-color: #c28a00; background: #ffe9a8; } .key.pending { border-color: #ccc; color: #999; } .key.path { border-color: #1565c0; background: #e3efff; }
/* the graph's states */
g.node, g.edge { transition: opacity .15s; }
g.node { cursor: pointer; }
g.node.w-pending { opacity: .35; }
g.edge.w-future { opacity: .25; }
g.node.w-partial > polygon, g.node.w-partial > path { stroke: #e69500; stroke-width: 2.5; stroke-dasharray: 5 3; }
g.node.w-complete > polygon, g.node.w-complete > path, g.node.w-complete > ellipse { stroke: #1a9e3a; stroke-width: 2.5; }
g.node.w-visited { opacity: .8; }
g.node.w-receiving > polygon, g.node.w-receiving > path { stroke: #7b1fa2; stroke-width: 3; stroke-dasharray: 2 2; }
g.node.w-current > polygon, g.node.w-current > path, g.node.w-current > ellipse { stroke: #c2185b; stroke-width: 5; }
g.node.w-summing > polygon { stroke: #c28a00; stroke-width: 4; }
g.node.w-current { filter: drop-shadow(0 0 6px rgba(194, 24, 91, .6)); opacity: 1; }
g.edge.w-active > path { stroke: #c2185b; stroke-width: 3; }
g.edge.w-active > polygon { stroke: #c2185b; fill: #c2185b; }
g.edge.w-active > text { fill: #c2185b; font-weight: bold; font-size: 11px; }
g.edge.w-active > text.bg { stroke: white; stroke-width: 4; fill: white; }
g.node.w-path > polygon, g.node.w-path > path { fill: #e3efff; }
g.edge.w-path > path { stroke: #1565c0; stroke-width: 2.5; }
g.edge.w-path > polygon { stroke: #1565c0; fill: #1565c0; }
g.node.w-selected > polygon, g.node.w-selected > path { stroke: #1565c0; stroke-width: 4; }
g.node.h-nonfinite > polygon, g.node.h-nonfinite > path { fill: #ff9a9a; stroke: red; stroke-width: 3; }
g.node.h-vanishing > polygon, g.node.h-vanishing > path { stroke: blue; stroke-width: 3; }
g.node.h-exploding > polygon, g.node.h-exploding > path { stroke: darkorange; stroke-width: 3; }
g.cluster > text { cursor: pointer; text-decoration: underline dotted; }
.w-hidden { display: none; }
text.gbadge { font-size: 9px; fill: #1a7a30; font-weight: 600; paint-order: stroke; stroke: white; stroke-width: 3px; }
g.fold rect { fill: #f1f1f1; stroke: #888; stroke-width: 1.5; rx: 8; cursor: pointer; }
g.fold text { font-size: 14px; fill: #444; cursor: pointer; }
g.fold text.small { font-size: 11px; fill: #666; }
g.fold.w-current rect { stroke: #c2185b; stroke-width: 5; }
g.fold.w-receiving rect { stroke: #7b1fa2; stroke-width: 3; stroke-dasharray: 2 2; }
"""

SCRIPT = r"""
"use strict";
const T = DATA.tensors, S = DATA.steps, N = S.length - 1;
const svg = document.querySelector("#graph svg");
const graph0 = svg.querySelector("g.graph");
const nodes = {}, edges = {}, edgeList = [], clusterEls = {};
for (const g of svg.querySelectorAll("g.node")) nodes[g.querySelector("title").textContent] = g;
for (const g of svg.querySelectorAll("g.edge")) {
  const key = g.querySelector("title").textContent, [a, b] = key.split("->");
  (edges[key] = edges[key] || []).push(g);
  edgeList.push({g, a, b});
  const text = g.querySelector("text");
  if (text) g.dataset.label = text.textContent;
}
for (const g of svg.querySelectorAll("g.cluster")) clusterEls[g.querySelector("title").textContent.replace(/^cluster_/, "")] = g;

// which tensor each node shows, which scope it is drawn in, and when each edge carries a gradient
const tensorOf = {}, scopeOf = {}, edgeStep = new Map(), edgeText = new Map(), nodeStep = {};
T.forEach((t, i) => { if (t.node) { tensorOf[t.node] = i; scopeOf[t.node] = t.scope; } });
if (DATA.seed) { tensorOf[DATA.seed] = 0; edgeStep.set((edges[DATA.seed + "->" + DATA.root_node] || [])[0], 0); }
function sendEdges(step, s) {
  const from = T[step.t].node, to = T[s.to].node;
  if (!from) return {edges: [], hex: null};
  const target = to || "cut";
  if (s.via && nodes[s.via]) {
    return {edges: [(edges[from + "->" + s.via] || [])[0], (edges[s.via + "->" + target] || [])[0]], hex: s.via};
  }
  const list = edges[from + "->" + target] || [];
  return {edges: [list[Math.min(s.occurrence, list.length - 1)]], hex: null};
}
S.forEach((step, k) => step.sends.forEach(s => {
  const {edges: es, hex} = sendEdges(step, s);
  es.forEach((e, n) => {
    if (!e) return;
    edgeStep.set(e, k);
    const shape = n === 0 && hex ? s.raw : s.shape;
    const adds = s.acc ? `  (use ${s.use} of ${T[s.to].uses}: adds up)` : "";
    edgeText.set(e, fmtShape(shape) + (n === 0 ? "  " + s.adjoint : "  summed") + (n === es.length - 1 ? adds : ""));
  });
  if (hex) { nodeStep[hex] = k; scopeOf[hex] = T[step.t].scope; }
}));

// a badge over each tensor's node with its gradient, shown once the gradient is complete
const badges = {}, badgeLayer = document.createElementNS("http://www.w3.org/2000/svg", "g");
for (const [id, i] of Object.entries(tensorOf)) {
  const g = nodes[id], t = T[i];
  if (!g || !t.grad || id === DATA.seed) continue;
  const box = g.getBBox(), text = document.createElementNS("http://www.w3.org/2000/svg", "text");
  const beside = DATA.rankdir === "TB" || DATA.rankdir === "BT";   // clear of the edges: beside or above
  text.setAttribute("x", beside ? box.x + box.width + 3 : box.x + 2);
  text.setAttribute("y", beside ? box.y + 9 : box.y - 3);
  text.setAttribute("class", "gbadge");
  text.textContent = t.grad.size === 1 ? `grad ${fmt(t.grad.values[0])}` : `|grad| ${fmt(t.grad.norm)}`;
  badgeLayer.appendChild(text);
  badges[id] = text;
}

// ---------------------------------------------------------------------------- formatting
function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v.toPrecision(4);
}
function fmtShape(s) { return "(" + s.join(", ") + (s.length === 1 ? ",)" : ")"); }
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
function statsTable(s, id) {
  if (s.size === 1) return `<table class="stats" id="${id}"><tr data-stat="value"><td class="k">value</td><td class="v">${fmt(s.values[0])}</td></tr></table>`;
  const rows = ["mean", "std", "min", "max", "norm"].map(k =>
    `<tr data-stat="${k}"><td class="k">${k}</td><td class="v">${fmt(s[k])}</td></tr>`).join("");
  let extra = "";
  if (s.values) extra += `<tr data-stat="values"><td class="k">values</td><td class="v mono">[${s.values.map(fmt).join(", ")}]</td></tr>`;
  if (s.nan || s.inf) extra += `<tr><td class="k warn">non-finite</td><td class="v warn">${s.nan} NaN, ${s.inf} Inf</td></tr>`;
  return `<table class="stats" id="${id}">${rows}${extra}</table>`;
}
function histogram(s, color) {
  if (!s.hist || s.size <= 6) return "";
  const c = s.hist.counts, W = 200, H = 36, w = W / c.length, top = Math.max(...c, 1);
  const bars = c.map((n, i) => `<rect x="${(i * w).toFixed(1)}" y="${(H - H * n / top).toFixed(1)}" width="${(w - 1).toFixed(1)}" height="${(H * n / top).toFixed(1)}" fill="${color}"/>`).join("");
  return `<svg class="hist" width="${W}" height="${H + 12}" viewBox="0 0 ${W} ${H + 12}">${bars}` +
    `<text x="0" y="${H + 11}" font-size="9" fill="#666">${fmt(s.hist.lo)}</text>` +
    `<text x="${W}" y="${H + 11}" font-size="9" fill="#666" text-anchor="end">${fmt(s.hist.hi)}</text></svg>`;
}

// ---------------------------------------------------------------------------- the step control
let step = 0, timer = null, selected = null, hovered = null;
const slider = document.getElementById("slider");
slider.max = N;
function go(k) {
  step = Math.max(0, Math.min(N, k));
  slider.value = step;
  document.getElementById("stepno").textContent = `step ${step} / ${N}`;
  paint();
  showStep();
  const cur = T[S[step].t];
  const el = step === 0 && DATA.seed ? nodes[DATA.seed] : cur.node ? visibleNode(cur.node) : nodes["cut"];
  if (el && el.scrollIntoView) el.scrollIntoView({block: "center", inline: "center"});
  renderPanel();
}
function stateOf(t) {
  if (t.visit === step) return "w-current";
  if (t.first === null || t.first > step) return "w-pending";
  if (t.done > step) return "w-partial";
  return t.visit !== null && t.visit < step ? "w-complete w-visited" : "w-complete";
}
const STATES = ["w-current", "w-summing", "w-pending", "w-partial", "w-complete", "w-visited", "w-receiving",
                "h-nonfinite", "h-vanishing", "h-exploding"];
function paint() {
  const receiving = new Set(S[step].sends.map(s => T[s.to].node || "cut"));
  for (const [id, g] of Object.entries(nodes)) {
    g.classList.remove(...STATES);
    let cls = [];
    if (id in tensorOf) {
      const t = T[tensorOf[id]];
      cls = (id === DATA.seed ? (step === 0 ? "w-current" : "w-complete w-visited") : stateOf(t)).split(" ");
      if (t.health && t.health[0] && t.done !== null && t.done <= step && id !== DATA.seed) cls.push("h-" + t.health[0]);
    } else if (id in nodeStep) {
      cls = [nodeStep[id] === step ? "w-summing" : nodeStep[id] < step ? "w-complete" : "w-pending"];
    } else if (id === "cut") {
      cls = [T[S[step].t].node ? "w-complete" : "w-current"];
    }
    if (receiving.has(id)) cls.push("w-receiving");
    if (badges[id]) badges[id].classList.toggle("w-hidden", foldOf(id) !== null || (!cls.includes("w-complete") && !cls.includes("w-current")));
    g.classList.add(...cls);
  }
  for (const {g} of edgeList) {
    const k = edgeStep.get(g);
    g.classList.remove("w-active", "w-future");
    const text = g.querySelector("text:not(.bg)"), bg = g.querySelector("text.bg");
    if (bg) bg.remove();
    if (text) text.textContent = g.dataset.label;
    if (k === undefined) continue;
    if (k > step) g.classList.add("w-future");
    if (k === step) {
      g.classList.add("w-active");
      if (text && edgeText.has(g)) {
        text.textContent = edgeText.get(g);
        const halo = text.cloneNode(true);           // a white halo so the longer label stays legible
        halo.classList.add("bg");
        g.insertBefore(halo, text);
      }
    }
  }
  paintFolds();
}
function showStep() {
  const st = S[step], t = T[st.t];
  const box = document.getElementById("step");
  if (st.seed) {
    box.innerHTML = `<h2 id="step-title">Step 0: the seed</h2><p>The walk starts at <b id="step-node">${esc(t.name)}</b> ` +
      `with d${esc(t.name)}/d${esc(t.name)} = 1 (shape <span id="step-shape">${fmtShape(t.data.shape)}</span>).</p>` +
      statsTable({mean: 1, std: 0, min: 1, max: 1, norm: Math.sqrt(t.data.size), size: t.data.size, values: [1]}, "step-grad");
    return;
  }
  const g = t.grad;
  let h = `<h2 id="step-title">Step ${step} of ${N}: visit <span id="step-node">${esc(t.name)}</span></h2>`;
  if (!t.node) h += `<p class="hint">(not drawn: max_nodes=${DATA.max_nodes})</p>`;
  h += `<p>${t.op ? `<code>${esc(t.op)}</code> backward: <code id="step-adjoint">${esc(t.adjoint)}</code>` : `a leaf: its gradient is accumulated into <code>${esc(t.name)}.grad</code>`}</p>`;
  h += `<h3>its gradient (complete) <span id="step-shape" class="mono">${fmtShape(g.shape)}</span> ${esc(g.dtype)}</h3>` + statsTable(g, "step-grad");
  if (t.uses > 1) h += `<span class="callout acc">${t.uses} uses: ${t.uses} gradients added up into it</span>`;
  if (t.health && t.health[1]) h += `<p class="warn">${esc(t.health[1])}</p>`;
  if (st.sends.length) {
    h += `<h3>sends</h3><ul class="sends" id="step-sends">`;
    for (const s of st.sends) {
      const x = T[s.to];
      let c = "";
      if (s.summed) c += `<span class="callout sum">un-broadcast: the engine sums ${fmtShape(s.raw)} &rarr; ${fmtShape(s.shape)}</span>`;
      if (s.scatter) c += `<span class="callout scatter">scatter-add: each row of g adds into the row it was gathered from (repeated indices add up)</span>`;
      if (s.acc) c += `<span class="callout acc">accumulates: use ${s.use} of ${x.uses} of ${esc(x.name)}; this gradient adds to the one already there</span>`;
      if (x.done === step) c += `<span class="callout done">${esc(x.name)}'s gradient is now complete</span>`;
      h += `<li data-to="${s.to}">to input ${s.index} <b>${esc(x.name)}</b>: <span class="mono">${fmtShape(s.shape)}</span>, ` +
           `<code>${esc(s.adjoint)}</code> <span class="hint">mean ${fmt(s.stats.mean)}, norm ${fmt(s.stats.norm)}</span><br>${c}</li>`;
    }
    h += "</ul>";
  } else if (t.op) {
    h += `<p class="hint">no input needs a gradient</p>`;
  }
  box.innerHTML = h;
}

// ---------------------------------------------------------------------------- the tensor panel
function renderPanel() {
  const i = hovered !== null ? hovered : selected !== null ? selected : S[step].t;   // else the visited one
  const box = document.getElementById("panel");
  const t = T[i];
  let h = `<h2 id="panel-name">${esc(t.name)}</h2><p>`;
  h += {root: "the loss", param: "leaf (requires grad)", inter: `made by <code>${esc(t.op)}</code>`}[t.kind];
  if (t.scope) h += ` in <code>${esc(t.scope)}</code>`;
  h += `<br>shape <span id="panel-shape" class="mono">${fmtShape(t.data.shape)}</span>, dtype <span id="panel-dtype">${esc(t.data.dtype)}</span></p>`;
  h += `<h3>data</h3>` + statsTable(t.data, "panel-data") + histogram(t.data, "#7aa6d8");
  if (t.grad) {
    const when = t.done === null ? "" : t.done <= step ? "complete" : `complete at step ${t.done}`;
    h += `<h3>grad <span class="hint">(${when}; visited at step ${t.visit})</span></h3>` + statsTable(t.grad, "panel-grad") + histogram(t.grad, "#e6a04a");
  } else {
    h += `<h3>grad</h3><p class="hint">no gradient reaches it</p>`;
  }
  if (t.ratio) h += `<p>grad:data ratio <span id="panel-ratio">${fmt(t.ratio.std)}</span> <span class="hint">(std(grad) / std(data))</span>, ` +
                    `|grad| / |data| <span id="panel-norm-ratio">${fmt(t.ratio.norm)}</span></p>`;
  if (t.health && t.health[1]) h += `<p class="warn" id="panel-health">${esc(t.health[1])}</p>`;
  box.innerHTML = h;
}

// ---------------------------------------------------------------------------- the path from the loss
function select(i) {
  selected = i;
  for (const g of svg.querySelectorAll(".w-path, .w-selected")) g.classList.remove("w-path", "w-selected");
  if (i !== null && T[i].node && nodes[T[i].node]) {
    const onPath = new Set([T[i].node]), into = {};
    for (const e of edgeList) (into[e.b] = into[e.b] || []).push(e.a);
    const todo = [T[i].node];
    while (todo.length) for (const a of into[todo.pop()] || []) if (!onPath.has(a)) { onPath.add(a); todo.push(a); }
    for (const id of onPath) nodes[id] && nodes[id].classList.add("w-path");
    for (const e of edgeList) if (onPath.has(e.a) && onPath.has(e.b)) e.g.classList.add("w-path");
    nodes[T[i].node].classList.add("w-selected");
  }
  renderPanel();
}
for (const [id, g] of Object.entries(nodes)) {
  if (!(id in tensorOf)) continue;
  g.addEventListener("mouseenter", () => { hovered = tensorOf[id]; renderPanel(); });
  g.addEventListener("mouseleave", () => { hovered = null; renderPanel(); });
  g.addEventListener("click", ev => { ev.stopPropagation(); select(tensorOf[id]); });
}

// ---------------------------------------------------------------------------- folding module clusters
const folded = new Set();
function inScope(scope, s) { return s === scope || s.startsWith(scope + "."); }
function foldOf(id) {  // the outermost folded cluster a node is drawn in
  const s = scopeOf[id] || "";
  let best = null;
  for (const f of folded) if (inScope(f, s) && (best === null || f.length < best.length)) best = f;
  return best;
}
function visibleNode(id) { const f = foldOf(id); return f ? svg.querySelector(`g.fold[data-scope="${f}"]`) : nodes[id]; }
function paintFolds() {
  for (const g of svg.querySelectorAll("g.fold")) g.remove();
  for (const [id, g] of Object.entries(nodes)) g.classList.toggle("w-hidden", foldOf(id) !== null);
  for (const e of edgeList) e.g.classList.toggle("w-hidden", foldOf(e.a) !== null && foldOf(e.a) === foldOf(e.b));
  for (const [scope, c] of Object.entries(clusterEls)) {   // clusters inside a folded one
    c.classList.toggle("w-hidden", [...folded].some(f => f !== scope && inScope(f, scope)));
  }
  const cur = step === 0 ? DATA.seed : T[S[step].t].node;
  const receiving = S[step].sends.map(s => T[s.to].node).filter(Boolean);
  for (const scope of folded) {
    if ([...folded].some(f => f !== scope && inScope(f, scope))) continue;   // inside another fold
    const c = clusterEls[scope];
    if (!c) continue;
    const box = c.getBBox(), members = T.filter(t => t.node && inScope(scope, t.scope));
    const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
    g.setAttribute("class", "fold");
    g.dataset.scope = scope;
    const done = members.filter(t => t.done !== null && t.done <= step).length;
    const x = box.x + box.width / 2, y = box.y + box.height / 2;
    g.innerHTML = `<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}"></rect>` +
      `<text x="${x}" y="${y - 4}" text-anchor="middle" font-weight="bold">${esc(scope)}</text>` +
      `<text x="${x}" y="${y + 12}" text-anchor="middle" class="small">${members.length} tensors, ${done} complete</text>`;
    if (cur && foldOf(cur) === scope) g.classList.add("w-current");
    if (receiving.some(id => foldOf(id) === scope)) g.classList.add("w-receiving");
    g.addEventListener("click", ev => { ev.stopPropagation(); toggleFold(scope); });
    graph0.appendChild(g);
  }
  graph0.appendChild(badgeLayer);                  // the badges over everything
  for (const b of document.querySelectorAll("#modules button[data-scope]")) b.classList.toggle("folded", folded.has(b.dataset.scope));
}
function toggleFold(scope) { folded.has(scope) ? folded.delete(scope) : folded.add(scope); paint(); }
(function modules() {
  const box = document.getElementById("modules");
  const scopes = DATA.scopes.filter(s => clusterEls[s]);
  if (!scopes.length) return;
  box.innerHTML = `<h3>modules</h3>` + scopes.map(s => `<button data-scope="${esc(s)}">${esc(s)}</button>`).join("") +
    ` <button id="fold-all">fold all</button><button id="unfold-all">unfold all</button>`;
  for (const b of box.querySelectorAll("button[data-scope]")) b.addEventListener("click", () => toggleFold(b.dataset.scope));
  document.getElementById("fold-all").addEventListener("click", () => { scopes.filter(s => !s.includes(".")).forEach(s => folded.add(s)); paint(); });
  document.getElementById("unfold-all").addEventListener("click", () => { folded.clear(); paint(); });
  for (const [scope, c] of Object.entries(clusterEls)) {
    const label = c.querySelector("text");
    if (label) label.addEventListener("click", ev => { ev.stopPropagation(); toggleFold(scope); });
  }
})();

// ---------------------------------------------------------------------------- zoom
const natural = {w: svg.width.baseVal.value, h: svg.height.baseVal.value};
let zoom = 1;
function setZoom(z) {
  zoom = Math.max(0.1, Math.min(4, z));
  svg.setAttribute("width", natural.w * zoom);
  svg.setAttribute("height", natural.h * zoom);
}
function fitWidth() { setZoom(Math.min(1, (document.getElementById("graph").clientWidth - 8) / natural.w)); }
document.getElementById("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
document.getElementById("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
document.getElementById("zoom-fit").addEventListener("click", fitWidth);

// ---------------------------------------------------------------------------- wiring
function play() {
  if (timer) { clearInterval(timer); timer = null; }
  else {
    if (step === N) go(0);
    timer = setInterval(() => { if (step >= N) play(); else go(step + 1); }, 700);
  }
  document.getElementById("play").textContent = timer ? "pause" : "play";
}
for (const b of document.querySelectorAll("button")) b.addEventListener("mousedown", ev => ev.preventDefault());  // keys stay ours
document.getElementById("first").addEventListener("click", () => go(0));
document.getElementById("prev").addEventListener("click", () => go(step - 1));
document.getElementById("next").addEventListener("click", () => go(step + 1));
document.getElementById("last").addEventListener("click", () => go(N));
document.getElementById("play").addEventListener("click", play);
slider.addEventListener("input", () => go(Number(slider.value)));
document.addEventListener("keydown", ev => {
  const keys = {ArrowRight: () => go(step + 1), ArrowLeft: () => go(step - 1), Home: () => go(0), End: () => go(N), " ": play};
  if (keys[ev.key] && !ev.altKey && !ev.ctrlKey && !ev.metaKey) { ev.preventDefault(); keys[ev.key](); }
});
svg.addEventListener("click", () => select(null));
fitWidth();
go(0);
"""
