"""The audit (sirecommend.safety): every check has a break test that only it catches.

Each break is a real routine tampered with ``model_copy(update=...)``; the test asserts
the exact set of checks that report it. The eight tampered routines of issue 10 (item 3)
are pinned too, and so is the absence of any memo: auditing twice does the same work, and
a routine changed after its first audit fails the next one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import warnings
from collections.abc import Callable, Sequence

import pytest

import sirecommend
from sirecommend import (
    Exclusion,
    KnowledgeBase,
    Profile,
    Reason,
    ReasonCode,
    Routine,
    Step,
    UnknownIdError,
    audit,
    load_knowledge,
    recommend,
    safety,
)
from sirecommend._facts import (
    dose_level,
    expected_cautions,
    expected_choice,
    expected_dose,
    expected_instructions,
    expected_seconds,
    offered_phases,
    rule_facts,
)
from sirecommend._feedback import Feedback, Session
from sirecommend._loader import knowledge_from_packs
from sirecommend._models import AGGRAVATED_MAX_STEPS, PackFile
from sirecommend.errors import InvalidArgumentError
from sirecommend.safety import CHECKS

KB = load_knowledge()
# A budget long enough for every after-sitting step (its default is about 10 minutes).
PLAIN = Profile(context="after_sitting", minutes=60.0)
WITH_KIT = Profile(context="after_sitting", equipment={"strap", "towel"}, minutes=60.0)
AGGRAVATED = Profile(context="after_sitting", aggravated=True)
FLAGGED = Profile(context="after_sitting", red_flags={"fever", "saddle_numbness"})
PREGNANT = Profile(context="after_sitting", pregnancy_trimester=2, minutes=60.0)
NO_KNEELING = Profile(context="after_sitting", avoid_positions={"quadruped"}, minutes=60.0)
TWIST_PACK = """
[[source]]
id = "clinic-notes"
kind = "guideline"
title = "Clinic notes"
publisher = "Clinic"

[[movement]]
id = "trunk_twist"
name = "Trunk twist"
is_a = "rotation"
cites = ["clinic-notes"]

[[stretch]]
id = "twist_and_reach"
name = "Twist and reach"
phase = "targeted"
position = "standing"
movements = ["trunk_twist", "side_bend"]
targets = ["lateral_trunk"]
cites = ["clinic-notes"]
dosage = { hold_seconds = [30, 60], sets = [2, 3], per_side = true, cites = ["clinic-notes"] }
instructions = [{ text = "Reach up and over.", cites = ["clinic-notes"] }]
suits = [{ context = "after_sitting", cites = ["clinic-notes"] }]
"""

Tamper = Callable[[], tuple[Routine, Profile, KnowledgeBase]]


# --- helpers ---------------------------------------------------------------------------


def run(profile: Profile, kb: KnowledgeBase = KB) -> Routine:
    routine = recommend(profile, knowledge=kb)
    assert audit(routine, profile, kb) == []
    return routine


def index_of(routine: Routine, sid: str) -> int:
    return [s.stretch_id for s in routine.steps].index(sid)


def with_step(routine: Routine, i: int, **changes: object) -> Routine:
    steps = list(routine.steps)
    steps[i] = steps[i].model_copy(update=changes)
    return routine.model_copy(update={"steps": tuple(steps)})


def retimed(routine: Routine) -> Routine:
    """``routine`` with each step's seconds and the total made consistent again."""
    steps = tuple(
        s.model_copy(update={"seconds": expected_seconds(s.hold_seconds, s.sets, s.per_side)})
        for s in routine.steps
    )
    return routine.model_copy(
        update={"steps": steps, "total_seconds": sum(s.seconds for s in steps)}
    )


def step_as_knowledge_says(kb: KnowledgeBase, profile: Profile, sid: str) -> Step:
    """A step of ``sid`` exactly as the knowledge describes it, whether allowed or not."""
    st = kb.stretches[sid]
    level = dose_level(kb.contexts[profile.context])
    hold, sets, motion = expected_dose(st, profile.aggravated, level)
    return Step(
        stretch_id=sid,
        name=st.name,
        phase=offered_phases(kb, profile.context)[sid],
        position=st.position,
        position_name=kb.positions[st.position].name,
        equipment=None,
        movements=st.movements,
        targets=st.targets,
        hold_seconds=hold,
        sets=sets,
        per_side=st.dosage.per_side,
        range_of_motion=motion,
        instructions=expected_instructions(st, None),
        cautions=expected_cautions(
            rule_facts(kb), st, kb.movement_kinds_of(st.movements), profile.aggravated
        ),
        reasons=("Put in by hand.",),
        sources=(*st.cites, *st.dosage.cites),
        seconds=expected_seconds(hold, sets, st.dosage.per_side),
    )


def promoted(kb: KnowledgeBase, profile: Profile, sid: str, at: int) -> Routine:
    """The routine for ``profile`` with the excluded ``sid`` made a step at index ``at``."""
    routine = run(profile, kb)
    steps = list(routine.steps)
    steps.insert(at, step_as_knowledge_says(kb, profile, sid))
    excluded = tuple(e for e in routine.excluded if e.stretch_id != sid)
    assert len(excluded) == len(routine.excluded) - 1
    return retimed(routine.model_copy(update={"steps": tuple(steps), "excluded": excluded}))


def ordered_knowledge() -> KnowledgeBase:
    """Two stretches of one phase and position, the second ordered before the first; one
    urgency tier (urgent) and one red flag."""
    cites = ["g"]

    def stretch(i: int) -> dict[str, object]:
        return {
            "id": f"s{i}",
            "name": f"S{i}",
            "phase": "targeted",
            "position": "p",
            "movements": ["m"],
            "targets": ["mu"],
            "dosage": {"hold_seconds": [10, 20], "sets": [1, 1], "per_side": False, "cites": cites},
            "instructions": [{"text": "Do it.", "cites": cites}],
            "suits": [{"context": "c", "cites": cites}],
            "cites": cites,
        }

    pack = PackFile.model_validate(
        {
            "source": [{"id": "g", "kind": "guideline", "title": "G", "publisher": "P"}],
            "muscle": [{"id": "mu", "name": "Mu", "cites": cites}],
            "movement": [{"id": "m", "name": "M", "is_a": "hip_flexion", "cites": cites}],
            "context": [{"id": "c", "name": "C", "cites": cites}],
            "position": [
                {"id": "p", "name": "P", "sequence": 1, "is_a": "standing", "cites": cites}
            ],
            "stretch": [stretch(1), stretch(2)],
            "ordering": [{"id": "two_first", "before": "s2", "after": "s1", "cites": cites}],
            "urgency": [{"id": "urgent", "rank": 2, "action": "Call.", "cites": cites}],
            "red_flag": [
                {"id": "f", "name": "F", "urgency": "urgent", "message": "Go.", "cites": cites}
            ],
            "rule": [
                {
                    "id": "refer",
                    "kind": "red_flag_referral",
                    "name": "Refer",
                    "message": "Stop.",
                    "cites": cites,
                }
            ],
        }
    )
    return knowledge_from_packs(pack)


@pytest.fixture
def nothing_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report the checks the pipeline does not meet yet (see safety.PENDING)."""
    monkeypatch.setattr(safety, "PENDING", frozenset())


# --- one break per check ---------------------------------------------------------------


def _profile() -> tuple[Routine, Profile, KnowledgeBase]:
    other = Profile(context="after_sitting", focus={"hamstrings"})
    return run(PLAIN).model_copy(update={"profile": other}), PLAIN, KB


def _status() -> tuple[Routine, Profile, KnowledgeBase]:
    return run(PLAIN).model_copy(update={"status": "nothing_fits"}), PLAIN, KB


def _red_flag_stop() -> tuple[Routine, Profile, KnowledgeBase]:
    referral = run(FLAGGED).referral
    return run(PLAIN).model_copy(update={"referral": referral}), PLAIN, KB


def _referral(**changes: object) -> Tamper:
    def tamper() -> tuple[Routine, Profile, KnowledgeBase]:
        routine = run(FLAGGED)
        assert routine.referral is not None
        referral = routine.referral.model_copy(update=changes)
        return routine.model_copy(update={"referral": referral}), FLAGGED, KB

    return tamper


def _routine(profile: Profile, **changes: object) -> Tamper:
    return lambda: (run(profile).model_copy(update=changes), profile, KB)


def _step(profile: Profile, sid: str, **changes: object) -> Tamper:
    def tamper() -> tuple[Routine, Profile, KnowledgeBase]:
        routine = run(profile)
        return with_step(routine, index_of(routine, sid), **changes), profile, KB

    return tamper


def _provenance() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    genuine = routine.provenance.model_copy(update={"knowledge_digest": "0" * 64})
    return routine.model_copy(update={"provenance": genuine}), PLAIN, KB


def _known_stretch() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    why = Reason(code=ReasonCode.NO_ALTERNATIVE, message="None.")
    ghost = Exclusion(stretch_id="no_such_stretch", name="Ghost", reasons=(why,))
    return routine.model_copy(update={"excluded": (*routine.excluded, ghost)}), PLAIN, KB


def _context() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    why = Reason(code=ReasonCode.MISSING_EQUIPMENT, message="No foam roller.")
    name = KB.stretches["foam_roll_glutes"].name
    foreign = Exclusion(stretch_id="foam_roll_glutes", name=name, reasons=(why,))
    return routine.model_copy(update={"excluded": (*routine.excluded, foreign)}), PLAIN, KB


def _accounted() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    return routine.model_copy(update={"excluded": routine.excluded[1:]}), PLAIN, KB


def _dose() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    i = index_of(routine, "hamstring_supine")
    return retimed(with_step(routine, i, hold_seconds=routine.steps[i].hold_seconds + 5)), PLAIN, KB


def _seconds() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    routine = with_step(routine, 0, seconds=routine.steps[0].seconds + 1)
    return routine.model_copy(update={"total_seconds": routine.total_seconds + 1}), PLAIN, KB


def _exclusion(profile: Profile, sid: str, **changes: object) -> Tamper:
    def tamper() -> tuple[Routine, Profile, KnowledgeBase]:
        routine = run(profile)
        excluded = tuple(
            e.model_copy(update=changes) if e.stretch_id == sid else e for e in routine.excluded
        )
        return routine.model_copy(update={"excluded": excluded}), profile, KB

    return tamper


def _reason_true() -> tuple[Routine, Profile, KnowledgeBase]:
    flag = Reason(code=ReasonCode.RED_FLAG, message="Warning signs reported.")
    (e,) = [e for e in run(PLAIN).excluded if e.stretch_id == "adductor_strap_supine"]
    return _exclusion(PLAIN, e.stretch_id, reasons=(flag, *e.reasons))()


def _reasons_complete() -> tuple[Routine, Profile, KnowledgeBase]:
    (e,) = [e for e in run(PLAIN).excluded if e.stretch_id == "adductor_strap_supine"]
    return _exclusion(PLAIN, e.stretch_id, reasons=e.reasons[1:])()


def unaudited(profile: Profile) -> Routine:
    """The pipeline's routine for ``profile``, whatever the audit says of it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(safety, "PENDING", frozenset(CHECKS))
        return recommend(profile)


def _reason_other() -> tuple[Routine, Profile, KnowledgeBase]:
    # The strap stretch's stand-in was dropped for time; claim it replaced the strap one.
    profile = Profile(context="after_sitting", minutes=1.0)
    routine = run(profile)
    assert "butterfly_seated" not in {s.stretch_id for s in routine.steps}
    (e,) = [e for e in routine.excluded if e.stretch_id == "adductor_strap_supine"]
    replaced = Reason(
        code=ReasonCode.REPLACED,
        message="Replaced by Seated butterfly stretch.",
        other="butterfly_seated",
    )
    reasons = (*e.reasons[:-1], replaced)
    return _exclusion(profile, e.stretch_id, reasons=reasons)()[0], profile, KB


def _lead_first() -> tuple[Routine, Profile, KnowledgeBase]:
    # The warm-up rolls first (p15): the rolling step (sitting) moved after the
    # butterfly stretch (sitting too), so no block splits and each group still runs up.
    profile = Profile(context="warm_up", equipment={"foam_roller"}, pregnancy_trimester=2)
    routine = run(profile)
    ids = [s.stretch_id for s in routine.steps]
    assert ids == ["foam_roll_sore_group", "butterfly_seated", "child_pose_side_reach"]
    steps = routine.steps
    moved = (steps[1], steps[0], *steps[2:])
    return routine.model_copy(update={"steps": moved}), profile, KB


def _phase_order() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    return routine.model_copy(update={"steps": (routine.steps[-1], *routine.steps[:-1])}), PLAIN, KB


def _position_blocks() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    steps = list(routine.steps)
    steps.insert(
        index_of(routine, "hip_flexor_half_kneeling"),
        steps.pop(index_of(routine, "figure_four_supine")),
    )
    return routine.model_copy(update={"steps": tuple(steps)}), PLAIN, KB


def _ordering() -> tuple[Routine, Profile, KnowledgeBase]:
    kb, profile = ordered_knowledge(), Profile(context="c")
    routine = run(profile, kb)
    assert [s.stretch_id for s in routine.steps] == ["s2", "s1"]
    return routine.model_copy(update={"steps": routine.steps[::-1]}), profile, kb


def _time_budget() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    tight = Profile(context="after_sitting", minutes=(routine.total_seconds - 1) / 60)
    return routine.model_copy(update={"profile": tight}), tight, KB


def in_order(kb: KnowledgeBase, profile: Profile, routine: Routine, sid: str) -> int:
    """Where ``sid`` goes among the steps of ``routine``, in the context's order."""
    order = kb.order(profile.context)
    return sum(order.index(s.stretch_id) < order.index(sid) for s in routine.steps)


def rolled(kb: KnowledgeBase, profile: Profile, sid: str) -> Routine:
    """``promoted`` for a rolling stretch: done with the roller the person has."""
    longer = promoted(kb, profile, sid, in_order(kb, profile, run(profile, kb), sid))
    st = kb.stretches[sid]
    option = st.equipment[0]  # the roller, which the person has
    assert option.uses is not None
    used = {
        "equipment": option.uses,
        "equipment_name": kb.equipment[option.uses].name,
        "instructions": expected_instructions(st, option),
    }
    steps = tuple(s.model_copy(update=used) if s.stretch_id == sid else s for s in longer.steps)
    return longer.model_copy(update={"steps": steps})


# Naming two rolled groups gives two rolling steps (p15): one more than the cap.
AT_CAP = Profile(
    context="cool_down",
    equipment={"strap", "towel", "foam_roller"},
    focus={"glutes", "hamstrings"},
)


def _max_steps() -> tuple[Routine, Profile, KnowledgeBase]:
    # At the cap: bring back, in its place in the order, a stretch the cap left out.
    routine = run(AT_CAP)
    assert len(routine.steps) == sirecommend._routine.MAX_STEPS
    (sid,) = [
        e.stretch_id for e in routine.excluded if e.reasons[-1].code == ReasonCode.ROUTINE_LENGTH
    ]
    assert not KB.stretches[sid].equipment  # (done with the hands only)
    return promoted(KB, AT_CAP, sid, in_order(KB, AT_CAP, routine, sid)), AT_CAP, KB


ROLLER = Profile(context="warm_up", equipment={"foam_roller"}, minutes=60.0)
ROLLER_T2 = ROLLER.model_copy(update={"pregnancy_trimester": 2})


def _sore_group() -> tuple[Routine, Profile, KnowledgeBase]:
    # No focus: the glutes rolled on their own step beside the step that offers them.
    return rolled(KB, ROLLER, "foam_roll_glutes"), ROLLER, KB


def offering(routine: Routine, profile: Profile, members: Sequence[str]) -> Routine:
    """``routine`` with its choice step offering ``members``, its words made to fit."""
    facts = KB.facts.stretches
    choice = facts["foam_roll_sore_group"]
    i = index_of(routine, choice.id)
    own = choice.aggravated_cautions if profile.aggravated else choice.cautions
    offers = tuple((facts[m].offer, facts[m].cautions) for m in members)
    instructions, cautions = expected_choice(choice.options[0].instructions, own, offers)
    return with_step(routine, i, instructions=instructions, cautions=cautions)


def _choice_offers() -> tuple[Routine, Profile, KnowledgeBase]:
    # Second trimester: the choice also offers rolling the hip flexors face down.
    everything = ("foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors")
    return offering(run(ROLLER_T2), ROLLER_T2, everything), ROLLER_T2, KB


def _forbidden_combination() -> tuple[Routine, Profile, KnowledgeBase]:
    # trunk_twist is_a rotation: the rule, written for rotation, must still catch it.
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "clinic.toml").write_text(TWIST_PACK, encoding="utf-8")
        kb = load_knowledge(Path(tmp))
    routine = run(PLAIN, kb)
    assert "twist_and_reach" in {e.stretch_id for e in routine.excluded}
    return promoted(kb, PLAIN, "twist_and_reach", len(routine.steps)), PLAIN, kb


def _lying_to_standing() -> tuple[Routine, Profile, KnowledgeBase]:
    # On waking, hands and knees before lying: the position blocks stay whole, the
    # direction the context asks for does not hold.
    profile = Profile(context="after_sleep", minutes=60.0)
    routine = run(profile)
    steps = list(routine.steps)
    steps.insert(0, steps.pop(index_of(routine, "child_pose_side_reach")))
    return routine.model_copy(update={"steps": tuple(steps)}), profile, KB


def _aggravated_steps() -> tuple[Routine, Profile, KnowledgeBase]:
    # Aggravated, with time to spare: bring back a fifth step the cap left out.
    profile = Profile(context="after_sitting", aggravated=True, minutes=60.0)
    routine = run(profile)
    assert len(routine.steps) == AGGRAVATED_MAX_STEPS
    return promoted(KB, profile, "standing_side_bend", len(routine.steps)), profile, KB


BREAKS: dict[str, Tamper] = {
    "profile": _profile,
    "status": _status,
    "red_flag_stop": _red_flag_stop,
    "referral_urgency": _referral(urgency="urgent"),
    "referral_flags": _referral(red_flags=("fever", "saddle_numbness")),
    "referral_words": _referral(message="Carry on stretching."),
    "stop_rules": _routine(PLAIN, cautions=()),
    "notice": _routine(PLAIN, notice="Anything goes."),
    "provenance": _provenance,
    "known_stretch": _known_stretch,
    "context": _context,
    "accounted": _accounted,
    "step_name": _step(PLAIN, "hamstring_supine", name="Hamstring stretch, standing"),
    "position": _step(PLAIN, "hamstring_supine", position_name="Standing"),
    "movements": _step(PLAIN, "hamstring_supine", targets=("glutes",)),
    "equipment": _step(WITH_KIT, "hamstring_supine", equipment="towel", equipment_name="Towel"),
    "instructions": _step(PLAIN, "standing_side_bend", instructions=("Twist as you bend.",)),
    "cautions": _step(PLAIN, "standing_side_bend", cautions=()),
    "dose": _dose,
    "seconds": _seconds,
    "phase": _step(PLAIN, "standing_side_bend", phase="cool_down"),
    "replaces": _step(PLAIN, "hamstring_supine", replaces="figure_four_supine"),
    "explained": _step(PLAIN, "hamstring_supine", reasons=()),
    "avoided_position": lambda: (
        promoted(KB, NO_KNEELING, "child_pose_side_reach", 0),
        NO_KNEELING,
        KB,
    ),
    "pregnancy": lambda: (promoted(KB, PREGNANT, "figure_four_supine", 2), PREGNANT, KB),
    "forbidden_combination": _forbidden_combination,
    "sore_group": _sore_group,
    "choice_offers": _choice_offers,
    "exclusion_name": _exclusion(PLAIN, "hip_flexor_standing_lunge", name="Lunge"),
    "reason_true": _reason_true,
    "reason_other": _reason_other,
    "reasons_complete": _reasons_complete,
    "lead_first": _lead_first,
    "phase_order": _phase_order,
    "position_blocks": _position_blocks,
    "ordering": _ordering,
    "lying_to_standing": _lying_to_standing,
    "total_seconds": _routine(PLAIN, total_seconds=1),
    "time_budget": _time_budget,
    "max_steps": _max_steps,
    "aggravated_steps": _aggravated_steps,
}


def test_every_check_has_a_break() -> None:
    assert list(BREAKS) == [c for c in CHECKS if c not in HISTORY_BREAKS]
    assert list(HISTORY_BREAKS) == [c for c in CHECKS if c.startswith("progression_")]


@pytest.mark.usefixtures("nothing_pending")
@pytest.mark.parametrize("check", list(BREAKS))
def test_only_the_check_named_catches_its_break(check: str) -> None:
    routine, profile, kb = BREAKS[check]()
    found = audit(routine, profile, kb)
    assert {v.rule for v in found} == {check}, [f"{v.rule}: {v.message}" for v in found]
    assert all(v.message for v in found)


def test_pending_checks_are_made_but_not_reported() -> None:
    for check in sorted(safety.PENDING):
        routine, profile, kb = BREAKS[check]()
        assert audit(routine, profile, kb) == []


# --- the eight tampered routines of issue 10, item 3 -----------------------------------


def _every_step_warm_up() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    steps = tuple(s.model_copy(update={"phase": "warm_up"}) for s in routine.steps)
    return routine.model_copy(update={"steps": steps}), PLAIN, KB


def _all_excluded_for_a_red_flag() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    why = Reason(code=ReasonCode.RED_FLAG, message="Warning signs reported.")
    excluded = tuple(
        Exclusion(stretch_id=sid, name=KB.stretches[sid].name, reasons=(why,))
        for sid in [
            *(s.stretch_id for s in routine.steps),
            *(e.stretch_id for e in routine.excluded),
        ]
    )
    changes = {"steps": (), "excluded": excluded, "total_seconds": 0, "status": "nothing_fits"}
    return routine.model_copy(update=changes), PLAIN, KB


def _supine_relabelled_standing() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)
    steps = tuple(
        s.model_copy(update={"position_name": "Standing"}) if s.position == "supine" else s
        for s in routine.steps
    )
    return routine.model_copy(update={"steps": steps}), PLAIN, KB


def _missing_equipment_the_person_has() -> tuple[Routine, Profile, KnowledgeBase]:
    routine = run(PLAIN)  # adductor_strap_supine left out: no strap
    return routine.model_copy(update={"profile": WITH_KIT}), WITH_KIT, KB


ISSUE_TAMPERS: dict[str, tuple[str, set[str], Tamper]] = {
    "an emergency referral that says nothing is wrong and lists no red flags": (
        "referral_words",
        {"referral_flags", "referral_words"},
        _referral(red_flags=(), flag_names=(), message="Nothing is wrong.", action="Carry on."),
    ),
    "a routine with no stop rules and no notice": (
        "stop_rules",
        {"stop_rules", "notice"},
        _routine(PLAIN, cautions=(), notice=""),
    ),
    "an aggravated routine with the go-gently caution removed": (
        "cautions",
        {"cautions"},
        _step(AGGRAVATED, "figure_four_supine", cautions=()),
    ),
    "a side-bend step whose instructions say to twist": (
        "instructions",
        {"instructions"},
        _step(PLAIN, "standing_side_bend", instructions=("Twist your trunk as you bend.",)),
    ),
    "supine steps relabelled Standing": (
        "position",
        {"position"},
        _supine_relabelled_standing,
    ),
    "every step relabelled warm-up": ("phase", {"phase"}, _every_step_warm_up),
    "every stretch excluded for a red flag the profile does not have": (
        "reason_true",
        {"reason_true", "reasons_complete"},
        _all_excluded_for_a_red_flag,
    ),
    "a stretch excluded for missing equipment the person has": (
        "reason_true",
        {"reason_true", "reasons_complete", "replaces", "equipment", "instructions"},
        _missing_equipment_the_person_has,
    ),
}


@pytest.mark.parametrize("name", list(ISSUE_TAMPERS))
def test_each_tampered_routine_of_the_issue_is_caught(name: str) -> None:
    named, expected, tamper = ISSUE_TAMPERS[name]
    found = {v.rule for v in audit(*tamper())}
    assert named in found
    assert found == expected


def test_a_referral_at_the_urgency_of_an_unknown_tier_is_caught() -> None:
    kb, profile = ordered_knowledge(), Profile(context="c", red_flags={"f"})
    routine = run(profile, kb)
    assert routine.referral is not None
    referral = routine.referral.model_copy(update={"urgency": "emergency"})  # not in kb
    found = audit(routine.model_copy(update={"referral": referral}), profile, kb)
    assert {v.rule for v in found} == {"referral_urgency"}


def test_a_routine_of_another_context_is_reported() -> None:
    broken = run(PLAIN).model_copy(update={"context": "after_sleep"})
    assert [v.rule for v in audit(broken, PLAIN, KB)] == ["profile"]


def test_steps_and_no_referral_despite_red_flags_are_reported() -> None:
    flagged = Profile(context="after_sitting", red_flags={"fever"})
    routine = run(PLAIN).model_copy(update={"profile": flagged})
    found = [v.message for v in audit(routine, flagged, KB) if v.rule == "red_flag_stop"]
    assert found == [
        "red flags reported, yet the routine has steps",
        "red flags reported, yet no referral",
    ]


def test_a_step_of_an_unknown_stretch_is_reported_once() -> None:
    routine = run(PLAIN)
    broken = with_step(routine, 0, stretch_id="no_such_stretch")
    assert {v.rule for v in audit(broken, PLAIN, KB)} == {"known_stretch", "accounted"}


def test_a_step_in_an_unknown_position_is_reported() -> None:
    broken = _step(PLAIN, "hamstring_supine", position="nowhere")()
    assert "position" in {v.rule for v in audit(*broken)}


def test_a_stand_in_whose_stretch_is_also_a_step_is_reported() -> None:
    routine = run(PLAIN)  # butterfly_seated stands in for adductor_strap_supine
    steps = list(routine.steps)
    steps.insert(1, step_as_knowledge_says(KB, WITH_KIT, "adductor_strap_supine"))
    found = audit(routine.model_copy(update={"steps": tuple(steps)}), PLAIN, KB)
    assert ("replaces", "butterfly_seated") in {(v.rule, v.stretch_id) for v in found}


def test_a_referral_with_unknown_sources_is_reported() -> None:
    routine, profile, kb = _referral(sources=("no-such-source",))()
    assert {v.rule for v in audit(routine, profile, kb)} == {"explained"}


def test_an_exclusion_without_the_red_flag_is_reported() -> None:
    routine = run(FLAGGED)
    why = Reason(code=ReasonCode.NO_ALTERNATIVE, message="None.")
    excluded = (routine.excluded[0].model_copy(update={"reasons": (why,)}), *routine.excluded[1:])
    found = audit(routine.model_copy(update={"excluded": excluded}), FLAGGED, KB)
    assert {v.rule for v in found} == {"reason_true", "reasons_complete"}


def test_a_blocked_primary_that_says_nothing_of_its_alternative_is_reported() -> None:
    (e,) = [e for e in run(PLAIN).excluded if e.stretch_id == "adductor_strap_supine"]
    found = audit(*_exclusion(PLAIN, e.stretch_id, reasons=e.reasons[:1])())
    assert [v.rule for v in found] == ["reasons_complete"]


@pytest.mark.parametrize(
    ("code", "other"),
    [
        (ReasonCode.REPLACED, None),
        (ReasonCode.ALTERNATIVE_NOT_NEEDED, "figure_four_supine"),
        (ReasonCode.NO_ALTERNATIVE, None),
        (ReasonCode.TIME_BUDGET, None),
        (ReasonCode.PREGNANCY, None),
    ],
)
def test_each_kind_of_reason_is_checked(code: ReasonCode, other: str | None) -> None:
    """Each code, given where it is false, is reported as untrue."""
    (e,) = [e for e in run(PLAIN).excluded if e.stretch_id == "hip_flexor_standing_lunge"]
    false = Reason(code=code, message="Because.", other=other, rule="pregnancy_no_supine")
    found = audit(*_exclusion(PLAIN, e.stretch_id, reasons=(*e.reasons, false))())
    assert "reason_true" in {v.rule for v in found}


def test_a_reason_code_the_audit_does_not_know_is_not_taken_as_true() -> None:
    (e,) = [e for e in run(PLAIN).excluded if e.stretch_id == "hip_flexor_standing_lunge"]
    unknown = e.reasons[0].model_copy(update={"code": "too_many_steps"})
    found = audit(*_exclusion(PLAIN, e.stretch_id, reasons=(unknown,))())
    assert {v.rule for v in found} == {"reason_true", "reasons_complete"}


def test_the_length_cap_is_its_own_reason() -> None:
    """Without a budget no time-budget reason is true; the cap's reason is, at the cap."""
    routine = run(PLAIN)
    (e,) = [e for e in routine.excluded if e.stretch_id == "hip_flexor_standing_lunge"]
    for code in (ReasonCode.TIME_BUDGET, ReasonCode.ROUTINE_LENGTH):  # not at the cap
        why = Reason(code=code, message="Too long.")
        tampered = _exclusion(PLAIN, e.stretch_id, reasons=(why,))()[0]
        assert "reason_true" in {v.rule for v in audit(tampered, PLAIN, KB)}
    at_cap = Profile(context="cool_down", equipment={"strap", "towel", "foam_roller"})
    long = run(at_cap)
    assert len(long.steps) == sirecommend._routine.MAX_STEPS
    (last,) = long.excluded[-1:]
    for code, holds in ((ReasonCode.TIME_BUDGET, False), (ReasonCode.ROUTINE_LENGTH, True)):
        why = Reason(code=code, message="Too long.")
        excluded = (*long.excluded[:-1], last.model_copy(update={"reasons": (why,)}))
        found = audit(long.model_copy(update={"excluded": excluded}), at_cap, KB)
        assert (
            ("reason_true", last.stretch_id) not in {(v.rule, v.stretch_id) for v in found}
        ) == holds


def test_wrong_arguments_are_typed_errors() -> None:
    routine = run(PLAIN)
    with pytest.raises(InvalidArgumentError, match="got a dict for the Profile"):
        audit(routine, {"context": "after_sitting"}, KB)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="for the KnowledgeBase"):
        audit(routine, PLAIN, None)  # type: ignore[arg-type]
    with pytest.raises(UnknownIdError, match="unknown red flag 'fevr' in red_flags"):
        audit(routine, Profile(context="after_sitting", red_flags={"fevr"}), KB)


def test_a_step_in_an_unknown_phase_is_reported() -> None:
    routine = run(PLAIN)
    broken = with_step(routine, len(routine.steps) - 1, phase="stretching")
    assert {v.rule for v in audit(broken, PLAIN, KB)} == {"phase", "phase_order"}


def test_what_a_context_offers_comes_from_the_links_and_alternatives() -> None:
    assert {sid: st.alternatives for sid, st in KB.facts.stretches.items() if st.alternatives} == {
        "adductor_strap_supine": ("butterfly_seated",),
        "hip_flexor_half_kneeling": ("hip_flexor_standing_lunge",),
    }
    warm_up = offered_phases(KB, "warm_up")
    assert dict(KB.facts.contexts["warm_up"].offered) == warm_up
    assert "hip_flexor_half_kneeling" not in warm_up
    assert "hip_flexor_standing_lunge" not in warm_up  # its primary is not offered there
    assert warm_up["butterfly_seated"] == warm_up["adductor_strap_supine"]


# --- no memo ---------------------------------------------------------------------------


def test_auditing_twice_does_the_same_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check runs on every call and reads every step and exclusion: nothing is
    remembered from the first audit to shorten the second."""
    calls: list[str] = []
    reads: list[str] = []

    def counted(check: Callable[[safety._Case], object]) -> Callable[[safety._Case], object]:
        def run_check(case: safety._Case) -> object:
            calls.append(check.__name__)
            return check(case)

        return run_check

    real_known_steps = safety._Case.known_steps

    def known_steps(case: safety._Case) -> object:
        for step, st in real_known_steps(case):
            reads.append(st.id)
            yield step, st

    names = [check.__name__ for check in safety._ALL]
    monkeypatch.setattr(safety, "_ALL", tuple(map(counted, safety._ALL)))
    monkeypatch.setattr(safety._Case, "known_steps", known_steps)
    routine = run(PLAIN)
    calls.clear()
    reads.clear()
    assert audit(routine, PLAIN, KB) == []
    first = (list(calls), list(reads))
    assert audit(routine, PLAIN, KB) == []
    assert (calls[len(first[0]) :], reads[len(first[1]) :]) == first
    assert first[0] == names
    assert first[1] == [s.stretch_id for s in routine.steps] * 2  # two checks read each


def test_a_routine_changed_after_its_first_audit_fails_the_next() -> None:
    routine = run(PLAIN)
    step = routine.steps[0]
    assert audit(routine, PLAIN, KB) == []
    vars(step)["movements"] = ()  # the same objects, changed in place (as an attacker could)
    try:
        assert {v.rule for v in audit(routine, PLAIN, KB)} == {"movements"}
    finally:
        vars(step)["movements"] = KB.stretches[step.stretch_id].movements
    assert audit(routine, PLAIN, KB) == []


def test_a_json_copy_is_audited_like_the_original() -> None:
    routine = run(AGGRAVATED)
    copy = Routine.model_validate_json(routine.model_dump_json())
    assert audit(copy, AGGRAVATED, KB) == []
    broken = copy.model_copy(update={"notice": ""})
    assert [v.rule for v in audit(broken, AGGRAVATED, KB)] == ["notice"]


# --- the old module name ----------------------------------------------------------------


def test_the_function_and_the_module_no_longer_share_a_name() -> None:
    assert sirecommend.audit is safety.audit
    assert importlib.import_module("sirecommend.safety") is safety
    assert "audit" in sirecommend.__all__


def test_the_old_module_still_imports_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sirecommend.audit", raising=False)
    monkeypatch.setattr(sirecommend, "audit", safety.audit)  # restored afterwards
    with pytest.warns(DeprecationWarning, match=r"sirecommend\.audit is deprecated"):
        old = importlib.import_module("sirecommend.audit")
    assert old.audit is safety.audit
    assert old.CHECKS is CHECKS
    # Importing the submodule binds it to the package: it must still work as the function.
    assert sirecommend.audit is old
    routine = run(PLAIN)
    assert old(routine, PLAIN, KB) == []
    assert [
        v.rule for v in sirecommend.audit(routine.model_copy(update={"notice": ""}), PLAIN, KB)
    ] == ["notice"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from sirecommend import audit as again  # already imported: no second warning

        assert again is old


# --- the facts: derived from the tables at load, read (never filled) by every audit -------


def test_a_stand_in_step_changed_elsewhere_is_reported_for_that_alone() -> None:
    """A step gone through field by field still accepts a rightful stand-in."""
    routine, profile, kb = _step(PLAIN, "butterfly_seated", name="Butterfly")()
    assert [(v.rule, v.stretch_id) for v in audit(routine, profile, kb)] == [
        ("step_name", "butterfly_seated")
    ]


@pytest.mark.parametrize(
    ("profile", "sid"),
    [
        (FLAGGED, "hamstring_supine"),  # one red-flag reason
        (Profile(context="after_sitting", minutes=3.0), "hamstring_supine"),  # time budget
        (PLAIN, "hip_flexor_standing_lunge"),  # not needed: its primary is a step
    ],
)
def test_an_exclusion_renamed_is_reported_for_that_alone(profile: Profile, sid: str) -> None:
    """An exclusion gone through reason by reason still accepts its true reasons."""
    routine = run(profile)
    (e,) = [e for e in routine.excluded if e.stretch_id == sid]
    assert len(e.reasons) == 1
    tampered = _exclusion(profile, sid, name="Another name")()
    assert [(v.rule, v.stretch_id) for v in audit(*tampered)] == [("exclusion_name", sid)]


def _pack(text: str) -> KnowledgeBase:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "clinic.toml").write_text(text, encoding="utf-8")
        return load_knowledge(Path(tmp))


def test_the_facts_follow_the_tables() -> None:
    """kb.facts is derived from the tables: a pack that changes them changes the facts."""
    kb = _pack(
        TWIST_PACK.replace("hold_seconds = [30, 60]", "hold_seconds = [20, 40]")
        + """
[[ordering]]
id = "twist_after_side_bend"
before = "standing_side_bend"
after = "twist_and_reach"
cites = ["clinic-notes"]
"""
    )
    assert "twist_and_reach" not in KB.facts.stretches
    twist = kb.facts.stretches["twist_and_reach"]
    # trunk_twist is_a rotation: the forbid rule, written for rotation, blocks it.
    assert twist.kinds == {"rotation", "side_bend"}
    assert [rule for _, rule in twist.forbidden] == ["no_rotation_with_side_bend"]
    assert (twist.plain.hold_seconds, twist.aggravated.hold_seconds) == (30, 20)
    assert twist.plain.seconds == expected_seconds(30, 2, True)
    assert twist.orderings == (
        (
            list(kb.orderings).index("twist_after_side_bend"),
            "twist_after_side_bend",
            "standing_side_bend",
        ),
    )
    assert kb.facts.contexts["after_sitting"].offered["twist_and_reach"] == "targeted"
    assert "twist_and_reach" not in kb.facts.contexts["warm_up"].offered
    assert "clinic-notes" in kb.facts.sources
    assert kb.facts.provenance.packs == kb.packs != KB.facts.provenance.packs
    # Every stretch's facts are what the expectations make of its table entry.
    rules = rule_facts(kb)
    for st in kb.stretches.values():
        facts = kb.facts.stretches[st.id]
        kinds = kb.movement_kinds_of(st.movements)
        for aggravated, dose, cautions in (
            (False, facts.plain, facts.cautions),
            (True, facts.aggravated, facts.aggravated_cautions),
        ):
            hold, sets, motion = expected_dose(st, aggravated)
            assert (dose.hold_seconds, dose.sets, dose.range_of_motion) == (hold, sets, motion)
            assert cautions == expected_cautions(rules, st, kinds, aggravated)
        assert facts.position_name == kb.positions[st.position].name
        assert facts.options[0].instructions[-len(st.instructions) :] == tuple(
            n.text for n in st.instructions
        )


def test_avoiding_and_pregnancy_are_matched_by_kind_in_the_facts() -> None:
    kb = _pack(
        """
[[source]]
id = "clinic-notes"
kind = "guideline"
title = "Clinic notes"
publisher = "Clinic"

[[position]]
id = "lying_on_back"
name = "Lying on your back"
sequence = 9
is_a = "supine"
cites = ["clinic-notes"]
"""
    )
    back = kb.facts.positions["lying_on_back"]
    assert {"supine", "floor", "lying_on_back"} <= back.avoided_by
    assert "standing" not in back.avoided_by
    assert back.pregnancy == kb.facts.positions["supine"].pregnancy != ()


def _reachable(root: object) -> int:
    """How many objects ``root`` holds, all the way down (each counted once)."""
    import gc

    seen: set[int] = set()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        todo.extend(gc.get_referents(obj))
    return len(seen)


def test_nothing_grows_during_many_audits() -> None:
    """The facts are never filled during a call, and an audit leaves nothing behind."""
    import gc
    import random
    import tracemalloc

    rng = random.Random(7)
    contexts, kit = sorted(KB.contexts), sorted(KB.equipment)
    avoidable = sorted([*KB.positions, *KB.position_groups])
    cases = []
    for _ in range(60):
        profile = Profile(
            context=rng.choice(contexts),
            aggravated=rng.random() < 0.5,
            equipment=set(rng.sample(kit, rng.randint(0, len(kit)))),
            avoid_positions=set(rng.sample(avoidable, rng.randint(0, 2))),
            pregnancy_trimester=rng.choice([None, 1, 2, 3]),
            minutes=rng.choice([None, 3.0, 10.0]),
        )
        cases.append((unaudited(profile), profile))

    def audit_all() -> None:
        for routine, profile in cases:
            audit(routine, profile, KB)

    audit_all()  # anything made once (interned strings, first-call state) is made now
    gc.collect()
    tracemalloc.start()
    try:
        held, tracked = _reachable(KB.facts), len(gc.get_objects())
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            audit_all()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert _reachable(KB.facts) == held
    assert len(gc.get_objects()) - tracked < 50  # (not one per audit: 600 audits ran)
    assert grown < 1024  # bytes: not even one pointer kept per audit


# --- the progression rules (issue 13): breaks that need a history ----------------------

DAY0 = dt.date(2026, 1, 1)
HAM = "hamstring_supine"


def session(n: int, *pains: tuple[str, int], flags: Sequence[str] = ()) -> Session:
    return Session(
        date=DAY0 + dt.timedelta(days=n),
        context="after_sitting",
        feedback=tuple(Feedback(stretch_id=s, sets_done=2, pain_during=p) for s, p in pains),
        red_flags=frozenset(flags),
    )


ONE_GREEN = (session(1, (HAM, 1)),)
TWO_GREENS = (session(1, (HAM, 1)), session(2, (HAM, 2)))
TWO_REDS = (session(1, (HAM, 8)), session(2, (HAM, 7)))
HistoryTamper = Callable[[], tuple[Routine, Profile, tuple[Session, ...]]]


def ran(profile: Profile, history: Sequence[Session]) -> Routine:
    routine = recommend(profile, history=history)
    assert audit(routine, profile, KB, history=history) == []
    return routine


def _given() -> tuple[Routine, Profile, tuple[Session, ...]]:
    routine = ran(PLAIN, ONE_GREEN)
    return with_step(routine, index_of(routine, HAM), progression=None), PLAIN, ONE_GREEN


def _ladder() -> tuple[Routine, Profile, tuple[Session, ...]]:
    routine = ran(PLAIN, ONE_GREEN)
    return retimed(with_step(routine, index_of(routine, HAM), hold_seconds=50)), PLAIN, ONE_GREEN


def _paused() -> tuple[Routine, Profile, tuple[Session, ...]]:
    routine = ran(PLAIN, TWO_REDS)
    plain = run(PLAIN)
    at = index_of(plain, HAM)
    step = plain.steps[at].model_copy(update={"progression": "down"})
    steps = (*routine.steps[:at], step, *routine.steps[at:])
    excluded = tuple(e for e in routine.excluded if e.stretch_id != HAM)
    tampered = routine.model_copy(update={"steps": steps, "excluded": excluded})
    return retimed(tampered), PLAIN, TWO_REDS


def _up() -> tuple[Routine, Profile, tuple[Session, ...]]:
    routine = ran(PLAIN, ONE_GREEN)
    return with_step(routine, index_of(routine, HAM), progression="up"), PLAIN, ONE_GREEN


HISTORY_BREAKS: dict[str, HistoryTamper] = {
    "progression_given": _given,
    "progression_ladder": _ladder,
    "progression_paused": _paused,
    "progression_up": _up,
}


@pytest.mark.usefixtures("nothing_pending")
@pytest.mark.parametrize("check", list(HISTORY_BREAKS))
def test_only_the_progression_check_named_catches_its_break(check: str) -> None:
    routine, profile, history = HISTORY_BREAKS[check]()
    found = audit(routine, profile, KB, history=history)
    assert {v.rule for v in found} == {check}, [f"{v.rule}: {v.message}" for v in found]
    assert all(v.message for v in found)


def test_a_step_that_moved_without_history_is_reported() -> None:
    routine = run(PLAIN)
    moved = with_step(routine, 0, progression="same")
    assert {v.rule for v in audit(moved, PLAIN, KB)} == {"progression_given"}
    assert {v.rule for v in audit(moved, PLAIN, KB, history=[])} == {"progression_given"}


def test_aggravated_means_the_lowest_rung_whatever_the_history() -> None:
    # Aggravated keeps 4 steps, the gentlest; the focus keeps the hamstring stretch.
    aggravated = Profile(context="after_sitting", aggravated=True, focus={"hamstrings"})
    routine = ran(aggravated, TWO_GREENS)
    i = index_of(routine, HAM)
    assert routine.steps[i].hold_seconds == 30
    tampered = retimed(with_step(routine, i, hold_seconds=60, range_of_motion="full"))
    found = audit(tampered, aggravated, KB, history=TWO_GREENS)
    assert {v.rule for v in found} == {"progression_ladder"}


def test_a_step_whose_seconds_do_not_match_its_rung_is_reported() -> None:
    routine = ran(PLAIN, ONE_GREEN)
    i = index_of(routine, HAM)
    tampered = with_step(routine, i, seconds=routine.steps[i].seconds + 1)
    tampered = tampered.model_copy(update={"total_seconds": routine.total_seconds + 1})
    assert {v.rule for v in audit(tampered, PLAIN, KB, history=ONE_GREEN)} == {"progression_ladder"}


def test_up_after_a_holding_session_is_reported() -> None:
    held = (*TWO_GREENS, session(3, ("standing_side_bend", 8)))
    routine = ran(PLAIN, held)
    i = index_of(routine, HAM)
    assert routine.steps[i].progression == "same"
    tampered = retimed(with_step(routine, i, progression="up", hold_seconds=60))
    assert {v.rule for v in audit(tampered, PLAIN, KB, history=held)} == {"progression_up"}
    up = ran(PLAIN, TWO_GREENS)  # the same two greens, no hold: up is right
    assert up.steps[index_of(up, HAM)].progression == "up"


def test_a_pause_the_history_does_not_call_for_is_not_true() -> None:
    routine = ran(PLAIN, ONE_GREEN)
    why = Reason(code=ReasonCode.PROGRESSION_PAUSED, message="Paused.")
    e = Exclusion(stretch_id=HAM, name=KB.stretches[HAM].name, reasons=(why,))
    i = index_of(routine, HAM)
    steps = routine.steps[:i] + routine.steps[i + 1 :]
    tampered = routine.model_copy(
        update={
            "steps": steps,
            "excluded": (*routine.excluded, e),
            "total_seconds": sum(s.seconds for s in steps),
        }
    )
    assert {v.rule for v in audit(tampered, PLAIN, KB, history=ONE_GREEN)} == {"reason_true"}
    # With two reds the same pause is true, and the routine is clean.
    assert audit(ran(PLAIN, TWO_REDS), PLAIN, KB, history=TWO_REDS) == []


def test_a_stand_in_for_a_paused_stretch_is_allowed_only_with_the_history() -> None:
    kneel = "hip_flexor_half_kneeling"
    reds = (session(1, (kneel, 8)), session(2, (kneel, 9)))
    routine = ran(PLAIN, reds)
    assert "hip_flexor_standing_lunge" in {s.stretch_id for s in routine.steps}
    found = {v.rule for v in audit(routine, PLAIN, KB)}  # the same routine, no history
    assert {"replaces", "reason_true", "progression_given"} <= found


def test_red_flags_in_the_history_demand_the_referral() -> None:
    flagged = (session(1, (HAM, 1), flags=["fever"]),)
    routine = ran(PLAIN, flagged)
    assert routine.status == "referred"
    assert routine.profile == PLAIN
    unflagged = ran(PLAIN, ONE_GREEN)
    found = {v.rule for v in audit(unflagged, PLAIN, KB, history=flagged)}
    assert {"status", "red_flag_stop"} <= found
    # A routine claiming the merged profile is judged on it too.
    merged = PLAIN.model_copy(update={"red_flags": frozenset({"fever"})})
    claims = routine.model_copy(update={"profile": merged})
    assert audit(claims, PLAIN, KB, history=flagged) == []


def test_the_history_given_to_the_audit_is_checked() -> None:
    routine = run(PLAIN)
    with pytest.raises(InvalidArgumentError, match="iterable of Session"):
        audit(routine, PLAIN, KB, history="sessions")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="holds a int"):
        audit(routine, PLAIN, KB, history=[1])  # type: ignore[list-item]
    with pytest.raises(UnknownIdError, match="hamstring"):
        audit(routine, PLAIN, KB, history=[session(1, ("hamstring", 1))])


def test_a_time_budget_with_a_history_allows_up_to_the_top_rung() -> None:
    greens = tuple(session(n, (HAM, 1)) for n in range(1, 7))
    profile = Profile(context="after_sitting", minutes=5, focus={"glutes"})
    routine = ran(profile, greens)
    assert HAM in {e.stretch_id for e in routine.excluded}
    # Dropped for time: not true when even its top rung would have fit.
    roomy = Profile(context="after_sitting", minutes=60, focus={"glutes"})
    tampered = routine.model_copy(update={"profile": roomy})
    assert "reason_true" in {v.rule for v in audit(tampered, roomy, KB, history=greens)}


def test_a_step_the_context_does_not_offer_is_left_to_the_context_check() -> None:
    routine = ran(PLAIN, ONE_GREEN)
    foreign = step_as_knowledge_says(KB, Profile(context="warm_up"), "foam_roll_glutes")
    foreign = foreign.model_copy(update={"progression": "start", "hold_seconds": 7})
    tampered = retimed(routine.model_copy(update={"steps": (*routine.steps, foreign)}))
    found = {v.rule for v in audit(tampered, PLAIN, KB, history=ONE_GREEN)}
    assert "context" in found
    assert "progression_ladder" not in found


def test_a_history_for_knowledge_without_progression_is_refused() -> None:
    from sirecommend._loader import _shipped_files

    files = [f for n, f in _shipped_files() if not n.endswith(("kinds.toml", "progression.toml"))]
    bare = knowledge_from_packs(*files)
    assert not bare.progression
    routine = recommend(PLAIN, knowledge=bare)
    assert audit(routine, PLAIN, bare, history=[]) == []
    with pytest.raises(InvalidArgumentError, match="no progression"):
        audit(routine, PLAIN, bare, history=ONE_GREEN)


# --- rolling the sore group (p15) -----------------------------------------------------------


def test_a_choice_that_leaves_out_a_group_the_person_may_roll_is_reported() -> None:
    routine = offering(run(ROLLER_T2), ROLLER_T2, ("foam_roll_glutes",))
    found = audit(routine, ROLLER_T2, KB)
    assert [(v.rule, v.message) for v in found] == [
        (
            "choice_offers",
            "foam_roll_sore_group does not offer foam_roll_hamstrings, which this person may do",
        )
    ]


def test_a_choice_beside_the_named_group_is_reported() -> None:
    named = ROLLER.model_copy(update={"focus": frozenset({"hamstrings"})})
    routine = run(named)
    choice = run(ROLLER).steps[index_of(run(ROLLER), "foam_roll_sore_group")]
    at = in_order(KB, named, routine, choice.stretch_id)
    steps = (*routine.steps[:at], choice, *routine.steps[at:])
    excluded = tuple(e for e in routine.excluded if e.stretch_id != choice.stretch_id)
    broken = retimed(routine.model_copy(update={"steps": steps, "excluded": excluded}))
    assert {v.rule for v in audit(broken, named, KB)} == {"sore_group"}


def test_an_unnamed_group_rolled_on_its_own_is_reported() -> None:
    named = ROLLER.model_copy(update={"focus": frozenset({"hamstrings"})})
    routine = rolled(KB, named, "foam_roll_glutes")
    found = audit(routine, named, KB)
    assert [v.message for v in found] == [
        "foam_roll_glutes is a step, yet the focus does not name it"
    ]


@pytest.mark.parametrize(
    ("profile", "sid", "other"),
    [
        (PLAIN, "hip_flexor_standing_lunge", None),  # no choice at all
        (  # a choice left out while a group can be rolled (hip flexors, face down)
            ROLLER.model_copy(update={"avoid_positions": frozenset({"seated_floor"})}),
            "foam_roll_sore_group",
            None,
        ),
        (ROLLER, "foam_roll_glutes", None),  # offered: it must point at its choice
        (ROLLER, "foam_roll_glutes", "lower_trunk_rotation"),  # at another step
        (  # a named group elsewhere: it points at nothing
            ROLLER.model_copy(update={"focus": frozenset({"glutes"})}),
            "foam_roll_hamstrings",
            "foam_roll_glutes",
        ),
    ],
)
def test_each_false_roll_reason_is_reported(profile: Profile, sid: str, other: str | None) -> None:
    false = Reason(code=ReasonCode.ROLL_SORE_GROUP, message="Roll another.", other=other)
    found = audit(*_exclusion(profile, sid, reasons=(false,))())
    assert "reason_true" in {v.rule for v in found}


def test_a_roll_reason_pointing_at_no_step_is_reported() -> None:
    named = ROLLER.model_copy(update={"focus": frozenset({"glutes"})})
    pointing = Reason(
        code=ReasonCode.ROLL_SORE_GROUP, message="Choose in it.", other="foam_roll_sore_group"
    )
    found = audit(*_exclusion(named, "foam_roll_hamstrings", reasons=(pointing,))())
    assert {v.rule for v in found} == {"reason_true", "reason_other"}


def test_a_named_group_is_rolled_even_at_the_cap() -> None:
    routine = run(AT_CAP)
    assert {"foam_roll_glutes", "foam_roll_hamstrings"} <= {s.stretch_id for s in routine.steps}


def test_a_choice_need_not_offer_a_group_the_history_rests() -> None:
    # Two red sessions rolling the glutes: the choice offers the other groups, and the
    # audit accepts it, with the history, as it accepts the one that offers the glutes.
    reds = tuple(
        Session(
            date=DAY0 + dt.timedelta(days=n),
            context="warm_up",
            feedback=(Feedback(stretch_id="foam_roll_glutes", sets_done=1, pain_during=8),),
        )
        for n in (1, 2)
    )
    routine = ran(ROLLER, reds)
    (e,) = [e for e in routine.excluded if e.stretch_id == "foam_roll_glutes"]
    assert [r.code for r in e.reasons] == [ReasonCode.PROGRESSION_PAUSED]
    members = ("foam_roll_hamstrings", "foam_roll_hip_flexors")
    assert offering(routine, ROLLER, members) == routine
    assert audit(routine, ROLLER, KB, history=reds) == []
    # Without the history the glutes are owed a place in the choice.
    assert {v.rule for v in audit(routine, ROLLER, KB)} >= {"choice_offers"}
