"""diagnose(): closed-form spectra, local dimension and asymmetry recovered by both Jacobian routes,
fitted exponents and staircase steps, the float32 noise floor, bad input, JSON and figure."""

import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from empirical import diagnose
from empirical.diagnose import Diagnosis, LowPrecisionWarning
from theory.distributions import LinearGaussian
from theory.schedules import vp_score_from_ve, vp_t_to_ve_sigma
from theory.spectra import linear_gaussian_singular_values, local_dimension, staircase_steps

D, LAMBDAS = 10, np.array([4.0, 1.0, 0.25])
SIGMAS = np.geomspace(0.05, 10.0, 13)
# Relative error of the recovered singular values. Autodiff is exact up to float64 rounding. Central
# differences at h = σ·eps^(1/3) carry rounding ≈ eps·|s(x)|/h ≈ 1e-7 absolute at σ = 0.05, relative
# to the smallest singular value 1/(λ + σ²) ≈ 0.25 (measured: 1.4e-6 at worst).
SPECTRUM_RTOL = {"autodiff": 1e-10, "fd": 1e-5}
# Antisymmetry of a symmetric Jacobian: rounding only (measured: 3e-17 autodiff, 6e-10 fd).
ZERO_ASYM = {"autodiff": 1e-13, "fd": 1e-8}


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(20261203)
    basis = np.linalg.qr(rng.standard_normal((D, LAMBDAS.size)))[0]
    spec = LinearGaussian(LAMBDAS, D, basis)
    z = rng.standard_normal((6, LAMBDAS.size)) * np.sqrt(LAMBDAS)
    x = z @ basis.T + 0.3 * rng.standard_normal((6, D))  # on and off the subspace
    return spec, x


def _fields(spec, antisymmetric=None):
    """The linear-Gaussian score (plus A x) as a numpy callable and as a jnp one."""
    q, lam = spec.basis, spec.variances
    a = np.zeros((D, D)) if antisymmetric is None else antisymmetric

    def numpy_score(x, sigma):
        return spec.score(x, sigma) + x @ a.T

    def jax_score(x, sigma):
        normal = x - (x @ q) @ q.T
        return -normal / sigma**2 - ((x @ q) / (lam + sigma**2)[None, :]) @ q.T + x @ a.T

    return {"fd": numpy_score, "autodiff": jax_score}


@pytest.mark.parametrize("route", ["fd", "autodiff"])
def test_linear_gaussian_closed_forms(setup, route):
    spec, x = setup
    result = diagnose(_fields(spec)[route], x, SIGMAS[::-1], manifold=spec)  # any order
    assert result.provenance["route"] == route  # "auto" chose it: jnp traces, numpy does not
    np.testing.assert_array_equal(result.levels, SIGMAS)
    expected = linear_gaussian_singular_values(LAMBDAS, D, SIGMAS)[:, None, :]
    np.testing.assert_allclose(
        result.singular_values, np.broadcast_to(expected, (13, 6, D)), rtol=SPECTRUM_RTOL[route]
    )
    for c, rule in ((0.5, "D1"), (0.25, "D1 c=0.25"), (0.75, "D1 c=0.75")):
        want = local_dimension(LAMBDAS, SIGMAS, c)[:, None]
        np.testing.assert_array_equal(result.d_loc[rule], np.broadcast_to(want, (13, 6)))
    assert np.max(result.asymmetry) < ZERO_ASYM[route]
    assert max(np.max(v) for v in result.blocks.values()) < 1e3 * ZERO_ASYM[route]
    np.testing.assert_allclose(result.normal_stiffness, 1.0, rtol=1e-6)
    assert np.min(result.overlap) > 1 - 1e-8
    assert result.k == 3 and result.noise_floor is None


@pytest.mark.parametrize("route", ["fd", "autodiff"])
def test_tangent_rotation_reads_as_a_tt(setup, route):
    spec, x = setup
    q = spec.basis
    b = np.array([[0.0, 0.7, -0.2], [-0.7, 0.0, 0.4], [0.2, -0.4, 0.0]])
    a = q @ b @ q.T  # antisymmetric, inside the tangent block
    result = diagnose(_fields(spec, a)[route], x, SIGMAS, manifold=spec, jacobian=route)
    # closed form from the built matrix: J = S + A, S the linear-Gaussian Jacobian
    norm_b = np.linalg.norm(b)
    tangent_s2 = np.sum(1.0 / (LAMBDAS + SIGMAS[:, None] ** 2) ** 2, axis=1)
    s2 = (D - LAMBDAS.size) / SIGMAS**4 + tangent_s2
    rtol = 1e3 * SPECTRUM_RTOL[route]
    np.testing.assert_allclose(
        result.asymmetry,
        np.broadcast_to((norm_b / np.sqrt(s2 + norm_b**2))[:, None], (13, 6)),
        rtol=rtol,
    )
    np.testing.assert_allclose(
        result.blocks["a_TT"],
        np.broadcast_to((norm_b / np.sqrt(tangent_s2))[:, None], (13, 6)),
        rtol=rtol,
    )
    assert np.max(result.blocks["a_TN"]) < 1e3 * ZERO_ASYM[route]
    assert np.max(result.blocks["a_NN"]) < 1e3 * ZERO_ASYM[route]


def test_normal_stiffness_slope_and_staircase(setup):
    spec, x = setup
    result = diagnose(spec.score, x, SIGMAS, manifold=spec)
    for name in ("normal_stiffness", "top_singular_value"):
        fit = result.fits[name]
        assert fit.n_points == 13 and fit.predicted == -2.0
        # an exact power law: the interval has the width of the rounding, allowed 1e-9 on top
        assert fit.ci[0] - 1e-9 <= -2.0 <= fit.ci[1] + 1e-9
    steps = staircase_steps(LAMBDAS)
    assert [s.level for s in result.steps] == [0.5, 1.5, 2.5]
    ratio = SIGMAS[1] / SIGMAS[0]
    for step, sigma_j in zip(result.steps, steps, strict=True):
        assert step.bracket[0] <= sigma_j <= step.bracket[1]
        # interpolation between grid levels: within half a grid cell in log σ
        assert abs(np.log(step.location / sigma_j)) <= 0.5 * np.log(ratio)


def test_fit_sees_a_wrong_exponent(setup):
    spec, x = setup

    def stiff(x, sigma):  # normal stiffness σ⁻¹ instead of σ⁻²
        return spec.score(x, sigma) * sigma

    fit = diagnose(stiff, x, SIGMAS, manifold=spec).fits["normal_stiffness"]
    assert not fit.ci[0] - 1e-9 <= -2.0 <= fit.ci[1] + 1e-9
    assert abs(fit.slope + 1.0) < 1e-6


def test_vp_convention_normalises_by_v_t(setup):
    spec, x = setup
    ts = np.geomspace(1e-3, 3.0, 7)
    result = diagnose(vp_score_from_ve(spec.score), x, ts, manifold=spec, convention="vp")
    np.testing.assert_allclose(result.normal_stiffness, 1.0, rtol=1e-6)  # v_t s_⊥ = 1
    want = local_dimension(LAMBDAS, vp_t_to_ve_sigma(ts))[:, None]
    np.testing.assert_array_equal(result.d_loc["D1"], np.broadcast_to(want, (7, 6)))
    np.testing.assert_allclose(result.ve_sigma, vp_t_to_ve_sigma(ts))


def _f32_fd(spec):
    def score(x, sigma):
        return spec.score(x, sigma).astype(np.float32)

    return score


def test_float32_field_warns_with_a_floor_of_the_asymmetry_it_causes(setup):
    spec, x = setup
    with pytest.warns(LowPrecisionWarning, match="float32.*rounding noise of"):
        result = diagnose(_f32_fd(spec), x, SIGMAS, manifold=spec)
    assert result.provenance["dtype"] == "float32"
    # the field is symmetric: every bit of asymmetry read is rounding
    ratio = np.median(result.asymmetry, axis=1) / result.noise_floor
    assert np.all((ratio > 0.1) & (ratio < 10)), ratio
    assert 1e-7 < result.noise_floor.max() < 1e-3


def test_float32_jax_field_warns_on_the_autodiff_route(setup):
    spec, x = setup
    q32 = jnp.asarray(spec.basis, jnp.float32)

    def score(x, sigma):  # a gradient field computed in float32, nonlinear in x
        x, sigma = jnp.asarray(x, jnp.float32), jnp.asarray(sigma, jnp.float32)
        y = x @ q32
        return -(x - y @ q32.T) / sigma**2 - jnp.tanh(y) @ q32.T

    with pytest.warns(LowPrecisionWarning, match="float32"):
        result = diagnose(score, x, SIGMAS[:4], manifold=spec)
    assert result.provenance["route"] == "autodiff"
    assert np.all((result.noise_floor > 1e-9) & (result.noise_floor < 1e-5))
    assert np.max(result.asymmetry) < 10 * result.noise_floor.max()


def test_float64_field_does_not_warn(setup):
    spec, x = setup
    with warnings.catch_warnings():
        warnings.simplefilter("error", LowPrecisionWarning)
        result = diagnose(spec.score, x, SIGMAS[:3])
    assert (
        result.noise_floor is None
        and result.blocks is None
        and "normal_stiffness" not in result.fits
    )


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"sigmas": [0.1, 0.0, 1.0]}, "sigmas"),
        ({"sigmas": [[0.1, 1.0]]}, "sigmas"),
        ({"sigmas": [0.1, 0.1]}, "sigmas"),
        ({"sigmas": [0.1, np.nan]}, "sigmas"),
        ({"x": np.zeros((4, 1))}, "x"),
        ({"x": np.zeros(10)}, "x"),
        ({"convention": "edm"}, "convention"),
        ({"jacobian": "numeric"}, "jacobian"),
        ({"jacobian": "autodiff"}, "autodiff"),  # a numpy score does not trace
        ({"manifold": np.zeros((10, 10))}, "manifold"),
        ({"manifold": lambda x: np.ones((10, 2))}, "manifold"),  # rank 1
        ({"score": lambda x, s: x[:, :3]}, "score"),
        ({"score": lambda x, s: np.full(x.shape, np.nan)}, "score"),
        ({"score": lambda x, s: jnp.where(x > 0, jnp.inf, x)}, "score"),
        ({"score": "not callable"}, "score"),
    ],
)
def test_bad_input_names_the_argument(setup, kwargs, name):
    spec, x = setup
    args = {"score": spec.score, "x": x, "sigmas": [0.1, 1.0], **kwargs}
    with pytest.raises(ValueError, match=name):
        diagnose(args.pop("score"), args.pop("x"), args.pop("sigmas"), **args)


def test_json_round_trip_and_figure(setup, tmp_path):
    spec, x = setup
    result = diagnose(spec.score, x, SIGMAS[::3], manifold=spec)
    assert isinstance(result, Diagnosis)
    text = result.to_json(tmp_path / "d.json")
    assert (tmp_path / "d.json").read_text() == text
    record = json.loads(text)
    assert record["levels"] == SIGMAS[::3].tolist()
    assert record["d_loc"]["D1"] == result.d_loc["D1"].tolist()
    assert record["fits"]["normal_stiffness"]["n_points"] == 5
    assert record["provenance"]["route"] == "fd"
    assert [s["level"] for s in record["steps"]] == [s.level for s in result.steps]
    result.plot(tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json", "d.png"]  # no temporaries left
