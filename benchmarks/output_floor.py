#!/usr/bin/env python3
"""How much of a call is the result itself: the output floor against the lean CLIPS peer.

Usage::

    python benchmarks/output_floor.py [--sizes 10,1000,10000] [--calls 100] [--rounds 6]

For each knowledge size, fresh profiles as ``run.py`` makes them. Each profile's routine
is made first by ``recommend()`` (not timed). Then, in rounds, interleaved in one process
with the lean CLIPS peer (``peer_clips_lean.py``), per call:

- ``output floor``: only building the validated result ``recommend()`` returns for that
  profile: the ``Profile``, each ``Step`` from its fields, each ``Exclusion`` that a call
  builds (its ``Reason`` objects reused, so this is below the real cost; the length cap's,
  compiled at load, are reused as a call reuses them), and the ``Routine``. No pipeline
  stage, no audit.
- ``audit``: ``sirecommend.audit()`` of that routine alone, which issue 11 asks to keep on.
- ``recommend()``: the whole call.
- the lean CLIPS peer's selection.

It prints medians and the ratios to the peer. Nothing is asserted. What the figures mean
for issue 11's targets is in docs/decisions.md (D24).
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import run as harness  # the benchmark harness, beside this file

from sirecommend import Profile, ReasonCode, Routine, audit, recommend
from sirecommend._routine import Exclusion, Step
from sirecommend.testing import synthetic_knowledge


def rebuild(fields: dict[str, Any], routine: Routine) -> Routine:
    """The validated result of one call, built again from its parts."""
    profile = Profile(**fields)
    steps = tuple(Step(**vars(s)) for s in routine.steps)
    excluded = tuple(
        e  # compiled once per stretch at load (the length cap): handed out, not built
        if e.reasons[0].code is ReasonCode.ROUTINE_LENGTH
        else Exclusion(stretch_id=e.stretch_id, name=e.name, reasons=e.reasons)
        for e in routine.excluded
    )
    parts = dict(vars(routine))
    parts.update(steps=steps, excluded=excluded, profile=profile)
    return Routine(**parts)


def measure(n: int, calls: int, rounds: int) -> dict[str, float]:
    kb = synthetic_knowledge(n)
    vocab = harness.Vocabulary.of(kb)
    wanted = calls * rounds + 20
    profiles = list(islice(harness.distinct_profiles("mixed", vocab, seed=n), wanted))
    made = [(p, recommend(knowledge=kb, **p)) for p in profiles]
    engines: dict[str, Callable[[dict[str, Any], Routine], object]] = {
        "output floor": rebuild,
        "audit": lambda p, routine: audit(routine, routine.profile, kb),
        "recommend()": lambda p, routine: recommend(knowledge=kb, **p),
    }
    close: Callable[[], None] = lambda: None  # noqa: E731
    try:
        select, close = harness.build_clips(kb)
    except ImportError:  # clipspy is a benchmark-only dependency (requirements.txt)
        pass
    else:
        for p in profiles[:20]:
            select(p)
        engines["lean CLIPS"] = lambda p, routine: select(p)
    times: dict[str, list[float]] = {name: [] for name in engines}
    try:
        for r in range(rounds):
            chunk = made[20 + r * calls : 20 + (r + 1) * calls]
            for name, fn in engines.items():
                gc.collect()
                for p, routine in chunk:
                    start = time.perf_counter()
                    fn(p, routine)
                    times[name].append(time.perf_counter() - start)
    finally:
        close()
        synthetic_knowledge.cache_clear()
    medians = {name: statistics.median(t) for name, t in times.items()}
    medians.setdefault("lean CLIPS", math.nan)
    medians["steps"] = statistics.median(len(r.steps) for _, r in made)
    medians["exclusions"] = statistics.median(len(r.excluded) for _, r in made)
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--calls", type=int, default=100, help="calls per round and engine")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    print(
        "| N | output floor | audit | recommend() | lean CLIPS | floor / CLIPS "
        "| audit / CLIPS | recommend() / CLIPS | steps | exclusions |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        m = measure(n, args.calls, args.rounds)
        peer = m["lean CLIPS"]
        us = {k: f"{v * 1e6:,.0f} µs" for k, v in m.items() if k not in ("steps", "exclusions")}
        if math.isnan(peer):
            print(f"(N={n:,}: no lean CLIPS peer: pip install -r benchmarks/requirements.txt)")
        print(
            f"| {n:,} | {us['output floor']} | {us['audit']} | {us['recommend()']} "
            f"| {us['lean CLIPS']} | {m['output floor'] / peer:.2f} | {m['audit'] / peer:.2f} "
            f"| {m['recommend()'] / peer:.2f} | {m['steps']:g} | {m['exclusions']:g} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
