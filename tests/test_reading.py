"""What a person reads, part 2 (issue 12): safety data, pregnancy stop rules, shorter
aggravated routines, the waking order, per-context time budgets and phase labels."""

from __future__ import annotations

import pytest

from sirecommend import KnowledgeBase, Profile, recommend
from sirecommend.safety import audit

# --- 1. data-only safety items --------------------------------------------------------


@pytest.mark.parametrize("trimester", [2, 3])
def test_no_rolling_face_down_from_the_second_trimester(trimester: int) -> None:
    r = recommend(context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=trimester)
    assert "prone" not in {s.position for s in r.steps}
    (why,) = [e for e in r.excluded if e.stretch_id == "foam_roll_hip_flexors"]
    assert [x.rule for x in why.reasons] == ["pregnancy_no_prone"]
    assert "face down" in why.reasons[0].message


def test_rolling_face_down_is_still_offered_in_the_first_trimester() -> None:
    r = recommend(
        context="post_activity",
        equipment={"foam_roller"},
        pregnancy_trimester=1,
        focus={"hip_flexors"},
    )
    assert "foam_roll_hip_flexors" in {s.stretch_id for s in r.steps}


@pytest.mark.parametrize("context", ["after_sitting", "warm_up", "cool_down"])
def test_every_routine_says_how_often_to_start(context: str) -> None:
    text = " ".join(recommend(context=context).cautions)
    assert "once a day" in text
    assert "two or three days a week" in text


def test_the_frequency_rule_cites_the_article_and_acsm(kb: KnowledgeBase) -> None:
    assert kb.rules["how_often"].cites == ("si-stretch-guide#p26", "acsm-guidelines-11")


def test_a_suspected_blood_clot_stops_everything_the_same_day(kb: KnowledgeBase) -> None:
    r = recommend(context="warm_up", equipment={"foam_roller"}, red_flags={"suspected_blood_clot"})
    assert r.status == "referred"
    assert r.steps == ()
    assert r.referral is not None
    assert r.referral.urgency == "same_day"
    flag = kb.red_flags["suspected_blood_clot"]
    assert "Do not stretch or foam roll" in flag.message
    assert "chest pain" in flag.message
    assert "emergency number" in flag.message
    assert set(flag.cites) == {"nhs-dvt", "bartsch-foam-rolling-2021"}
    # No rolling step survives: every foam-rolling stretch is left out for the red flag.
    rolled = {e.stretch_id for e in r.excluded if e.stretch_id.startswith("foam_roll")}
    assert rolled == {"foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors"}


def test_an_emergency_still_outranks_a_suspected_clot() -> None:
    r = recommend(context="warm_up", red_flags={"suspected_blood_clot", "leg_weakness"})
    assert r.referral is not None
    assert r.referral.urgency == "emergency"
    assert r.referral.red_flags == ("leg_weakness", "suspected_blood_clot")


def test_the_audit_passes_the_new_data(kb: KnowledgeBase) -> None:
    p = Profile(context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=2)
    assert audit(recommend(p), p, kb) == []


# --- 2. ACOG's warning signs, shown only when pregnant --------------------------------

SIGNS = (
    "bleeding from the vagina",
    "regular painful contractions",
    "fluid leaking",
    "dizziness or feeling faint",
    "chest pain",
    "headache",
    "pain or swelling in a calf",
    "muscle weakness that upsets your balance",
)


@pytest.mark.parametrize("trimester", [1, 2, 3])
def test_a_pregnant_person_is_shown_acogs_warning_signs(kb: KnowledgeBase, trimester: int) -> None:
    r = recommend(context="after_sleep", pregnancy_trimester=trimester)
    (signs,) = [c for c in r.cautions if c.startswith("Because you are pregnant")]
    for sign in SIGNS:
        assert sign in signs
    assert kb.rules["pregnancy_warning_signs"].cites == ("acog-804-2020",)
    # Every other stop rule is still there, in rule order.
    not_pregnant = recommend(context="after_sleep").cautions
    assert tuple(c for c in r.cautions if c != signs) == not_pregnant


def test_no_one_else_is_shown_them() -> None:
    for context in ("after_sitting", "after_sleep", "post_activity", "warm_up", "cool_down"):
        assert not any("pregnant" in c for c in recommend(context=context).cautions)


def test_a_pregnant_persons_referral_still_carries_them() -> None:
    r = recommend(context="warm_up", pregnancy_trimester=2, red_flags={"fever"})
    assert any(c.startswith("Because you are pregnant") for c in r.cautions)


def test_the_audit_wants_the_signs_for_a_pregnant_person_and_only_then(kb: KnowledgeBase) -> None:
    plain = Profile(context="after_sitting")
    pregnant = Profile(context="after_sitting", pregnancy_trimester=1)
    routine = recommend(pregnant)
    assert audit(routine, pregnant, kb) == []
    signs_dropped = routine.model_copy(update={"cautions": recommend(plain).cautions})
    assert [v.rule for v in audit(signs_dropped, pregnant, kb)] == ["stop_rules"]
    shown_to_all = recommend(plain).model_copy(update={"cautions": routine.cautions})
    assert [v.rule for v in audit(shown_to_all, plain, kb)] == ["stop_rules"]
