"""The readings of a definition the constrained-mixing paper leaves open, and a claim's verdict under each.

The paper's exact rules for local dimension, asymmetry and the effective density were never found
(paper000 §2.2–§2.4 [R]), so its claims are judged under every reading the note lists. A claim's
:attr:`compare.claim.Outcome.readings` maps some of the labels below to the verdict the claim's
rule would give under that reading; the report gathers them into one table (claim × reading) and
marks a verdict *robust* when every reading the claim applies gives the same one.

Labels (paper000 §2):

- ``D1 c=0.25``, ``D1 c=0.5``, ``D1 c=0.75``: d_loc = #{i : σ² s_i < c} (c = 1/2 the primary).
- ``D2 relative``, ``D2 absolute``: d_loc = #{i : λ̂_i > ρ max λ̂} or #{i : λ̂_i > ε}, λ̂_i = 1/s_i − σ².
- ``D3``: the fewest directions holding 90 % of the effective variance.
- ``D4``: d − argmax_i (log s_i − log s_{i+1}), the largest spectral gap.
- ``N1``: singular-pair alignment 1 − |u_iᵀv_i|.
- ``N2``: block antisymmetry a_TT, a_TN, a_NN (either normalisation).
- ``N3``: circulation ∮ g·dl / (2πr²) on small tangent circles.
- ``N4``: normal-projection denoising e_N.
- ``E1``, ``E2``, ``E3``: the effective density as the local conservative surrogate (precision −S),
  the global conservative part (an energy network fitted to g), the model's own sampler marginal.
"""

from __future__ import annotations

__all__ = [
    "READINGS",
    "READING_VERDICTS",
    "ROW_PREFIXES",
    "reading_row",
    "reading_verdicts",
    "robust_verdict",
    "validate_readings",
]

#: Every reading label, in the order of the report's table, with what it stands for.
READINGS: dict[str, str] = {
    "D1 c=0.25": "#{i : σ² s_i < 1/4}",
    "D1 c=0.5": "#{i : σ² s_i < 1/2} (primary)",
    "D1 c=0.75": "#{i : σ² s_i < 3/4}",
    "D2 relative": "#{i : λ̂_i > ρ max λ̂}",
    "D2 absolute": "#{i : λ̂_i > ε}",
    "D3": "90 % of the effective variance",
    "D4": "largest log spectral gap",
    "N1": "singular-pair alignment 1 − |uᵢ·vᵢ|",
    "N2": "block antisymmetry a_TT, a_TN, a_NN",
    "N3": "circulation on small tangent circles",
    "N4": "normal-projection error e_N",
    "E1": "local conservative surrogate (precision −S)",
    "E2": "global conservative part (energy network)",
    "E3": "the sampler's own marginal (local PCA)",
}

#: What a reading's cell may say: the verdict under it, or that the run is too small to judge.
READING_VERDICTS = ("pass", "fail", "inconclusive")


def validate_readings(readings: dict[str, str]) -> dict[str, str]:
    """``readings`` checked: keys among :data:`READINGS`, values among :data:`READING_VERDICTS`."""
    if not isinstance(readings, dict):
        raise ValueError(
            f"readings must be a dict reading → verdict (got {type(readings).__name__})"
        )
    for label, verdict in readings.items():
        if label not in READINGS:
            raise ValueError(
                f"readings: unknown reading {label!r} (allowed: {', '.join(READINGS)})"
            )
        if verdict not in READING_VERDICTS:
            raise ValueError(
                f"readings[{label!r}] must be one of {READING_VERDICTS} (got {verdict!r})"
            )
    return readings


def robust_verdict(readings: dict[str, str]) -> str | None:
    """The verdict every judged reading gives, or ``None`` when they disagree or none is judged."""
    judged = {v for v in readings.values() if v != "inconclusive"}
    return judged.pop() if len(judged) == 1 else None


def reading_row(name: str, value, op: str, bound) -> dict:
    """One row of a claim's readings table: the value, the threshold and the verdict it would give
    (``op`` and ``bound`` as in :func:`compare.claim.check`)."""
    from compare.claim import check  # compare.claim imports this module

    c = check(name, value, op, bound)
    return {"value": c.value, "threshold": c.threshold, "verdict": "pass" if c.held else "fail"}


#: Which asymmetry reading of paper000 §2.3 a row of a readings table belongs to, by its first words.
ROW_PREFIXES = (
    ("N1", "N1"),
    ("|v_normal", "N4"),
    ("σ²s_normal", "N4"),
    ("N2", "N2"),
    ("N3", "N3"),
    ("T-A7", "N3"),
    ("N4", "N4"),
)


def reading_verdicts(rows: dict[str, dict]) -> dict[str, str]:
    """Reading (N1–N4) → ``pass`` when every row of ``rows`` (:func:`reading_row` values, keyed by
    label) under it passes; rows of no reading (planted read-backs, geometry) are left out."""
    out: dict[str, str] = {}
    for label, row in rows.items():
        tag = next((r for prefix, r in ROW_PREFIXES if label.startswith(prefix)), None)
        if tag is not None:
            held = out.get(tag, "pass") == "pass" and row["verdict"] == "pass"
            out[tag] = "pass" if held else "fail"
    return dict(sorted(out.items()))
