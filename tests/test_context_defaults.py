"""Per-context defaults as data (issue 12, "Context and dose"): each context's time
budget, dose level, range of motion and order live in knowledge/vocabulary.toml, are
compiled once, read by the pipeline, checked by the audit from the tables, cited in the
clinician's reasons and never shown as ids to the person.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sirecommend import (
    KnowledgeBase,
    KnowledgeError,
    Profile,
    Routine,
    audit,
    load_knowledge,
    recommend,
)
from sirecommend._feedback import Feedback, Session
from sirecommend._models import Context, ContextDose
from sirecommend._render import render_text
from sirecommend.testing import profiles

KB = load_knowledge()
GENTLE = ("post_activity", "cool_down")
ROLL = "rolling"


def in_context(context: str, **fixed: object) -> st.SearchStrategy[Profile]:
    """Profiles of ``context`` (no red flags: a referral has no steps), other fields drawn."""
    return profiles(KB, red_flags=False).map(
        lambda p: Profile.model_validate({**p.model_dump(), "context": context, **fixed})
    )


def low_end(sid: str) -> tuple[int, int]:
    d = KB.stretches[sid].dosage
    return d.hold_seconds[0], d.sets[0]


def rolling(sid: str) -> bool:
    return ROLL in KB.stretches[sid].movements


# --- the data ---------------------------------------------------------------------------


def test_each_context_states_its_defaults() -> None:
    c = KB.contexts
    assert c["after_sitting"].default_minutes == 10.0
    for gentle in GENTLE:
        dose = c[gentle].dose
        assert dose is not None
        assert (dose.level, dose.range_of_motion) == ("lowest", "reduced")
        assert "si-stretch-guide#p25" in dose.cites  # gentle stretching when sore
    warm = c["warm_up"].dose
    assert warm is not None
    assert (warm.level, warm.range_of_motion) == ("lowest", "full")
    assert {"si-stretch-guide#p7", "si-stretch-guide#p15"} <= set(warm.cites)
    assert c["warm_up"].lead_movements == ("rolling",)  # p15: a roller to warm up
    assert c["after_sitting"].dose is None
    assert c["after_sleep"].dose is None
    assert {k for k, v in c.items() if v.order == "lying_to_standing"} == {"after_sleep", "warm_up"}


def test_the_defaults_are_compiled_once_per_context() -> None:
    plans = KB.compiled.contexts
    (slot,) = [s for s in plans["post_activity"].slots if s.stretch.id == "hamstring_supine"]
    usual, aggravated = slot.doses["hamstring_supine"]
    assert (usual.hold_seconds, usual.sets, usual.range_of_motion) == (30, 2, "reduced")
    assert usual.ceiling
    assert not aggravated.ceiling
    (slot,) = [s for s in plans["after_sitting"].slots if s.stretch.id == "hamstring_supine"]
    assert not slot.doses["hamstring_supine"][0].ceiling
    # One value per equal dose, shared between contexts (built at load, never per call).
    a = plans["post_activity"].slots[0].doses
    b = plans["cool_down"].slots[0].doses
    sid = plans["post_activity"].slots[0].stretch.id
    assert a[sid][1] is b[sid][1]


def test_a_bad_context_default_is_a_clear_knowledge_error(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        """
[[context]]
id = "desk"
name = "At the desk"
lead_movements = ["rolls"]
dose = { level = "lowest", range_of_motion = "full", why = "x", cites = ["si-stretch-guide#p99"] }
cites = ["si-stretch-guide#p7"]
""",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    said = str(caught.value)
    assert "lead_movements[0]" in said
    assert "did you mean 'rolling'?" in said
    assert "dose.cites" in said
    assert "no paragraph 99" in said
    with pytest.raises(ValidationError):
        ContextDose.model_validate(
            {"level": "gentle", "range_of_motion": "full", "why": "x", "cites": ["a"]}
        )
    assert Context.model_validate({"id": "c", "name": "C", "cites": ["a"]}).dose is None


# --- post_activity and cool_down: gentle ------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GENTLE).flatmap(lambda c: in_context(c, aggravated=False)))
def test_property_after_activity_every_step_is_the_low_end_at_reduced_range(p: Profile) -> None:
    r = recommend(p)
    aggravation = next(iter(KB.facts.stop_rules[0]), None)  # (not the go-gently caution)
    for s in r.steps:
        assert (s.hold_seconds, s.sets) == low_end(s.stretch_id)
        assert s.range_of_motion == "reduced"
        assert any("si-stretch-guide#p25" in reason for reason in s.reasons[-1:])
        assert aggravation not in s.cautions


def test_a_gentle_level_adds_no_aggravation_caution_and_aggravation_still_wins() -> None:
    plain = recommend(context="post_activity", equipment={"foam_roller"})
    stirred = recommend(context="post_activity", equipment={"foam_roller"}, aggravated=True)
    caution = next(r.caution for r in KB.rules.values() if r.kind == "when_aggravated")
    assert all(caution not in s.cautions for s in plain.steps)
    assert stirred.steps
    assert all(caution in s.cautions for s in stirred.steps)
    for s in stirred.steps:
        assert (s.hold_seconds, s.sets, s.range_of_motion) == (*low_end(s.stretch_id), "reduced")
        assert s.reasons[-1] == "Reduced range of motion, because your symptoms are aggravated."


def test_the_clinician_reads_why_and_the_person_reads_no_ids() -> None:
    r = recommend(context="post_activity")
    step = r.steps[0]
    assert step.reasons[-1] == (
        "After activity: gentle stretching when you are sore after an activity, so the "
        "shortest holds of the source's range in a smaller range of motion "
        "(si-stretch-guide#p25)."
    )
    assert "si-stretch-guide#p25" in step.sources
    text = str(r)
    assert "si-stretch-guide" not in text
    assert "post_activity" not in text
    assert "smaller movement than usual" in text


# --- warm_up: rolling first, short holds, ending upright --------------------------------


@settings(max_examples=60, deadline=None)
@given(in_context("warm_up"))
def test_property_the_warm_up_rolls_first_holds_short_and_never_ends_face_down(
    p: Profile,
) -> None:
    r = recommend(p)
    ids = [s.stretch_id for s in r.steps]
    rolls = [rolling(sid) for sid in ids]
    assert rolls == sorted(rolls, reverse=True)  # every rolling step before the rest
    if "foam_roller" in p.equipment and any(rolls):
        assert rolls[0]
    for s in r.steps:
        assert (s.hold_seconds, s.sets) == low_end(s.stretch_id)
        assert s.range_of_motion == ("reduced" if p.aggravated else "full")
    if not all(rolls):  # a stretch after the rolling: the last one is never face down
        assert r.steps[-1].position != "prone"
        assert not rolling(ids[-1])


def test_the_warm_up_with_a_roller_ends_on_hands_and_knees() -> None:
    r = recommend(context="warm_up", equipment={"foam_roller", "strap"})
    assert [(s.stretch_id, s.position) for s in r.steps] == [
        ("foam_roll_sore_group", "seated_floor"),  # roll the sore group first (p15)
        ("lower_trunk_rotation", "supine"),  # the warm-up moves, from lying
        ("adductor_strap_supine", "supine"),
        ("child_pose_side_reach", "quadruped"),  # up to the most upright of them
    ]
    named = recommend(context="warm_up", equipment={"foam_roller"}, focus={"hip_flexors"})
    assert [(s.stretch_id, s.position) for s in named.steps][:2] == [
        ("foam_roll_hip_flexors", "prone"),  # the group named, face down, then up from lying
        ("lower_trunk_rotation", "supine"),
    ]
    assert named.steps[-1].position == "quadruped"
    assert (
        r.steps[1]
        .reasons[-1]
        .endswith("(acsm-guidelines-11, si-stretch-guide#p7, si-stretch-guide#p15).")
    )


# --- after_sitting: a 10-minute break ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(in_context("after_sitting", minutes=None))
def test_property_after_sitting_without_minutes_fits_ten_minutes(p: Profile) -> None:
    assert recommend(p).total_seconds <= 10 * 60


def test_a_break_from_sitting_holds_the_gentle_moves() -> None:
    r = recommend(context="after_sitting")
    assert [s.stretch_id for s in r.steps] == [
        "child_pose_side_reach",
        "butterfly_seated",
        "lower_trunk_rotation",
    ]
    assert {s.phase for s in r.steps} == {"warm_up"}  # p7: simple moves after sitting
    focused = recommend(context="after_sitting", focus={"hamstrings"})
    assert "hamstring_supine" in {s.stretch_id for s in focused.steps}
    assert focused.total_seconds <= 600


# --- on waking: from lying up to standing, over the whole routine ----------------------


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["after_sleep", "warm_up"]).flatmap(in_context))
def test_property_upward_routines_never_go_back_toward_lying(p: Profile) -> None:
    steps = [s for s in recommend(p).steps if not rolling(s.stretch_id)]  # after the rolling
    levels = [KB.positions[s.position].sequence for s in steps]
    assert levels == sorted(levels, reverse=True)


def test_waking_aggravated_goes_up_and_reads_under_one_heading() -> None:
    r = recommend(context="after_sleep", aggravated=True)
    assert [(s.stretch_id, s.position) for s in r.steps] == [
        ("lower_trunk_rotation", "supine"),
        ("figure_four_supine", "supine"),
        ("butterfly_seated", "seated_floor"),
        ("child_pose_side_reach", "quadruped"),
    ]
    text = render_text(r)
    assert text.count("Lying down first, then working up") == 1
    assert "Gentle moves" not in text
    assert "Targeted stretches" not in text


def _reordered(r: Routine, order: list[str]) -> Routine:
    by_id = {s.stretch_id: s for s in r.steps}
    return r.model_copy(update={"steps": tuple(by_id[sid] for sid in order)})


def test_the_audit_reads_the_upward_order_over_the_whole_routine() -> None:
    p = Profile(context="after_sleep", minutes=60.0)
    r = recommend(p)
    ids = [s.stretch_id for s in r.steps]
    assert ids[:4] == [
        "lower_trunk_rotation",
        "figure_four_supine",
        "hamstring_supine",
        "butterfly_seated",
    ]
    # A targeted stretch before a warm-up move, inside the lying block: phase order.
    swapped = _reordered(r, [ids[1], ids[0], *ids[2:]])
    found = audit(swapped, p, KB)
    assert [(v.rule, v.message) for v in found] == [
        ("phase_order", "phases are not warm-up, targeted, cool-down in the supine block")
    ]
    # Back down to lying after sitting: the lying block is split, and it goes down.
    down = _reordered(r, [ids[0], ids[1], ids[3], ids[2], *ids[4:]])
    rules = {(v.rule, v.message) for v in audit(down, p, KB)}
    assert ("position_blocks", "supine is split in the routine") in rules
    assert (
        "lying_to_standing",
        "supine comes after seated_floor: lying first, up to standing",
    ) in (rules)


# --- the audit expects each context's level from the tables ----------------------------


def test_the_audit_refuses_the_usual_dose_where_the_context_is_gentle() -> None:
    p = Profile(context="post_activity")
    r = recommend(p)
    usual = recommend(context="after_sitting", minutes=60.0)
    same = {s.stretch_id: s for s in usual.steps}
    steps = tuple(same.get(s.stretch_id, s).model_copy(update={"phase": s.phase}) for s in r.steps)
    moved = r.model_copy(update={"steps": steps, "total_seconds": sum(s.seconds for s in steps)})
    found = audit(moved, p, KB)
    assert found
    assert {v.rule for v in found} == {"dose"}
    assert found[0].message.endswith("should be 30 s x 2, reduced range, each side")


# --- with a history: never above the context's gentle level ----------------------------


def session(day: int, context: str, *feedback: tuple[str, int]) -> Session:
    return Session(
        date=dt.date(2026, 3, day),
        context=context,
        feedback=[
            Feedback(stretch_id=sid, sets_done=2, pain_during=pain) for sid, pain in feedback
        ],
    )


def logged(p: Profile, history: list[Session]) -> dict[str, tuple[object, ...]]:
    r = recommend(p, history=history)
    assert audit(r, p, KB, history=history) == []
    return {
        s.stretch_id: (s.hold_seconds, s.sets, s.range_of_motion, s.progression) for s in r.steps
    }


HAM = "hamstring_supine"


def test_history_never_doses_above_the_gentle_level() -> None:
    greens = [session(1, "after_sitting", (HAM, 1)), session(2, "after_sitting", (HAM, 1))]
    sitting = logged(Profile(context="after_sitting", focus={"hamstrings"}), greens)
    assert sitting[HAM] == (60, 2, "full", "up")
    p = Profile(context="post_activity", focus={"hamstrings"})
    assert logged(p, greens)[HAM] == (30, 2, "reduced", "same")  # up, but capped: the same
    r = recommend(p, history=greens)
    (step,) = [s for s in r.steps if s.stretch_id == HAM]
    assert step.reasons[-1].startswith(
        "Kept at 30 s x 2 on each side, reduced range, no higher than this context's gentle "
        "level. "
        "After activity: gentle stretching"
    )
    # No feedback yet: it starts at the cap; a red from above the cap gives the same dose.
    assert logged(p, [])[HAM] == (30, 2, "reduced", None)
    other = [session(1, "post_activity", ("figure_four_supine", 1))]
    assert logged(p, other)[HAM] == (30, 2, "reduced", "start")
    red = [session(1, "post_activity", (HAM, 8))]
    assert logged(p, red)[HAM] == (30, 2, "reduced", "same")
    # Aggravated today still wins, whatever the context.
    stirred = logged(
        Profile(context="post_activity", aggravated=True, focus={"hamstrings"}), greens
    )
    assert stirred[HAM][:3] == (30, 2, "reduced")


def test_history_in_the_warm_up_keeps_short_holds_at_full_range() -> None:
    kit, adductor = {"strap"}, "adductor_strap_supine"
    p = Profile(context="warm_up", equipment=kit)
    greens = [session(1, "warm_up", (adductor, 1)), session(2, "warm_up", (adductor, 2))]
    assert logged(p, greens)[adductor] == (30, 2, "full", "same")
    # A red from the usual start (45 s) down to the cap (30 s, full): the same dose.
    assert logged(p, [session(1, "warm_up", (adductor, 8))])[adductor] == (30, 2, "full", "same")
    # Aggravated today: the lowest rung at reduced range, below the warm-up's level.
    stirred = Profile(context="warm_up", equipment=kit, aggravated=True)
    assert logged(stirred, greens)[adductor][:3] == (30, 2, "reduced")


def test_the_audit_refuses_a_rung_above_the_gentle_level() -> None:
    greens = [session(1, "after_sitting", (HAM, 1)), session(2, "after_sitting", (HAM, 1))]
    p = Profile(context="post_activity", focus={"hamstrings"})
    r = recommend(p, history=greens)
    i = [s.stretch_id for s in r.steps].index(HAM)
    steps = list(r.steps)
    steps[i] = steps[i].model_copy(
        update={"hold_seconds": 45, "range_of_motion": "full", "seconds": 45 * 2 * 2 + 15}
    )
    tampered = r.model_copy(
        update={"steps": tuple(steps), "total_seconds": sum(s.seconds for s in steps)}
    )
    found = audit(tampered, p, KB, history=greens)
    assert [(v.rule, v.stretch_id) for v in found] == [("progression_ladder", HAM)]


@pytest.fixture(scope="module")
def reduced_only(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """A pack whose after-sitting keeps the usual holds at a reduced range."""
    folder = tmp_path_factory.mktemp("reduced")
    (folder / "reduced.toml").write_text(
        """
[[context]]
id = "after_sitting"
override = true
name = "After sitting"
dose.level = "usual"
dose.range_of_motion = "reduced"
dose.why = "a clinic's choice"
dose.cites = ["si-stretch-guide#p10"]
cites = ["si-stretch-guide#p7"]
""",
        encoding="utf-8",
    )
    return load_knowledge(folder)


def test_a_usual_hold_at_reduced_range_caps_the_ladder_at_its_lowest_rung(
    reduced_only: KnowledgeBase,
) -> None:
    p = Profile(context="after_sitting", focus={"hamstrings"}, minutes=60.0)
    plain = recommend(p, knowledge=reduced_only)
    (ham,) = [s for s in plain.steps if s.stretch_id == HAM]
    assert (ham.hold_seconds, ham.range_of_motion) == (45, "reduced")
    greens = [session(1, "after_sitting", (HAM, 1)), session(2, "after_sitting", (HAM, 1))]
    r = recommend(p, knowledge=reduced_only, history=greens)
    assert audit(r, p, reduced_only, history=greens) == []
    (ham,) = [s for s in r.steps if s.stretch_id == HAM]
    assert (ham.hold_seconds, ham.sets, ham.range_of_motion) == (30, 2, "reduced")


def test_an_explicit_usual_full_dose_is_no_ceiling(tmp_path: Path) -> None:
    (tmp_path / "usual.toml").write_text(
        """
[[context]]
id = "after_sleep"
override = true
name = "After sleep"
dose.level = "usual"
dose.range_of_motion = "full"
dose.why = "as usual"
dose.cites = ["si-stretch-guide#p7"]
order = "lying_to_standing"
cites = ["si-stretch-guide#p7"]
""",
        encoding="utf-8",
    )
    kb = load_knowledge(tmp_path)
    p = Profile(context="after_sleep", focus={"hamstrings"}, minutes=60.0)
    greens = [session(1, "after_sleep", (HAM, 1)), session(2, "after_sleep", (HAM, 1))]
    r = recommend(p, knowledge=kb, history=greens)
    (ham,) = [s for s in r.steps if s.stretch_id == HAM]
    assert (ham.hold_seconds, ham.progression) == (60, "up")
    assert not any("as usual" in reason for reason in ham.reasons)
