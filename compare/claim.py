"""What a claim is: a statement from a paper, a prediction, a measurement, a tolerance and a verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "KINDS",
    "VERDICTS",
    "Claim",
    "Context",
    "FigureSpec",
    "Outcome",
    "Profile",
    "verdict_from",
]

KINDS = ("exact", "sampled", "trained")
VERDICTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Profile:
    """A run size: ``quick`` (CI, reduced sizes, scratch outputs) or ``full`` (paper scale, committed)."""

    name: Literal["quick", "full"]
    root: Path  # figures/ and reports/ live below this folder

    @property
    def figures_dir(self) -> Path:
        return self.root / "figures"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def pick(self, *, quick, full):
        """The value for this profile: claims state their sizes per profile with this."""
        return quick if self.name == "quick" else full


@dataclass(frozen=True)
class Context:
    """What a claim's ``run`` receives."""

    profile: Profile
    seed: int
    progress: bool = True


@dataclass
class FigureSpec:
    """A figure a claim produces: ``draw(fig, data)`` renders ``data``, which also goes to the sidecar."""

    name: str
    draw: Callable[[Any, dict], None]
    data: dict
    config: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """The result of running a claim once."""

    predicted: Any
    measured: Any
    tolerance: Any
    verdict: str
    notes: str = ""
    figures: list[FigureSpec] = field(default_factory=list)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} (got {self.verdict!r})")


@dataclass(frozen=True)
class Claim:
    """A checkable statement of a paper, with the function that measures it."""

    id: str  # "<paper>.<name>"
    paper: str  # a key of compare.registry.PAPERS
    kind: str  # one of KINDS
    statement: str  # one sentence
    source: str  # equation or figure, and the research note's provenance tag
    run: Callable[[Context], Outcome]
    seed: int = 0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {self.kind!r})")
        if not self.id.startswith(self.paper + "."):
            raise ValueError(f"claim id {self.id!r} must start with its paper key {self.paper!r}")


def verdict_from(checks: dict[str, bool], *, inconclusive: bool = False) -> str:
    """``pass`` if every named check holds, ``fail`` otherwise (``inconclusive`` when asked)."""
    if inconclusive:
        return "inconclusive"
    return "pass" if all(checks.values()) else "fail"
