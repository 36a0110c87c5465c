"""Feedback models and the progression engine (issue 13): rules, bounds and properties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from sirecommend import (
    InvalidArgumentError,
    KnowledgeBase,
    KnowledgeError,
    UnknownIdError,
    load_knowledge,
)
from sirecommend._compile import default_dose
from sirecommend._feedback import Feedback, Session, check_session
from sirecommend._loader import knowledge_from_packs
from sirecommend._models import PackFile
from sirecommend.progression import Progression, band_of, ladder, model_of, progress

KB = load_knowledge()
MODEL = model_of(KB)
CTX = "after_sitting"
HAM = "hamstring_supine"
DAY0 = dt.date(2026, 1, 1)


def fb(sid: str = HAM, pain: int = 1, **kw: object) -> Feedback:
    return Feedback(stretch_id=sid, sets_done=2, pain_during=pain, **kw)  # type: ignore[arg-type]


def day(n: int, *feedback: Feedback, ctx: str = CTX, flags: Sequence[str] = ()) -> Session:
    return Session(
        date=DAY0 + dt.timedelta(days=n),
        context=ctx,
        feedback=feedback,
        red_flags=frozenset(flags),
    )


class TestModels:
    def test_future_date_is_an_error(self) -> None:
        with pytest.raises(ValidationError, match="future"):
            Session(date=dt.date.today() + dt.timedelta(days=1), context=CTX)

    def test_today_is_fine(self) -> None:
        assert Session(date=dt.date.today(), context=CTX).feedback == ()

    @pytest.mark.parametrize(
        "fields",
        [
            {"pain_during": -1},
            {"pain_during": 11},
            {"pain_during": "3"},
            {"pain_during": True},
            {"pain_after": 11},
            {"next_morning": "fine"},
            {"sets_done": -1},
            {"colour": "red"},
        ],
    )
    def test_bad_feedback(self, fields: dict[str, object]) -> None:
        base: dict[str, object] = {"stretch_id": HAM, "sets_done": 2, "pain_during": 1}
        with pytest.raises(ValidationError):
            Feedback.model_validate({**base, **fields})

    def test_string_date_is_not_accepted_from_python(self) -> None:
        with pytest.raises(ValidationError):
            Session.model_validate({"date": "2026-01-01", "context": CTX})

    def test_json_round_trip(self) -> None:
        s = day(1, fb(pain=2, pain_after=1, next_morning="same", note="ok"), flags=["fever"])
        assert Session.model_validate_json(s.model_dump_json()) == s
        assert '"red_flags":["fever"]' in s.model_dump_json()

    def test_repeated_stretch_is_an_error(self) -> None:
        with pytest.raises(ValidationError, match="repeats stretch hamstring_supine"):
            day(1, fb(), fb())

    def test_frozen(self) -> None:
        with pytest.raises(ValidationError):
            fb().pain_during = 3  # type: ignore[misc]

    def test_check_session_names_the_unknown_id(self) -> None:
        with pytest.raises(UnknownIdError) as err:
            check_session(day(1, ctx="after_sittin"), KB)
        assert (err.value.kind, err.value.suggestion) == ("context", "after_sitting")
        with pytest.raises(UnknownIdError) as err:
            check_session(day(1, fb("hamstring")), KB)
        assert err.value.kind == "stretch"
        assert HAM in err.value.choices
        with pytest.raises(UnknownIdError) as err:
            check_session(day(1, flags=["fevr"]), KB)
        assert (err.value.kind, err.value.suggestion) == ("red flag", "fever")
        check_session(day(1, fb(), flags=["fever"]), KB)  # valid: no error


class TestLadder:
    def test_stretch_ladder(self) -> None:
        rungs = ladder(KB.stretches[HAM].dosage, MODEL)
        got = [(r.hold_seconds, r.sets, r.range_of_motion) for r in rungs]
        assert got == [
            (30, 2, "reduced"),
            (30, 2, "full"),
            (45, 2, "full"),
            (60, 2, "full"),
            (60, 3, "full"),
        ]

    def test_foam_rolling_ladder(self) -> None:
        rungs = ladder(KB.stretches["foam_roll_glutes"].dosage, MODEL)
        assert [str(r) for r in rungs] == [
            "10 s x 1, reduced range",
            "10 s x 1",
            "20 s x 1",
            "30 s x 1",
        ]

    def test_equal_holds_are_not_repeated(self) -> None:
        dosage = KB.stretches[HAM].dosage.model_copy(update={"hold_seconds": (30, 30)})
        assert [str(r) for r in ladder(dosage, MODEL)] == [
            "30 s x 2, reduced range",
            "30 s x 2",
            "30 s x 3",
        ]

    def test_every_ladder_stays_within_the_source_dose(self) -> None:
        for s in KB.stretches.values():
            for r in ladder(s.dosage, MODEL):
                assert s.dosage.hold_seconds[0] <= r.hold_seconds <= s.dosage.hold_seconds[1]
                assert s.dosage.sets[0] <= r.sets <= s.dosage.sets[1]


class TestBands:
    @pytest.mark.parametrize(
        ("during", "after", "morning", "band"),
        [
            (0, None, None, "green"),
            (3, 3, "better", "green"),
            (3, None, "same", "green"),
            (4, None, None, "amber"),
            (2, 5, None, "amber"),
            (6, None, None, "red"),
            (1, 6, None, "red"),
            (1, 1, "worse", "red"),
        ],
    )
    def test_band(self, during: int, after: int | None, morning: str | None, band: str) -> None:
        f = Feedback.model_validate(
            {
                "stretch_id": HAM,
                "sets_done": 2,
                "pain_during": during,
                "pain_after": after,
                "next_morning": morning,
            }
        )
        assert band_of(f, MODEL) == band


def start_index(sid: str = HAM) -> int:
    hold, sets = default_dose(KB.stretches[sid].dosage.hold_seconds, KB.stretches[sid].dosage.sets)
    rungs = ladder(KB.stretches[sid].dosage, MODEL)
    return [(r.hold_seconds, r.sets, r.range_of_motion) for r in rungs].index((hold, sets, "full"))


class TestRules:
    def test_no_history_is_the_usual_dose(self) -> None:
        p = progress(KB, CTX)
        assert [s.stretch_id for s in p.steps] == list(KB.order(CTX))
        for s in p.steps:
            dosage = KB.stretches[s.stretch_id].dosage
            assert (s.rung.hold_seconds, s.rung.sets) == default_dose(
                dosage.hold_seconds, dosage.sets
            )
            assert (s.progression, s.rung.range_of_motion) == ("start", "full")
            assert s.sources == MODEL.ladder_cites
        assert (p.paused, p.hold, p.hold_reason, p.sessions) == ((), False, None, 0)

    def test_aggravated_start_is_the_lowest_rung(self) -> None:
        s = progress(KB, CTX, aggravated=True).step(HAM)
        assert (s.index, s.rung.range_of_motion, s.rung.hold_seconds) == (0, "reduced", 30)

    def test_two_greens_one_rung_up(self) -> None:
        one = progress(KB, CTX, [day(1, fb(pain=2))]).step(HAM)
        assert (one.progression, one.index) == ("same", start_index())
        two = progress(KB, CTX, [day(1, fb(pain=2)), day(2, fb(pain=3))]).step(HAM)
        assert (two.progression, two.index) == ("up", start_index() + 1)
        assert "2 green sessions in a row" in two.reason
        assert set(MODEL.cites) <= set(two.sources)
        other = progress(KB, CTX, [day(1, fb(pain=2)), day(2, fb(pain=3))]).step(
            "lower_trunk_rotation"
        )
        assert other.progression == "start"  # feedback on one stretch moves only it

    def test_amber_breaks_the_run(self) -> None:
        s = progress(KB, CTX, [day(1, fb(pain=1)), day(2, fb(pain=4)), day(3, fb(pain=1))])
        assert (s.step(HAM).progression, s.step(HAM).index) == ("same", start_index())
        assert "amber" in progress(KB, CTX, [day(1, fb(pain=5))]).step(HAM).reason

    def test_top_of_the_ladder_stays(self) -> None:
        greens = [day(i, fb(pain=0)) for i in range(12)]
        s = progress(KB, CTX, greens).step(HAM)
        assert (s.index, s.rungs, s.progression) == (4, 5, "same")
        assert "top" in s.reason
        assert (s.rung.hold_seconds, s.rung.sets) == (60, 3)

    def test_red_one_rung_down_with_its_reason(self) -> None:
        s = progress(KB, CTX, [day(1, fb(pain=7))]).step(HAM)
        assert (s.progression, s.index) == ("down", start_index() - 1)
        assert s.reason.startswith("red session")

    def test_worse_next_morning_is_red(self) -> None:
        s = progress(KB, CTX, [day(1, fb(pain=1, next_morning="worse"))]).step(HAM)
        assert s.progression == "down"

    def test_red_on_the_lowest_rung_rests_for_one_session(self) -> None:
        red = day(1, fb(pain=7))
        p = progress(KB, CTX, [red], aggravated=True)
        assert [x.stretch_id for x in p.paused] == [HAM]
        assert not p.paused[0].see_therapist
        assert HAM not in [s.stretch_id for s in p.steps]
        after = progress(KB, CTX, [red, day(2, fb("lower_trunk_rotation"))], aggravated=True)
        back = after.step(HAM)
        assert (back.index, back.progression) == (0, "down")
        assert "rested" in back.reason

    def test_doing_it_during_the_rest_counts(self) -> None:
        p = progress(KB, CTX, [day(1, fb(pain=7)), day(2, fb(pain=1))], aggravated=True)
        assert (p.step(HAM).index, p.step(HAM).progression) == (0, "same")

    def test_two_reds_pause_and_advise_a_therapist(self) -> None:
        p = progress(KB, CTX, [day(1, fb(pain=7)), day(2, fb(pain=1)), day(3, fb(pain=9))])
        paused = {x.stretch_id: x for x in p.paused}
        assert paused[HAM].see_therapist
        assert "physical therapist" in paused[HAM].reason
        assert set(MODEL.pause_cites) <= set(paused[HAM].sources)
        # It stays out, whatever comes after.
        later = progress(
            KB,
            CTX,
            [day(1, fb(pain=7)), day(3, fb(pain=9)), day(4, fb(pain=0)), day(5, fb(pain=0))],
        )
        assert HAM in {x.stretch_id for x in later.paused}

    def test_high_pain_anywhere_holds_everything(self) -> None:
        trunk = "lower_trunk_rotation"
        hist = [day(1, fb(pain=0), fb(trunk, 0)), day(2, fb(pain=0), fb(trunk, 6))]
        p = progress(KB, CTX, hist)
        assert p.hold
        assert "6/10" in (p.hold_reason or "")
        ham = p.step(HAM)
        assert (ham.progression, ham.index) == ("same", start_index())
        assert ham.reason == p.hold_reason

    def test_worse_morning_on_every_stretch_holds(self) -> None:
        trunk = "lower_trunk_rotation"
        hist = [day(1, fb(next_morning="worse"), fb(trunk, next_morning="worse"))]
        p = progress(KB, CTX, hist)
        assert p.hold
        assert "worse after every stretch" in (p.hold_reason or "")
        mixed = [day(1, fb(next_morning="worse"), fb(trunk, next_morning="same"))]
        assert not progress(KB, CTX, mixed).hold

    def test_only_the_latest_session_sets_hold(self) -> None:
        assert not progress(KB, CTX, [day(1, fb(pain=8)), day(2, fb(pain=1))]).hold

    def test_red_flags_from_any_session(self) -> None:
        p = progress(KB, CTX, [day(1, flags=["fever"]), day(2, fb())])
        assert p.red_flags == frozenset({"fever"})
        assert '"red_flags":["fever"]' in p.model_dump_json()

    def test_bad_arguments(self) -> None:
        with pytest.raises(InvalidArgumentError):
            progress("kb", CTX)  # type: ignore[arg-type]
        for history in (None, "sessions", 5):
            with pytest.raises(InvalidArgumentError, match="iterable of Session"):
                progress(KB, CTX, history)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="Session"):
            progress(KB, CTX, [{"date": "2026-01-01"}])  # type: ignore[list-item]
        with pytest.raises(UnknownIdError):
            progress(KB, "after_sittin")
        with pytest.raises(UnknownIdError):
            progress(KB, CTX, [day(1, fb("nope"))])
        with pytest.raises(UnknownIdError):
            progress(KB, CTX).step("nope")

    def test_knowledge_without_progression(self) -> None:
        with pytest.raises(KnowledgeError, match="no progression"):
            progress(knowledge_from_packs(PackFile()), CTX)


class TestPacks:
    def test_a_pack_overrides_the_model(self, tmp_path: Path) -> None:
        (tmp_path / "p.toml").write_text(
            '[[progression]]\nid = "traffic_light"\noverride = true\nname = "Strict"\n'
            "greens_to_step_up = 3\nreds_to_pause = 1\nhold_pain = 5\n"
            'cites = ["traffic-light-physio"]\nladder_cites = ["si-stretch-guide#p10"]\n'
            'pause_cites = ["si-stretch-guide#p16"]\n'
            "pain_during = { green_max = 2, amber_max = 4 }\n"
            "pain_after = { green_max = 2, amber_max = 4 }\n"
            'next_morning = { better = "green", same = "amber", worse = "red" }\n',
            "utf-8",
        )
        kb = load_knowledge(tmp_path)
        assert model_of(kb).greens_to_step_up == 3
        assert progress(kb, CTX, [day(1, fb(pain=1)), day(2, fb(pain=1))]).step(HAM).index == (
            start_index()
        )
        assert progress(kb, CTX, [day(1, fb(pain=5))]).paused[0].see_therapist

    def test_a_second_model_is_an_error(self, tmp_path: Path) -> None:
        text = (KB_DIR / "progression.toml").read_text("utf-8")
        (tmp_path / "p.toml").write_text(text.replace('"traffic_light"', '"other"'), "utf-8")
        with pytest.raises(KnowledgeError, match="only one progression model"):
            load_knowledge(tmp_path)

    def test_bad_citation_and_bands(self, tmp_path: Path) -> None:
        text = (KB_DIR / "progression.toml").read_text("utf-8")
        bad = text.replace('"traffic_light"', '"traffic_light"\noverride = true', 1).replace(
            '"si-stretch-guide#p16"', '"si-stretch-guide#p99"'
        )
        (tmp_path / "p.toml").write_text(bad, "utf-8")
        with pytest.raises(KnowledgeError, match="pause_cites"):
            load_knowledge(tmp_path)
        with pytest.raises(ValidationError, match="exceeds amber_max"):
            PackFile.model_validate(
                {
                    "progression": [
                        {
                            **MODEL.model_dump(),
                            "pain_during": {"green_max": 5, "amber_max": 3},
                        }
                    ]
                }
            )


KB_DIR = Path(__file__).resolve().parents[1] / "knowledge"

# ---------------------------------------------------------------- properties

STRETCHES = KB.order(CTX)


@st.composite
def feedbacks(draw: st.DrawFn, sid: str) -> Feedback:
    return Feedback(
        stretch_id=sid,
        sets_done=draw(st.integers(0, 3)),
        pain_during=draw(st.integers(0, 10)),
        pain_after=draw(st.none() | st.integers(0, 10)),
        next_morning=draw(st.none() | st.sampled_from(["better", "same", "worse"])),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[Session]:
    out = []
    for i in range(draw(st.integers(0, 6))):
        chosen = draw(st.lists(st.sampled_from(STRETCHES[:3]), unique=True, max_size=3))
        out.append(
            Session(
                date=DAY0 + dt.timedelta(days=draw(st.integers(0, 30))),
                context=CTX,
                feedback=tuple(draw(feedbacks(s)) for s in chosen),
                red_flags=frozenset(draw(st.sets(st.sampled_from(["fever", "night_pain"])))),
            )
        )
        del i
    return out


def level(p: Progression, sid: str) -> int:
    """A stretch's dose as a number: -1 when paused, else its rung."""
    for s in p.steps:
        if s.stretch_id == sid:
            return s.index
    return -1


def worse(f: Feedback, extra: int) -> Feedback:
    return f.model_copy(
        update={
            "pain_during": min(10, f.pain_during + extra),
            "pain_after": None if f.pain_after is None else min(10, f.pain_after + extra),
        }
    )


# Module-level, not methods: mutmut runs pytest twice in one process, and hypothesis
# refuses a test called from two instances of a class (differing_executors).
@given(histories(), st.data())
def test_more_pain_never_gives_more_dose(history: list[Session], data: st.DataObject) -> None:
    if not history:
        return
    i = data.draw(st.integers(0, len(history) - 1))
    extra = data.draw(st.integers(1, 10))
    hurt = list(history)
    hurt[i] = hurt[i].model_copy(
        update={"feedback": tuple(worse(f, extra) for f in hurt[i].feedback)}
    )
    a, b = progress(KB, CTX, history), progress(KB, CTX, hurt)
    for sid in STRETCHES:
        assert level(b, sid) <= level(a, sid), sid


@given(histories(), st.booleans())
def test_doses_stay_within_the_source(history: list[Session], aggravated: bool) -> None:
    p = progress(KB, CTX, history, aggravated=aggravated)
    assert {s.stretch_id for s in p.steps} | {x.stretch_id for x in p.paused} == set(STRETCHES)
    for s in p.steps:
        d = KB.stretches[s.stretch_id].dosage
        assert d.hold_seconds[0] <= s.rung.hold_seconds <= d.hold_seconds[1]
        assert d.sets[0] <= s.rung.sets <= d.sets[1]
        assert 0 <= s.index < s.rungs


@given(histories(), st.integers(0, 2))
def test_two_reds_pause(history: list[Session], which: int) -> None:
    sid = STRETCHES[which]
    reds = [day(40 + k, fb(sid, pain=8)) for k in range(2)]
    p = progress(KB, CTX, [*history, *reds])
    assert sid in {x.stretch_id for x in p.paused if x.see_therapist}


@given(histories(), st.randoms(use_true_random=False))
def test_same_history_same_result_in_any_order(history: list[Session], rnd: object) -> None:
    shuffled = list(history)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = progress(KB, CTX, history).model_dump_json()
    assert progress(KB, CTX, history).model_dump_json() == a
    assert progress(KB, CTX, shuffled).model_dump_json() == a


@given(histories())
def test_every_red_flag_is_reported(history: list[Session]) -> None:
    p = progress(KB, CTX, history)
    assert p.red_flags == {f for s in history for f in s.red_flags}


def test_nothing_in_the_knowledge_changes(kb: KnowledgeBase) -> None:
    before = kb.digest
    progress(kb, CTX, [day(1, fb(pain=9)), day(2, fb(pain=9))])
    assert kb.digest == before
    assert load_knowledge().digest == before


def test_a_step_up_waits_while_the_latest_session_holds() -> None:
    """Stepped up after two greens, then a session of another stretch with pain 8: the
    step up waits (same dose, the hold as reason); it comes back once nothing holds."""
    two = [day(1, fb(pain=1)), day(2, fb(pain=2))]
    hurt = day(3, fb("standing_side_bend", pain=8))
    held = progress(KB, CTX, [*two, hurt]).step(HAM)
    assert (held.progression, held.rung.hold_seconds) == ("same", 45)
    assert held.reason.startswith("pain of 8/10")
    calm = day(4, fb("standing_side_bend", pain=1))
    after = progress(KB, CTX, [*two, hurt, calm]).step(HAM)
    assert (after.progression, after.rung.hold_seconds) == ("up", 60)
