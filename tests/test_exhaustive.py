"""Exhaustive verification of the shipped knowledge: every profile in a finite space.

The space is every combination of context x aggravated x equipment subset x avoided
position subset (every position and the ``floor`` group) x trimester (none, 1, 2, 3)
x no or one red flag x time budget (none, 3, 10, 30 minutes). Focus only reorders
what a short budget keeps, so it stays at its default.

* Without a red flag, every profile is run through the pipeline and audited, one by
  one (``recommend()`` is ``_run`` then ``audit``); the four budgets of each profile
  also show that a larger budget never gives a shorter routine. The work is split
  over two processes.
* With a red flag, triage returns before any other stage runs. For each context and
  flag the routine is run and audited once, and ``_run`` is shown not to read any
  other field: they are set to values that fail the test when touched. So the
  routine (and the audit's verdict) is the same for every value of those fields,
  and each case stands for all of them.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator

import pytest

from sirecommend import Profile, audit, load_knowledge
from sirecommend._recommend import _run

KB = load_knowledge()
CONTEXTS = sorted(KB.contexts)
EQUIPMENT = sorted(KB.equipment)
AVOIDABLE = sorted([*KB.positions, *KB.position_groups])
TRIMESTERS = (None, 1, 2, 3)
FLAGS = sorted(KB.red_flags)
BUDGETS = (None, 3.0, 10.0, 30.0)  # minutes


def subsets(items: list[str]) -> list[frozenset[str]]:
    return [frozenset(c) for n in range(len(items) + 1) for c in itertools.combinations(items, n)]


def check_block(context: str, aggravated: bool) -> tuple[int, list[str]]:
    """Run and audit every flag-free profile of one context and aggravation."""
    checked, problems = 0, []
    for equipment, avoid, trimester in itertools.product(
        subsets(EQUIPMENT), subsets(AVOIDABLE), TRIMESTERS
    ):
        totals = []
        for minutes in BUDGETS:
            profile = Profile(
                context=context,
                aggravated=aggravated,
                equipment=equipment,
                avoid_positions=avoid,
                pregnancy_trimester=trimester,
                minutes=minutes,
            )
            routine = _run(KB, profile)
            problems += [f"{profile!r}: {v.rule}: {v.message}" for v in audit(routine, profile, KB)]
            totals.append((math.inf if minutes is None else minutes, routine.total_seconds))
            checked += 1
        totals.sort()
        if [t for _, t in totals] != sorted(t for _, t in totals):
            problems.append(f"{profile!r}: a larger budget gave a shorter routine: {totals}")
    return checked, problems[:20]


def _check_block(args: tuple[str, bool]) -> tuple[int, list[str]]:
    return check_block(*args)


def run_blocks(blocks: list[tuple[str, bool]]) -> Iterator[tuple[int, list[str]]]:
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(_check_block, blocks)
        return
    # fork: the workers inherit the loaded knowledge and this module as they are. They
    # also inherit a coverage tracer, if any, whose data they would never save: stop it.
    with multiprocessing.get_context("fork").Pool(
        workers, initializer=sys.settrace, initargs=(None,)
    ) as pool:
        yield from pool.imap_unordered(_check_block, blocks)


class Untouchable:
    """A field value that fails the test as soon as anything looks at it."""

    def _touched(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("the red-flag branch read a field it must not need")

    __bool__ = __iter__ = __len__ = __contains__ = __hash__ = _touched
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _touched  # type: ignore[assignment]
    __mul__ = __rmul__ = __float__ = __int__ = __index__ = __format__ = _touched


def red_flag_profile_reading_only_context_and_flags(context: str, flag: str) -> Profile:
    """A profile whose every field but ``context`` and ``red_flags`` is :class:`Untouchable`."""
    return Profile.model_construct(
        context=context,
        red_flags=frozenset({flag}),
        **{
            field: Untouchable()
            for field in Profile.model_fields
            if field not in {"context", "red_flags"}
        },
    )


def test_red_flag_routines_read_only_the_context_and_the_flags() -> None:
    for context, flag in itertools.product(CONTEXTS, FLAGS):
        spy = red_flag_profile_reading_only_context_and_flags(context, flag)
        plain = Profile(context=context, red_flags={flag})
        routine = _run(KB, spy)
        assert routine.model_copy(update={"profile": plain}) == _run(KB, plain)


def test_the_untouchable_field_is_noticed() -> None:
    spy = red_flag_profile_reading_only_context_and_flags(CONTEXTS[0], FLAGS[0])
    with pytest.raises(AssertionError, match="must not need"):
        _run(KB, spy.model_copy(update={"red_flags": frozenset()}))


def test_every_profile_of_the_shipped_knowledge(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    blocks = list(itertools.product(CONTEXTS, (False, True)))
    run, problems = 0, []
    for checked, found in run_blocks(blocks):
        run += checked
        problems += found
    assert not problems, "\n".join(problems[:20])
    no_flag = (
        len(CONTEXTS)
        * 2
        * 2 ** len(EQUIPMENT)
        * 2 ** len(AVOIDABLE)
        * len(TRIMESTERS)
        * len(BUDGETS)
    )
    assert run == no_flag

    # With a red flag: one run and audit per context and flag, each standing for every
    # value of the other fields (test_red_flag_routines_read_only_the_context_and_the_flags).
    cases = 0
    for context, flag in itertools.product(CONTEXTS, FLAGS):
        profile = Profile(context=context, red_flags={flag})
        assert audit(_run(KB, profile), profile, KB) == []
        cases += 1
    per_case = no_flag // len(CONTEXTS)
    assert cases == len(CONTEXTS) * len(FLAGS)
    total = run + cases * per_case
    product = no_flag * (1 + len(FLAGS))
    assert total == product
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\nexhaustive: {product:,} profiles = {run:,} without a red flag, each run and "
            f"audited, + {cases} red-flag cases x {per_case:,} profiles each; {seconds:.1f} s"
        )
