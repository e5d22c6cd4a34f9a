"""torch.optim's optimizers: param groups, per-parameter state, state_dict, and the update rules.

Each rule is torch's single-tensor ("for-loop") implementation, in the same order of floating-point
operations, so that a float64 run follows torch.optim step for step. The rules read the gradient
as an array (np.asarray(p.grad)) and write the parameter in place (into p.numpy(), its memory),
as torch's `param.add_(...)` under no_grad: whoever holds the parameter sees the new values.
"""
import collections

import numpy as np

from ..functions import tensor, zeros_like
from ..engine import Tensor
from ..inplace import bump
from ..modes import enable_grad


def _lerp_(a: np.ndarray, b: np.ndarray, w: float) -> None:
    """a += w * (b - a) in place, as torch's CPU lerp_ (which switches form at w = 0.5 for accuracy)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)


def _check(name: str, value, low: float = 0.0) -> None:
    if not low <= value:
        raise ValueError(f"Invalid {name}: {value}")


def _check_betas(betas) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def zero_grads(params, set_to_none: bool = True) -> None:
    """Forget each tensor's gradient (None, torch's default), or zero it in place."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.detach_().zero_()


class Optimizer:
    """Holds param groups (each a dict: 'params' and the options) and per-parameter state; step()
    updates every parameter that has a .grad (the others are skipped)."""

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self.defaults = defaults
        self.state = collections.defaultdict(dict)    # parameter -> {name: Tensor}, as torch's
        self.param_groups: list = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group: {'params': [...], option: value, ...}; missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = {**self.defaults, **param_group, "params": params}
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    @property
    def lr(self) -> float:
        """tensorgrad's shorthand: the first group's lr; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (None, torch's default), or zero them in place."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter with a .grad; closure (optional) recomputes the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = np.asarray(p.grad)
                if group.get("maximize"):
                    grad = -grad
                state = self.state.get(p, {})
                self._update(p.numpy(), grad, state, group)
                if state:
                    self.state[p] = state
                bump(p)          # a version counter write: a graph that used the old values refuses to backward
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # --- saving and loading --------------------------------------------------
    def state_dict(self) -> dict:
        """torch's layout: {'state': {index: {name: tensor}}, 'param_groups': [{options, 'params': [index]}]},
        parameters numbered in group order. The state's tensors are the optimizer's own (not copies)."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Take the state and the group options of state_dict (a copy, cast to each parameter's dtype);
        the parameters stay this optimizer's. The groups must match in number and sizes."""
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        params = {i: p for s, g in zip(saved, self.param_groups) for i, p in zip(s["params"], g["params"])}
        state = collections.defaultdict(dict)
        for i, entries in state_dict["state"].items():
            if i not in params:
                raise KeyError(f"{type(self).__name__}.load_state_dict: state for parameter {i}, "
                               "which no group holds")
            p = params[i]
            state[p] = {k: _restored(k, v, p, i) for k, v in entries.items()}
        self.state = state
        self.param_groups = [{**s, "params": g["params"]} for s, g in zip(saved, self.param_groups)]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _restored(key: str, value, p: Tensor, i: int) -> Tensor:
    """A state entry loaded for parameter p: a new tensor, of p's dtype and shape (the step count
    keeps its own dtype)."""
    arr = np.asarray(value)                # tensor() below copies it
    if key == "step":
        return tensor(arr)
    if arr.shape != p.shape:
        raise ValueError(f"load_state_dict: state '{key}' of parameter {i} has shape {arr.shape}, "
                         f"but the parameter has shape {p.shape}")
    return tensor(arr.astype(p.dtype, copy=False))


def _count_step(state: dict) -> float:
    """state['step'] += 1 (a 0-d float tensor, as torch's), returned as a number."""
    step = state["step"]
    step.numpy()[...] += 1
    bump(step)
    return float(step.item())


# ----------------------------------------------------------------------------
# the update rules

class SGD(Optimizer):
    """torch.optim.SGD: g = grad + weight_decay * p; with momentum, buf = momentum * buf + (1 - dampening) * g
    (buf = g on the first step) and g = buf (or g + momentum * buf, nesterov); then p -= lr * g."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("momentum value", momentum)
        _check("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, param, grad, state, group):
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = tensor(grad)              # a copy
                buf = state["momentum_buffer"].numpy()
            else:
                buf = state["momentum_buffer"].numpy()
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= group["lr"] * grad


class Adam(Optimizer):
    """torch.optim.Adam (Kingma & Ba 2014): m, v the running means of g and g^2, bias-corrected;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). weight_decay is an L2 term in g,
    or, with decoupled_weight_decay=True (AdamW), p *= 1 - lr * weight_decay. amsgrad: the running
    max of v in the denominator (Reddi et al. 2018)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, maximize: bool = False, decoupled_weight_decay: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check_betas(betas)
        _check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = tensor(0.0)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(param), zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        step = _count_step(state)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * wd
        elif wd != 0:
            grad = grad + wd * param
        exp_avg, exp_avg_sq = state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"].numpy()
            np.maximum(v, exp_avg_sq, out=v)
        else:
            v = exp_avg_sq
        denom = np.sqrt(v) / bias_correction2_sqrt + group["eps"]
        param += -step_size * exp_avg / denom


class AdamW(Adam):
    """torch.optim.AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, 0.01 by default."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """torch.optim.RMSprop (Hinton's lecture 6e): v = alpha * v + (1 - alpha) * g^2;
    p -= lr * g / (sqrt(v) + eps); centered subtracts the squared running mean of g from v;
    momentum keeps a buffer of the steps."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check("momentum value", momentum)
        _check("weight_decay value", weight_decay)
        _check("alpha value", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = tensor(0.0)
            state["square_avg"] = zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = zeros_like(param)
        _count_step(state)
        alpha = group["alpha"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        square_avg = state["square_avg"].numpy()
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"].numpy()
            _lerp_(grad_avg, grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"].numpy()
            buf *= group["momentum"]
            buf += grad / avg
            param -= group["lr"] * buf
        else:
            param += -group["lr"] * grad / avg


class Adagrad(Optimizer):
    """torch.optim.Adagrad (Duchi et al. 2011): s += g^2; p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).
    The state exists from the start, s = initial_accumulator_value: the constructor's, for every
    group, as torch's (a group's own initial_accumulator_value does not change it)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("lr_decay value", lr_decay)
        _check("weight_decay value", weight_decay)
        _check("initial_accumulator_value value", initial_accumulator_value)
        _check("epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        self._initial_value = initial_accumulator_value
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._fresh(p.numpy())

    def _fresh(self, param: np.ndarray) -> dict:
        return {"step": tensor(0.0), "sum": tensor(np.full(param.shape, self._initial_value, param.dtype))}

    def _update(self, param, grad, state, group):
        if not state:                         # a group added after the start
            state.update(self._fresh(param))
        step = _count_step(state)
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state_sum = state["sum"].numpy()
        state_sum += grad * grad
        param += -clr * grad / (np.sqrt(state_sum) + group["eps"])
