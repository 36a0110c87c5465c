"""Substitute: a candidate that cannot be done gives way to its first usable alternative."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sirecommend.pipeline._types import Candidate, Left, Pick, Verdict

__all__ = ["substitute"]


def substitute(
    candidates: Iterable[Candidate], verdicts: Mapping[str, Verdict]
) -> tuple[tuple[Pick, ...], tuple[Left, ...]]:
    """Pick one stretch per candidate, or leave it out, saying why.

    A usable candidate is picked itself; its alternatives are then not needed.
    Otherwise its first usable alternative (in the knowledge's preference order)
    stands in, and the candidate is left out as replaced. With no usable alternative,
    the candidate is left out for its own reasons. Every alternative not picked is left
    out with why. :func:`~sirecommend.pipeline.explain` words each one, knowing which
    steps fit kept.
    """
    picks: list[Pick] = []
    left: list[Left] = []
    for c in candidates:
        slot = c.slot
        own = verdicts[slot.stretch.id]
        chosen: Verdict | None = None
        if not own.blocked:
            picks.append(Pick(c, own))
        else:
            chosen = next((v for a in slot.alternatives if not (v := verdicts[a.id]).blocked), None)
            if chosen is None:
                left.append(Left(own, "no_alternative" if slot.alternatives else "own"))
            else:
                picks.append(Pick(c, chosen, own))
                left.append(Left(own, "replaced", chosen.stretch))
        standing = slot.stretch if chosen is None else chosen.stretch
        for alt in slot.alternatives:
            v = verdicts[alt.id]
            if v is not chosen:
                left.append(Left(v, "own") if v.blocked else Left(v, "not_needed", standing))
    return tuple(picks), tuple(left)
