"""What a person reads, part 2 (issue 12): safety data, pregnancy stop rules, shorter
aggravated routines, the waking order, per-context time budgets and phase labels."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, Profile, load_knowledge, recommend
from sirecommend._models import AGGRAVATED_MAX_STEPS
from sirecommend._render import left_out, left_out_groups, phase_title, render_text
from sirecommend._routine import ReasonCode
from sirecommend.handout import to_html, to_markdown
from sirecommend.pipeline.fit import budget_seconds
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
    assert rolled == {
        "foam_roll_glutes",
        "foam_roll_hamstrings",
        "foam_roll_hip_flexors",
        "foam_roll_sore_group",
    }


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


# --- 3. aggravated routines are shorter, the gentlest kept ----------------------------


@pytest.mark.parametrize("context", ["after_sitting", "after_sleep", "post_activity", "warm_up"])
def test_an_aggravated_routine_has_at_most_four_steps(context: str) -> None:
    kit = {"strap", "towel", "foam_roller"}
    # (the warm-up rolls one group, p15: naming two sore groups makes it longer than 4)
    focus = {"glutes", "hamstrings"} if context == "warm_up" else set()
    r = recommend(context=context, aggravated=True, equipment=kit, focus=focus, minutes=60.0)
    assert 0 < len(r.steps) <= AGGRAVATED_MAX_STEPS
    longer = recommend(context=context, equipment=kit, focus=focus, minutes=60.0)
    assert len(longer.steps) > AGGRAVATED_MAX_STEPS


def test_the_gentlest_are_kept_warm_up_moves_then_lying(kb: KnowledgeBase) -> None:
    r = recommend(context="after_sitting", aggravated=True, equipment={"strap"})
    # Every warm-up move first; then, of the targeted stretches, the one done lying down.
    assert [s.stretch_id for s in r.steps] == [
        "child_pose_side_reach",
        "lower_trunk_rotation",
        "adductor_strap_supine",
        "figure_four_supine",
    ]
    plan = kb.compiled.contexts["after_sitting"]
    kept = max(plan.gentle[s.stretch_id] for s in r.steps)
    capped = [e for e in r.excluded if e.reasons[-1].code == ReasonCode.ROUTINE_LENGTH]
    assert {e.stretch_id for e in capped} >= {"hip_flexor_half_kneeling", "standing_side_bend"}
    for e in capped:
        assert plan.gentle[e.stretch_id] >= kept
    (bend,) = [e for e in capped if e.stretch_id == "standing_side_bend"]
    assert bend.reasons[0].message == (
        "Left out to keep the routine to 4 steps while your symptoms are stirred up: the 4 "
        "gentlest are kept (gentle moves before targeted stretches, and within each the more "
        "supported positions, such as lying down, first)."
    )


def test_aggravated_gentleness_comes_before_focus() -> None:
    r = recommend(context="after_sitting", aggravated=True, focus={"hip_flexors"})
    assert "hip_flexor_half_kneeling" not in {s.stretch_id for s in r.steps}
    assert len(r.steps) == AGGRAVATED_MAX_STEPS


def test_a_stand_in_dropped_for_the_cap_says_so() -> None:
    r = recommend(context="after_sitting", aggravated=True)
    (lunge,) = [e for e in r.excluded if e.stretch_id == "hip_flexor_standing_lunge"]
    assert lunge.reasons[-1].other is None
    assert lunge.reasons[-1].message == (
        "Not given: it is an alternative to Half-kneeling hip-flexor stretch, which was itself "
        "left out to keep the routine to 4 steps while your symptoms are stirred up."
    )


def test_the_audit_catches_a_fifth_aggravated_step(kb: KnowledgeBase) -> None:
    p = Profile(context="after_sitting", aggravated=True, minutes=60.0)
    r = recommend(p)
    plain = recommend(Profile(context="after_sitting", minutes=60.0))
    longer = r.model_copy(update={"steps": plain.steps[:5]})
    assert "aggravated_steps" in {v.rule for v in audit(longer, p, kb)}


# --- 4. on waking, from lying up to standing -------------------------------------------


def test_on_waking_each_phase_runs_from_lying_up_to_standing() -> None:
    r = recommend(context="after_sleep", equipment={"strap"})
    assert [(s.stretch_id, s.position) for s in r.steps] == [
        ("lower_trunk_rotation", "supine"),  # can be done in bed
        ("adductor_strap_supine", "supine"),
        ("figure_four_supine", "supine"),  # the targeted stretches lying down, too
        ("hamstring_supine", "supine"),
        ("child_pose_side_reach", "quadruped"),  # then up, never back down
        ("hip_flexor_half_kneeling", "half_kneeling"),
        ("standing_side_bend", "standing"),
    ]


def test_the_waking_order_is_data(kb: KnowledgeBase) -> None:
    assert kb.contexts["after_sleep"].order == "lying_to_standing"
    assert kb.contexts["after_sitting"].order == "alternate"
    sitting = [s.stretch_id for s in recommend(context="after_sitting", minutes=60.0).steps]
    assert sitting[0] == "child_pose_side_reach"  # standing down to lying in the warm-up


def test_the_audit_follows_the_waking_order(kb: KnowledgeBase) -> None:
    p = Profile(context="after_sleep")
    r = recommend(p)
    steps = list(r.steps)
    kneeling = [s.stretch_id for s in r.steps].index("child_pose_side_reach")
    steps.insert(0, steps.pop(kneeling))  # hands and knees before lying
    found = audit(r.model_copy(update={"steps": tuple(steps)}), p, kb)
    assert [(v.rule, v.stretch_id) for v in found] == [
        ("lying_to_standing", "lower_trunk_rotation")
    ]
    unknown = r.model_copy(
        update={"steps": (r.steps[0].model_copy(update={"position": "hammock"}), *r.steps[1:])}
    )
    assert "lying_to_standing" not in {v.rule for v in audit(unknown, p, kb)}


# --- 5. a per-context default time budget ---------------------------------------------

TEN_MINUTES = """
[[context]]
id = "after_sitting"
override = true
name = "After sitting"
description = "A short break from sitting."
default_minutes = 10.0
cites = ["si-stretch-guide#p7"]
"""


@pytest.fixture(scope="module")
def short_break(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    folder = tmp_path_factory.mktemp("pack")
    (folder / "short.toml").write_text(TEN_MINUTES, encoding="utf-8")
    return load_knowledge(folder)


def test_the_default_budget_applies_without_minutes(short_break: KnowledgeBase) -> None:
    p = Profile(context="after_sitting", equipment={"strap"})
    r = recommend(p, knowledge=short_break)
    assert 0 < r.total_seconds <= 600
    assert r.total_seconds < recommend(p.model_copy(update={"minutes": 60.0})).total_seconds
    timed = [e for e in r.excluded if e.reasons[-1].code == ReasonCode.TIME_BUDGET]
    assert timed
    assert (
        timed[0]
        .reasons[-1]
        .message.startswith(
            "Left out to keep the routine after sitting to about 10 minutes, its usual length "
            "when you give no time (it takes about"
        )
    )
    assert audit(r, p, short_break) == []


def test_the_persons_minutes_win_over_the_default(short_break: KnowledgeBase) -> None:
    longer = recommend(context="after_sitting", minutes=30.0, knowledge=short_break)
    assert longer.total_seconds > 600
    assert all("usual length" not in r.message for e in longer.excluded for r in e.reasons)


def test_a_stand_in_dropped_for_the_default_budget_says_so(short_break: KnowledgeBase) -> None:
    r = recommend(context="after_sitting", knowledge=short_break)
    (lunge,) = [e for e in r.excluded if e.stretch_id == "hip_flexor_standing_lunge"]
    assert lunge.reasons[-1].message.startswith(
        "Not given: it is an alternative to Half-kneeling hip-flexor stretch, which was itself "
        "left out to keep the routine after sitting to about 10 minutes, its usual length "
        "when you give no time"
    )


def test_the_audit_holds_a_routine_to_the_default(short_break: KnowledgeBase) -> None:
    p = Profile(context="after_sitting")
    long = recommend(context="after_sitting", minutes=30.0, knowledge=short_break)
    found = audit(long.model_copy(update={"profile": p}), p, short_break)
    assert "time_budget" in {v.rule for v in found}


def test_budget_seconds_reads_the_context(short_break: KnowledgeBase) -> None:
    plans = short_break.compiled.contexts
    assert budget_seconds(Profile(context="after_sitting"), plans["after_sitting"]) == 600.0
    assert budget_seconds(Profile(context="warm_up"), plans["warm_up"]) == math.inf


# --- 6. phase labels as data ------------------------------------------------------------

LABELS = """
[[context]]
id = "post_activity"
override = true
name = "After activity"
description = "Gentle stretching when sore after an activity."
phase_titles = { warm_up = "Easy moves", cool_down = "Wind down" }
cites = ["si-stretch-guide#p25"]

# (Overriding a context replaces all of it: its gentle dose is restated, or the pack
# would weaken the safety floor.)
[context.dose]
level = "lowest"
range_of_motion = "reduced"
why = "Sore after activity: stretch gently."
cites = ["si-stretch-guide#p25"]
"""


def test_only_the_warm_up_context_opens_with_a_warm_up(kb: KnowledgeBase) -> None:
    assert kb.contexts["warm_up"].phase_titles.warm_up == "Warm-up"
    for context in ("after_sitting", "post_activity", "cool_down"):
        assert phase_title(context, "warm_up", kb) == "Gentle moves"
        text = str(recommend(context=context, minutes=60.0))
        assert "\nGentle moves\n" in text
        assert "Warm-up" not in text
    assert "\nWarm-up\n" in str(recommend(context="warm_up"))


def test_a_pack_names_its_own_phases(tmp_path: Path) -> None:
    (tmp_path / "labels.toml").write_text(LABELS, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    assert phase_title("post_activity", "warm_up", kb) == "Easy moves"
    assert phase_title("post_activity", "targeted", kb) == "Targeted stretches"
    r = recommend(context="post_activity", equipment={"foam_roller"}, knowledge=kb)
    text = render_text(r, knowledge=kb)
    assert "\nEasy moves\n" in text
    assert "\nWind down\n" in text
    assert "Wind down" in to_markdown(r, knowledge=kb)
    assert "Easy moves" in to_html(r, knowledge=kb)


def test_an_unknown_context_or_phase_still_reads_in_words(kb: KnowledgeBase) -> None:
    assert phase_title("nowhere", "targeted", kb) == "Targeted stretches"
    assert phase_title("nowhere", "some_phase", kb) == "some phase"


def test_groups_offered_in_the_choice_step_are_not_listed_as_left_out_to_the_patient(
    kb: KnowledgeBase,
) -> None:
    """The sore-group step offers glutes and hamstrings: the patient does not read them
    under "Left out"; the clinician does, with the reason. A group the person may not
    roll (face down from the second trimester) is still listed, with its own reason."""
    routine = recommend(
        context="post_activity", equipment={"foam_roller"}, pregnancy_trimester=2, knowledge=kb
    )
    offered = ("Foam rolling: glutes", "Foam rolling: hamstrings")
    patient = [str(routine), to_markdown(routine, knowledge=kb), to_html(routine, knowledge=kb)]
    for text in patient:
        assert "Foam rolling: the sore muscle group" in text
        assert not any(f"{name}:" in text for name in offered), text
        assert "Foam rolling: hip flexors" in text  # left out: the prone rule
    clinician = to_markdown(routine, knowledge=kb, clinician=True)
    assert all(name in clinician for name in offered)
    assert {e.name for e in routine.excluded} >= set(offered)  # the data keeps them


def test_groups_not_named_in_focus_stay_listed_for_the_patient(kb: KnowledgeBase) -> None:
    routine = recommend(
        context="warm_up", equipment={"foam_roller"}, focus={"hamstrings"}, knowledge=kb
    )
    text = str(routine)
    assert (
        "  - For each of:\n      Foam rolling: hip flexors\n      Foam rolling: glutes\n"
        "    Foam rolling is for the sore group; you named hamstrings.\n"
    ) in text
    assert "Foam rolling: the sore muscle group: You named" in text


def test_the_choice_step_does_not_claim_one_position_for_groups_done_in_another(
    kb: KnowledgeBase,
) -> None:
    """Rolling the hip flexors lies face down: when the sore-group step offers it, the
    step's position does not read as sitting only."""
    routine = recommend(context="warm_up", equipment={"foam_roller"}, knowledge=kb)
    step = next(s for s in routine.steps if s.stretch_id == "foam_roll_sore_group")
    assert any(line.startswith("Hip flexors: Lie face down") for line in step.instructions)
    for text in (str(routine), to_markdown(routine, knowledge=kb), to_html(routine, knowledge=kb)):
        assert "Sitting on the floor, or as each group says" in text


@pytest.mark.parametrize("context", ["after_sitting", "after_sleep", "post_activity", "cool_down"])
def test_the_clinicians_reason_names_the_phase_as_the_context_titles_it(
    kb: KnowledgeBase, context: str
) -> None:
    """Only before activity are the opening moves a warm-up (p7, p15): the step's reason
    names the phase by the heading the person reads."""
    routine = recommend(context=context, minutes=60, knowledge=kb)
    for step in routine.steps:
        title = phase_title(context, step.phase, kb).lower()
        assert f"in the {title} phase" in step.reasons[0], step.reasons[0]
        assert "warm-up" not in " ".join(step.reasons).lower()


class TestLeftOutGroups:
    """The patient reads one reason once: stretches whose reasons read the same, word for
    word, are listed together under it (after sitting with no time given, four stretches
    share the time sentence; in pregnancy, three share the lying-on-the-back one)."""

    @pytest.mark.parametrize(
        "profile",
        [
            {"context": "after_sitting"},
            {"context": "after_sitting", "pregnancy_trimester": 2, "minutes": 5},
            {"context": "warm_up", "equipment": {"foam_roller"}, "focus": {"hamstrings"}},
            {"context": "cool_down", "avoid_positions": {"floor"}, "aggravated": True},
        ],
    )
    def test_each_stretch_once_under_its_own_words(self, profile: dict[str, object]) -> None:
        routine = recommend(**profile)  # type: ignore[arg-type]
        groups = left_out_groups(routine)
        words = {e.name: " ".join(r.message for r in e.reasons) for e in left_out(routine)}
        listed = [name for names, _ in groups for name in names]
        assert sorted(listed) == sorted(words)  # each once
        assert all(words[name] == why for names, why in groups for name in names)
        assert len({why for _, why in groups}) == len(groups)  # one entry per wording
        first = [names[0] for names, _ in groups]  # in the order of the first of each
        assert first == sorted(first, key=[e.name for e in left_out(routine)].index)

    def test_after_sitting_gives_the_time_sentence_once(self) -> None:
        routine = recommend(context="after_sitting")
        text, md, page = str(routine), to_markdown(routine), to_html(routine)
        sentence = "its usual length when you give no time (it takes about 3 min 15 s)."
        names = [
            "Figure-4 glute and piriformis stretch",
            "Hamstring stretch on your back",
            "Half-kneeling hip-flexor stretch",
            "Standing side bend",
        ]
        assert text.count("(it takes about 3 min 15 s)") == 1
        assert "  - For each of:\n" + "".join(f"      {n}\n" for n in names) in text
        assert md.count(sentence) == 1
        assert "- For each of " + ", ".join(f"**{n}**" for n in names[:-1]) in md
        assert page.count(sentence) == 1
        assert f"For each of <b>{names[0]}</b>, " in page

    def test_the_clinician_still_reads_each_stretch_with_its_id(self) -> None:
        routine = recommend(context="after_sitting")
        md = to_markdown(routine, clinician=True)
        assert "For each of" not in md
        assert md.count("(it takes about 3 min 15 s). \\[time\\_budget\\]") == 4
        assert "**Standing side bend (standing\\_side\\_bend):**" in md


class TestRedFlagSheet:
    """The text sheet of a referral, like the handout, names the signs that would call for
    faster help than it gives, and none that would not."""

    @pytest.mark.parametrize(
        ("flags", "faster"),
        [
            ({"severe_pain"}, ["EMERGENCY", "SEE A DOCTOR TODAY", "URGENT"]),
            ({"fever", "tingling", "night_pain"}, ["EMERGENCY"]),
            ({"saddle_numbness"}, []),
        ],
    )
    def test_when_to_get_help_lists_only_faster_tiers(
        self, kb: KnowledgeBase, flags: set[str], faster: list[str]
    ) -> None:
        routine = recommend(context="warm_up", red_flags=flags)
        text = str(routine)
        help_at = text.find("\nWhen to get help\n")
        assert (help_at >= 0) == bool(faster)
        section = text[help_at:].split("\n\n")[0] if faster else ""
        tiers = [ln.split(" if you have:")[0].strip("- ").strip() for ln in section.splitlines()]
        assert [t for t in tiers if t.isupper()] == faster
        if "EMERGENCY" in faster:  # every emergency sign, in the words of a sentence
            assert "if you have: new bladder or bowel problems; pain, numbness" in " ".join(
                section.split()
            )
        assert text.index("Do not stretch.") < max(help_at, 0) or not faster

    def test_no_doubled_stop(self) -> None:
        text = str(recommend(context="after_sitting", red_flags={"numbness"}))
        assert "\nSTOP AND REVIEW: red flags reported. Do not stretch.\n" in text
        assert "STOP - STOP" not in text


def test_names_read_in_a_sentence() -> None:
    from sirecommend._render import in_sentence

    assert in_sentence("Numbness in the saddle area") == "numbness in the saddle area"
    assert in_sentence("A fever") == "a fever"
    assert in_sentence("DVT signs") == "DVT signs"  # an abbreviation keeps its capitals
    assert in_sentence("X") == "x"
    assert in_sentence("") == ""
