"""Filter: decide, for every candidate and alternative, whether this person can do it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter
from types import MappingProxyType

from sirecommend._kb import KnowledgeBase
from sirecommend._models import ForbidCombinationRule, PregnancyRule, Stretch
from sirecommend._routine import Profile, Reason, ReasonCode
from sirecommend.pipeline._types import Candidate, Verdict, VerdictKey
from sirecommend.pipeline.select import context_index

__all__ = [
    "avoided_positions",
    "filter_candidates",
    "judge",
    "option_index",
    "verdict_key",
]


def avoided_positions(kb: KnowledgeBase, profile: Profile) -> frozenset[str]:
    """Every position the profile avoids, with groups (``floor``) expanded."""
    return frozenset(p for a in profile.avoid_positions for p in kb.position_members(a))


def _rule_reasons(kb: KnowledgeBase, stretch: Stretch) -> tuple[tuple[int, Reason], ...]:
    """The rule-based reasons against ``stretch``, each with the trimester it starts at.

    0 means always (a forbidden movement combination). The rules read only the
    stretch's position and movements, so the reasons are built once per pair and
    shared by every stretch with the same pair.
    """
    key = ("filter.rules", stretch.position, stretch.movements)
    return kb.memo(key, lambda: _rules_against(kb, stretch.position, stretch.movements))


def _rules_against(
    kb: KnowledgeBase, position: str, movements: tuple[str, ...]
) -> tuple[tuple[int, Reason], ...]:
    found: list[tuple[int, Reason]] = []
    for rule in kb.rules.values():
        if isinstance(rule, PregnancyRule) and position in {
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
        elif isinstance(rule, ForbidCombinationRule) and kb.movement_kinds_of(
            rule.movements
        ) <= kb.movement_kinds_of(movements):
            found.append(
                (
                    0,
                    Reason(
                        code=ReasonCode.FORBIDDEN_COMBINATION,
                        message=f"It combines {' and '.join(rule.movements)}: {rule.name.lower()}.",
                        rule=rule.id,
                        sources=rule.cites,
                    ),
                )
            )
    return tuple(found)


def _avoided_reason(kb: KnowledgeBase, position: str) -> Reason:
    """Why a stretch done in ``position`` is left out when the person avoids it."""

    def compute() -> Reason:
        name = kb.positions[position].name.lower()
        return Reason(
            code=ReasonCode.POSITION_AVOIDED, message=f"It is done {name}, a position you avoid."
        )

    return kb.memo(("filter.avoided", position), compute)


def _missing_reason(kb: KnowledgeBase, needs: tuple[str, ...]) -> Reason:
    """Why a stretch that needs one of ``needs`` is left out when the person has none."""

    def compute() -> Reason:
        names = " or ".join(kb.equipment[e].name.lower() for e in needs)
        return Reason(
            code=ReasonCode.MISSING_EQUIPMENT, message=f"It needs a {names}, which you do not have."
        )

    return kb.memo(("filter.missing", needs), compute)


def option_index(uses: tuple[str | None, ...], equipment: frozenset[str]) -> int:
    """Index of the first equipment option the person can use; -1 when there is none.

    ``uses`` lists what each of a stretch's options uses (``None``: the hands), the
    source's primary choice first. A stretch that lists no options needs no
    equipment (index 0).

    >>> option_index(("strap", "towel", None), frozenset({"towel"}))
    1
    >>> option_index(("foam_roller",), frozenset())
    -1
    """
    for i, used in enumerate(uses):
        if used is None or used in equipment:
            return i
    return -1 if uses else 0


def verdict_key(
    stretch: Stretch, avoided: frozenset[str], equipment: frozenset[str], trimester: int
) -> VerdictKey:
    """What the verdict on ``stretch`` depends on (see :data:`VerdictKey`)."""
    uses = tuple(o.uses for o in stretch.equipment)
    return stretch.id, stretch.position in avoided, option_index(uses, equipment), trimester


def judge(
    kb: KnowledgeBase, profile: Profile, stretch: Stretch, avoided: frozenset[str] | None = None
) -> Verdict:
    """Whether ``stretch`` is safe and possible for ``profile``; every reason if not.

    All checks run (they do not stop at the first), so an exclusion tells the
    whole story: pregnancy and forbidden-combination rules (in rule order), an
    avoided position, missing equipment. The equipment option is the first one
    listed (the source's primary choice first) that the person has.

    A verdict depends only on its :data:`VerdictKey`, so each one is built once per
    knowledge base and shared by every profile with the same key.
    """
    avoided = avoided_positions(kb, profile) if avoided is None else avoided
    key = verdict_key(stretch, avoided, profile.equipment, profile.pregnancy_trimester or 0)
    return _known(kb, kb.memo("filter.verdicts", dict), key)


def _decide(kb: KnowledgeBase, stretch: Stretch, key: VerdictKey) -> Verdict:
    _, avoided, option, trimester = key
    reasons = [r for start, r in _rule_reasons(kb, stretch) if start == 0 or start <= trimester]
    if avoided:
        reasons.append(_avoided_reason(kb, stretch.position))
    if option < 0:  # every option needs equipment
        needs = tuple(o.uses for o in stretch.equipment if o.uses is not None)
        reasons.append(_missing_reason(kb, needs))
    return Verdict(
        stretch_id=stretch.id,
        option=stretch.equipment[option] if option >= 0 and stretch.equipment else None,
        blocked=tuple(reasons),
        key=key,
    )


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
    equipment, trimester = profile.equipment, profile.pregnancy_trimester or 0
    known: dict[VerdictKey, Verdict] = kb.memo("filter.verdicts", dict)
    index = context_index(kb, profile.context)
    candidates = tuple(candidates)
    if index.by_group and (
        candidates is index.candidates
        or (
            tuple(map(itemgetter(0), candidates)) == tuple(map(itemgetter(0), index.candidates))
            and tuple(map(itemgetter(3), candidates)) == tuple(map(itemgetter(3), index.candidates))
        )
    ):
        # The context's own candidates (as select() gives them), in groups large enough
        # to pay: judge each group of stretches sharing a position and equipment options
        # once, not each stretch.
        # Per group: its verdicts under each state met so far.
        tables: list[dict[tuple[bool, int, int], tuple[Verdict, ...]]] = kb.memo(
            ("filter.groups", profile.context), lambda: [{} for _ in index.groups]
        )
        avoids = [p in avoided for p in index.positions]
        options = [option_index(uses, equipment) for uses in index.equipment_options]
        verdicts: dict[str, Verdict] = {}
        for (position, uses, sids), table in zip(index.groups, tables, strict=True):
            state = (avoids[position], options[uses], trimester)
            group = table.get(state)
            if group is None:
                group = table.setdefault(
                    state, tuple(_known(kb, known, (sid, *state)) for sid in sids)
                )
            verdicts.update(zip(sids, group, strict=True))
        return MappingProxyType(verdicts)
    return MappingProxyType(
        {
            sid: _known(kb, known, verdict_key(kb.stretches[sid], avoided, equipment, trimester))
            for c in candidates
            for sid in (c.stretch_id, *c.alternatives)
        }
    )


def _known(kb: KnowledgeBase, known: dict[VerdictKey, Verdict], key: VerdictKey) -> Verdict:
    verdict = known.get(key)
    if verdict is None:
        verdict = known.setdefault(key, _decide(kb, kb.stretches[key[0]], key))
    return verdict
