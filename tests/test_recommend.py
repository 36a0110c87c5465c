"""The public surface: recommend(), Profile, Routine, errors, determinism and safety."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

import sirecommend
from sirecommend import (
    NOTICE,
    InvalidArgumentError,
    KnowledgeBase,
    Profile,
    Routine,
    SafetyError,
    SirecommendError,
    UnknownIdError,
    audit,
    load_knowledge,
    recommend,
)
from sirecommend._models import PHASES

CONTEXTS = ["after_sitting", "after_sleep", "post_activity", "warm_up", "cool_down"]


def test_public_names_are_pinned() -> None:
    """Adding a public name is a decision: update this list with it."""
    assert set(sirecommend.__all__) == {
        "NOTICE",
        "Exclusion",
        # The programme (issue 13).
        "Feedback",
        "Session",
        "Plan",
        "PlannedSession",
        "plan",
        "Progression",
        "progress",
        "InvalidArgumentError",
        "KnowledgeBase",
        "KnowledgeError",
        "KnowledgeProblem",
        "Profile",
        "Provenance",
        "Reason",
        "ReasonCode",
        "Referral",
        "Routine",
        "SafetyError",
        "SirecommendError",
        "Step",
        "UnknownIdError",
        "Violation",
        "__version__",
        "audit",
        "lint_graph",
        "load_knowledge",
        "recommend",
        "schema_of_packs",
        "shipped_knowledge_dir",
    }
    for name in sirecommend.__all__:
        assert hasattr(sirecommend, name)


@pytest.mark.parametrize("context", CONTEXTS)
def test_every_context_gives_a_routine_in_phase_order(context: str) -> None:
    routine = recommend(context=context)
    assert routine.status == "ok"
    assert routine.steps
    phases = [PHASES.index(s.phase) for s in routine.steps]
    if context == "after_sleep":  # lying to standing: phases in turn inside each position
        positions = load_knowledge().positions
        blocks = [(-positions[s.position].sequence, s.position) for s in routine.steps]
        assert blocks == sorted(blocks)
        assert [p for _, p in sorted(zip(blocks, phases, strict=True))] == phases
    else:
        assert phases == sorted(phases)
    assert routine.total_seconds == sum(s.seconds for s in routine.steps)
    assert routine.notice == NOTICE


def test_keyword_and_profile_forms_agree() -> None:
    a = recommend(context="after_sleep", aggravated=True)
    b = recommend(Profile(context="after_sleep", aggravated=True))
    c = recommend({"context": "after_sleep", "aggravated": True})
    assert a == b == c


def test_the_issue_example_runs(kb: KnowledgeBase) -> None:
    routine = recommend(
        context="post_activity",
        equipment={"strap"},
        avoid_positions={"floor"},
        aggravated=False,
        red_flags=set(),
        pregnancy_trimester=None,
        minutes=10,
        focus={"hamstrings"},
        knowledge=kb,
    )
    assert routine.total_seconds <= 600
    assert all(s.position == "standing" for s in routine.steps)


def test_json_round_trip_and_determinism() -> None:
    r = recommend(
        context="cool_down",
        equipment={"foam_roller", "towel"},
        minutes=12,
        focus={"glutes"},
        pregnancy_trimester=2,
    )
    assert Routine.model_validate_json(r.model_dump_json()) == r
    again = recommend(
        context="cool_down",
        equipment={"towel", "foam_roller"},
        minutes=12,
        focus={"glutes"},
        pregnancy_trimester=2,
    )
    assert r.model_dump_json() == again.model_dump_json()
    data = json.loads(r.model_dump_json())
    assert data["profile"]["equipment"] == ["foam_roller", "towel"]
    assert data["provenance"]["knowledge_digest"] == load_knowledge().digest


def test_red_flags_win_over_everything() -> None:
    routine = recommend(
        context="after_sitting",
        red_flags={"fever", "bladder_bowel_change"},
        equipment={"strap"},
        minutes=30,
    )
    assert routine.status == "referred"
    assert routine.steps == ()
    assert routine.referral is not None
    assert routine.referral.urgency == "emergency"
    assert {e.reasons[0].code.value for e in routine.excluded} == {"red_flag"}
    assert str(routine.excluded[0].reasons[0]) == routine.excluded[0].reasons[0].message
    text = str(routine)
    assert "STOP - EMERGENCY" in text
    assert NOTICE.split(".")[0] in text


def test_str_is_a_readable_sheet() -> None:
    text = str(recommend(context="after_sitting", aggravated=True))
    assert "Child's pose with side reach" in text
    assert "hold 30 s x 2 sets, each side" in text
    assert "smaller movement than usual" in text
    assert "#p" not in text  # citation ids are for the clinician's view
    assert "Stretches for SI joint pain, paragraphs 7, " in text
    assert "Left out" in text
    assert "Stop rules" in text


def test_str_counts_and_notice() -> None:
    text = str(recommend(context="warm_up", equipment={"foam_roller"}))
    # The warm-up's short holds: the lowest pause of the source's 10-30 s (p15).
    assert "roll slowly, pausing 10 s on tight spots, each side |" in text
    assert "1 sets" not in text
    last = text.splitlines()[-2:]
    assert " ".join(last) == NOTICE  # the notice is not indented


def test_str_without_exclusions() -> None:
    routine = recommend(context="warm_up", equipment={"strap", "foam_roller"})
    assert "Left out" in str(routine)
    assert "Left out" not in str(routine.model_copy(update={"excluded": ()}))


def test_str_when_nothing_fits() -> None:
    text = str(recommend(context="warm_up", avoid_positions={"floor"}))
    assert "No step could be given" in text


class TestBadInput:
    @pytest.mark.parametrize(
        ("fields", "kind", "value", "suggestion"),
        [
            ({"context": "after_sittin"}, "context", "after_sittin", "after_sitting"),
            ({"context": "warm_up", "equipment": {"strapp"}}, "equipment", "strapp", "strap"),
            ({"context": "warm_up", "avoid_positions": {"flor"}}, "position", "flor", "floor"),
            ({"context": "warm_up", "red_flags": {"fevr"}}, "red flag", "fevr", "fever"),
            ({"context": "warm_up", "focus": {"glute"}}, "muscle", "glute", "glutes"),
            ({"context": "bedtime"}, "context", "bedtime", None),
        ],
    )
    def test_unknown_ids(
        self, fields: dict[str, object], kind: str, value: str, suggestion: str | None
    ) -> None:
        with pytest.raises(UnknownIdError) as info:
            recommend(**fields)
        err = info.value
        assert isinstance(err, ValueError)
        assert isinstance(err, SirecommendError)
        assert (err.kind, err.value, err.suggestion) == (kind, value, suggestion)
        assert err.choices == tuple(sorted(err.choices))
        assert err.choices
        assert repr(value) in str(err)
        if suggestion:
            assert f"did you mean {suggestion!r}" in str(err)

    @pytest.mark.parametrize(
        "fields",
        [
            {},
            {"context": 3},
            {"context": ""},
            {"context": "warm_up", "aggravated": "yes"},
            {"context": "warm_up", "equipment": "strap"},
            {"context": "warm_up", "pregnancy_trimester": 4},
            {"context": "warm_up", "pregnancy_trimester": True},
            {"context": "warm_up", "pregnancy_trimester": "2"},
            {"context": "warm_up", "minutes": 0},
            {"context": "warm_up", "minutes": -5},
            {"context": "warm_up", "minutes": float("nan")},
            {"context": "warm_up", "minutes": "10"},
            {"context": "warm_up", "colour": "red"},
        ],
    )
    def test_wrong_types_and_ranges(self, fields: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            recommend(**fields)

    def test_profile_and_fields_together(self) -> None:
        with pytest.raises(InvalidArgumentError, match="not both"):
            recommend(Profile(context="warm_up"), aggravated=True)

    def test_profile_of_the_wrong_kind(self) -> None:
        with pytest.raises(InvalidArgumentError, match="Profile or a mapping"):
            recommend("warm_up")  # type: ignore[arg-type]
        with pytest.raises(TypeError):  # also a TypeError, for callers that catch that
            recommend(42)  # type: ignore[arg-type]

    def test_knowledge_of_the_wrong_kind(self) -> None:
        with pytest.raises(InvalidArgumentError, match="KnowledgeBase"):
            recommend(context="warm_up", knowledge={"stretches": {}})  # type: ignore[arg-type]

    def test_profile_is_frozen(self) -> None:
        p = Profile(context="warm_up")
        with pytest.raises(ValidationError):
            p.aggravated = True  # type: ignore[misc]


def test_knowledge_is_never_mutated(kb: KnowledgeBase) -> None:
    before = (
        kb.digest,
        {k: v.model_dump_json() for k, v in kb.stretches.items()},
        kb.graph.number_of_nodes(),
        kb.graph.number_of_edges(),
    )
    for context in CONTEXTS:
        recommend(
            context=context, aggravated=True, equipment={"strap"}, minutes=5, focus={"glutes"}
        )
    after = (
        kb.digest,
        {k: v.model_dump_json() for k, v in kb.stretches.items()},
        kb.graph.number_of_nodes(),
        kb.graph.number_of_edges(),
    )
    assert before == after


def test_thread_safe() -> None:
    profiles = [Profile(context=c, aggravated=a) for c in CONTEXTS for a in (False, True)] * 8
    expected = [recommend(p).model_dump_json() for p in profiles]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda p: recommend(p).model_dump_json(), profiles))
    assert got == expected


def test_unsafe_routine_is_withheld(monkeypatch: pytest.MonkeyPatch) -> None:
    import sirecommend._recommend as rec

    real = rec._run

    def unsafe(kb: KnowledgeBase, profile: Profile) -> Routine:
        routine = real(kb, profile)
        step = routine.steps[0].model_copy(update={"equipment": "foam_roller"})
        return routine.model_copy(update={"steps": (step, *routine.steps[1:])})

    monkeypatch.setattr(rec, "_run", unsafe)
    with pytest.raises(SafetyError) as info:
        recommend(context="after_sitting")
    assert {v.rule for v in info.value.violations} >= {"equipment"}
    assert "unsafe routine withheld" in str(info.value)


def test_audit_passes_on_real_routines(kb: KnowledgeBase) -> None:
    p = Profile(context="after_sitting", red_flags={"numbness"})
    assert audit(recommend(p), p, kb) == []


class TestAuditHasNoMemory:
    """The audit checks every step on every call: a changed step never passes unchecked."""

    def test_a_changed_copy_is_checked_afresh(self, kb: KnowledgeBase) -> None:
        p = Profile(context="after_sitting")
        routine = recommend(p)
        assert audit(routine, p, kb) == []
        bad = routine.steps[0].model_copy(update={"movements": ()})
        broken = routine.model_copy(update={"steps": (bad, *routine.steps[1:])})
        assert {v.rule for v in audit(broken, p, kb)} == {"movements"}
        assert {v.rule for v in audit(broken, p, kb)} == {"movements"}  # and again
