"""Triage: red flags stop everything and refer, at the highest urgency reported."""

from __future__ import annotations

from sirecommend._kb import KnowledgeBase
from sirecommend._models import RedFlagRule
from sirecommend._routine import Exclusion, Profile, Reason, ReasonCode, Referral
from sirecommend.pipeline._util import unique_sources

__all__ = ["referral_exclusions", "triage"]


def triage(kb: KnowledgeBase, profile: Profile) -> Referral | None:
    """Return the referral the profile's red flags call for, or ``None`` when there are none.

    The urgency is the highest (by tier rank) among all flags reported; the referral
    names every flag at that urgency and says plainly what to do.

    >>> from sirecommend import load_knowledge, Profile
    >>> kb = load_knowledge()
    >>> triage(kb, Profile(context="after_sitting", red_flags={"fever", "saddle_numbness"})).urgency
    'emergency'
    >>> triage(kb, Profile(context="after_sitting")) is None
    True
    """
    if not profile.red_flags:
        return None
    flags = [kb.red_flags[f] for f in sorted(profile.red_flags)]
    top = max(kb.urgencies[f.urgency].rank for f in flags)
    worst = [f for f in flags if kb.urgencies[f.urgency].rank == top]
    tier = kb.urgencies[worst[0].urgency]
    rules = [r for r in kb.rules.values() if isinstance(r, RedFlagRule)]
    parts = [r.message for r in rules] + [tier.action] + [f.message for f in worst]
    cites = [c for r in rules for c in r.cites] + list(tier.cites)
    cites += [c for f in worst for c in f.cites]
    return Referral(
        urgency=tier.id,
        red_flags=tuple(f.id for f in worst),
        message=" ".join(parts),
        sources=unique_sources(cites),
    )


def referral_exclusions(
    kb: KnowledgeBase, context: str, referral: Referral
) -> tuple[Exclusion, ...]:
    """Every stretch of the context, left out because of the red flags."""
    plan = kb.plans[context]
    reason = Reason(
        code=ReasonCode.RED_FLAG,
        message=f"Red flags reported ({', '.join(referral.red_flags)}): no stretching until a "
        "professional has assessed you.",
        rule=next((r.id for r in kb.rules.values() if isinstance(r, RedFlagRule)), None),
        sources=referral.sources,
    )
    return tuple(
        Exclusion(stretch_id=sid, name=kb.stretches[sid].name, reasons=(reason,))
        for sid in plan.order
    )
