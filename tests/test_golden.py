"""Whole routines, word for word, against golden files.

The property tests say what every routine must satisfy; these pin exactly what a
handful of routines say: every step, reason, caution, exclusion and source. They catch
a changed wording or a lost citation that no safety rule would notice.

After a deliberate change (of the knowledge or of the wording), regenerate them with
``SIRECOMMEND_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sirecommend import KnowledgeBase, Profile, load_knowledge, recommend
from sirecommend._compile import Member, OrderingCycleError, first_paragraph, precedence_order
from sirecommend._models import Ordering
from sirecommend.errors import KnowledgeError
from sirecommend.testing import synthetic_knowledge

GOLDEN = Path(__file__).parent / "golden" / "routines.json"

#: name -> (knowledge, profile). Between them: steps with and without equipment, an
#: alternative standing in, focus, a time budget, aggravation, pregnancy, avoided
#: positions, forbidden combinations, missing equipment of several kinds, red flags.
CASES: dict[str, tuple[str, Profile]] = {
    "after sitting, strap, 10 min, hamstrings": (
        "shipped",
        Profile(context="after_sitting", equipment={"strap"}, minutes=10, focus={"hamstrings"}),
    ),
    "after sleep, aggravated, no floor": (
        "shipped",
        Profile(context="after_sleep", aggravated=True, avoid_positions={"floor"}),
    ),
    "warm-up, two red flags": (
        "shipped",
        Profile(context="warm_up", red_flags={"fever", "saddle_numbness"}),
    ),
    "post activity, second trimester, roller, no kneeling": (
        "shipped",
        Profile(
            context="post_activity",
            pregnancy_trimester=2,
            equipment={"foam_roller"},
            avoid_positions={"quadruped"},
        ),
    ),
    "cool-down, 3 min": ("shipped", Profile(context="cool_down", minutes=3)),
    "after sleep, two emergency flags": (
        "shipped",
        Profile(context="after_sleep", red_flags={"saddle_numbness", "bladder_bowel_change"}),
    ),
    "after sleep, 8 min, glutes and piriformis": (
        "shipped",
        Profile(context="after_sleep", minutes=8, focus={"glutes", "piriformis"}),
    ),
    # Per-context defaults (issue 12): a 10-minute break from sitting; waking from lying
    # up to standing; the warm-up rolls first, short holds, ending upright; after
    # activity gently (lowest dose, reduced range).
    "after sitting, nothing given": ("shipped", Profile(context="after_sitting")),
    "after sleep, aggravated": ("shipped", Profile(context="after_sleep", aggravated=True)),
    "warm-up, roller and strap": (
        "shipped",
        Profile(context="warm_up", equipment={"foam_roller", "strap"}),
    ),
    "post activity, roller": (
        "shipped",
        Profile(context="post_activity", equipment={"foam_roller"}),
    ),
    "synthetic, after sitting, nothing at hand, 12 min": (
        "synthetic",
        Profile(context="after_sitting", minutes=12),
    ),
    "synthetic, warm-up, aggravated, third trimester": (
        "synthetic",
        Profile(context="warm_up", aggravated=True, pregnancy_trimester=3, equipment={"towel"}),
    ),
}


def knowledge(name: str) -> KnowledgeBase:
    return load_knowledge() if name == "shipped" else synthetic_knowledge(40, seed=7)


def routines() -> dict[str, Any]:
    return {
        name: recommend(profile, knowledge=knowledge(kb)).model_dump(mode="json")
        for name, (kb, profile) in CASES.items()
    }


def test_routines_match_the_golden_file() -> None:
    found = routines()
    if os.environ.get("SIRECOMMEND_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(GOLDEN.read_text("utf-8"))
    for name in CASES:
        assert found[name] == expected[name], name


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_golden_routine_says_something(name: str) -> None:
    routine = json.loads(GOLDEN.read_text("utf-8"))[name]
    assert routine["steps"] or routine["excluded"]


def members(kb: KnowledgeBase, context: str) -> list[Member]:
    """What the precedence order knows of each stretch the context offers, from the tables."""
    out = []
    leads = kb.movement_kinds_of(kb.contexts[context].lead_movements)
    for st in kb.stretches.values():
        for link in st.suits:
            if link.context == context:
                for s in [st, *(a for a in kb.stretches.values() if a.alternative_of == st.id)]:
                    pos = kb.positions[s.position]
                    phase = link.phase or st.phase
                    lead = not leads.isdisjoint(kb.movement_kinds_of(s.movements))
                    out.append(
                        Member(s.id, phase, pos.sequence, pos.id, first_paragraph(s.cites), lead)
                    )
    return out


def test_the_compiled_order_is_the_precedence_order_of_the_tables() -> None:
    kb = load_knowledge()
    orderings = [(o.id, o.before, o.after) for o in kb.orderings.values()]
    for context in kb.contexts:
        direction = kb.contexts[context].order
        found = precedence_order(context, members(kb, context), orderings, direction)
        assert kb.order(context) == found


def test_an_ordering_cycle_is_reported_word_for_word() -> None:
    kb = load_knowledge()
    cycle = [("o1", "hamstring_supine", "figure_four_supine")]
    cycle.append(("o2", "figure_four_supine", "hamstring_supine"))
    with pytest.raises(OrderingCycleError) as caught:
        precedence_order("after_sitting", members(kb, "after_sitting"), cycle)
    assert caught.value.context == "after_sitting"
    assert caught.value.orderings == ("o1", "o2")
    assert str(caught.value) == (
        "ordering constraints o1, o2 form a cycle with each other or with the phase and "
        "position order in context 'after_sitting'"
    )


def test_an_ordering_cycle_is_a_knowledge_error_at_load(tmp_path: Path) -> None:
    (tmp_path / "cycle.toml").write_text(
        "\n".join(
            f'[[ordering]]\nid = "{o}"\nbefore = "{a}"\nafter = "{b}"\n'
            'cites = ["si-stretch-guide#p19"]\n'
            for o, a, b in (
                ("o1", "hamstring_supine", "figure_four_supine"),
                ("o2", "figure_four_supine", "hamstring_supine"),
            )
        ),
        "utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(tmp_path)
    (problem,) = caught.value.problems
    assert problem.file.endswith("cycle.toml")
    assert problem.entry == "ordering 'o1', 'o2'"
    assert "form a cycle" in problem.message


def test_an_ordering_against_the_position_order_is_a_cycle() -> None:
    # In after_sitting the targeted phase ends half-kneeling, then standing: the last
    # two position blocks of the routine. Asking the standing stretch to come first
    # contradicts the block order, which must be reported, not quietly obeyed.
    kb = load_knowledge()
    backwards = Ordering(
        id="backwards",
        before="standing_side_bend",
        after="hip_flexor_half_kneeling",
        cites=("si-stretch-guide#p16",),
    )
    order = kb.order("after_sitting")
    assert order[-3:] == (
        "hip_flexor_half_kneeling",
        "standing_side_bend",
        "hip_flexor_standing_lunge",
    )
    with pytest.raises(OrderingCycleError, match="backwards"):
        precedence_order(
            "after_sitting",
            members(kb, "after_sitting"),
            [(backwards.id, backwards.before, backwards.after)],
        )


@pytest.mark.parametrize("context", ["after_sitting", "after_sleep", "warm_up", "cool_down"])
def test_each_context_plan_describes_its_candidates(context: str) -> None:
    kb = load_knowledge()
    plan = kb.compiled.contexts[context]
    links = {
        s.id: link for s in kb.stretches.values() for link in s.suits if link.context == context
    }
    assert plan.id == context
    assert tuple(s.stretch.id for s in plan.slots) == tuple(s for s in plan.order if s in links)
    for slot in plan.slots:
        link = links[slot.stretch.id]
        assert slot.link_cites == link.cites
        assert slot.phase == (link.phase or kb.stretches[slot.stretch.id].phase)
        assert [a.id for a in slot.alternatives] == [
            sid for sid in plan.order if kb.stretches[sid].alternative_of == slot.stretch.id
        ]
    assert set(plan.order) == {
        sid for slot in plan.slots for sid in (slot.stretch.id, *(a.id for a in slot.alternatives))
    }
    for sid in plan.order:
        assert plan.rank[sid] == plan.order.index(sid)
