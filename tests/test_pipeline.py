"""One test class per pipeline stage: each rule has a test that fails if the rule breaks."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sirecommend import KnowledgeBase, Profile, ReasonCode, Routine, load_knowledge, recommend
from sirecommend._compile import SETUP_SECONDS, default_dose, lowest_dose, step_seconds
from sirecommend._models import PHASES
from sirecommend._routine import Exclusion
from sirecommend.pipeline import (
    dose,
    explain,
    filter_candidates,
    fit_to_time,
    order_steps,
    select,
    substitute,
    triage,
)
from sirecommend.pipeline._types import Dosed, Verdict
from sirecommend.testing import profiles


def run_to_picks(kb: KnowledgeBase, profile: Profile) -> tuple[list[str], dict[str, list[str]]]:
    """Picked stretch ids, and exclusion codes by stretch id."""
    candidates = select(kb, profile)
    picks, left = substitute(candidates, filter_candidates(kb, profile, candidates))
    excluded = explain(kb, profile, left=left).excluded
    return [p.verdict.stretch.id for p in picks], {
        e.stretch_id: [r.code.value for r in e.reasons] for e in excluded
    }


def judge(kb: KnowledgeBase, profile: Profile, sid: str) -> Verdict:
    """The verdict filter gives one stretch of the profile's context."""
    return filter_candidates(kb, profile, select(kb, profile))[sid]


class TestTriage:
    def test_no_flags_no_referral(self, kb: KnowledgeBase) -> None:
        assert triage(kb, Profile(context="after_sitting")) is None

    @pytest.mark.parametrize(
        ("flags", "urgency", "named"),
        [
            ({"numbness"}, "stop_and_review", ("numbness",)),
            ({"fever", "tingling"}, "same_day", ("fever", "tingling")),
            (
                {"fever", "saddle_numbness", "severe_pain"},
                "emergency",
                ("saddle_numbness", "fever", "severe_pain"),
            ),
            (
                {"leg_weakness", "bladder_bowel_change"},
                "emergency",
                ("bladder_bowel_change", "leg_weakness"),
            ),
        ],
    )
    def test_highest_urgency_wins(
        self, kb: KnowledgeBase, flags: set[str], urgency: str, named: tuple[str, ...]
    ) -> None:
        referral = triage(kb, Profile(context="warm_up", red_flags=flags))
        assert referral is not None
        assert referral.urgency == urgency
        assert referral.red_flags == named
        assert kb.urgencies[urgency].action in referral.message
        assert referral.sources

    def test_emergency_message_says_what_to_do(self, kb: KnowledgeBase) -> None:
        referral = triage(kb, Profile(context="warm_up", red_flags={"saddle_numbness"}))
        assert referral is not None
        assert "emergency" in referral.message.lower()


class TestSelect:
    def test_walks_the_graph_from_the_context(self, kb: KnowledgeBase) -> None:
        ids = [c.slot.stretch.id for c in select(kb, Profile(context="warm_up"))]
        assert set(ids) == {
            "lower_trunk_rotation",
            "child_pose_side_reach",
            "adductor_strap_supine",
            "foam_roll_hip_flexors",
            "foam_roll_hamstrings",
            "foam_roll_glutes",
            "foam_roll_sore_group",
        }
        assert ids == sorted(ids, key=kb.compiled.contexts["warm_up"].rank.__getitem__)

    def test_after_sitting_is_warm_up_moves_then_targeted(self, kb: KnowledgeBase) -> None:
        cands = select(kb, Profile(context="after_sitting"))
        phases = {c.slot.stretch.id: c.slot.phase for c in cands}
        assert phases["lower_trunk_rotation"] == "warm_up"
        assert phases["standing_side_bend"] == "targeted"
        assert not any(s.startswith("foam_roll") for s in phases)

    def test_foam_rolling_cools_down_after_activity(self, kb: KnowledgeBase) -> None:
        cands = select(kb, Profile(context="post_activity"))
        phases = {c.slot.stretch.id: c.slot.phase for c in cands}
        assert phases["foam_roll_glutes"] == "cool_down"

    def test_alternatives_come_with_their_primary(self, kb: KnowledgeBase) -> None:
        cands = {c.slot.stretch.id: c for c in select(kb, Profile(context="after_sitting"))}
        alternatives = cands["adductor_strap_supine"].slot.alternatives
        assert [a.id for a in alternatives] == ["butterfly_seated"]
        assert "butterfly_seated" not in cands

    def test_focus_raises_priority_never_adds(self, kb: KnowledgeBase) -> None:
        plain = select(kb, Profile(context="warm_up"))
        focused = select(kb, Profile(context="warm_up", focus={"hamstrings"}))
        assert [c.slot for c in plain] == [c.slot for c in focused]
        hits = {c.slot.stretch.id for c in focused if c.focus_hits}
        assert hits == {"foam_roll_hamstrings", "foam_roll_sore_group"}


class TestFilter:
    def test_missing_equipment(self, kb: KnowledgeBase) -> None:
        v = judge(kb, Profile(context="warm_up"), "foam_roll_glutes")
        assert [r.code for r in v.blocked] == [ReasonCode.MISSING_EQUIPMENT]
        assert "foam roller" in v.blocked[0].message

    @pytest.mark.parametrize(
        ("equipment", "expected"),
        [(set(), None), ({"towel"}, "towel"), ({"towel", "strap"}, "strap"), ({"strap"}, "strap")],
    )
    def test_prefers_the_sources_primary_equipment(
        self, kb: KnowledgeBase, equipment: set[str], expected: str | None
    ) -> None:
        v = judge(kb, Profile(context="after_sitting", equipment=equipment), "hamstring_supine")
        assert not v.blocked
        assert v.option is not None
        assert v.option.uses == expected

    def test_avoided_group_expands(self, kb: KnowledgeBase) -> None:
        p = Profile(context="after_sitting", avoid_positions={"floor"})
        for sid in ("lower_trunk_rotation", "child_pose_side_reach", "hip_flexor_half_kneeling"):
            codes = [r.code for r in judge(kb, p, sid).blocked]
            assert codes == [ReasonCode.POSITION_AVOIDED]
        assert not judge(kb, p, "standing_side_bend").blocked

    @pytest.mark.parametrize(
        ("trimester", "blocked"), [(None, False), (1, False), (2, True), (3, True)]
    )
    def test_no_supine_from_second_trimester(
        self, kb: KnowledgeBase, trimester: int | None, blocked: bool
    ) -> None:
        p = Profile(context="after_sitting", pregnancy_trimester=trimester)
        v = judge(kb, p, "figure_four_supine")
        assert bool(v.blocked) is blocked
        if blocked:
            assert v.blocked[0].code is ReasonCode.PREGNANCY
            assert v.blocked[0].rule == "pregnancy_no_supine"
        assert not judge(kb, p, "child_pose_side_reach").blocked

    def test_every_reason_is_given(self, kb: KnowledgeBase) -> None:
        p = Profile(context="warm_up", avoid_positions={"seated_floor"})
        codes = {r.code for r in judge(kb, p, "foam_roll_glutes").blocked}
        assert codes == {ReasonCode.POSITION_AVOIDED, ReasonCode.MISSING_EQUIPMENT}


TWIST_AND_BEND = """
[[stretch]]
id = "twist_and_bend"
name = "Twisting side bend"
phase = "targeted"
position = "standing"
movements = ["rotation", "side_bend"]
targets = ["lateral_trunk"]
cites = ["si-stretch-guide#p23"]

[stretch.dosage]
hold_seconds = [30, 60]
sets = [2, 3]
per_side = true
cites = ["si-stretch-guide#p24"]

[[stretch.instructions]]
text = "Bend and twist."
cites = ["si-stretch-guide#p23"]

[[stretch.suits]]
context = "after_sitting"
cites = ["si-stretch-guide#p25"]
"""


@pytest.fixture(scope="module")
def twist_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """Shipped knowledge plus a pack stretch that combines rotation with a side bend."""
    d: Path = tmp_path_factory.mktemp("twist")
    (d / "twist.toml").write_text(textwrap.dedent(TWIST_AND_BEND), encoding="utf-8")
    return load_knowledge(d)


class TestForbiddenCombination:
    def test_a_stretch_combining_rotation_and_side_bend_is_left_out(
        self, twist_kb: KnowledgeBase
    ) -> None:
        routine = recommend(context="after_sitting", knowledge=twist_kb)
        assert "twist_and_bend" not in {s.stretch_id for s in routine.steps}
        excl = {e.stretch_id: e for e in routine.excluded}["twist_and_bend"]
        assert excl.reasons[0].code is ReasonCode.FORBIDDEN_COMBINATION
        assert excl.reasons[0].rule == "no_rotation_with_side_bend"

    def test_side_bend_step_cautions_against_rotating(self, kb: KnowledgeBase) -> None:
        step = {s.stretch_id: s for s in recommend(context="after_sitting", minutes=30.0).steps}[
            "standing_side_bend"
        ]
        assert kb.rules["no_rotation_with_side_bend"].caution in step.cautions  # type: ignore[union-attr]


class TestSubstitute:
    def test_butterfly_replaces_the_strap_adductor_stretch(self, kb: KnowledgeBase) -> None:
        picked, excluded = run_to_picks(kb, Profile(context="after_sitting"))
        assert "butterfly_seated" in picked
        assert "adductor_strap_supine" not in picked
        assert excluded["adductor_strap_supine"] == ["missing_equipment", "replaced"]

    def test_with_a_strap_the_primary_stays(self, kb: KnowledgeBase) -> None:
        picked, excluded = run_to_picks(kb, Profile(context="after_sitting", equipment={"strap"}))
        assert "adductor_strap_supine" in picked
        assert excluded["butterfly_seated"] == ["alternative_not_needed"]

    def test_standing_lunge_when_kneeling_is_avoided(self, kb: KnowledgeBase) -> None:
        picked, excluded = run_to_picks(
            kb, Profile(context="after_sitting", avoid_positions={"half_kneeling"})
        )
        assert "hip_flexor_standing_lunge" in picked
        assert excluded["hip_flexor_half_kneeling"] == ["position_avoided", "replaced"]

    def test_no_alternative_fits(self, kb: KnowledgeBase) -> None:
        picked, excluded = run_to_picks(
            kb, Profile(context="after_sitting", avoid_positions={"floor"})
        )
        assert picked == ["hip_flexor_standing_lunge", "standing_side_bend"]
        assert excluded["adductor_strap_supine"][-1] == "no_alternative"
        assert excluded["butterfly_seated"] == ["position_avoided"]
        assert excluded["lower_trunk_rotation"] == ["position_avoided"]

    def test_pregnancy_swaps_supine_adductor_for_seated(self, kb: KnowledgeBase) -> None:
        picked, excluded = run_to_picks(
            kb, Profile(context="after_sitting", pregnancy_trimester=2, equipment={"strap"})
        )
        assert "butterfly_seated" in picked
        assert excluded["adductor_strap_supine"] == ["pregnancy", "replaced"]
        assert excluded["hamstring_supine"] == ["pregnancy"]


QUICK_ADDUCTOR = """
[[stretch]]
id = "quick_adductor"
name = "Quick adductor stretch"
phase = "warm_up"
position = "seated_floor"
movements = ["hip_abduction"]
targets = ["adductors"]
alternative_of = "adductor_strap_supine"
cites = ["si-stretch-guide#p14"]

[stretch.dosage]
hold_seconds = [10, 10]
sets = [1, 1]
per_side = false
cites = ["si-stretch-guide#p14"]

[[stretch.instructions]]
text = "Sit with the soles of your feet together and let the knees fall out a little."
cites = ["si-stretch-guide#p14"]
"""


@pytest.fixture(scope="module")
def quick_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shipped knowledge with a pack's second, short alternative to the strap stretch."""
    pack = tmp_path_factory.mktemp("quick")
    (pack / "quick.toml").write_text(QUICK_ADDUCTOR, encoding="utf-8")
    kb = load_knowledge(pack)
    order = kb.order("after_sitting")
    assert order.index("butterfly_seated") < order.index("quick_adductor")
    return kb


def _reasons(routine: Routine) -> dict[str, list[tuple[str, str | None]]]:
    return {e.stretch_id: [(r.code.value, r.other) for r in e.reasons] for e in routine.excluded}


def _fit_and_explain(
    kb: KnowledgeBase, budget: float, max_steps: int = 8
) -> tuple[list[str], dict[str, Exclusion]]:
    """After sitting, lying on the back avoided, no time given: the stages, with ``fit``
    run at ``budget`` seconds and ``max_steps``; the kept ids and the exclusions by id."""
    profile = Profile(context="after_sitting", avoid_positions={"supine"})
    plan = kb.compiled.contexts["after_sitting"]
    candidates = select(kb, profile)
    picks, left = substitute(candidates, filter_candidates(kb, profile, candidates))
    kept, dropped = fit_to_time(order_steps(dose(profile, picks), plan), budget, max_steps)
    routine = explain(kb, profile, kept, left, dropped)
    return [d.stretch_id for d in kept], {e.stretch_id: e for e in routine.excluded}


class TestAShorterAlternativeStandsIn:
    # The strap stretch is done lying on the back; its alternatives, in routine order, are
    # the butterfly stretch (about 1 min 45 s) and a pack's quick one (25 s).

    def test_when_the_first_does_not_fit(self, quick_kb: KnowledgeBase) -> None:
        # In one minute the butterfly cannot fit, the quick one can: the person gets it,
        # not an empty routine whose reason says it was left out to keep within the minute.
        routine = recommend(
            context="after_sitting", avoid_positions={"supine"}, minutes=1, knowledge=quick_kb
        )
        assert [s.stretch_id for s in routine.steps] == ["quick_adductor"]
        step = routine.steps[0]
        assert step.replaces == "adductor_strap_supine"
        assert step.reasons[1].startswith("Stands in for Inner-thigh stretch with a strap:")
        reasons = _reasons(routine)
        assert reasons["adductor_strap_supine"][-1] == ("replaced", "quick_adductor")
        assert reasons["butterfly_seated"] == [("time_budget", None)]
        assert "quick_adductor" not in reasons
        butterfly = next(e for e in routine.excluded if e.stretch_id == "butterfly_seated")
        assert butterfly.reasons[0].message == (
            "Left out to keep within your 1-minute budget (it takes about 1 min 45 s); Quick "
            "adductor stretch stands in for Inner-thigh stretch with a strap instead."
        )

    def test_the_first_that_fits_is_kept_and_the_later_not_needed(
        self, quick_kb: KnowledgeBase
    ) -> None:
        routine = recommend(
            context="after_sitting", avoid_positions={"supine"}, minutes=2, knowledge=quick_kb
        )
        assert [s.stretch_id for s in routine.steps] == ["butterfly_seated"]
        reasons = _reasons(routine)
        assert reasons["adductor_strap_supine"][-1] == ("replaced", "butterfly_seated")
        assert reasons["quick_adductor"] == [("alternative_not_needed", "butterfly_seated")]

    def test_when_none_fits_each_is_left_out_for_time(self, quick_kb: KnowledgeBase) -> None:
        routine = recommend(
            context="after_sitting", avoid_positions={"supine"}, minutes=0.3, knowledge=quick_kb
        )
        assert routine.status == "nothing_fits"
        reasons = _reasons(routine)
        assert reasons["butterfly_seated"] == [("time_budget", None)]
        assert reasons["quick_adductor"] == [("time_budget", None)]
        assert reasons["adductor_strap_supine"][-1] == ("time_budget", None)
        words = next(e for e in routine.excluded if e.stretch_id == "adductor_strap_supine")
        assert "Its stand-in, Seated butterfly stretch, was left out too" in str(words.reasons[-1])

    def test_a_fallback_kept_takes_its_own_place_in_the_order(self, tmp_path: Path) -> None:
        # Done standing, the quick stretch opens the routine order, before the child's
        # pose; the butterfly comes after it. With time for the child's pose and the quick
        # stretch only, the quick one stands in and still comes first.
        standing = QUICK_ADDUCTOR.replace('position = "seated_floor"', 'position = "standing"')
        (tmp_path / "quick.toml").write_text(standing, encoding="utf-8")
        kb = load_knowledge(tmp_path)
        order = kb.order("after_sitting")
        assert order[:3] == ("quick_adductor", "child_pose_side_reach", "butterfly_seated")
        profile = Profile(context="after_sitting", avoid_positions={"supine"})
        candidates = select(kb, profile)
        picks, _ = substitute(candidates, filter_candidates(kb, profile, candidates))
        [pick] = [p for p in picks if p.replaced is not None]
        assert [f.verdict.stretch.id for f in pick.fallbacks] == ["quick_adductor"]
        seconds = {d.stretch_id: d.seconds for d in dose(profile, picks)}
        budget = seconds["child_pose_side_reach"] + seconds["butterfly_seated"] - 1
        routine = recommend(profile.model_copy(update={"minutes": budget / 60}), knowledge=kb)
        assert [s.stretch_id for s in routine.steps] == ["quick_adductor", "child_pose_side_reach"]
        assert _reasons(routine)["butterfly_seated"] == [("time_budget", None)]

    def test_a_fallback_that_just_fits_is_kept(self, quick_kb: KnowledgeBase) -> None:
        # 25 s: exactly the quick stretch's time.
        routine = recommend(
            context="after_sitting",
            avoid_positions={"supine"},
            minutes=25 / 60,
            knowledge=quick_kb,
        )
        assert [(s.stretch_id, s.seconds) for s in routine.steps] == [("quick_adductor", 25)]

    def test_the_order_is_mended_when_only_the_stand_in_was_dropped(self, tmp_path: Path) -> None:
        # The focus puts the hip-flexor and side-bend stretches first, then the child's
        # pose; the butterfly then no longer fits and the standing quick stretch, first in
        # the routine order, takes its place. Nothing else is dropped for time.
        standing = QUICK_ADDUCTOR.replace('position = "seated_floor"', 'position = "standing"')
        (tmp_path / "quick.toml").write_text(standing, encoding="utf-8")
        kb = load_knowledge(tmp_path)
        routine = recommend(
            context="after_sitting",
            avoid_positions={"supine"},
            focus={"hip_flexors", "lateral_trunk"},
            minutes=(3 * 195 + 25 + 79) / 60,
            knowledge=kb,
        )
        assert [s.stretch_id for s in routine.steps] == [
            "quick_adductor",
            "child_pose_side_reach",
            "hip_flexor_half_kneeling",
            "standing_side_bend",
        ]
        timed = [e.stretch_id for e in routine.excluded if e.reasons[0].code == "time_budget"]
        assert timed == ["butterfly_seated"]

    def test_a_stand_in_given_way_says_the_context_s_usual_length(
        self, quick_kb: KnowledgeBase
    ) -> None:
        # No time given: the words are those of the context's usual length.
        kept, excluded = _fit_and_explain(quick_kb, 60)
        assert kept == ["quick_adductor"]
        (reason,) = excluded["butterfly_seated"].reasons
        assert reason.message == (
            "Left out to keep the routine after sitting to about 10 minutes, its usual length "
            "when you give no time (it takes about 1 min 45 s); Quick adductor stretch stands "
            "in for Inner-thigh stretch with a strap instead."
        )

    def test_a_later_alternative_says_which_stand_in_the_cap_left_out(
        self, quick_kb: KnowledgeBase
    ) -> None:
        # The butterfly stands in and the length cap (here 1 step) leaves it out: the quick
        # stretch, not tried, says what became of the butterfly, which is no primary.
        kept, excluded = _fit_and_explain(quick_kb, math.inf, 1)
        assert kept == ["child_pose_side_reach"]
        (reason,) = excluded["quick_adductor"].reasons
        assert reason.code is ReasonCode.ROUTINE_LENGTH
        assert reason.other is None
        assert reason.message == (
            "Not given: Seated butterfly stretch stood in for Inner-thigh stretch with a strap "
            "instead, and was itself left out to keep the routine to 8 steps."
        )

    def test_the_budget_properties_hold_with_fallbacks(self, quick_kb: KnowledgeBase) -> None:
        steps = dosed(quick_kb, "after_sitting", avoid_positions={"supine"})
        assert [len(s.fallbacks) for s in steps if s.fallbacks] == [1]
        totals = []
        for budget in range(0, 1500, 5):
            kept, dropped = fit_to_time(steps, budget)
            totals.append(sum(d.seconds for d in kept))
            assert totals[-1] <= budget
            out = [d.step.stretch_id for d in dropped]
            assert len(set(out)) == len(out)
            assert set(out).isdisjoint(d.stretch_id for d in kept)
            # every step is kept, or dropped (its fallback perhaps kept in its place)
            assert {s.stretch_id for s in steps} <= {*out, *(d.stretch_id for d in kept)}
        assert totals == sorted(totals)

    def test_with_a_history_the_fallbacks_are_dosed_from_it(self, quick_kb: KnowledgeBase) -> None:
        import datetime as dt

        from sirecommend._feedback import Feedback, Session

        session = Session(
            date=dt.date(2026, 1, 1),
            context="after_sitting",
            feedback=[Feedback(stretch_id="quick_adductor", sets_done=1, pain_during=1)],
        )
        routine = recommend(
            context="after_sitting",
            avoid_positions={"supine"},
            minutes=1,
            knowledge=quick_kb,
            history=[session],
        )
        [step] = routine.steps
        assert step.stretch_id == "quick_adductor"
        assert step.progression is not None


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_profile_with_two_alternatives_gets_an_audited_routine(
    quick_kb: KnowledgeBase, data: st.DataObject
) -> None:
    profile = data.draw(profiles(quick_kb))
    routine = recommend(profile, knowledge=quick_kb)  # (audited: raises if unsafe)
    assert routine.total_seconds <= profile.budget_seconds


class TestDose:
    def test_default_is_mid_hold_lowest_sets(self, kb: KnowledgeBase) -> None:
        for sid, expected in (("hamstring_supine", (45, 2)), ("foam_roll_glutes", (20, 1))):
            d = kb.stretches[sid].dosage
            assert default_dose(d.hold_seconds, d.sets) == expected
        assert default_dose((30, 30), (1, 1)) == (30, 1)  # never below the low end

    def test_lowest(self, kb: KnowledgeBase) -> None:
        for sid, expected in (("hamstring_supine", (30, 2)), ("foam_roll_glutes", (10, 1))):
            d = kb.stretches[sid].dosage
            assert lowest_dose(d.hold_seconds, d.sets) == expected

    def test_seconds_count_both_sides_and_set_up(self) -> None:
        assert step_seconds(30, 2, per_side=True) == 30 * 2 * 2 + SETUP_SECONDS
        assert step_seconds(20, 1, per_side=False) == 20 + SETUP_SECONDS

    @pytest.mark.parametrize("aggravated", [False, True])
    def test_aggravated_means_reduced_and_lowest(self, kb: KnowledgeBase, aggravated: bool) -> None:
        p = Profile(context="after_sitting", aggravated=aggravated, equipment={"foam_roller"})
        cands = select(kb, p)
        picks, _ = substitute(cands, filter_candidates(kb, p, cands))
        for d in dose(p, picks):
            dosage = kb.stretches[d.stretch_id].dosage
            level = lowest_dose if aggravated else default_dose
            assert (d.dose.hold_seconds, d.dose.sets) == level(dosage.hold_seconds, dosage.sets)
            assert d.dose.range_of_motion == ("reduced" if aggravated else "full")
            assert dosage.hold_seconds[0] <= d.dose.hold_seconds <= dosage.hold_seconds[1]


class TestOrder:
    @pytest.mark.parametrize(
        "context", ["after_sitting", "after_sleep", "post_activity", "warm_up", "cool_down"]
    )
    def test_phases_then_position_blocks(self, kb: KnowledgeBase, context: str) -> None:
        plan = kb.compiled.contexts[context]
        phase = {a.id: s.phase for s in plan.slots for a in (s.stretch, *s.alternatives)}
        leads = set(kb.contexts[context].lead_movements)
        lead = {s: not leads.isdisjoint(kb.stretches[s].movements) for s in plan.order}
        upward = kb.contexts[context].order == "lying_to_standing"
        segment = [(lead[s], kb.stretches[s].position if upward else "") for s in plan.order]
        phases = [(not lead[s], PHASES.index(phase[s])) for s in plan.order]
        for seg in set(segment):  # phases in turn: in each position block when upward
            inside = [p for p, g in zip(phases, segment, strict=True) if g == seg]
            assert inside == sorted(inside)
        assert [not lead[s] for s in plan.order] == sorted(not lead[s] for s in plan.order)
        blocks = [
            (lead[s], "" if upward else phase[s], kb.stretches[s].position) for s in plan.order
        ]
        seen: list[tuple[bool, str, str]] = []
        for b in blocks:
            if not seen or seen[-1] != b:
                assert b not in seen, f"{b} split in {context}"
                seen.append(b)

    def test_after_sitting_order(self, kb: KnowledgeBase) -> None:
        steps = recommend(context="after_sitting", minutes=30.0).steps
        assert [s.stretch_id for s in steps] == [
            "child_pose_side_reach",  # warm-up: quadruped, then down to sitting and lying
            "butterfly_seated",
            "lower_trunk_rotation",
            "figure_four_supine",  # targeted: lying, then back up to kneeling and standing
            "hamstring_supine",
            "hip_flexor_half_kneeling",
            "standing_side_bend",
        ]

    def test_order_steps_sorts_by_the_stretch_each_step_does(self, kb: KnowledgeBase) -> None:
        p = Profile(context="cool_down", equipment={"foam_roller"}, avoid_positions={"supine"})
        plan = kb.compiled.contexts["cool_down"]
        cands = select(kb, p)
        picks, _ = substitute(cands, filter_candidates(kb, p, cands))
        steps = order_steps(reversed(dose(p, picks)), plan)
        ids = [d.stretch_id for d in steps]
        assert "butterfly_seated" in ids  # an alternative, at its own place in the order
        assert ids == [sid for sid in plan.order if sid in ids]


def dosed(kb: KnowledgeBase, context: str, **kw: object) -> list[Dosed]:
    p = Profile(context=context, **kw)  # type: ignore[arg-type]
    cands = select(kb, p)
    picks, _ = substitute(cands, filter_candidates(kb, p, cands))
    return list(order_steps(dose(p, picks), kb.compiled.contexts[context]))


class TestFit:
    def test_never_exceeds_the_budget(self, kb: KnowledgeBase) -> None:
        steps = dosed(kb, "after_sitting")
        for budget in range(0, 1500, 37):
            kept, dropped = fit_to_time(steps, budget)
            assert sum(d.seconds for d in kept) <= budget
            assert len(kept) + len(dropped) == len(steps)

    def test_larger_budget_never_shorter(self, kb: KnowledgeBase) -> None:
        steps = dosed(kb, "post_activity", equipment={"foam_roller"})
        totals = [sum(d.seconds for d in fit_to_time(steps, b)[0]) for b in range(0, 2000, 5)]
        assert totals == sorted(totals)

    def test_keeps_order_and_drops_lowest_priority_first(self, kb: KnowledgeBase) -> None:
        steps = dosed(kb, "after_sitting")
        kept, _dropped = fit_to_time(steps, steps[0].seconds + steps[1].seconds)
        assert [d.stretch_id for d in kept] == [steps[0].stretch_id, steps[1].stretch_id]
        assert list(kept) == sorted(kept, key=steps.index)

    def test_focus_is_kept_first(self, kb: KnowledgeBase) -> None:
        steps = dosed(kb, "after_sitting", focus={"hamstrings"})
        kept, _ = fit_to_time(steps, steps[0].seconds + 1)
        assert [d.stretch_id for d in kept] == ["hamstring_supine"]
        assert steps[0].stretch_id != "hamstring_supine"

    def test_too_small_a_budget_is_not_an_error(self) -> None:
        routine = recommend(context="after_sitting", minutes=0.1)
        assert routine.status == "nothing_fits"
        assert routine.steps == ()
        assert all(
            e.reasons[0].code is ReasonCode.TIME_BUDGET
            for e in routine.excluded
            if e.stretch_id not in {"adductor_strap_supine", "hip_flexor_standing_lunge"}
        )


class TestExplain:
    def test_every_step_says_why_and_where_from(self) -> None:
        routine = recommend(context="after_sitting", focus={"hamstrings"})
        for step in routine.steps:
            assert step.reasons[0].startswith("After sitting -> ")
            assert any(r.startswith("Dose:") for r in step.reasons)
            assert all(s.startswith("si-stretch-guide#p") for s in step.sources)
            paragraphs = [int(s.partition("#p")[2]) for s in step.sources]
            assert paragraphs == sorted(set(paragraphs))  # by number, not as text
        ham = {s.stretch_id: s for s in routine.steps}["hamstring_supine"]
        assert any("focus" in r for r in ham.reasons)
        assert "with no strap or towel" in ham.instructions[0]
        assert ham.equipment is None

    def test_substitution_is_explained(self) -> None:
        step = {s.stretch_id: s for s in recommend(context="after_sitting", minutes=30.0).steps}[
            "butterfly_seated"
        ]
        assert step.replaces == "adductor_strap_supine"
        assert any(r.startswith("Stands in for Inner-thigh stretch") for r in step.reasons)

    def test_primary_equipment_is_named(self) -> None:
        steps = recommend(context="after_sitting", equipment={"strap", "towel"}, minutes=30.0).steps
        ham = {s.stretch_id: s for s in steps}["hamstring_supine"]
        assert ham.equipment == "strap"
        assert ham.equipment_name == "Stretching strap"
        assert any("first choice" in r for r in ham.reasons)
        towel = {
            s.stretch_id: s
            for s in recommend(context="after_sitting", equipment={"towel"}, minutes=30.0).steps
        }["hamstring_supine"]
        assert any("earlier options" in r for r in towel.reasons)

    def test_aggravated_caution_and_reason(self, kb: KnowledgeBase) -> None:
        routine = recommend(context="after_sleep", aggravated=True)
        caution = kb.rules["aggravated_go_gently"].caution  # type: ignore[union-attr]
        for step in routine.steps:
            assert caution in step.cautions
            assert any("Reduced range" in r for r in step.reasons)

    def test_explain_with_nothing(self, kb: KnowledgeBase) -> None:
        routine = explain(kb, Profile(context="warm_up"))
        assert routine.status == "nothing_fits"
        assert routine.total_seconds == 0
        assert routine.cautions


def roll_reasons(routine: Routine) -> dict[str, str]:
    """The message of every exclusion for the choice rule (p15), by stretch id."""
    return {
        e.stretch_id: r.message
        for e in routine.excluded
        for r in e.reasons
        if r.code is ReasonCode.ROLL_SORE_GROUP
    }


class TestRollTheNamedGroups:
    """The words of the choice rule when the focus names the groups to roll.

    Written for surviving mutants of ``explain._roll_one`` (the names joined, the
    singular and plural): the earlier tests checked the codes, not the words.
    """

    def test_one_named_group(self) -> None:
        routine = recommend(context="warm_up", focus={"glutes"}, equipment={"foam_roller"})
        assert roll_reasons(routine) == {
            "foam_roll_hip_flexors": "Foam rolling is for the sore group; you named glutes.",
            "foam_roll_hamstrings": "Foam rolling is for the sore group; you named glutes.",
            "foam_roll_sore_group": "You named glutes as the group to roll, so no step asks "
            "you to choose one.",
        }

    def test_two_named_groups(self) -> None:
        routine = recommend(
            context="warm_up", focus={"hamstrings", "glutes"}, equipment={"foam_roller"}
        )
        assert roll_reasons(routine) == {
            "foam_roll_hip_flexors": "Foam rolling is for the sore group; you named glutes "
            "and hamstrings.",
            "foam_roll_sore_group": "You named glutes and hamstrings as the groups to roll, so "
            "no step asks you to choose one.",
        }

    def test_three_named_groups(self) -> None:
        routine = recommend(
            context="warm_up",
            focus={"hip_flexors", "hamstrings", "glutes"},
            equipment={"foam_roller"},
        )
        assert roll_reasons(routine) == {
            "foam_roll_sore_group": "You named glutes, hamstrings and hip flexors as the groups "
            "to roll, so no step asks you to choose one.",
        }

    def test_members_of_a_choice_dropped_for_time(self) -> None:
        """The members say the choice was left out for the time budget, not the length cap."""
        routine = recommend(context="warm_up", minutes=0.5, equipment={"foam_roller"})
        members = ("foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors")
        said = "Left out with Foam rolling: the sore muscle group, to keep within your 0.5-minute "
        assert routine.steps == ()
        assert {
            e.stretch_id: (e.reasons[0].code, e.reasons[0].message)
            for e in routine.excluded
            if e.stretch_id in members
        } == dict.fromkeys(members, (ReasonCode.TIME_BUDGET, said + "budget."))


class TestSubstituteChoiceMembers:
    def test_a_blocked_stretch_says_whether_it_had_alternatives(self, kb: KnowledgeBase) -> None:
        """``own`` for a blocked stretch with no alternatives (or a blocked alternative),
        ``no_alternative`` when it has some and none can be done, ``replaced`` when one
        can, ``not_needed`` for an alternative beside its primary (``Left.why``).

        ``explain`` words ``own`` like any ``why`` it does not know (only the verdict's
        reasons), so only the stage shows it (``substitute.x_substitute__mutmut_82``, ``_109``
        to ``_121``).
        """
        profile = Profile(context="after_sitting", avoid_positions={"floor"})
        candidates = select(kb, profile)
        _, left = substitute(candidates, filter_candidates(kb, profile, candidates))
        assert {item.verdict.stretch.id: item.why for item in left} == {
            "child_pose_side_reach": "own",
            "lower_trunk_rotation": "own",
            "adductor_strap_supine": "no_alternative",
            "butterfly_seated": "own",
            "figure_four_supine": "own",
            "hamstring_supine": "own",
            "hip_flexor_half_kneeling": "replaced",
        }
        profile = Profile(context="after_sitting", equipment={"strap"}, minutes=60)
        candidates = select(kb, profile)
        _, left = substitute(candidates, filter_candidates(kb, profile, candidates))
        assert {
            item.verdict.stretch.id: (item.why, item.other and item.other.id) for item in left
        } == {
            "butterfly_seated": ("not_needed", "adductor_strap_supine"),
            "hip_flexor_standing_lunge": ("not_needed", "hip_flexor_half_kneeling"),
        }

    def test_a_blocked_member_is_left_out_for_its_own_reasons(self, kb: KnowledgeBase) -> None:
        """``substitute`` marks a member it cannot offer ``own`` (as its docstring says).

        Reached through the stage, not ``recommend``: ``explain`` words a ``Left`` whose
        ``why`` is ``own`` exactly as one with no ``why`` (only its verdict's reasons),
        so no routine shows the difference (mutant ``substitute.x__member__mutmut_2``).
        """
        profile = Profile(context="warm_up")  # no foam roller: every rolling stretch blocked
        candidates = select(kb, profile)
        _, left = substitute(candidates, filter_candidates(kb, profile, candidates))
        assert {
            item.verdict.stretch.id: item.why
            for item in left
            if item.verdict.stretch.id.startswith("foam_roll_")
        } == {
            "foam_roll_hip_flexors": "own",
            "foam_roll_glutes": "own",
            "foam_roll_hamstrings": "own",
            "foam_roll_sore_group": "own",
        }


BALL = (
    '[[equipment]]\nid = "massage_ball"\nname = "Massage ball"\ncites = ["si-stretch-guide#p15"]\n'
)


def rolled_with_a_ball(tmp: Path, *ids: str) -> KnowledgeBase:
    """The shipped knowledge with the rolling stretches ``ids`` needing a massage ball.

    Stricter, so the floor lets it load: it is the only way to have a usable choice none
    of whose members can be done, or a usable member of a choice that cannot (they share
    their position and equipment in the shipped knowledge).
    """
    shipped = Path(__file__).parents[1] / "knowledge" / "stretches"
    texts = [BALL]
    for sid in ids:
        text = (shipped / f"{sid}.toml").read_text(encoding="utf-8")
        text = text.replace(f'id = "{sid}"\n', f'id = "{sid}"\noverride = true\n', 1)
        texts.append(text.replace('uses = "foam_roller"', 'uses = "massage_ball"', 1))
    (tmp / "ball.toml").write_text("\n".join(texts), encoding="utf-8")
    return load_knowledge(tmp)


class TestAChoiceOrItsMembersOut:
    """The words of ``none_offered`` and ``choice_out`` (``explain._roll_one``,
    ``substitute._member``): only a pack reaches them."""

    MEMBERS = ("foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors")

    def test_a_choice_none_of_whose_groups_can_be_rolled(self, tmp_path: Path) -> None:
        kb = rolled_with_a_ball(tmp_path, *self.MEMBERS)
        routine = recommend(context="warm_up", equipment={"foam_roller"}, knowledge=kb)
        assert roll_reasons(routine) == {
            "foam_roll_sore_group": "None of the groups it offers can be rolled by you "
            "(see each one)."
        }

    def test_the_groups_of_a_choice_that_is_left_out(self, tmp_path: Path) -> None:
        kb = rolled_with_a_ball(tmp_path, "foam_roll_sore_group")
        routine = recommend(context="warm_up", equipment={"foam_roller"}, knowledge=kb)
        said = "It is offered only within Foam rolling: the sore muscle group, which is left out."
        assert roll_reasons(routine) == dict.fromkeys(self.MEMBERS, said)

    def test_members_of_a_choice_dropped_for_the_contexts_usual_time(self, tmp_path: Path) -> None:
        """With no time given, the words name the context's usual length (read from its plan).

        Only a pack reaches it: no shipped context with a choice has a default time.
        """
        vocabulary = (Path(__file__).parents[1] / "knowledge" / "vocabulary.toml").read_text(
            encoding="utf-8"
        )
        start = vocabulary.index('[[context]]\nid = "warm_up"\n')
        end = vocabulary.find("\n[[", start)
        entry = vocabulary[start : end if end > 0 else None].replace(
            'id = "warm_up"\n', 'id = "warm_up"\noverride = true\ndefault_minutes = 0.5\n', 1
        )
        (tmp_path / "short.toml").write_text(entry, encoding="utf-8")
        kb = load_knowledge(tmp_path)
        routine = recommend(context="warm_up", equipment={"foam_roller"}, knowledge=kb)
        said = (
            "Left out with Foam rolling: the sore muscle group, to keep the routine warm-up to "
            "about 0.5 minutes, its usual length when you give no time."
        )
        assert {
            e.stretch_id: e.reasons[0].message
            for e in routine.excluded
            if e.stretch_id in self.MEMBERS
        } == dict.fromkeys(self.MEMBERS, said)
