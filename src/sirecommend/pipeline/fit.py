"""Fit: keep the highest-priority steps within the time budget and the length cap."""

from __future__ import annotations

from collections.abc import Sequence

from sirecommend._routine import MAX_STEPS, ReasonCode
from sirecommend.pipeline._types import Dosed, Dropped

__all__ = ["fit_to_time"]


def fit_to_time(
    steps: Sequence[Dosed], budget_seconds: float, max_steps: int = MAX_STEPS
) -> tuple[tuple[Dosed, ...], tuple[Dropped, ...]]:
    """Split ordered ``steps`` into those kept and those dropped, each with why.

    Priority, most important first: steps whose candidate works more focus muscles,
    then routine order (the order ``steps`` come in: the rank of the stretch each step
    does, the order a person sees). Greedy by priority: a step is kept while fewer
    than ``max_steps`` are kept and it still fits the budget (infinite: no budget);
    otherwise it is dropped for length (``routine_length``) or for time
    (``time_budget``). So the lowest-priority steps go first, the budget is never
    exceeded, and a larger budget never gives a shorter total: where two budgets first
    decide differently, the larger one keeps a step the smaller could not fit, so its
    total already exceeds the smaller budget. Kept steps keep their order.

    >>> fit_to_time([], 60.0)
    ((), ())
    """
    hits = [len(s.pick.candidate.focus_hits) for s in steps]
    left = budget_seconds
    kept: set[int] = set()
    dropped: dict[int, Dropped] = {}
    for i in sorted(range(len(steps)), key=lambda i: (-hits[i], i)):
        if len(kept) >= max_steps:
            dropped[i] = Dropped(steps[i], ReasonCode.ROUTINE_LENGTH)
        elif steps[i].seconds > left:
            dropped[i] = Dropped(steps[i], ReasonCode.TIME_BUDGET)
        else:
            kept.add(i)
            left -= steps[i].seconds
    return (
        tuple(s for i, s in enumerate(steps) if i in kept),
        tuple(dropped[i] for i in sorted(dropped)),
    )
