"""`python -m compare diagnose`: a user's field in a file outside the repository, figure and JSON
where told, the summary table, one-line errors; the two examples that use it."""

import importlib.util
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from compare.cli import main
from theory.spectra import local_dimension

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FIELD = textwrap.dedent(
    """
    import numpy as np

    LAMBDAS = np.array([2.0, 0.5])  # a Gaussian on the first two axes of R^4

    def score(x, sigma):
        out = -x / sigma**2
        out[:, :2] = -x[:, :2] / (LAMBDAS + sigma**2)
        return out

    def tangent(x):
        return np.eye(4)[:, :2]

    def points(n, rng):
        return rng.standard_normal((n, 4))

    NOT_CALLABLE = 3
    """
)


@pytest.fixture
def field(tmp_path):
    path = tmp_path / "user_field.py"
    path.write_text(FIELD)
    return path


def test_diagnose_writes_figure_and_json_and_prints_the_summary(field, tmp_path, capsys):
    out = tmp_path / "out" / "nested"
    argv = ["diagnose", f"{field}:score", "--dim", "4", "--manifold", f"{field}:tangent"]
    argv += ["--points", f"{field}:points", "--n", "8", "--outdir", str(out)]
    argv += ["--sigmas", "0.05", "0.2", "0.5", "1", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "a_TT" in printed and "fit normal_stiffness: slope -2.0000" in printed
    assert "d_loc steps: 0.5 at σ" in printed
    record = json.loads((out / "diagnosis.json").read_text())
    assert record["levels"] == [0.05, 0.2, 0.5, 1.0, 3.0] and record["n_points"] == 8
    assert record["d_loc_mean"]["D1"] == local_dimension([2.0, 0.5], record["levels"]).tolist()
    assert (out / "diagnosis.png").read_bytes()[:4] == b"\x89PNG"


def test_points_from_npy(field, tmp_path, capsys):
    pts = np.random.default_rng(1).standard_normal((5, 4))
    np.save(tmp_path / "pts.npy", pts)
    argv = ["diagnose", f"{field}:score", "--dim", "4", "--sigmas", "0.1", "1", "10"]
    argv += [
        "--points",
        str(tmp_path / "pts.npy"),
        "--outdir",
        str(tmp_path / "a"),
        "--format",
        "svg",
    ]
    assert main(argv) == 0
    assert json.loads((tmp_path / "a" / "diagnosis.json").read_text())["points"] == pts.tolist()
    assert (tmp_path / "a" / "diagnosis.svg").exists()
    assert "route: fd (float64), 5 points in d = 4" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("target", "extra", "message"),
    [
        ("{field}:missing", [], "has no attribute 'missing'"),
        ("{field}:NOT_CALLABLE", [], "is not callable"),
        ("{field}", [], "MODULE:CALLABLE"),
        ("{tmp}/nowhere.py:score", [], "no such file"),
        ("no_such_module_here:score", [], "cannot load module"),
        ("{field}:score", ["--dim", "1"], "--dim"),
        ("{field}:score", ["--points", "{tmp}/missing.npy"], "--points"),
        ("{field}:score", ["--points", "{field}:points", "--dim", "3"], "--points must give an"),
    ],
)
def test_bad_targets_end_in_one_line(field, tmp_path, capsys, target, extra, message):
    fill = {"field": field, "tmp": tmp_path}
    argv = ["diagnose", target.format(**fill), *[e.format(**fill) for e in extra]]
    if "--dim" not in extra:
        argv += ["--dim", "4"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--outdir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_failing_field_exits_1_with_the_reason(field, tmp_path, capsys):
    argv = ["diagnose", f"{field}:score", "--dim", "4", "--sigmas", "0.1", "-1"]
    assert main([*argv, "--outdir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "sigmas must be > 0" in err and err.count("\n") == 1


def _example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rotated_circle_example_shows_the_rotation_in_the_circles_plane(tmp_path, capsys):
    assert _example("rotated_circle").main(["--outdir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    record = json.loads((tmp_path / "diagnosis.json").read_text())
    a_tn, a_nn = np.array(record["blocks"]["a_TN"]), np.array(record["blocks"]["a_NN"])
    assert np.all(np.array(record["blocks"]["a_TT"]) == 0)  # k = 1: a 1×1 block has no curl
    np.testing.assert_allclose(a_tn[:4], 0.5, rtol=1e-3)  # ω at small σ: tangent–radial curl
    assert np.max(a_nn) < 1e-12  # none between the radial and the z direction
    assert "a_TN" in printed and (tmp_path / "diagnosis.png").exists()


def test_trained_example_runs_with_tiny_steps(tmp_path, model_cache, capsys):
    out = tmp_path / "out"
    results = _example("diagnose_trained").main(["--steps", "50", "--outdir", str(out)])
    printed = capsys.readouterr().out
    assert set(results) == {"exact", "trained"}
    assert results["trained"].provenance["route"] == "autodiff"
    assert results["exact"].provenance["route"] == "fd"
    fit = results["exact"].fits["normal_stiffness"]
    assert abs(fit.slope + 2.0) < 0.05  # the exact field: σ⁻² up to the O(σ²) curvature term
    assert "normal stiffness slope" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"diagnosis_{n}.{e}" for n in ("exact", "trained") for e in ("json", "png")]


def _tweedie_sphere_score(x, sigma, n_u=200, n_phi=128):
    """(E[x₀|x] − x)/σ² with x₀ uniform on the unit sphere: Gauss–Legendre in cos θ₀, trapezoid
    in φ₀ (periodic), weights exp((x·x₀ − |x|)/σ²). Independent of the Bessel closed form."""
    u, w_u = np.polynomial.legendre.leggauss(n_u)
    phi = 2.0 * np.pi * np.arange(n_phi) / n_phi
    sin_u = np.sqrt(1.0 - u**2)
    x0 = np.stack(
        [
            np.outer(sin_u, np.cos(phi)).ravel(),
            np.outer(sin_u, np.sin(phi)).ravel(),
            np.repeat(u, n_phi),
        ],
        axis=1,
    )
    w = np.repeat(w_u, n_phi)
    out = []
    for xi in x:
        weight = w * np.exp((x0 @ xi - np.linalg.norm(xi)) / sigma**2)
        out.append((weight @ x0 / weight.sum() - xi) / sigma**2)
    return np.array(out)


def test_rotated_sphere_score_matches_the_posterior_mean():
    sphere = _example("rotated_sphere")
    x = np.array([[0.3, -0.2, 0.9], [1.2, 0.4, -0.5], [0.02, 0.01, -0.03], [0.0, 0.0, 1.5]])
    for sigma in (0.3, 1.0, 3.0):
        np.testing.assert_allclose(
            sphere.sphere_score(x, sigma), _tweedie_sphere_score(x, sigma), rtol=1e-9, atol=1e-12
        )
        rotation = sphere.OMEGA * np.stack([-x[:, 1], x[:, 0], 0 * x[:, 2]], axis=1) / sigma**2
        np.testing.assert_allclose(
            sphere.score(x, sigma), sphere.sphere_score(x, sigma) + rotation, rtol=1e-15
        )
    assert np.all(sphere.sphere_score(np.zeros((1, 3)), 0.5) == 0)  # the limit r → 0
    pts = np.vstack([x, [[0.0, 0.0, -2.0]], sphere.sample(5, np.random.default_rng(2))])
    basis = sphere.tangent(pts)  # orthonormal, and orthogonal to the radial direction
    gram = np.einsum("nij,nik->njk", basis, basis)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(2), gram.shape), atol=1e-15)
    assert np.max(np.abs(np.einsum("nij,ni->nj", basis, pts))) < 1e-15
    with pytest.raises(ValueError, match="origin"):
        sphere.tangent(np.zeros((1, 3)))


def test_rotated_sphere_example_shows_the_rotation_inside_the_sphere():
    from empirical import diagnose

    sphere = _example("rotated_sphere")
    x = np.vstack([sphere.sample(6, np.random.default_rng(1)), [[0.0, 0.0, 1.0]]])  # and a pole
    sigmas = [0.05, 0.3, 2.0]
    rotated = diagnose(sphere.score, x, sigmas, manifold=sphere.tangent, jacobian="fd")
    still = diagnose(sphere.sphere_score, x, sigmas, manifold=sphere.tangent, jacobian="fd")
    for i, sigma in enumerate(sigmas):
        expected = sphere.expected_blocks(x, sigma)
        for name in ("a_TT", "a_TN"):  # per point: ω|cos θ|/(1 − L), √2 ω|sin θ|/(1 − B L')
            np.testing.assert_allclose(
                rotated.blocks[name][i], expected[name], rtol=1e-6, atol=1e-9
            )
            assert np.max(still.blocks[name][i]) < 1e-8  # no rotation, no curl: the control
        assert np.all(rotated.blocks["a_NN"][i] == 0)  # one normal direction: a 1×1 block
    assert np.min(rotated.blocks["a_TT"][0, :-1]) > 0.05 and rotated.blocks["a_TN"][0, -1] < 1e-9
