"""recommend(..., history=[Session, ...]) (issue 13 item 3): the next routine, dosed from
its history, audited; and its properties over any profile and any history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sirecommend import (
    InvalidArgumentError,
    Profile,
    ReasonCode,
    Routine,
    UnknownIdError,
    audit,
    load_knowledge,
    recommend,
)
from sirecommend._feedback import Feedback, Session
from sirecommend.progression import ladder, model_of
from sirecommend.testing import profiles

KB = load_knowledge()
MODEL = model_of(KB)
CTX = "after_sitting"
#: Time for every step: a break from sitting is about 10 minutes by default.
LONG = 60.0
HAM = "hamstring_supine"
KNEEL = "hip_flexor_half_kneeling"
LUNGE = "hip_flexor_standing_lunge"
DAY0 = dt.date(2026, 1, 1)
EXAMPLES = max(10, settings.default.max_examples // 4)


def fb(sid: str = HAM, pain: int = 1, **kw: object) -> Feedback:
    return Feedback(stretch_id=sid, sets_done=2, pain_during=pain, **kw)  # type: ignore[arg-type]


def day(n: int, *feedback: Feedback, flags: Sequence[str] = ()) -> Session:
    return Session(
        date=DAY0 + dt.timedelta(days=n),
        context=CTX,
        feedback=feedback,
        red_flags=frozenset(flags),
    )


def steps(routine: Routine) -> dict[str, tuple[int, int, str, str | None]]:
    return {
        s.stretch_id: (s.hold_seconds, s.sets, s.range_of_motion, s.progression)
        for s in routine.steps
    }


def excluded(routine: Routine) -> dict[str, list[ReasonCode]]:
    return {e.stretch_id: [r.code for r in e.reasons] for e in routine.excluded}


# --- what a history does ----------------------------------------------------------------


def test_no_or_empty_history_changes_nothing() -> None:
    plain = recommend(context=CTX, minutes=LONG).model_dump_json()
    assert recommend(context=CTX, minutes=LONG, history=None).model_dump_json() == plain
    assert recommend(context=CTX, minutes=LONG, history=[]).model_dump_json() == plain
    assert recommend(context=CTX, minutes=LONG, history=iter(())).model_dump_json() == plain
    assert all(s.progression is None for s in recommend(context=CTX, minutes=LONG).steps)


def test_the_four_session_story() -> None:
    first = recommend(context=CTX, minutes=LONG, history=[day(0, fb(pain=9, pain_after=0))][:0])
    assert steps(first)[HAM] == (45, 2, "full", None)
    one = [day(1, fb(pain=1))]
    assert steps(recommend(context=CTX, minutes=LONG, history=one))[HAM] == (45, 2, "full", "same")
    two = [*one, day(2, fb(pain=2))]
    up = recommend(context=CTX, minutes=LONG, history=two)
    assert steps(up)[HAM] == (60, 2, "full", "up")
    three = [*two, day(3, fb(pain=7))]
    down = recommend(context=CTX, minutes=LONG, history=three)
    assert steps(down)[HAM] == (45, 2, "full", "down")
    (step,) = [s for s in down.steps if s.stretch_id == HAM]
    assert any("rule traffic_light" in r and "one rung down" in r for r in step.reasons)
    assert step.seconds == (45 * 2 * 2) + 15
    # Stretches with no feedback get the usual start, and say so.
    assert steps(down)["standing_side_bend"][3] == "start"


def test_the_history_is_validated() -> None:
    with pytest.raises(InvalidArgumentError, match="iterable of Session"):
        recommend(context=CTX, minutes=LONG, history=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="Session objects, not dict"):
        recommend(context=CTX, minutes=LONG, history=[{"date": "2026-01-01"}])  # type: ignore[list-item]
    with pytest.raises(UnknownIdError, match="hamstring"):
        recommend(context=CTX, minutes=LONG, history=[day(1, fb("hamstring"))])
    with pytest.raises(UnknownIdError, match="red flag"):
        recommend(context=CTX, minutes=LONG, history=[day(1, flags=["feverish"])])


def test_history_is_no_profile_field() -> None:
    assert "history" not in Profile.model_fields
    with pytest.raises(InvalidArgumentError, match="not both"):
        recommend(Profile(context=CTX), context=CTX)


def test_a_red_flag_in_a_session_refers() -> None:
    routine = recommend(context=CTX, history=[day(1, fb()), day(2, fb(), flags=["fever"])])
    assert routine.status == "referred"
    assert not routine.steps
    assert routine.referral is not None
    assert routine.referral.red_flags == ("fever",)
    assert routine.profile == Profile(context=CTX)  # the person's profile, as given
    both = recommend(context=CTX, red_flags={"saddle_numbness"}, history=[day(1, flags=["fever"])])
    assert both.referral is not None
    assert set(both.referral.red_flags) == {"fever", "saddle_numbness"}


def test_two_reds_pause_a_stretch_with_its_reason_and_sources() -> None:
    routine = recommend(context=CTX, minutes=LONG, history=[day(1, fb(pain=8)), day(2, fb(pain=6))])
    assert HAM not in steps(routine)
    (e,) = [e for e in routine.excluded if e.stretch_id == HAM]
    (reason,) = e.reasons
    assert reason.code is ReasonCode.PROGRESSION_PAUSED
    assert reason.rule == MODEL.id
    assert "physical therapist" in reason.message
    assert set(MODEL.pause_cites) <= set(reason.sources)


def test_a_paused_stretch_gives_way_to_its_alternative() -> None:
    assert KNEEL in steps(recommend(context=CTX, minutes=LONG))
    routine = recommend(
        context=CTX, minutes=LONG, history=[day(1, fb(KNEEL, 8)), day(2, fb(KNEEL, 9))]
    )
    got = steps(routine)
    assert KNEEL not in got
    assert got[LUNGE][3] == "start"
    assert excluded(routine)[KNEEL] == [ReasonCode.PROGRESSION_PAUSED, ReasonCode.REPLACED]
    (step,) = [s for s in routine.steps if s.stretch_id == LUNGE]
    assert step.replaces == KNEEL
    assert any(r.startswith("Stands in for") and "Paused" in r for r in step.reasons)


def test_aggravated_today_wins_over_the_history() -> None:
    two = [day(1, fb(pain=1)), day(2, fb(pain=2))]
    # Aggravated keeps the 4 gentlest steps; the focus keeps the hamstring stretch.
    routine = recommend(
        context=CTX, minutes=LONG, aggravated=True, history=two, focus={"hamstrings"}
    )
    got = steps(routine)
    assert got[HAM] == (30, 2, "reduced", "down")  # it would have gone up: it goes down
    assert got["lower_trunk_rotation"][2:] == ("reduced", "start")  # no feedback yet
    (step,) = [s for s in routine.steps if s.stretch_id == HAM]
    assert any(r.startswith("Aggravated today") for r in step.reasons)


def test_a_lower_rung_at_reduced_range_says_so() -> None:
    # The shipped rules pause a stretch at its second red, before it reaches the first
    # rung (45 s -> 30 s -> paused): put it there by hand, through the stages.
    rungs = ladder(KB.stretches[HAM].dosage, MODEL)
    assert rungs[0].range_of_motion == "reduced"
    from sirecommend.pipeline._types import History
    from sirecommend.progression import progress

    prog = progress(KB, CTX, [day(1, fb(pain=8))])
    (sp,) = [s for s in prog.steps if s.stretch_id == HAM]
    low = sp.model_copy(update={"rung": rungs[0], "index": 0})
    from types import MappingProxyType

    from sirecommend._recommend import _run

    by_id = {s.stretch_id: low if s.stretch_id == HAM else s for s in prog.steps}
    history = History(frozenset(), MappingProxyType({}), MappingProxyType(by_id))
    routine = _run(KB, Profile(context=CTX, focus={"hamstrings"}), history)
    (step,) = [s for s in routine.steps if s.stretch_id == HAM]
    assert step.range_of_motion == "reduced"
    assert step.hold_seconds == 30
    assert "Reduced range of motion: the first rung of the ladder." in step.reasons


def test_nothing_goes_up_while_the_latest_session_holds() -> None:
    two = [day(1, fb(pain=1)), day(2, fb(pain=2))]
    hurt = day(3, fb("standing_side_bend", pain=8))
    got = steps(recommend(context=CTX, minutes=LONG, history=[*two, hurt]))
    assert got[HAM] == (45, 2, "full", "same")


def test_a_time_budget_with_a_history_is_audited_clean() -> None:
    two = [day(1, fb(pain=1)), day(2, fb(pain=2)), day(3, fb(pain=0)), day(4, fb(pain=1))]
    routine = recommend(context=CTX, minutes=4.0, focus={"glutes"}, history=two)
    assert ReasonCode.TIME_BUDGET in excluded(routine)[HAM]


# --- properties ---------------------------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn, context: str, min_size: int = 0) -> list[Session]:
    """Sessions (any order, distinct dates) with feedback on the stretches of ``context``."""
    offered = list(KB.order(context))
    days = draw(st.lists(st.integers(0, 60), min_size=min_size, max_size=6, unique=True))
    out = []
    for n in days:
        chosen = draw(st.lists(st.sampled_from(offered), max_size=4, unique=True))
        feedback = [
            Feedback(
                stretch_id=sid,
                sets_done=draw(st.integers(0, 3)),
                pain_during=draw(st.integers(0, 10)),
                pain_after=draw(st.none() | st.integers(0, 10)),
                next_morning=draw(st.none() | st.sampled_from(["better", "same", "worse"])),
            )
            for sid in chosen
        ]
        flags = draw(st.sampled_from([frozenset(), frozenset()] * 4 + [frozenset({"fever"})]))
        out.append(
            Session(
                date=DAY0 + dt.timedelta(days=n),
                context=context,
                feedback=feedback,
                red_flags=flags,
            )
        )
    return out


@st.composite
def cases(draw: st.DrawFn, min_size: int = 0) -> tuple[Profile, list[Session]]:
    profile = draw(profiles(KB, red_flags=False))
    return profile, draw(histories(profile.context, min_size))


def _rank(step: tuple[int, int, str, str | None]) -> tuple[int, int, int]:
    hold, sets, motion, _ = step
    return (motion == "full", hold, sets)


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases(min_size=1), st.data())
def test_more_pain_never_gives_a_higher_dose(
    case: tuple[Profile, list[Session]], data: st.DataObject
) -> None:
    profile, history = case
    i = data.draw(st.integers(0, len(history) - 1))
    session = history[i]
    if not session.feedback:
        return
    j = data.draw(st.integers(0, len(session.feedback) - 1))
    f = session.feedback[j]
    worse_f = f.model_copy(update={"pain_during": data.draw(st.integers(f.pain_during, 10))})
    feedback = (*session.feedback[:j], worse_f, *session.feedback[j + 1 :])
    worse = [*history[:i], session.model_copy(update={"feedback": feedback}), *history[i + 1 :]]
    less, more = (steps(recommend(profile, history=h)) for h in (history, worse))
    for sid in less.keys() & more.keys():
        assert _rank(more[sid]) <= _rank(less[sid]), sid


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases())
def test_doses_stay_within_the_source_for_any_history(case: tuple[Profile, list[Session]]) -> None:
    profile, history = case
    routine = recommend(profile, history=history)
    for s in routine.steps:
        dosage = KB.stretches[s.stretch_id].dosage
        assert dosage.hold_seconds[0] <= s.hold_seconds <= dosage.hold_seconds[1]
        assert dosage.sets[0] <= s.sets <= dosage.sets[1]
        assert (s.progression is None) == (not history)
    assert audit(routine, profile, KB, history=history) == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases(min_size=1), st.data())
def test_a_red_flag_in_any_session_refers(
    case: tuple[Profile, list[Session]], data: st.DataObject
) -> None:
    profile, history = case
    i = data.draw(st.integers(0, len(history) - 1))
    flag = data.draw(st.sampled_from(sorted(KB.red_flags)))
    history[i] = history[i].model_copy(update={"red_flags": history[i].red_flags | {flag}})
    routine = recommend(profile, history=history)
    assert routine.status == "referred"
    assert not routine.steps
    assert routine.referral is not None
    assert flag in routine.referral.red_flags


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases(), st.data())
def test_two_reds_pause_a_stretch(case: tuple[Profile, list[Session]], data: st.DataObject) -> None:
    profile, history = case
    history = [s.model_copy(update={"red_flags": frozenset()}) for s in history]
    sid = data.draw(st.sampled_from(list(KB.order(profile.context))))
    taken = {s.date for s in history}
    free = [DAY0 + dt.timedelta(days=n) for n in range(61, 200)]
    dates = data.draw(
        st.lists(
            st.sampled_from([d for d in free if d not in taken]),
            min_size=2,
            max_size=2,
            unique=True,
        )
    )
    red = fb(sid, pain=data.draw(st.integers(MODEL.pain_during.amber_max + 1, 10)))
    history += [Session(date=d, context=profile.context, feedback=(red,)) for d in dates]
    routine = recommend(profile, history=history)
    assert sid not in {s.stretch_id for s in routine.steps}
    (e,) = [e for e in routine.excluded if e.stretch_id == sid]
    assert ReasonCode.PROGRESSION_PAUSED in [r.code for r in e.reasons]


@settings(max_examples=EXAMPLES, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_same_history_same_routine_in_any_order(
    case: tuple[Profile, list[Session]], rnd: object
) -> None:
    profile, history = case
    once = recommend(profile, history=history).model_dump_json()
    assert recommend(profile, history=list(history)).model_dump_json() == once
    shuffled = list(history)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert recommend(profile, history=tuple(shuffled)).model_dump_json() == once
