"""The claim registry: claims register themselves with :func:`claim`; one module per paper."""

from __future__ import annotations

import difflib
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
    "cross_paper": "Cross-paper identities: the score of Gaussian data on a subspace and its "
    "Jacobian, where the closed forms of constrained_mixing, spectral_gaps, manifold_detection and "
    "rate_separation meet",
}

# Modules under compare.claims that hold registered claims, in report order.
_CLAIM_MODULES = (
    "constrained_mixing",
    "constrained_mixing_chains",
    "constrained_mixing_surface",
    "constrained_mixing_chains_trained",
    "constrained_mixing_r4",
    "constrained_mixing_digits",
    "constrained_mixing_trained",
    "constrained_mixing_curl",
    "constrained_mixing_overlap",
    "spectral_gaps",
    "manifold_detection",
    "manifold_detection_trained",
    "rate_separation",
    "rate_separation_ts",
    "rate_separation_trained",
    "rate_separation_atlas",
    "score_smoothing",
    "score_smoothing_relu",
    "score_smoothing_trained",
    "cross_paper",
    "cross_paper_trained",
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
    figures: tuple[str, ...] = (),
):
    """Decorator registering ``run(ctx) -> Outcome`` as a claim.

    ``control`` names the fault the claim plants when ``ctx.control`` is set (its negative control).
    ``trains(ctx)`` lists the networks ``run`` trains (:class:`compare.claim.Training`), for the
    runner to train ahead of the claims, several at a time. ``figures`` names every figure ``run``
    may draw (its ``FigureSpec.name``s): ``python -m compare figures`` runs only claims that declare
    one, and the runner reports a claim that draws an undeclared figure as an error.
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
            figures=tuple(figures),
        )
        return run

    return register


def all_claims() -> list[Claim]:
    """Every registered claim, in report order: paper, then module (:data:`_CLAIM_MODULES`), then
    registration within the module; the same whatever order the modules were imported in."""
    for name in _CLAIM_MODULES:
        importlib.import_module(f"compare.claims.{name}")
    paper = {p: i for i, p in enumerate(PAPERS)}
    module = {f"compare.claims.{m}": i for i, m in enumerate(_CLAIM_MODULES)}
    registered = {cid: i for i, cid in enumerate(_REGISTRY)}

    def key(c: Claim) -> tuple[int, int, int]:
        return paper[c.paper], module.get(c.run.__module__, len(module)), registered[c.id]

    return sorted(_REGISTRY.values(), key=key)


def _near(word: str, candidates, n: int = 3) -> list[str]:
    """Up to ``n`` of ``candidates`` close to ``word`` (:func:`difflib.get_close_matches`)."""
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)


def _did_you_mean(names: list[str]) -> str:
    return f"; did you mean {' or '.join(names)}?" if names else ""


def _near_ids(claim_id: str, ids: list[str]) -> list[str]:
    """Ids close to ``claim_id`` as a whole, or whose name after the paper key is close to it."""
    tail = claim_id.rsplit(".", 1)[-1]
    by_name = {i.split(".", 1)[1]: i for i in ids}
    near = _near(claim_id, ids) + [by_name[n] for n in _near(tail, by_name)]
    return list(dict.fromkeys(near))[:3]


def select(paper: str | None = None, claim_id: str | None = None) -> list[Claim]:
    """Claims of one paper and/or one id, never none.

    ``ValueError`` (one line) for an unknown paper or id (with the nearest names), an id outside
    ``paper``, and a paper without claims.
    """
    claims = all_claims()
    if paper is not None:
        if paper not in PAPERS:
            raise ValueError(
                f"paper {paper!r} is not known{_did_you_mean(_near(paper, PAPERS))} "
                f"(papers: {', '.join(PAPERS)})"
            )
        in_paper = [c for c in claims if c.paper == paper]
        if not in_paper:
            having = ", ".join(dict.fromkeys(c.paper for c in claims))
            raise ValueError(f"paper {paper} has no claims yet (papers with claims: {having})")
    if claim_id is not None:
        ids = [c.id for c in claims]
        if claim_id not in ids:
            raise ValueError(
                f"claim {claim_id!r} is not registered{_did_you_mean(_near_ids(claim_id, ids))} "
                f"(`python -m compare list` lists the {len(ids)} ids)"
            )
        (c,) = [c for c in claims if c.id == claim_id]
        if paper is not None and c.paper != paper:
            near = _near_ids(claim_id, [c.id for c in in_paper])
            raise ValueError(
                f"{claim_id} is not a claim of paper {paper} (its paper is {c.paper})"
                + _did_you_mean(near)
            )
        return [c]
    return in_paper if paper is not None else claims
