"""Op: one primitive of the table, its forward on arrays and its backward rule side by side.

A forward takes NumPy arrays (and keyword attributes such as axis) and returns an array.
A backward takes (g, out, *inputs, **attrs) and returns one gradient per input, None
where there is none. Rules never un-broadcast: the engine sums a gradient down to its
input's shape (engine.fit), which is the adjoint of broadcasting.

Calling an op on plain arrays just runs its forward; on tensors it is recorded. So the
same rule runs on arrays in a normal backward and on tensors under create_graph=True,
where its own ops are recorded and can be differentiated again.
"""

from ..engine import Tensor, apply
from ..modes import NUMPY_ERRORS, QUIET_NUMPY

OPS: dict = {}     # name -> Op: every op, built in or added by a user
NO_ATTRS: dict = {}  # the attributes of an op called without any (apply never changes them)


class Op:
    """A primitive: a name, a forward on arrays, a backward rule (None: not differentiable), and
    `adjoint`, the rule in a few words, which drawings and docs/ops.md show.

    saves: what the rule reads, so what an in-place write may not change before backward, and
    whether backward frees the node: "inputs", "out", "all" (the default) or "" (add's rule
    reads nothing: a second backward through it works, as in torch).
    returns_saved=True: the forward returns (out, saved) and the rule gets saved= (values the
    forward computed anyway, such as batch norm's 1/std).
    view=True: the result may share the input's storage (reshape, permute, basic slicing).
    builtin: one of tensorgrad's own ops (set for the whole table once it is built); a user's
    op may not take a built-in name, and an integer result of a built-in op carries no gradient.
    into(buffer, g, **attrs): adds the rule's gradient for input 0 into buffer, an array of that
    input's shape, in place (getitem's: g into the slice); the engine uses it when the input already
    has a gradient of its own making, instead of the rule's fresh zeros and a full-size add. For an op
    whose rule reads nothing (saves="": it has no values to check) and returns a fresh array for input
    0, which the engine then adds into in place.
    needs=True: the rule takes needs=, a bool per input: whether that input needs a gradient (torch's
    ctx.needs_input_grad); it may return None for the others rather than compute them (linear's g @ w
    for an input that is data).
    reads: for each input, the inputs whose values its gradient reads (mul: x's reads y, y's reads x); an
    in-place write before backward is refused only where a gradient that is needed reads it, as torch,
    which saves only those (None: every input counts)."""

    def __init__(self, name: str, forward, backward=None, adjoint: str = "", saves: str = "all",
                 returns_saved: bool = False, view: bool = False, into=None, reads=None, needs: bool = False):
        if name in OPS and OPS[name].builtin:
            raise ValueError(f"op '{name}' is built into tensorgrad; give the new op another name")
        if saves not in ("", "inputs", "out", "all"):
            raise ValueError(f"op '{name}': saves must be '', 'inputs', 'out' or 'all', got {saves!r}")
        self.name, self.forward, self.backward, self.adjoint = name, forward, backward, adjoint
        self.saves, self.returns_saved, self.view = saves if backward is not None else "", returns_saved, view
        if into is not None and self.saves:
            raise ValueError(f"op '{name}': into= is for an op whose rule reads nothing (saves=''), as getitem's")
        self.into = into
        self.reads, self.needs = reads, needs
        self.builtin = False
        OPS[name] = self

    def __call__(self, *args, **attrs):
        for a in args:
            if isinstance(a, Tensor):
                return apply(self, args, attrs)
        if NUMPY_ERRORS.get() is QUIET_NUMPY:        # plain arrays: no tape; inside another op's forward or
            out = self.forward(*args, **attrs)       # rule NumPy is quiet already, else as apply makes it
        else:
            quiet = NUMPY_ERRORS.set(QUIET_NUMPY)
            try:
                out = self.forward(*args, **attrs)
            finally:
                NUMPY_ERRORS.reset(quiet)
        return out[0] if self.returns_saved else out

    def __get__(self, obj, objtype=None):
        """An op stored on a class is a method there: Tensor.exp = ops.exp makes x.exp() work."""
        return self if obj is None else _Bound(self, obj)

    def __repr__(self):
        return f"Op({self.name})"


class _Bound:
    """x.exp: the op with x as its first input."""
    __slots__ = ("op", "x")

    def __init__(self, op, x):
        self.op, self.x = op, x

    def __call__(self, *args, **attrs):
        return apply(self.op, (self.x, *args), attrs)


def op(name: str, backward=None, adjoint: str = "", saves: str = "all", needs: bool = False):
    """Decorator that adds a new op to the table from outside the package:

        @tg.op("softplus", backward=lambda g, out, x: g * tg.sigmoid(x), adjoint="g * sigmoid(x)")
        def softplus(x):
            return np.logaddexp(0, x)

    Written with tensorgrad functions, the rule also works under create_graph."""
    return lambda forward: Op(name, forward, backward, adjoint, saves=saves, needs=needs)
