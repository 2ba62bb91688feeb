"""The constrained_mixing curl-size study: its curl metrics against a Jacobian built with known
blocks, its recipes (one factor at a time, never the judged seed, R1 shared with the other claims),
and the claim on stand-in fields with a planted curl: pass, inconclusive at quick, and its control."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_curl as cc
from compare.claims import constrained_mixing_r1 as r1
from compare.runner import make_profile
from empirical.data import sample


def _ctx(profile: str, tmp_path, seed: int = 0, control: bool = False) -> Context:
    return Context(
        profile=make_profile(profile, tmp_path), seed=seed, progress=False, control=control
    )


# --------------------------------------------------------------------------------------------
# The curl metrics


def _frame(rng, n):
    """Random orthonormal frames (n, 3, 3): columns e_a, e_b (tangent) and ν (normal)."""
    q, r = np.linalg.qr(rng.standard_normal((n, 3, 3)))
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]


def test_curl_metrics_read_back_blocks_built_in_a_random_frame():
    rng = np.random.default_rng(0)
    n = 40
    frame = _frame(rng, n)
    # in frame coordinates: a symmetric part with a full tangent block, a tangent rotation ω and
    # a tangent-normal rotation c
    s_t = rng.normal(size=(n, 2, 2))
    s_t = s_t + np.swapaxes(s_t, 1, 2) - 4 * np.eye(2)
    s_n = -rng.uniform(300, 500, n)
    off = rng.normal(size=(n, 2))
    omega, c = rng.uniform(0.1, 1, n), rng.uniform(0.1, 3, n)
    m = np.zeros((n, 3, 3))
    m[:, :2, :2] = s_t
    m[:, 2, 2] = s_n
    m[:, :2, 2] = m[:, 2, :2] = off
    m[:, 1, 0] += omega
    m[:, 0, 1] -= omega
    m[:, 0, 2] += c
    m[:, 2, 0] -= c
    jac = frame @ m @ np.swapaxes(frame, 1, 2)
    got = cc.curl_metrics(jac, frame[:, :, :2], frame[:, :, 2])
    s_tt = np.sqrt(np.sum(s_t**2, axis=(1, 2)))
    np.testing.assert_allclose(got["‖A_TT‖_F"], np.sqrt(2) * omega, rtol=1e-12)
    np.testing.assert_allclose(got["a_TT"], np.sqrt(2) * omega / s_tt, rtol=1e-12)
    np.testing.assert_allclose(got["a_TN"], np.sqrt(2) * c / np.abs(s_n), rtol=1e-12)
    np.testing.assert_allclose(got["a_TN/‖S_TT‖"], np.sqrt(2) * c / s_tt, rtol=1e-12)
    np.testing.assert_allclose(got["a_TT/a_TN"], omega * np.abs(s_n) / (c * s_tt), rtol=1e-12)
    assert got["nc tangent"].shape == (2 * n,)
    assert np.all(got["nc tangent"] >= 0) and np.max(got["nc tangent"]) > 1e-3


def test_curl_metrics_vanish_on_a_symmetric_jacobian():
    rng = np.random.default_rng(1)
    frame = _frame(rng, 30)
    diag = np.stack([-rng.uniform(1, 2, 30), -rng.uniform(5, 8, 30), -400 * np.ones(30)], axis=1)
    jac = frame @ (diag[:, :, None] * np.swapaxes(frame, 1, 2))
    got = cc.curl_metrics(jac, frame[:, :, :2], frame[:, :, 2])
    for key in ("a_TT", "a_TN", "a_TN/‖S_TT‖", "‖A_TT‖_F", "a"):
        assert np.max(got[key]) < 1e-12, key
    assert np.max(got["nc tangent"]) < 1e-10
    exact = cc.curl_metrics(0.5 * (jac + np.swapaxes(jac, 1, 2)), frame[:, :, :2], frame[:, :, 2])
    assert exact["a_TT/a_TN"].size == 0  # undefined on an exactly symmetric Jacobian


# --------------------------------------------------------------------------------------------
# The recipes


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("seed", [0, 5])
def test_the_study_never_uses_the_judged_seed(profile, seed, tmp_path):
    ctx = _ctx(profile, tmp_path, seed)
    for v in cc.variants(ctx):
        assert seed not in v.seeds and v.seeds
    assert {s for t in cc._trainings(ctx) for s in t.args[3:]} == set(cc.study_seeds(ctx))


def test_r1_baseline_is_the_shared_recipe_and_shares_its_training(tmp_path):
    ctx = _ctx("full", tmp_path)
    base = {v.name: v for v in cc.variants(ctx)}
    assert (base["R1"].network, base["R1"].training) == r1.recipe(ctx, "edm")
    cons = base[cc.CONSERVATIVE]
    assert (cons.network, cons.training) == r1.recipe(cc._quick(ctx), "conservative")
    assert cons.training.steps == 2_000 and cons.seeds == (ctx.seed + 1,)
    shared = {t.args for t in r1.trainings(ctx, (("curved", "edm"),), all_seeds=True)}
    mine = {t.args for t in cc._trainings(ctx) if "R1, seed" in t.label}
    assert mine and mine <= shared


def test_full_variants_change_one_factor_at_a_time(tmp_path):
    ctx = _ctx("full", tmp_path)
    vs = {v.name: v for v in cc.variants(ctx)}
    centre = vs[cc.CENTRE]
    assert centre.training == dataclasses.replace(vs["R1"].training, steps=cc.CENTRE_STEPS)
    assert centre.network == vs["R1"].network
    assert vs["Gaussian (R1 recipe)"].spec is cc.GAUSSIAN
    factors = {"width": "network", "depth": "network", "n_data": "training"}
    for v in vs.values():
        if v.factor not in factors:
            continue
        changed = [
            f.name
            for part in ("network", "training")
            for f in dataclasses.fields(getattr(v, part))
            if getattr(getattr(v, part), f.name) != getattr(getattr(centre, part), f.name)
        ]
        assert changed == [v.factor], v.name
        assert v.spec is r1.SURFACES["curved"]
    assert {v.factor for v in vs.values()} >= {"width", "depth", "n_data", "steps", "Gaussian"}
    assert len(cc.variants(_ctx("quick", tmp_path))) == 3


def test_the_gaussian_reference_has_the_mixtures_covariance():
    x = sample(cc.GAUSSIAN, 200_000, 3)
    curved = sample(r1.SURFACES["plane"], 200_000, 3)
    np.testing.assert_allclose(np.cov(x.T)[:2, :2], np.cov(curved.T)[:2, :2], atol=0.05)
    assert np.all(x[:, 2] == 0)


# --------------------------------------------------------------------------------------------
# The claim on stand-in fields


class _StandIn:
    """The exact R1 field plus a tangent rotation with a_TT = ``level`` (or its symmetric part only)."""

    def __init__(self, surface: str, level: float):
        self.surface, self.level = r1.SURFACES[surface], level
        self.meta = {"loss_per_chunk": [1.0, 0.5]}

    def jacobian(self, x, sigma):
        _, jac = self.surface.fields(x, sigma)
        q_t = self.surface.tangent_basis(self.surface.nearest_point(x)[0][:, :2])  # at the foot
        s_tt = r1.tangent_stiffness(jac, q_t)
        omega = self.level * s_tt / np.sqrt(2)
        rot = q_t[:, :, 1, None] * q_t[:, None, :, 0] - q_t[:, :, 0, None] * q_t[:, None, :, 1]
        return jac + omega[:, None, None] * rot


#: a_TT planted per variant (the study's picture: width moves it most)
_LEVELS = {"R1": 0.05, "Gaussian (R1 recipe)": 0.005, cc.CONSERVATIVE: 0.0}


def _stand_in_model(variant, seed, ctx):
    level = _LEVELS.get(variant.name, 0.03)
    if variant.name == "width 256":
        level = 0.2
    level *= 1 + 0.05 * (seed - ctx.seed)
    return _StandIn("plane" if variant.data == "gaussian" else "curved", level)


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(cc, "_model", _stand_in_model)
    monkeypatch.setattr(r1, "points_per_sigma", lambda ctx: 24)
    cc._measure.cache_clear()
    yield
    cc._measure.cache_clear()


def test_claim_passes_on_planted_curl_and_its_control_fails(stand_in, tmp_path):
    out = cc.curl_size(_ctx("full", tmp_path))
    assert out.verdict == "pass", out.failed
    assert out.readings == {"N2": "pass", "N1": "pass"}
    table = out.measured["table (median over points, per seed)"]
    assert table["R1"]["a_TT median (σ=0.05)"] == pytest.approx([0.0525, 0.055], rel=0.05)
    assert "width moves it most" in out.measured["what it takes"]
    control = cc.curl_size(_ctx("full", tmp_path, control=True))
    assert control.verdict == "fail"
    assert control.failed == [c.name for c in control.checks if c.name.startswith("(i)")]


def test_claim_is_inconclusive_at_quick_and_its_control_fails(stand_in, tmp_path):
    out = cc.curl_size(_ctx("quick", tmp_path))
    assert out.verdict == "inconclusive" and not out.failed
    assert set(out.readings.values()) == {"inconclusive"}
    assert cc.curl_size(_ctx("quick", tmp_path, control=True)).verdict == "fail"


def test_a_curl_at_the_gaussians_level_fails_the_trend(stand_in, monkeypatch, tmp_path):
    monkeypatch.setitem(_LEVELS, "R1", 0.005)
    cc._measure.cache_clear()
    out = cc.curl_size(_ctx("full", tmp_path))
    assert out.verdict == "fail" and any(n.startswith("(i)") for n in out.failed)
