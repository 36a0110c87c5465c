"""Triage: red flags stop everything and refer, at the highest urgency reported."""

from __future__ import annotations

from sirecommend._kb import KnowledgeBase
from sirecommend._models import RedFlagRule
from sirecommend._routine import Profile, Referral

__all__ = ["triage"]


def triage(
    kb: KnowledgeBase, profile: Profile, history_flags: frozenset[str] = frozenset()
) -> Referral | None:
    """Return the referral the profile's red flags call for, or ``None`` when there are none.

    ``history_flags`` (the red flags reported in logged sessions) count as reported too.

    The urgency is the highest (by tier rank) among all flags reported. The referral
    names every flag reported, most urgent first, and its message leads with what to do
    (the highest tier's action), then the messages of the flags at that urgency, then
    the red-flag rule's message. Less urgent flags are named, but their own advice is
    not repeated: it would tell the person to wait when they should not.

    >>> from sirecommend import load_knowledge, Profile
    >>> kb = load_knowledge()
    >>> triage(kb, Profile(context="after_sitting", red_flags={"fever", "saddle_numbness"})).urgency
    'emergency'
    >>> triage(kb, Profile(context="after_sitting")) is None
    True
    """
    reported = profile.red_flags | history_flags
    if not reported:
        return None
    flags = sorted(
        (kb.red_flags[f] for f in reported),
        key=lambda f: (-kb.urgencies[f.urgency].rank, f.id),
    )
    top = kb.urgencies[flags[0].urgency].rank
    worst = [f for f in flags if kb.urgencies[f.urgency].rank == top]
    tier = kb.urgencies[worst[0].urgency]
    rules = [r for r in kb.rules.values() if isinstance(r, RedFlagRule)]
    parts = [tier.action] + [f.message for f in worst] + [r.message for r in rules]
    cites = [c for r in rules for c in r.cites] + list(tier.cites)
    cites += [c for f in worst for c in f.cites]
    return Referral(
        urgency=tier.id,
        red_flags=tuple(f.id for f in flags),
        flag_names=tuple(f.name for f in flags),
        action=tier.action,
        message=" ".join(parts),
        sources=tuple(sorted(set(cites), key=kb.compiled.citation_rank.__getitem__)),
    )
