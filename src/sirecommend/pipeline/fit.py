"""Fit: keep the highest-priority steps within the time budget, or the length cap."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sirecommend._routine import MAX_STEPS, ReasonCode
from sirecommend.pipeline._types import Dosed, Dropped

__all__ = ["fit_to_time"]


def fit_to_time(
    steps: Sequence[Dosed], budget_seconds: float, max_steps: int = MAX_STEPS
) -> tuple[tuple[Dosed, ...], tuple[Dropped, ...]]:
    """Split ordered ``steps`` into those kept and those dropped (and why).

    Priority, most important first: steps whose candidate works more focus muscles,
    then routine order (the order ``steps`` come in, which is the rank of the stretch
    each step does). With a time budget, greedy by priority: each step is kept if it
    still fits, so the lowest-priority steps are the first to go and the budget is
    never exceeded. A larger budget never gives a shorter total: where two budgets
    first decide differently, the larger one keeps a step the smaller could not fit, so
    its total already exceeds the smaller budget. Without one, the ``max_steps``
    highest-priority steps are kept. Kept steps keep their order.

    >>> fit_to_time([], 60.0)
    ((), ())
    """
    by_priority = sorted(range(len(steps)), key=lambda i: (-len(steps[i].pick.candidate.focus_hits), i))
    kept: set[int] = set()
    if budget_seconds == math.inf:
        code = ReasonCode.ROUTINE_LENGTH
        kept.update(by_priority[:max_steps])
    else:
        code = ReasonCode.TIME_BUDGET
        left = budget_seconds
        for i in by_priority:
            if steps[i].seconds <= left:
                kept.add(i)
                left -= steps[i].seconds
    return (
        tuple(s for i, s in enumerate(steps) if i in kept),
        tuple(Dropped(s, code) for i, s in enumerate(steps) if i not in kept),
    )
