"""A score field of your own, diagnosed: the noised unit circle in R³ plus a rotation in its plane.

Data: uniform on the circle x² + y² = 1, z = 0, noised VE at level σ. The noised law factorises,
p_σ(x, y, z) = p_σ^circle(x, y) · N(z; 0, σ²), so the exact score is the circle's 2-D score
(``theory.scaling.noised_circle_score``, a Bessel closed form) next to −z/σ². The field below adds
the rigid rotation ω(−y, x, 0)/σ² about the circle's axis: its Jacobian ωΩ/σ² is antisymmetric and
lies in the circle's plane, i.e. it couples the tangent direction with the radial (normal) one.

Run ``python examples/rotated_circle.py`` for the Python call, or the command line:

    python -m compare diagnose examples/rotated_circle.py:score --dim 3 \\
        --points examples/rotated_circle.py:sample --manifold examples/rotated_circle.py:tangent
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from theory.scaling import noised_circle_score

OMEGA = 0.5  # rotation rate, in units of the normal stiffness 1/σ²


def score(x, sigma):
    """The exact score of the noised circle plus ω(−y, x, 0)/σ², for x of shape (n, 3)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    out[:, :2] = noised_circle_score(x[:, :2], sigma)
    out[:, 2] = -x[:, 2] / sigma**2
    out[:, 0] -= OMEGA * x[:, 1] / sigma**2
    out[:, 1] += OMEGA * x[:, 0] / sigma**2
    return out


def tangent(x):
    """The circle's unit tangent (−y, x, 0)/|(x, y)| at the foot point of each x: shape (n, 3, 1)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.stack([-x[:, 1], x[:, 0], np.zeros(len(x))], axis=1)
    return (t / np.linalg.norm(t, axis=1, keepdims=True))[:, :, None]


def sample(n, rng):
    """n points uniform on the circle (the clean data)."""
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    return np.stack([np.cos(theta), np.sin(theta), np.zeros(n)], axis=1)


def main(argv=None) -> int:
    from empirical import diagnose

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=Path("."), help="where to write (default .)")
    args = parser.parse_args(argv)
    x = sample(256, np.random.default_rng(0))
    sigmas = np.geomspace(0.01, 10.0, 13)
    result = diagnose(score, x, sigmas, manifold=tangent)
    print(result.summary())
    args.outdir.mkdir(parents=True, exist_ok=True)
    result.plot(args.outdir / "diagnosis.png")
    result.to_json(args.outdir / "diagnosis.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
