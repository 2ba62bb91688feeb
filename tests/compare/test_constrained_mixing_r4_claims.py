"""The constrained-mixing claims on R1's mixture on a plane in R⁴: the spec's exact field against
independent routes, the block metrics on planted rotations, and the trained claim's control."""

from __future__ import annotations

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_r4 as r4
from compare.registry import select
from compare.runner import make_profile
from compare.style import save_figure
from empirical.metrics import block_antisymmetry, nonconservativeness_n1
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig

jax = pytest.importorskip("jax")

_Q_T = np.eye(4)[:, :2]


def _points(sigma, n=60, seed=3):
    return r4.near_points(sigma, n, seed)


def test_data_spec_is_r1s_mixture_on_a_plane_of_r4():
    spec = r4.data_spec()
    assert spec.d == 4
    np.testing.assert_allclose(spec.weights, 0.25)
    assert {tuple(m) for m in spec.means} == {
        (a, b, 0.0, 0.0) for a in (1.5, -1.5) for b in (1.5, -1.5)
    }
    for cov in spec.covariances:
        np.testing.assert_allclose(cov, np.diag([0.16, 0.16, 0.0, 0.0]), atol=1e-15)


def _central_difference(f, x, h, axis):
    """∂f/∂x_j by central differences, stacked along ``axis``."""
    return np.stack(
        [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.shape[1])], axis=axis
    )


@pytest.mark.parametrize("sigma", [0.05, 0.3, 1.0])
def test_exact_score_and_jacobian_match_central_differences(sigma):
    spec = r4.data_spec()
    x = _points(sigma)[0][:20]
    h = 1e-5 * sigma
    jac, g = spec.jacobian(x, sigma), spec.score(x, sigma)
    fd_jac = _central_difference(lambda y: spec.score(y, sigma), x, h, axis=2)
    assert np.max(np.abs(fd_jac - jac)) / np.max(np.abs(jac)) < 1e-6
    fd_g = _central_difference(lambda y: spec.log_density(y, sigma), x, h, axis=1)
    assert np.max(np.abs(fd_g - g)) / np.max(np.abs(g)) < 1e-6


def test_near_points_lie_on_normal_segments_of_the_stated_length():
    sigma = 0.1
    x, foot, g, jac = _points(sigma, n=200)
    np.testing.assert_array_equal(foot[:, 2:], 0.0)
    np.testing.assert_array_equal((x - foot)[:, :2], 0.0)
    rho = np.linalg.norm(x - foot, axis=1) / sigma
    assert rho.min() >= 0.5 and rho.max() <= 2.0
    # the flat mixture denoises by exact normal projection: σ²g_N = −(x − P)_N
    np.testing.assert_allclose(sigma**2 * g[:, 2:], -(x - foot)[:, 2:], atol=1e-14)
    # normal block −σ⁻²I, cross block 0 (to rounding)
    np.testing.assert_allclose(
        sigma**2 * jac[:, 2:, 2:], -np.broadcast_to(np.eye(2), (200, 2, 2)), atol=1e-12
    )
    assert np.max(np.abs(sigma**2 * jac[:, :2, 2:])) < 1e-12


@pytest.mark.parametrize("value", [0.1, 0.37])
def test_planted_rotations_are_read_back_by_their_own_block_only(value):
    _, _, _, jac = _points(0.1)
    plants = r4.planted_rotations(jac, value)
    for block, (rot, omega) in plants.items():
        assert np.max(np.abs(rot + np.swapaxes(rot, 1, 2))) == 0.0  # antisymmetric
        np.testing.assert_allclose(np.linalg.norm(rot, axis=(1, 2)), np.sqrt(2) * omega)
        read = block_antisymmetry(jac + rot, _Q_T)
        np.testing.assert_allclose(read[block], value, rtol=1e-12)
        for other in {"a_TT", "a_TN", "a_NN"} - {block}:
            assert np.max(read[other]) < 1e-12
    both = block_antisymmetry(jac + sum(r for r, _ in plants.values()), _Q_T)
    for block in plants:
        np.testing.assert_allclose(both[block], value, rtol=1e-12)


def test_normal_plane_rotation_is_seen_by_n1_with_its_closed_form():
    sigma = 0.05
    _, _, _, jac = _points(sigma)
    rot, omega = r4.planted_rotations(jac)["a_NN"]
    nc = nonconservativeness_n1(jac + rot)[:, :2]  # the two normal ranks (1/σ² is the largest)
    predicted = 1 - 1 / np.sqrt(1 + (omega * sigma**2) ** 2)
    np.testing.assert_allclose(nc, np.stack([predicted, predicted], axis=1), atol=1e-12)
    assert np.max(nonconservativeness_n1(jac)) < 1e-12


def test_both_claims_are_registered_and_the_trained_one_declares_its_networks(tmp_path):
    ids = {c.id: c for c in select(paper="constrained_mixing")}
    exact, trained = (
        ids["constrained_mixing.r4_exact_blocks"],
        ids["constrained_mixing.r4_trained_blocks"],
    )
    assert exact.kind == "exact" and trained.kind == "trained"
    ctx = Context(profile=make_profile("full", tmp_path), seed=0, progress=False)
    labels = [t.label for t in trained.trains(ctx)]
    assert len(labels) == 4 and sum("conservative" in label for label in labels) == 1


def test_exact_claim_passes_and_its_control_fails(tmp_path):
    claim = select(claim_id="constrained_mixing.r4_exact_blocks")[0]
    profile = make_profile("quick", tmp_path)
    outcome = claim.run(Context(profile=profile, seed=0, progress=False))
    assert outcome.verdict == "pass"
    assert outcome.readings == {"N1": "pass", "N2": "pass", "N4": "pass"}
    control = claim.run(Context(profile=profile, seed=0, progress=False, control=True))
    assert control.verdict == "fail"
    assert any(name.startswith("N2 a_NN max") for name in control.failed)
    assert not any(name.startswith(("N2 a_TT max", "N2 a_TN max")) for name in control.failed)


def _tiny(ctx, kind="edm"):
    """A short run of the recipe, enough for the control (a gradient field has no curl at any step)."""
    training = TrainingConfig(
        steps=300, chunk_steps=100, batch_size=256, warmup_steps=30, n_data=2_000, sigma_max=5.0
    )
    return NetworkConfig(kind=kind, width=32, depth=2, activation="silu", sigma_data=1.0), training


@pytest.mark.slow
def test_trained_claim_fails_with_the_conservative_network_in_place(
    monkeypatch, tmp_path, model_cache
):
    monkeypatch.setattr(r4, "recipe", _tiny)
    monkeypatch.setattr(r4, "_points_per_sigma", lambda ctx: 40)
    profile = make_profile("quick", tmp_path)
    control = r4.r4_trained_blocks(Context(profile=profile, seed=0, progress=False, control=True))
    assert control.verdict == "fail"
    floor = [c for c in control.checks if c.name.startswith("N2 a_TT median >")]
    assert floor and not any(c.held for c in floor)
    assert control.readings["N2"] == "fail"
    judged = r4.r4_trained_blocks(Context(profile=profile, seed=0, progress=False))
    assert judged.verdict == "inconclusive"
    assert set(judged.readings.values()) == {"inconclusive"}
    # the free network has curl in its tangent block: the floor is not what makes the control fail
    free = judged.measured["per σ"]["σ=0.05"]["free, seed 0"]
    conservative = judged.measured["per σ"]["σ=0.05"]["conservative, seed 0"]
    assert free["a_TT median"] > 1e-3 > conservative["a_TT median"]
    png = save_figure(
        judged.figures[0],
        "constrained_mixing",
        tmp_path / "figures",
        seed=0,
        profile="quick",
        claim="constrained_mixing.r4_trained_blocks",
        verdict=judged.verdict,
    )
    assert png.stat().st_size > 0 and png.with_suffix(".json").exists()
