"""The crosswalk of the cross-paper claims: one quantity, the closed form each paper uses for it, and
how far that closed form lands from the quantity's reference value.

Four of the papers look at the same object, the score of Gaussian data on a k-dimensional subspace
and its Jacobian, under their own names and conventions (σ or t = σ², VE or VP, v_t = 2t). Where
their predictions meet they must agree exactly. A claim that checks such a meeting point lists, in
:attr:`compare.claim.Outcome.crosswalk`, one row per (quantity, paper): the paper's closed form
(the function of ``theory/`` it is computed with) and its largest disagreement with the quantity's
reference over every case the claim ran. The report gathers these rows into one table, quantity ×
paper (:func:`compare.report.render_markdown`).
"""

from __future__ import annotations

import math

__all__ = ["CROSSWALK_KEYS", "crosswalk_row", "validate_crosswalk"]

#: The keys of one crosswalk row, in this order.
CROSSWALK_KEYS = ("quantity", "paper", "closed_form", "max_disagreement")


def crosswalk_row(quantity: str, paper: str, closed_form: str, max_disagreement) -> dict:
    """One row: ``paper`` computes ``quantity`` with ``closed_form``, at most ``max_disagreement``
    (relative, or a count where the quantity says so) from the quantity's reference."""
    return dict(zip(CROSSWALK_KEYS, (quantity, paper, closed_form, max_disagreement), strict=True))


def validate_crosswalk(rows) -> list[dict]:
    """``rows`` checked and normalised: a list of dicts with exactly :data:`CROSSWALK_KEYS`,
    ``quantity`` and ``closed_form`` non-empty strings, ``paper`` a key of
    :data:`compare.registry.PAPERS`, ``max_disagreement`` a finite number ≥ 0 (returned as a Python
    float), and no (quantity, paper) twice."""
    # compare.registry imports compare.claim, which imports this module
    from compare.registry import PAPERS

    if not isinstance(rows, list):
        raise ValueError(f"crosswalk must be a list of rows (got {type(rows).__name__})")
    out, seen = [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(CROSSWALK_KEYS):
            got = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise ValueError(
                f"crosswalk[{i}] must have the keys {list(CROSSWALK_KEYS)} (got {got})"
            )
        for key in ("quantity", "closed_form"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise ValueError(f"crosswalk[{i}][{key!r}] must be a non-empty string")
        if row["paper"] not in PAPERS:
            raise ValueError(
                f"crosswalk[{i}]['paper'] must be one of {list(PAPERS)} (got {row['paper']!r})"
            )
        value = row["max_disagreement"]
        if hasattr(value, "item") and getattr(value, "size", 1) == 1:
            value = value.item()  # numpy scalar -> Python scalar
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"crosswalk[{i}]['max_disagreement'] must be a finite number >= 0 (got {value!r})"
            )
        key = (row["quantity"], row["paper"])
        if key in seen:
            raise ValueError(f"crosswalk names quantity {key[0]!r} for paper {key[1]} twice")
        seen.add(key)
        out.append(crosswalk_row(row["quantity"], row["paper"], row["closed_form"], float(value)))
    return out
