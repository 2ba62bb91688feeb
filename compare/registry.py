"""The claim registry: claims register themselves with :func:`claim`; one module per paper."""

from __future__ import annotations

import importlib

from compare.claim import Claim

__all__ = ["PAPERS", "all_claims", "claim", "select"]

#: Paper keys (DESIGN.md) and the papers they name.
PAPERS = {
    "constrained_mixing": "Wenliang & Moran, Score-based generative models learn manifold-like "
    "structures with constrained mixing, arXiv 2311.09952",
    "spectral_gaps": "Ventura et al., Manifolds, random matrices and spectral gaps: the geometric "
    "phases of generative diffusion, ICLR 2025, arXiv 2410.05898",
    "manifold_detection": "Pidstrigach, Score-based generative models detect manifolds, NeurIPS 2022, "
    "arXiv 2206.01018",
    "rate_separation": "Li et al., When scores learn geometry: rate separations under the manifold "
    "hypothesis, ICLR 2026, arXiv 2509.24912",
    "score_smoothing": "Chen, On the interpolation effect of score smoothing in diffusion models, "
    "ICLR 2026, arXiv 2502.19499",
}

# Modules under compare.claims that hold registered claims, in report order.
_CLAIM_MODULES = (
    "constrained_mixing",
    "spectral_gaps",
    "score_smoothing",
    "score_smoothing_relu",
    "score_smoothing_trained",
)

_REGISTRY: dict[str, Claim] = {}


def claim(
    *,
    id: str,
    paper: str,
    kind: str,
    statement: str,
    source: str,
    control: str,
    seed: int = 0,
    trains=None,
):
    """Decorator registering ``run(ctx) -> Outcome`` as a claim.

    ``control`` names the fault the claim plants when ``ctx.control`` is set (its negative control).
    ``trains(ctx)`` lists the networks ``run`` trains (:class:`compare.claim.Training`), for the
    runner to train ahead of the claims, several at a time.
    """
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)} (got {paper!r})")

    def register(run):
        if id in _REGISTRY:
            raise ValueError(f"claim id {id!r} is registered twice")
        _REGISTRY[id] = Claim(
            id=id,
            paper=paper,
            kind=kind,
            statement=statement,
            source=source,
            control=control,
            run=run,
            seed=seed,
            trains=trains,
        )
        return run

    return register


def all_claims() -> list[Claim]:
    """Every registered claim, in report order (paper, then registration)."""
    for name in _CLAIM_MODULES:
        importlib.import_module(f"compare.claims.{name}")
    order = {p: i for i, p in enumerate(PAPERS)}
    return sorted(_REGISTRY.values(), key=lambda c: order[c.paper])


def select(paper: str | None = None, claim_id: str | None = None) -> list[Claim]:
    """Claims of one paper and/or one id; ``ValueError`` naming what matched nothing."""
    claims = all_claims()
    if paper is not None:
        if paper not in PAPERS:
            raise ValueError(f"paper must be one of {sorted(PAPERS)} (got {paper!r})")
        claims = [c for c in claims if c.paper == paper]
    if claim_id is not None:
        claims = [c for c in claims if c.id == claim_id]
        if not claims:
            raise ValueError(f"claim {claim_id!r} is not registered (see `python -m compare list`)")
    return claims
