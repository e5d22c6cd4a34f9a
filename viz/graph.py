"""The one reading of a graph that viz's drawings, its walk page and its diagnostics share.

Graph(roots) lists the tensors the roots depend on in the engine's own topological order (the
order its backward walk reverses), gives each a node id, names it, and knows each module scope
(the `_scope` that nn.Module's forward records on every op) and the module that ran in it.
Graph.fold(depth) groups the tensors of every module deeper than `depth` into one unit: what a
drawing at that depth shows. record(loss) runs the engine's walk on the side, without touching any
.grad, and returns its steps: the facts (gradients, raw shapes, un-broadcast sums) that viz draws.
"""
import collections
from dataclasses import dataclass, field

import tensorgrad as tg
from tensorgrad import Tensor
from tensorgrad.engine import toposort, vertex      # the engine's own walk: viz reads graphs as backward does
from tensorgrad.nn.modules import SCOPES
from tensorgrad.recorder import record_walk


def collect(roots, grad_only: bool) -> list:
    """Every tensor the roots depend on, in the engine's topological order (inputs first); with
    grad_only the ones a gradient reaches, else the constants (data, numbers) too."""
    order = toposort([vertex(r) for r in roots])
    owner = {}                          # node -> the tensor it made (a root, or some node's input)
    for r in roots:
        owner.setdefault(vertex(r), r)
    for v in order:
        if not isinstance(v, Tensor):
            for x in v.inputs:
                owner.setdefault(vertex(x), x)
    tensors, seen = [], set()
    for v in order:
        if not isinstance(v, Tensor) and not grad_only:
            for x in v.inputs:          # constants: no vertex of their own, drawn before their first use
                if not x.requires_grad and id(x) not in seen:
                    seen.add(id(x))
                    tensors.append(x)
        t = owner.get(v, v)
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            tensors.append(t)
    return tensors


def nearest(roots, limit: int, grad_only: bool) -> set:
    """The ids of the `limit` tensors closest to the roots (breadth first)."""
    kept, queue = set(), collections.deque(roots)
    while queue and len(kept) < limit:
        t = queue.popleft()
        if id(t) not in kept:
            kept.add(id(t))
            queue.extend(x for x in t._prev if x.requires_grad or not grad_only)
    return kept


def names_of(params) -> dict:
    """id -> name from a dict of tensors or from a Module's named_parameters()."""
    if params is None:
        return {}
    items = params.named_parameters() if hasattr(params, "named_parameters") else params.items()
    return {id(t): name for name, t in items}


def record(loss: Tensor, leaves=None):
    """The engine's backward walk from loss (a list of WalkSteps), recorded with tg.grad on the side:
    no .grad changes, the graph stays. None if an earlier backward() freed what the rules need."""
    if leaves is None:
        leaves = [t for t in collect([loss], grad_only=True) if t.is_leaf]
    try:
        seed = None if loss.numel() == 1 else [tg.ones_like(loss)]   # a non-scalar root: as backward(ones)
        with record_walk() as steps:
            tg.grad(loss, leaves, grad_outputs=seed, retain_graph=True, allow_unused=True)
    except RuntimeError as e:
        if "second time" in str(e) or "freed" in str(e):
            return None
        raise
    return steps


# ----------------------------------------------------------------------------
# modules

@dataclass
class Module:
    """A name scope as a drawing labels it: the module class that ran in it and its path in the model."""
    scope: str
    cls: str
    path: str

    @property
    def label(self) -> str:
        """`Block transformer.h.0` (a module's class and path), or a plain name scope's own name."""
        return self.cls if self.path in (self.cls, self.scope) else f"{self.cls} {self.path}"


def module_of(scope: str) -> Module:
    """The class and dotted path (as named_modules() says it: `transformer.h.0`) of the module whose
    forward ran in scope; for a plain tg.name_scope, the scope's own last name."""
    module, root = SCOPES.get(scope), SCOPES.get(scope.partition(".")[0])
    if module is None:
        return Module(scope, scope.rpartition(".")[2], scope)
    path = None
    if root is not None:
        path = next((name for name, m in root.named_modules() if m is module), None)
    if path is None or path == "":
        path = scope.partition(".")[2] or type(module).__name__
    return Module(scope, type(module).__name__, path)


# ----------------------------------------------------------------------------
# folding: what a drawing at a depth shows

@dataclass
class Unit:
    """One vertex of a drawing: a tensor (`tensors` has one), or a folded module (`module` set,
    `tensors` the op results it holds, `params` the leaves only its ops use)."""
    id: str
    tensors: list
    module: Module | None = None
    params: list = field(default_factory=list)
    inputs: list = field(default_factory=list)     # tensors from outside that its ops use
    outputs: list = field(default_factory=list)    # its tensors used outside it (or roots)


class Graph:
    """The tensors the roots depend on (see the module doc), their node ids `t<k>`, names and scopes."""

    def __init__(self, roots, *, grad_only: bool, params=None, max_nodes: int | None = None):
        self.roots = [roots] if isinstance(roots, Tensor) else list(roots)
        self.grad_only, self.max_nodes = grad_only, max_nodes
        self.names = names_of(params)
        self.everything = collect(self.roots, grad_only)
        ids = {id(t) for t in self.everything}
        self.kept = nearest(self.roots, max_nodes, grad_only) & ids if max_nodes is not None else ids
        self.tensors = [t for t in self.everything if id(t) in self.kept]
        self.cut = [t for t in self.everything if id(t) not in self.kept]
        self.ids = {id(t): f"t{i}" for i, t in enumerate(self.tensors)}
        scopes = {t._scope for t in self.tensors if t._scope}
        for s in list(scopes):          # and their enclosing scopes
            parts = s.split(".")
            scopes.update(".".join(parts[:k]) for k in range(1, len(parts)))
        self.scopes = sorted(scopes)
        self._users = collections.defaultdict(list)   # id(x) -> the kept results whose op uses x
        for t in self.tensors:
            for x in t._prev:
                if id(x) in self.kept:
                    self._users[id(x)].append(t)

    def node_id(self, t: Tensor):
        """The drawing's node id of t (None if max_nodes left it out)."""
        return self.ids.get(id(t))

    def name(self, t: Tensor):
        return self.names.get(id(t), t.name)

    def is_root(self, t: Tensor) -> bool:
        return any(t is r for r in self.roots)

    def users(self, x: Tensor) -> list:
        return self._users[id(x)]

    def box_id(self, scope: str) -> str:
        return f"m{self.scopes.index(scope)}"

    def depth(self) -> int:
        """The deepest module nesting in the graph (0: only top-level scopes)."""
        return max((s.count(".") for s in self.scopes), default=-1)

    def folded_at(self, depth: int | None) -> set:
        """The scopes a drawing at `depth` folds: those `depth` levels below the top (the model is 0),
        and shallower ones with no module inside (a Linear, a LayerNorm: as torchview draws them)."""
        if depth is None:
            return set()
        inner = {s.rpartition(".")[0] for s in self.scopes}
        return {s for s in self.scopes if s.count(".") == depth or (s.count(".") < depth and s not in inner)}

    def fold(self, folded) -> list:
        """The units to draw when the scopes in `folded` (a set, or a depth) are each one box, in
        topological order (a box where its first tensor is)."""
        if folded is None or isinstance(folded, int):
            folded = self.folded_at(folded)
        folded = set(folded)

        def box_of(scope):
            parts = scope.split(".") if scope else []
            for k in range(1, len(parts) + 1):
                if ".".join(parts[:k]) in folded:
                    return ".".join(parts[:k])
            return None

        home = {}                        # id(tensor) -> its box's scope (op results, then the leaves)
        for t in self.tensors:
            if not t.is_leaf and not self.is_root(t):
                b = box_of(t._scope)
                if b is not None:
                    home[id(t)] = b
        for t in self.tensors:
            if t.is_leaf:
                boxes = {home.get(id(u)) for u in self.users(t)}
                if len(boxes) == 1 and None not in boxes:   # only one module's ops use it
                    home[id(t)] = boxes.pop()
        return self._units(home)

    def _units(self, home: dict) -> list:
        units, boxes = [], {}
        for t in self.tensors:
            scope = home.get(id(t))
            if scope is None:
                units.append(Unit(self.ids[id(t)], [t]))
                continue
            if scope not in boxes:
                boxes[scope] = Unit(self.box_id(scope), [], module_of(scope))
                units.append(boxes[scope])
            box = boxes[scope]
            (box.params if t.is_leaf else box.tensors).append(t)
        for box in boxes.values():
            inside = {id(t) for t in box.tensors + box.params}
            seen = set()
            for t in box.tensors:
                for x in t._prev:
                    if id(x) not in inside and id(x) not in seen:
                        seen.add(id(x))
                        box.inputs.append(x)
            box.outputs = [t for t in box.tensors
                           if self.is_root(t) or any(id(u) not in inside for u in self.users(t))]
            order = {key: k for k, key in enumerate(self.names)}       # the model's order, as named_parameters()
            box.params.sort(key=lambda p: (not p.requires_grad, order.get(id(p), len(order)), p.name or ""))
        return units

    def unit_of(self, units: list) -> dict:
        """id(tensor) -> the unit that shows it."""
        return {id(t): u for u in units for t in u.tensors + u.params}
