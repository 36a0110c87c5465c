"""Fit: keep the highest-priority steps that fit the time budget."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import attrgetter

from sirecommend.pipeline._types import Dosed

__all__ = ["fit_to_time", "priority"]

_seconds = attrgetter("seconds")


def priority(step: Dosed) -> tuple[int, int]:
    """Sort key, most important first: steps that hit more focus muscles, then routine order."""
    return -len(step.pick.candidate.focus_hits), step.pick.candidate.rank


def fit_to_time(
    steps: Sequence[Dosed], budget_seconds: float
) -> tuple[tuple[Dosed, ...], tuple[Dosed, ...]]:
    """Split ordered ``steps`` into those kept within ``budget_seconds`` and those dropped.

    Greedy by :func:`priority`: each step is kept if it still fits, so the
    lowest-priority steps are the first to go and the budget is never exceeded.
    A larger budget never gives a shorter total: where two budgets first decide
    differently, the larger one keeps a step the smaller could not fit, so its
    total already exceeds the smaller budget. Kept steps keep their order.

    >>> fit_to_time([], 60.0)
    ((), ())
    """
    if budget_seconds == math.inf or sum(map(_seconds, steps)) <= budget_seconds:
        return tuple(steps), ()  # everything fits: the greedy pass would keep every step
    left = budget_seconds
    kept: set[int] = set()
    for i in sorted(range(len(steps)), key=lambda i: priority(steps[i])):
        if steps[i].seconds <= left:
            kept.add(i)
            left -= steps[i].seconds
    return (
        tuple(s for i, s in enumerate(steps) if i in kept),
        tuple(s for i, s in enumerate(steps) if i not in kept),
    )
