"""Substitute: a candidate that cannot be done gives way to its first usable alternative.

A choice (a stretch whose ``choose_one`` lists others: foam rolling of the sore muscle
group, p15) is one step offering every stretch of its list the person can do, unless
the focus names a muscle one of them works: then those named are given on their own
and the choice, and the others, are left out.
"""

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
    stands in, and the candidate is left out as replaced; the later usable alternatives
    are the pick's ``fallbacks``, for :func:`~sirecommend.pipeline.fit_to_time` to try
    when the stand-in does not fit the time left. With no usable alternative,
    the candidate is left out for its own reasons. Every alternative not picked is left
    out with why. :func:`~sirecommend.pipeline.explain` words each one, knowing which
    steps fit kept.

    A choice and the stretches it offers (its members) follow the choice rule: when the
    focus names a muscle some members work (their candidates have focus hits), those
    members are candidates as usual and the choice and the other members are left out
    (``named``). Otherwise the choice is picked, offering its usable members, each then
    left out as ``offered`` in it; a blocked member is left out for its own reasons; a
    choice that is blocked, or whose members all are, is left out (``own``,
    ``none_offered``) and its usable members with it (``choice_out``).
    """
    candidates = tuple(candidates)
    by_id = {c.slot.stretch.id: c for c in candidates}
    # member id -> the candidate of its choice (a member suits every context its choice
    # suits: the loader checks it)
    members = {m: c for c in candidates for m in c.slot.stretch.choices if m in by_id}
    named: dict[str, tuple[str, ...]] = {}  # choice id -> the muscles the focus names
    for m, of in members.items():
        key = of.slot.stretch.id
        named[key] = (*named.get(key, ()), *by_id[m].focus_hits)
    picks: list[Pick] = []
    left: list[Left] = []
    for c in candidates:
        slot = c.slot
        own = verdicts[slot.stretch.id]
        choice = members.get(slot.stretch.id)
        if slot.stretch.choices:
            left_out, pick = _choice(c, own, verdicts, named.get(slot.stretch.id, ()))
            left.extend(left_out)
            picks.extend(pick)
            continue
        if choice is not None:
            names = named[choice.slot.stretch.id]
            if not names:
                left.append(_member(own, verdicts[choice.slot.stretch.id], choice))
                continue
            if not c.focus_hits:
                left.append(Left(own, "named", named=names))
                continue
        chosen: Verdict | None = None
        if not own.blocked:
            picks.append(Pick(c, own))
        else:
            usable = [v for a in slot.alternatives if not (v := verdicts[a.id]).blocked]
            if not usable:
                left.append(Left(own, "no_alternative" if slot.alternatives else "own"))
            else:
                chosen = usable[0]
                fallbacks = tuple(Pick(c, v, own) for v in usable[1:])
                picks.append(Pick(c, chosen, own, fallbacks=fallbacks))
                left.append(Left(own, "replaced", chosen.stretch))
        standing = slot.stretch if chosen is None else chosen.stretch
        for alt in slot.alternatives:
            v = verdicts[alt.id]
            if v is not chosen:
                left.append(Left(v, "own") if v.blocked else Left(v, "not_needed", standing))
    return tuple(picks), tuple(left)


def _offered(choice: Verdict, verdicts: Mapping[str, Verdict]) -> tuple[Verdict, ...]:
    """The usable verdicts of the members of ``choice``, in its order."""
    return tuple(
        v for m in choice.stretch.choices if (v := verdicts.get(m)) is not None and not v.blocked
    )


def _choice(
    c: Candidate, own: Verdict, verdicts: Mapping[str, Verdict], named: tuple[str, ...]
) -> tuple[list[Left], list[Pick]]:
    """The choice of candidate ``c``: picked with its usable members, or left out."""
    if named:
        return [Left(own, "named", named=named)], []
    if own.blocked:
        return [Left(own, "own")], []
    offers = _offered(own, verdicts)
    if not offers:
        return [Left(own, "none_offered")], []
    return [], [Pick(c, own, offers=offers)]


def _member(own: Verdict, choice: Verdict, c: Candidate) -> Left:
    """A member when the focus names none of its choice's: offered in it, or left out."""
    if own.blocked:
        return Left(own, "own")
    if choice.blocked:  # (it is usable, so the choice is not left out for want of members)
        return Left(own, "choice_out", c.slot.stretch)
    return Left(own, "offered", c.slot.stretch)
