"""Shape ops: views of the same storage where NumPy gives one. Each adjoint puts g back in the
input's shape (expand's is the engine's un-broadcasting sum)."""
import numpy as np

from .op import Op


def _cat_backward(g, out, *xs, axis):
    """g cut back into the inputs' pieces along axis (views of g)."""
    lead, grads, end = (slice(None),) * axis, [], 0
    for x in xs:
        start, end = end, end + x.shape[axis]
        grads.append(g[lead + (slice(start, end),)])
    return tuple(grads)



# shapes: the adjoint of expanding is summing, done by the engine
def _expand(x, shape):
    """np.broadcast_to (a read-only view), or, where no dim grows (only leading 1s are added), a
    writeable reshape of x: torch writes into such an expand() as into x."""
    if tuple(shape[len(shape) - np.ndim(x):]) == np.shape(x) and all(s == 1 for s in shape[:len(shape) - np.ndim(x)]):
        return np.reshape(x, shape)
    return np.broadcast_to(x, shape)


expand = Op("expand", _expand, lambda g, out, x, shape: g, "sum (un-broadcast) g", saves="", view=True)
reshape = Op("reshape", lambda x, shape: x.reshape(shape), lambda g, out, x, shape: g.reshape(x.shape),
             "reshape g back", saves="", view=True)
permute = Op("permute", lambda x, axes: x.transpose(axes),
             lambda g, out, x, axes: permute(g, axes=tuple(sorted(range(len(axes)), key=axes.__getitem__))),
             "inverse permute of g",
             saves="", view=True)
def _cat(*xs, axis):
    """The inputs joined along axis, laid out row-major as torch's cat (NumPy keeps transposed inputs' order,
    and then a later flatten() would copy where torch's is a view)."""
    out = np.concatenate(xs, axis)
    return out if out.flags.c_contiguous else np.ascontiguousarray(out)


cat = Op("cat", _cat, _cat_backward, "split g", saves="")

