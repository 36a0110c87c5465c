"""Safety invariants as property tests, on the shipped knowledge and on generated knowledge.

Each test class is named after the rule it guards and checks that rule straight from
the knowledge, not through :func:`sirecommend.audit`, so a bug shared by the pipeline
and the audit would still show; rules are matched by kind (``is_a``), as the knowledge
says. Each class runs three times: on the shipped knowledge, on it extended by the
``tests/packs/is_a`` pack (a movement and a position the rules do not spell), and on
knowledge bases drawn by :func:`sirecommend.testing.knowledge_bases` (a few profiles
each). The audit itself is tested last: every way of breaking a valid routine that we
list is reported (tests/test_audit.py pins one break per check).
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sirecommend import (
    Exclusion,
    KnowledgeBase,
    Profile,
    Reason,
    ReasonCode,
    Referral,
    Routine,
    Step,
    audit,
    load_knowledge,
    recommend,
)
from sirecommend._loader import knowledge_from_packs
from sirecommend._models import (
    AGGRAVATED_MAX_STEPS,
    PHASES,
    ForbidCombinationRule,
    GeneralCautionRule,
    PackFile,
    PregnancyRule,
)
from sirecommend._recommend import _run
from sirecommend.pipeline import filter_candidates, select
from sirecommend.testing import knowledge_bases, profiles, synthetic_knowledge

# pytest makes a new instance of a test class for every run, and mutmut runs the suite
# more than once in one process: to hypothesis that looks like two "executors" of one
# test method, which is harmless here (and intended for the shared Invariant tests).
REPEATABLE = [*settings.default.suppress_health_check, HealthCheck.differing_executors]


# Strategies take their ids from the shipped knowledge once; tests read the knowledge
# itself through shipped(), so that each session uses the one it loaded (conftest.py).
shipped = load_knowledge
SHIPPED = shipped()
_T = TypeVar("_T")

# Example budgets (settings.default.max_examples is 300 in CI, 100 locally and 2,000
# with HYPOTHESIS_PROFILE=thorough; see conftest.py). On the shipped knowledge, and on
# it extended by the is_a pack, a third of them (100 in CI) per rule: test_exhaustive.py
# runs and audits every profile of a large space anyway. Generated knowledge costs about
# 15 ms per knowledge base to draw and load: each rule gets a fifth (60 in CI, each
# knowledge base checked with up to three profiles), and the audit, which checks every
# rule at once, gets the full budget twice (300 knowledge bases for a clean audit, 300
# for a break reported). In CI: 19 rules x 60 + 300 + 300, plus 300 for the
# filter-by-group test below, about 2,000 generated knowledge bases per run (100 in
# dev: about 700; thorough: about 13,600).
SHIPPED_EXAMPLES = max(10, settings.default.max_examples // 3)
GENERATED_EXAMPLES = max(10, settings.default.max_examples // 5)
AUDIT_EXAMPLES = max(10, settings.default.max_examples)

#: A clinic pack naming a movement and a position the rules do not spell (is_a).
KINDS_PACK = Path(__file__).parent / "packs" / "is_a"


@functools.cache
def _kinds_knowledge() -> KnowledgeBase:
    return load_knowledge(KINDS_PACK)


def with_kinds_pack() -> KnowledgeBase:
    """The shipped knowledge extended by :data:`KINDS_PACK` (loaded once; afresh for each
    call under mutation testing, like the shipped knowledge: see conftest.py)."""
    if os.environ.get("SIRECOMMEND_COLD_KNOWLEDGE"):
        return load_knowledge(KINDS_PACK)
    return _kinds_knowledge()


# --- the rules, restated from the knowledge -------------------------------------------


def position_kind(kb: KnowledgeBase, name: str) -> str:
    """The base kind of a position id, or the name itself (a base kind)."""
    return kb.positions[name].is_a if name in kb.positions else name


def members(kb: KnowledgeBase, position_or_group: str) -> set[str]:
    """Every position a position, group or base kind stands for, matched by kind (is_a)."""
    group = kb.position_groups.get(position_or_group)
    kinds = {position_kind(kb, m) for m in (group.members if group else [position_or_group])}
    return {p.id for p in kb.positions.values() if p.is_a in kinds}


def movement_kinds(kb: KnowledgeBase, movements: Iterable[str]) -> set[str]:
    """The base kinds of movement ids (or of base kind ids, which stand for themselves)."""
    return {kb.movements[m].is_a if m in kb.movements else m for m in movements}


def avoided(kb: KnowledgeBase, profile: Profile) -> set[str]:
    return {p for a in profile.avoid_positions for p in members(kb, a)}


def offered(kb: KnowledgeBase, context: str) -> set[str]:
    """Every stretch a context offers: those linked to it and their alternatives."""
    primaries = {s.id for s in kb.stretches.values() if context in {x.context for x in s.suits}}
    return primaries | {s.id for s in kb.stretches.values() if s.alternative_of in primaries}


def rank(kb: KnowledgeBase, flag: str) -> int:
    return kb.urgencies[kb.red_flags[flag].urgency].rank


def step_ids(routine: Routine) -> list[str]:
    return [s.stretch_id for s in routine.steps]


def with_(profile: Profile, **changes: object) -> Profile:
    return Profile.model_validate({**profile.model_dump(), **changes})


def with_unrestricted(kb: KnowledgeBase, profile: Profile) -> list[Profile]:
    """``profile``, and for generated knowledge, for each context someone with every
    piece of equipment and no limits: the longest routines, where the ordering rules have
    most to do. (For the shipped knowledge, test_exhaustive.py runs them all.)"""
    if kb is shipped():
        return [profile]
    return [profile] + [
        Profile(context=c, aggravated=profile.aggravated, equipment=set(kb.equipment))
        for c in kb.contexts
    ]


# Built once: building a strategy inside every example costs more than the example.
SHIPPED_PROFILES = {flags: profiles(SHIPPED, red_flags=flags) for flags in (None, True, False)}
KINDS_PROFILES = {
    flags: profiles(with_kinds_pack(), red_flags=flags) for flags in (None, True, False)
}
budgets = st.none() | st.integers(1, 40).map(float) | st.floats(0.25, 60.0)


# --- one class per rule, each run on shipped and generated knowledge ------------------


class Invariant:
    """A safety rule: :meth:`check` it for any valid knowledge and profile."""

    #: Which profiles to draw: True = always red flags, False = never, None = both.
    red_flags: ClassVar[bool | None] = None

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        raise NotImplementedError

    # Every subclass runs these same two tests (see REPEATABLE).
    @settings(max_examples=SHIPPED_EXAMPLES, suppress_health_check=REPEATABLE)
    @given(data=st.data())
    def test_shipped_knowledge(self, data: st.DataObject) -> None:
        profile = data.draw(SHIPPED_PROFILES[self.red_flags], label="profile")
        self.check(shipped(), profile, data)

    @settings(max_examples=SHIPPED_EXAMPLES, suppress_health_check=REPEATABLE)
    @given(data=st.data())
    def test_knowledge_with_a_kinds_pack(self, data: st.DataObject) -> None:
        profile = data.draw(KINDS_PROFILES[self.red_flags], label="profile")
        self.check(with_kinds_pack(), profile, data)

    @settings(max_examples=GENERATED_EXAMPLES, suppress_health_check=REPEATABLE)
    @given(kb=knowledge_bases(), data=st.data())
    def test_generated_knowledge(self, kb: KnowledgeBase, data: st.DataObject) -> None:
        self.check_generated(kb, data)

    def check_generated(self, kb: KnowledgeBase, data: st.DataObject) -> None:
        assume(kb.red_flags or not self.red_flags)
        drawn = profiles(kb, red_flags=self.red_flags)
        for profile in data.draw(st.lists(drawn, min_size=1, max_size=3), label="profiles"):
            self.check(kb, profile, data)


class TestRedFlagsStopTheRoutineAndReferAtTheHighestUrgency(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        if not profile.red_flags:
            assert routine.referral is None
            assert routine.status != "referred"
            return
        assert routine.steps == ()
        assert routine.status == "referred"
        assert routine.referral is not None
        top = max(rank(kb, f) for f in profile.red_flags)
        assert kb.urgencies[routine.referral.urgency].rank == top
        # Every flag reported is named, most urgent first; the message leads with the action.
        assert set(routine.referral.red_flags) == profile.red_flags
        ranks = [rank(kb, f) for f in routine.referral.red_flags]
        assert ranks == sorted(ranks, reverse=True)
        assert routine.referral.flag_names == tuple(
            kb.red_flags[f].name for f in routine.referral.red_flags
        )
        assert routine.referral.action == kb.urgencies[routine.referral.urgency].action
        assert routine.referral.message.startswith(routine.referral.action)
        assert {e.stretch_id for e in routine.excluded} == offered(kb, profile.context)
        assert all(r.code == "red_flag" for e in routine.excluded for r in e.reasons)


class TestAggravatedRoutinesAreShortAndWithinTheBudget(Invariant):
    """At most AGGRAVATED_MAX_STEPS when aggravated; never over the person's budget or,
    without one, the context's default."""

    red_flags = False

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        if profile.aggravated:
            assert len(routine.steps) <= AGGRAVATED_MAX_STEPS
        minutes = profile.minutes
        if minutes is None:
            minutes = kb.contexts[profile.context].default_minutes
        if minutes is not None:
            assert routine.total_seconds <= minutes * 60


class TestEachPhaseRunsTheWayTheContextSays(Invariant):
    """In a lying-to-standing context no step lies lower than the one before, over the
    whole routine, never back toward lying (the lead steps, such as the warm-up's
    rolling, open it and run upward among themselves), and every lead step comes first."""

    red_flags = False

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        context = kb.contexts[profile.context]
        steps = _run(kb, profile).steps
        lead = kb.movement_kinds_of(context.lead_movements)
        leads = [not lead.isdisjoint(kb.movement_kinds_of(s.movements)) for s in steps]
        assert leads == sorted(leads, reverse=True)
        if context.order != "lying_to_standing":
            return
        for (a, lead_a), (b, lead_b) in itertools.pairwise(zip(steps, leads, strict=True)):
            if lead_a == lead_b:
                assert kb.positions[b.position].sequence <= kb.positions[a.position].sequence


class TestStopRulesForWhoTheRoutineIsFor(Invariant):
    """Every general caution in rule order; those for pregnancy only for a trimester."""

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        pregnant = profile.pregnancy_trimester is not None
        expected = tuple(
            r.text
            for r in kb.rules.values()
            if isinstance(r, GeneralCautionRule) and (pregnant or r.when == "always")
        )
        assert _run(kb, profile).cautions == expected

    def test_an_emergency_flag_outranks_the_others(self) -> None:
        routine = recommend(context="after_sitting", red_flags={"fever", "saddle_numbness"})
        assert routine.referral is not None
        assert routine.referral.urgency == "emergency"
        assert routine.referral.red_flags == ("saddle_numbness", "fever")


class TestNoStepUsesEquipmentThePersonLacks(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for step in _run(kb, profile).steps:
            options = [o.uses for o in kb.stretches[step.stretch_id].equipment]
            assert step.equipment is None or step.equipment in profile.equipment
            if options:
                assert step.equipment in options
            else:
                assert step.equipment is None
            assert step.equipment_name == (
                kb.equipment[step.equipment].name if step.equipment else None
            )


class TestNoStepInAnAvoidedPosition(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for step in _run(kb, profile).steps:
            position = kb.stretches[step.stretch_id].position
            assert step.position == position
            assert position not in avoided(kb, profile)

    @settings(suppress_health_check=REPEATABLE)
    @given(profiles(SHIPPED, red_flags=False))
    def test_avoiding_the_floor_leaves_only_standing_steps(self, profile: Profile) -> None:
        floor = with_(profile, avoid_positions={*profile.avoid_positions, "floor"})
        assert {s.position for s in _run(shipped(), floor).steps} <= {"standing"}


class TestNoLyingOnTheBackFromTheSecondTrimester(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        trimester = profile.pregnancy_trimester
        if trimester is None:
            return
        for rule in kb.rules.values():
            if isinstance(rule, PregnancyRule) and trimester >= rule.from_trimester:
                ruled_out = {p for r in rule.positions for p in members(kb, r)}
                for step in routine.steps:
                    assert kb.stretches[step.stretch_id].position not in ruled_out
        if kb is shipped() and trimester >= 2:
            # Neither on the back nor face down (a roller under the bump), from week 13.
            assert not {"supine", "prone"} & {s.position for s in routine.steps}


class TestNoStepCombinesRotationWithASideBend(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for step in _run(kb, profile).steps:
            movements = set(kb.stretches[step.stretch_id].movements)
            assert set(step.movements) == movements
            kinds = movement_kinds(kb, movements)
            for rule in kb.rules.values():
                if isinstance(rule, ForbidCombinationRule):
                    assert not movement_kinds(kb, rule.movements) <= kinds
                    if kinds & movement_kinds(kb, rule.caution_movements):
                        assert rule.caution in step.cautions
            if kb is shipped():
                assert not {"rotation", "side_bend"} <= movements
                if "side_bend" in movements:
                    assert any("do not twist" in c for c in step.cautions)


class TestDoseStaysInTheSourceRangeAndIsLowestWhenAggravated(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for step in _run(kb, profile).steps:
            dosage = kb.stretches[step.stretch_id].dosage
            assert dosage.hold_seconds[0] <= step.hold_seconds <= dosage.hold_seconds[1]
            assert dosage.sets[0] <= step.sets <= dosage.sets[1]
            assert step.per_side == dosage.per_side
            level = kb.contexts[profile.context].dose  # the context's (None: usual, full)
            if profile.aggravated:
                assert step.range_of_motion == "reduced"
                assert (step.hold_seconds, step.sets) == (dosage.hold_seconds[0], dosage.sets[0])
            else:
                assert step.range_of_motion == ("full" if level is None else level.range_of_motion)
                if level is not None and level.level == "lowest":
                    assert (step.hold_seconds, step.sets) == (
                        dosage.hold_seconds[0],
                        dosage.sets[0],
                    )


def leading(kb: KnowledgeBase, context: str, steps: Sequence[Step]) -> list[bool]:
    """Per step, whether it involves one of the context's lead movements (it opens)."""
    lead = kb.movement_kinds_of(kb.contexts[context].lead_movements)
    return [not lead.isdisjoint(kb.movement_kinds_of(s.movements)) for s in steps]


class TestPhasesRunWarmUpTargetedCoolDown(Invariant):
    """Phases in turn: after the lead steps, and among them; from lying to standing,
    inside each position block (the phases interleave over the routine)."""

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for p in with_unrestricted(kb, profile):
            upward = kb.contexts[p.context].order == "lying_to_standing"
            steps = _run(kb, p).steps
            segments: dict[tuple[bool, str], list[int]] = {}
            for s, lead in zip(steps, leading(kb, p.context, steps), strict=True):
                segment = (lead, s.position if upward else "")
                segments.setdefault(segment, []).append(PHASES.index(s.phase))
            for phases in segments.values():
                assert phases == sorted(phases)


class TestEachPositionIsOneBlockWithinAPhase(Invariant):
    """Each position one block: within a phase, or from lying to standing over the
    whole routine (the lead steps apart)."""

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for p in with_unrestricted(kb, profile):
            upward = kb.contexts[p.context].order == "lying_to_standing"
            steps = _run(kb, p).steps
            blocks: list[tuple[bool, str, str]] = []
            for step, lead in zip(steps, leading(kb, p.context, steps), strict=True):
                block = (lead, "" if upward else step.phase, step.position)
                if not blocks or blocks[-1] != block:
                    blocks.append(block)
            assert len(blocks) == len(set(blocks)), blocks


class TestTotalStaysWithinTheTimeBudget(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        # The person's budget, else the context's default (a break from sitting: 10 min).
        minutes = profile.minutes
        if minutes is None:
            minutes = kb.contexts[profile.context].default_minutes
        if minutes is not None:
            assert routine.total_seconds <= minutes * 60
        dropped = [e for e in routine.excluded if any(r.code == "time_budget" for r in e.reasons)]
        assert not (dropped and minutes is None)


class TestALargerBudgetNeverGivesAShorterRoutine(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        other = data.draw(budgets, label="other budget")
        default = kb.contexts[profile.context].default_minutes  # no minutes: the default

        def budget(m: float | None) -> float:
            return m if m is not None else math.inf if default is None else default

        short, long_ = sorted((profile.minutes, other), key=budget)
        total_short = _run(kb, with_(profile, minutes=short)).total_seconds
        total_long = _run(kb, with_(profile, minutes=long_)).total_seconds
        assert total_short <= total_long


class TestNoStretchIsDoneTwice(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        ids = step_ids(routine)
        assert len(ids) == len(set(ids))
        # An alternative stands in for its primary; both are never steps.
        assert not {s.replaces for s in routine.steps} & set(ids)
        assert not {kb.stretches[i].alternative_of for i in ids} & set(ids)


class TestTotalSecondsIsTheSumOfTheSteps(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        assert routine.total_seconds == sum(s.seconds for s in routine.steps)
        for s in routine.steps:
            assert s.seconds >= s.hold_seconds * s.sets * s.sides


class TestEveryStepIsExplainedAndCited(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        for step in _run(kb, profile).steps:
            stretch = kb.stretches[step.stretch_id]
            assert step.instructions
            assert all(t.strip() for t in step.instructions)
            assert step.reasons
            assert all(t.strip() for t in step.reasons)
            assert step.sources
            assert {c.split("#")[0] for c in step.sources} <= set(kb.sources)
            assert set(stretch.cites) | set(stretch.dosage.cites) <= set(step.sources)
            own = [n.text for n in stretch.instructions]
            if stretch.choose_one:  # its own words, then a line per group it offers (p15)
                start = 1 if stretch.equipment else 0
                assert own == list(step.instructions[start : start + len(own)])
                assert len(step.instructions) > start + len(own)
            else:
                assert own == list(step.instructions[-len(own) :])


class TestEveryStretchOfTheContextIsAStepOrExcludedWithAReason(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        steps = step_ids(routine)
        excluded = [e.stretch_id for e in routine.excluded]
        assert len(excluded) == len(set(excluded))
        assert not set(steps) & set(excluded)
        assert set(steps) | set(excluded) == offered(kb, profile.context)
        for e in routine.excluded:
            assert e.reasons
            assert all(r.message.strip() for r in e.reasons)
        assert routine.status == (
            "referred" if profile.red_flags else "ok" if steps else "nothing_fits"
        )


def assert_only_substitutes_or_drops(before: Routine, after: Routine) -> None:
    """Without a time budget, a stricter profile never brings a new stretch, only a stand-in
    or a step the length cap (MAX_STEPS) or the context's default budget left out before,
    now that there is room."""
    room = (ReasonCode.ROUTINE_LENGTH, ReasonCode.TIME_BUDGET)
    if after.profile.minutes is None:
        capped = {e.stretch_id for e in before.excluded if e.reasons[-1].code in room}
        new = [s for s in after.steps if s.stretch_id not in step_ids(before)]
        assert all(s.replaces is not None or s.stretch_id in capped for s in new), new


class TestAvoidingAPositionNeverAddsAStepInIt(Invariant):
    red_flags = False

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        extra = data.draw(st.sampled_from(sorted([*kb.positions, *kb.position_groups])))
        before = _run(kb, profile)
        after = _run(kb, with_(profile, avoid_positions={*profile.avoid_positions, extra}))
        in_it = members(kb, extra)
        assert not [s for s in after.steps if s.position in in_it]
        assert_only_substitutes_or_drops(before, after)


class TestAddingARedFlagNeverAddsAStep(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        assume(kb.red_flags)
        flag = data.draw(st.sampled_from(sorted(kb.red_flags)))
        before = _run(kb, profile)
        after = _run(kb, with_(profile, red_flags={*profile.red_flags, flag}))
        assert set(step_ids(after)) <= set(step_ids(before))
        assert after.steps == ()


class TestRemovingEquipmentNeverAddsAStepThatUsesIt(Invariant):
    red_flags = False

    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        assume(profile.equipment)
        gone = data.draw(st.sampled_from(sorted(profile.equipment)))
        before = _run(kb, profile)
        after = _run(kb, with_(profile, equipment=profile.equipment - {gone}))
        assert not [s for s in after.steps if s.equipment == gone]
        assert_only_substitutes_or_drops(before, after)


class TestRoutinesAreDeterministic(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        first, second = _run(kb, profile), recommend(profile, knowledge=kb)
        assert first == second
        assert first.model_dump_json() == second.model_dump_json()


class TestRoutineJsonRoundTrips(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        routine = _run(kb, profile)
        assert Routine.model_validate_json(routine.model_dump_json()) == routine
        assert Profile.model_validate_json(profile.model_dump_json()) == profile


class TestAuditFindsNothing(Invariant):
    def check(self, kb: KnowledgeBase, profile: Profile, data: st.DataObject) -> None:
        assert audit(_run(kb, profile), profile, kb) == []

    @settings(max_examples=AUDIT_EXAMPLES, suppress_health_check=REPEATABLE)
    @given(kb=knowledge_bases(), data=st.data())
    def test_generated_knowledge(self, kb: KnowledgeBase, data: st.DataObject) -> None:
        self.check_generated(kb, data)


# --- the checker: every break of a valid routine is reported ---------------------------

#: A way to break a routine: (knowledge, profile, valid routine) -> the broken routine and
#: the profile to audit it against, or None when it does not apply to this routine.
Broken = tuple[Routine, Profile] | None
Breaker = Callable[[KnowledgeBase, Profile, Routine], Broken]


def _step(routine: Routine, i: int, **changes: object) -> tuple[Step, ...]:
    steps = list(routine.steps)
    steps[i] = steps[i].model_copy(update=changes)
    return tuple(steps)


def _first(items: Iterable[_T]) -> _T | None:
    return next(iter(items), None)


class Break:
    """One rule broken in one way, and the audit rule(s) expected to report it."""

    def __init__(self, name: str, expect: str, breaker: Breaker) -> None:
        self.name, self.expect, self.breaker = name, expect, breaker

    def __repr__(self) -> str:
        return f"Break({self.name!r})"

    def expected(self, kb: KnowledgeBase) -> set[str]:
        """The audit check (sirecommend.safety.CHECKS) that must report this break."""
        return {self.expect}


def _another_profile(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    return r, with_(p, aggravated=not p.aggravated)


def _other_context(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    other = next((c for c in kb.contexts if c != p.context), None)
    return None if other is None else (r.model_copy(update={"context": other}), p)


def _flag_with_steps(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not (r.steps and kb.red_flags):
        return None
    flagged = with_(p, red_flags={min(kb.red_flags)})
    return r.model_copy(update={"profile": flagged}), flagged


def _lower_urgency(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if r.referral is None:
        return None
    top = kb.urgencies[r.referral.urgency].rank
    lower = _first(u for u in kb.urgencies.values() if u.rank < top)
    if lower is None:
        return None
    referral = r.referral.model_copy(update={"urgency": lower.id})
    return r.model_copy(update={"referral": referral}), p


def _referral_without_flags(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if p.red_flags:
        return None
    referral = Referral(urgency="urgent", red_flags=(), message="Go.")
    return r.model_copy(update={"referral": referral}), p


def _referred_without_flags(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    return None if p.red_flags else (r.model_copy(update={"status": "referred"}), p)


def _flagged_not_referred(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not p.red_flags:
        return None
    return r.model_copy(update={"status": "nothing_fits"}), p


def _silent_referral(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if r.referral is None:
        return None
    return r.model_copy(update={"referral": r.referral.model_copy(update={"message": " "})}), p


def _avoid_a_step(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.steps:
        return None
    stricter = with_(p, avoid_positions={*p.avoid_positions, r.steps[-1].position})
    return r.model_copy(update={"profile": stricter}), stricter


def _lacking(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    lacked = _first(e for e in kb.equipment if e not in p.equipment)
    if not r.steps or lacked is None:
        return None
    return r.model_copy(update={"steps": _step(r, 0, equipment=lacked)}), p


def _rotate_while_bending(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    rule = _first(x for x in kb.rules.values() if isinstance(x, ForbidCombinationRule))
    if not r.steps or rule is None:
        return None
    movements = (*r.steps[0].movements, *rule.movements)
    return r.model_copy(update={"steps": _step(r, 0, movements=movements)}), p


def _exactly_the_combination(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    """A step that does exactly the forbidden movements, no more."""
    for rule in kb.rules.values():
        if isinstance(rule, ForbidCombinationRule):
            for i, s in enumerate(r.steps):
                if set(s.movements) <= set(rule.movements):
                    return r.model_copy(update={"steps": _step(r, i, movements=rule.movements)}), p
    return None


def _drop_caution(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    for i, s in enumerate(r.steps):
        movements = set(kb.stretches[s.stretch_id].movements)
        for rule in kb.rules.values():
            if isinstance(rule, ForbidCombinationRule) and movements & set(rule.caution_movements):
                return r.model_copy(update={"steps": _step(r, i, cautions=())}), p
    return None


def _pregnant(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    for s in r.steps:
        for rule in kb.rules.values():
            if isinstance(rule, PregnancyRule) and s.position in {
                m for x in rule.positions for m in members(kb, x)
            }:
                # Exactly the trimester the rule starts at.
                pregnant = with_(p, pregnancy_trimester=rule.from_trimester)
                return r.model_copy(update={"profile": pregnant}), pregnant
    return None


def _dose(**changes: Callable[[Step, KnowledgeBase], object]) -> Breaker:
    def breaker(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
        if not r.steps:
            return None
        s = r.steps[0]
        update = {k: f(s, kb) for k, f in changes.items()}
        return r.model_copy(update={"steps": _step(r, 0, **update)}), p

    return breaker


def _not_lowest(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    for i, s in enumerate(r.steps):
        low, high = kb.stretches[s.stretch_id].dosage.hold_seconds
        if p.aggravated and low < high:
            return r.model_copy(update={"steps": _step(r, i, hold_seconds=high)}), p
    return None


def _range(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.steps:
        return None
    flipped = "full" if r.steps[0].range_of_motion == "reduced" else "reduced"
    return r.model_copy(update={"steps": _step(r, 0, range_of_motion=flipped)}), p


def _reverse_phases(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if len({s.phase for s in r.steps}) < 2:
        return None
    return r.model_copy(update={"steps": r.steps[::-1]}), p


def _split_block(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    for phase in PHASES:
        idx = [i for i, s in enumerate(r.steps) if s.phase == phase]
        if len({r.steps[i].position for i in idx}) >= 2:
            steps = list(r.steps)
            steps.insert(idx[-1] + 1, steps[idx[0]])
            return r.model_copy(update={"steps": tuple(steps)}), p
    return None


def _over_budget(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.steps:
        return None
    tight = with_(p, minutes=(r.total_seconds - 1) / 60)
    return r.model_copy(update={"profile": tight}), tight


def _steps(fn: Callable[[Routine], tuple[Step, ...]]) -> Breaker:
    def breaker(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
        return (r.model_copy(update={"steps": fn(r)}), p) if r.steps else None

    return breaker


def _total_off_by_one(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    return r.model_copy(update={"total_seconds": r.total_seconds + 1}), p


def _unexplained(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.excluded:
        return None
    return r.model_copy(update={"excluded": r.excluded[1:]}), p


def _excluded_twice(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.excluded:
        return None
    return r.model_copy(update={"excluded": (*r.excluded, r.excluded[0])}), p


def _step_and_excluded(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if not r.steps:
        return None
    s = r.steps[0]
    why = Reason(code=ReasonCode.REPLACED, message="Replaced.")
    also = Exclusion(stretch_id=s.stretch_id, name=s.name, reasons=(why,))
    return r.model_copy(update={"excluded": (*r.excluded, also)}), p


def _foreign_step(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    foreign = _first(sorted(set(kb.stretches) - offered(kb, p.context)))
    if not r.steps or foreign is None:
        return None
    return r.model_copy(update={"steps": _step(r, 0, stretch_id=foreign)}), p


def _status(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    if r.status == "referred":
        return None
    return r.model_copy(update={"status": "nothing_fits" if r.steps else "ok"}), p


def _ok_without_steps(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    return (r.model_copy(update={"status": "ok"}), p) if r.status == "nothing_fits" else None


def _choice_step(kb: KnowledgeBase, r: Routine) -> int | None:
    """The index of the step of a choice (``choose_one``, p15) in ``r``, if any."""
    return _first(i for i, s in enumerate(r.steps) if kb.stretches[s.stretch_id].choose_one)


def _group_beside_choice(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    """A group the choice offers, rolled on its own step too."""
    i = _choice_step(kb, r)
    if i is None:
        return None
    offered = {e.stretch_id for e in r.excluded if e.reasons[-1].other == r.steps[i].stretch_id}
    member = min(offered)
    excluded = tuple(e for e in r.excluded if e.stretch_id != member)
    steps = (*r.steps, r.steps[i].model_copy(update={"stretch_id": member}))
    return r.model_copy(update={"steps": steps, "excluded": excluded}), p


def _group_not_offered(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    """The choice step without the last group it offers."""
    i = _choice_step(kb, r)
    if i is None:
        return None
    instructions = r.steps[i].instructions[:-1]
    return r.model_copy(update={"steps": _step(r, i, instructions=instructions)}), p


BREAKS = [
    Break("another profile", "profile", _another_profile),
    Break("another context", "profile", _other_context),
    Break("steps despite a red flag", "red_flag_stop", _flag_with_steps),
    Break("referral below the highest urgency", "referral_urgency", _lower_urgency),
    Break("referral without a red flag", "red_flag_stop", _referral_without_flags),
    Break("referred without a red flag", "status", _referred_without_flags),
    Break("red flags but not referred", "status", _flagged_not_referred),
    Break("referral that says nothing", "referral_words", _silent_referral),
    Break("unknown stretch", "known_stretch", _dose(stretch_id=lambda s, kb: "no_such_stretch")),
    Break("a stretch twice", "accounted", _steps(lambda r: (*r.steps, r.steps[0]))),
    Break("wrong position", "position", _dose(position=lambda s, kb: f"not_{s.position}")),
    Break("avoided position", "avoided_position", _avoid_a_step),
    Break("equipment the person lacks", "equipment", _lacking),
    Break("hidden movement", "movements", _dose(movements=lambda s, kb: s.movements[1:])),
    Break("forbidden combination", "forbidden_combination", _rotate_while_bending),
    Break("exactly the combination", "forbidden_combination", _exactly_the_combination),
    Break("missing caution", "cautions", _drop_caution),
    Break("pregnancy", "pregnancy", _pregnant),
    Break(
        "hold above the range",
        "dose",
        _dose(hold_seconds=lambda s, kb: kb.stretches[s.stretch_id].dosage.hold_seconds[1] + 1),
    ),
    Break(
        "hold below the range",
        "dose",
        _dose(hold_seconds=lambda s, kb: kb.stretches[s.stretch_id].dosage.hold_seconds[0] - 1),
    ),
    Break(
        "too many sets",
        "dose",
        _dose(sets=lambda s, kb: kb.stretches[s.stretch_id].dosage.sets[1] + 1),
    ),
    Break(
        "too few sets",
        "dose",
        _dose(sets=lambda s, kb: kb.stretches[s.stretch_id].dosage.sets[0] - 1),
    ),
    Break("sides", "dose", _dose(per_side=lambda s, kb: not s.per_side)),
    Break("shorter than its holds", "seconds", _dose(seconds=lambda s, kb: 0)),
    Break("not the lowest dose when aggravated", "dose", _not_lowest),
    Break("range of motion", "dose", _range),
    Break("phases out of order", "phase_order", _reverse_phases),
    Break("position split", "position_blocks", _split_block),
    Break("total is not the sum", "total_seconds", _total_off_by_one),
    Break("over the budget", "time_budget", _over_budget),
    Break("no instructions", "instructions", _dose(instructions=lambda s, kb: ())),
    Break("no reasons", "explained", _dose(reasons=lambda s, kb: ())),
    Break("no sources", "explained", _dose(sources=lambda s, kb: ())),
    Break(
        "unknown source", "explained", _dose(sources=lambda s, kb: (*s.sources, "no-such-source"))
    ),
    Break("left out without a word", "accounted", _unexplained),
    Break("left out twice", "accounted", _excluded_twice),
    Break("a step and left out", "accounted", _step_and_excluded),
    Break("a stretch of another context", "context", _foreign_step),
    Break("status", "status", _status),
    Break("ok without steps", "status", _ok_without_steps),
    Break("a group rolled beside its choice", "sore_group", _group_beside_choice),
    Break("a group the choice leaves out", "choice_offers", _group_not_offered),
]


def reported(brk: Break, kb: KnowledgeBase, profile: Profile) -> bool | None:
    """Whether the audit reports ``brk`` on the valid routine for ``profile`` (None: n/a)."""
    routine = _run(kb, profile)
    assert audit(routine, profile, kb) == []
    broken = brk.breaker(kb, profile, routine)
    if broken is None:
        return None
    found = {v.rule for v in audit(*broken, kb)}
    assert found & brk.expected(kb), f"{brk.name}: audit found only {sorted(found)}"
    return True


class TestAuditReportsEveryBreak:
    @settings(suppress_health_check=REPEATABLE)
    @given(profile=profiles(SHIPPED), data=st.data())
    def test_shipped_knowledge(self, profile: Profile, data: st.DataObject) -> None:
        kb = shipped()
        routine = _run(kb, profile)
        usable = [b for b in BREAKS if b.breaker(kb, profile, routine) is not None]
        reported(data.draw(st.sampled_from(usable), label="break"), kb, profile)

    @settings(suppress_health_check=REPEATABLE)
    @given(profile=KINDS_PROFILES[None], data=st.data())
    def test_knowledge_with_a_kinds_pack(self, profile: Profile, data: st.DataObject) -> None:
        kb = with_kinds_pack()
        routine = _run(kb, profile)
        usable = [b for b in BREAKS if b.breaker(kb, profile, routine) is not None]
        reported(data.draw(st.sampled_from(usable), label="break"), kb, profile)

    @settings(max_examples=AUDIT_EXAMPLES, suppress_health_check=REPEATABLE)
    @given(kb=knowledge_bases(), data=st.data())
    def test_generated_knowledge(self, kb: KnowledgeBase, data: st.DataObject) -> None:
        profile = data.draw(profiles(kb), label="profile")
        routine = _run(kb, profile)
        usable = [b for b in BREAKS if b.breaker(kb, profile, routine) is not None]
        assume(usable)
        reported(data.draw(st.sampled_from(usable), label="break"), kb, profile)

    @pytest.mark.parametrize("brk", BREAKS, ids=lambda b: b.name.replace(" ", "_"))
    def test_each_break_is_reported_on_some_shipped_routine(self, brk: Break) -> None:
        # A handful of profiles between them give every break something to break.
        candidates = [
            Profile(context="after_sitting", equipment={"strap"}),
            Profile(context="after_sitting", aggravated=True, pregnancy_trimester=1),
            Profile(context="after_sitting", red_flags={"fever", "saddle_numbness"}),
            Profile(context="after_sitting", red_flags={"fever"}),
            Profile(context="after_sitting", avoid_positions={"floor", "standing"}),
            Profile(context="warm_up", equipment={"foam_roller"}, pregnancy_trimester=2),
        ]
        assert any(reported(brk, shipped(), p) for p in candidates)


# --- regressions: bugs the properties found, each pinned by name ----------------------


def tiny_knowledge(*rules: dict[str, object]) -> KnowledgeBase:
    """Three stretches in one context and phase, in positions ``pa`` and ``pb`` that share
    a sequence, citing paragraphs 1, 2, 3 (so ``pb`` sorts between the two ``pa``)."""
    cites = ["g"]

    def stretch(i: int, position: str) -> dict[str, object]:
        return {
            "id": f"s{i}",
            "name": f"S{i}",
            "phase": "targeted",
            "position": position,
            "movements": ["m"],
            "targets": ["mu"],
            "dosage": {"hold_seconds": [10, 20], "sets": [1, 1], "per_side": False, "cites": cites},
            "instructions": [{"text": "Do it.", "cites": cites}],
            "suits": [{"context": "c", "cites": cites}],
            "cites": [f"a#p{i}"],
        }

    pack = PackFile.model_validate(
        {
            "source": [
                {"id": "g", "kind": "guideline", "title": "G", "publisher": "P"},
                {"id": "a", "kind": "article", "title": "A", "publisher": "P", "paragraphs": 9},
            ],
            "muscle": [{"id": "mu", "name": "Mu", "cites": cites}],
            "movement": [{"id": "m", "name": "M", "is_a": "hip_flexion", "cites": cites}],
            "context": [{"id": "c", "name": "C", "cites": cites}],
            "position": [
                {"id": "pa", "name": "A", "sequence": 10, "is_a": "standing", "cites": cites},
                {"id": "pb", "name": "B", "sequence": 10, "is_a": "seated_chair", "cites": cites},
            ],
            "stretch": [stretch(1, "pa"), stretch(2, "pb"), stretch(3, "pa")],
            "rule": list(rules),
        }
    )
    return knowledge_from_packs(pack)


def test_positions_sharing_a_sequence_are_not_interleaved() -> None:
    """Two positions with one ``sequence`` shared a block, so their steps interleaved
    by citation and a position was split (found by the generated knowledge)."""
    routine = recommend(Profile(context="c"), knowledge=tiny_knowledge())
    assert [(s.stretch_id, s.position) for s in routine.steps] == [
        ("s1", "pa"),
        ("s3", "pa"),
        ("s2", "pb"),
    ]


def test_a_pregnancy_rule_from_the_first_trimester_spares_who_is_not_pregnant() -> None:
    rule = {
        "id": "early",
        "kind": "pregnancy_avoid_position",
        "name": "Early",
        "from_trimester": 1,
        "positions": ["pa"],
        "reason": "Not in pregnancy.",
        "cites": ["g"],
    }
    kb = tiny_knowledge(rule)
    not_pregnant = Profile(context="c")
    routine = recommend(not_pregnant, knowledge=kb)
    assert [s.stretch_id for s in routine.steps] == ["s1", "s3", "s2"]
    assert audit(routine, not_pregnant, kb) == []
    pregnant = with_(not_pregnant, pregnancy_trimester=1)
    assert [s.stretch_id for s in recommend(pregnant, knowledge=kb).steps] == ["s2"]
    found = audit(routine.model_copy(update={"profile": pregnant}), pregnant, kb)
    assert [(v.rule, v.stretch_id) for v in found] == [("pregnancy", "s1"), ("pregnancy", "s3")]
    assert all("(early)" in v.message for v in found)


# --- the audit's words: what it reports for each break, pinned --------------------------

GOLDEN = Path(__file__).parent / "golden" / "audit_breaks.json"
# A budget with room for every step (a break from sitting is about 10 minutes by default).
BREAK_PROFILES = [
    Profile(context="after_sitting", equipment={"strap"}, minutes=60.0),
    Profile(context="after_sitting", aggravated=True, pregnancy_trimester=1, minutes=60.0),
    Profile(context="after_sitting", red_flags={"fever", "saddle_numbness"}),
    Profile(context="after_sitting", red_flags={"fever"}),
    Profile(context="after_sitting", avoid_positions={"floor", "standing"}, minutes=60.0),
    Profile(context="warm_up", equipment={"foam_roller"}, pregnancy_trimester=2),
]


def _two_breaks(kb: KnowledgeBase, p: Profile, r: Routine) -> Broken:
    """An unknown first step, then a broken second one: the audit must go on past the first."""
    if len(r.steps) < 2:
        return None
    steps = _step(r, 0, stretch_id="no_such_stretch")
    steps = (*steps[:1], steps[1].model_copy(update={"hold_seconds": 10_000}), *steps[2:])
    return r.model_copy(update={"steps": steps}), p


def audit_report() -> dict[str, list[str]]:
    """For every break, on the first shipped profile it applies to: what the audit says."""
    kb, report = shipped(), {}
    extra = [
        Break("two breaks", "known_stretch", _two_breaks),
    ]
    for brk in [*BREAKS, *extra]:
        for profile in BREAK_PROFILES:
            broken = brk.breaker(kb, profile, _run(kb, profile))
            if broken is not None:
                found = audit(*broken, kb)
                report[brk.name] = [f"{v.rule}: {v.message} [{v.stretch_id}]" for v in found]
                break
    return report


def test_the_audit_reports_each_break_in_its_own_words() -> None:
    """Golden file; after a deliberate change of wording, regenerate it with
    ``SIRECOMMEND_UPDATE_GOLDEN=1 pytest tests/test_properties.py -k own_words``."""
    report = audit_report()
    if os.environ.get("SIRECOMMEND_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert report == json.loads(GOLDEN.read_text("utf-8"))
    assert set(report) == {b.name for b in BREAKS} | {"two breaks"}


def blocked_by_the_tables(kb: KnowledgeBase, profile: Profile, sid: str) -> set[str]:
    """The reason codes against a stretch, read from the tables alone (an oracle)."""
    st = kb.stretches[sid]
    codes = set()
    if any(st.position in kb.position_members(a) for a in profile.avoid_positions):
        codes.add("position_avoided")
    if st.equipment and all(o.uses and o.uses not in profile.equipment for o in st.equipment):
        codes.add("missing_equipment")
    for rule in kb.rules.values():
        if isinstance(rule, ForbidCombinationRule) and kb.movement_kinds_of(
            rule.movements
        ) <= kb.movement_kinds_of(st.movements):
            codes.add("forbidden_combination")
        if (
            isinstance(rule, PregnancyRule)
            and (profile.pregnancy_trimester or 0) >= rule.from_trimester
            and any(st.position in kb.position_members(p) for p in rule.positions)
        ):
            codes.add("pregnancy")
    return codes


@given(kb=knowledge_bases(), data=st.data())
def test_each_verdict_is_what_the_tables_say(kb: KnowledgeBase, data: st.DataObject) -> None:
    """filter_candidates() reads compiled bitsets; each verdict must be what the tables say,
    for every candidate and alternative, with focus or without, whole or in part."""
    profile = data.draw(profiles(kb, red_flags=False))
    candidates = select(kb, profile)
    verdicts = filter_candidates(kb, profile, candidates)
    wanted = {st.id for c in candidates for st in (c.slot.stretch, *c.slot.alternatives)}
    assert set(verdicts) == wanted == set(kb.order(profile.context))
    for sid in wanted:
        verdict = verdicts[sid]
        assert verdict.stretch.id == sid
        assert {r.code.value for r in verdict.blocked} == blocked_by_the_tables(kb, profile, sid)
        option = verdict.option
        assert option is None or option.uses is None or option.uses in profile.equipment
    part = candidates[: data.draw(st.integers(0, len(candidates)))]
    assert dict(filter_candidates(kb, profile, part)) == {
        st.id: verdicts[st.id] for c in part for st in (c.slot.stretch, *c.slot.alternatives)
    }


@settings(max_examples=max(10, settings.default.max_examples // 5))
@given(data=st.data())
def test_each_verdict_is_what_the_tables_say_on_large_knowledge(data: st.DataObject) -> None:
    large = synthetic_knowledge(1000)  # built once (cached)
    profile = data.draw(profiles(large, red_flags=False))
    candidates = select(large, profile)
    verdicts = filter_candidates(large, profile, candidates)
    assert len(verdicts) == len(large.order(profile.context))
    for sid in data.draw(st.lists(st.sampled_from(sorted(verdicts)), max_size=50)):
        codes = {r.code.value for r in verdicts[sid].blocked}
        assert codes == blocked_by_the_tables(large, profile, sid)
