"""Bound soundness as a property (hypothesis): for any small network, box and margin
spec that hypothesis draws, every bound method contains the outputs of sampled points.

The fixed-seed tests in test_bounds_soundness.py pin a dozen cases; here hypothesis
searches widths, depths, box positions and radii (including degenerate boxes of zero
width in some coordinates and boxes pressed against the [0, 1] edges) and shrinks any
failure to a minimal network, which it prints with the seed to replay it.
"""
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certprune.bounds import margin_spec
from test_bounds_nets import random_cnn, random_mlp
from test_bounds_soundness import _check_all_methods

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _box(gen, shape, eps, pinned):
    """A box x +- eps clipped to [0, 1], with the first ``pinned`` coordinates of zero width."""
    x = torch.rand(2, *shape, generator=gen)
    lower, upper = (x - eps).clamp(0, 1), (x + eps).clamp(0, 1)
    flat_l, flat_u = lower.reshape(2, -1), upper.reshape(2, -1)
    flat_u[:, :pinned] = flat_l[:, :pinned]
    return lower, upper


@SETTINGS
@given(seed=st.integers(0, 2 ** 31 - 1),
       widths=st.lists(st.integers(2, 12), min_size=1, max_size=4),
       eps=st.sampled_from([0.0, 1e-3, 0.05, 0.2, 0.5]),
       pinned=st.integers(0, 4),
       use_spec=st.booleans())
def test_mlp_bounds_contain_samples(seed, widths, eps, pinned, use_spec):
    gen = torch.Generator().manual_seed(seed)
    classes = 3
    model = random_mlp(gen, input_shape=(1, 2, 3), widths=tuple(widths), classes=classes)
    lower, upper = _box(gen, (1, 2, 3), eps, pinned)
    spec = margin_spec(torch.randint(0, classes, (2,), generator=gen), classes) if use_spec else None
    _check_all_methods(model, model, lower, upper, spec, gen, n=500)


@SETTINGS
@given(seed=st.integers(0, 2 ** 31 - 1),
       eps=st.sampled_from([1e-3, 0.03, 0.1, 0.3]),
       use_spec=st.booleans())
def test_cnn_bounds_contain_samples(seed, eps, use_spec):
    gen = torch.Generator().manual_seed(seed)
    classes = 4
    model = random_cnn(gen, input_shape=(2, 9, 9), classes=classes)
    lower, upper = _box(gen, (2, 9, 9), eps, 0)
    spec = margin_spec(torch.randint(0, classes, (2,), generator=gen), classes) if use_spec else None
    _check_all_methods(model, model, lower, upper, spec, gen, n=300)
