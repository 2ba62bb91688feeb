"""The constrained_mixing claims on the trained R1 networks: registered as trained claims with their
figures, unjudged at quick with every check computed, and their negative controls failing (trained
controls are judged with the full thresholds at every profile, so the quick networks suffice)."""

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_trained as cmt
from compare.registry import select
from compare.runner import make_profile

CLAIMS = {
    "trained_normal_projection": ("r1_trained_field",),
    "trained_mixing_within": ("r1_trained_asymmetry",),
    "trained_conservative_control": (),
    "trained_circulation": (),
}


def _context(tmp_path, control):
    return Context(profile=make_profile("quick", tmp_path), seed=0, progress=False, control=control)


@pytest.mark.parametrize("name", CLAIMS)
def test_registered_as_trained_claims(name):
    (c,) = select(claim_id=f"constrained_mixing.{name}")
    assert c.kind == "trained" and c.trains is not None
    assert c.figures == CLAIMS[name]


@pytest.mark.parametrize("name", CLAIMS)
def test_control_fails_and_quick_is_unjudged(name, tmp_path):
    claim = getattr(cmt, name)
    control = claim(_context(tmp_path, control=True))
    assert control.verdict == "fail" and control.failed
    assert "fail" in control.readings.values()
    judged = claim(_context(tmp_path, control=False))
    assert judged.verdict == "inconclusive"
    assert set(judged.readings.values()) == {"inconclusive"}
    assert all(np.isfinite(c.value) for c in judged.checks)
    assert [f.name for f in judged.figures] == list(CLAIMS[name])


def test_mixing_control_fails_on_the_conservative_bar(tmp_path):
    """The energy network in place of the free one: its a_TT is float64 rounding, below 1e-8."""
    out = cmt.trained_mixing_within(_context(tmp_path, control=True))
    assert any(name.startswith("N2 a_TT median > 1e-08") for name in out.failed)
    assert out.measured["field judged"] == "conservative"
