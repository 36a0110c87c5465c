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


def _rule_reasons(kb: KnowledgeBase, stretch: Stretch) -> tuple[tuple[int, Reason], ...]:
    """The rule-based reasons against ``stretch``, each with the trimester it starts at.

    0 means always (a forbidden movement combination); computed once per stretch.
    """

    def compute() -> tuple[tuple[int, Reason], ...]:
        found: list[tuple[int, Reason]] = []
        for rule in kb.rules.values():
            if isinstance(rule, PregnancyRule) and stretch.position in {
                p for r in rule.positions for p in kb.position_members(r)
            }:
                found.append(
                    (
                        rule.from_trimester,
                        Reason(
                            code=ReasonCode.PREGNANCY,
                            message=rule.reason,
                            rule=rule.id,
                            sources=rule.cites,
                        ),
                    )
                )
            elif isinstance(rule, ForbidCombinationRule) and set(rule.movements) <= set(
                stretch.movements
            ):
                found.append(
                    (
                        0,
                        Reason(
                            code=ReasonCode.FORBIDDEN_COMBINATION,
                            message=f"It combines {' and '.join(rule.movements)}: "
                            f"{rule.name.lower()}.",
                            rule=rule.id,
                            sources=rule.cites,
                        ),
                    )
                )
        return tuple(found)

    return kb.memo(("filter.rules", stretch.id), compute)


def _fixed_reason(kb: KnowledgeBase, code: ReasonCode, stretch: Stretch) -> Reason:
    """The position-avoided or missing-equipment reason for ``stretch`` (built once)."""

    def compute() -> Reason:
        if code is ReasonCode.POSITION_AVOIDED:
            name = kb.positions[stretch.position].name.lower()
            return Reason(code=code, message=f"It is done {name}, a position you avoid.")
        names = " or ".join(
            kb.equipment[o.uses].name.lower() for o in stretch.equipment if o.uses is not None
        )
        return Reason(code=code, message=f"It needs a {names}, which you do not have.")

    return kb.memo(("filter.reason", code, stretch.id), compute)


def judge(
    kb: KnowledgeBase, profile: Profile, stretch: Stretch, avoided: frozenset[str] | None = None
) -> Verdict:
    """Whether ``stretch`` is safe and possible for ``profile``; every reason if not.

    All checks run (they do not stop at the first), so an exclusion tells the
    whole story: pregnancy and forbidden-combination rules (in rule order), an
    avoided position, missing equipment. The equipment option is the first one
    listed (the source's primary choice first) that the person has.
    """
    avoided = avoided_positions(kb, profile) if avoided is None else avoided
    trimester = profile.pregnancy_trimester or 0
    reasons = [r for start, r in _rule_reasons(kb, stretch) if start == 0 or start <= trimester]
    if stretch.position in avoided:
        reasons.append(_fixed_reason(kb, ReasonCode.POSITION_AVOIDED, stretch))
    option = None
    if stretch.equipment:
        option = next(
            (o for o in stretch.equipment if o.uses is None or o.uses in profile.equipment), None
        )
        if option is None:
            reasons.append(_fixed_reason(kb, ReasonCode.MISSING_EQUIPMENT, stretch))
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
