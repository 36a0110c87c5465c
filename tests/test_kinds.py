"""Base kinds: rules, groups and the audit match movements and positions by meaning (is_a)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import networkx as nx
import pytest

from sirecommend import KnowledgeError, audit, lint_graph, load_knowledge, recommend

CLINIC = """
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

[[position]]
id = "lying_on_back"
name = "Lying on the back, knees bent"
is_a = "supine"
sequence = 45
cites = ["clinic-notes"]

[[stretch]]
id = "twist_and_reach"
name = "Twist and reach"
phase = "targeted"
position = "standing"
movements = ["trunk_twist", "side_bend"]
targets = ["lateral_trunk"]
cites = ["clinic-notes"]

[stretch.dosage]
hold_seconds = [30, 60]
sets = [2, 3]
per_side = true
cites = ["clinic-notes"]

[[stretch.instructions]]
text = "Reach up and over."
cites = ["clinic-notes"]

[[stretch.suits]]
context = "after_sitting"
cites = ["clinic-notes"]

[[stretch]]
id = "back_lying_knee_hug"
name = "Knee hug on the back"
phase = "targeted"
position = "lying_on_back"
movements = ["hip_flexion"]
targets = ["glutes"]
cites = ["clinic-notes"]

[stretch.dosage]
hold_seconds = [30, 60]
sets = [2, 3]
per_side = false
cites = ["clinic-notes"]

[[stretch.instructions]]
text = "Hug both knees in."
cites = ["clinic-notes"]

[[stretch.suits]]
context = "after_sitting"
cites = ["clinic-notes"]
"""


def pack(tmp_path: Path, text: str) -> Path:
    (tmp_path / "clinic.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def test_a_new_rotation_still_may_not_combine_with_a_side_bend(tmp_path: Path) -> None:
    kb = load_knowledge(pack(tmp_path, CLINIC))
    assert kb.kind_of_movement("trunk_twist") == "rotation"
    routine = recommend(context="after_sitting", knowledge=kb)
    assert "twist_and_reach" not in {s.stretch_id for s in routine.steps}
    (left_out,) = [e for e in routine.excluded if e.stretch_id == "twist_and_reach"]
    assert [r.rule for r in left_out.reasons] == ["no_rotation_with_side_bend"]


def test_a_new_supine_position_is_on_the_floor_and_ruled_in_pregnancy(tmp_path: Path) -> None:
    kb = load_knowledge(pack(tmp_path, CLINIC))
    assert "lying_on_back" in kb.position_members("floor")
    assert "lying_on_back" in kb.position_members("supine")
    for profile in (
        {"avoid_positions": {"floor"}},
        {"avoid_positions": {"supine"}},
        {"pregnancy_trimester": 3},
    ):
        routine = recommend(context="after_sitting", knowledge=kb, **profile)
        assert "back_lying_knee_hug" not in {s.stretch_id for s in routine.steps}, profile
        assert audit(routine, routine.profile, kb) == []
    assert "back_lying_knee_hug" in {
        s.stretch_id for s in recommend(context="after_sitting", knowledge=kb).steps
    }


def test_a_pack_cannot_add_or_change_a_base_kind(tmp_path: Path) -> None:
    text = """
    [[movement_kind]]
    id = "gentle_twist"
    name = "Gentle twist"

    [[position_kind]]
    id = "supine"
    name = "Not really lying down"
    override = true
    """
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(pack(tmp_path, text))
    assert [(p.entry, p.field) for p in info.value.problems] == [
        ("movement_kind 'gentle_twist'", "id"),
        ("position_kind 'supine'", "id"),
    ]
    assert "base kinds are fixed" in str(info.value)


def test_a_new_movement_or_position_must_name_a_known_kind(tmp_path: Path) -> None:
    text = """
    [[source]]
    id = "clinic-notes"
    kind = "guideline"
    title = "Clinic notes"
    publisher = "Clinic"

    [[movement]]
    id = "trunk_twist"
    name = "Trunk twist"
    is_a = "twisting"
    cites = ["clinic-notes"]

    """
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(pack(tmp_path, text))
    (problem,) = info.value.problems
    assert (problem.entry, problem.field) == ("movement 'trunk_twist'", "is_a")
    assert "unknown movement kind 'twisting'" in problem.message
    sofa = """
    [[position]]
    id = "sofa"
    name = "On the sofa"
    sequence = 5
    cites = ["si-stretch-guide#p25"]
    """
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(pack(tmp_path, sofa))
    (problem,) = info.value.problems
    assert (problem.entry, problem.field) == ("position 'sofa'", "is_a")
    assert "field required" in problem.message.lower()


def test_the_graph_links_every_movement_and_position_to_one_kind() -> None:
    kb = load_knowledge()
    for kind in ("movement", "position"):
        for entry in getattr(kb, f"{kind}s").values():
            node = f"{kind}:{entry.id}"
            targets = [
                v for _, v, d in kb.graph.out_edges(node, data=True) if d["relation"] == "is_a"
            ]
            assert targets == [f"{kind}_kind:{entry.is_a}"]
    broken = nx.MultiDiGraph(kb.graph)
    broken.remove_edge("movement:rotation", "movement_kind:rotation", key="is_a")
    assert lint_graph(broken) == [
        "movement:rotation: must be linked by is_a to exactly one base kind"
    ]


def test_a_profile_may_avoid_a_base_kind_no_position_is_named_after(tmp_path: Path) -> None:
    assert "side_lying" not in load_knowledge().positions
    text = (
        CLINIC.replace('id = "lying_on_back"', 'id = "on_side"')
        .replace('is_a = "supine"', 'is_a = "side_lying"')
        .replace('position = "lying_on_back"', 'position = "on_side"')
    )
    kb = load_knowledge(pack(tmp_path, text))
    assert "back_lying_knee_hug" in {
        s.stretch_id for s in recommend(context="after_sitting", knowledge=kb).steps
    }
    routine = recommend(context="after_sitting", knowledge=kb, avoid_positions={"side_lying"})
    assert "back_lying_knee_hug" not in {s.stretch_id for s in routine.steps}
    (left_out,) = [e for e in routine.excluded if e.stretch_id == "back_lying_knee_hug"]
    assert [r.code.value for r in left_out.reasons] == ["position_avoided"]
    assert recommend(context="after_sitting", avoid_positions={"side_lying"}).status == "ok"
