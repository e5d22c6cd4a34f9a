"""More of torch.optim's update rules: NAdam, RAdam, Adamax, Adadelta and ASGD.

As optimizer.py's, each is torch's single-tensor implementation in the same order of floating-point
operations (a float64 run follows torch step for step), with torch's state names and order. Scalar
state (step, NAdam's mu_product, ASGD's eta and mu) is a 0-d float32 tensor, as torch keeps it, and
is rounded to float32 where torch's is.
"""
import numpy as np

from ..functions import tensor, zeros_like
from ..inplace import bump
from .optimizer import Optimizer, _check, _check_betas, _count_step, _lerp_


def _decay(param, grad, group, decoupled: bool = False):
    """weight_decay as an L2 term in the gradient, or decoupled (p *= 1 - lr * wd); the new grad."""
    wd = group["weight_decay"]
    if wd != 0 and decoupled:
        param *= 1 - group["lr"] * wd
    elif wd != 0:
        grad = grad + wd * param
    return grad


def _moments(state, grad, beta1, beta2):
    """Adam's running means: m = lerp(m, g, 1 - beta1), v = beta2 v + (1 - beta2) g^2."""
    exp_avg, exp_avg_sq = state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()
    _lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    return exp_avg, exp_avg_sq


class NAdam(Optimizer):
    """torch.optim.NAdam (Dozat 2016): Adam with Nesterov momentum, the momentum warmed up by
    mu_t = beta1 (1 - 0.96^(t psi) / 2), psi = momentum_decay; decoupled_weight_decay as AdamW."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check_betas(betas)
        _check("weight_decay value", weight_decay)
        _check("momentum_decay value", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"], state["mu_product"] = tensor(0.0), tensor(1.0)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(param), zeros_like(param)
        step = _count_step(state)
        lr, (beta1, beta2), psi = group["lr"], group["betas"], group["momentum_decay"]
        bias_correction2 = 1 - beta2 ** step
        grad = _decay(param, grad, group, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = state["mu_product"].numpy()
        mu_product *= mu                                       # in float32, as torch's
        bump(state["mu_product"])
        exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
        denom = np.sqrt(exp_avg_sq / bias_correction2)
        mu_product_next = float(mu_product) * mu_next
        denom += group["eps"]
        param += (-lr * (1.0 - mu) / (1.0 - float(mu_product))) * grad / denom
        param += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom


class RAdam(Optimizer):
    """torch.optim.RAdam (Liu et al. 2019): Adam whose adaptive step is rectified by
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)) once the variance
    is tractable (rho_t > 5); before that, SGD with momentum on the bias-corrected mean."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check_betas(betas)
        _check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = tensor(0.0)
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(param), zeros_like(param)
        step = _count_step(state)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        grad = _decay(param, grad, group, group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        corrected = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            adaptive = (bias_correction2 ** 0.5) / (np.sqrt(exp_avg_sq) + group["eps"])
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr


class Adamax(Optimizer):
    """torch.optim.Adamax (Kingma & Ba 2014, section 7.1): Adam with the infinity norm,
    u = max(beta2 u, |g| + eps); p -= lr / (1 - beta1^t) * m / u."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 *, maximize: bool = False):
        _check("learning rate", lr)
        _check("epsilon value", eps)
        _check_betas(betas)
        _check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = tensor(0.0)
            state["exp_avg"], state["exp_inf"] = zeros_like(param), zeros_like(param)
        step = _count_step(state)
        (beta1, beta2) = group["betas"]
        grad = _decay(param, grad, group)
        exp_avg, exp_inf = state["exp_avg"].numpy(), state["exp_inf"].numpy()
        _lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + group["eps"], out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** step)
        param += -clr * exp_avg / exp_inf


class Adadelta(Optimizer):
    """torch.optim.Adadelta (Zeiler 2012): v = rho v + (1 - rho) g^2,
    delta = sqrt(u + eps) / sqrt(v + eps) * g, u = rho u + (1 - rho) delta^2, p -= lr * delta."""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 *, maximize: bool = False):
        _check("learning rate", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check("epsilon value", eps)
        _check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = tensor(0.0)
            state["square_avg"], state["acc_delta"] = zeros_like(param), zeros_like(param)
        _count_step(state)
        rho, eps = group["rho"], group["eps"]
        grad = _decay(param, grad, group)
        square_avg, acc_delta = state["square_avg"].numpy(), state["acc_delta"].numpy()
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(acc_delta + eps)
        delta /= std
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param += -group["lr"] * delta


class ASGD(Optimizer):
    """torch.optim.ASGD (Polyak & Juditsky 1992): SGD with a decaying step
    eta_t = lr / (1 + lambd lr t)^alpha, keeping in state['ax'] the average of the iterates from
    step t0 on (mu_t = 1 / max(1, t - t0))."""

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, *, maximize: bool = False):
        _check("learning rate", lr)
        _check("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"], state["eta"], state["mu"] = tensor(0.0), tensor(float(group["lr"])), tensor(1.0)
            state["ax"] = zeros_like(param)
        step = _count_step(state)
        lr, lambd = group["lr"], group["lambd"]
        grad = _decay(param, grad, group)
        eta, mu = float(state["eta"].item()), float(state["mu"].item())
        param *= 1 - lambd * eta
        param += -eta * grad
        ax = state["ax"].numpy()
        if mu != 1:
            ax += (param - ax) * np.float32(mu)
        else:
            ax[...] = param
        state["eta"].numpy()[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])    # rounded to float32
        state["mu"].numpy()[...] = 1 / max(1, step - group["t0"])
        bump(state["eta"])
        bump(state["mu"])
