"""Fit: keep the highest-priority steps within the time budget and the length cap."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from sirecommend._compile import ContextPlan
from sirecommend._models import AGGRAVATED_MAX_STEPS
from sirecommend._routine import MAX_STEPS, Profile, ReasonCode
from sirecommend.pipeline._types import Dosed, Dropped

__all__ = ["budget_seconds", "fit", "fit_to_time", "max_steps"]


def budget_seconds(profile: Profile, plan: ContextPlan) -> float:
    """The time budget in seconds: the profile's, else the context's default, else none.

    >>> from sirecommend import load_knowledge, Profile
    >>> plans = load_knowledge().compiled.contexts
    >>> budget_seconds(Profile(context="warm_up"), plans["warm_up"])
    inf
    >>> budget_seconds(Profile(context="warm_up", minutes=5), plans["warm_up"])
    300.0
    """
    if profile.minutes is not None:
        return profile.budget_seconds
    minutes = plan.default_minutes
    return math.inf if minutes is None else minutes * 60


def max_steps(profile: Profile) -> int:
    """The length cap: :data:`AGGRAVATED_MAX_STEPS` when aggravated, else ``MAX_STEPS``."""
    return AGGRAVATED_MAX_STEPS if profile.aggravated else MAX_STEPS


def fit(
    steps: Sequence[Dosed], profile: Profile, plan: ContextPlan
) -> tuple[tuple[Dosed, ...], tuple[Dropped, ...]]:
    """:func:`fit_to_time` with the person's budget and cap; when aggravated, the
    gentlest steps first (:attr:`~sirecommend._compile.ContextPlan.gentle`)."""
    gentle = plan.gentle if profile.aggravated else None
    kept, dropped = fit_to_time(steps, budget_seconds(profile, plan), max_steps(profile), gentle)
    if any(d.stand_in is not None for d in dropped):  # a fallback kept: to its own place
        rank = plan.rank
        kept = tuple(sorted(kept, key=lambda k: rank[k.stretch_id]))
    return kept, dropped


def fit_to_time(
    steps: Sequence[Dosed],
    budget_seconds: float,
    max_steps: int = MAX_STEPS,
    gentle: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[tuple[Dosed, ...], tuple[Dropped, ...]]:
    """Split ordered ``steps`` into those kept and those dropped, each with why.

    Priority, most important first: with ``gentle`` (aggravated), the gentler step
    (``gentle[stretch id]``, lower first); then steps whose candidate works more focus
    muscles, then routine order (the order ``steps`` come in: the rank of the stretch
    each step does, the order a person sees). Greedy by priority: a step is kept while
    fewer than ``max_steps`` are kept and it still fits the budget (infinite: no budget);
    otherwise it is dropped for length (``routine_length``) or for time
    (``time_budget``). So the lowest-priority steps go first, the budget is never
    exceeded, and a larger budget never gives a shorter total: where two budgets first
    decide differently, the larger one keeps a step the smaller could not fit, so its
    total already exceeds the smaller budget. Kept steps keep their order.

    A stand-in that does not fit the time left gives way to the first of its
    ``fallbacks`` (later alternatives for the same stretch) that does: that one is
    kept at its place, and the stand-in is dropped for time with it as ``stand_in``;
    the fallbacks tried before it are dropped for time too. (A larger budget still
    never gives a shorter total: it keeps the same step or one tried earlier, which
    the smaller budget could not fit.) :func:`fit` puts a fallback kept in the
    context's routine order.

    >>> fit_to_time([], 60.0)
    ((), ())
    """
    hits = [len(s.pick.candidate.focus_hits) for s in steps]
    order: Iterable[int]
    if gentle is not None:
        order = sorted(range(len(steps)), key=lambda i: (gentle[steps[i].stretch_id], -hits[i], i))
    elif any(hits):
        order = sorted(range(len(steps)), key=lambda i: (-hits[i], i))
    else:  # no focus hits: the routine order is the priority
        order = range(len(steps))
    left = budget_seconds
    kept: dict[int, Dosed] = {}
    dropped: dict[int, tuple[Dropped, ...]] = {}
    for i in order:
        step = steps[i]
        if len(kept) >= max_steps:
            dropped[i] = (Dropped(step, ReasonCode.ROUTINE_LENGTH),)
        elif step.seconds > left:
            dropped[i] = _fall_back(step, left, kept, i)
            if i in kept:
                left -= kept[i].seconds
        else:
            kept[i] = step
            left -= step.seconds
    return (
        tuple(kept[i] for i in sorted(kept)),
        tuple(d for i in sorted(dropped) for d in dropped[i]),
    )


def _fall_back(step: Dosed, left: float, kept: dict[int, Dosed], i: int) -> tuple[Dropped, ...]:
    """``step`` does not fit the time left: the first of its fallbacks that does is kept
    at ``i``; what is dropped for time, ``step`` first."""
    tried: list[Dropped] = []
    for f in step.fallbacks:
        if f.seconds <= left:
            kept[i] = f
            return (Dropped(step, ReasonCode.TIME_BUDGET, f.pick.verdict.stretch), *tried)
        tried.append(Dropped(f, ReasonCode.TIME_BUDGET))
    return (Dropped(step, ReasonCode.TIME_BUDGET), *tried)
