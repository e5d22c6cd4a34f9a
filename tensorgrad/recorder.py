"""record_walk(): watch a backward walk step by step (viz.walk replays what it records)."""
from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np

from .engine import Node, Tensor
from .modes import _mode


class WalkStep(NamedTuple):
    """One vertex of a backward walk, as record_walk() sees it."""
    tensor: Tensor         # the tensor visited (a leaf, or the result of the op whose rule ran)
    op: str                # its op's name; "" for a leaf
    grad: np.ndarray       # its complete gradient
    sends: tuple           # a Send per input that received a gradient


class Send(NamedTuple):
    index: int             # which input of the op
    input: Tensor
    raw_shape: tuple       # the shape the rule returned
    grad: np.ndarray       # after un-broadcasting: the input's shape
    summed: bool           # the engine summed a broadcast gradient down
    accumulated: bool      # the input already had a gradient from an earlier step


def _array(g):
    return g._data if isinstance(g, Tensor) else g


class _Recorder:
    """The engine's observer: told of each leaf, each gradient sent and each node, in walk order."""

    def __init__(self):
        self.steps, self.sends, self.owners = [], [], {}

    def start(self, roots):
        """Node -> the tensor that is its result (a root, or some node's input)."""
        stack = []
        for r in roots:
            if r._node is not None:
                self.owners[r._node] = r
                stack.append(r._node)
        seen = set()
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            for n, x in zip(m.nexts, m.inputs):
                if type(n) is Node:
                    self.owners.setdefault(n, x)
                    stack.append(n)

    def leaf(self, t, g):
        self.steps.append(WalkStep(t, "", _array(g), ()))

    def send(self, node, i, raw, gx, accumulated):
        self.sends.append(Send(i, node.inputs[i], raw, _array(gx), raw != node.arrays[i].shape, accumulated))

    def node(self, node, g):
        owner = self.owners.get(node)        # (not `or`: a tensor has no truth value)
        t = Tensor._handle(node.out, node) if owner is None else owner
        self.steps.append(WalkStep(t, node.fn.name, _array(g), tuple(self.sends)))
        self.sends = []


@contextlib.contextmanager
def record_walk():
    """`with record_walk() as steps: loss.backward()`: the walk appends a WalkStep per visited
    tensor, in the engine's own order (viz.walk replays it)."""
    saved, _mode.observer = _mode.observer, _Recorder()
    try:
        yield _mode.observer.steps
    finally:
        _mode.observer = saved
