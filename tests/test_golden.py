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
from sirecommend._models import Ordering
from sirecommend.pipeline.order import OrderingCycleError, plan_context
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


def test_an_ordering_cycle_is_reported_word_for_word() -> None:
    kb = load_knowledge()
    cites = ("si-stretch-guide#p19",)
    cycle = [
        Ordering(id="o1", before="hamstring_supine", after="figure_four_supine", cites=cites),
        Ordering(id="o2", before="figure_four_supine", after="hamstring_supine", cites=cites),
    ]
    with pytest.raises(OrderingCycleError) as caught:
        plan_context("after_sitting", kb.stretches, kb.positions, cycle)
    assert caught.value.context == "after_sitting"
    assert caught.value.orderings == ("o1", "o2")
    assert str(caught.value) == (
        "ordering constraints o1, o2 form a cycle with each other or with the phase and "
        "position order in context 'after_sitting'"
    )


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
    order = kb.plans["after_sitting"].order
    assert order[-3:] == (
        "hip_flexor_half_kneeling",
        "standing_side_bend",
        "hip_flexor_standing_lunge",
    )
    with pytest.raises(OrderingCycleError, match="backwards"):
        plan_context("after_sitting", kb.stretches, kb.positions, [backwards])


@pytest.mark.parametrize("context", ["after_sitting", "after_sleep", "warm_up", "cool_down"])
def test_each_context_plan_describes_its_candidates(context: str) -> None:
    kb = load_knowledge()
    plan = kb.plans[context]
    links = {
        s.id: link for s in kb.stretches.values() for link in s.suits if link.context == context
    }
    assert plan.context == context
    assert plan.primaries == tuple(s for s in plan.order if s in links)
    for sid in plan.order:
        primary = kb.stretches[sid].alternative_of or sid
        assert plan.link_cites[sid] == links[primary].cites
        assert plan.phases[sid] == (links[primary].phase or kb.stretches[primary].phase)
        assert plan.rank[sid] == plan.order.index(sid)
