"""The trained A-C5 overlap claim's composition on the exact R1 field: it holds there, its negative
control (the largest-s singular vectors as features) fails at quick, and its sampler grid and
figure are well formed. The networks themselves are exercised by the runner at quick and full."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_overlap as cmo
from compare.claims import constrained_mixing_r1 as r1
from compare.runner import make_profile
from empirical.data import sample
from empirical.effective_density import local_gaussian_subspace, local_pca
from empirical.metrics import local_dimension_d1, singular_pairs


def _exact_measure(base, surface, seed, with_e2):
    """What ``_measure`` returns, from the exact field: E1 = E2 from the exact Jacobian, E3 the local
    PCA of exact draws of p_σ (σ = 1 reuses σ = 0.3, beyond the quadrature's reach)."""
    n, chains = cmo._sizes(base)
    rng = np.random.default_rng(seed)
    out = {}
    for s_i, sigma in enumerate(cmo._SIGMAS[:3]):
        x, _, _, q_t, _, _, jac = r1.near_points(surface, sigma, n, base.seed + 7 * s_i)
        sv, _, v = singular_pairs(jac)
        draws = sample(r1.SURFACES[surface], chains, rng)
        draws = draws + sigma * rng.standard_normal(draws.shape)
        e3 = local_pca(draws, x, chains // cmo._FRACTION, 3)[0]
        e1 = local_gaussian_subspace(jac, 3)
        out[sigma] = {
            "v": v,
            "d_loc": local_dimension_d1(sv, sigma, 0.5),
            "E1": e1,
            "E2": e1,
            "E1 S negative definite": np.ones(n, bool),
            "exact S negative definite": np.ones(n, bool),
            "E2 relative L² gap": 0.0,
            "E3": e3,
            "Q_T": q_t,
            "exact U": v[..., 1:],
            "exact E3 (p_σ draws)": e3,
        }
    out[1.0] = out[0.3]
    return out


@pytest.fixture
def exact_claim(monkeypatch):
    monkeypatch.setattr(cmo, "_measure", _exact_measure)


def _run(tmp_path, control):
    ctx = Context(profile=make_profile("quick", tmp_path), seed=0, progress=False, control=control)
    return cmo.feature_overlap_trained(ctx)


def test_the_exact_field_passes_every_reading(tmp_path, exact_claim):
    outcome = _run(tmp_path, control=False)
    assert not outcome.failed, outcome.failed
    assert outcome.inconclusive  # trained: unjudged at quick
    assert set(outcome.readings) == {"E1", "E2", "E3"}
    judged = [r for k, r in outcome.measured["readings"].items() if "[reported]" not in k]
    assert judged and all(r["verdict"] == "pass" for r in judged)


def test_the_control_fails_at_quick(tmp_path, exact_claim):
    outcome = _run(tmp_path, control=True)
    assert outcome.verdict == "fail" and len(outcome.failed) == len(outcome.checks)
    assert outcome.readings == {"E1": "fail", "E2": "fail", "E3": "fail"}
    # the largest two singular vectors hold the normal: ov ≈ 1/2, below chance 2/3
    assert max(c.value for c in outcome.checks) < 2 / 3


def test_the_sampler_grid_passes_through_every_level():
    grid = cmo._sampler_grid()
    assert grid[0] == cmo._SIGMA_MAX and np.all(np.diff(grid) < 0)
    for sigma in cmo._SIGMAS:
        assert np.min(np.abs(grid - sigma)) < 1e-12
    assert np.max(grid[1:] / grid[:-1]) < 1.0  # strictly decreasing, at most a 2.5 % step each
    assert np.min(grid[1:] / grid[:-1]) > np.exp(-1.0 / cmo._STEPS_PER_E) - 1e-9


def test_the_figure_draws(tmp_path, exact_claim):
    spec = _run(tmp_path, control=False).figures[0]
    fig = plt.figure()
    spec.draw(fig, spec.data)
    assert spec.name == "overlap_vs_sigma" and len(fig.axes) == 2
    plt.close(fig)
