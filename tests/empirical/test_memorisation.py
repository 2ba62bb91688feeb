"""Memorisation and spread metrics on hand-built samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import empirical.memorisation as memorisation
from empirical.memorisation import (
    atom_weights,
    default_radius,
    memorisation_index,
    nearest_distance,
    nearest_index,
    normal_spread,
    tangent_variance,
)

ATOMS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [-3.0, -1.0]])


def offsets(counts, scale, seed=0):
    """Samples: ``counts[i]`` copies of atom i, each moved by a vector of norm ``scale``."""
    rng = np.random.default_rng(seed)
    index = np.repeat(np.arange(len(counts)), counts)
    angle = rng.uniform(0, 2 * np.pi, index.size)
    return ATOMS[index] + scale * np.stack([np.cos(angle), np.sin(angle)], 1), index


# --------------------------------------------------------------------------------------------
# Nearest training point


def test_samples_on_the_atoms():
    x = ATOMS[[2, 0, 3, 3, 1]]
    assert_array_equal(nearest_index(x, ATOMS), [2, 0, 3, 3, 1])
    assert_array_equal(nearest_distance(x, ATOMS), 0.0)
    assert memorisation_index(x, ATOMS, 1e-12) == (1.0, 0.0)


def test_nearest_against_known_offsets():
    x, index = offsets([3, 5, 2, 4], scale=0.25)  # atoms are ≥ 1 apart: the offset atom is nearest
    assert_array_equal(nearest_index(x, ATOMS), index)
    assert_allclose(nearest_distance(x, ATOMS), 0.25, rtol=1e-14)


def test_ties_go_to_the_lowest_index():
    assert_array_equal(nearest_index([[0.5, 0.0]], ATOMS), [0])
    assert_array_equal(nearest_index([[0.5, 0.0]], ATOMS[::-1]), [2])


def test_chunks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(1)
    x, points = rng.normal(size=(37, 3)), rng.normal(size=(11, 3))
    brute = np.linalg.norm(x[:, None, :] - points[None, :, :], axis=2)
    monkeypatch.setattr(memorisation, "_CHUNK_FLOATS", 50)  # 1 sample per chunk
    assert_allclose(nearest_distance(x, points), brute.min(axis=1), rtol=1e-14)
    assert_array_equal(nearest_index(x, points), brute.argmin(axis=1))
    monkeypatch.setattr(memorisation, "_CHUNK_FLOATS", 200)  # 6 per chunk, a short last one
    assert_array_equal(nearest_index(x, points), brute.argmin(axis=1))
    spacing = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2)
    np.fill_diagonal(spacing, np.inf)
    assert default_radius(points) == pytest.approx(0.1 * np.median(spacing.min(axis=1)), rel=1e-14)


def test_small_distances_keep_their_precision():
    points = np.array([[1e8, 1e8], [0.0, 0.0]])
    x = np.array([[1e8 + 1e-6, 1e8]])
    offset = x[0, 0] - 1e8  # exact in float64; ‖x‖² − 2x·y + ‖y‖² would lose it (ulp of 1e16 is 2)
    assert offset == pytest.approx(1e-6, rel=0.05)
    assert nearest_distance(x, points)[0] == pytest.approx(offset, rel=1e-15)


# --------------------------------------------------------------------------------------------
# Memorisation index, weights, radius


def test_memorisation_index_and_standard_error():
    near, _ = offsets([2, 3, 1, 1], scale=0.01, seed=2)  # 7 within 0.05 of an atom
    far, _ = offsets([1, 1, 1, 0], scale=0.3, seed=3)  # 3 at distance 0.3
    x = np.vstack([near, far])
    index, se = memorisation_index(x, ATOMS, 0.05)
    assert index == pytest.approx(0.7, rel=1e-15)
    assert se == pytest.approx(np.sqrt(0.7 * 0.3 / 10), rel=1e-15)
    assert memorisation_index(x, ATOMS, 0.5) == (1.0, 0.0)
    assert memorisation_index(x, ATOMS, 0.005) == (0.0, 0.0)


def test_atom_weights_and_standard_errors():
    counts = np.array([3, 1, 0, 6])
    x, _ = offsets(counts, scale=0.1, seed=4)
    weights, se = atom_weights(x, ATOMS)
    assert_allclose(weights, counts / 10, rtol=1e-15)
    assert weights.sum() == pytest.approx(1.0, rel=1e-15)
    assert_allclose(se, np.sqrt(counts / 10 * (1 - counts / 10) / 10), rtol=1e-15)


def test_default_radius():
    circle = np.stack(
        [np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1
    )
    assert default_radius(circle) == pytest.approx(0.2 * np.sin(np.pi / 8), rel=1e-14)  # chord
    line = np.array([[0.0], [1.0], [3.0], [7.0]])  # spacings 1, 1, 2, 4: median 1.5
    assert default_radius(line) == pytest.approx(0.15, rel=1e-15)
    # one coincident pair does not make the radius 0 while the median spacing is positive
    assert default_radius(np.array([[0.0], [0.0], [5.0], [9.0], [14.0]])) == pytest.approx(0.4)


# --------------------------------------------------------------------------------------------
# Spread about a subspace


def rotation(d, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_normal_spread_and_tangent_variance_in_a_rotated_frame():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=2.0, size=(500, 1))
    w = 0.3 + rng.normal(scale=0.05, size=(500, 1))  # offset normal coordinate: std about the mean
    q = rotation(2, 6)
    x = np.hstack([z, w]) @ q.T
    assert normal_spread(x, q[:, :1]) == pytest.approx(np.std(w, ddof=1), rel=1e-12)
    assert_allclose(tangent_variance(x, q[:, :1]), [np.var(z, ddof=1)], rtol=1e-12)


def test_normal_spread_in_codimension_two():
    rng = np.random.default_rng(7)
    coords = rng.normal(size=(400, 3)) * [1.0, 0.2, 0.5]
    q = rotation(3, 8)
    x = coords @ q.T
    expected = np.sqrt((np.var(coords[:, 1], ddof=1) + np.var(coords[:, 2], ddof=1)) / 2)
    assert normal_spread(x, q[:, :1]) == pytest.approx(expected, rel=1e-12)
    assert_allclose(
        tangent_variance(x, q[:, :2]), np.var(coords[:, :2], axis=0, ddof=1), rtol=1e-12
    )


# --------------------------------------------------------------------------------------------
# Bad input


E1 = np.array([[1.0], [0.0]])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nearest_distance(np.zeros(2), ATOMS), r"x must have shape \(n, d\)"),
        (lambda: nearest_distance(np.zeros((3, 3)), ATOMS), "x must have d = 2 columns"),
        (lambda: nearest_distance(np.zeros((0, 2)), ATOMS), "x must hold at least 1 point"),
        (lambda: nearest_index(np.zeros((3, 2)), np.zeros((0, 2))), "points must hold at least"),
        (lambda: nearest_index(np.zeros((3, 2)), [[np.nan, 0.0]]), "points must be finite"),
        (lambda: nearest_index(np.zeros((3, 2)), np.zeros((2, 2, 2))), "points must have shape"),
        (lambda: memorisation_index(ATOMS, ATOMS, 0.0), "r must be > 0"),
        (lambda: memorisation_index(ATOMS, ATOMS, -1.0), "r must be > 0"),
        (lambda: memorisation_index(ATOMS, ATOMS, np.nan), "r must be finite"),
        (lambda: memorisation_index(ATOMS, ATOMS, [0.1, 0.2]), "r must be a scalar"),
        (lambda: atom_weights([[np.inf, 0.0]], ATOMS), "x must be finite"),
        (lambda: default_radius(ATOMS[:1]), "points must hold at least 2"),
        (lambda: default_radius(np.zeros((3, 2))), "points must not coincide"),
        (lambda: normal_spread(ATOMS[:1], E1), "x must hold at least 2"),
        (lambda: normal_spread(ATOMS, np.array([[1.0], [1.0]])), "basis must have orthonormal"),
        (lambda: normal_spread(ATOMS, np.eye(2)), r"1 <= k < d"),
        (lambda: normal_spread(ATOMS, np.ones((3, 1))), "basis must have shape"),
        (lambda: tangent_variance(ATOMS, np.array([1.0, 0.0])), "basis must have shape"),
        (lambda: tangent_variance(ATOMS, [[np.nan], [0.0]]), "basis must be finite"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
