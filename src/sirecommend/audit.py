"""An independent safety audit of a finished routine.

Written from the rules, not from the pipeline: it reads only the routine, the
profile and the knowledge tables, and imports nothing from
:mod:`sirecommend.pipeline`. :func:`sirecommend.recommend` runs it on every
routine and raises :class:`~sirecommend.errors.SafetyError` rather than return
one that breaks a rule. The property tests use it as their oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sirecommend._kb import KnowledgeBase
from sirecommend._models import PHASES, ForbidCombinationRule, PregnancyRule, Stretch
from sirecommend._routine import Profile, Routine, Step, Violation

__all__ = ["audit"]


def audit(routine: Routine, profile: Profile, knowledge: KnowledgeBase) -> list[Violation]:
    """Every safety rule the routine breaks for this profile; an empty list when it is safe.

    Examples
    --------
    >>> from sirecommend import load_knowledge, recommend, Profile
    >>> kb = load_knowledge()
    >>> p = Profile(context="after_sitting")
    >>> audit(recommend(p), p, kb)
    []
    """
    found: list[Violation] = []

    def bad(rule: str, message: str, stretch_id: str | None = None) -> None:
        found.append(Violation(rule=rule, message=message, stretch_id=stretch_id))

    kb = knowledge
    if routine.profile is not profile and routine.profile != profile:
        bad("profile", "the routine was made for another profile")
    if routine.context != profile.context:
        bad("profile", f"routine context {routine.context!r} is not {profile.context!r}")
    _audit_red_flags(routine, profile, kb, bad)
    avoided = {p for a in profile.avoid_positions for p in kb.position_members(a)}
    trimester = profile.pregnancy_trimester or 0
    stretches = kb.stretches
    seen: set[str] = set()
    for step in routine.steps:
        sid = step.stretch_id
        st = stretches.get(sid)
        if st is None:
            bad("known_stretch", f"step {sid!r} is not in the knowledge", sid)
            continue
        if sid in seen:
            bad("no_duplicates", f"{sid} appears twice", sid)
        seen.add(sid)
        found.extend(_check_step(kb, step, st))
        # What the profile decides: positions, equipment, pregnancy, aggravation.
        if st.position in avoided:
            bad("avoid_positions", f"{sid} is in avoided position {st.position}", sid)
        if step.equipment is not None and step.equipment not in profile.equipment:
            bad("equipment", f"{sid} uses {step.equipment}, which the person lacks", sid)
        for rule_id, from_trimester in _facts(kb, st).pregnancy if trimester else ():
            if trimester >= from_trimester:
                bad(rule_id, f"{sid} is {st.position} in trimester {trimester}", sid)
        if profile.aggravated:
            lowest = (st.dosage.hold_seconds[0], st.dosage.sets[0])
            if step.range_of_motion != "reduced" or (step.hold_seconds, step.sets) != lowest:
                bad("aggravated", f"{sid} is not at reduced range and the lowest dose", sid)
        elif step.range_of_motion != "full":
            bad("aggravated", f"{sid} is at reduced range though not aggravated", sid)
    _audit_order(routine, bad)
    _audit_time(routine, profile, bad)
    _audit_coverage(routine, profile, kb, bad)
    return found


def _check_step(kb: KnowledgeBase, step: Step, st: Stretch) -> list[Violation]:
    found: list[Violation] = []
    sid = step.stretch_id

    def bad(rule: str, message: str) -> None:
        found.append(Violation(rule=rule, message=message, stretch_id=sid))

    if step.position != st.position:
        bad("position", f"{sid} is done {st.position}, not {step.position}")
    facts = _facts(kb, st)
    if facts.options and step.equipment not in facts.options:
        bad("equipment", f"{sid} cannot be done with {step.equipment!r}")
    if not facts.options and step.equipment is not None:
        bad("equipment", f"{sid} needs no equipment but lists {step.equipment}")
    moves = set(step.movements)
    if moves != facts.movements:
        bad("movements", f"{sid} hides or adds movements")
    for rule_id, combo in facts.combos:
        if combo <= kb.movement_kinds_of(facts.movements | moves):
            bad(rule_id, f"{sid} combines {' and '.join(sorted(combo))}")
    for rule_id, caution in facts.cautions:
        if caution not in step.cautions:
            bad(rule_id, f"{sid} lacks the caution: {caution}")
    lo, hi = st.dosage.hold_seconds
    s_lo, s_hi = st.dosage.sets
    if not (lo <= step.hold_seconds <= hi and s_lo <= step.sets <= s_hi):
        bad(
            "dose",
            f"{sid} dose {step.hold_seconds} s x {step.sets} is outside the source's "
            f"{lo}-{hi} s x {s_lo}-{s_hi}",
        )
    if step.per_side != st.dosage.per_side:
        bad("dose", f"{sid} per_side should be {st.dosage.per_side}")
    if step.seconds < step.hold_seconds * step.sets * step.sides:
        bad("dose", f"{sid} lasts {step.seconds} s, less than its holds")
    if not (step.instructions and step.reasons and step.sources):
        bad("explained", f"{sid} lacks instructions, reasons or sources")
    for cite in step.sources:
        if cite.partition("#")[0] not in kb.sources:
            bad("explained", f"{sid} cites unknown source {cite!r}")
    return found


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the rules say about one stretch, read from the knowledge once."""

    options: tuple[str | None, ...]
    movements: frozenset[str]
    combos: tuple[tuple[str, frozenset[str]], ...]
    cautions: tuple[tuple[str, str], ...]
    pregnancy: tuple[tuple[str, int], ...]


def _facts(kb: KnowledgeBase, st: Stretch) -> _Facts:
    """What the rules say about one stretch, read from the tables on every audit."""
    moves = frozenset(st.movements)
    kinds = kb.movement_kinds_of(moves)
    combos, cautions, pregnancy = [], [], []
    for rule in kb.rules.values():
        if isinstance(rule, ForbidCombinationRule):
            combos.append((rule.id, kb.movement_kinds_of(rule.movements)))
            if kinds & kb.movement_kinds_of(rule.caution_movements):
                cautions.append((rule.id, rule.caution))
        elif isinstance(rule, PregnancyRule) and st.position in {
            p for r in rule.positions for p in kb.position_members(r)
        }:
            pregnancy.append((rule.id, int(rule.from_trimester)))
    return _Facts(
        options=tuple(o.uses for o in st.equipment),
        movements=moves,
        combos=tuple(combos),
        cautions=tuple(cautions),
        pregnancy=tuple(pregnancy),
    )


def _offered(kb: KnowledgeBase, context: str) -> frozenset[str]:
    """Every stretch a context offers: those that suit it and their alternatives."""
    direct = {s.id for s in kb.stretches.values() if any(x.context == context for x in s.suits)}
    return frozenset(direct | {s.id for s in kb.stretches.values() if s.alternative_of in direct})


def _audit_red_flags(routine: Routine, profile: Profile, kb: KnowledgeBase, bad: _Bad) -> None:
    if not profile.red_flags:
        if routine.referral is not None or routine.status == "referred":
            bad("red_flags", "a referral without any red flag")
        return
    if routine.steps:
        bad("red_flags", "red flags reported, yet the routine has steps")
    if routine.referral is None or routine.status != "referred":
        bad("red_flags", "red flags reported, yet no referral")
        return
    ranks = {f: kb.urgencies[kb.red_flags[f].urgency].rank for f in profile.red_flags}
    top = max(ranks.values())
    if kb.urgencies[routine.referral.urgency].rank != top:
        bad("red_flags", f"referral urgency {routine.referral.urgency} is not the highest")
    if not routine.referral.message.strip():
        bad("red_flags", "the referral says nothing")


def _audit_order(routine: Routine, bad: _Bad) -> None:
    phases = [PHASES.index(s.phase) for s in routine.steps]
    if phases != sorted(phases):
        bad("phase_order", "phases are not warm-up, targeted, cool-down")
    left: set[tuple[str, str]] = set()
    current: tuple[str, str] | None = None
    for s in routine.steps:
        block = (s.phase, s.position)
        if block != current:
            if block in left:
                bad(
                    "position_blocks",
                    f"position {s.position} split in phase {s.phase}",
                    s.stretch_id,
                )
            if current is not None:
                left.add(current)
            current = block


def _audit_time(routine: Routine, profile: Profile, bad: _Bad) -> None:
    total = sum(s.seconds for s in routine.steps)
    if routine.total_seconds != total:
        bad("total_seconds", f"total_seconds {routine.total_seconds} is not the sum {total}")
    if profile.minutes is not None and total > profile.minutes * 60:
        bad("time_budget", f"{total} s exceeds {profile.minutes:g} minutes")


def _audit_coverage(routine: Routine, profile: Profile, kb: KnowledgeBase, bad: _Bad) -> None:
    offered = _offered(kb, profile.context)
    stepped = {s.stretch_id for s in routine.steps}
    left_out = [e.stretch_id for e in routine.excluded]
    unique_left_out = set(left_out)
    for sid in sorted(stepped - offered):
        bad("context", f"{sid} does not suit {profile.context}", sid)
    for sid in sorted(offered - stepped - unique_left_out):
        bad("explained", f"{sid} is neither a step nor explained as left out", sid)
    for sid in sorted(stepped & unique_left_out):
        bad("explained", f"{sid} is both a step and left out", sid)
    if len(left_out) != len(unique_left_out):
        bad("explained", "a stretch is left out twice")
    if not routine.steps and routine.status == "ok":
        bad("status", "status ok with no steps")
    if routine.steps and routine.status != "ok":
        bad("status", f"status {routine.status} with steps")


class _Bad(Protocol):  # the reporting callback's type
    def __call__(self, rule: str, message: str, stretch_id: str | None = None) -> None: ...
