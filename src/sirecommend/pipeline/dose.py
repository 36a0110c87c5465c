"""Dose: hold, sets and range of motion within the source's range.

The default dose is documented in docs/decisions.md: the hold is the middle of
the source's range, rounded down to 5 s (45 s of 30-60 s; 20 s of 10-30 s for
foam rolling), and the sets are the lowest of its range (2 of 2-3). When the
person is aggravated, every step is at reduced range and the lowest dose of the
range (30 s, 2 sets; 10 s for foam rolling). Otherwise the range is full.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sirecommend._kb import KnowledgeBase
from sirecommend._models import Dosage
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Dosed, Pick

__all__ = ["SETUP_SECONDS", "default_dose", "dose", "lowest_dose", "step_seconds"]

#: Seconds allowed to get into (and out of) each step's position.
SETUP_SECONDS = 15


def default_dose(dosage: Dosage) -> tuple[int, int]:
    """``(hold_seconds, sets)`` for a person who is not aggravated.

    >>> from sirecommend import load_knowledge
    >>> default_dose(load_knowledge().stretches["hamstring_supine"].dosage)
    (45, 2)
    """
    low, high = dosage.hold_seconds
    mid = (low + high) // 2
    return max(low, mid - mid % 5), dosage.sets[0]


def lowest_dose(dosage: Dosage) -> tuple[int, int]:
    """``(hold_seconds, sets)`` at the bottom of the source's range."""
    return dosage.hold_seconds[0], dosage.sets[0]


def step_seconds(hold_seconds: int, sets: int, per_side: bool) -> int:
    """Estimated duration of a step: holds x sets x sides, plus set-up.

    >>> step_seconds(45, 2, per_side=True)
    195
    """
    return hold_seconds * sets * (2 if per_side else 1) + SETUP_SECONDS


def dose(kb: KnowledgeBase, profile: Profile, picks: Iterable[Pick]) -> tuple[Dosed, ...]:
    """Give every pick its hold, sets, range of motion and estimated seconds."""
    aggravated = profile.aggravated
    range_of_motion: Literal["full", "reduced"] = "reduced" if aggravated else "full"
    doses: dict[str, tuple[int, int, int]] = kb.memo(("dose.table", aggravated), dict)
    out: list[Dosed] = []
    for pick in picks:
        sid = pick.verdict.stretch_id
        found = doses.get(sid)
        if found is None:
            found = doses.setdefault(sid, _dose_of(kb.stretches[sid].dosage, aggravated))
        out.append(Dosed(pick, found[0], found[1], range_of_motion, found[2]))
    return tuple(out)


def _dose_of(dosage: Dosage, aggravated: bool) -> tuple[int, int, int]:
    """``(hold_seconds, sets, seconds)`` of a stretch, computed once per stretch."""
    hold, sets = lowest_dose(dosage) if aggravated else default_dose(dosage)
    return hold, sets, step_seconds(hold, sets, dosage.per_side)
