"""A weekly plan: dated sessions for a few weeks, a review date, and an iCalendar export.

:func:`plan` asks :func:`sirecommend.recommend` (through its public signature only) for
the routine of each context, then lays the sessions out on the chosen days of the week
(daily by default: ACSM calls daily stretching the most effective, and 2-3 days a week
the least). A plan on fewer than 2 days a week says so in ``notes``. A routine that
refers the person (red flags) gives a plan with no sessions, only the referral.

>>> import datetime as dt
>>> from sirecommend import plan
>>> p = plan({"context": "after_sleep"}, start=dt.date(2026, 3, 2), weeks=1)
>>> len(p.sessions), p.sessions[0].after_waking, p.review_on.isoformat()
(7, True, '2026-03-09')
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sirecommend._kb import KnowledgeBase
from sirecommend._recommend import recommend
from sirecommend._routine import Profile, Routine
from sirecommend.errors import InvalidArgumentError

__all__ = [
    "ACSM_MIN_DAYS",
    "AFTER_WAKING",
    "Plan",
    "PlannedSession",
    "plan",
]

#: ACSM (11th ed.): flexibility exercise at least 2-3 days a week.
ACSM_MIN_DAYS = 2
#: Contexts done on waking: planned at the person's chosen wake-up time.
AFTER_WAKING = frozenset({"after_sleep"})
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_WAKE_NOTE = (
    "Planned for when you wake, at the time you chose: the routine starts with what you "
    "can do lying down and works up to standing. Go gently and slowly: stiffness is "
    "usual first thing (article, paragraphs 7 and 10)."
)
_ICAL_DOMAIN = "sirecommend.invalid"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class PlannedSession(_Frozen):
    """One dated session of a plan; ``time`` is a local (floating) time, or None: any time."""

    date: dt.date
    context: str
    time: dt.time | None = None
    after_waking: bool = False
    minutes: int = Field(description="The routine's estimated length, rounded up.")


class Plan(_Frozen):
    """Dated sessions by context, the routine of each context, and when to review.

    ``days_of_week`` are ISO weekdays (1 = Monday). ``review_on`` is the day after the
    last planned day: check how it went (p26), or see a physical therapist for a plan
    of your own (p16). ``notes`` say what the person should know (below the ACSM
    minimum, after-waking sessions, a referral).
    """

    start: dt.date
    end: dt.date
    weeks: int
    days_of_week: tuple[int, ...]
    wake_time: dt.time
    sessions: tuple[PlannedSession, ...]
    routines: tuple[Routine, ...]
    review_on: dt.date
    below_minimum: bool
    notes: tuple[str, ...]

    def routine(self, context: str) -> Routine:
        """The routine planned for ``context``.

        >>> import datetime as dt
        >>> from sirecommend import plan
        >>> plan({"context": "warm_up"}, start=dt.date(2026, 3, 2)).routine("warm_up").status
        'ok'
        """
        for r in self.routines:
            if r.context == context:
                return r
        from sirecommend.errors import UnknownIdError

        raise UnknownIdError("context", context, [r.context for r in self.routines])

    def uid(self, session: PlannedSession) -> str:
        """The stable iCalendar UID of a session: the same day and context, the same UID,
        so importing a new export updates the event instead of adding a second one."""
        return f"sirecommend-{session.context}-{session.date:%Y%m%d}@{_ICAL_DOMAIN}"

    def to_ical(self, *, stamp: dt.datetime | None = None) -> bytes:
        """The plan as an RFC 5545 calendar (needs the ``icalendar`` package:
        ``pip install 'sirecommend[calendar]'``).

        Each session is an event with a stable UID (see :meth:`uid`): after-waking ones
        at the chosen local time with a note, the others all day. The review is one
        more all-day event. ``stamp`` is the DTSTAMP (default: now, in UTC).

        >>> import datetime as dt, icalendar
        >>> from sirecommend import plan
        >>> p = plan({"context": "after_sleep"}, start=dt.date(2026, 3, 2), weeks=1)
        >>> cal = icalendar.Calendar.from_ical(p.to_ical())
        >>> [str(e["UID"]) for e in cal.walk("VEVENT")][:1]
        ['sirecommend-after_sleep-20260302@sirecommend.invalid']

        Raises
        ------
        InvalidArgumentError
            ``icalendar`` is not installed.
        """
        try:
            import icalendar
        except ImportError:  # pragma: no cover - the test extra installs it
            raise InvalidArgumentError(
                "Plan.to_ical() needs icalendar: pip install 'sirecommend[calendar]'"
            ) from None
        when = stamp or dt.datetime.now(dt.UTC)
        cal = icalendar.Calendar()
        cal.add("prodid", "-//sirecommend//stretching plan//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", "SI joint stretches")
        for s in self.sessions:
            event = icalendar.Event()
            event.add("uid", self.uid(s))
            event.add("dtstamp", when)
            event.add("summary", f"SI joint stretches: {s.context.replace('_', ' ')}")
            if s.time is not None:
                event.add("dtstart", dt.datetime.combine(s.date, s.time))
                event.add("duration", dt.timedelta(minutes=s.minutes))
            else:
                event.add("dtstart", s.date)
                event.add("dtend", s.date + dt.timedelta(days=1))
                event.add("transp", "TRANSPARENT")
            event.add("description", self._describe(s))
            cal.add_component(event)
        review = icalendar.Event()
        review.add("uid", f"sirecommend-review-{self.start:%Y%m%d}@{_ICAL_DOMAIN}")
        review.add("dtstamp", when)
        review.add("summary", "Review your SI joint stretching plan")
        review.add("dtstart", self.review_on)
        review.add("dtend", self.review_on + dt.timedelta(days=1))
        review.add(
            "description",
            "Look back at how your symptoms answered the stretches and adjust how often "
            "and how far you stretch; a physical therapist can give you a plan of your own.",
        )
        cal.add_component(review)
        return bytes(cal.to_ical())

    def _describe(self, s: PlannedSession) -> str:
        routine = self.routine(s.context)
        lines = [
            f"{i}. {step.name}: {step.hold_seconds} s x {step.sets}"
            + (" each side" if step.per_side else "")
            + (", reduced range" if step.range_of_motion == "reduced" else "")
            for i, step in enumerate(routine.steps, 1)
        ]
        if s.after_waking:
            lines.insert(0, _WAKE_NOTE)
        return "\n".join([*lines, "", routine.notice])


def _profile_of(profile: Profile | Mapping[str, Any]) -> Profile:
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, Mapping):
        return Profile.model_validate(dict(profile))
    raise InvalidArgumentError(
        f"profile must be a Profile or a mapping, not {type(profile).__name__}"
    )


def plan(
    profile: Profile | Mapping[str, Any],
    start: dt.date,
    weeks: int = 4,
    *,
    days: Iterable[int] | None = None,
    contexts: Sequence[str] | None = None,
    wake_time: dt.time = dt.time(7, 30),
    knowledge: KnowledgeBase | None = None,
) -> Plan:
    """A dated plan of sessions for ``weeks`` weeks from ``start``.

    Parameters
    ----------
    profile : Profile or mapping
        Who it is for; its ``context`` is planned unless ``contexts`` is given.
    start : datetime.date
        The first day.
    weeks : int
        How many weeks (1-52).
    days : iterable of int, optional
        ISO weekdays to stretch on (1 = Monday ... 7 = Sunday); default every day.
    contexts : sequence of str, optional
        The contexts to plan each of those days (default: the profile's).
    wake_time : datetime.time
        The local time after-waking sessions are planned for.
    knowledge : KnowledgeBase, optional
        Passed on to :func:`sirecommend.recommend`.

    Raises
    ------
    InvalidArgumentError
        A bad ``start``, ``weeks``, ``days``, ``wake_time`` or profile.
    UnknownIdError, pydantic.ValidationError
        From :func:`sirecommend.recommend`, for a bad profile.
    """
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InvalidArgumentError(f"start must be a datetime.date, not {type(start).__name__}")
    if not isinstance(weeks, int) or isinstance(weeks, bool) or not 1 <= weeks <= 52:
        raise InvalidArgumentError(f"weeks must be a whole number from 1 to 52, not {weeks!r}")
    if not isinstance(wake_time, dt.time):
        raise InvalidArgumentError("wake_time must be a datetime.time")
    given = list(range(1, 8) if days is None else days)
    if not given or not all(
        isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in given
    ):
        raise InvalidArgumentError(
            f"days must be ISO weekdays 1 (Monday) to 7 (Sunday), at least one: {given!r}"
        )
    chosen = tuple(sorted(set(given)))
    base = _profile_of(profile)
    wanted = tuple(dict.fromkeys(contexts if contexts is not None else (base.context,)))
    if not wanted:
        raise InvalidArgumentError("contexts must name at least one context")
    routines = tuple(
        recommend(base.model_copy(update={"context": c}), knowledge=knowledge) for c in wanted
    )
    notes: list[str] = []
    below = len(chosen) < ACSM_MIN_DAYS
    if below:
        notes.append(
            f"{len(chosen)} day a week is fewer than the 2-3 days a week ACSM names as the "
            "least for flexibility; daily works best."
        )
    referred = [r for r in routines if r.status == "referred"]
    if referred:
        notes.append(
            "No sessions are planned: a warning sign was reported. "
            + (referred[0].referral.message if referred[0].referral else "")
        )
    empty = [r.context for r in routines if r.status == "nothing_fits"]
    if empty:
        notes.append(
            f"Nothing fits for {', '.join(empty)} with this profile: no sessions planned "
            "for it (the routine's exclusions say why)."
        )
    if any(c in AFTER_WAKING for c in wanted) and not referred:
        notes.append(_WAKE_NOTE)
    sessions: list[PlannedSession] = []
    end = start + dt.timedelta(weeks=weeks, days=-1)
    if not referred:
        day = start
        while day <= end:
            if day.isoweekday() in chosen:
                for r in routines:
                    if r.status != "ok":
                        continue
                    wake = r.context in AFTER_WAKING
                    sessions.append(
                        PlannedSession(
                            date=day,
                            context=r.context,
                            time=wake_time if wake else None,
                            after_waking=wake,
                            minutes=-(-r.total_seconds // 60),
                        )
                    )
            day += dt.timedelta(days=1)
    return Plan(
        start=start,
        end=end,
        weeks=weeks,
        days_of_week=chosen,
        wake_time=wake_time,
        sessions=tuple(sessions),
        routines=routines,
        review_on=end + dt.timedelta(days=1),
        below_minimum=below,
        notes=tuple(notes),
    )


def weekday_codes(days: Iterable[int]) -> tuple[str, ...]:
    """iCalendar/FHIR weekday codes (``MO`` ...) of ISO weekdays.

    >>> weekday_codes([1, 3, 7])
    ('MO', 'WE', 'SU')
    """
    return tuple(_WEEKDAYS[d - 1] for d in days)


def plan_digest(p: Plan) -> str:
    """A short stable id of a plan's schedule (start, days, contexts), for FHIR ids."""
    key = f"{p.start}|{p.weeks}|{p.days_of_week}|{[r.context for r in p.routines]}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]
