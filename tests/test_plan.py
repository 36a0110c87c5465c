"""The weekly plan and its iCalendar export."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest

from sirecommend import (
    InvalidArgumentError,
    Plan,
    Profile,
    UnknownIdError,
    load_knowledge,
    plan,
    recommend,
)
from sirecommend._plan import ACSM_MIN_DAYS, plan_digest, weekday_codes

MONDAY = dt.date(2026, 3, 2)
STAMP = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_daily_by_default_with_a_review_after_the_end() -> None:
    p = plan(Profile(context="after_sitting"), MONDAY)
    assert p.days_of_week == (1, 2, 3, 4, 5, 6, 7)
    assert [s.date for s in p.sessions] == [MONDAY + dt.timedelta(days=i) for i in range(28)]
    assert (p.end, p.review_on) == (MONDAY + dt.timedelta(days=27), MONDAY + dt.timedelta(28))
    assert not p.below_minimum
    assert all(s.time is None and not s.after_waking for s in p.sessions)
    routine = recommend(context="after_sitting")
    assert p.routine("after_sitting") == routine
    assert p.sessions[0].minutes == -(-routine.total_seconds // 60)


def test_chosen_days() -> None:
    p = plan({"context": "warm_up"}, MONDAY, weeks=2, days=[5, 1, 3, 3])
    assert p.days_of_week == (1, 3, 5)
    assert len(p.sessions) == 6
    assert {s.date.isoweekday() for s in p.sessions} == {1, 3, 5}
    assert not p.below_minimum
    assert p.notes == ()


def test_fewer_days_than_acsm_says_so() -> None:
    p = plan({"context": "warm_up"}, MONDAY, weeks=1, days=[2])
    assert ACSM_MIN_DAYS == 2
    assert p.below_minimum
    assert "ACSM" in p.notes[0]
    assert [s.date for s in p.sessions] == [MONDAY + dt.timedelta(days=1)]


def test_after_waking_at_the_chosen_time_with_a_note() -> None:
    p = plan(
        {"context": "after_sitting"},
        MONDAY,
        weeks=1,
        contexts=["after_sleep", "after_sitting"],
        wake_time=dt.time(6, 45),
    )
    assert len(p.sessions) == 14
    wake = [s for s in p.sessions if s.after_waking]
    assert len(wake) == 7
    assert all(s.context == "after_sleep" and s.time == dt.time(6, 45) for s in wake)
    assert any("lying down" in n for n in p.notes)
    assert [r.context for r in p.routines] == ["after_sleep", "after_sitting"]


def test_red_flags_plan_nothing_but_the_referral() -> None:
    p = plan({"context": "warm_up", "red_flags": {"fever"}}, MONDAY)
    assert p.sessions == ()
    assert p.routines[0].status == "referred"
    assert "warning sign" in p.notes[0]


def test_nothing_fits_is_said() -> None:
    p = plan({"context": "warm_up", "avoid_positions": {"floor", "standing"}}, MONDAY)
    assert p.sessions == ()
    assert "Nothing fits for warm_up" in p.notes[0]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (({"context": "warm_up"}, "2026-03-02"), {}),
        (({"context": "warm_up"}, dt.datetime(2026, 3, 2)), {}),
        (({"context": "warm_up"}, MONDAY, 0), {}),
        (({"context": "warm_up"}, MONDAY, 53), {}),
        (({"context": "warm_up"}, MONDAY, True), {}),
        (({"context": "warm_up"}, MONDAY), {"days": [0]}),
        (({"context": "warm_up"}, MONDAY), {"days": [8]}),
        (({"context": "warm_up"}, MONDAY), {"days": []}),
        (({"context": "warm_up"}, MONDAY), {"days": ["mon", 1]}),
        (({"context": "warm_up"}, MONDAY), {"days": [True]}),
        (({"context": "warm_up"}, MONDAY), {"wake_time": "07:00"}),
        (({"context": "warm_up"}, MONDAY), {"contexts": []}),
        ((5, MONDAY), {}),
    ],
)
def test_bad_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        plan(*args, **kwargs)


def test_unknown_ids() -> None:
    with pytest.raises(UnknownIdError):
        plan({"context": "warm_up"}, MONDAY, contexts=["warmup"])
    with pytest.raises(UnknownIdError):
        plan({"context": "warm_up"}, MONDAY).routine("after_sleep")


def test_knowledge_is_passed_on(tmp_path: Any) -> None:
    kb = load_knowledge()
    assert (
        plan({"context": "warm_up"}, MONDAY, knowledge=kb).routines[0].provenance.knowledge_digest
        == kb.digest
    )


def events(p: Plan, stamp: dt.datetime = STAMP) -> list[icalendar.Event]:
    cal = icalendar.Calendar.from_ical(p.to_ical(stamp=stamp))
    assert str(cal["VERSION"]) == "2.0"
    assert "sirecommend" in str(cal["PRODID"])
    return list(cal.walk("VEVENT"))


def test_ical_reads_back() -> None:
    p = plan(
        {"context": "after_sitting"},
        MONDAY,
        weeks=1,
        contexts=["after_sleep", "after_sitting"],
        wake_time=dt.time(7, 15),
    )
    found = events(p)
    assert len(found) == len(p.sessions) + 1
    uids = [str(e["UID"]) for e in found]
    assert len(set(uids)) == len(uids)
    wake = [e for e in found if "after sleep" in str(e["SUMMARY"])]
    first = wake[0].decoded("DTSTART")
    assert first == dt.datetime(2026, 3, 2, 7, 15)
    assert first.tzinfo is None  # local (floating) time: the person's own 07:15
    assert wake[0].decoded("DURATION") == dt.timedelta(minutes=p.sessions[0].minutes)
    assert "lying down" in str(wake[0]["DESCRIPTION"])
    sitting = next(e for e in found if "after sitting" in str(e["SUMMARY"]))
    assert sitting.decoded("DTSTART") == MONDAY  # all day
    assert "s x" in str(sitting["DESCRIPTION"])
    review = [e for e in found if "Review" in str(e["SUMMARY"])]
    assert review[0].decoded("DTSTART") == p.review_on


def test_ical_uids_are_stable_so_a_new_export_updates() -> None:
    p = plan({"context": "warm_up"}, MONDAY, weeks=2)
    later = plan({"context": "warm_up", "aggravated": True}, MONDAY, weeks=2)
    a = [str(e["UID"]) for e in events(p)]
    b = [str(e["UID"]) for e in events(later, STAMP + dt.timedelta(days=3))]
    assert a == b
    assert a[0] == "sirecommend-warm_up-20260302@sirecommend.invalid"
    assert p.to_ical(stamp=STAMP) == p.to_ical(stamp=STAMP)
    assert b"DTSTAMP" in p.to_ical()  # default stamp: now


def test_helpers() -> None:
    assert weekday_codes([1, 2, 7]) == ("MO", "TU", "SU")
    a = plan({"context": "warm_up"}, MONDAY)
    assert plan_digest(a) == plan_digest(plan({"context": "warm_up", "aggravated": True}, MONDAY))
    assert plan_digest(a) != plan_digest(plan({"context": "warm_up"}, MONDAY, weeks=2))
