"""Earlier versions' module for the engine; the names it had stay importable from here
(tensorgrad.engine holds the Tensor and the walk, tensorgrad.recorder record_walk)."""
# ruff: noqa: F401  (re-exports)
from .engine import Node, Tensor, apply
from .gradients import grad
from .modes import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .recorder import Send, WalkStep, record_walk
