"""The generated op list (docs/ops.md) is up to date, and the design page is there."""
import importlib.util
import os

import tensorgrad as tg
from tensorgrad import ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _gen():
    spec = importlib.util.spec_from_file_location("gen_ops_doc", os.path.join(ROOT, "scripts", "gen_ops_doc.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ops_md_is_up_to_date():
    with open(os.path.join(ROOT, "docs", "ops.md")) as f:
        committed = f.read()
    assert committed == _gen().render(), "docs/ops.md is out of date: run `python scripts/gen_ops_doc.py`"


def test_ops_md_lists_every_builtin_op_with_its_rule():
    text = _gen().render()
    builtin = {o.name for o in ops.OPS.values() if o.builtin}
    assert builtin and builtin <= set(tg.OPS)
    for name in builtin:
        assert f"| `{name}` |" in text, f"{name} missing from docs/ops.md"
    assert "| `tanh` | `tensorgrad.ops.elementwise` | `np.tanh(float_of(x))` | `g * (1 - out * out)` |" in text
    assert "def _bn_backward(" in text          # rules written as functions appear in full


def test_user_ops_are_not_in_the_generated_page():
    tg.op("test_docs_square", backward=lambda g, out, x: g * 2 * x)(lambda x: x * x)
    try:
        assert "test_docs_square" not in _gen().render()
    finally:
        del tg.OPS["test_docs_square"]


def test_design_page_covers_the_topics():
    with open(os.path.join(ROOT, "docs", "design.md")) as f:
        text = f.read().lower()
    for topic in ("tape", "_prev", "backward", "replicate", "scatter-add", "float32", "un-broadcast"):
        assert topic in text, topic
