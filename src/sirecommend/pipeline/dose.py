"""Dose: hold, sets and range of motion within the source's range.

The default dose is documented in docs/decisions.md: the hold is the middle of
the source's range, rounded down to 5 s (45 s of 30-60 s; 20 s of 10-30 s for
foam rolling), and the sets are the lowest of its range (2 of 2-3), at full range.
A context may dose more gently (``Context.dose``, docs/decisions.md "Per-context
defaults"): after activity and in the cool-down the lowest of the range at reduced
range (p25), in the warm-up the lowest at full range. When the person is aggravated,
every step is at reduced range and the lowest dose of the range (30 s, 2 sets; 10 s
for foam rolling), whatever the context. Every level is compiled at load per context
(:attr:`~sirecommend._compile.Slot.doses`); a call picks one.

With a history (:class:`~sirecommend.pipeline._types.History`), each step's dose is
its rung on the stretch's dose ladder (:mod:`sirecommend.progression`), with a reason
citing the progression rule, but never above a context's gentle level: the ladder is
capped at the highest rung no harder than it (no longer hold, no more sets, no fuller
range). When the person is aggravated today, the aggravation rule wins: the lowest
rung, at reduced range, whatever the history says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sirecommend._compile import Dose, step_seconds
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Dosed, History, Pick
from sirecommend.progression import Movement, Rung, StretchProgress

__all__ = ["dose"]

_Level = tuple[int, int, Literal["full", "reduced"]]


def dose(
    profile: Profile, picks: Iterable[Pick], history: History | None = None
) -> tuple[Dosed, ...]:
    """Give every pick its dose: the lowest at reduced range when aggravated, else the
    context's level, or with a ``history`` its rung on the dose ladder (the lowest when
    aggravated; never above the context's gentle level)."""
    level = 1 if profile.aggravated else 0
    return tuple(_dosed(pick, level, history) for pick in picks)


def _dosed(pick: Pick, level: int, history: History | None) -> Dosed:
    """``pick`` dosed, and its fallbacks dosed alike."""
    if history is None:
        dosed = Dosed(pick, _doses(pick)[level])
    else:
        dosed = _from_history(pick, history.steps[pick.verdict.stretch.id], level)
    if pick.fallbacks:
        dosed = dosed._replace(fallbacks=tuple(_dosed(f, level, history) for f in pick.fallbacks))
    return dosed


def _doses(pick: Pick) -> tuple[Dose, Dose]:
    return pick.candidate.slot.doses[pick.verdict.stretch.id]


def _top(usual: Dose, lowest: Dose) -> _Level:
    """The highest rung of a ladder no harder than a context's gentle level ``usual``:
    that level itself at full range (every lowest-hold, fewest-sets dose at full range is
    a rung), else the lowest rung (the lowest hold and sets at reduced range)."""
    top = usual if usual.range_of_motion == "full" else lowest
    return top.hold_seconds, top.sets, top.range_of_motion


def _harder(rung: Rung, top: _Level) -> bool:
    """Whether ``rung`` is above ``top`` in hold, sets or range."""
    return (
        rung.hold_seconds > top[0]
        or rung.sets > top[1]
        or (rung.range_of_motion == "full" and top[2] == "reduced")
    )


def _from_history(pick: Pick, sp: StretchProgress, level: int) -> Dosed:
    st = pick.verdict.stretch
    usual, lowest = _doses(pick)
    rung, why = sp.rung, sp.reason
    movement: Movement = sp.progression
    hold, sets, motion = rung.hold_seconds, rung.sets, rung.range_of_motion
    side = " on each side" if st.per_side else ""
    cites = ", ".join(dict.fromkeys(sp.sources))
    # ("start": no session has given feedback on it, so no session put it anywhere)
    lead = (
        "No feedback is logged for it yet, so it starts"
        if movement == "start"
        else "Your logged sessions put it"
    )
    reasons = [
        f"{lead} on rung {sp.index + 1} of {sp.rungs} of its dose ladder, {rung}{side}, "
        f"within the source's range ({movement}: {why}; rule {sp.rule}: {cites})."
    ]
    if level:  # aggravated today: the aggravation rule comes before the progression
        hold, sets, motion = lowest.hold_seconds, lowest.sets, lowest.range_of_motion
        reasons.append(
            f"Aggravated today: {hold} s x {sets}{side} at reduced range, the lowest rung, "
            "whatever the sessions say (the aggravation rule comes first)."
        )
        if sp.index > 0 and movement != "start":  # (no feedback yet: it starts there)
            movement = "down"
    elif usual.ceiling and _harder(rung, top := _top(usual, lowest)):
        # The context's gentle level caps the ladder: at most its highest rung no harder.
        hold, sets, motion = top
        reasons.append(
            f"Kept at {hold} s x {sets}{side}"
            + (", reduced range" if motion == "reduced" else "")
            + f", no higher than this context's gentle level. {usual.reasons[-1]}"
        )
        if movement in ("up", "down"):  # from above the cap to above it: the same dose
            movement = "same"
    elif usual.ceiling and movement == "down" and (hold, sets, motion) == _top(usual, lowest):
        movement = "same"  # down from above the cap, to the cap: the dose given is the same
    elif motion == "reduced":
        reasons.append("Reduced range of motion: the first rung of the ladder.")
    dosed = Dose(
        hold_seconds=hold,
        sets=sets,
        range_of_motion=motion,
        seconds=step_seconds(hold, sets, st.per_side),
        reasons=tuple(reasons),
    )
    return Dosed(pick, dosed, movement)
