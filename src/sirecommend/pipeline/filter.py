"""Filter: decide, for every candidate and alternative, whether this person can do it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sirecommend._compile import Option, StretchFacts
from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Exclusion, Profile, Reason
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
    verdicts = {
        st.id: _judge(st, avoided, equipment, trimester)
        for c in candidates
        for st in (c.slot.stretch, *c.slot.alternatives)
    }
    if history is None or not history.paused:
        return verdicts
    paused = history.paused
    return {  # a paused stretch has one reason more than its compiled exclusion gives
        sid: v._replace(blocked=(*v.blocked, paused[sid]), exclusion=None) if sid in paused else v
        for sid, v in verdicts.items()
    }


def _judge(st: StretchFacts, avoided: int, equipment: frozenset[str], trimester: int) -> Verdict:
    blocked: list[Reason] = []
    alone: Exclusion | None = None  # the exclusion of the last reason, were it the only one
    for rule in st.rules:
        if rule.from_trimester <= trimester:
            blocked.append(rule.reason)
            alone = rule.alone
    if st.position_bit & avoided:
        blocked.append(st.avoided)
        alone = st.avoided_alone
    for option in st.options:
        if option.uses is None or option.uses in equipment:
            return _verdict(st, option, blocked, alone)
    if st.missing is not None:  # every option needs equipment the person lacks
        blocked.append(st.missing)
        alone = st.missing_alone
    return _verdict(st, None, blocked, alone)


def _verdict(
    st: StretchFacts, option: Option | None, blocked: list[Reason], alone: Exclusion | None
) -> Verdict:
    return Verdict(st, option, tuple(blocked), alone if len(blocked) == 1 else None)
