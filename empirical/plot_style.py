"""The project's one figure style: matplotlib rc settings and the colours of theory and measurement.

Plain data, no matplotlib import: :mod:`compare.style` re-exports both for the claims' figures, and
:meth:`empirical.diagnose.Diagnosis.plot` uses them for a user's diagnostics.
"""

from __future__ import annotations

__all__ = ["PALETTE", "RC"]

RC = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

#: Theory is drawn in black/dark lines, measurements in colour.
PALETTE = {
    "theory": "#222222",
    "exact": "#1f77b4",
    "trained": "#d62728",
    "alt": "#2ca02c",
    "band": "#d62728",
}
