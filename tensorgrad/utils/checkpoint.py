"""torch.utils.checkpoint: activation checkpointing. tensorgrad keeps the activations (it does not recompute
them in backward), so checkpoint(fn, *args) is fn(*args): the same values and gradients, without the memory
saving."""


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """functions (an nn.Sequential or a list of modules) applied in turn."""
    for f in (functions.children() if hasattr(functions, "children") else functions):
        input = f(input)
    return input
