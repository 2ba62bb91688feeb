"""What a claim is: a statement from a paper, a prediction, a measurement, named checks and a verdict.

Verdicts
--------
``pass``
    every named check held, at a size the claim is judged at.
``fail``
    at least one named check did not hold; the outcome names which (:attr:`Outcome.failed`).
``inconclusive``
    the run is too small to judge (a trained claim at the ``quick`` profile): every check is still
    computed and reported with its value and threshold, but none is held against the paper.
``error``
    the claim raised instead of returning an outcome (set by the runner, with the exception's last
    line): nothing was judged. The other claims of the run are not affected.

Negative controls
-----------------
Every claim declares a *control*: a fault that a correct validator must catch (a wrong prediction,
a wrong field). Run with ``Context.control`` set, the claim plants that fault and must ``fail``;
a control that passes is a defect of the claim. Trained claims are judged under their control
with the ``full`` thresholds at every profile.
"""

from __future__ import annotations

import inspect
import math
import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from compare.crosswalk import validate_crosswalk
from compare.readings import validate_readings

__all__ = [
    "KINDS",
    "VERDICTS",
    "Check",
    "Claim",
    "Context",
    "FigureSpec",
    "Outcome",
    "Profile",
    "Training",
    "check",
    "code_location",
]

KINDS = ("exact", "sampled", "trained")
VERDICTS = ("pass", "fail", "inconclusive", "error")


@dataclass(frozen=True)
class Profile:
    """A run size: ``quick`` (CI, reduced sizes, scratch outputs) or ``full`` (paper scale, committed)."""

    name: Literal["quick", "full"]
    root: Path  # figures/ and reports/ live below this folder
    # the base seed (``--seed``), added to every claim's own seed; 0 keeps the registered seeds
    seed: int = 0

    @property
    def figures_dir(self) -> Path:
        return self.root / "figures"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def seed_of(self, claim: Claim) -> int:
        """The seed ``claim`` runs with under this profile: its registered seed plus the base seed."""
        return claim.seed + self.seed

    def pick(self, *, quick, full):
        """The value for this profile: claims state their sizes per profile with this."""
        return quick if self.name == "quick" else full


@dataclass(frozen=True)
class Context:
    """What a claim's ``run`` receives.

    ``control`` asks the claim to plant its declared fault (its negative control) before judging.
    """

    profile: Profile
    seed: int
    progress: bool = True
    control: bool = False


@dataclass(frozen=True)
class Check:
    """One named check: the measured ``value``, the ``threshold`` it is held to, and whether it ``held``."""

    name: str
    value: Any
    threshold: str
    held: bool

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "held": self.held,
        }


_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    "≤": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "≥": operator.ge,
    "==": operator.eq,
}


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def check(name: str, value, op: str, bound) -> Check:
    """A :class:`Check` that holds when ``value op bound``; ``op`` is one of ``< ≤ > ≥ ==`` or ``in``.

    With ``op="in"``, ``bound`` is a closed interval ``(lo, hi)``. A NaN value never holds (a
    measurement that could not be made is not a pass). Numbers are stored as Python scalars.
    """
    if op not in (*_OPS, "in"):
        raise ValueError(f"op must be one of {[*_OPS, 'in']} (got {op!r})")
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()  # numpy scalar -> Python scalar, for the JSON report
    if op == "in":
        lo, hi = bound
        held = not _is_nan(value) and lo <= value <= hi
        threshold = f"in [{lo:.4g}, {hi:.4g}]"
    else:
        held = not _is_nan(value) and bool(_OPS[op](value, bound))
        shown = f"{bound:.4g}" if isinstance(bound, float) else str(bound)
        threshold = f"{op} {shown}".replace("<=", "≤").replace(">=", "≥")
    return Check(name=name, value=value, threshold=threshold, held=bool(held))


@dataclass
class FigureSpec:
    """A figure a claim produces: ``draw(fig, data)`` renders ``data``, which also goes to the sidecar."""

    name: str
    draw: Callable[[Any, dict], None]
    data: dict
    config: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """The result of running a claim once.

    The verdict is derived, never set: ``inconclusive`` when ``inconclusive`` gives a reason the
    run cannot be judged, else ``pass`` when every check held, else ``fail``.
    """

    predicted: Any
    measured: Any
    tolerance: Any
    checks: list[Check]
    notes: str = ""
    figures: list[FigureSpec] = field(default_factory=list)
    inconclusive: str = ""  # why this run is too small to judge; empty when it is judged
    # the verdict under each reading of an open definition (compare.readings.READINGS), if any
    readings: dict[str, str] = field(default_factory=dict)
    # where several papers' closed forms meet: compare.crosswalk rows (quantity, paper, closed
    # form, largest disagreement), gathered by the report into one table
    crosswalk: list[dict] = field(default_factory=list)

    def __post_init__(self):
        validate_readings(self.readings)
        self.crosswalk = validate_crosswalk(self.crosswalk)
        if not self.checks:
            raise ValueError("checks must name at least one Check (a claim must be able to fail)")
        if not all(isinstance(c, Check) for c in self.checks):
            raise ValueError("checks must be a list of compare.claim.Check")
        names = [c.name for c in self.checks]
        if len(names) != len(set(names)):
            raise ValueError(f"check names must be unique (got {names})")

    @property
    def failed(self) -> list[str]:
        """Names of the checks that did not hold."""
        return [c.name for c in self.checks if not c.held]

    @property
    def verdict(self) -> str:
        if self.inconclusive:
            return "inconclusive"
        return "fail" if self.failed else "pass"


@dataclass(frozen=True)
class Training:
    """One network a claim trains, declared so that the runner can train it ahead, side by side.

    ``fn(*args, **kwargs)`` trains the network or loads it from the model cache, exactly as the
    claim's own call does (the same function and arguments, hence the same cache key); ``steps``
    orders the work, longest first.
    """

    label: str
    steps: int
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __call__(self):
        return self.fn(*self.args, **self.kwargs)


@dataclass(frozen=True)
class Claim:
    """A checkable statement of a paper, with the function that measures it and its negative control."""

    id: str  # "<paper>.<name>"
    paper: str  # a key of compare.registry.PAPERS
    kind: str  # one of KINDS
    statement: str  # one sentence
    source: str  # equation or figure, and the research note's provenance tag
    control: str  # the fault planted when Context.control is set; the claim must then fail
    run: Callable[[Context], Outcome]
    seed: int = 0
    # the networks ``run`` trains at a context, for the runner to train ahead in parallel
    trains: Callable[[Context], list[Training]] | None = None
    # names of the figures ``run`` may draw (FigureSpec.name); ``compare figures`` runs only these claims
    figures: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {self.kind!r})")
        if not self.id.startswith(self.paper + "."):
            raise ValueError(f"claim id {self.id!r} must start with its paper key {self.paper!r}")
        if not self.control.strip():
            raise ValueError(f"claim {self.id!r} must declare its negative control")
        if isinstance(self.figures, str) or not all(isinstance(f, str) for f in self.figures):
            raise ValueError(
                f"figures of claim {self.id!r} must be a tuple of names (got {self.figures!r})"
            )

    @property
    def code(self) -> str:
        """Where ``run`` is defined: ``path:line`` of its ``def``, the path relative to the folder
        that holds its top-level package (``compare/claims/spectral_gaps.py:577``)."""
        return code_location(self.run)


def code_location(fn: Callable) -> str:
    """``path:line`` of the ``def`` of ``fn`` (below its decorators); the path relative to the
    folder holding the top-level package of ``fn``'s module, else the file's name alone."""
    fn = inspect.unwrap(fn)
    path = Path(inspect.getsourcefile(fn) or fn.__code__.co_filename).resolve()
    try:
        lines, start = inspect.getsourcelines(fn)
        line = start + next(
            (i for i, text in enumerate(lines) if text.lstrip().startswith(("def ", "async def "))),
            0,
        )
    except (OSError, TypeError):  # no source file (defined in a string)
        line = fn.__code__.co_firstlineno
    top = sys.modules.get(fn.__module__.split(".")[0])
    top_file = getattr(top, "__file__", None)
    shown = Path(path.name)
    if top_file:
        top_path = Path(top_file).resolve()
        root = top_path.parent.parent if top_path.name == "__init__.py" else top_path.parent
        if path.is_relative_to(root):
            shown = path.relative_to(root)
    return f"{shown.as_posix()}:{line}"
