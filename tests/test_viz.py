"""viz: golden tests on the DOT source of small graphs, rendering with the real `dot`, and errors."""
import re
import shutil
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

import tensorgrad as tg
import viz
from viz.__main__ import main, makemore_graph

SVG = "{http://www.w3.org/2000/svg}"
LECTURE = ["emb", "embcat", "hprebn", "bnmeani", "bndiff", "bndiff2", "bnvar", "bnvar_inv", "bnraw", "hpreact",
           "h", "logits", "logit_maxes", "norm_logits", "counts", "counts_sum", "counts_sum_inv", "probs",
           "logprobs", "loss"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


# ----------------------------------------------------------------------------
# reading DOT source and SVG back

ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse(source: str) -> tuple:
    """({node: attrs}, {(tail, head): attrs}) of a DOT source, labels with their \\n kept."""
    nodes, edges = {}, {}
    for line in source.splitlines():
        line = line.strip()
        m = re.fullmatch(r'("[^"]+"|\w+) -> ("[^"]+"|\w+)(?: \[(.*)\])?', line)
        if m:
            edges[(m[1].strip('"'), m[2].strip('"'))] = {k: v.strip('"') for k, v in ATTR.findall(m[3] or "")}
            continue
        m = re.fullmatch(r'("[^"]+"|\w+) \[(.*)\]', line)
        if m and m[1] not in ("graph", "node", "edge"):
            nodes[m[1].strip('"')] = {k: v.strip('"') for k, v in ATTR.findall(m[2])}
    return nodes, edges


def labels(source: str) -> dict:
    return {k: a.get("label") for k, a in parse(source)[0].items()}


def svg_nodes(svg: str) -> list:
    """The text lines of every node of an SVG made by dot."""
    root = ET.fromstring(svg)
    return [[t.text for t in g.iter(SVG + "text")] for g in root.iter(SVG + "g") if g.get("class") == "node"]


# ----------------------------------------------------------------------------
# golden DOT of small graphs

def micrograd_expression():
    a = tg.tensor(2.0, requires_grad=True, name="a")
    b = tg.tensor(-3.0, requires_grad=True, name="b")
    c = tg.tensor(10.0, requires_grad=True, name="c")
    f = tg.tensor(-2.0, requires_grad=True, name="f")
    e = a * b
    e.name = "e"
    d = e + c
    d.name = "d"
    L = d * f
    L.name = "L"
    return L


def test_scalar_expression_forward_like_micrograd():
    L = micrograd_expression()
    L.backward()
    nodes, edges = parse(viz.draw_dot(L).source)
    # node ids follow the engine's topological order (the order its backward walk reverses)
    assert {k: a["label"] for k, a in nodes.items()} == {
        "t0": r"f\n() float32\ndata -2.0000\ngrad 4.0000",
        "t1": r"c\n() float32\ndata 10.0000\ngrad -2.0000",
        "t2": r"a\n() float32\ndata 2.0000\ngrad 6.0000",
        "t3": r"b\n() float32\ndata -3.0000\ngrad -4.0000",
        "t4": r"e\n() float32\ndata -6.0000",
        "op4": "mul",
        "t5": r"d\n() float32\ndata 4.0000",
        "op5": "add",
        "t6": r"L\n() float32\ndata -8.0000",
        "op6": "mul",
    }
    assert set(edges) == {("t3", "op4"), ("t2", "op4"), ("op4", "t4"), ("t4", "op5"), ("t1", "op5"),
                          ("op5", "t5"), ("t5", "op6"), ("t0", "op6"), ("op6", "t6")}
    # parameters, intermediates, the root and ops look different
    assert nodes["t0"]["fillcolor"] == nodes["t2"]["fillcolor"] != nodes["t6"]["fillcolor"]
    assert "fillcolor" not in nodes["t4"] and nodes["op4"]["shape"] == "ellipse"
    assert "bold" in nodes["t6"]["style"]


def test_scalar_expression_backward():
    L = micrograd_expression()
    L.backward()
    nodes, edges = parse(viz.draw(L, backward=True).source)
    assert {k: a["label"] for k, a in nodes.items()} == {
        "t0": r"f.grad\n() float32\ngrad 4.0000",
        "t1": r"c.grad\n() float32\ngrad -2.0000",
        "t2": r"a.grad\n() float32\ngrad 6.0000",
        "t3": r"b.grad\n() float32\ngrad -4.0000",
        "t4": r"mul backward\ng * y, g * x\nreceives de",
        "t5": r"add backward\ng, g\nreceives dd",
        "seed6": r"dL = 1\n() float32",
        "t6": r"mul backward\ng * y, g * x\nreceives dL",
    }
    # edges go the way the gradient travels: from the loss to the leaves
    assert set(edges) == {("seed6", "t6"), ("t6", "t5"), ("t6", "t0"), ("t5", "t4"), ("t5", "t1"),
                          ("t4", "t3"), ("t4", "t2")}
    assert all(a["label"] == "()" for a in edges.values())


def test_broadcast_add_draws_the_unbroadcasting_sum():
    x = tg.randn(4, 3, requires_grad=True, name="x")
    b = tg.randn(3, requires_grad=True, name="b")
    y = x + b
    nodes, edges = parse(viz.draw(y, stats=False).source)
    assert nodes["t0"]["label"] == r"x\n(4, 3) float32"     # leaves in the order the walk reaches them
    assert nodes["t1"]["label"] == r"b\n(3,) float32"
    assert nodes["t2"]["label"] == r"(4, 3) float32" and nodes["op2"]["label"] == "add"
    assert set(edges) == {("t0", "op2"), ("t1", "op2"), ("op2", "t2")}

    y.backward(np.ones((4, 3)))          # add's rule keeps nothing, so its walk can still be recorded
    nodes, edges = parse(viz.draw(y, backward=True, stats=False).source)
    assert nodes["t2"]["label"] == r"add backward\ng, g"
    assert nodes["t2_sum1"]["label"] == r"sum (un-broadcast)\n(4, 3) -> (3,)"   # Send.summed, as the engine did it
    assert set(edges) == {("seed2", "t2"), ("t2", "t0"), ("t2", "t2_sum1"), ("t2_sum1", "t1")}
    assert edges[("t2", "t0")]["label"] == "(4, 3)"
    assert edges[("t2", "t2_sum1")]["label"] == "(4, 3)"
    assert edges[("t2_sum1", "t1")]["label"] == "(3,)"


def test_sum_backward_replicates():
    x = tg.randn(2, 3, requires_grad=True, name="x")
    s = x.sum(0)
    s.name = "s"
    nodes, edges = parse(viz.draw(s, stats=False).source)
    assert nodes["op1"]["label"] == r"sum\naxis=(0,) keepdims=False"  # attrs, while the graph is alive
    s.backward(np.ones(3))
    assert labels(viz.draw(s, stats=False).source)["op1"] == r"sum\naxis=(0,) keepdims=False"  # sum saves nothing
    nodes, edges = parse(viz.draw(s, backward=True, stats=False).source)
    assert nodes["t1"]["label"] == r"sum backward\nreplicate (expand) g\nreceives ds\n(3,) -> (2, 3)"
    assert edges[("seed1", "t1")]["label"] == "(3,)"
    assert edges[("t1", "t0")]["label"] == "(2, 3)"


def test_gather_backward_scatter_adds():
    C = tg.randn(5, 2, requires_grad=True, name="C")
    X = tg.tensor([0, 2, 2])
    emb = C[X]
    assert labels(viz.draw(emb).source)["op1"] == r"getitem\nkey=[0, 2, 2]"
    emb.backward(np.ones((3, 2)))
    nodes, edges = parse(viz.draw(emb, backward=True).source)
    assert nodes["t1"]["label"].startswith(r"getitem backward\nscatter-add g\n(3, 2) -> (5, 2)")
    assert edges[("t1", "t0")]["label"] == "(5, 2)"
    # C's gradient counts how often each row was used: tiny tensors show statistics
    assert nodes["t0"]["label"].startswith(r"C.grad\n(5, 2) float32\ngrad mean 0.6 std 0.8 min 0 max 2")
    # a big index shows its dtype and shape
    big = C[tg.randint(0, 5, (32, 3))]
    assert labels(viz.draw(big).source)["op1"] == r"getitem\nkey=int64[32, 3]"


def test_matmul_backward_transposes():
    x = tg.randn(2, 3, requires_grad=True, name="x")
    W = tg.randn(3, 4, requires_grad=True, name="W")
    y = x @ W
    y.backward(np.ones((2, 4)), retain_graph=True)
    nodes, edges = parse(viz.draw(y, backward=True, stats=False).source)
    assert nodes["t2"]["label"] == r"matmul backward\nmatmul with transpose: g @ y.T, x.T @ g"
    assert edges[("t2", "t0")]["label"] == "(2, 3)" and edges[("t2", "t1")]["label"] == "(3, 4)"
    # batched against a broadcast batch of weights: the weight's gradient is summed over the batch dim (what the
    # engine recorded, drawn before backward). (A plain matrix W takes one product over the batch instead.)
    xb, Wb = tg.randn(5, 2, 3, requires_grad=True), tg.randn(1, 3, 4, requires_grad=True)
    yb = xb @ Wb
    nodes, edges = parse(viz.draw(yb, backward=True, stats=False).source)
    assert nodes["t2_sum1"]["label"] == r"sum (un-broadcast)\n(5, 3, 4) -> (1, 3, 4)"
    assert ("t2", "t0") in edges and ("t2_sum1", "t1") in edges
    # after a backward that freed the graph the sums are not known: the drawing says so
    yb.backward(np.ones((5, 2, 4)))
    nodes, edges = parse(viz.draw(yb, backward=True, stats=False).source)
    assert "t2_sum1" not in nodes and ("t2", "t1") in edges
    assert "retain_graph=True" in nodes["freed"]["label"]


def test_expand_backward_is_the_engines_sum():
    x = tg.randn(1, 3, requires_grad=True, name="x")
    y = x.expand(4, 3)
    nodes, edges = parse(viz.draw(y, backward=True, stats=False).source)
    assert nodes["t1"]["label"] == r"expand backward\nsum (un-broadcast) g\n(4, 3) -> (1, 3)"
    # expand's rule hands g on as it is: the engine's _fit does the sum, and the drawing shows what it recorded
    assert nodes["t1_sum0"]["label"] == r"sum (un-broadcast)\n(4, 3) -> (1, 3)"
    assert set(edges) == {("seed1", "t1"), ("t1", "t1_sum0"), ("t1_sum0", "t0")}


def test_every_differentiable_op_has_an_adjoint_and_user_ops_draw_generically():
    builtin = [name for name, op in tg.OPS.items()
               if op.backward is not None and op.backward.__module__.startswith("tensorgrad")]
    assert "matmul" in builtin and "cross_entropy" in builtin
    assert [name for name in builtin if name not in viz.ADJOINTS] == []

    @tg.op("viz_test_softplus", backward=lambda g, out, x: g * tg.sigmoid(x))
    def softplus(x):
        return np.logaddexp(0, x)

    try:
        x = tg.randn(3, requires_grad=True, name="x")
        y = softplus(x).sum()
        y.backward()
        assert labels(viz.draw(y).source)["op1"] == "viz_test_softplus"
        assert labels(viz.draw(y, backward=True).source)["t1"].startswith(r"viz_test_softplus backward\nbackward rule")
    finally:
        del tg.OPS["viz_test_softplus"]  # leave the op table as the other tests expect it


def test_kinds_of_nodes_and_names_from_params():
    class Model:  # anything with named_parameters(), as nn.Module
        def __init__(self):
            self.w = tg.randn(3, requires_grad=True)

        def named_parameters(self):
            return [("layer.weight", self.w)]

    model = Model()
    k = tg.tensor([1.0, 2.0, 3.0])  # a constant
    out = (model.w * k).sum()
    nodes, _ = parse(viz.draw(out, params=model).source)
    assert nodes["t0"]["label"].startswith(r"layer.weight\n(3,) float32")
    assert nodes["t1"]["label"] == r"(3,) float32\ndata [1, 2, 3]" and "dashed" in nodes["t1"]["style"]
    # a dict names any tensor, over its own .name
    model.w.name = "w"
    assert labels(viz.draw(out, params={"weight": model.w, "out": out}).source)["t3"].startswith(r"out\n() float32")
    assert labels(viz.draw(out).source)["t0"].startswith(r"w\n(3,)")
    # several roots
    nodes, _ = parse(viz.draw([out, model.w * 2]).source)
    assert sum("bold" in a.get("style", "") for a in nodes.values()) == 2


def test_an_input_used_twice_draws_two_edges_and_adds_up():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * x  # micrograd's set of children would lose one of them
    y.name = "y"
    z = (y + y).sum()
    z.backward()
    forward = viz.draw(z).source
    assert forward.count("t0 -> op1") == 2 and forward.count("t1 -> op2") == 2
    backward = viz.draw(z, backward=True).source
    assert backward.count("t1 -> t0") == 2
    assert labels(backward)["t1"] == r"mul backward\ng * y, g * x\nreceives dy\n2 uses: their gradients add up"
    assert labels(backward)["t0"] == r"x.grad\n(2,) float32\ngrad [4, 8]"


def test_compact_writes_the_op_in_the_result_box():
    L = micrograd_expression()
    nodes, edges = parse(viz.draw(L, compact=True, stats=False).source)
    assert {k: a["label"] for k, a in nodes.items()} == {
        "t0": r"f\n() float32", "t1": r"c\n() float32", "t2": r"a\n() float32", "t3": r"b\n() float32",
        "t4": r"e = mul\n() float32", "t5": r"d = add\n() float32", "t6": r"L = mul\n() float32"}
    assert set(edges) == {("t3", "t4"), ("t2", "t4"), ("t4", "t5"), ("t1", "t5"), ("t5", "t6"), ("t0", "t6")}
    unnamed = tg.tensor([1.0, 2.0], requires_grad=True) * 3
    assert labels(viz.draw(unnamed, compact=True, stats=False).source)["t2"] == r"mul\n(2,) float32"


def test_number_formats():
    x = tg.tensor(1e-5, requires_grad=True)
    y = tg.tensor([1.0, 2.5, -3.0, 4.0, 5.0, 6.0, 7.0])  # more than a few values: statistics
    source = viz.draw([x * 2, y * 2]).source
    assert r"data 1e-05" in source and r"data 2.0000e-05" not in source
    assert "data mean 6.43 std 6.32 min -6 max 14" in source  # y * 2 is not recorded: a constant


def test_drawing_after_backward_without_retain_graph():
    x = tg.randn(4, 3, requires_grad=True, name="x")
    loss = (x.tanh() * 2).mean()
    loss.backward()
    assert loss._prev[0]._prev[0]._attrs is None          # tanh saved its output: freed by backward
    forward, backward = viz.draw(loss).source, viz.draw(loss, backward=True).source
    assert "tanh" in forward and "tanh backward" in backward and "x.grad" in backward


def test_rankdir_and_bad_arguments():
    x = tg.randn(2, requires_grad=True)
    assert "rankdir=TB" in viz.draw(x * 2, rankdir="TB").source
    assert "rankdir=LR" in viz.draw(x * 2).source
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw(x, rankdir="sideways")
    with pytest.raises(ValueError, match="does not require grad"):
        viz.draw(tg.ones(2) * 2, backward=True)


# ----------------------------------------------------------------------------
# gradient health, large graphs, clusters

def test_nan_and_inf_gradients_are_marked():
    x = tg.tensor([0.0, 4.0], requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        y = (x.sqrt() * 0).sum()  # d/dx = 0 * 1/(2 sqrt(0)) = NaN at 0
        y.backward()
    assert np.isnan(x.grad[0])
    for source in (viz.draw(y).source, viz.draw(y, backward=True).source):
        x_node = parse(source)[0]["t0"]
        assert x_node["color"] == "red" and "grad has NaN" in x_node["label"]
    healthy = tg.tensor([1.0, 4.0], requires_grad=True)
    z = healthy.sqrt().sum()
    z.backward()
    assert "red" not in viz.draw(z).source

    w = tg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        w.sqrt().sum().backward()
    assert "grad has Inf" in viz.draw(w).source


def test_vanishing_and_exploding_gradients_are_marked_when_asked():
    small = tg.tensor([1.0, 2.0], requires_grad=True, name="small")
    big = tg.tensor([1.0, 2.0], requires_grad=True, name="big")
    loss = (small * 1e-9).sum() + (big * 1e6).sum()
    loss.backward()
    nodes, _ = parse(viz.draw(loss, grad_ratio=(1e-6, 1e3)).source)
    by_name = {a["label"].split(r"\n")[0]: a for a in nodes.values()}
    assert by_name["small"]["color"] == "blue" and "vanishing" in by_name["small"]["label"]
    assert by_name["big"]["color"] == "darkorange" and "exploding" in by_name["big"]["label"]
    assert "vanishing" not in viz.draw(loss).source  # off unless asked


def chain(n: int):
    x = tg.randn(3, requires_grad=True, name="x")
    y = x
    for _ in range(n):
        y = y.tanh()
    return x, y.sum()


def test_max_nodes_cuts_with_a_note():
    x, loss = chain(20)
    loss.backward()
    nodes, edges = parse(viz.draw(loss, max_nodes=5).source)
    tensors = [k for k in nodes if re.fullmatch(r"t\d+", k)]
    assert len(tensors) == 5
    assert nodes["cut"]["label"] == r"17 more tensors not drawn (max_nodes=5)\namong them: x"
    assert nodes["cut"]["shape"] == "note"
    assert [e for e in edges if "cut" in e] == [("cut", "op0")]  # the op whose input was cut
    nodes, edges = parse(viz.draw(loss, backward=True, max_nodes=5).source)
    assert "17 more tensors not drawn" in nodes["cut"]["label"]
    assert [e for e in edges if "cut" in e] == [("t0", "cut")]  # the gradient flows on into the cut part
    assert "cut" not in parse(viz.draw(loss, max_nodes=100).source)[0]


def test_name_scopes_become_nested_clusters():
    x = tg.randn(2, 3, requires_grad=True, name="x")
    with tg.name_scope("mlp"):
        with tg.name_scope("layer1"):
            h = x.tanh()
        y = h.sum()
    source = viz.draw(y).source
    assert "subgraph cluster_mlp {" in source and 'subgraph "cluster_mlp.layer1" {' in source
    inner = source[source.index('subgraph "cluster_mlp.layer1"'):]
    inner = inner[:inner.index("}")]
    assert "op1 [label=tanh" in inner and "t1 [label=" in inner and "label=layer1" in inner
    assert "t0 [label=" not in inner  # the leaf is not in the module's cluster
    assert 'op2 [label="sum' in source[source.index("subgraph cluster_mlp {"):]
    assert "subgraph" not in viz.draw(y, clusters=False).source
    assert 'subgraph "cluster_mlp.layer1"' in viz.draw(y, backward=True).source


# ----------------------------------------------------------------------------
# rendering with the real dot program

@pytest.fixture(scope="module")
def makemore():
    return makemore_graph(batch=8, seed=1)[1]


@needs_dot
def test_makemore_forward_svg_shows_every_intermediate_with_its_shape(makemore):
    assert list(makemore)[-20:] == LECTURE
    svg = viz.draw(makemore["loss"], params=makemore).pipe(format="svg", encoding="utf-8")
    texts = svg_nodes(svg)
    for name in LECTURE:
        t = makemore[name]
        shape = f"{tuple(t.shape)} {t.dtype}"
        assert any(lines[:2] == [name, shape] for lines in texts), (name, shape)
    assert ["emb", "(8, 3, 10) float32"] in [lines[:2] for lines in texts]
    assert ["logits", "(8, 27) float32"] in [lines[:2] for lines in texts]
    assert any(lines[1] == "() float32" and lines[2].startswith("data ") for lines in texts if lines[0] == "loss")
    assert ["C", "(27, 10) float32"] in [lines[:2] for lines in texts]
    clusters = {g.find(SVG + "title").text for g in ET.fromstring(svg).iter(SVG + "g") if g.get("class") == "cluster"}
    assert {"cluster_embedding", "cluster_batchnorm", "cluster_cross_entropy"} <= clusters


@needs_dot
def test_makemore_backward_svg(makemore):
    svg = viz.draw(makemore["loss"], params=makemore, backward=True).pipe(format="svg", encoding="utf-8")
    root = ET.fromstring(svg)
    texts = svg_nodes(svg)
    received = {line[len("receives d"):] for lines in texts for line in lines if line.startswith("receives d")}
    assert set(LECTURE) <= received
    rules = {lines[0] for lines in texts}
    assert {"getitem backward", "matmul backward", "sum backward", "tanh backward"} <= rules
    grads = [lines[0] for lines in texts if lines[0].endswith(".grad")]
    params = [name for name, t in makemore.items() if t.is_leaf and t.requires_grad]
    assert sorted(grads) == sorted(f"{name}.grad" for name in params) and len(params) >= 5
    assert any(lines[0] == "sum (un-broadcast)" for lines in texts)
    edges = [g for g in root.iter(SVG + "g") if g.get("class") == "edge"]
    edge_labels = {t.text for g in edges for t in g.iter(SVG + "text")}
    assert str(tuple(makemore["emb"].shape)) in edge_labels and "()" in edge_labels


@needs_dot
def test_render_png_pdf_and_jupyter(tmp_path):
    x, loss = chain(3)
    assert viz.render(loss, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.render(viz.draw(loss), tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
    assert viz.render(loss, tmp_path / "g", format="svg", backward=True).read_text().lstrip().startswith("<?xml")
    assert not list(tmp_path.glob("*.gv"))  # no leftover source files
    bundle = viz.draw(loss)._repr_mimebundle_()  # what Jupyter shows
    ET.fromstring(bundle["image/svg+xml"])


@needs_dot
def test_command_line_writes_both_drawings(tmp_path, capsys):
    assert main(["makemore", "--out", str(tmp_path), "--backward", "--batch", "4"]) == 0
    forward, backward = tmp_path / "makemore_forward.svg", tmp_path / "makemore_backward.svg"
    assert "loss" in {lines[0] for lines in svg_nodes(forward.read_text())}
    assert "receives dlogits" in {line for lines in svg_nodes(backward.read_text()) for line in lines}
    assert "wrote" in capsys.readouterr().out
    assert main(["makemore", "--out", str(tmp_path), "--format", "png", "--no-stats"]) == 0
    assert (tmp_path / "makemore_forward.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------
# without the dot program

def test_missing_dot_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    x, loss = chain(2)
    graph = viz.draw(loss)
    assert "tanh" in graph.source  # building the graph still works
    for render in (lambda: graph.pipe(format="svg"), lambda: graph.render(tmp_path / "g", format="svg"),
                   lambda: graph._repr_mimebundle_(), lambda: viz.render(graph, tmp_path / "g.png"),
                   lambda: viz.render(graphviz.Digraph(body=["a -> b"]), tmp_path / "plain.svg")):
        with pytest.raises(viz.GraphvizNotFound) as info:
            render()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert isinstance(info.value, graphviz.ExecutableNotFound)  # what graphviz users already catch


def test_command_line_without_dot_writes_the_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x, loss = chain(2)
    monkeypatch.setattr("viz.__main__.makemore_graph", lambda batch, seed: (None, {"x": x, "loss": loss}))
    assert main(["makemore", "--out", str(tmp_path)]) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert "tanh" in (tmp_path / "makemore_forward.gv").read_text()


# ----------------------------------------------------------------------------
# module depth: a folded module is one node

def small_transformer(n_layer=2, seed=0):
    """makemore's Transformer (models/transformer.py): (model, loss) on a random batch, before backward."""
    from models.config import Config, build_model
    tg.manual_seed(seed)
    model = build_model(Config(type="transformer", vocab_size=27, block_size=8, n_layer=n_layer, n_embd=16, n_head=4))
    idx, targets = tg.randint(0, 27, (4, 8)), tg.randint(0, 27, (4, 8))
    loss = tg.nn.functional.cross_entropy(model(idx).view(-1, 27), targets.view(-1))
    return model, loss


def param_shown(name: str, p, nodes: dict) -> bool:
    """p appears by name: its own .grad node, or a line `<name inside the box> <shape>` of a folded module's box."""
    for attrs in nodes.values():
        lines = re.split(r"\\[nl]", attrs.get("label", ""))
        if lines[0] in (name, f"{name}.grad"):
            return True
        path = lines[0].removesuffix(" backward").partition(" ")[2]
        if path and name.startswith(path + ".") and any(l.startswith(f"{name[len(path) + 1:]} {tuple(p.shape)}")
                                                          for l in lines):
            return True
    return False


def test_depth_1_backward_of_a_2_block_transformer_is_small_and_names_every_parameter():
    model, loss = small_transformer()
    full = parse(viz.draw(loss, backward=True).source)[0]
    loss.backward(retain_graph=True)
    nodes, edges = parse(viz.draw(loss, backward=True, depth=1, params=model).source)
    assert len(nodes) <= 40 < len(full)
    for name, p in model.named_parameters():
        assert param_shown(name, p, nodes), name
    boxes = {a["label"].split(r"\n")[0] for a in nodes.values() if "#dff0d8" in a.get("fillcolor", "")}
    assert {"Block transformer.h.0 backward", "Block transformer.h.1 backward", "Linear lm_head backward",
            "Embedding transformer.wte backward", "LayerNorm transformer.ln_f backward"} <= boxes
    block = next(a["label"] for a in nodes.values() if a["label"].startswith("Block transformer.h.1"))
    assert r"\nin (4, 8, 16)  out (4, 8, 16)\n" in block and "ops folded" in block and "passes on |grad|" in block
    assert r"attn.c_attn.weight (48, 16)  |grad| " in block           # its parameters: name, shape, |grad|
    # the siblings share a group (they line up), and every edge carries the shape of its gradient
    groups = {a["group"] for a in nodes.values() if a.get("label", "").startswith("Block ")}
    assert len(groups) == 1 and all(a.get("label") for a in edges.values())
    assert "rankdir=TB" in viz.draw(loss, depth=1).source           # a depth drawing goes top to bottom


def test_depth_levels_fold_deeper_modules_and_leaf_modules():
    model, loss = small_transformer(n_layer=1)
    first = lambda source: {a["label"].split(r"\n")[0] for a in parse(source)[0].values()}
    depth0 = first(viz.draw(loss, depth=0, params=model).source)
    assert "Transformer" in depth0 and not any(s.startswith("Block") for s in depth0)
    depth2 = first(viz.draw(loss, depth=2, params=model).source)
    assert {"CausalSelfAttention transformer.h.0.attn", "LayerNorm transformer.h.0.ln_1",
            "Linear transformer.h.0.mlp.c_fc", "NewGELU transformer.h.0.mlp.act",
            "Embedding transformer.wte", "Linear lm_head"} <= depth2   # leaf modules stay boxes below their depth
    assert not any(s.startswith("Block") for s in depth2)
    assert first(viz.draw(loss, depth=None).source) == first(viz.draw(loss).source)
    with pytest.raises(ValueError, match="depth"):
        viz.draw(loss, depth=-1)


def test_a_folded_module_passes_on_the_gradient_of_its_input():
    class TwoLayers(tg.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = tg.nn.Linear(3, 4), tg.nn.Linear(4, 2)

        def forward(self, x):
            self.a = self.fc1(x).tanh()      # (5, 4): what fc2 sends its gradient back to
            return self.fc2(self.a)

    model = TwoLayers()
    loss = (model(tg.randn(5, 3)) ** 2).sum()
    model.a.retain_grad()
    loss.backward(retain_graph=True)
    nodes = parse(viz.draw(loss, backward=True, depth=1, params=model).source)[0]
    fc2 = next(a["label"] for a in nodes.values() if a["label"].startswith("Linear fc2 backward"))
    norm = float(np.linalg.norm(np.asarray(model.a.grad, dtype=np.float64)))
    assert f"passes on |grad| {norm:.3g}" in fc2
    assert f"weight (2, 4)  |grad| {float(np.linalg.norm(np.asarray(model.fc2.weight.grad, dtype=np.float64))):.3g}" in fc2
    forward = labels(viz.draw(loss, depth=1, params=model).source)
    assert any(v.startswith(r"Linear fc1\nin (5, 3)  out (5, 4)\n1 op folded") or
               v.startswith(r"Linear fc1\nout (5, 4)") for v in forward.values())


@needs_dot
def test_depth_1_drawings_fit_2000_pixels(tmp_path):
    from PIL import Image
    model, loss = small_transformer()
    loss.backward(retain_graph=True)
    for backward in (False, True):
        path = viz.render(loss, tmp_path / "t.png", backward=backward, depth=1, params=model)
        assert max(Image.open(path).size) <= 2000


@needs_dot
def test_draw_gpt_example_draws_the_lecture_gpt_at_depth_1_and_2(tmp_path, capsys):
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "examples" / "draw_gpt.py"
    spec = importlib.util.spec_from_file_location("draw_gpt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path), "--format", "svg"])
    assert "GPT: 108609 parameters" in capsys.readouterr().out
    for depth in (1, 2):
        for kind in ("forward", "backward"):
            svg = (tmp_path / f"gpt_depth{depth}_{kind}.svg").read_text()
            first = {lines[0] for lines in svg_nodes(svg) if lines}
            assert ("Sequential blocks" if depth == 1 else "Block blocks.1") + (" backward" if kind == "backward" else "") in first


@needs_dot
def test_command_line_depth(tmp_path):
    assert main(["transformer", "--depth", "1", "--backward", "--out", str(tmp_path), "--format", "svg"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["transformer_depth1_backward.svg", "transformer_depth1_forward.svg"]
    assert "Block transformer.h.0" in (tmp_path / "transformer_depth1_forward.svg").read_text()


def test_the_drawings_read_the_graph_in_the_engines_order():
    from tensorgrad.recorder import record_walk
    model, loss = small_transformer(n_layer=1)
    tensors = viz.graph.collect([loss], grad_only=True)
    with record_walk() as steps:
        loss.backward()
    assert [s.tensor for s in steps] == tensors[::-1]                # the walk is the order reversed
    everything = viz.graph.collect([loss], grad_only=False)         # constants too, each before its first use
    assert [t for t in everything if t.requires_grad] == tensors
    position = {id(t): k for k, t in enumerate(everything)}
    assert all(position[id(x)] < position[id(t)] for t in everything for x in t._prev)


def test_draw_and_walk_after_backward_of_a_module_model(tmp_path):
    model, loss = small_transformer(n_layer=1)
    loss.backward()                                                  # a learner's habit: then draw
    nodes = parse(viz.draw(loss, backward=True, depth=1, params=model).source)[0]
    assert "freed" in nodes and any(a["label"].startswith("Block transformer.h.0 backward") for a in nodes.values())
    if shutil.which("dot"):
        page = viz.walk(loss, None, params=model, depth=1)
        assert "retain_graph=True" in page.html and page.steps == []


def test_a_value_freed_by_backward_is_drawn_as_freed_not_as_zeros():
    """After a plain backward the engine frees intermediates (as torch); a drawing says so instead of
    showing the stand-in's zeros as statistics."""
    x = tg.randn(16, 8, requires_grad=True)
    h = (x * 2).tanh()                                  # 128 elements: freed, not kept for drawing
    loss = h.sum()
    del h
    loss.backward()
    src = viz.draw(loss, backward=False).source
    assert "data freed by backward" in src
    assert "mean 0 std 0" not in src
