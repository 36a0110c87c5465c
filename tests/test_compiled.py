"""The core compiled once: what load builds, what a call may not grow, and what fit decides.

Issue 11 (compile at load, only reads during a call), issue 10 items 6 and 7 (the length
cap; one rank for order and priority) and issue 12 item 3 (a reason that points at
another stretch names a step of the routine).
"""

from __future__ import annotations

import ast
import gc
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sirecommend import KnowledgeBase, Profile, ReasonCode, load_knowledge, recommend
from sirecommend._compile import Compiled, capped_reason, compile_graph, length_phrase
from sirecommend._recommend import _run
from sirecommend._routine import MAX_STEPS
from sirecommend.pipeline import select
from sirecommend.testing import knowledge_bases, profiles, synthetic_knowledge

SRC = Path(__file__).parent.parent / "src" / "sirecommend"
POINTING = {ReasonCode.REPLACED, ReasonCode.ALTERNATIVE_NOT_NEEDED}


class TestCompiledAtLoad:
    def test_a_fresh_compile_equals_the_loaded_one(self, kb: KnowledgeBase) -> None:
        assert compile_graph(kb) == kb.compiled

    def test_the_knowledge_base_holds_no_memo_and_no_plans(self, kb: KnowledgeBase) -> None:
        for name in ("memo", "_memo", "plans"):
            assert not hasattr(kb, name)
        assert isinstance(kb.compiled, Compiled)

    def test_the_loader_imports_neither_the_pipeline_nor_the_audit(self) -> None:
        for module in ("_loader.py", "_compile.py", "_kb.py", "_graph.py"):
            tree = ast.parse((SRC / module).read_text("utf-8"))
            imported = {
                n.module
                for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module is not None
            }
            assert not {
                m for m in imported if m.startswith(("sirecommend.pipeline", "sirecommend.audit"))
            }

    def test_no_library_internals(self) -> None:
        for path in SRC.rglob("*.py"):
            text = path.read_text("utf-8")
            for internal in ("._succ", "._pred", "__pydantic_fields_set__", "object.__setattr__"):
                assert internal not in text, f"{path.name} uses {internal}"

    def test_rules_are_compiled_by_kind(self, kb: KnowledgeBase) -> None:
        masks = kb.compiled.avoid_masks
        bits = {f.position: f.position_bit for f in kb.compiled.stretches.values()}
        assert masks["floor"] & bits["supine"]
        assert masks["floor"] & bits["quadruped"]
        assert not masks["floor"] & bits["standing"]
        assert masks["supine"] == masks["supine"] & masks["floor"]
        side_bend = kb.compiled.stretches["standing_side_bend"]
        assert side_bend.rules == ()  # a side bend alone breaks no combination rule
        assert any("twist" in c for c in side_bend.cautions[0])
        ham = kb.compiled.stretches["hamstring_supine"]
        assert [(r.from_trimester, r.reason.rule) for r in ham.rules] == [
            (2, "pregnancy_no_supine")
        ]
        assert ham.missing is None  # its last option is the hands alone
        foam = kb.compiled.stretches["foam_roll_glutes"]
        assert foam.missing is not None
        assert "foam roller" in foam.missing.message

    def test_size_depends_only_on_the_knowledge(self) -> None:
        a, b = synthetic_knowledge(60, seed=3), synthetic_knowledge(60, seed=3)
        assert a.compiled == b.compiled
        assert len(a.compiled.stretches) == 60


class TestExclusionsCompiledOnce:
    """The exclusions a call over a large knowledge gives most (for the length cap) are
    made at load; a call hands them out and builds none of them."""

    def test_each_says_what_explain_would(self, kb: KnowledgeBase) -> None:
        for facts in kb.compiled.stretches.values():
            for aggravated in (False, True):
                capped = facts.capped[aggravated]
                assert (capped.stretch_id, capped.name) == (facts.id, facts.name)
                assert capped.reasons == (capped_reason(aggravated),)

    def test_the_length_cap_hands_out_the_compiled_exclusion(self) -> None:
        kb = synthetic_knowledge(200, seed=11)
        kit = set(kb.equipment)
        for aggravated in (False, True):
            capped = [
                e
                for context in sorted(kb.contexts)
                for e in recommend(
                    context=context, aggravated=aggravated, equipment=kit, knowledge=kb
                ).excluded
                if e.reasons == (capped_reason(aggravated),)
            ]
            assert capped
            for e in capped:
                assert e is kb.compiled.stretches[e.stretch_id].capped[aggravated]
            assert (
                capped[0].reasons[0].message.startswith(f"Left out {length_phrase(aggravated)}: ")
            )


def test_one_time_budget_reason_per_duration_within_a_call(kb: KnowledgeBase) -> None:
    """Stretches dropped for time that take as long share one reason object (made within
    the call); a different duration gets its own words."""
    routine = recommend(context="after_sitting", knowledge=kb)
    timed = [
        e.reasons[-1] for e in routine.excluded if e.reasons[-1].code is ReasonCode.TIME_BUDGET
    ]
    by_words: dict[str, list[object]] = {}
    for reason in timed:
        by_words.setdefault(reason.message, []).append(reason)
    shared = [reasons for reasons in by_words.values() if len(reasons) > 1]
    assert shared  # several stretches of the same length are left out for time
    for reasons in shared:
        assert all(r is reasons[0] for r in reasons)


class TestCandidatesCompiledOnce:
    """A plan holds a candidate per slot; select makes one only for a focus hit."""

    def test_without_focus_select_hands_out_the_plans_candidates(self, kb: KnowledgeBase) -> None:
        for context, plan in kb.compiled.contexts.items():
            assert [c.slot for c in plan.candidates] == list(plan.slots)
            assert all(c.focus_hits == () for c in plan.candidates)
            assert select(kb, Profile(context=context)) is plan.candidates

    def test_with_focus_only_the_slots_it_hits_are_new(self, kb: KnowledgeBase) -> None:
        plan = kb.compiled.contexts["warm_up"]
        chosen = select(kb, Profile(context="warm_up", focus={"glutes", "hamstrings"}))
        assert [c.slot for c in chosen] == list(plan.slots)
        for mine, compiled in zip(chosen, plan.candidates, strict=True):
            hits = tuple(sorted(compiled.slot.targets & {"glutes", "hamstrings"}))
            assert mine.focus_hits == hits
            assert (mine is compiled) == (not hits)
        assert any(c.focus_hits for c in chosen)


def sizes(kb: KnowledgeBase) -> list[int]:
    """The sizes of every container of the compiled form."""
    c = kb.compiled
    out = [len(c.contexts), len(c.stretches), len(c.avoid_masks), len(c.citation_rank)]
    for plan in c.contexts.values():
        out += [len(plan.slots), len(plan.order), len(plan.rank), len(plan.by_muscle)]
    return out


def test_no_structure_grows_during_calls() -> None:
    """Many distinct profiles leave the compiled form and the heap as they were."""
    kb = synthetic_knowledge(200, seed=11)
    rng = random.Random(5)
    contexts, kit = sorted(kb.contexts), sorted(kb.equipment)
    places = sorted([*kb.positions, *kb.position_groups])

    def call() -> None:
        recommend(
            context=rng.choice(contexts),
            aggravated=rng.random() < 0.5,
            equipment=set(rng.sample(kit, rng.randint(0, len(kit)))),
            avoid_positions=set(rng.sample(places, rng.randint(0, 2))),
            pregnancy_trimester=rng.choice([None, 1, 2, 3]),
            minutes=rng.choice([None, round(rng.uniform(0.5, 40), 2)]),
            knowledge=kb,
        )

    for _ in range(50):
        call()
    before = sizes(kb)
    gc.collect()
    objects = len(gc.get_objects())
    for _ in range(500):
        call()
    gc.collect()
    assert sizes(kb) == before
    assert len(gc.get_objects()) - objects < 50  # nothing per call outlives it


class TestLengthCap:
    # Naming two rolled groups gives two rolling steps (p15), one more than the cap.
    ROLLED = frozenset({"glutes", "hamstrings"})

    def test_without_a_budget_at_most_max_steps(self) -> None:
        kit = {"foam_roller", "strap", "towel"}
        kb = load_knowledge()
        routine = recommend(context="cool_down", equipment=kit, focus=self.ROLLED)
        assert len(routine.steps) == MAX_STEPS
        capped = [e for e in routine.excluded if e.reasons[-1].code is ReasonCode.ROUTINE_LENGTH]
        assert len(capped) == 1
        assert f"to {MAX_STEPS} steps" in capped[0].reasons[-1].message
        # the lowest priority goes: the last in routine order of those without focus
        kept = {s.stretch_id for s in routine.steps}
        unfocused = [
            sid
            for sid in kb.order("cool_down")
            if (sid in kept or sid == capped[0].stretch_id)
            and self.ROLLED.isdisjoint(kb.stretches[sid].targets)
        ]
        assert unfocused[-1] == capped[0].stretch_id

    def test_focus_keeps_its_step_within_the_cap(self) -> None:
        kit = {"foam_roller", "strap", "towel"}
        plain = recommend(context="cool_down", equipment=kit, focus=self.ROLLED)
        dropped = next(
            e.stretch_id for e in plain.excluded if e.reasons[-1].code is ReasonCode.ROUTINE_LENGTH
        )
        muscle = load_knowledge().stretches[dropped].targets[0]
        focused = recommend(context="cool_down", equipment=kit, focus={muscle, *self.ROLLED})
        assert dropped in {s.stretch_id for s in focused.steps}
        assert len(focused.steps) == MAX_STEPS


def test_order_and_priority_use_one_rank() -> None:
    """Issue 10 item 7: fit's priority is routine order, the rank of the stretch a step does.

    Avoiding the floor, the half-kneeling hip-flexor stretch gives way to the standing
    lunge, which the routine places after the standing side bend. With time for one
    step, the first in routine order is kept: the side bend, not the stand-in.
    """
    routine = recommend(context="after_sitting", avoid_positions={"floor"}, minutes=3.5)
    assert [s.stretch_id for s in routine.steps] == ["standing_side_bend"]
    whole = recommend(context="after_sitting", avoid_positions={"floor"})
    assert [s.stretch_id for s in whole.steps] == [
        "standing_side_bend",
        "hip_flexor_standing_lunge",
    ]


class TestReasonsPointOnlyAtSteps:
    def test_one_minute_names_no_stand_in(self) -> None:
        routine = recommend(context="after_sitting", minutes=1)
        assert routine.steps == ()
        reasons = [r for e in routine.excluded for r in e.reasons]
        assert not [r for r in reasons if r.code in POINTING or r.other is not None]
        assert not [r for r in reasons if "Replaced by" in r.message]
        strap = {e.stretch_id: e for e in routine.excluded}["adductor_strap_supine"]
        assert [r.code for r in strap.reasons] == [
            ReasonCode.MISSING_EQUIPMENT,
            ReasonCode.TIME_BUDGET,
        ]
        assert "Its stand-in, Seated butterfly stretch, was left out too" in str(strap.reasons[-1])

    def test_a_dropped_primary_takes_its_alternative_with_it(self) -> None:
        routine = recommend(context="after_sitting", equipment={"strap"}, minutes=10)
        lunge = {e.stretch_id: e for e in routine.excluded}["hip_flexor_standing_lunge"]
        (reason,) = lunge.reasons
        assert reason.code is ReasonCode.TIME_BUDGET
        assert reason.other is None
        assert reason.message == (
            "Not given: it is an alternative to Half-kneeling hip-flexor stretch, which was "
            "itself left out to keep within your 10-minute budget."
        )


def check_pointing(kb: KnowledgeBase, profile: Profile) -> None:
    routine = _run(kb, profile)
    steps = {s.stretch_id for s in routine.steps}
    for e in routine.excluded:
        for r in e.reasons:
            if r.code in POINTING or (r.code is ReasonCode.ROLL_SORE_GROUP and r.other):
                assert r.other in steps, (e.stretch_id, r.message)
            else:
                assert r.other is None
            assert "Replaced by" not in r.message or r.code is ReasonCode.REPLACED
    # a stand-in that is a step says whom it replaces, and that one points back at it
    by_id = {e.stretch_id: e for e in routine.excluded}
    for s in routine.steps:
        if s.replaces is not None:
            assert any(r.other == s.stretch_id for r in by_id[s.replaces].reasons)


@settings(max_examples=150)
@given(data=st.data())
def test_reasons_point_only_at_steps_of_the_routine(data: st.DataObject) -> None:
    kb = load_knowledge()
    profile = data.draw(profiles(kb, red_flags=False))
    minutes = data.draw(st.one_of(st.none(), st.floats(0.5, 30).map(lambda m: round(m, 1))))
    check_pointing(kb, profile.model_copy(update={"minutes": minutes}))


@given(kb=knowledge_bases(), data=st.data())
def test_reasons_point_only_at_steps_on_generated_knowledge(
    kb: KnowledgeBase, data: st.DataObject
) -> None:
    profile = data.draw(profiles(kb, red_flags=False))
    minutes = data.draw(st.one_of(st.none(), st.floats(0.2, 20).map(lambda m: round(m, 1))))
    check_pointing(kb, profile.model_copy(update={"minutes": minutes}))
