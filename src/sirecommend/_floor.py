"""The safety floor: the shipped knowledge that safety rests on, which no pack weakens by accident.

The floor is every red flag and its urgency, the urgency tiers (their order and their
actions), every safety rule (``kind`` of each, the red-flag referral message, every
forbidden combination and pregnancy rule, the cautions and stop rules a person reads),
every position group, the base kind (``is_a``) of every shipped movement and
position, and how gently each shipped context doses its steps. Base kinds themselves
cannot be changed by a pack at all (see the loader).

A pack may add to the floor or make it stricter. A change that would weaken it, that is
let through a step the shipped knowledge blocks, lower an urgency, or change what a
person is told to do, is a problem naming file, entry and field, unless the pack
declares it on purpose in a ``[[relaxation]]`` table giving the reason, the responsible
clinician and a citation (:class:`~sirecommend._models.Relaxation`). What "weaken" means
for each kind of entry is in ``docs/decisions.md`` ("The safety floor") and in
:func:`weakenings`.

Relaxations are recorded in ``KnowledgeBase.relaxations``, in every routine's
``provenance.relaxations``, in ``KnowledgeBase.summary()`` (so ``sirecommend
validate`` prints them) and at the top of every handout (:func:`relaxation_lines`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sirecommend._models import (
    ForbidCombinationRule,
    GeneralCautionRule,
    PainBands,
    PregnancyRule,
    ProgressionModel,
    RedFlagRule,
    Relaxation,
    WhenAggravatedRule,
    dose_level,
)

__all__ = ["Weakening", "relaxation_lines", "unrelaxed", "weakenings"]

#: Merged knowledge tables, by pack-file table name: ``{"rule": {id: Rule, ...}, ...}``.
Tables = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Weakening:
    """One change a pack makes that would lower the safety floor."""

    table: str
    entry: str
    field: str
    message: str


def _movement_kinds(t: Tables, names: Iterable[str]) -> frozenset[str]:
    movements = t["movement"]
    return frozenset(movements[n].is_a if n in movements else n for n in names)


def _position_kinds(t: Tables, names: Iterable[str]) -> frozenset[str]:
    groups, positions = t["position_group"], t["position"]
    out: set[str] = set()
    for name in names:
        members = groups[name].members if name in groups else (name,)
        out.update(positions[m].is_a if m in positions else m for m in members)
    return frozenset(out)


def _listed(kinds: Iterable[str]) -> str:
    return ", ".join(sorted(kinds))


def weakenings(shipped: Tables, merged: Tables) -> list[Weakening]:
    """Every way ``merged`` (shipped knowledge plus packs) is weaker than ``shipped``.

    Per kind of entry, a change weakens the floor when:

    - ``red_flag``: its ``urgency`` is a lower tier (by the shipped ranks), or its
      ``name`` or ``message`` (what a referral says) changes;
    - ``urgency``: its ``rank`` no longer orders it above every tier the shipped ranks
      put below it (and below those above it), or its ``action`` changes;
    - ``rule``: its ``kind`` changes; a ``red_flag_referral`` rule's ``message`` changes,
      or a pack adds another one (its message would join every referral);
      a forbidden combination's ``movements`` stand for a base kind the shipped rule does
      not need (so steps it blocks would pass), its ``caution_movements`` lose a kind,
      or its ``caution`` changes; a pregnancy rule's ``from_trimester`` rises or its
      ``positions`` lose a kind; a ``when_aggravated`` rule's ``caution`` or a
      ``general_caution`` rule's ``text`` changes;
    - ``position_group``: its ``members`` lose a kind (avoiding the group would let a
      position through);
    - ``movement`` and ``position``: a shipped one's ``is_a`` changes;
    - ``stretch``: a shipped one, replaced, is done in a position of another base kind
      (its shipped instructions describe the shipped one, and a person who avoids that
      kind, or a rule that rules it out, would no longer leave it out), or loses a
      movement kind that a shipped ``forbid_movement_combination`` rule names (so the
      rule or its caution would no longer apply to it);
    - ``context``: a shipped one's ``dose`` is less gentle: its ``level`` rises from
      ``lowest`` to ``usual``, or its ``range_of_motion`` from ``reduced`` to ``full``
      (no ``dose`` at all is the usual level at full range). After activity and in the
      cool-down the source asks for gentle stretching (p25);
    - ``progression``: the shipped model is removed, or a change lets a dose climb
      sooner or a stretch pause later: a ``pain_during`` or ``pain_after`` band's
      ``green_max`` or ``amber_max`` rises (more green, fewer red), a ``next_morning``
      answer maps to a milder band, ``hold_pain`` or ``reds_to_pause`` rises,
      ``greens_to_step_up`` falls, or ``hold_rungs`` gives some stretch a ladder
      (:func:`sirecommend.progression.ladder`) of fewer rungs from its lowest dose to
      its highest (fewer, bigger steps up). Its name, description and
      citations are free.

    Kinds are compared through ``is_a`` in each knowledge, so spelling a rule with other
    ids of the same kinds is no change. Only an entry a pack replaced (or added) is
    reported: a rule that changes meaning because a movement, position or group it names
    changed is reported once, on that movement, position or group. (A new movement or
    position whose id is a base kind's must be that kind: the loader checks it.)

    Examples
    --------
    >>> from sirecommend import load_knowledge
    >>> from sirecommend._loader import TABLES
    >>> kb = load_knowledge()
    >>> t = {table: getattr(kb, attr) for table, attr in TABLES.items()}
    >>> weakenings(t, t)
    []
    """
    checks = (
        _red_flags,
        _urgencies,
        _rules,
        _groups,
        _is_a,
        _stretches,
        _contexts,
        _progression,
    )
    return [w for check in checks for w in check(shipped, merged)]


def _red_flags(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    rank = {t.id: t.rank for t in shipped["urgency"].values()}
    for old in shipped["red_flag"].values():
        new = merged["red_flag"][old.id]
        if new == old:
            continue
        if rank[new.urgency] < rank[old.urgency]:
            yield Weakening(
                "red_flag",
                old.id,
                "urgency",
                f"lowers the urgency from {old.urgency!r} to {new.urgency!r}",
            )
        for field in ("name", "message"):
            if getattr(new, field) != getattr(old, field):
                yield Weakening(
                    "red_flag", old.id, field, f"changes the {field} a referral gives for this flag"
                )


def _urgencies(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    tiers = shipped["urgency"]
    for old in tiers.values():
        new = merged["urgency"][old.id]
        if new == old:
            continue
        if new.action != old.action:
            yield Weakening("urgency", old.id, "action", "changes what this tier tells a person")
        for other in tiers.values():
            before = (old.rank > other.rank) - (old.rank < other.rank)
            now_rank = merged["urgency"][other.id].rank
            after = (new.rank > now_rank) - (new.rank < now_rank)
            if after != before:
                yield Weakening(
                    "urgency",
                    old.id,
                    "rank",
                    f"rank {new.rank} changes its order against {other.id!r} "
                    f"(rank {now_rank}): the order of the tiers is fixed",
                )


def _same_text(old: Any, new: Any, field: str, what: str) -> Iterator[Weakening]:
    if getattr(new, field) != getattr(old, field):
        yield Weakening("rule", old.id, field, f"changes {what}")


def _rules(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    for old in shipped["rule"].values():
        new = merged["rule"][old.id]
        if new == old:
            continue
        if new.kind != old.kind:
            yield Weakening("rule", old.id, "kind", f"changes the rule from {old.kind!r}")
        elif isinstance(old, RedFlagRule):
            yield from _same_text(old, new, "message", "what every referral tells a person")
        elif isinstance(old, ForbidCombinationRule):
            yield from _forbid(shipped, merged, old, new)
        elif isinstance(old, PregnancyRule):
            yield from _pregnancy(shipped, merged, old, new)
        elif isinstance(old, WhenAggravatedRule):
            yield from _same_text(old, new, "caution", "the caution for aggravated symptoms")
        elif isinstance(old, GeneralCautionRule):  # pragma: no branch - every rule kind
            yield from _same_text(old, new, "text", "a stop rule every routine repeats")
            if old.when == "always" and new.when != "always":
                yield Weakening("rule", old.id, "when", f"shows the stop rule only when {new.when}")
    if not any(isinstance(r, RedFlagRule) for r in shipped["rule"].values()):
        return  # no referral message to keep (knowledge built without the shipped rules)
    for rule in merged["rule"].values():
        if isinstance(rule, RedFlagRule) and rule.id not in shipped["rule"]:
            yield Weakening(
                "rule",
                rule.id,
                "kind",
                "adds a red_flag_referral rule: its message would join what every "
                "referral tells a person",
            )


def _forbid(
    shipped: Tables, merged: Tables, old: ForbidCombinationRule, new: ForbidCombinationRule
) -> Iterator[Weakening]:
    needs = _movement_kinds(merged, new.movements) - _movement_kinds(shipped, old.movements)
    if needs:
        yield Weakening(
            "rule",
            old.id,
            "movements",
            f"also needs {_listed(needs)}, so steps the shipped rule blocks would pass",
        )
    lost = _movement_kinds(shipped, old.caution_movements) - _movement_kinds(
        merged, new.caution_movements
    )
    if lost:
        yield Weakening(
            "rule", old.id, "caution_movements", f"drops the caution for {_listed(lost)}"
        )
    yield from _same_text(old, new, "caution", "the caution steps carry")


def _pregnancy(
    shipped: Tables, merged: Tables, old: PregnancyRule, new: PregnancyRule
) -> Iterator[Weakening]:
    if new.from_trimester > old.from_trimester:
        yield Weakening(
            "rule",
            old.id,
            "from_trimester",
            f"starts at trimester {new.from_trimester}, not {old.from_trimester}",
        )
    lost = _position_kinds(shipped, old.positions) - _position_kinds(merged, new.positions)
    if lost:
        yield Weakening("rule", old.id, "positions", f"no longer rules out {_listed(lost)}")


def _groups(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    for old in shipped["position_group"].values():
        new = merged["position_group"][old.id]
        if new == old:
            continue
        lost = _position_kinds(shipped, old.members) - _position_kinds(merged, new.members)
        if lost:
            yield Weakening(
                "position_group",
                old.id,
                "members",
                f"no longer holds {_listed(lost)}: avoiding the group would let them through",
            )


def _is_a(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    for table in ("movement", "position"):
        for old in shipped[table].values():
            new = merged[table][old.id]
            if new.is_a != old.is_a:
                yield Weakening(
                    table,
                    old.id,
                    "is_a",
                    f"changes its kind from {old.is_a!r} to {new.is_a!r}: rules match by kind",
                )


def _stretches(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    named = frozenset(
        kind
        for rule in shipped["rule"].values()
        if isinstance(rule, ForbidCombinationRule)
        for kind in _movement_kinds(shipped, (*rule.movements, *rule.caution_movements))
    )
    for old in shipped["stretch"].values():
        new = merged["stretch"][old.id]
        if new == old:
            continue
        was = _position_kinds(shipped, (old.position,))
        now = _position_kinds(merged, (new.position,))
        if now != was:
            yield Weakening(
                "stretch",
                old.id,
                "position",
                f"moves it from {_listed(was)} to {_listed(now)}: whoever avoids {_listed(was)}, "
                "or a rule against it, would get it; add a new stretch for another position",
            )
        lost = (
            _movement_kinds(shipped, old.movements) - _movement_kinds(merged, new.movements)
        ) & named
        if lost:
            yield Weakening(
                "stretch",
                old.id,
                "movements",
                f"drops {_listed(lost)}, which a safety rule names: the rule or its caution "
                "would no longer apply to it",
            )


def _contexts(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    for old in shipped["context"].values():
        new = merged["context"][old.id]
        if new == old:
            continue
        (level, motion), (new_level, new_motion) = dose_level(old.dose), dose_level(new.dose)
        harder = [
            f"{what} from {was} to {now}"
            for what, was, now, gentle in (
                ("level", level, new_level, "lowest"),
                ("range of motion", motion, new_motion, "reduced"),
            )
            if was == gentle and now != gentle
        ]
        if harder:
            yield Weakening(
                "context",
                old.id,
                "dose",
                f"doses it less gently ({'; '.join(harder)}): every step of the context "
                "would hold longer or move further than the shipped knowledge gives",
            )


_BAND_RANK = {"green": 0, "amber": 1, "red": 2}


def _bands(old: PainBands, new: PainBands) -> list[str]:
    return [
        f"{limit} from {getattr(old, limit)} to {getattr(new, limit)}"
        for limit in ("green_max", "amber_max")
        if getattr(new, limit) > getattr(old, limit)
    ]


def _progression(shipped: Tables, merged: Tables) -> Iterator[Weakening]:
    for old in shipped["progression"].values():
        new = merged["progression"].get(old.id)
        if new is None:
            yield Weakening(
                "progression",
                old.id,
                "id",
                "removes the shipped progression model: feedback would no longer hold, "
                "lower or pause a dose",
            )
            continue
        if new == old:
            continue
        yield from _progression_changes(merged, old, new)


def _progression_changes(
    merged: Tables, old: ProgressionModel, new: ProgressionModel
) -> Iterator[Weakening]:
    def weaker(field: str, message: str) -> Weakening:
        return Weakening("progression", old.id, field, message)

    for phase in ("pain_during", "pain_after"):
        raised = _bands(getattr(old, phase), getattr(new, phase))
        if raised:
            yield weaker(
                phase,
                f"raises {' and '.join(raised)}: more pain would count as green "
                "(a step up) or amber (no step down)",
            )
    milder = [
        f"{answer!r} to {getattr(new.next_morning, answer)!r} "
        f"(was {getattr(old.next_morning, answer)!r})"
        for answer in ("better", "same", "worse")
        if _BAND_RANK[getattr(new.next_morning, answer)]
        < _BAND_RANK[getattr(old.next_morning, answer)]
    ]
    if milder:
        yield weaker("next_morning", f"maps {', '.join(milder)}: a milder band for that morning")
    if new.hold_pain > old.hold_pain:
        yield weaker(
            "hold_pain",
            f"raises it from {old.hold_pain} to {new.hold_pain}: more pain before nothing goes up",
        )
    if new.reds_to_pause > old.reds_to_pause:
        yield weaker(
            "reds_to_pause",
            f"raises it from {old.reds_to_pause} to {new.reds_to_pause}: a stretch that hurts "
            "would be paused later",
        )
    if new.greens_to_step_up < old.greens_to_step_up:
        yield weaker(
            "greens_to_step_up",
            f"lowers it from {old.greens_to_step_up} to {new.greens_to_step_up}: "
            "doses would go up sooner",
        )
    if new.hold_rungs != old.hold_rungs:
        # Imported here: the engine imports the knowledge base, which imports the loader.
        from sirecommend.progression import ladder

        for stretch in sorted(merged["stretch"].values(), key=lambda s: s.id):
            before, after = ladder(stretch.dosage, old), ladder(stretch.dosage, new)
            if len(after) < len(before):
                yield weaker(
                    "hold_rungs",
                    f"{new.hold_rungs} (was {old.hold_rungs}) gives {stretch.id!r} "
                    f"{len(after)} rungs, not {len(before)}: fewer, bigger steps up from its "
                    "lowest dose to its highest",
                )
                break


def unrelaxed(
    found: Iterable[Weakening], relaxations: Iterable[Relaxation]
) -> tuple[list[Weakening], list[Relaxation]]:
    """The weakenings no relaxation declares, and the relaxations that relax nothing.

    A relaxation covers a weakening with the same table, entry and field.

    >>> from sirecommend._models import Relaxation
    >>> w = Weakening("rule", "pregnancy_no_supine", "from_trimester", "starts at 3")
    >>> r = Relaxation(id="late", table="rule", entry="pregnancy_no_supine",
    ...     field="from_trimester", reason="Clinic protocol.", clinician="Dr A",
    ...     cites=["clinic"])
    >>> unrelaxed([w], [r])
    ([], [])
    >>> unrelaxed([w], [])[0] == [w]
    True
    """
    relaxations = list(relaxations)
    declared = {(r.table, r.entry, r.field) for r in relaxations}
    found = list(found)
    covered = {(w.table, w.entry, w.field) for w in found}
    left = [w for w in found if (w.table, w.entry, w.field) not in declared]
    idle = [r for r in relaxations if (r.table, r.entry, r.field) not in covered]
    return left, idle


def relaxation_lines(relaxations: Iterable[Relaxation]) -> list[str]:
    """Plain-text lines that say which safety rules a clinic relaxed, and who answers for it.

    Empty when nothing is relaxed. Shown at the top of every handout and in
    ``KnowledgeBase.summary()``.

    >>> from sirecommend._models import Relaxation
    >>> r = Relaxation(id="late", table="rule", entry="pregnancy_no_supine",
    ...     field="from_trimester", reason="Clinic protocol.", clinician="Dr A",
    ...     cites=["clinic"])
    >>> print("\\n".join(relaxation_lines([r])))
    SAFETY RULES RELAXED by the clinic that supplied this knowledge:
    - rule 'pregnancy_no_supine', field 'from_trimester': Clinic protocol. Responsible clinician: Dr A. Cited: clinic.
    """  # noqa: E501
    relaxations = list(relaxations)
    if not relaxations:
        return []
    return ["SAFETY RULES RELAXED by the clinic that supplied this knowledge:"] + [
        f"- {r.table} {r.entry!r}, field {r.field!r}: {r.reason} "
        f"Responsible clinician: {r.clinician}. Cited: {', '.join(r.cites)}."
        for r in relaxations
    ]
