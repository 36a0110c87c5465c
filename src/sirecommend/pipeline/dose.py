"""Dose: hold, sets and range of motion within the source's range.

The default dose is documented in docs/decisions.md: the hold is the middle of
the source's range, rounded down to 5 s (45 s of 30-60 s; 20 s of 10-30 s for
foam rolling), and the sets are the lowest of its range (2 of 2-3). When the
person is aggravated, every step is at reduced range and the lowest dose of the
range (30 s, 2 sets; 10 s for foam rolling). Otherwise the range is full. Both
levels are compiled at load (:class:`~sirecommend._compile.Dose`); a call picks one.
"""

from __future__ import annotations

from collections.abc import Iterable

from sirecommend._routine import Profile
from sirecommend.pipeline._types import Dosed, Pick

__all__ = ["dose"]


def dose(profile: Profile, picks: Iterable[Pick]) -> tuple[Dosed, ...]:
    """Give every pick its dose level: the lowest when aggravated, else the default."""
    level = 1 if profile.aggravated else 0
    return tuple(Dosed(pick, pick.verdict.stretch.doses[level]) for pick in picks)
