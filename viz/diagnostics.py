"""The training diagnostics of makemore part 3 ("Activations & Gradients, BatchNorm"), for any model:

- activation_histograms: the distribution of every tanh output, with the fraction saturated
  (|t| > 0.97, where tanh's gradient 1 - t^2 is below 0.06 and the neuron barely learns);
- gradient_histograms: the distribution of the gradient arriving at each tanh output;
- weight_gradient_histograms: the gradient of each weight matrix, with its grad:data ratio
  (std of the gradient / std of the weights);
- update_ratio_plot: log10 of the update:data ratio, std(update) / std(weights), of each weight
  matrix over training, against the lecture's guide line at 1e-3 (-3 on the plot).

From a notebook:

    acts = diagnostics.tanh_outputs(loss)        # before loss.backward(): finds and retains them
    loss.backward()
    diagnostics.activation_histograms(acts, "act.png")

From the command line: `tensorgrad-makemore train --diagnostics` writes all four to out/diagnostics.
"""
from pathlib import Path

import numpy as np

from viz.graph import collect as _collect

SATURATED = 0.97   # the lecture's threshold: |tanh| above it is "saturated"


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def tanh_outputs(loss) -> list:
    """(name, tensor) for every tanh result in loss's graph, in forward order, each set to keep its
    .grad (retain_grad), as the lecture's `layer.out.retain_grad()`. Call before loss.backward()."""
    found = []
    for t in _collect([loss], grad_only=False):
        if getattr(t, "_op", None) == "tanh":
            t.retain_grad()
            name = getattr(t, "_scope", None) or t.name or "tanh"
            found.append((f"{len(found)}: {name}", t))
    return found


def _hist(ax, values: np.ndarray, label: str) -> None:
    hy, hx = np.histogram(values.ravel(), bins=100, density=True)
    ax.plot((hx[:-1] + hx[1:]) / 2, hy, label=label)


def activation_histograms(acts: list, path) -> list[dict]:
    """Histograms of the tanh outputs; returns per layer mean, std and the saturated fraction."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4))
    stats = []
    for name, t in acts:
        a = np.asarray(t.numpy(), dtype=np.float64)
        s = dict(layer=name, mean=a.mean(), std=a.std(), saturated=float((np.abs(a) > SATURATED).mean()))
        stats.append(s)
        _hist(ax, a, f"{name}: mean {s['mean']:+.2f}, std {s['std']:.2f}, saturated {100 * s['saturated']:.1f}%")
    ax.set_title("activation distribution (tanh outputs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return stats


def gradient_histograms(acts: list, path) -> list[dict]:
    """Histograms of the gradients at the tanh outputs (after loss.backward())."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4))
    stats = []
    for name, t in acts:
        if t.grad is None:
            continue
        g = np.asarray(t.grad, dtype=np.float64)
        s = dict(layer=name, mean=g.mean(), std=g.std())
        stats.append(s)
        _hist(ax, g, f"{name}: mean {s['mean']:+.2e}, std {s['std']:.2e}")
    ax.set_title("gradient distribution (at the tanh outputs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return stats


def _weights(model) -> list:
    """(name, parameter) for the weight matrices (2-D parameters), as the lecture plots."""
    return [(n, p) for n, p in model.named_parameters() if p.ndim == 2]


def weight_gradient_histograms(model, path) -> list[dict]:
    """Histograms of each weight matrix's gradient; returns its grad:data ratio."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4))
    stats = []
    for name, p in _weights(model):
        if p.grad is None:
            continue
        g, w = np.asarray(p.grad, dtype=np.float64), np.asarray(p.numpy(), dtype=np.float64)
        s = dict(weight=name, shape=tuple(p.shape), mean=g.mean(), std=g.std(),
                 ratio=g.std() / w.std() if w.std() > 0 else float("nan"))
        stats.append(s)
        _hist(ax, g, f"{name} {tuple(p.shape)}: grad:data {s['ratio']:.2e}")
    ax.set_title("weight gradient distribution")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return stats


class UpdateRecorder:
    """Records log10(std(update) / std(weights)) of every weight matrix at every optimizer step:
    call before() just before optimizer.step() and after() just after."""

    def __init__(self, model):
        self.names = [n for n, _ in _weights(model)]
        self.params = [p for _, p in _weights(model)]
        self.ratios = []    # one row per step, one column per weight matrix
        self._before = None

    def before(self) -> None:
        self._before = [p.numpy().astype(np.float64) for p in self.params]   # astype copies

    def after(self) -> None:
        row = []
        for old, p in zip(self._before, self.params):
            update = np.asarray(p.numpy(), dtype=np.float64) - old
            scale = old.std()
            row.append(np.log10(update.std() / scale) if scale > 0 and update.std() > 0 else np.nan)
        self.ratios.append(row)


def update_ratio_plot(recorder: UpdateRecorder, path) -> None:
    """The update:data ratios over training, with the 1e-3 guide line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(12, 4))
    r = np.asarray(recorder.ratios, dtype=np.float64).reshape(-1, len(recorder.names))
    for i, name in enumerate(recorder.names):
        ax.plot(r[:, i], lw=1, label=name)
    ax.plot([0, max(1, len(r))], [-3, -3], "k", label="1e-3 (the lecture's guide)")
    ax.set_xlabel("step")
    ax.set_ylabel("log10 update:data")
    ax.set_title("update:data ratio of the weight matrices")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_all(model, loss_fn, recorder: UpdateRecorder | None, out_dir, log=print) -> dict:
    """All four plots for one batch (loss_fn() builds its loss in training mode) into out_dir,
    plus a text summary; returns the statistics."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    was_training = model.training
    model.train()
    loss = loss_fn()
    acts = tanh_outputs(loss)
    for p in model.parameters():
        p.grad = None
    loss.backward()
    model.train(was_training)
    stats = dict(activations=activation_histograms(acts, out_dir / "activations.png"),
                 gradients=gradient_histograms(acts, out_dir / "gradients.png"),
                 weights=weight_gradient_histograms(model, out_dir / "weight_gradients.png"))
    if recorder is not None and recorder.ratios:
        update_ratio_plot(recorder, out_dir / "update_ratios.png")
        last = np.nanmean(np.asarray(recorder.ratios[-100:], dtype=np.float64), axis=0)
        stats["updates"] = [dict(weight=n, log10_ratio=float(v)) for n, v in zip(recorder.names, last)]
    for p in model.parameters():
        p.grad = None
    lines = [f"layer {s['layer']}: mean {s['mean']:+.2f}, std {s['std']:.2f}, saturated {100 * s['saturated']:.2f}%"
             for s in stats["activations"]]
    lines += [f"grad at {s['layer']}: mean {s['mean']:+e}, std {s['std']:e}" for s in stats["gradients"]]
    lines += [f"weight {s['weight']} {s['shape']}: grad std {s['std']:e}, grad:data ratio {s['ratio']:e}"
              for s in stats["weights"]]
    lines += [f"update {s['weight']}: log10 update:data {s['log10_ratio']:+.2f} (last 100 steps; guide -3)"
              for s in stats.get("updates", [])]
    (out_dir / "diagnostics.txt").write_text("\n".join(lines) + "\n")
    log(f"diagnostics: {out_dir} (activations, gradients, weight_gradients, update_ratios .png; diagnostics.txt)")
    return stats
