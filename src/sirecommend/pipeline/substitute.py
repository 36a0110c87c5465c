"""Substitute: a candidate that cannot be done gives way to its first usable alternative."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal

from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Exclusion, Reason, ReasonCode
from sirecommend.pipeline._types import Candidate, Pick, Verdict, VerdictKey

__all__ = ["substitute"]


def substitute(
    kb: KnowledgeBase, candidates: Iterable[Candidate], verdicts: Mapping[str, Verdict]
) -> tuple[tuple[Pick, ...], tuple[Exclusion, ...]]:
    """Pick one stretch per candidate, or leave it out with every reason why.

    A usable candidate is picked itself, with its first usable equipment option;
    its alternatives are then not needed. Otherwise its first usable alternative
    (in the knowledge's preference order) stands in, and the candidate is
    excluded as replaced. With no usable alternative, the candidate is excluded
    with its own reasons. Every alternative not picked is excluded with why.

    An exclusion depends only on the verdicts behind it, so each distinct one is
    built once per knowledge base (see :func:`_exclusion`).
    """
    picks: list[Pick] = []
    excluded: list[Exclusion] = []
    exclude = _exclusions(kb)
    for c in candidates:
        own = verdicts[c.stretch_id]
        chosen: Verdict | None = None
        if not own.blocked:
            picks.append(Pick(c, own))
            if not c.alternatives:
                continue
        else:
            chosen = next((v for a in c.alternatives if not (v := verdicts[a]).blocked), None)
            if chosen is None:
                excluded.append(exclude(own, "no_alternative" if c.alternatives else "own"))
            else:
                picks.append(Pick(c, chosen, own))
                excluded.append(exclude(own, "replaced", chosen.stretch_id))
        standing = c.stretch_id if chosen is None else chosen.stretch_id
        for alt in c.alternatives:
            v = verdicts[alt]
            if v is not chosen:
                excluded.append(
                    exclude(v, "own") if v.blocked else exclude(v, "not_needed", standing)
                )
    return tuple(picks), tuple(excluded)


_Kind = Literal["own", "no_alternative", "replaced", "not_needed"]


def _exclusions(kb: KnowledgeBase) -> Callable[..., Exclusion]:
    """``exclude(verdict, kind, other="")``: the exclusion of the stretch ``verdict`` judged.

    ``kind`` says why it is left out: ``"own"``, its verdict's reasons;
    ``"no_alternative"``, those and none of its alternatives can be done either;
    ``"replaced"`` by the stretch ``other``; ``"not_needed"``, an alternative that
    could be done but ``other`` is in the routine. The reasons depend only on these,
    so each distinct exclusion is built once per knowledge base.
    """
    built: dict[tuple[VerdictKey, _Kind, str], Exclusion] = kb.memo("substitute.exclusions", dict)

    def exclude(verdict: Verdict, kind: _Kind, other: str = "") -> Exclusion:
        key = (verdict.key, kind, other)
        found = built.get(key)
        if found is None:
            found = built.setdefault(key, _build(kb, verdict, kind, other))
        return found

    return exclude


def _build(kb: KnowledgeBase, verdict: Verdict, kind: _Kind, other: str) -> Exclusion:
    reasons = list(verdict.blocked)
    if kind == "no_alternative":
        reasons.append(
            Reason(
                code=ReasonCode.NO_ALTERNATIVE,
                message="None of its alternatives can be done either.",
            )
        )
    elif kind == "replaced":
        reasons.append(
            Reason(
                code=ReasonCode.REPLACED,
                message=f"Replaced by {kb.stretches[other].name}.",
                other=other,
            )
        )
    elif kind == "not_needed":
        reasons.append(
            Reason(
                code=ReasonCode.ALTERNATIVE_NOT_NEEDED,
                message=f"Not needed: {kb.stretches[other].name} is in the routine.",
                other=other,
            )
        )
    sid = verdict.stretch_id
    return Exclusion(stretch_id=sid, name=kb.stretches[sid].name, reasons=tuple(reasons))
