"""The safety floor: a pack may add to the shipped safety knowledge or make it stricter, but
a change that would weaken it is a KnowledgeError naming file, entry and field, unless the
pack declares it as a [[relaxation]] (reason, responsible clinician, citation).

Every attack of issue 10 (item 2) is here, each ending in a KnowledgeError at load or in a
routine the shipped rules accept.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, KnowledgeError, audit, load_knowledge, recommend
from sirecommend._feedback import Feedback, Session
from sirecommend._floor import relaxation_lines, unrelaxed, weakenings
from sirecommend._loader import TABLES
from sirecommend.handout import to_html, to_markdown
from sirecommend.progression import ladder, progress

SOURCE = """
[[source]]
id = "clinic-protocol"
kind = "guideline"
title = "Clinic protocol"
publisher = "Clinic"

[[source]]
id = "x"
kind = "guideline"
title = "Clinic exercise notes"
publisher = "Clinic"
"""

TRIMESTER_3 = """
[[rule]]
id = "pregnancy_no_supine"
override = true
kind = "pregnancy_avoid_position"
name = "No exercise lying on the back from the second trimester"
from_trimester = 3
positions = ["supine"]
reason = "Exercises lying flat on the back are left out late in pregnancy."
cites = ["acog-267-2002", "acog-804-2020"]
"""

RELAX_TRIMESTER = """
[[relaxation]]
id = "late_pregnancy_supine"
table = "rule"
entry = "pregnancy_no_supine"
field = "from_trimester"
reason = "Our obstetric physiotherapists supervise supine work in the second trimester."
clinician = "Dr A. Example, consultant physiotherapist"
cites = ["clinic-protocol"]
"""


def pack(tmp_path: Path, text: str) -> Path:
    (tmp_path / "clinic.toml").write_text(textwrap.dedent(SOURCE + text), encoding="utf-8")
    return tmp_path


def refused(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    """Load a pack that must fail; the (entry, field) of every problem, and every file."""
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(pack(tmp_path, text))
    problems = info.value.problems
    assert {p.file for p in problems} == {str(tmp_path / "clinic.toml")}
    assert any("weakens the shipped safety floor" in p.message for p in problems)
    return [(p.entry, p.field) for p in problems]


def shipped_rule(kb: KnowledgeBase, rule_id: str, **changes: object) -> str:
    """A TOML override of a shipped rule with ``changes``."""
    data = {**kb.rules[rule_id].model_dump(), **changes, "override": True}
    return "[[rule]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in data.items())


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):  # (TOML has no null: a None field is left out)
        pairs = (f"{k} = {_toml(v)}" for k, v in value.items() if v is not None)
        return "{ " + ", ".join(pairs) + " }"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'


def entry(kb: KnowledgeBase, table: str, ident: str, **changes: object) -> str:
    data = {**getattr(kb, TABLES[table])[ident].model_dump(), **changes, "override": True}
    return f"[[{table}]]\n" + "".join(
        f"{k} = {_toml(v)}\n" for k, v in data.items() if v is not None
    )


# ---------------------------------------------------------------- the attacks of issue 10


class TestIssueAttacks:
    def test_forbid_rule_turned_into_a_general_caution(self, tmp_path: Path) -> None:
        text = """
        [[rule]]
        id = "no_rotation_with_side_bend"
        override = true
        kind = "general_caution"
        name = "Take care when twisting"
        text = "Be careful."
        cites = ["si-stretch-guide#p24"]
        """
        assert refused(tmp_path, text) == [("rule 'no_rotation_with_side_bend'", "kind")]

    def test_pregnancy_rule_moved_to_trimester_3(self, tmp_path: Path) -> None:
        assert refused(tmp_path, TRIMESTER_3) == [("rule 'pregnancy_no_supine'", "from_trimester")]

    def test_pregnancy_rule_moved_to_prone_only(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = shipped_rule(kb, "pregnancy_no_supine", positions=["prone"])
        assert refused(tmp_path, text) == [("rule 'pregnancy_no_supine'", "positions")]

    def test_floor_redefined_as_prone_only(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = entry(kb, "position_group", "floor", members=["prone"])
        assert refused(tmp_path, text) == [("position_group 'floor'", "members")]

    def test_saddle_numbness_downgraded(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = entry(kb, "red_flag", "saddle_numbness", urgency="stop_and_review")
        assert refused(tmp_path, text) == [("red_flag 'saddle_numbness'", "urgency")]

    def test_urgent_tier_given_the_emergency_rank(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = entry(kb, "urgency", "urgent", rank=3)
        assert refused(tmp_path, text) == [("urgency 'urgent'", "rank")]
        # The shipped knowledge refers {fever, saddle_numbness} as an emergency.
        routine = recommend(context="warm_up", red_flags={"fever", "saddle_numbness"})
        assert routine.referral is not None
        assert routine.referral.urgency == "emergency"

    def test_red_flag_message_replaced(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = shipped_rule(kb, "red_flags_stop_and_refer", message="Carry on stretching.")
        assert refused(tmp_path, text) == [("rule 'red_flags_stop_and_refer'", "message")]

    def test_trunk_twist_with_a_side_bend_is_blocked(self, tmp_path: Path) -> None:
        text = """
        [[movement]]
        id = "trunk_twist"
        name = "Trunk twist"
        is_a = "rotation"
        cites = ["clinic-protocol"]

        [[stretch]]
        id = "twist_and_reach"
        name = "Twist and reach"
        phase = "targeted"
        position = "standing"
        movements = ["trunk_twist", "side_bend"]
        targets = ["lateral_trunk"]
        cites = ["clinic-protocol"]
        dosage = {hold_seconds = [30, 60], sets = [2, 3], per_side = true, cites = ["x"]}
        instructions = [{text = "Reach up and over.", cites = ["clinic-protocol"]}]
        suits = [{context = "after_sitting", cites = ["clinic-protocol"]}]
        """
        kb = load_knowledge(pack(tmp_path, text))
        routine = recommend(context="after_sitting", knowledge=kb)
        assert "twist_and_reach" not in {s.stretch_id for s in routine.steps}
        (out,) = [e for e in routine.excluded if e.stretch_id == "twist_and_reach"]
        assert [r.rule for r in out.reasons] == ["no_rotation_with_side_bend"]
        assert audit(routine, routine.profile, kb) == []

    def test_lying_on_back_is_blocked_in_trimester_3_and_on_the_floor(self, tmp_path: Path) -> None:
        text = """
        [[position]]
        id = "lying_on_back"
        name = "Lying on the back"
        is_a = "supine"
        sequence = 45
        cites = ["clinic-protocol"]

        [[stretch]]
        id = "knee_hug"
        name = "Knee hug"
        phase = "targeted"
        position = "lying_on_back"
        movements = ["hip_flexion"]
        targets = ["glutes"]
        cites = ["clinic-protocol"]
        dosage = {hold_seconds = [30, 60], sets = [2, 3], per_side = false, cites = ["x"]}
        instructions = [{text = "Hug both knees in.", cites = ["clinic-protocol"]}]
        suits = [{context = "after_sitting", cites = ["clinic-protocol"]}]
        """
        kb = load_knowledge(pack(tmp_path, text))
        for profile in ({"pregnancy_trimester": 3}, {"avoid_positions": {"floor"}}):
            routine = recommend(context="after_sitting", knowledge=kb, **profile)  # type: ignore[arg-type]
            assert "knee_hug" not in {s.stretch_id for s in routine.steps}, profile
            assert audit(routine, routine.profile, kb) == []


# ---------------------------------------------------------------- every kind of entry


class TestWeakeningEachKind:
    @pytest.mark.parametrize(
        ("table", "ident", "changes", "field"),
        [
            ("red_flag", "numbness", {"name": "A little numbness"}, "name"),
            ("red_flag", "fever", {"message": "Rest and carry on."}, "message"),
            ("urgency", "emergency", {"action": "See your GP when convenient."}, "action"),
            ("urgency", "stop_and_review", {"rank": 2}, "rank"),
            ("movement", "side_bend", {"is_a": "hip_flexion"}, "is_a"),
            ("position", "supine", {"is_a": "standing"}, "is_a"),
            ("context", "post_activity", {"dose": None}, "dose"),
        ],
    )
    def test_entry_weakened(
        self,
        tmp_path: Path,
        kb: KnowledgeBase,
        table: str,
        ident: str,
        changes: dict[str, object],
        field: str,
    ) -> None:
        found = refused(tmp_path, entry(kb, table, ident, **changes))
        assert (f"{table} {ident!r}", field) in found

    @pytest.mark.parametrize(
        ("rule", "changes", "field"),
        [
            ("no_rotation_with_side_bend", {"movements": ["rotation", "side_bend", "hip_flexion"]},
             "movements"),
            ("no_rotation_with_side_bend", {"caution_movements": []}, "caution_movements"),
            ("no_rotation_with_side_bend", {"caution": "Twist if you like."}, "caution"),
            ("aggravated_go_gently", {"caution": "Push through it."}, "caution"),
            ("stretch_gently", {"text": "Force it."}, "text"),
            ("stretch_gently", {"when": "pregnant"}, "when"),
            ("pregnancy_warning_signs", {"text": "Carry on."}, "text"),
        ],
    )  # fmt: skip
    def test_rule_weakened(
        self, tmp_path: Path, kb: KnowledgeBase, rule: str, changes: dict[str, object], field: str
    ) -> None:
        assert refused(tmp_path, shipped_rule(kb, rule, **changes)) == [(f"rule {rule!r}", field)]

    @pytest.mark.parametrize(
        ("ident", "level", "motion", "what"),
        [
            ("post_activity", "usual", "reduced", "level from lowest to usual"),
            ("cool_down", "lowest", "full", "range of motion from reduced to full"),
            ("cool_down", "usual", "full", "level from lowest to usual; range of motion"),
        ],
    )
    def test_a_gentle_context_dosed_less_gently(
        self, tmp_path: Path, kb: KnowledgeBase, ident: str, level: str, motion: str, what: str
    ) -> None:
        dose = {**kb.contexts[ident].dose.model_dump(), "level": level, "range_of_motion": motion}  # type: ignore[union-attr]
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, entry(kb, "context", ident, dose=dose)))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == (f"context {ident!r}", "dose")
        assert what in problem.message

    def test_a_declared_relaxation_of_a_context_dose_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        usual = {**kb.contexts["cool_down"].dose.model_dump(), "level": "usual"}  # type: ignore[union-attr]
        relax = """
        [[relaxation]]
        id = "usual_cool_down"
        table = "context"
        entry = "cool_down"
        field = "dose"
        reason = "Our athletes cool down at the usual holds."
        clinician = "Dr A. Example, consultant physiotherapist"
        cites = ["clinic-protocol"]
        """
        text = entry(kb, "context", "cool_down", dose=usual) + relax
        relaxed = load_knowledge(pack(tmp_path, text))
        assert list(relaxed.relaxations) == ["usual_cool_down"]
        routine = recommend(context="cool_down", knowledge=relaxed)
        assert routine.provenance.relaxations == tuple(relaxed.relaxations.values())
        assert {s.hold_seconds for s in routine.steps if s.hold_seconds > 20} == {45}

    def test_a_context_dosed_more_gently_or_reworded_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        gentle = {**kb.contexts["post_activity"].dose.model_dump(), "why": "Sore: go easy."}  # type: ignore[union-attr]
        text = entry(kb, "context", "post_activity", dose=gentle) + entry(
            kb,
            "context",
            "after_sitting",
            dose={"level": "lowest", "range_of_motion": "reduced", "why": "Go easy.",
                  "cites": ["clinic-protocol"]},
        )  # fmt: skip
        stricter = load_knowledge(pack(tmp_path, text))
        step = recommend(context="after_sitting", knowledge=stricter).steps[0]
        assert (step.hold_seconds, step.range_of_motion) == (30, "reduced")
        assert recommend(context="after_sitting").steps[0].range_of_motion == "full"

    def test_a_context_without_a_dose_given_one_at_the_usual_level_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        usual = {"level": "usual", "range_of_motion": "full", "why": "As usual.",
                 "cites": ["clinic-protocol"]}  # fmt: skip
        assert kb.contexts["after_sleep"].dose is None
        load_knowledge(pack(tmp_path, entry(kb, "context", "after_sleep", dose=usual)))

    def test_pregnancy_stop_rule_shown_to_everyone_is_stricter(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        text = shipped_rule(kb, "pregnancy_warning_signs", when="always")
        wider = load_knowledge(pack(tmp_path, text))
        signs = kb.rules["pregnancy_warning_signs"].text  # type: ignore[union-attr]
        assert signs in recommend(context="after_sitting", knowledge=wider).cautions
        assert signs not in recommend(context="after_sitting", knowledge=kb).cautions

    def test_a_second_referral_rule(self, tmp_path: Path) -> None:
        text = """
        [[rule]]
        id = "keep_going"
        kind = "red_flag_referral"
        name = "Keep going"
        message = "Carry on stretching."
        cites = ["clinic-protocol"]
        """
        assert refused(tmp_path, text) == [("rule 'keep_going'", "kind")]

    def test_a_rule_made_stricter_or_respelled_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        text = "\n".join(
            [
                shipped_rule(kb, "pregnancy_no_supine", from_trimester=1, positions=["floor"]),
                shipped_rule(
                    kb,
                    "no_rotation_with_side_bend",
                    caution_movements=["side_bend", "rotation"],
                ),
                entry(kb, "position_group", "floor",
                      members=[*kb.position_groups["floor"].members, "standing"]),
                entry(kb, "red_flag", "numbness", urgency="urgent"),
                entry(kb, "urgency", "emergency", rank=10),
                entry(kb, "urgency", "same_day", rank=7),
                entry(kb, "urgency", "urgent", rank=5),
                entry(kb, "movement", "side_bend"),  # repeated as it is: no change
            ]
        )  # fmt: skip
        stricter = load_knowledge(pack(tmp_path, text))
        assert stricter.relaxations == {}
        assert "standing" in stricter.position_members("floor")
        routine = recommend(context="after_sitting", knowledge=stricter, pregnancy_trimester=1)
        assert not {s.position for s in routine.steps} & stricter.position_members("floor")
        flagged = recommend(context="warm_up", knowledge=stricter, red_flags={"numbness"})
        assert flagged.referral is not None
        assert flagged.referral.urgency == "urgent"

    def test_a_position_named_like_a_kind_must_be_that_kind(self, tmp_path: Path) -> None:
        text = """
        [[position]]
        id = "kneeling"
        name = "Kneeling, really standing"
        is_a = "standing"
        sequence = 15
        cites = ["clinic-protocol"]
        """
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, text))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("position 'kneeling'", "is_a")
        assert "named like a base kind must be that kind" in problem.message

    def test_several_weakenings_are_all_listed(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = TRIMESTER_3 + entry(kb, "red_flag", "saddle_numbness", urgency="urgent")
        assert refused(tmp_path, text) == [
            ("red_flag 'saddle_numbness'", "urgency"),
            ("rule 'pregnancy_no_supine'", "from_trimester"),
        ]

    def test_the_shipped_knowledge_is_its_own_floor(self, kb: KnowledgeBase) -> None:
        tables = {table: getattr(kb, attr) for table, attr in TABLES.items()}
        assert weakenings(tables, tables) == []
        assert unrelaxed([], []) == ([], [])


# --------------------------------------------------------------------------- relaxations


@pytest.fixture
def relaxed(tmp_path: Path) -> KnowledgeBase:
    return load_knowledge(pack(tmp_path, TRIMESTER_3 + RELAX_TRIMESTER))


class TestRelaxation:
    def test_a_declared_relaxation_loads_and_is_recorded(self, relaxed: KnowledgeBase) -> None:
        (r,) = relaxed.relaxations.values()
        assert (r.table, r.entry, r.field) == ("rule", "pregnancy_no_supine", "from_trimester")
        assert r.clinician.startswith("Dr A. Example")
        routine = recommend(context="after_sitting", knowledge=relaxed, pregnancy_trimester=2)
        assert routine.provenance.relaxations == (r,)
        assert "supine" in {s.position for s in routine.steps}  # relaxed, as declared
        plain = recommend(context="after_sitting", pregnancy_trimester=2)
        assert plain.provenance.relaxations == ()
        assert "supine" not in {s.position for s in plain.steps}

    def test_it_is_in_the_summary(self, relaxed: KnowledgeBase, kb: KnowledgeBase) -> None:
        lines = relaxed.summary().splitlines()
        assert lines[2] == "SAFETY RULES RELAXED by the clinic that supplied this knowledge:"
        assert lines[3].startswith("- rule 'pregnancy_no_supine', field 'from_trimester': Our")
        assert "Responsible clinician: Dr A. Example" in lines[3]
        assert "Cited: clinic-protocol." in lines[3]
        assert "RELAXED" not in kb.summary()

    def test_it_heads_every_handout(self, relaxed: KnowledgeBase) -> None:
        routine = recommend(context="after_sitting", knowledge=relaxed, pregnancy_trimester=2)
        md = to_markdown(routine, knowledge=relaxed).splitlines()
        assert md[2] == "> **SAFETY RULES RELAXED by the clinic that supplied this knowledge:**  "
        assert "Dr A. Example" in md[3]
        assert md[3].startswith("> **\\- rule 'pregnancy\\_no")
        page = to_html(routine, knowledge=relaxed)
        body = page.split("<body>", 1)[1] if "<body>" in page else page.split("</head>", 1)[1]
        first = body.index('<p class="relaxed">')
        assert first < body.index("<header>")
        assert "Responsible clinician: Dr A. Example" in page
        plain = recommend(context="after_sitting")
        assert "RELAXED" not in to_markdown(plain)
        assert "RELAXED" not in to_html(plain)
        assert relaxation_lines([]) == []

    def test_a_relaxation_of_nothing_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, RELAX_TRIMESTER))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("relaxation 'late_pregnancy_supine'", "field")
        assert "relaxes nothing" in problem.message

    def test_a_relaxation_of_a_refused_entry_is_not_reported_again(self, tmp_path: Path) -> None:
        text = TRIMESTER_3.replace("from_trimester = 3", "from_trimester = 3\ncaution = 1")
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, text + RELAX_TRIMESTER))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("rule 'pregnancy_no_supine'", "caution")

    def test_a_relaxation_covers_only_its_field(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = shipped_rule(kb, "pregnancy_no_supine", from_trimester=3, positions=["prone"])
        found = refused(tmp_path, text + RELAX_TRIMESTER)
        assert found == [("rule 'pregnancy_no_supine'", "positions")]

    def test_a_relaxation_needs_a_clinician_and_a_real_citation(self, tmp_path: Path) -> None:
        nobody = RELAX_TRIMESTER.replace(
            'clinician = "Dr A. Example, consultant physiotherapist"\n', ""
        )
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, TRIMESTER_3 + nobody))
        assert [(p.entry, p.field) for p in info.value.problems] == [
            ("relaxation 'late_pregnancy_supine'", "clinician"),
            ("rule 'pregnancy_no_supine'", "from_trimester"),  # so not relaxed
        ]
        uncited = RELAX_TRIMESTER.replace('["clinic-protocol"]', '["no-such-source"]')
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, TRIMESTER_3 + uncited))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("relaxation 'late_pregnancy_supine'", "cites")


# --------------------------------------------------------------------------- progression

MODEL = "traffic_light"
HAM = "hamstring_supine"


def progression(kb: KnowledgeBase, **changes: object) -> str:
    """A TOML override of the shipped progression model; a dict change updates a sub-table."""
    data = kb.progression[MODEL].model_dump()
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    return "[[progression]]\n" + "".join(
        f"{k} = {_toml(v)}\n" for k, v in {**data, "override": True}.items()
    )


def history(*pains: int, morning: str | None = None) -> list[Session]:
    """One after-sitting session a day, the hamstring stretch rated ``pains`` in turn."""
    return [
        Session(
            date=dt.date(2026, 1, 1) + dt.timedelta(days=n),
            context="after_sitting",
            feedback=(
                Feedback(
                    stretch_id=HAM,
                    sets_done=2,
                    pain_during=pain,
                    next_morning=morning,  # type: ignore[arg-type]
                ),
            ),
        )
        for n, pain in enumerate(pains)
    ]


class TestProgressionFloor:
    """Issue 13: packs may override the progression model, under the safety floor."""

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"pain_during": {"green_max": 4}}, "pain_during"),
            ({"pain_during": {"amber_max": 6}}, "pain_during"),
            ({"pain_after": {"green_max": 5}}, "pain_after"),
            ({"pain_after": {"amber_max": 7}}, "pain_after"),
            ({"next_morning": {"worse": "amber"}}, "next_morning"),
            ({"next_morning": {"worse": "green"}}, "next_morning"),
            ({"hold_pain": 7}, "hold_pain"),
            ({"reds_to_pause": 3}, "reds_to_pause"),
            ({"greens_to_step_up": 1}, "greens_to_step_up"),
            ({"hold_rungs": 2}, "hold_rungs"),
        ],
    )
    def test_each_weakening_is_refused(
        self, tmp_path: Path, kb: KnowledgeBase, changes: dict[str, object], field: str
    ) -> None:
        assert refused(tmp_path, progression(kb, **changes)) == [(f"progression {MODEL!r}", field)]

    def test_the_problem_says_what_rose(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = progression(kb, pain_during={"green_max": 4, "amber_max": 6}, hold_rungs=2)
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack(tmp_path, text))
        bands, rungs = (p.message for p in info.value.problems)
        assert "raises green_max from 3 to 4 and amber_max from 5 to 6" in bands
        assert "2 (was 3) gives 'adductor_strap_supine' 4 rungs, not 5" in rungs

    def test_several_weakenings_of_the_model_are_all_listed(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        text = progression(
            kb, next_morning={"worse": "amber"}, hold_pain=10, reds_to_pause=10,
            greens_to_step_up=1, pain_after={"amber_max": 9},
        )  # fmt: skip
        fields = [field for _, field in refused(tmp_path, text)]
        assert fields == [
            "pain_after", "next_morning", "hold_pain", "reds_to_pause", "greens_to_step_up",
        ]  # fmt: skip

    def test_removing_the_shipped_model_weakens_the_floor(self, kb: KnowledgeBase) -> None:
        # No pack can remove an entry (the loader merges over the shipped knowledge), but
        # the floor says what removal would mean.
        shipped = {table: getattr(kb, attr) for table, attr in TABLES.items()}
        merged = {**shipped, "progression": {}}
        (w,) = weakenings(shipped, merged)
        assert (w.table, w.entry, w.field) == ("progression", MODEL, "id")
        assert "removes the shipped progression model" in w.message

    @pytest.mark.parametrize(
        "changes",
        [
            {"pain_during": {"green_max": 2, "amber_max": 4}},
            {"pain_after": {"green_max": 0, "amber_max": 3}},
            {"next_morning": {"better": "amber", "same": "amber"}},
            {"hold_pain": 4},
            {"reds_to_pause": 1},
            {"greens_to_step_up": 3},
            {"hold_rungs": 4},
            {"hold_rungs": 5},
            {"name": "Our stricter lights", "description": "", "cites": ["clinic-protocol"]},
        ],
    )
    def test_a_stricter_or_reworded_model_loads(
        self, tmp_path: Path, kb: KnowledgeBase, changes: dict[str, object]
    ) -> None:
        stricter = load_knowledge(pack(tmp_path, progression(kb, **changes)))
        assert stricter.relaxations == {}
        assert stricter.progression[MODEL] != kb.progression[MODEL]

    def test_more_hold_rungs_means_smaller_steps(self, kb: KnowledgeBase) -> None:
        # Why raising hold_rungs is stricter: judged from the ladder itself.
        dosage = kb.stretches[HAM].dosage
        model = kb.progression[MODEL]
        lengths = [
            len(ladder(dosage, model.model_copy(update={"hold_rungs": n}))) for n in range(2, 6)
        ]
        assert lengths == sorted(lengths)
        assert lengths[0] < lengths[1] < lengths[-1]

    def test_a_stricter_model_holds_where_the_shipped_one_steps_up(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        stricter = load_knowledge(pack(tmp_path, progression(kb, greens_to_step_up=3)))
        assert progress(kb, "after_sitting", history(1, 1)).step(HAM).progression == "up"
        assert progress(stricter, "after_sitting", history(1, 1)).step(HAM).progression == "same"

    def test_a_declared_relaxation_loads_and_is_recorded(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        text = progression(kb, greens_to_step_up=1) + textwrap.dedent(
            """
            [[relaxation]]
            id = "one_green_is_enough"
            table = "progression"
            entry = "traffic_light"
            field = "greens_to_step_up"
            reason = "Our supervised class steps up after one good session."
            clinician = "Dr B. Example, physiotherapist"
            cites = ["clinic-protocol"]
            """
        )
        relaxed = load_knowledge(pack(tmp_path, text))
        (r,) = relaxed.relaxations.values()
        assert (r.table, r.entry, r.field) == ("progression", MODEL, "greens_to_step_up")
        assert "- progression 'traffic_light', field 'greens_to_step_up'" in relaxed.summary()
        routine = recommend(context="after_sitting", knowledge=relaxed)
        assert routine.provenance.relaxations == (r,)
        # Relaxed as declared: one green session is a step up, not two.
        assert progress(relaxed, "after_sitting", history(1)).step(HAM).progression == "up"
        assert progress(kb, "after_sitting", history(1)).step(HAM).progression == "same"

    def test_a_relaxation_covers_only_its_field(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = progression(kb, greens_to_step_up=1, reds_to_pause=5) + textwrap.dedent(
            """
            [[relaxation]]
            id = "one_green_is_enough"
            table = "progression"
            entry = "traffic_light"
            field = "greens_to_step_up"
            reason = "Our supervised class steps up after one good session."
            clinician = "Dr B. Example, physiotherapist"
            cites = ["clinic-protocol"]
            """
        )
        assert refused(tmp_path, text) == [(f"progression {MODEL!r}", "reds_to_pause")]


def test_a_stretch_moved_to_a_pack_movement_of_the_same_kind_loads(tmp_path: Path) -> None:
    """A rotation renamed (``trunk_twist``, ``is_a = "rotation"``) is no lost rotation.

    Kills ``_floor.x__movement_kinds__mutmut_5`` (names never mapped to their kind): the
    shipped movements are named as their kinds, so only a pack movement tells them apart.
    """
    shipped = Path(__file__).parents[1] / "knowledge" / "stretches" / "lower_trunk_rotation.toml"
    text = shipped.read_text(encoding="utf-8")
    text = text.replace(
        'id = "lower_trunk_rotation"\n', 'id = "lower_trunk_rotation"\noverride = true\n', 1
    )
    text = text.replace('movements = ["rotation"]', 'movements = ["trunk_twist"]', 1)
    text = text.replace(
        'id = "trunk_rotation_first_lying"\n',
        'id = "trunk_rotation_first_lying"\noverride = true\n',
        1,
    )
    twist = (
        '[[movement]]\nid = "trunk_twist"\nname = "Trunk twist"\nis_a = "rotation"\n'
        'description = "Turning the trunk."\ncites = ["si-stretch-guide#p9"]\n\n'
    )
    (tmp_path / "twist.toml").write_text(twist + text, encoding="utf-8")
    kb = load_knowledge(tmp_path)
    assert kb.stretches["lower_trunk_rotation"].movements == ("trunk_twist",)


def test_a_forbid_rule_that_also_names_a_kind_with_no_movement_of_its_id_loads(
    tmp_path: Path,
) -> None:
    """A stricter forbid rule may name a base kind that no movement is called by
    (``knee_flexion``): it loads, and its kinds are read as kinds.

    Kills ``_floor.x__movement_kinds__mutmut_6`` (every name looked up as a movement: a
    crash on such a kind).
    """
    (tmp_path / "stricter.toml").write_text(
        '[[rule]]\nid = "no_rotation_with_side_bend"\noverride = true\n'
        'kind = "forbid_movement_combination"\nname = "Never combine rotation with a side bend"\n'
        'movements = ["rotation", "side_bend"]\n'
        'caution_movements = ["side_bend", "knee_flexion"]\n'
        'caution = "Bend straight to the side only: do not twist your trunk while you bend."\n'
        'cites = ["si-stretch-guide#p24"]\n',
        encoding="utf-8",
    )
    kb = load_knowledge(tmp_path)
    assert kb.rules["no_rotation_with_side_bend"].caution_movements == (
        "side_bend",
        "knee_flexion",
    )
