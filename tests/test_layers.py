"""The package's layers import one way, and its files stay a size a reader can take in.

Each module of tensorgrad has a layer; an import (anywhere in a file, deferred ones included)
may only reach a module of the same layer or a lower one, and no set of modules may import
each other in a circle."""
import ast
import pathlib

import pytest

import tensorgrad

PKG = pathlib.Path(tensorgrad.__file__).parent

# lowest first: a module may import from its own layer and the ones before it
LAYERS = [
    ["tensorgrad.dtypes", "tensorgrad.dims", "tensorgrad.modes", "tensorgrad.device",
     "tensorgrad.missing", "tensorgrad.printing"],          # import nothing of ours
    ["tensorgrad.engine"],                                  # Tensor, Node, apply, the walk
    ["tensorgrad.recorder", "tensorgrad.gradients", "tensorgrad.ops"],              # record_walk; THE op table
    ["tensorgrad.functions"],                               # torch.* composites, no rules
    ["tensorgrad.inplace"],                                 # in-place writes and views
    ["tensorgrad.nn.functional"],                           # torch.nn.functional
    ["tensorgrad.tensor_api"],                              # binds Tensor's methods
]


def _name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PKG.rglob("*.py")}


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in layer):
            return i
    return len(LAYERS)                                      # everything else sits on top (nn, optim, compile, ...)


def _imports(module: str) -> set:
    """The tensorgrad modules `module` imports, at any depth in the file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "tensorgrad")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tensorgrad":
                continue
            for a in node.names:                            # `from . import ops` imports a module
                sub = f"{target}.{a.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {m: _imports(m) for m in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_layers(module):
    up = [m for m in GRAPH[module] if _layer(m) > _layer(module)]
    assert not up, f"{module} (layer {_layer(module)}) imports {up} from a layer above it"


def test_no_import_cycles():
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(GRAPH[m]):
            if state.get(n) == "open":
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)


def _code_lines(path) -> int:
    """Lines of code: no blank lines, comments or docstrings."""
    src = path.read_text()
    docs = set()
    for node in ast.walk(ast.parse(src)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docs.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for i, line in enumerate(src.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#") and i not in docs)


def test_the_engine_core_stays_within_its_budget():
    """README: the engine within 400 lines of code (no blanks, comments, docstrings), the op table's
    files within 250 each."""
    assert _code_lines(PKG / "engine.py") <= 400
    for path in (PKG / "ops").glob("*.py"):
        assert _code_lines(path) <= 250, f"{path.name} has {_code_lines(path)} lines of code"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_functions_stay_readable(module):
    """No file over 700 lines, no function over 80."""
    path = MODULES[module]
    src = path.read_text()
    assert len(src.splitlines()) <= 700, f"{path} has {len(src.splitlines())} lines"
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            assert n <= 80, f"{path}: {node.name} is {n} lines long"
