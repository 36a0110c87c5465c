"""Dose: hold, sets and range of motion within the source's range.

The default dose is documented in docs/decisions.md: the hold is the middle of
the source's range, rounded down to 5 s (45 s of 30-60 s; 20 s of 10-30 s for
foam rolling), and the sets are the lowest of its range (2 of 2-3). When the
person is aggravated, every step is at reduced range and the lowest dose of the
range (30 s, 2 sets; 10 s for foam rolling). Otherwise the range is full. Both
levels are compiled at load (:class:`~sirecommend._compile.Dose`); a call picks one.

With a history (:class:`~sirecommend.pipeline._types.History`), each step's dose is
its rung on the stretch's dose ladder (:mod:`sirecommend.progression`), with a reason
citing the progression rule; when the person is aggravated today, the aggravation
rule wins: the lowest rung, at reduced range, whatever the history says.
"""

from __future__ import annotations

from collections.abc import Iterable

from sirecommend._compile import Dose, step_seconds
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Dosed, History, Pick
from sirecommend.progression import Movement, StretchProgress

__all__ = ["dose"]


def dose(
    profile: Profile, picks: Iterable[Pick], history: History | None = None
) -> tuple[Dosed, ...]:
    """Give every pick its dose: the lowest when aggravated, else the default, or with a
    ``history`` its rung on the dose ladder (the lowest when aggravated)."""
    level = 1 if profile.aggravated else 0
    if history is None:
        return tuple(Dosed(pick, pick.verdict.stretch.doses[level]) for pick in picks)
    return tuple(
        _from_history(pick, history.steps[pick.verdict.stretch.id], level) for pick in picks
    )


def _from_history(pick: Pick, sp: StretchProgress, level: int) -> Dosed:
    st = pick.verdict.stretch
    rung, why = sp.rung, sp.reason
    movement: Movement = sp.progression
    hold, sets, motion = rung.hold_seconds, rung.sets, rung.range_of_motion
    side = " on each side" if st.per_side else ""
    cites = ", ".join(dict.fromkeys(sp.sources))
    reasons = [
        f"Your logged sessions put it on rung {sp.index + 1} of {sp.rungs} of its dose "
        f"ladder, {rung}{side}, within the source's range ({movement}: {why}; "
        f"rule {sp.rule}: {cites})."
    ]
    if level:  # aggravated today: the aggravation rule comes before the progression
        low = st.doses[1]
        hold, sets, motion = low.hold_seconds, low.sets, low.range_of_motion
        reasons.append(
            f"Aggravated today: {hold} s x {sets}{side} at reduced range, the lowest rung, "
            "whatever the sessions say (the aggravation rule comes first)."
        )
        if sp.index > 0 and movement != "start":  # (no feedback yet: it starts there)
            movement = "down"
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
