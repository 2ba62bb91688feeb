"""The chain claim of paper000 T-A4 with a trained network: the network chains against the NumPy
sampler on the same noise (so chain i sees the exact claim's noise), the network's OU-time Jacobian
against central differences of its OU score, the planted x₀-unit slip, the shared sensitivity
table, and the claim's negative control failing at quick."""

from __future__ import annotations

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_chains as cmc
from compare.claims import constrained_mixing_chains_trained as cmt
from compare.runner import make_profile
from empirical.jacobians import central_difference_jacobian
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.reverse_ou import (
    geometric_times,
    ou_jacobian,
    ou_score,
    prior_sample,
    reverse_euler_maruyama,
)
from theory.schedules import ou_a

jax = pytest.importorskip("jax")


@pytest.fixture(scope="module")
def untrained():
    """A small untrained EDM network on R³: any smooth field serves to test the plumbing."""
    net = build_network(NetworkConfig(width=16, depth=2), 3, jax.random.PRNGKey(3))
    return ScoreModel(net, 3)


def _ctx(tmp_path, profile="quick", control=False):
    return Context(profile=make_profile(profile, tmp_path), seed=0, progress=False, control=control)


def test_network_chains_match_the_numpy_sampler_on_the_same_noise(untrained):
    """chain_states draws the prior and the noise as the exact claim's sampler does."""
    steps, n, seed = 120, 16, 5
    t_grid, states = cmt.chain_states(untrained, n, steps, seed)
    rng = np.random.default_rng(seed)
    ts = geometric_times(cmc.T_START, cmc.T_MIN, steps)
    _, path = reverse_euler_maruyama(
        ou_score(untrained), prior_sample(n, 3, rng, T=cmc.T_START), ts, rng, return_trajectory=True
    )
    idx = [int(np.argmin(np.abs(np.log(ts / t)))) for t in cmc.CHECKPOINTS]
    np.testing.assert_array_equal(t_grid, ts[idx])
    ref = path[idx]
    assert np.max(np.abs(states - ref)) < 1e-3 * np.max(np.abs(ref))


def test_grid_times_are_those_of_the_exact_claim():
    t_exact, _ = cmc.exact_chain_states(4, 1_500, 0)
    ts = geometric_times(cmc.T_START, cmc.T_MIN, 1_500)
    np.testing.assert_array_equal(ts[cmt.checkpoint_indices(ts)], t_exact)


@pytest.mark.parametrize("t", [1.0, 0.1])
def test_network_jacobian_in_x_t_units_is_the_derivative_of_its_ou_score(untrained, t):
    """J_t = a_t⁻² J^VE(x/a_t, σ_t) against central differences of s_t = g_σ(x/a_t)/a_t."""
    x = np.random.default_rng(1).normal(size=(6, 3))
    jac = ou_jacobian(untrained)(x, t)
    fd = central_difference_jacobian(ou_score(untrained), x, t, h=1e-2)
    assert np.max(np.abs(jac - fd)) < 2e-3 * np.max(np.abs(jac))
    # the control's slip drops exactly the chain rule's a_t⁻²
    slip = cmt.x0_unit_jacobian(untrained)(x, t)
    np.testing.assert_allclose(slip, jac * float(ou_a(t)) ** 2, rtol=1e-12)


def test_predicted_split():
    assert cmc.predicted_split(cmc.WEIGHTS) == pytest.approx((1.5, 0.5))
    assert cmc.predicted_split(np.array([0.9, 0.1])) == pytest.approx((1.1, 0.3))


def test_checks_at_each_checkpoint():
    ones = np.ones(100, int)
    split = np.repeat([1, 2], 50)
    assert [c.held for c in cmt._checks_at(0 * ones, 1.0, 1.5, 0.5)] == [True]
    assert [c.held for c in cmt._checks_at(ones, 3.0, 1.5, 0.5)] == [False]
    assert cmt._checks_at(split, 0.3, 1.5, 0.5) == []  # no prediction between
    assert [c.held for c in cmt._checks_at(split, 0.1, 1.5, 0.5)] == [True, True]
    # a mean within ±0.15 but chains outside {1, 2}: the std catches it
    wide = np.repeat([0, 3], 50)
    assert [c.held for c in cmt._checks_at(wide, 0.01, 1.5, 0.5)] == [True, False]
    assert [c.held for c in cmt._checks_at(ones, 0.01, 1.5, 0.5)] == [False, False]


def test_sensitivity_table_verdicts():
    split, zero = np.repeat([1, 2], 50), np.zeros(100, int)
    good = {"D1 c=0.5": zero, "D4 gap": np.ones(100, int)}
    late = {"D1 c=0.5": split, "D4 gap": split}
    table, robust, overall = cmc.sensitivity(
        [good, late], (1.0, 0.01), lambda d, t: cmt._checks_at(d, t, 1.5, 0.5)
    )
    assert table["D1 c=0.5"]["t=1"]["verdict"] == "pass"
    assert table["D4 gap"]["t=1"]["verdict"] == "fail"
    assert table["D4 gap"]["t=0.01"] == {"mean": 1.5, "std": 0.5, "verdict": "pass"}
    assert robust["t=0.01"].startswith("robust")
    assert robust["t=1"].startswith("depends")
    assert overall == {"D1 c=0.5": "pass", "D4": "fail"}


def test_trainings_declare_the_seeds(tmp_path):
    assert len(cmt.trainings(_ctx(tmp_path))) == 1
    full = cmt.trainings(_ctx(tmp_path, "full"))
    assert [t.args[3] for t in full] == [0, 1, 2]
    assert {t.args[2].sigma_max for t in full} == {cmt.SIGMA_MAX}


def test_control_fails_at_quick(tmp_path):
    """The x₀-unit Jacobian read against v_t counts every direction at t ≥ 1."""
    outcome = cmt.trained_local_dimension_along_chains(_ctx(tmp_path, control=True))
    assert outcome.verdict == "fail"
    assert {"P(d_loc=0) at t=3", "P(d_loc=0) at t=1"} <= set(outcome.failed)
    table = outcome.measured[
        "sensitivity table, network (reading → checkpoint → mean, std, verdict)"
    ]
    assert table["D1 c=0.5"]["t=1"]["mean"] == 3.0
