"""Filter: decide, for every candidate and alternative, whether this person can do it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sirecommend._kb import KnowledgeBase
from sirecommend._models import ForbidCombinationRule, PregnancyRule, Stretch
from sirecommend._routine import Profile, Reason, ReasonCode
from sirecommend.pipeline._types import Candidate, Verdict

__all__ = ["avoided_positions", "filter_candidates", "judge"]


def avoided_positions(kb: KnowledgeBase, profile: Profile) -> frozenset[str]:
    """Every position the profile avoids, with groups (``floor``) expanded."""
    return frozenset(p for a in profile.avoid_positions for p in kb.position_members(a))


def judge(
    kb: KnowledgeBase, profile: Profile, stretch: Stretch, avoided: frozenset[str] | None = None
) -> Verdict:
    """Whether ``stretch`` is safe and possible for ``profile``; every reason if not.

    All checks run (they do not stop at the first), so an exclusion tells the
    whole story. The equipment option is the first one listed (the source's
    primary choice first) that the person has.
    """
    avoided = avoided_positions(kb, profile) if avoided is None else avoided
    reasons: list[Reason] = []
    position = kb.positions[stretch.position]
    for rule in kb.rules.values():
        if (
            isinstance(rule, PregnancyRule)
            and profile.pregnancy_trimester is not None
            and profile.pregnancy_trimester >= rule.from_trimester
            and stretch.position in {p for r in rule.positions for p in kb.position_members(r)}
        ):
            reasons.append(
                Reason(
                    code=ReasonCode.PREGNANCY, message=rule.reason, rule=rule.id, sources=rule.cites
                )
            )
        if isinstance(rule, ForbidCombinationRule) and set(rule.movements) <= set(
            stretch.movements
        ):
            reasons.append(
                Reason(
                    code=ReasonCode.FORBIDDEN_COMBINATION,
                    message=f"It combines {' and '.join(rule.movements)}: {rule.name.lower()}.",
                    rule=rule.id,
                    sources=rule.cites,
                )
            )
    if stretch.position in avoided:
        reasons.append(
            Reason(
                code=ReasonCode.POSITION_AVOIDED,
                message=f"It is done {position.name.lower()}, a position you avoid.",
            )
        )
    option = None
    if stretch.equipment:
        usable = [o for o in stretch.equipment if o.uses is None or o.uses in profile.equipment]
        if usable:
            option = usable[0]
        else:
            names = " or ".join(
                kb.equipment[o.uses].name.lower()  # type: ignore[index]
                for o in stretch.equipment
            )
            reasons.append(
                Reason(
                    code=ReasonCode.MISSING_EQUIPMENT,
                    message=f"It needs a {names}, which you do not have.",
                )
            )
    return Verdict(stretch_id=stretch.id, option=option, blocked=tuple(reasons))


def filter_candidates(
    kb: KnowledgeBase, profile: Profile, candidates: Iterable[Candidate]
) -> Mapping[str, Verdict]:
    """A :class:`Verdict` for every candidate and every alternative of one.

    >>> from sirecommend import load_knowledge, Profile
    >>> from sirecommend.pipeline import select
    >>> kb = load_knowledge()
    >>> p = Profile(context="after_sitting")
    >>> v = filter_candidates(kb, p, select(kb, p))
    >>> [r.code.value for r in v["adductor_strap_supine"].blocked]
    ['missing_equipment']
    """
    avoided = avoided_positions(kb, profile)
    verdicts: dict[str, Verdict] = {}
    for c in candidates:
        for sid in (c.stretch_id, *c.alternatives):
            verdicts[sid] = judge(kb, profile, kb.stretches[sid], avoided)
    return MappingProxyType(verdicts)
