"""Filter: decide, for every candidate and alternative, whether this person can do it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sirecommend._compile import StretchFacts
from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Profile, Reason
from sirecommend.pipeline._types import Candidate, History, Verdict

__all__ = ["filter_candidates"]


def filter_candidates(
    kb: KnowledgeBase,
    profile: Profile,
    candidates: Iterable[Candidate],
    history: History | None = None,
) -> Mapping[str, Verdict]:
    """A :class:`~sirecommend.pipeline._types.Verdict` for every candidate and alternative.

    All checks run (they do not stop at the first), so an exclusion tells the whole
    story: pregnancy and forbidden-combination rules (in rule order), an avoided
    position, missing equipment. The equipment option is the first one listed (the
    source's primary choice first) that the person has. A stretch the ``history``
    pauses (:mod:`sirecommend.progression`) is blocked last, with its own reason, so
    that an alternative can stand in for it.

    >>> from sirecommend import load_knowledge, Profile
    >>> from sirecommend.pipeline import select
    >>> kb = load_knowledge()
    >>> p = Profile(context="after_sitting")
    >>> v = filter_candidates(kb, p, select(kb, p))
    >>> [r.code.value for r in v["adductor_strap_supine"].blocked]
    ['missing_equipment']
    """
    masks = kb.compiled.avoid_masks
    avoided = 0
    for name in profile.avoid_positions:
        avoided |= masks[name]
    equipment, trimester = profile.equipment, profile.pregnancy_trimester or 0
    verdicts: dict[str, Verdict] = {}
    for c in candidates:  # each candidate, then its alternatives
        st = c.slot.stretch
        verdicts[st.id] = _judge(st, avoided, equipment, trimester)
        for st in c.slot.alternatives:
            verdicts[st.id] = _judge(st, avoided, equipment, trimester)
    if history is None or not history.paused:
        return verdicts
    paused = history.paused
    return {
        sid: v._replace(blocked=(*v.blocked, paused[sid])) if sid in paused else v
        for sid, v in verdicts.items()
    }


def _judge(st: StretchFacts, avoided: int, equipment: frozenset[str], trimester: int) -> Verdict:
    # Most stretches have no rule and an unavoided position: nothing is built for them.
    blocked: tuple[Reason, ...] = ()
    if st.rules:
        blocked = tuple(r.reason for r in st.rules if r.from_trimester <= trimester)
    if st.position_bit & avoided:
        blocked = (*blocked, st.avoided)
    for option in st.options:
        if option.uses is None or option.uses in equipment:
            return Verdict(st, option, blocked)
    if st.missing is not None:  # every option needs equipment the person lacks
        blocked = (*blocked, st.missing)
    return Verdict(st, None, blocked)
