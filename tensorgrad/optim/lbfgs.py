"""torch.optim.LBFGS: limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4
and 3.5/3.6 for the strong-Wolfe line search), on all the parameters as one flat vector.

step(closure) re-evaluates the loss through closure() (which zeroes the gradients, computes the loss
and calls backward()) as often as the iterations and the line search need. The state holds, as
torch's, the last direction d and step t, the curvature pairs (old_dirs y, old_stps s, ro = 1 / y.s),
the initial Hessian scale H_diag, the previous flat gradient and loss, and the counters.
"""
import copy

import numpy as np

from ..inplace import bump
from ..modes import enable_grad, no_grad
from .optimizer import Optimizer


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    bounds (by default the interval); the bounds' midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = np.sqrt(d2_square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d meeting the strong Wolfe conditions (sufficient decrease c1, curvature c2):
    bracket a step interval by extrapolation, then zoom in by cubic interpolation.
    evaluate(t) -> (loss, flat gradient) at x + t d. Returns (loss, gradient, t, evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals, ls_iter = 1, 0
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    bracket = bracket_gtd = None
    while ls_iter < max_ls:                                   # extrapolate until the minimum is bracketed
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], \
                [gtd_prev, gtd_new]
            break
        t_next = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insufficient = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:                      # zoom
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep t at least 10% of the interval away from its ends (or move it there, when stuck)
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = t, f_new, g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = t, f_new, g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


def _remember(y, s, old_dirs, old_stps, ro, H_diag, history_size: int):
    """Keep the curvature pair (y, s) if y.s > 1e-10 (dropping the oldest past history_size); the
    new initial Hessian scale y.s / y.y (or the old one)."""
    ys = y.dot(s)
    if ys <= 1e-10:
        return H_diag
    if len(old_dirs) == history_size:
        old_dirs.pop(0)
        old_stps.pop(0)
        ro.pop(0)
    old_dirs.append(y)
    old_stps.append(s)
    ro.append(1.0 / ys)
    return ys / y.dot(y)


def _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al):
    """d = -H g by the two-loop recursion (Nocedal & Wright, algorithm 7.4); al is torch's state buffer."""
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q += -al[i] * old_dirs[i]
    d = r = q * H_diag
    for i in range(len(old_dirs)):
        be_i = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return d


class LBFGS(Optimizer):
    """torch.optim.LBFGS: at most max_iter iterations (max_eval loss evaluations) per step(closure);
    the direction from the last history_size curvature pairs (two-loop recursion), a fixed step lr
    (the first one scaled down to min(1, 1 / |g|_1) * lr) or a strong-Wolfe line search
    (line_search_fn='strong_wolfe'). One parameter group only, as torch."""

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if getattr(self, "_params", None) is not None:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p.numel(), p.dtype) if p.grad is None else np.asarray(p.grad).ravel()
                               for p in self._params])

    def _add(self, t: float, update: np.ndarray) -> None:
        """p += t * update, the update a flat vector over all the parameters."""
        offset = 0
        for p in self._params:
            n = p.numel()
            data = p.numpy()
            data += t * update[offset:offset + n].reshape(p.shape)
            bump(p)
            offset += n

    def _set(self, values: list) -> None:
        for p, v in zip(self._params, values):
            p.numpy()[...] = v
            bump(p)

    def step(self, closure=None):
        """Up to max_iter L-BFGS iterations; closure() must zero the gradients, compute the loss and call
        backward(). Returns the loss closure gave at the start."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the loss (zero_grad, loss, backward)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        def loss_of():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = loss_of()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:             # already optimal
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        with no_grad():
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:                              # steepest descent first
                    d, old_dirs, old_stps, ro, H_diag = -flat_grad, [], [], [], 1
                else:
                    H_diag = _remember(flat_grad - prev_flat_grad, d * t, old_dirs, old_stps, ro, H_diag,
                                       history_size)
                    al = state.setdefault("al", [None] * history_size)
                    d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
                gtd = flat_grad.dot(d)
                if gtd > -tolerance_change:                           # not a descent direction
                    break
                loss, flat_grad, t, ls_func_evals, opt_cond = self._move(
                    loss_of, d, t, loss, flat_grad, gtd, group, max_eval - current_evals, n_iter != max_iter)
                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals
                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                    break                                             # no progress
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def _move(self, loss_of, d, t, loss, flat_grad, gtd, group, evals_left: int, evaluate_after: bool):
        """Step along d: by the strong-Wolfe line search, or by t (then re-evaluating the loss unless
        this is the last iteration). Returns (loss, flat gradient, t, evaluations, optimal?)."""
        if group["line_search_fn"] is not None:
            if group["line_search_fn"] != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = [p.numpy().copy() for p in self._params]

            def evaluate(step):
                self._add(step, d)
                value = float(loss_of())
                grad = self._flat_grad()
                self._set(x_init)
                return value, grad

            loss, flat_grad, t, evals = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd, max_ls=evals_left)
            self._add(t, d)
            return loss, flat_grad, t, evals, np.abs(flat_grad).max() <= group["tolerance_grad"]
        self._add(t, d)
        if not evaluate_after:
            return loss, flat_grad, t, 0, False
        loss = float(loss_of())
        flat_grad = self._flat_grad()
        return loss, flat_grad, t, 1, np.abs(flat_grad).max() <= group["tolerance_grad"]

    def load_state_dict(self, state_dict: dict) -> None:
        """The state as saved (a copy): vectors over all the parameters, not one per parameter."""
        saved = state_dict["param_groups"]
        if len(saved) != 1 or len(saved[0]["params"]) != len(self._params):
            raise ValueError("loaded state dict does not match this LBFGS's one group of parameters")
        self.state.clear()
        for i, entries in state_dict["state"].items():
            self.state[self._params[saved[0]["params"].index(i)]] = {
                k: np.array(v) if hasattr(v, "shape") and not isinstance(v, (list, float, int)) else copy.deepcopy(v)
                for k, v in entries.items()}
        self.param_groups = [{**saved[0], "params": self._params}]
