"""Foam rolling per p15: roll the sore muscle group.

With a focus naming a rolled group, that group (or those groups) alone is rolled; without
one, a single step asks the person to choose the sore group among those they may roll,
with the set-up of each. Every rolling step does both sides. Examples, then properties
over profiles with and without focus, the roller, pregnancy and an avoided floor.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sirecommend import KnowledgeError, Profile, ReasonCode, Routine, audit, load_knowledge
from sirecommend import recommend as _recommend
from sirecommend._render import dose_line
from sirecommend.pipeline import explain, filter_candidates, select, substitute

KB = load_knowledge()
CHOICE = "foam_roll_sore_group"
MEMBERS = ("foam_roll_glutes", "foam_roll_hamstrings", "foam_roll_hip_flexors")
ROLLING = frozenset({CHOICE, *MEMBERS})
GROUPS = {"foam_roll_glutes": "glutes", "foam_roll_hamstrings": "hamstrings"}
GROUPS["foam_roll_hip_flexors"] = "hip_flexors"
ROLLING_CONTEXTS = ("warm_up", "post_activity", "cool_down")


def recommend(**kwargs: object) -> Routine:
    profile = Profile.model_validate(kwargs)
    routine = _recommend(profile)
    assert audit(routine, profile, KB) == []
    return routine


def steps_of(routine: Routine) -> list[str]:
    return [s.stretch_id for s in routine.steps]


def reasons_of(routine: Routine, sid: str) -> list[str]:
    (e,) = [e for e in routine.excluded if e.stretch_id == sid]
    return [r.message for r in e.reasons]


# --- examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("context", ROLLING_CONTEXTS)
def test_without_focus_one_step_offers_every_group(context: str) -> None:
    routine = recommend(context=context, equipment={"foam_roller"}, minutes=60)
    rolling = [s for s in routine.steps if s.stretch_id in ROLLING]
    assert [s.stretch_id for s in rolling] == [CHOICE]
    (step,) = rolling
    assert step.instructions[0] == "Put a foam roller on the floor."
    assert "roll only that group" in step.instructions[1]
    assert [i.split(":")[0] for i in step.instructions[2:]] == [
        "Glutes",
        "Hamstrings",
        "Hip flexors",
    ]
    for sid in MEMBERS:
        assert reasons_of(routine, sid) == [
            'Not a step of its own: it is one of the groups to choose from in "Foam '
            'rolling: the sore muscle group".'
        ]


def test_each_offered_group_brings_its_whole_set_up_and_cues() -> None:
    routine = recommend(context="warm_up", equipment={"foam_roller"})
    (step,) = [s for s in routine.steps if s.stretch_id == CHOICE]
    for sid in MEMBERS:
        member = KB.stretches[sid]
        line = next(i for i in step.instructions if i.startswith(KB.muscles[GROUPS[sid]].name))
        assert all(note.text in line for note in member.instructions)
        assert "other" in member.instructions[-1].text  # both sides
        assert {c.text for c in member.cautions} <= set(step.cautions)
    # the set-up cues first, then the stops shared by every group, each once
    assert len(step.cautions) == len(set(step.cautions)) == 5
    assert "sacrum" in step.cautions[0]
    assert "knee" in step.cautions[1]
    assert "groin" in step.cautions[2]
    assert "blood clot" in step.cautions[3]


def test_the_choice_dose_is_rolling_not_holds_and_sets() -> None:
    routine = recommend(context="warm_up", equipment={"foam_roller"})
    (step,) = [s for s in routine.steps if s.stretch_id == CHOICE]
    line = dose_line(step, KB)
    # The warm-up's short pauses: the low end of p15's 10-30 s (its Context.dose).
    assert "roll slowly, pausing 10 s on tight spots, each side" in line
    assert "x 1 set" not in line
    assert "hold" not in line
    assert step.per_side
    assert step.sets == 1


@pytest.mark.parametrize("group", ["hamstrings", "glutes", "hip_flexors"])
def test_a_focus_rolls_the_named_group_only(group: str) -> None:
    routine = recommend(context="warm_up", equipment={"foam_roller"}, focus={group})
    named = next(sid for sid, g in GROUPS.items() if g == group)
    assert [s for s in steps_of(routine) if s in ROLLING] == [named]
    words = KB.muscles[group].name.lower()
    for sid in MEMBERS:
        if sid != named:
            assert reasons_of(routine, sid) == [
                f"Foam rolling is for the sore group; you named {words}."
            ]
    assert reasons_of(routine, CHOICE) == [
        f"You named {words} as the group to roll, so no step asks you to choose one."
    ]


def test_two_named_groups_are_both_rolled() -> None:
    routine = recommend(
        context="cool_down", equipment={"foam_roller"}, focus={"glutes", "hamstrings"}
    )
    assert [s for s in steps_of(routine) if s in ROLLING] == list(MEMBERS[:2])
    assert reasons_of(routine, "foam_roll_hip_flexors") == [
        "Foam rolling is for the sore group; you named glutes and hamstrings."
    ]
    every = recommend(
        context="cool_down",
        equipment={"foam_roller"},
        focus={"glutes", "hamstrings", "hip_flexors"},
    )
    assert [s for s in steps_of(every) if s in ROLLING] == list(MEMBERS)
    assert reasons_of(every, CHOICE) == [
        "You named glutes, hamstrings and hip flexors as the groups to roll, so no step asks "
        "you to choose one."
    ]


def test_a_focus_on_no_rolled_group_still_offers_the_choice() -> None:
    routine = recommend(context="warm_up", equipment={"foam_roller"}, focus={"adductors"})
    assert [s for s in steps_of(routine) if s in ROLLING] == [CHOICE]


def test_second_trimester_offers_no_rolling_face_down() -> None:
    routine = recommend(context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=2)
    (step,) = [s for s in routine.steps if s.stretch_id == CHOICE]
    assert not [i for i in step.instructions if "face down" in i or "Hip flexors" in i]
    assert not [c for c in step.cautions if "groin" in c]
    (e,) = [e for e in routine.excluded if e.stretch_id == "foam_roll_hip_flexors"]
    assert [r.code for r in e.reasons] == [ReasonCode.PREGNANCY]


def test_a_named_group_that_cannot_be_rolled_is_not_swapped_for_another() -> None:
    routine = recommend(
        context="warm_up", equipment={"foam_roller"}, focus={"hip_flexors"}, pregnancy_trimester=2
    )
    assert not set(steps_of(routine)) & ROLLING
    assert reasons_of(routine, CHOICE) == [
        "You named hip flexors as the group to roll, so no step asks you to choose one."
    ]


def test_avoiding_the_floor_leaves_every_rolling_step_out() -> None:
    routine = recommend(context="cool_down", equipment={"foam_roller"}, avoid_positions={"floor"})
    assert not set(steps_of(routine)) & ROLLING
    for e in routine.excluded:
        if e.stretch_id in ROLLING:
            assert [r.code for r in e.reasons] == [ReasonCode.POSITION_AVOIDED]


def test_avoiding_prone_offers_the_two_seated_groups() -> None:
    routine = recommend(context="warm_up", equipment={"foam_roller"}, avoid_positions={"prone"})
    (step,) = [s for s in routine.steps if s.stretch_id == CHOICE]
    assert [i.split(":")[0] for i in step.instructions[2:]] == ["Glutes", "Hamstrings"]


def test_a_member_offered_only_in_a_choice_that_is_left_out_says_so() -> None:
    routine = recommend(
        context="warm_up", equipment={"foam_roller"}, avoid_positions={"seated_floor"}
    )
    assert not set(steps_of(routine)) & ROLLING
    assert reasons_of(routine, "foam_roll_hip_flexors") == [
        "It is offered only within Foam rolling: the sore muscle group, which is left out."
    ]


def test_a_choice_dropped_for_time_takes_its_groups_with_it() -> None:
    # The rolling opens the warm-up (35 s): only a budget shorter than it drops it.
    routine = recommend(context="warm_up", equipment={"foam_roller"}, minutes=0.5)
    assert CHOICE not in steps_of(routine)
    for sid in MEMBERS:
        assert reasons_of(routine, sid) == [
            "Left out with Foam rolling: the sore muscle group, to keep within your "
            "0.5-minute budget."
        ]


def test_a_choice_none_of_whose_groups_can_be_done_is_left_out() -> None:
    # No shipped profile gets here (the choice sits where two groups do): block them all.
    profile = Profile(context="warm_up", equipment={"foam_roller"})
    candidates = select(KB, profile)
    verdicts = dict(filter_candidates(KB, profile, candidates))
    assert not verdicts[CHOICE].blocked
    blocker = filter_candidates(KB, Profile(context="warm_up"), candidates)[CHOICE].blocked
    for sid in MEMBERS:
        verdicts[sid] = verdicts[sid]._replace(blocked=blocker)
    picks, left = substitute(candidates, verdicts)
    assert CHOICE not in {p.verdict.stretch.id for p in picks}
    routine = explain(KB, profile, (), left)
    assert reasons_of(routine, CHOICE) == [
        "None of the groups it offers can be rolled by you (see each one)."
    ]


def test_hamstrings_roll_one_thigh_then_the_other() -> None:
    st = KB.stretches["foam_roll_hamstrings"]
    assert st.dosage.per_side
    assert "one thigh" in st.instructions[0].text
    assert "other thigh" in st.instructions[-1].text
    routine = recommend(context="warm_up", equipment={"foam_roller"}, focus={"hamstrings"})
    (step,) = [s for s in routine.steps if s.stretch_id == "foam_roll_hamstrings"]
    assert "pausing 10 s on tight spots, each side" in dose_line(step, KB)


def test_every_rolling_stretch_does_both_sides() -> None:
    for sid in ROLLING:
        st = KB.stretches[sid]
        assert st.dosage.per_side, sid
    for sid in MEMBERS:
        assert "other" in KB.stretches[sid].instructions[-1].text, sid


# --- the knowledge: choose_one is checked at load -------------------------------------------

PACK = """
[[stretch]]
id = "{id}"
name = "A choice"
phase = "warm_up"
position = "seated_floor"
movements = ["rolling"]
targets = ["glutes"]
choose_one = {members}
cites = ["si-stretch-guide#p15"]
instructions = [{{ text = "Pick one.", cites = ["si-stretch-guide#p15"] }}]
suits = [{{ context = "{context}", cites = ["si-stretch-guide#p15"] }}]
[stretch.dosage]
hold_seconds = [10, 30]
sets = [1, 1]
per_side = true
cites = ["si-stretch-guide#p15"]
"""


@pytest.mark.parametrize(
    ("members", "context", "words"),
    [
        ('["foam_roll_glute"]', "warm_up", "unknown stretch 'foam_roll_glute'"),
        ('["foam_roll_sore_group"]', "warm_up", "is itself a choice or an alternative"),
        ('["butterfly_seated"]', "warm_up", "is itself a choice or an alternative"),
        ('["foam_roll_glutes"]', "after_sitting", "does not suit every context"),
    ],
)
def test_a_bad_choice_is_refused_at_load(
    tmp_path: Path, members: str, context: str, words: str
) -> None:
    text = PACK.format(id="my_choice", members=members, context=context)
    (tmp_path / "pack.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    assert words in str(err.value)
    assert "choose_one[0]" in str(err.value)


@pytest.mark.parametrize(
    ("members", "words"),
    [
        ('["my_choice"]', "a choice cannot offer itself"),
        ('["foam_roll_glutes", "foam_roll_glutes"]', "choose_one repeats foam_roll_glutes"),
    ],
)
def test_a_malformed_choice_is_refused(tmp_path: Path, members: str, words: str) -> None:
    text = PACK.format(id="my_choice", members=members, context="warm_up")
    (tmp_path / "pack.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    assert words in str(err.value)


def test_a_choice_cannot_be_an_alternative(tmp_path: Path) -> None:
    text = PACK.format(id="my_choice", members='["foam_roll_glutes"]', context="warm_up")
    text = text.replace('suits = [{ context = "warm_up"', 'alternative_of = "foam_roll_glutes"\n#')
    (tmp_path / "pack.toml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(tmp_path)
    assert "a choice cannot be an alternative" in str(err.value)


# --- properties -----------------------------------------------------------------------------


@st.composite
def rolling_profiles(draw: st.DrawFn) -> Profile:
    """Profiles where rolling is possible: a rolling context, the roller, maybe more."""
    return Profile(
        context=draw(st.sampled_from(ROLLING_CONTEXTS)),
        equipment={"foam_roller", *draw(st.sets(st.sampled_from(["strap", "towel"])))},
        aggravated=draw(st.booleans()),
        pregnancy_trimester=draw(st.sampled_from([None, 1, 2, 3])),
        avoid_positions=draw(
            st.sets(st.sampled_from(["floor", "prone", "seated_floor", "supine", "standing"]))
        ),
        focus=draw(st.sets(st.sampled_from(sorted(KB.muscles)))),
        minutes=draw(st.sampled_from([None, 2.0, 5.0, 60.0])),
    )


def allowed(profile: Profile, sid: str) -> bool:
    """Whether ``sid`` may be done by this person, read from the tables."""
    position = KB.stretches[sid].position
    return not (
        {position, "floor"} & profile.avoid_positions
        or (position == "prone" and (profile.pregnancy_trimester or 0) >= 2)
    )


@settings(max_examples=120, deadline=None)
@given(rolling_profiles())
def test_property_one_rolling_step_or_exactly_the_named_groups(profile: Profile) -> None:
    routine = _recommend(profile)
    assert audit(routine, profile, KB) == []
    ids = [*steps_of(routine), *(e.stretch_id for e in routine.excluded)]
    assert sorted(ids) == sorted(set(ids))  # each stretch once, step or exclusion
    rolled = [s for s in steps_of(routine) if s in ROLLING]
    named = {sid for sid, g in GROUPS.items() if g in profile.focus}
    if named:
        assert set(rolled) <= named
        assert CHOICE not in rolled
        assert {s for s in named if allowed(profile, s)} >= set(rolled)
    else:
        assert rolled in ([], [CHOICE])
    for step in routine.steps:
        if step.stretch_id == CHOICE:
            offered = [
                sid
                for sid in MEMBERS
                if KB.muscles[GROUPS[sid]].name + ":" in " ".join(step.instructions)
            ]
            assert offered == [sid for sid in MEMBERS if allowed(profile, sid)]
        if step.stretch_id in ROLLING:
            assert step.per_side
            assert "each side" in dose_line(step, KB)
            assert " x " not in dose_line(step, KB)


@settings(max_examples=60, deadline=None)
@given(rolling_profiles())
def test_property_patient_text_of_rolling_names_no_ids(profile: Profile) -> None:
    text = str(_recommend(profile))
    assert not [sid for sid in ROLLING if sid in text]
    assert "roll_sore_group" not in text
