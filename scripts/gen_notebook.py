"""Write examples/backprop_ninja.ipynb from examples/backprop_ninja.py: the same code, one
cell per section, each followed by a cell that runs it (tests/test_examples.py runs it and checks
that it is up to date).

    python scripts/gen_notebook.py            # rewrite the notebook
    python scripts/gen_notebook.py --check    # exit 1 if it is out of date
"""
import os
import re
import sys

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import generated  # noqa: E402  (scripts/generated.py: write, or --check)

SCRIPT = os.path.join(ROOT, "examples", "backprop_ninja.py")
OUT = os.path.join(ROOT, "examples", "backprop_ninja.ipynb")
BANNER = re.compile(r"^# -{20,}\n((?:# .*\n)*)", re.M)

PARAMETERS = """\
# parameters: the tests set NINJA_STEPS to run a few steps only
import os
STEPS = int(os.environ.get("NINJA_STEPS", "20000"))   # training steps of exercise 4"""

RUN = {   # section title -> the cell that runs it, placed right after the section's code
    "Data and model": (
        "vocab, (Xtr, Ytr), (Xdev, Ydev) = load_data()\n"
        "print(f\"{len(Xtr)} training examples, vocabulary of {len(vocab)}\")\n"
        "model, params = make_model(len(vocab))\n"
        "ix = np.random.default_rng(0).integers(0, Xtr.shape[0], 32)   # one batch of 32, as in the lecture\n"
        "Xb, Yb = Xtr[ix], Ytr[ix]"),
    "Exercise 1": "ex1 = exercise1(model, params, Xb, Yb)   # all 26 rows: exact against tensorgrad",
    "Exercise 2": "ex2 = exercise2(ex1, Xb, Yb)",
    "Exercise 3": "ex3 = exercise3(ex1, Xb, params)",
    "Exercise 4": "ex4 = exercise4(len(vocab), Xtr, Ytr, Xdev, Ydev, STEPS)",
}


def build() -> nbformat.NotebookNode:
    with open(SCRIPT) as f:
        source = f.read()
    doc, body = source.split('"""', 2)[1:]
    body = body.replace(
        'sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout',
        'sys.path.insert(0, os.path.abspath(".."))  # the notebook runs in examples/')
    body = body.split("\ndef main(")[0]
    cells = [nbformat.v4.new_markdown_cell("# " + doc.strip()),
             nbformat.v4.new_code_cell(PARAMETERS)]
    parts = BANNER.split(body)
    cells.append(nbformat.v4.new_code_cell(parts[0].strip()))
    for title, code in zip(parts[1::2], parts[2::2]):
        title = "\n".join(line[2:] for line in title.strip().splitlines())
        code = code.strip()
        if title:
            cells.append(nbformat.v4.new_markdown_cell("## " + title[0].upper() + title[1:]))
        if code:
            cells.append(nbformat.v4.new_code_cell(code))
        for key, run in RUN.items():
            if title.lower().startswith(key.lower()):
                cells.append(nbformat.v4.new_code_cell(run))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"          # stable ids: the file only changes when the script does
    return nb


def render() -> str:
    return nbformat.writes(build())


def main(argv=None) -> int:
    return generated.main(argv, __doc__, OUT, render)


if __name__ == "__main__":
    sys.exit(main())
