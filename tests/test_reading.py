"""What a person reads, part 2 (issue 12): safety data, pregnancy stop rules, shorter
aggravated routines, the waking order, per-context time budgets and phase labels."""

from __future__ import annotations

import pytest

from sirecommend import Profile, load_knowledge, recommend
from sirecommend.safety import audit


@pytest.fixture(scope="module")
def kb():  # type: ignore[no-untyped-def]
    return load_knowledge()


# --- 1. data-only safety items --------------------------------------------------------


@pytest.mark.parametrize("trimester", [2, 3])
def test_no_rolling_face_down_from_the_second_trimester(trimester: int) -> None:
    r = recommend(
        context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=trimester
    )
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


def test_the_frequency_rule_cites_the_article_and_acsm(kb) -> None:  # type: ignore[no-untyped-def]
    assert kb.rules["how_often"].cites == ("si-stretch-guide#p26", "acsm-guidelines-11")


def test_a_suspected_blood_clot_stops_everything_the_same_day(kb) -> None:  # type: ignore[no-untyped-def]
    r = recommend(
        context="warm_up", equipment={"foam_roller"}, red_flags={"suspected_blood_clot"}
    )
    assert r.status == "referred" and r.steps == ()
    assert r.referral is not None and r.referral.urgency == "same_day"
    flag = kb.red_flags["suspected_blood_clot"]
    assert "Do not stretch or foam roll" in flag.message
    assert "chest pain" in flag.message and "emergency number" in flag.message
    assert set(flag.cites) == {"nhs-dvt", "bartsch-foam-rolling-2021"}
    # No rolling step survives: every foam-rolling stretch is left out for the red flag.
    rolled = {e.stretch_id for e in r.excluded if e.stretch_id.startswith("foam_roll")}
    assert rolled == {"foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors"}


def test_an_emergency_still_outranks_a_suspected_clot() -> None:
    r = recommend(context="warm_up", red_flags={"suspected_blood_clot", "leg_weakness"})
    assert r.referral is not None and r.referral.urgency == "emergency"
    assert r.referral.red_flags == ("leg_weakness", "suspected_blood_clot")


def test_the_audit_passes_the_new_data(kb) -> None:  # type: ignore[no-untyped-def]
    p = Profile(context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=2)
    assert audit(recommend(p), p, kb) == []
