"""The recorded backward walk (tensorgrad.recorder.record_walk) against the engine's real order and
gradients; viz.walk's page; and the page in a real browser (headless Chromium through selenium)."""
import functools
import json
import os
import pathlib
import re
import shutil
import time

import numpy as np
import pytest

import tensorgrad as tg
import viz
from tensorgrad import Value
from tensorgrad.engine import Node
from tensorgrad.recorder import Send, WalkStep, record_walk
from viz.__main__ import main, makemore_forward, transformer_forward

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def mixed_graph():
    """Broadcasting, a tensor used twice, a gather, a matmul, a reduction: (leaves, loss)."""
    g = tg.Generator().manual_seed(0)
    C = tg.randn(5, 3, generator=g, requires_grad=True, name="C")
    W = tg.randn(6, 4, generator=g, requires_grad=True, name="W")
    b = tg.randn(4, generator=g, requires_grad=True, name="b")
    X = np.array([[0, 1], [4, 4], [1, 0]])                       # repeated rows: the scatter-add adds them
    emb = C[X].reshape(3, 6)                                     # (3, 6)
    h = (emb @ W + b).tanh()                                     # (3, 4), b broadcast over the rows
    loss = (h * h).mean() + (h.sum(0) * b).sum()                 # h used three times, b twice
    return [C, W, b], loss


def retain_all(loss):
    """retain_grad() on every intermediate, so that backward leaves a .grad on all of them."""
    stack, seen = [loss], set()
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        if not t.is_leaf:
            t.retain_grad()
        stack.extend(x for x in t._prev if x.requires_grad)


# ----------------------------------------------------------------------------
# the recorded walk is the engine's walk

def test_the_walk_is_the_order_in_which_the_engine_runs_the_rules(monkeypatch):
    _, loss = mixed_graph()
    ran = []                                                       # the nodes whose rule ran, in order
    real = Node.run
    monkeypatch.setattr(Node, "run", lambda self, g: (ran.append(self), real(self, g))[1])
    with record_walk() as steps:
        loss.backward(retain_graph=True)
    assert all(isinstance(s, WalkStep) for s in steps)
    assert [id(s.tensor.grad_fn) for s in steps if s.op] == [id(n) for n in ran]
    assert [s.op for s in steps if s.op] == [n.name() for n in ran]
    assert steps[0].tensor is loss and len(ran) > 10
    leaves = [s.tensor for s in steps if not s.op]
    assert {t.name for t in leaves} == {"C", "W", "b"} and all(t.is_leaf for t in leaves)
    visited = {id(s.tensor): k for k, s in enumerate(steps)}
    assert len(visited) == len(steps)                              # each tensor once
    for k, s in enumerate(steps):                                  # every gradient arrives before its visit
        for send in s.sends:
            assert visited[id(send.input)] > k


def test_each_step_holds_the_complete_gradient_the_engine_stores():
    leaves, loss = mixed_graph()
    retain_all(loss)
    with record_walk() as steps:
        loss.backward()
    for s in steps:
        assert s.grad.shape == s.tensor.shape and s.grad.dtype == s.tensor.dtype
        np.testing.assert_array_equal(s.grad, s.tensor.grad)
    np.testing.assert_array_equal(steps[0].grad, np.ones((), np.float32))
    # and the gradients are torch's
    torch = pytest.importorskip("torch")
    C, W, b = (torch.tensor(t.numpy(), requires_grad=True) for t in leaves)
    emb = C[torch.tensor([[0, 1], [4, 4], [1, 0]])].reshape(3, 6)
    h = (emb @ W + b).tanh()
    ((h * h).mean() + (h.sum(0) * b).sum()).backward()
    for t, ref in zip(leaves, (C, W, b)):
        np.testing.assert_allclose(next(s.grad for s in steps if s.tensor is t), ref.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_sends_add_up_to_each_gradient_in_the_engine_order():
    _, loss = mixed_graph()
    retain_all(loss)
    with record_walk() as steps:
        loss.backward()
    received = {}
    for s in steps:
        for send in s.sends:
            assert isinstance(send, Send)
            assert send.input is s.tensor._prev[send.index]
            assert send.grad.shape == send.input.shape
            assert send.summed == (send.raw_shape != send.input.shape)
            assert send.accumulated == (id(send.input) in received)   # a gradient was already there
            received.setdefault(id(send.input), []).append(send.grad)
    for s in steps[1:]:
        total = functools.reduce(lambda a, g: a + g, received[id(s.tensor)])   # the engine's order of adding
        np.testing.assert_array_equal(total, s.grad)
    uses = {s.tensor.name: len(received[id(s.tensor)]) for s in steps[1:] if s.tensor.is_leaf}
    assert uses == {"C": 1, "W": 1, "b": 2}


def test_broadcast_sums_scatter_adds_and_two_uses_are_recorded():
    x = tg.randn(4, 3, requires_grad=True)
    b = tg.randn(3, requires_grad=True)
    with record_walk() as steps:
        s = x + b
        (s * s).sum().backward()
    add = next(s for s in steps if s.op == "add")
    to_b = next(send for send in add.sends if send.input is b)
    assert to_b.summed and to_b.raw_shape == (4, 3) and to_b.grad.shape == (3,) and not to_b.accumulated
    assert not next(send for send in add.sends if send.input is x).summed
    mul = next(s for s in steps if s.op == "mul")
    assert [send.index for send in mul.sends] == [0, 1]            # both inputs are the same tensor
    assert [send.accumulated for send in mul.sends] == [False, True]
    C = tg.randn(5, 2, requires_grad=True)
    with record_walk() as steps:
        C[np.array([1, 1, 3])].sum().backward()
    gather = next(s for s in steps if s.op == "getitem")
    (send,) = gather.sends
    assert send.raw_shape == (5, 2) and not send.summed
    np.testing.assert_array_equal(send.grad[:, 0], [0, 2, 0, 1, 0])  # the repeated row added twice


def test_recording_tg_grad_create_graph_and_only_inside_the_block():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x ** 3).sum()
    with record_walk() as steps:
        (gx,) = tg.grad(y, x, create_graph=True)
    assert [s.op for s in steps] == ["sum", "pow", ""] and x.grad is None
    assert all(type(s.grad) is np.ndarray for s in steps)
    np.testing.assert_allclose(steps[-1].grad, 3 * x.numpy() ** 2)
    np.testing.assert_allclose(gx.numpy(), steps[-1].grad)
    gx.sum().backward()                                            # not recorded: the block is over
    assert len(steps) == 3
    np.testing.assert_allclose(x.grad, 6 * x.numpy())
    with record_walk() as again:
        pass
    assert again == []


def test_recording_changes_no_gradient():
    leaves, loss = mixed_graph()
    loss.backward()
    plain = {t.name: t.grad for t in leaves}
    leaves, loss = mixed_graph()
    with record_walk():
        loss.backward()
    for t in leaves:
        np.testing.assert_array_equal(t.grad, plain[t.name])


# ----------------------------------------------------------------------------
# viz.walk: the page

def page_data(page: str) -> dict:
    return json.loads(re.search(r"const DATA = (.*?);\n", page).group(1))


def node_ids(svg: str) -> set:
    """The ids of the nodes of a view's SVG."""
    return set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg))


@needs_dot
def test_walk_writes_one_self_contained_page(tmp_path):
    leaves, loss = mixed_graph()
    w = viz.walk(loss, tmp_path / "walk.html")
    page = (tmp_path / "walk.html").read_text()
    assert page == w.html and w.path == tmp_path / "walk.html"
    assert "<script>" in page and "/*SCRIPT*/" not in page and "/*STYLE*/" not in page
    # nothing to fetch: no src/href but data: and in-page anchors, no @import or url(...) in the style
    assert not re.findall(r'(?:src|href)="(?!data:|#)[^"]*"', page)
    assert "@import" not in page and "url(" not in page
    data = page_data(page)
    assert len(data["steps"]) == len(w.steps) + 1                  # step 0 is the seed
    assert [data["tensors"][s["t"]]["name"] for s in data["steps"][1:]][-3:] != []
    full = data["views"][""]                                       # every op drawn: every tensor has its node
    assert full["depth"] is None and full["level"] and full["boxes"] == {}
    assert {t["node"] for t in data["tensors"]} == {n for n in node_ids(full["svg"]) if re.fullmatch(r"t\d+", n)}
    assert full["svg"].startswith("<svg") and data["view"] == "" and data["freed"] == ""
    for t in leaves:                                               # .grad untouched, graph kept
        assert t.grad is None
    loss.backward()
    assert all(t.grad is not None for t in leaves)


@needs_dot
def test_walk_of_a_freed_graph_says_what_to_do_and_takes_recorded_steps(tmp_path):
    _, loss = mixed_graph()
    with record_walk() as steps:
        loss.backward()
    # after backward the walk cannot be replayed with its numbers: the page shows the graph, the order of
    # the walk and the leaves' .grad, and says what to do for the rest
    freed = viz.walk(loss, None)
    data = page_data(freed.html)
    assert "retain_graph=True" in data["freed"] and "before loss.backward()" in data["freed"]
    assert freed.steps == [] and len(data["steps"]) == len(steps) + 1
    assert [data["tensors"][s["t"]]["name"] for s in data["steps"][1:]] == \
           [data["tensors"][s["t"]]["name"] for s in page_data(viz.walk(loss, None, steps=steps).html)["steps"][1:]]
    leaves = {t["name"]: t for t in data["tensors"] if t["kind"] == "param"}
    assert set(leaves) == {"C", "W", "b"} and all(t["grad"] is not None for t in leaves.values())
    assert leaves["W"]["grad"]["norm"] == pytest.approx(float(np.linalg.norm(data_of(loss, "W").grad)), rel=1e-5)
    w = viz.walk(loss, None, steps=steps)
    assert w.path is None and w.steps == steps
    with pytest.raises(ValueError, match="steps="):
        viz.walk(loss, None, steps=steps[1:])
    with pytest.raises(ValueError, match="does not require grad"):
        viz.walk(tg.ones(2).sum(), None)


def data_of(loss, name):
    """The leaf called name in loss's graph."""
    return next(t for t in viz.graph.collect([loss], grad_only=True) if t.name == name)


@needs_dot
def test_walk_max_nodes_and_jupyter(tmp_path):
    _, loss = mixed_graph()
    w = viz.walk(loss, None, max_nodes=4)
    data = page_data(w.html)
    assert data["cut"] > 0 and data["max_nodes"] == 4
    assert len(data["tensors"]) == 4 and all(t["node"] is not None for t in data["tensors"])
    # the page holds the steps of the drawn tensors only (a 10k-node graph does not make a 10 MB page)
    assert len(data["steps"]) - 1 + data["hidden_steps"] == len(w.steps) and data["hidden_steps"] > 0
    assert "more tensors not drawn (max_nodes=4)" in w.html
    frame = w._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;svg" in frame and "<script" not in frame


def test_walk_without_dot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))                      # no dot on it
    _, loss = mixed_graph()
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz"):
        viz.walk(loss, tmp_path / "walk.html")
    assert not (tmp_path / "walk.html").exists()


def test_adjoint_words_come_from_the_op_table_when_it_has_them(monkeypatch):
    x = tg.randn(3, requires_grad=True)
    y = x.tanh()
    assert viz.adjoint(y) == "g * (1 - out**2)"
    monkeypatch.setattr(y._fn, "adjoint", "g * (1 - tanh(x)**2)", raising=False)
    assert viz.adjoint(y) == "g * (1 - tanh(x)**2)"
    custom = tg.op("walk_test_double", backward=lambda g, out, x: 2 * g)(lambda x: 2 * x)
    try:
        assert viz.adjoint(custom(x)) == "backward rule"
    finally:
        del tg.OPS["walk_test_double"]


@needs_dot
def test_command_line_writes_the_page(tmp_path, capsys):
    assert main(["makemore", "--html", str(tmp_path), "--batch", "4"]) == 0
    page = (tmp_path / "makemore_walk.html").read_text()
    assert "steps" in capsys.readouterr().out
    names = {t["name"] for t in page_data(page)["tensors"]}
    assert {"emb", "hprebn", "bndiff", "logits", "loss", "C", "W1", "b1"} <= names
    assert {"embcat @ W1", "bnvar + 1e-05", "h @ W2", "logprobs[...]"} <= names   # unnamed: from their inputs


# ----------------------------------------------------------------------------
# the page in a real browser

def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def browser():
    chromium, chromedriver = find_chromium(), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip("headless Chromium not found (apt-get install chromium chromium-driver): "
                    f"chromium={chromium}, chromedriver={chromedriver}")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    yield driver
    driver.quit()


def open_page(browser, path):
    browser.get(pathlib.Path(path).resolve().as_uri())
    browser.get_log("browser")  # start with an empty log (the page's own messages come after)
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0  # no network


def console_errors(browser) -> list:
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def press(browser, key, times=1):
    from selenium.webdriver.common.action_chains import ActionChains
    chain = ActionChains(browser)
    for _ in range(times):
        chain.send_keys(key)
    chain.perform()


READ_STEP = """
const cur = [...document.querySelectorAll('g.node.w-current')];
return {
  stepno: document.getElementById('stepno').textContent,
  slider: document.getElementById('slider').value,
  current: cur.map(g => [...g.querySelectorAll('text')].map(t => t.textContent)),
  node: document.getElementById('step-node').textContent,
  shape: document.getElementById('step-shape').textContent,
  stats: Object.fromEntries([...document.querySelectorAll('#step-grad tr[data-stat]')]
                            .map(r => [r.dataset.stat, r.querySelector('.v').textContent])),
  sends: document.querySelectorAll('#step-sends li').length,
  active: document.querySelectorAll('g.edge.w-active').length,
  acc: document.querySelectorAll('#step-sends .callout.acc').length,
  sum: document.querySelectorAll('#step-sends .callout.sum').length,
  scatter: document.querySelectorAll('#step-sends .callout.scatter').length,
};
"""

READ_PANEL = """
return {
  name: document.getElementById('panel-name').textContent,
  shape: document.getElementById('panel-shape').textContent,
  dtype: document.getElementById('panel-dtype').textContent,
  grad: Object.fromEntries([...document.querySelectorAll('#panel-grad tr[data-stat]')]
                           .map(r => [r.dataset.stat, r.querySelector('.v').textContent])),
  data: Object.fromEntries([...document.querySelectorAll('#panel-data tr[data-stat]')]
                           .map(r => [r.dataset.stat, r.querySelector('.v').textContent])),
  ratio: (document.getElementById('panel-ratio') || {}).textContent,
  hists: document.querySelectorAll('#panel svg.hist').length,
  path_edges: document.querySelectorAll('g.edge.w-path').length,
};
"""


def assert_shows(shown: dict, a: np.ndarray):
    """The displayed mean std min max norm (4 significant digits) are those of a."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        assert list(shown) == ["value"] and float(shown["value"]) == pytest.approx(a.item(), rel=1e-3, abs=1e-12)
        return
    scale = max(float(np.abs(a).max()), 1e-30)
    for key, value in dict(mean=a.mean(), std=a.std(), min=a.min(), max=a.max(), norm=np.linalg.norm(a)).items():
        assert float(shown[key]) == pytest.approx(value, rel=1e-3, abs=1e-6 * scale), (key, shown, value)


def shape_text(shape) -> str:
    return str(tuple(shape))


def test_browser_steps_through_the_makemore_walk(browser, tmp_path):
    _, named = makemore_forward(batch=8, seed=3)
    loss = named["loss"]
    names = {id(t): name for name, t in named.items()}
    page = viz.walk(loss, tmp_path / "makemore.html", params=named)
    with record_walk() as steps:                                   # the engine's own backward, for reference
        loss.backward()
    open_page(browser, page.path)
    seen = browser.execute_script(READ_STEP)
    assert seen["stepno"] == f"step 0 / {len(steps)}" and seen["node"] == "loss"
    assert seen["current"] == [["dloss = 1", "() float32"]]
    called_out = dict(acc=0, sum=0)
    for k, step in enumerate(steps, start=1):
        press(browser, "\ue014")                                    # the right arrow key
        seen = browser.execute_script(READ_STEP)
        t, name = step.tensor, names.get(id(step.tensor))
        assert seen["stepno"] == f"step {k} / {len(steps)}" and seen["slider"] == str(k)
        assert len(seen["current"]) == 1                           # one node highlighted: the visited one
        lines = seen["current"][0]
        if t.is_leaf:
            assert lines[0] == f"{name}.grad"
        else:
            assert lines[0] == f"{t._op} backward" and (name is None or f"receives d{name}" in lines)
        assert seen["node"] == name if name else seen["node"] not in names.values()   # unnamed: "embcat @ W1"
        assert seen["shape"] == shape_text(t.shape)
        assert_shows(seen["stats"], t.grad if t.grad is not None else step.grad)   # retained or leaf: .grad
        assert seen["sends"] == len(step.sends) and seen["active"] >= len(step.sends)
        # accumulation, un-broadcast sums and scatter-adds are called out at the step they happen
        assert seen["acc"] == sum(send.accumulated for send in step.sends)
        assert seen["sum"] == sum(send.summed for send in step.sends)
        assert seen["scatter"] == (len(step.sends) if step.op == "getitem" else 0)
        called_out.update(acc=called_out["acc"] + seen["acc"], sum=called_out["sum"] + seen["sum"])
    assert called_out["acc"] >= 3 and called_out["sum"] >= 3        # bndiff, counts, ...; b1, bnbias, ...
    press(browser, "\ue014")                                        # past the end: stays on the last step
    assert browser.execute_script(READ_STEP)["stepno"] == f"step {len(steps)} / {len(steps)}"
    press(browser, "\ue012", 2)                                     # left arrow, twice
    assert browser.execute_script(READ_STEP)["stepno"] == f"step {len(steps) - 2} / {len(steps)}"

    # click a parameter: its panel, and the path from the loss to it
    W1 = named["W1"]
    node = browser.execute_script(
        "return [...document.querySelectorAll('g.node')].find(g => g.querySelector('text').textContent === 'W1.grad')")
    node.click()
    panel = browser.execute_script(READ_PANEL)
    assert panel["name"] == "W1" and panel["shape"] == shape_text(W1.shape) and panel["dtype"] == "float32"
    assert_shows(panel["grad"], W1.grad)
    assert_shows(panel["data"], W1.numpy())
    assert float(panel["ratio"]) == pytest.approx(np.asarray(W1.grad).std() / W1.numpy().std(), rel=1e-3)
    assert panel["hists"] == 2 and panel["path_edges"] >= 10
    path_nodes = browser.execute_script("return [...document.querySelectorAll('g.node.w-path')]"
                                        ".map(g => g.querySelector('text').textContent)")
    assert "dloss = 1" in path_nodes and "W1.grad" in path_nodes and "C.grad" not in path_nodes
    browser.save_screenshot(str(tmp_path / "makemore.png"))
    assert (tmp_path / "makemore.png").read_bytes()[:4] == b"\x89PNG"

    # fold a module: the page lays the graph out again with the module as one box, and its rules as one step
    data = page_data(page.html)
    browser.find_element("css selector", '#modules button[data-scope="batchnorm"]').click()
    seen = browser.execute_script("return {key: viewKey, boxes: document.querySelectorAll('g.node.w-box').length,"
                                  " nodes: document.querySelectorAll('g.node').length}")
    assert seen["key"] == "batchnorm" and seen["boxes"] == 1
    assert seen["nodes"] == len(node_ids(data["views"]["batchnorm"]["svg"])) < len(node_ids(data["views"][""]["svg"]))
    box = data["views"]["batchnorm"]["boxes"]
    (box_id, info), = box.items()
    inside = set(info["members"] + info["params"])
    runs = []                                                       # the folded view's steps: runs inside the box
    for k, st in enumerate(data["steps"][1:], start=1):
        if st["t"] in inside and runs and runs[-1][-1] == k - 1 and data["steps"][runs[-1][0]]["t"] in inside:
            runs[-1].append(k)
        else:
            runs.append([k])
    assert len(runs) < len(steps) and browser.execute_script(READ_STEP)["stepno"].endswith(f" / {len(runs)}")
    first = next(p for p, run in enumerate(runs, start=1) if data["steps"][run[0]]["t"] in inside)
    press(browser, "\ue011")                                        # Home
    press(browser, "\ue014", first)
    seen = browser.execute_script(READ_STEP)
    assert seen["node"] == info["label"] == "batchnorm" and seen["stepno"] == f"step {first} / {len(runs)}"
    assert browser.execute_script(f"return nodes['{box_id}'].classList.contains('w-current')")
    assert browser.execute_script("return document.querySelectorAll('#step-inner li').length") == len(runs[first - 1])
    browser.find_element("id", "step-unfold").click()               # open it: every op again, at its first rule
    seen = browser.execute_script(READ_STEP)
    assert browser.execute_script("return viewKey") == "" and seen["stepno"] == f"step {runs[first - 1][0]} / {len(steps)}"
    assert browser.execute_script("return document.querySelectorAll('g.node.w-box').length") == 0
    assert console_errors(browser) == []


def micrograd_neuron():
    """The micrograd lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), with Values and the lecture's names."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"                            # noqa: E702 (the lecture's lines)
    x2w2 = x2 * w2; x2w2.label = "x2*w2"                            # noqa: E702
    x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"         # noqa: E702
    n = x1w1x2w2 + b; n.label = "n"                                  # noqa: E702
    o = n.tanh(); o.label = "o"                                      # noqa: E702
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, n=n, o=o)


def test_browser_micrograd_neuron_shows_the_lectures_gradients(browser, tmp_path):
    v = micrograd_neuron()
    page = viz.walk(v["o"], tmp_path / "neuron.html", title="micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b)")
    open_page(browser, page.path)
    browser.find_element("id", "play").click()                     # plays a step every 0.7 s
    time.sleep(0.8)
    browser.find_element("id", "play").click()
    assert browser.find_element("id", "stepno").text.startswith("step 1 /")
    for button in ("zoom-in", "zoom-out", "zoom-fit"):
        browser.find_element("id", button).click()
    browser.find_element("id", "slider").send_keys("\ue010")       # End on the slider: our handler, not the slider's
    assert browser.find_element("id", "stepno").text == f"step {len(page.steps)} / {len(page.steps)}"
    for name, grad in dict(n=0.5, x1=-1.5, w1=1.0, x2=0.5, w2=0.0, b=0.5).items():
        node = browser.execute_script(
            "return [...document.querySelectorAll('g.node')].find(g => [...g.querySelectorAll('text')]"
            ".some(t => t.textContent === arguments[0]))", f"{name}.grad" if name != "n" else "receives dn")
        node.click()
        panel = browser.execute_script(READ_PANEL)
        assert panel["name"] == name and float(panel["grad"]["value"]) == pytest.approx(grad, abs=1e-3)
    badges = browser.execute_script("return [...document.querySelectorAll('text.gbadge:not(.w-hidden)')].map(t => t.textContent)")
    assert "grad -1.500" in badges and "grad 0.5000" in badges     # x1's and n's, as the lecture fills them in
    assert console_errors(browser) == []


def test_browser_marks_nonfinite_and_vanishing_gradients_once_complete(browser, tmp_path):
    x = tg.tensor([0.0, 1.0], requires_grad=True, name="x")       # log(0): -inf data, an inf gradient
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")        # a gradient of 1e-9: vanishing
    with np.errstate(divide="ignore"):                             # the log(0) and 1/0 are the point
        loss = x.log().sum() + (w * 1e-9).sum()
        page = viz.walk(loss, tmp_path / "health.html", grad_ratio=(1e-6, 1e3))
    data = page_data(page.html)
    health = {t["name"]: t["health"][0] for t in data["tensors"] if t.get("health")}
    assert health["x"] == "nonfinite" and health["w"] == "vanishing"
    open_page(browser, page.path)
    marked = "return [...document.querySelectorAll('g.node.' + arguments[0])].map(g => g.querySelector('text').textContent)"
    assert browser.execute_script(marked, "h-nonfinite") == ["add backward"]   # the loss's data is -inf; x.grad
    assert browser.execute_script(marked, "h-vanishing") == []                 # is not marked before it is in
    press(browser, "\ue010")                                       # End
    assert "x.grad" in browser.execute_script(marked, "h-nonfinite")
    assert browser.execute_script(marked, "h-vanishing") == ["w.grad"]
    browser.execute_script("[...document.querySelectorAll('g.node')].find(g => g.querySelector('text')"
                           ".textContent === 'x.grad').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert browser.find_element("id", "panel-health").text == "grad has Inf"
    assert console_errors(browser) == []


def test_browser_runs_the_page_inline_as_jupyter_shows_it(browser, tmp_path):
    _, loss = mixed_graph()
    w = viz.walk(loss, None)
    (tmp_path / "notebook.html").write_text(f"<!DOCTYPE html><html><body>{w._repr_html_()}</body></html>")
    browser.get((tmp_path / "notebook.html").as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        assert browser.find_element("id", "stepno").text == f"step 0 / {len(w.steps)}"
        browser.find_element("id", "step").click()                 # the keys go to the frame
        press(browser, "\ue014", 2)
        assert browser.find_element("id", "stepno").text == f"step 2 / {len(w.steps)}"
    finally:
        browser.switch_to.default_content()
    assert console_errors(browser) == []


SCREENSHOTS = os.environ.get("TENSORGRAD_SCREENSHOTS")  # a directory: write the docs' screenshots there


def test_browser_screenshots_for_the_docs(browser, tmp_path):
    """TENSORGRAD_SCREENSHOTS=docs/img python -m pytest tests/test_walk.py -k screenshots"""
    out = pathlib.Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    _, named = makemore_forward(batch=8, seed=42)
    page = viz.walk(named["loss"], tmp_path / "makemore.html", params=named,
                    title="makemore MLP, batch 8: the backward walk of loss")
    open_page(browser, page.path)
    steps = page.steps
    at = next(k for k, s in enumerate(steps, start=1) if s.op == "add" and s.tensor.name == "hprebn")
    press(browser, "\ue014", at)                                    # b1's broadcast is summed here
    browser.save_screenshot(str(out / "walk_makemore.png"))
    v = micrograd_neuron()
    page = viz.walk(v["o"], tmp_path / "neuron.html", rankdir="LR",
                    title="micrograd's neuron: o = tanh(x1*w1 + x2*w2 + b)")
    open_page(browser, page.path)
    press(browser, "\ue014", 4)
    browser.save_screenshot(str(out / "walk_neuron.png"))
    assert console_errors(browser) == []
    model, named = transformer_forward(batch=4, seed=42)
    page = viz.walk(named["loss"], tmp_path / "transformer.html", params=model, depth=1,
                    title="makemore's Transformer, 2 blocks, batch 4: the backward walk at depth 1")
    open_page(browser, page.path)
    press(browser, "\ue014", 5)                                    # inside block h.1
    browser.save_screenshot(str(out / "walk_transformer.png"))
    assert console_errors(browser) == []
    for name in ("walk_makemore.png", "walk_neuron.png", "walk_transformer.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_browser_steps_through_a_folded_transformer_and_opens_a_block(browser, tmp_path):
    model, named = transformer_forward(batch=2, seed=7)
    loss = named["loss"]
    page = viz.walk(loss, tmp_path / "transformer.html", params=model, depth=1)
    data = page_data(page.html)
    level1 = next(k for k, v in data["views"].items() if v["level"] and v["depth"] == 1)
    assert data["view"] == level1 and {"", level1} < set(data["views"])
    boxes = data["views"][level1]["boxes"]
    labels = {b["label"]: box_id for box_id, b in boxes.items()}
    assert {"Block transformer.h.0", "Block transformer.h.1", "Linear lm_head"} <= set(labels)
    box_of = {i: box_id for box_id, b in boxes.items() for i in b["members"] + b["params"]}
    runs = []                                                       # the folded view's steps
    for k, st in enumerate(data["steps"][1:], start=1):
        here = box_of.get(st["t"])
        if here and runs and box_of.get(data["steps"][runs[-1][-1]]["t"]) == here:
            runs[-1].append(k)
        else:
            runs.append([k])
    assert len(runs) < 40 < len(page.steps)
    open_page(browser, page.path)
    assert browser.execute_script("return document.getElementById('depth').value") == level1
    assert browser.execute_script(READ_STEP)["stepno"] == f"step 0 / {len(runs)}"
    for p, run in enumerate(runs, start=1):                        # step through the folded walk
        press(browser, "\ue014")
        seen = browser.execute_script(READ_STEP)
        assert seen["stepno"] == f"step {p} / {len(runs)}" and len(seen["current"]) == 1
        t = data["tensors"][data["steps"][run[0]]["t"]]
        box = box_of.get(data["steps"][run[0]]["t"])
        if box:                                                     # a module: one box, one step, its rules listed
            assert seen["node"] == boxes[box]["label"] and seen["current"][0][0] == boxes[box]["label"] + " backward"
            assert browser.execute_script("return document.querySelectorAll('#step-inner li').length") == len(run)
        else:
            assert seen["node"] == t["name"]
        # the gradient shown is the one the module (or the op) receives: the engine's, recorded
        grad = t["grad"]
        shown = seen["stats"]
        key = "value" if grad["size"] == 1 else "norm"
        assert float(shown[key]) == pytest.approx(grad["values"][0] if key == "value" else grad["norm"], rel=1e-3)
    # open block h.1 from the graph: the page lays the graph out again with h.1's modules
    h1 = labels["Block transformer.h.1"]
    press(browser, "\ue011")
    browser.execute_script(f"nodes['{h1}'].dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
    key = browser.execute_script("return viewKey")
    opened = data["views"][key]
    assert "Transformer.1" not in opened["folded"] and "Transformer.1.attn" in opened["folded"]
    assert "Transformer.0" in opened["folded"]                      # h.0 stays folded
    inner = {b["label"] for b in opened["boxes"].values()}
    assert {"CausalSelfAttention transformer.h.1.attn", "LayerNorm transformer.h.1.ln_1",
            "Block transformer.h.0"} <= inner
    shown = browser.execute_script("return [...document.querySelectorAll('g.node text:first-of-type')].map(t => t.textContent)")
    assert "CausalSelfAttention transformer.h.1.attn backward" in shown and "Block transformer.h.1 backward" not in shown
    # the depth selector: every op, then back to depth 1
    browser.execute_script("const s = document.getElementById('depth'); s.value = ''; s.dispatchEvent(new Event('change'))")
    assert browser.execute_script("return viewKey") == ""
    assert browser.execute_script(READ_STEP)["stepno"].endswith(f" / {len(page.steps)}")
    browser.execute_script(f"const s = document.getElementById('depth'); s.value = '{level1}'; "
                           "s.dispatchEvent(new Event('change'))")
    assert browser.execute_script("return viewKey") == level1
    assert console_errors(browser) == []


def test_browser_walk_after_backward_shows_the_order_and_the_leaves(browser, tmp_path):
    leaves, loss = mixed_graph()
    loss.backward()                                                 # the graph is freed: no per-step numbers
    page = viz.walk(loss, tmp_path / "freed.html")
    data = page_data(page.html)
    open_page(browser, page.path)
    banner = browser.execute_script("const p = document.getElementById('freed'); return [p.hidden, p.textContent]")
    assert banner[0] is False and "retain_graph=True" in banner[1]
    for k in range(1, len(data["steps"])):
        press(browser, "\ue014")
        seen = browser.execute_script("return [document.getElementById('stepno').textContent, "
                                      "document.querySelectorAll('#step-grad tr[data-stat]').length]")
        t = data["tensors"][data["steps"][k]["t"]]
        assert seen[0] == f"step {k} / {len(data['steps']) - 1}"
        assert (seen[1] > 0) == (t["kind"] == "param")              # only the leaves' .grad is known
    assert console_errors(browser) == []
