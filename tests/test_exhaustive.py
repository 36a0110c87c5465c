"""Exhaustive verification: every profile of four finite spaces is run and audited.

Every profile counted below goes through the pipeline and the audit, one by one
(``recommend()`` is ``_run`` then ``audit``); nothing is counted as covered by an
argument. On the shipped knowledge (5 contexts, 3 pieces of equipment, 6 positions and
the ``floor`` group, 17 red flags, 7 muscles):

* **main**: context x aggravated x every equipment subset x every subset of the
  avoidable positions and groups x trimester (none, 1, 2, 3) x time budget (none, 3,
  10, 30 minutes), no red flag, no focus: 5 x 2 x 8 x 128 x 4 x 4 = 163,840 profiles.
  Per profile, the four budgets also show that a larger budget never gives a shorter
  routine.
* **focus**: context x aggravated x every equipment subset x every subset of the
  muscles as focus x time budget, nothing avoided, not pregnant, no red flag:
  5 x 2 x 8 x 128 x 4 = 40,960 profiles (focus changes what a short budget keeps).
* **red flags**: context x aggravated x every set of one or two red flags x trimester
  x time budget, all equipment, nothing avoided, no focus: 5 x 2 x 153 x 4 x 4 =
  24,480 profiles.
* **is_a pack**: the shipped knowledge extended by ``tests/packs/is_a`` (a
  ``trunk_twist`` that is a rotation, a ``lying_on_back`` that is supine, three
  stretches): context x aggravated x every equipment subset x every subset of the
  avoidable positions and groups (now 8) x trimester, no budget, no red flag, no focus:
  5 x 2 x 8 x 256 x 4 = 81,920 profiles.

That is 311,200 profiles in all. What is not covered: other budgets, focus together
with avoided positions or pregnancy, three or more red flags together, and red flags
with equipment missing or positions avoided (the property tests draw those at random).
The work is split over two processes.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, Profile, audit, load_knowledge
from sirecommend._recommend import _run

KB = load_knowledge()
KINDS = load_knowledge(Path(__file__).parent / "packs" / "is_a")
TRIMESTERS = (None, 1, 2, 3)
BUDGETS = (None, 3.0, 10.0, 30.0)  # minutes
SPACES = ("main", "focus", "red flags", "is_a pack")


def subsets(items: list[str], sizes: range | None = None) -> list[frozenset[str]]:
    sizes = range(len(items) + 1) if sizes is None else sizes
    return [frozenset(c) for n in sizes for c in itertools.combinations(items, n)]


def avoidable(kb: KnowledgeBase) -> list[str]:
    return sorted([*kb.positions, *kb.position_groups])


def knowledge(space: str) -> KnowledgeBase:
    return KINDS if space == "is_a pack" else KB


def profiles(space: str, context: str, aggravated: bool) -> Iterator[list[Profile]]:
    """The profiles of one space, context and aggravation, in groups that differ only in
    their time budget (in :data:`BUDGETS` order) when the space varies it."""
    kb = knowledge(space)
    equipment = subsets(sorted(kb.equipment))
    base = {"context": context, "aggravated": aggravated}
    if space == "main":
        for kit, avoid, trimester in itertools.product(
            equipment, subsets(avoidable(kb)), TRIMESTERS
        ):
            yield [
                Profile(
                    **base,
                    equipment=kit,
                    avoid_positions=avoid,
                    pregnancy_trimester=trimester,
                    minutes=m,
                )
                for m in BUDGETS
            ]
    elif space == "focus":
        for kit, focus in itertools.product(equipment, subsets(sorted(kb.muscles))):
            yield [Profile(**base, equipment=kit, focus=focus, minutes=m) for m in BUDGETS]
    elif space == "red flags":
        flags = subsets(sorted(kb.red_flags), range(1, 3))
        for red, trimester in itertools.product(flags, TRIMESTERS):
            yield [
                Profile(
                    **base,
                    equipment=frozenset(kb.equipment),
                    red_flags=red,
                    pregnancy_trimester=trimester,
                    minutes=m,
                )
                for m in BUDGETS
            ]
    else:
        for kit, avoid, trimester in itertools.product(
            equipment, subsets(avoidable(kb)), TRIMESTERS
        ):
            yield [
                Profile(**base, equipment=kit, avoid_positions=avoid, pregnancy_trimester=trimester)
            ]


def check_block(space: str, context: str, aggravated: bool) -> tuple[str, int, list[str]]:
    """Run and audit every profile of one space, context and aggravation."""
    kb, checked, problems = knowledge(space), 0, []
    for group in profiles(space, context, aggravated):
        totals = []
        for profile in group:
            routine = _run(kb, profile)
            problems += [f"{profile!r}: {v.rule}: {v.message}" for v in audit(routine, profile, kb)]
            # No minutes: the context's default budget (after sitting: 10), else none.
            default = kb.contexts[profile.context].default_minutes
            minutes = profile.minutes or (math.inf if default is None else default)
            totals.append((minutes, routine.total_seconds))
            checked += 1
        if [t for _, t in sorted(totals)] != sorted(t for _, t in totals):
            problems.append(f"{group[0]!r}: a larger budget gave a shorter routine: {totals}")
    return space, checked, problems[:20]


def _check_block(args: tuple[str, str, bool]) -> tuple[str, int, list[str]]:
    return check_block(*args)


def run_blocks(blocks: list[tuple[str, str, bool]]) -> Iterator[tuple[str, int, list[str]]]:
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


def expected_sizes() -> dict[str, int]:
    """How many profiles each space holds, from the knowledge's own counts."""
    contexts, kit = len(KB.contexts) * 2, 2 ** len(KB.equipment)
    flags = len(KB.red_flags)
    return {
        "main": contexts * kit * 2 ** len(avoidable(KB)) * len(TRIMESTERS) * len(BUDGETS),
        "focus": contexts * kit * 2 ** len(KB.muscles) * len(BUDGETS),
        "red flags": contexts * (flags + flags * (flags - 1) // 2) * len(TRIMESTERS) * len(BUDGETS),
        "is_a pack": len(KINDS.contexts)
        * 2
        * 2 ** len(KINDS.equipment)
        * 2 ** len(avoidable(KINDS))
        * len(TRIMESTERS),
    }


def test_the_spaces_are_the_sizes_the_docstring_states() -> None:
    assert expected_sizes() == {
        "main": 163_840,
        "focus": 40_960,
        "red flags": 24_480,
        "is_a pack": 81_920,
    }
    assert "lying_on_back" in KINDS.position_members("floor")
    assert KINDS.kind_of_movement("trunk_twist") == "rotation"


def test_every_profile_of_each_space(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    blocks = [
        (space, context, aggravated)
        for space in SPACES
        for context in sorted(knowledge(space).contexts)
        for aggravated in (False, True)
    ]
    run = dict.fromkeys(SPACES, 0)
    problems: list[str] = []
    for space, checked, found in run_blocks(blocks):
        run[space] += checked
        problems += found
    assert not problems, "\n".join(problems[:20])
    assert run == expected_sizes()
    seconds = time.perf_counter() - start
    with capsys.disabled():
        figures = ", ".join(f"{space} {n:,}" for space, n in run.items())
        print(
            f"\nexhaustive: {sum(run.values()):,} profiles run and audited ({figures}); "
            f"{seconds:.1f} s"
        )
