"""Rows of the op sample table (optable.py's SAMPLES) for nn.functional's newer functions."""
import warnings

from optable import R, K, V, Sample  # noqa: F401


def _quiet(f):
    """f with the deprecation warnings of torch's (and tensorgrad's) old upsample spellings silenced."""
    def run(m, *xs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return f(m, *xs)
    return run


def _F(m):
    return m.nn.functional


S = Sample
SAMPLES_NN = [
    # --- resizing (nn/functional/resize.py): gathers and blends, so the gradient is a scatter-add --------
    S("interpolate", lambda m, x: _F(m).interpolate(x, scale_factor=2), [R(2, 3, 4)], note="nearest-1d"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=(5, 3)), [R(1, 2, 3, 4)], note="nearest-2d-size"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, scale_factor=0.7), [R(1, 2, 6)], note="nearest-down"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, scale_factor=(1.5, 2.3)), [R(1, 2, 3, 4)],
      note="nearest-fractional"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=7, mode="nearest-exact"), [R(1, 2, 5)],
      note="nearest-exact"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=7, mode="linear"), [R(2, 2, 4)], note="linear"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=3, mode="linear", align_corners=True), [R(1, 2, 6)],
      note="linear-align-down"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, scale_factor=2, mode="bilinear"), [R(2, 2, 3, 4)],
      note="bilinear"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=(4, 7), mode="bilinear", align_corners=True),
      [R(1, 3, 3, 5)], note="bilinear-align"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, scale_factor=(1.5, 0.6), mode="bilinear",
                                                    recompute_scale_factor=True), [R(1, 2, 4, 5)],
      note="bilinear-recompute"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=(3, 4, 5), mode="trilinear"), [R(1, 1, 2, 3, 4)],
      note="trilinear"),
    S("interpolate", lambda m, x: _F(m).interpolate(x, size=(2, 3), mode="area"), [R(1, 2, 4, 6)], note="area"),
    S("upsample", _quiet(lambda m, x: _F(m).upsample(x, scale_factor=2, mode="bilinear")), [R(1, 2, 3, 3)]),
    S("upsample_nearest", _quiet(lambda m, x: _F(m).upsample_nearest(x, size=(4, 6))), [R(1, 2, 2, 3)]),
    S("upsample_bilinear", _quiet(lambda m, x: _F(m).upsample_bilinear(x, scale_factor=2)), [R(1, 2, 2, 3)]),

    # --- channel dropout: its masks are random (tests/test_nn_breadth.py); here the deterministic cases ---
    S("dropout1d", lambda m, x: _F(m).dropout1d(x, 0.5, training=False), [R(2, 3, 4)], note="eval"),
    S("dropout1d", lambda m, x: _F(m).dropout1d(x, 0.0), [R(3, 4)], note="p0-unbatched"),
    S("dropout2d", lambda m, x: _F(m).dropout2d(x, 0.5, training=False), [R(2, 3, 2, 2)], note="eval"),
    S("dropout2d", lambda m, x: _F(m).dropout2d(x, 0.0), [R(2, 3, 2, 2)], note="p0"),
    S("dropout3d", lambda m, x: _F(m).dropout3d(x, 0.5, training=False), [R(1, 2, 2, 2, 2)], note="eval"),
    S("dropout3d", lambda m, x: _F(m).dropout3d(x, 0.0), [R(2, 2, 2, 2)], note="p0-unbatched"),

    # --- in-place spellings of the activations: into a tensor in the graph (x * 1), as relu_ -------------
    S("leaky_relu_", lambda m, x: _F(m).leaky_relu_(x * 1, 0.2), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("elu_", lambda m, x: _F(m).elu_(x * 1, 0.7), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("celu_", lambda m, x: _F(m).celu_(x * 1, 1.5), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("selu_", lambda m, x: _F(m).selu_(x * 1), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("threshold_", lambda m, x: _F(m).threshold_(x * 1, 0.1, -3.0), [V([-1.0, 0.05, 0.5, 2.0])]),
]
