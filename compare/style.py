"""One figure style for the project, and the writer of figures with their JSON sidecars."""

from __future__ import annotations

import glob
import io
import json
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from empirical._atomic import atomic_writer, remove_stale_temporaries
from empirical.plot_style import PALETTE, RC  # re-exported: the one style, shared with empirical

__all__ = [
    "PALETTE",
    "RC",
    "fit_loglog_slope",
    "git_revision",
    "legend_with_visible_markers",
    "save_figure",
    "to_jsonable",
]


def legend_with_visible_markers(ax, size: float = 16.0, **kwargs):
    """A legend whose scatter entries all show at marker area ``size``.

    Sample clouds are drawn with tiny markers; ``markerscale`` would also blow up the large
    markers of the training points, so the legend's scatter handles are resized instead.
    """
    legend = ax.legend(**kwargs)
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([size])
        if hasattr(handle, "set_alpha"):
            handle.set_alpha(1.0)
    return legend


def git_revision() -> str:
    """Short git revision, with ``-dirty`` if code (anything but figures/ and reports/) has uncommitted changes."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)figures",
                ":(exclude)reports",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def to_jsonable(obj):
    """Numpy arrays and scalars to lists and floats, recursively."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if np.isfinite(v) else str(v)
    return obj


def fit_loglog_slope(x, y) -> tuple[float, float]:
    """Least-squares slope of log y against log x and its standard error."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    if lx.size < 3:
        raise ValueError(f"need at least 3 points to fit a slope with an error (got {lx.size})")
    a = np.vstack([lx, np.ones_like(lx)]).T
    coef, _res, *_ = np.linalg.lstsq(a, ly, rcond=None)
    resid = ly - a @ coef
    dof = lx.size - 2
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(a.T @ a)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so a
    killed run leaves the old file or the new one, never a partial one. Temporary files that a
    killed write of the same file left behind are removed (unlocked and a minute old: see
    :func:`empirical._atomic.remove_stale_temporaries`)."""
    path = Path(path)
    remove_stale_temporaries(path.parent, f".{glob.escape(path.name)}.*.tmp")
    with atomic_writer(path, prefix=f".{path.name}.") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def save_figure(
    spec, paper: str, figures_dir: Path, *, seed: int, profile: str, claim: str, verdict: str
) -> Path:
    """Render a :class:`compare.claim.FigureSpec` to ``<figures_dir>/<paper>/<name>.png`` plus a
    ``.json`` sidecar: the claim that drew it and its verdict, profile, seed, git revision, config
    and the numbers drawn. Returns the PNG's path."""
    out = Path(figures_dir) / paper
    out.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(RC):
        fig = plt.figure()
        spec.draw(fig, spec.data)
        png = out / f"{spec.name}.png"
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
    write_atomic(png, buffer.getvalue())
    sidecar = {
        "figure": f"{paper}/{spec.name}.png",
        "claim": claim,
        "verdict": verdict,
        "profile": profile,
        "seed": seed,
        "git_revision": git_revision(),
        "config": to_jsonable(spec.config),
        "data": to_jsonable(spec.data),
    }
    write_atomic(out / f"{spec.name}.json", json.dumps(sidecar, indent=1) + "\n")
    return png
