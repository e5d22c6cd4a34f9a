"""Shape ops: views of the same storage where NumPy gives one. Each adjoint puts g back in the
input's shape (expand's is the engine's un-broadcasting sum)."""
import numpy as np

from .op import Op


def _cat_backward(g, out, *xs, axis):
    ends = np.cumsum([x.shape[axis] for x in xs])
    return tuple(g[(slice(None),) * axis + (slice(e - x.shape[axis], e),)] for x, e in zip(xs, ends))



# shapes: the adjoint of expanding is summing, done by the engine
expand = Op("expand", lambda x, shape: np.broadcast_to(x, shape), lambda g, out, x, shape: g, "sum (un-broadcast) g",
             saves="", view=True)
reshape = Op("reshape", lambda x, shape: x.reshape(shape), lambda g, out, x, shape: g.reshape(x.shape),
             "reshape g back", saves="", view=True)
permute = Op("permute", lambda x, axes: x.transpose(axes),
             lambda g, out, x, axes: permute(g, axes=tuple(sorted(range(len(axes)), key=axes.__getitem__))),
             "inverse permute of g",
             saves="", view=True)
cat = Op("cat", lambda *xs, axis: np.concatenate(xs, axis), _cat_backward, "split g", saves="")

