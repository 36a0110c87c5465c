"""Tests written to kill the mutants that survived the mutation run of issue 10 (item 7).

Each test asserts behaviour a person or a clinic sees: the words of a refused pack's
problem, which pack loads, what ``audit()`` reports. ``docs/mutation-survivors.md`` lists
every survivor and the test here that kills it (or why it is equivalent).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from sirecommend import KnowledgeBase, KnowledgeError, load_knowledge
from sirecommend._floor import Weakening, relaxation_lines, weakenings
from sirecommend._loader import TABLES
from sirecommend._models import Relaxation

# --------------------------------------------------------------------- the safety floor


def _tables(kb: KnowledgeBase) -> dict[str, Any]:
    return {table: getattr(kb, attr) for table, attr in TABLES.items()}


def _changed(tables: dict[str, Any], table: str, ident: str, **changes: object) -> dict[str, Any]:
    """``tables`` with one entry replaced by a copy that has ``changes``."""
    entry = tables[table][ident].model_copy(update=changes)
    return {**tables, table: {**tables[table], ident: entry}}


def _messages(shipped: dict[str, Any], merged: dict[str, Any]) -> dict[tuple[str, str], str]:
    found: list[Weakening] = weakenings(shipped, merged)
    return {(w.entry, w.field): w.message for w in found}


class TestFloorMessages:
    """The problem a refused pack gets says what it weakened, in words a clinic can act on."""

    def test_a_group_that_loses_several_kinds_lists_them(self, kb: KnowledgeBase) -> None:
        t = _tables(kb)
        found = _messages(t, _changed(t, "position_group", "floor", members=["standing"]))
        assert found == {
            ("floor", "members"): "no longer holds half_kneeling, kneeling, prone, quadruped, "
            "seated_floor, side_lying, supine: avoiding the group would let them through"
        }

    def test_a_forbidden_combination_weakened_three_ways(self, kb: KnowledgeBase) -> None:
        t = _tables(kb)
        merged = _changed(
            t,
            "rule",
            "no_rotation_with_side_bend",
            movements=("rotation", "side_bend", "hip_flexion"),
            caution_movements=(),
            caution="Twist if you like.",
        )
        assert _messages(t, merged) == {
            ("no_rotation_with_side_bend", "movements"): (
                "also needs hip_flexion, so steps the shipped rule blocks would pass"
            ),
            ("no_rotation_with_side_bend", "caution_movements"): "drops the caution for side_bend",
            ("no_rotation_with_side_bend", "caution"): "changes the caution steps carry",
        }

    def test_a_pregnancy_rule_weakened_two_ways(self, kb: KnowledgeBase) -> None:
        t = _tables(kb)
        merged = _changed(t, "rule", "pregnancy_no_supine", from_trimester=3, positions=("prone",))
        assert _messages(t, merged) == {
            ("pregnancy_no_supine", "from_trimester"): "starts at trimester 3, not 2",
            ("pregnancy_no_supine", "positions"): "no longer rules out supine",
        }

    @pytest.mark.parametrize(
        ("rule", "field", "message"),
        [
            ("aggravated_go_gently", "caution", "changes the caution for aggravated symptoms"),
            ("stretch_gently", "text", "changes a stop rule every routine repeats"),
            ("red_flags_stop_and_refer", "message", "changes what every referral tells a person"),
        ],
    )
    def test_a_reworded_rule(self, kb: KnowledgeBase, rule: str, field: str, message: str) -> None:
        t = _tables(kb)
        merged = _changed(t, "rule", rule, **{field: "Carry on."})
        assert _messages(t, merged) == {(rule, field): message}

    def test_a_weaker_progression_model(self, kb: KnowledgeBase) -> None:
        t = _tables(kb)
        model = kb.progression["traffic_light"]
        merged = _changed(
            t,
            "progression",
            "traffic_light",
            pain_during=model.pain_during.model_copy(update={"green_max": 4}),
            hold_pain=7,
            reds_to_pause=3,
            greens_to_step_up=1,
            hold_rungs=2,
        )
        assert _messages(t, merged) == {
            ("traffic_light", "pain_during"): "raises green_max from 3 to 4: more pain would "
            "count as green (a step up) or amber (no step down)",
            ("traffic_light", "hold_pain"): "raises it from 6 to 7: more pain before nothing "
            "goes up",
            ("traffic_light", "reds_to_pause"): "raises it from 2 to 3: a stretch that hurts "
            "would be paused later",
            ("traffic_light", "greens_to_step_up"): "lowers it from 2 to 1: doses would go up "
            "sooner",
            ("traffic_light", "hold_rungs"): "2 (was 3) gives 'adductor_strap_supine' 4 rungs, "
            "not 5: fewer, bigger steps up from its lowest dose to its highest",
        }

    def test_several_milder_mornings_are_listed(self, kb: KnowledgeBase) -> None:
        # The shipped model maps only 'worse' above green, so start from a stricter floor.
        t = _tables(kb)
        model = kb.progression["traffic_light"]
        strict = model.next_morning.model_copy(update={"same": "amber"})
        floor = _changed(t, "progression", "traffic_light", next_morning=strict)
        milder = strict.model_copy(update={"same": "green", "worse": "amber"})
        merged = _changed(t, "progression", "traffic_light", next_morning=milder)
        assert _messages(floor, merged) == {
            ("traffic_light", "next_morning"): "maps 'same' to 'green' (was 'amber'), "
            "'worse' to 'amber' (was 'red'): a milder band for that morning"
        }


SOURCE = """
[[source]]
id = "clinic-protocol"
kind = "guideline"
title = "Clinic protocol"
publisher = "Clinic"
"""

FIXED_DOSE_STRETCH = """
[[stretch]]
id = "fixed_reach"
name = "Fixed reach"
phase = "targeted"
position = "standing"
movements = ["side_bend"]
targets = ["lateral_trunk"]
cites = ["clinic-protocol"]
dosage = {hold_seconds = [30, 30], sets = [2, 2], per_side = true, cites = ["clinic-protocol"]}
instructions = [{text = "Reach up and over, then come back.", cites = ["clinic-protocol"]}]
suits = [{context = "after_sitting", cites = ["clinic-protocol"]}]
"""


def _pack(tmp_path: Path, text: str) -> Path:
    (tmp_path / "clinic.toml").write_text(textwrap.dedent(SOURCE + text), encoding="utf-8")
    return tmp_path


def test_more_hold_rungs_load_beside_a_stretch_with_a_fixed_dose(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    # A fixed dose has the same ladder whatever hold_rungs is: no stretch gets fewer rungs,
    # so more rungs are stricter and the pack loads.
    data = {**kb.progression["traffic_light"].model_dump(), "hold_rungs": 4, "override": True}
    model = "[[progression]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in data.items())
    stricter = load_knowledge(_pack(tmp_path, FIXED_DOSE_STRETCH + model))
    assert stricter.progression["traffic_light"].hold_rungs == 4
    assert stricter.relaxations == {}


def _toml(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'


def test_a_relaxation_cites_every_source() -> None:
    r = Relaxation(
        id="late",
        table="rule",
        entry="pregnancy_no_supine",
        field="from_trimester",
        reason="Clinic protocol.",
        clinician="Dr A",
        cites=["clinic", "acog-804-2020"],
    )
    assert relaxation_lines([r])[1].endswith("Cited: clinic, acog-804-2020.")


def test_a_refused_pack_names_the_floor_problem(tmp_path: Path, kb: KnowledgeBase) -> None:
    # The messages above reach the clinic through the loader's KnowledgeError.
    text = """
    [[rule]]
    id = "pregnancy_no_supine"
    override = true
    kind = "pregnancy_avoid_position"
    name = "No exercise lying on the back"
    from_trimester = 3
    positions = ["supine"]
    reason = "Exercises lying flat on the back are left out late in pregnancy."
    cites = ["acog-804-2020"]
    """
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(_pack(tmp_path, text))
    (problem,) = info.value.problems
    assert "starts at trimester 3, not 2" in problem.message
