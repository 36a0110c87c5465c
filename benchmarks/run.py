#!/usr/bin/env python3
"""Benchmarks for sirecommend, with rdflib (SPARQL) and clipspy (CLIPS) as peers.

Usage::

    python benchmarks/run.py [--quick] [--plot FILE] [--markdown] [--sizes 10,100] [--no-peers]

Prints one report: cold start (fresh processes), ``load_knowledge()``, ``recommend()``
for representative profiles on the shipped knowledge, latency against knowledge size
(the shipped knowledge, then ``synthetic_knowledge(n)``) for sirecommend and the peers
in the same run, and peak memory of loading the largest synthetic knowledge.

Every timed call gets a profile the process has not used before on that knowledge (a
real app rarely repeats a profile exactly), and figures are medians of per-call
times. The machine may be shared and noisy: compare the ratios, which come from one run.

The peers do an equivalent *selection* task only: the stretches that suit the context,
that do not need equipment the person lacks, and that are not in an avoided position
(groups such as ``floor`` expanded), sorted in the context's routine order. sirecommend
does that and more (safety rules, substitution, dosing, time fitting, explanations, the
audit). The peers are benchmark-only dependencies (``benchmarks/requirements.txt``);
a missing peer is reported in the table and the run goes on.

``--quick`` uses small sizes and few repetitions, for CI; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import importlib
import importlib.metadata
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import sirecommend
from sirecommend import KnowledgeBase, load_knowledge, recommend

Profile = dict[str, Any]
Select = Callable[[Profile], object]

# --- settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How much to measure: full runs by default, a few calls each with ``--quick``."""

    quick: bool
    sizes: tuple[int, ...]
    cold_runs: int  # fresh processes per cold-start command
    load_runs: int  # fresh processes for load_knowledge()
    reload_runs: int  # the shipped knowledge built again, in each fresh process
    cell_budget: float  # seconds of timed calls per engine and knowledge size
    rounds: int  # the budget is split into rounds, engines interleaved, to spread noise
    min_calls: int
    max_calls: int
    memory_size: int
    peers: bool


def settings_for(args: argparse.Namespace) -> Settings:
    quick = bool(args.quick)
    default_sizes = (10, 100) if quick else (10, 100, 1_000, 10_000)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else default_sizes
    return Settings(
        quick=quick,
        sizes=sizes,
        cold_runs=3 if quick else 15,
        load_runs=2 if quick else 7,
        reload_runs=2 if quick else 5,
        cell_budget=0.1 if quick else 1.5,
        rounds=1 if quick else 3,
        min_calls=2 if quick else 3,
        max_calls=40 if quick else 600,
        memory_size=100 if quick else max(sizes, default=10_000),
        peers=not args.no_peers,
    )


# --- profiles the process has not seen before ------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """The ids a profile may use; synthetic knowledge shares the shipped vocabulary."""

    contexts: tuple[str, ...]
    equipment: tuple[str, ...]
    avoidable: tuple[str, ...]  # positions and position groups
    muscles: tuple[str, ...]
    red_flags: tuple[str, ...]

    @classmethod
    def of(cls, kb: KnowledgeBase) -> Vocabulary:
        return cls(
            contexts=tuple(kb.contexts),
            equipment=tuple(kb.equipment),
            avoidable=(*kb.positions, *kb.position_groups),
            muscles=tuple(kb.muscles),
            red_flags=tuple(kb.red_flags),
        )


#: Representative kinds of profile on the shipped knowledge, and what varies in each.
KINDS: dict[str, str] = {
    "everyday": "context, equipment, minutes, focus",
    "restricted": "+ avoided positions, aggravated, pregnancy",
    "red flags": "1-3 red flags (a referral), the rest varies",
    "mixed": "context, equipment, avoided, aggravated, minutes, focus",
}
MINUTES: tuple[float | None, ...] = (None, 5.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0)


def _some(rng: random.Random, ids: Sequence[str], low: int, high: int) -> frozenset[str]:
    return frozenset(rng.sample(ids, rng.randint(low, min(high, len(ids)))))


def _draw(kind: str, v: Vocabulary, rng: random.Random) -> Profile:
    p: Profile = {
        "context": rng.choice(v.contexts),
        "equipment": _some(rng, v.equipment, 0, len(v.equipment)),
        "minutes": rng.choice(MINUTES),
        "focus": _some(rng, v.muscles, 0, 2),
    }
    if kind in ("restricted", "red flags", "mixed"):
        p["aggravated"] = rng.random() < 0.5
        p["avoid_positions"] = _some(rng, v.avoidable, 1 if kind == "restricted" else 0, 2)
    if kind == "restricted":
        p["pregnancy_trimester"] = rng.choice((None, 1, 2, 3))
    if kind == "red flags":
        p["red_flags"] = _some(rng, v.red_flags, 1, 3)
    return p


def _selection_key(p: Profile) -> tuple[object, ...]:
    return (p["context"], p["equipment"], p.get("avoid_positions", frozenset()))


def _profile_key(p: Profile) -> tuple[object, ...]:
    return tuple(
        sorted((k, repr(sorted(v) if isinstance(v, frozenset) else v)) for k, v in p.items())
    )


def distinct_profiles(kind: str, vocab: Vocabulary, seed: int) -> Iterator[Profile]:
    """Profiles of ``kind``, never the same twice; ends when new ones get hard to find.

    For ``mixed`` profiles (timed against the peers), the part the peers see (context,
    equipment, avoided positions) is new every time too, so no engine sees a repeat.
    """
    rng = random.Random(f"{kind}:{seed}")
    key = _selection_key if kind == "mixed" else _profile_key
    seen: set[tuple[object, ...]] = set()
    misses = 0
    while misses < 2_000:
        p = _draw(kind, vocab, rng)
        k = key(p)
        if k in seen:
            misses += 1
            continue
        seen.add(k)
        misses = 0
        yield p


def split_warm_up(profiles: list[Profile], contexts: Sequence[str]) -> list[Profile]:
    """Take one profile per context out of ``profiles``, for warming up."""
    warm: list[Profile] = []
    for ctx in contexts:
        for i, p in enumerate(profiles):
            if p["context"] == ctx:
                warm.append(profiles.pop(i))
                break
    return warm


# --- timing --------------------------------------------------------------------------


def time_calls(
    fn: Select, profiles: Iterator[Profile], budget: float, min_calls: int, max_calls: int
) -> list[float]:
    """Per-call seconds of ``fn`` on fresh profiles until the budget is spent."""
    times: list[float] = []
    deadline = time.perf_counter() + budget
    for p in profiles:
        start = time.perf_counter()
        fn(p)
        end = time.perf_counter()
        times.append(end - start)
        if len(times) >= max_calls or (len(times) >= min_calls and end >= deadline):
            break
    return times


@dataclass
class Cell:
    """Per-call times of one engine on one knowledge, or why there are none."""

    times: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


Opener = Callable[[], tuple[Select, Callable[[], None]]]


def interleaved(
    engines: Mapping[str, Opener],
    profiles: Sequence[Profile],
    s: Settings,
    warm_up: Callable[[str, Select], None] = lambda name, fn: None,
) -> tuple[dict[str, Cell], dict[str, float]]:
    """Time every engine on the same profile sequence, in rounds with the order rotated.

    Each round opens an engine (a peer builds its data), warms it up untimed, times it,
    and closes it: only one peer's data is alive at a time, so no engine's timing
    includes the garbage collector walking another engine's objects. Returns the cells
    and how long each engine's first opening took.
    """
    cells = {name: Cell() for name in engines}
    opened: dict[str, float] = {}
    streams = {name: iter(profiles) for name in engines}
    names = list(engines)
    per_round = max(1, math.ceil(s.min_calls / s.rounds))
    for r in range(s.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            cell = cells[name]
            if cell.note:
                continue
            gc.collect()
            try:
                start = time.perf_counter()
                select, close = engines[name]()
                opened.setdefault(name, time.perf_counter() - start)
                try:
                    warm_up(name, select)
                    gc.collect()
                    cell.times += time_calls(
                        select,
                        streams[name],
                        s.cell_budget / s.rounds,
                        per_round,
                        s.max_calls // s.rounds,
                    )
                finally:
                    close()
                    del select
            except Exception as exc:  # a peer failing must not stop the run
                if name == "sirecommend":
                    raise
                cell.note = f"error: {type(exc).__name__}: {exc}"[:120]
    gc.collect()
    return cells, opened


def run_fresh(
    code: str, *args: str, env: Mapping[str, str] | None = None, timeout: float | None = 600
) -> tuple[float, str]:
    """Wall time and stdout of ``python -c code`` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed:\n{done.stderr}")
    return elapsed, done.stdout


# --- the selection task: a reference and the peers -------------------------------------


class SelectionFacts(NamedTuple):
    """What every peer loads, from the same knowledge base as sirecommend."""

    #: (context, stretch, rank): the stretches that suit each context, ranked in the
    #: context's routine order (the order sirecommend uses).
    links: list[tuple[str, str, int]]
    #: stretch -> (position, the equipment it needs one of; empty when the hands will do).
    stretches: dict[str, tuple[str, tuple[str, ...]]]
    #: (position, key): avoiding ``key`` (the position itself or a group) avoids it.
    within: list[tuple[str, str]]


def selection_facts(kb: KnowledgeBase) -> SelectionFacts:
    links = [
        (ctx, slot.stretch.id, plan.rank[slot.stretch.id])
        for ctx, plan in kb.compiled.contexts.items()
        for slot in plan.slots
    ]
    stretches = {
        s.id: (
            s.position,
            ()
            if not s.equipment or any(o.uses is None for o in s.equipment)
            else tuple(o.uses for o in s.equipment if o.uses is not None),
        )
        for s in kb.stretches.values()
    }
    within = [(p, p) for p in kb.positions] + [
        (m, g.id) for g in kb.position_groups.values() for m in g.members
    ]
    return SelectionFacts(links, stretches, within)


def reference_selection(kb: KnowledgeBase, p: Profile) -> list[str]:
    """The selection task in plain Python: what every peer must return."""
    avoided = {m for a in p.get("avoid_positions", ()) for m in kb.position_members(a)}
    has = p.get("equipment", frozenset())
    plan = kb.compiled.contexts[p["context"]]
    out = []
    for slot in plan.slots:
        sid = slot.stretch.id
        s = kb.stretches[sid]
        if s.position in avoided:
            continue
        needs = [o.uses for o in s.equipment]
        if needs and None not in needs and not has.intersection(needs):
            continue
        out.append(sid)
    return sorted(out, key=plan.rank.__getitem__)


@dataclass
class Peer:
    """A peer engine: how to build its data from a knowledge base, or why it is absent."""

    name: str
    modules: tuple[str, ...]  # imported when probed, so building times no first import
    dist: str
    build: Callable[[KnowledgeBase], tuple[Select, Callable[[], None]]]
    warm: Callable[[], object] = lambda: None  # one-time set-up, not part of building
    version: str | None = None
    missing: str = ""

    def probe(self) -> Peer:
        try:
            for module in self.modules:
                importlib.import_module(module)
            self.version = importlib.metadata.version(self.dist)
            self.warm()
        except ImportError as exc:
            self.missing = f"not installed ({exc.name}): pip install -r benchmarks/requirements.txt"
        except Exception as exc:  # e.g. a wheel whose shared library does not load here
            self.missing = f"unusable: {type(exc).__name__}: {exc}"[:120]
        return self


SPARQL = """
SELECT ?stretch WHERE {
  ?link si:context ?ctx ; si:stretch ?stretch ; si:rank ?rank .
  FILTER NOT EXISTS { ?stretch si:position ?p . ?p si:within ?a . si:me si:avoids ?a }
  FILTER (NOT EXISTS { ?stretch si:needsOneOf ?any }
          || EXISTS { ?stretch si:needsOneOf ?kit . si:me si:has ?kit })
} ORDER BY ?rank
"""


def build_rdflib(kb: KnowledgeBase) -> tuple[Select, Callable[[], None]]:
    """rdflib: the knowledge as triples, one prepared SPARQL query.

    The context is an ``initBindings`` binding; the person's equipment and avoided
    positions (sets, which SPARQL cannot bind) are ``si:me`` triples replaced per call.
    """
    from rdflib import Graph, Literal, Namespace
    from rdflib.plugins.sparql import prepareQuery

    si = Namespace("urn:sirecommend:")
    facts = selection_facts(kb)
    g = Graph()
    for sid, (position, needs) in facts.stretches.items():
        g.add((si[sid], si.position, si[position]))
        for kit in needs:
            g.add((si[sid], si.needsOneOf, si[kit]))
    for position, key in facts.within:
        g.add((si[position], si.within, si[key]))
    for ctx, sid, rank in facts.links:
        link = si[f"link/{ctx}/{sid}"]
        g.add((link, si.context, si[ctx]))
        g.add((link, si.stretch, si[sid]))
        g.add((link, si.rank, Literal(rank)))
    query = prepareQuery(SPARQL, initNs={"si": si})
    me, prefix = si.me, len(str(si))

    def select(p: Profile) -> list[str]:
        g.remove((me, None, None))
        for kit in p.get("equipment", ()):
            g.add((me, si.has, si[kit]))
        for a in p.get("avoid_positions", ()):
            g.add((me, si.avoids, si[a]))
        rows = g.query(query, initBindings={"ctx": si[p["context"]]})
        return [str(row[0])[prefix:] for row in rows]  # type: ignore[index]

    return select, lambda: None


def build_clips(kb: KnowledgeBase) -> tuple[Select, Callable[[], None]]:
    """clipspy, the lean way (``benchmarks/peer_clips_lean.py``): facts asserted once; per
    call the profile is asserted and retracted inside CLIPS, selected stretches come back
    through a Python callback, sorted by rank."""
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        import peer_clips_lean
    finally:
        sys.path.pop(0)
    facts = selection_facts(kb)
    select, close = peer_clips_lean.build(facts.stretches, facts.within, facts.links)

    def closing() -> None:
        # CLIPS 6.4 may report a few bytes "not fully deallocated" when the environment is
        # destroyed, with printf on the C stdout; keep that noise out of the report.
        with c_stdout_silenced():
            close()
            gc.collect()

    return select, closing


@contextlib.contextmanager
def c_stdout_silenced() -> Iterator[None]:
    """Send what C code prints to file descriptor 1 to /dev/null, meanwhile."""
    sys.stdout.flush()
    libc = ctypes.CDLL(None)
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            try:
                yield
            finally:
                libc.fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


PEERS = (
    Peer(
        "rdflib",
        ("rdflib", "rdflib.plugins.sparql"),
        "rdflib",
        build_rdflib,
        # The first query parsed sets up rdflib's SPARQL grammar, once per process.
        lambda: importlib.import_module("rdflib.plugins.sparql").prepareQuery("ASK {}"),
    ),
    Peer("CLIPS", ("clips",), "clipspy", build_clips),
)


# --- measurements --------------------------------------------------------------------

COLD_COMMANDS = {
    "floor": "import networkx, pydantic",
    "sirecommend": "import sirecommend as s; print(s.recommend(context='after_sitting'))",
    "bare python": "pass",
}
#: The sirecommend command again, with the shipped knowledge compiled afresh from its TOML
#: files (read, validate, check, build the graph, compile) instead of from its generated
#: compiled form in the package: what a stale generated form (an edited knowledge file)
#: would cost, and about what loading a pack costs on top of its own files.
FRESH = "sirecommend, knowledge compiled afresh"
FRESH_CODE = (
    "import sirecommend._loader as loader\n"
    "loader._prebuilt_knowledge = lambda: None  # as when the generated form is stale\n"
    "import sirecommend as s; print(s.recommend(context='after_sitting'))"
)
#: What any use of pydantic models costs on top of the floor: its model machinery, one
#: model defined, and the validator built and run once (plugins looked up included).
PYDANTIC = "one pydantic model"
PYDANTIC_CODE = (
    "import networkx, pydantic\n"
    "class Profile(pydantic.BaseModel):\n"
    "    context: str\n"
    "Profile(context='after_sitting')"
)

LOAD_CODE = """
import statistics, sys, time
t0 = time.perf_counter()
import sirecommend
from sirecommend import _loader
t1 = time.perf_counter()
sirecommend.load_knowledge()
t2 = time.perf_counter()
sirecommend.recommend(context="after_sitting")
t3 = time.perf_counter()
# Build the shipped knowledge again, n times each: from its generated compiled form
# (check the fingerprint of the files, rebuild the objects), then compiled afresh from
# the TOML files (read, parse, validate, check, build the graph, compile, derive facts).
def median_of(n, build, before=lambda: None):
    times = []
    for _ in range(n):
        before()
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
n = int(sys.argv[1])
prebuilt = median_of(n, _loader._prebuilt_knowledge)
fresh = median_of(n, _loader._fresh_shipped_knowledge, _loader._shipped_files.cache_clear)
print(t1 - t0, t2 - t1, t3 - t2, prebuilt, fresh)
"""

# Peak RSS: VmHWM, the high-water mark of this process's own memory, where Linux has it.
# (On Linux ru_maxrss keeps the parent's peak across fork and exec, so it would report
# the benchmark process's size, not this one's.)
MEMORY_CODE = """
import json, sys, time
import tracemalloc
import sirecommend
from sirecommend.testing import synthetic_knowledge

def peak_rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:
        return None
    unit = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit

n, traced = int(sys.argv[1]), sys.argv[2] == "traced"
out = {"imports": peak_rss()}
if traced:
    tracemalloc.start()
start = time.perf_counter()
kb = synthetic_knowledge(n)
out["seconds"] = time.perf_counter() - start
if traced:
    out["traced_peak"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
else:
    out["load"] = peak_rss()
    sirecommend.recommend(context="after_sitting", knowledge=kb)
    out["first_call"] = peak_rss()
print(json.dumps(out))
"""


#: RSS under load: ``n`` stretches, RSS (VmRSS, what the process holds now) after the
#: first ``first`` calls and after ``total`` calls, every call a new profile (the budget
#: differs every call, so no two profiles are equal; nothing is kept to check that).
LOAD_CALLS_CODE = """
import gc, json, random, sys
import sirecommend
from sirecommend.testing import synthetic_knowledge

def rss():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None

n, first, total = map(int, sys.argv[1:4])
kb = synthetic_knowledge(n)
rng = random.Random(1)
contexts, kit = sorted(kb.contexts), sorted(kb.equipment)
places, muscles = sorted([*kb.positions, *kb.position_groups]), sorted(kb.muscles)
out = {}
for i in range(total):
    sirecommend.recommend(
        context=rng.choice(contexts),
        aggravated=rng.random() < 0.5,
        equipment=set(rng.sample(kit, rng.randint(0, len(kit)))),
        avoid_positions=set(rng.sample(places, rng.randint(0, 2))),
        pregnancy_trimester=rng.choice([None, 1, 2, 3]),
        minutes=1 + i / 997,
        focus=set(rng.sample(muscles, rng.randint(0, 2))),
        knowledge=kb,
    )
    if i + 1 == first:
        gc.collect()
        out["after_first"] = rss()
gc.collect()
out["after_all"] = rss()
print(json.dumps(out))
"""


@dataclass
class SizeResult:
    """Everything measured on one knowledge base."""

    label: str
    stretches: int
    build: dict[str, float | None] = field(default_factory=dict)  # engine -> seconds
    first_call: float | None = None
    selected: float | None = None  # median stretches the selection task returns
    cells: dict[str, Cell] = field(default_factory=dict)
    gc: GcMeter | None = None  # the collector's share of sirecommend's calls


class GcMeter:
    """Time Python's cyclic garbage collector spends inside the calls being measured.

    A call that allocates many container objects (tuples, models) triggers collections;
    those that run while the call's objects are alive promote them, and every so often a
    full collection walks every object alive, the knowledge included. This says how much
    of a call that is (see docs/benchmarks.md).
    """

    def __init__(self) -> None:
        self.active = False
        self.calls = 0
        self.seconds = 0.0  # inside the measured calls
        self.collecting = 0.0  # of which in the collector
        self.collections = [0, 0, 0]  # per generation
        self._started = 0.0

    def __enter__(self) -> GcMeter:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collecting += time.perf_counter() - self._started
            self.collections[info["generation"]] += 1

    def measure(self, fn: Callable[[], object]) -> object:
        self.active = True
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds += time.perf_counter() - start
            self.active = False
            self.calls += 1


@dataclass
class Report:
    settings: Settings
    peers: Sequence[Peer]
    cold: dict[str, list[float]] = field(default_factory=dict)
    load_fresh: list[float] = field(default_factory=list)
    import_fresh: list[float] = field(default_factory=list)
    first_fresh: list[float] = field(default_factory=list)
    reload: list[float] = field(default_factory=list)
    rebuild: list[float] = field(default_factory=list)
    kinds: dict[str, Cell] = field(default_factory=dict)
    sizes: list[SizeResult] = field(default_factory=list)
    synthetic_note: str = ""
    memory: dict[str, float | None] = field(default_factory=dict)
    memory_note: str = ""
    under_load: dict[str, float | None] = field(default_factory=dict)
    seconds: float = 0.0


def byte_compile() -> None:
    """Byte-compile the sirecommend package, as installing its wheel does.

    networkx and pydantic were installed from wheels, so their ``.pyc`` files exist; an
    editable install of sirecommend has none until an import writes them, and none at all
    under ``PYTHONDONTWRITEBYTECODE``. Without this, every fresh process would compile
    sirecommend's sources and the cold start would measure the compiler.
    """
    import compileall

    compileall.compile_dir(str(Path(sirecommend.__file__).parent), quiet=1)


def measure_cold_start(r: Report) -> None:
    commands: dict[str, str] = dict(COLD_COMMANDS)
    commands[FRESH] = FRESH_CODE
    commands[PYDANTIC] = PYDANTIC_CODE
    byte_compile()
    run_fresh(COLD_COMMANDS["sirecommend"])  # warms the file system cache, untimed
    names = list(commands)
    r.cold = {name: [] for name in names}
    # Interleaved, each round starting with the next command: load from other jobs on the
    # machine falls on every command alike, and the ratios of medians stay comparable.
    for i in range(r.settings.cold_runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            r.cold[name].append(run_fresh(commands[name])[0])


def measure_load(r: Report) -> None:
    for _ in range(r.settings.load_runs):
        out = run_fresh(LOAD_CODE, str(r.settings.reload_runs))[1]
        imported, loaded, first, prebuilt, fresh = map(float, out.split())
        r.import_fresh.append(imported)
        r.load_fresh.append(loaded)
        r.first_fresh.append(first)
        r.reload.append(prebuilt)
        r.rebuild.append(fresh)


def measure_kinds(r: Report, kb: KnowledgeBase) -> None:
    vocab = Vocabulary.of(kb)
    s = r.settings
    for kind in KINDS:
        profiles = list(islice(distinct_profiles(kind, vocab, seed=1), s.max_calls))
        # Warm up on other profiles: the kind's own ones stay unseen.
        for p in islice(distinct_profiles(kind, vocab, seed=2), len(vocab.contexts)):
            recommend(knowledge=kb, **p)
        gc.collect()
        r.kinds[kind] = Cell(
            time_calls(
                lambda p: recommend(knowledge=kb, **p),
                iter(profiles),
                s.cell_budget,
                s.min_calls,
                s.max_calls,
            )
        )


def measure_size(
    r: Report,
    label: str,
    kb: KnowledgeBase,
    build_seconds: float | None,
    first_call: float | None = None,
) -> SizeResult:
    s = r.settings
    vocab = Vocabulary.of(kb)
    result = SizeResult(
        label, len(kb.stretches), build={"sirecommend": build_seconds}, first_call=first_call
    )
    profiles = list(
        islice(distinct_profiles("mixed", vocab, seed=len(kb.stretches)), s.max_calls + 10)
    )
    warm = split_warm_up(profiles, vocab.contexts)
    sample = profiles[: 5 if len(kb.stretches) > 2_000 else 50]
    result.selected = statistics.median_low(len(reference_selection(kb, p)) for p in sample)

    meter = result.gc = GcMeter()

    def sire(p: Profile) -> object:
        return meter.measure(lambda: recommend(knowledge=kb, **p))

    engines: dict[str, Opener] = {"sirecommend": lambda: (sire, lambda: None)}
    notes: dict[str, str] = {}
    for peer in r.peers:
        if peer.missing:
            notes[peer.name] = peer.missing
        else:
            engines[peer.name] = lambda peer=peer: peer.build(kb)  # type: ignore[misc]

    def warm_up(name: str, fn: Select) -> None:
        """One new profile per context, stopping early for slow engines; a peer must agree
        with the reference selection."""
        spent = 0.0
        for i, p in enumerate(warm):
            start = time.perf_counter()
            out = fn(p)
            took = time.perf_counter() - start
            if i == 0 and name == "sirecommend" and result.first_call is None:
                result.first_call = took
            if name != "sirecommend" and out != reference_selection(kb, p):
                raise AssertionError(f"{name} disagrees with the reference selection")
            spent += took
            if spent > (0.05 if s.quick else 1.0):
                break

    with meter:
        result.cells, opened = interleaved(engines, profiles, s, warm_up)
    result.build.update({name: t for name, t in opened.items() if name != "sirecommend"})
    result.cells.update({name: Cell(note=note) for name, note in notes.items()})
    return result


def measure_sizes(r: Report, shipped: KnowledgeBase) -> None:
    # The shipped knowledge is warm by now: its first call is the fresh-process one.
    first = statistics.median(r.first_fresh) if r.first_fresh else None
    r.sizes.append(measure_size(r, "shipped", shipped, None, first))
    try:
        from sirecommend.testing import synthetic_knowledge
    except ImportError as exc:
        r.synthetic_note = (
            f"synthetic sizes skipped: {exc} (pip install -e '.[test]' for hypothesis)"
        )
        return
    for n in r.settings.sizes:
        gc.collect()
        start = time.perf_counter()
        kb = synthetic_knowledge(n)
        built = time.perf_counter() - start
        r.sizes.append(measure_size(r, f"synthetic_knowledge({n:,})", kb, built))
        del kb
        synthetic_knowledge.cache_clear()  # keep one large knowledge alive at a time


def measure_memory(r: Report) -> None:
    n = str(r.settings.memory_size)
    try:
        plain = json.loads(run_fresh(MEMORY_CODE, n, "plain")[1])
        traced = json.loads(run_fresh(MEMORY_CODE, n, "traced")[1])
    except RuntimeError as exc:
        r.memory_note = f"skipped: {str(exc).strip().splitlines()[-1]}"
        return
    r.memory = {**plain, "traced_peak": traced["traced_peak"], "traced_seconds": traced["seconds"]}
    n, first, total = load_calls(r.settings)
    # 100,000 calls take minutes on a busy machine: no time limit.
    out = run_fresh(LOAD_CALLS_CODE, str(n), str(first), str(total), timeout=None)[1]
    r.under_load = json.loads(out)


def load_calls(s: Settings) -> tuple[int, int, int]:
    """Knowledge size, calls before the first RSS reading, calls in all."""
    return (100, 200, 2_000) if s.quick else (1_000, 1_000, 100_000)


# --- rendering -----------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("\N{MICRO SIGN}s", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "-"
    return f"{a / b:.3g}"


def fmt_mb(size: float | None) -> str:
    return "-" if size is None else f"{size / 1e6:.1f} MB"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    align: str = ""  # "l" or "r" per column; default: the first left, the rest right

    def aligns(self) -> str:
        return self.align or "l" + "r" * (len(self.headers) - 1)

    def text(self) -> str:
        widths = [
            max(len(row[i]) for row in [self.headers, *self.rows]) for i in range(len(self.headers))
        ]

        def line(row: list[str]) -> str:
            cells = [
                c.ljust(w) if a == "l" else c.rjust(w)
                for c, w, a in zip(row, widths, self.aligns(), strict=True)
            ]
            return "  ".join(cells).rstrip()

        out = [self.title, line(self.headers), "  ".join("-" * w for w in widths)]
        out += [line(row) for row in self.rows]
        out += [f"  {n}" for n in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        def line(row: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

        align = ["---" if a == "l" else "---:" for a in self.aligns()]
        out = [f"**{self.title}**", "", line(self.headers), line(align)]
        out += [line(row) for row in self.rows]
        if self.notes:
            out += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(out)


def _verdict(value: float | None, limit: float) -> str:
    return "-" if value is None else ("yes" if value <= limit else "no")


def targets(r: Report, cold_ratio: float) -> Table:
    """The targets of issue 11 next to what this run measured (nothing is asserted)."""

    def ratio(n: int, peer: str) -> float | None:
        size = next((z for z in r.sizes if z.stretches == n and z.label != "shipped"), None)
        if size is None or peer not in size.cells:
            return None
        a, b = size.cells["sirecommend"].median, size.cells[peer].median
        return None if a is None or b is None else a / b

    rows = [
        [
            f"N={n:,}: recommend() no slower than the lean CLIPS peer (<= 1; aim 0.7)",
            fmt_ratio(ratio(n, "CLIPS"), 1),
            _verdict(ratio(n, "CLIPS"), 1),
        ]
        for n in (10, 1_000, 10_000)
    ]
    rows.append(
        [
            "N=10: at least 30x faster than rdflib (sirecommend / rdflib <= 0.0333)",
            fmt_ratio(ratio(10, "rdflib"), 1),
            _verdict(ratio(10, "rdflib"), 1 / 30),
        ]
    )
    rows.append(
        [
            "cold start (print one routine) <= 1.25x networkx + pydantic + one model (aim 1.0)",
            fmt_ratio(cold_ratio, 1),
            _verdict(cold_ratio, 1.25),
        ]
    )
    n, first, total = load_calls(r.settings)
    low, high = r.under_load.get("after_first"), r.under_load.get("after_all")
    grew = None if low is None or high is None else high - low
    rows.append(
        [
            f"synthetic_knowledge({n:,}): RSS after {total:,} calls within 10 MB of after "
            f"{first:,}",
            "-" if grew is None else f"{grew / 1e6:+.1f} MB",
            _verdict(None if grew is None else abs(grew), 10e6),
        ]
    )
    hwm = r.memory.get("load") if r.settings.memory_size == 10_000 else None
    rows.append(
        ["loading 10,000 synthetic stretches: peak RSS < 200 MB", fmt_mb(hwm), _verdict(hwm, 200e6)]
    )
    return Table(
        "Targets of issue 11, as measured in this run",
        ["target", "measured", "met"],
        rows,
        ["the machine may be shared: compare ratios from one run, and expect noise"],
    )


def tables(r: Report) -> list[Table]:
    s = r.settings
    out: list[Table] = []
    floor, sire, bare, fresh, model = (
        statistics.median(r.cold[k])
        for k in ("floor", "sirecommend", "bare python", FRESH, PYDANTIC)
    )

    def cold_row(label: str, median: float) -> list[str]:
        return [label, fmt_time(median), fmt_ratio(median, floor), fmt_ratio(median, model)]

    out.append(
        Table(
            f"Cold start (median of {s.cold_runs} fresh processes, interleaved)",
            ["command", "median", "ratio to floor", "ratio to floor + one model"],
            [
                cold_row(f'python -c "{COLD_COMMANDS["bare python"]}"', bare),
                cold_row(f'python -c "{COLD_COMMANDS["floor"]}" (floor)', floor),
                cold_row("the floor, plus one pydantic model defined and validated once", model),
                cold_row(f'python -c "{COLD_COMMANDS["sirecommend"]}"', sire),
                cold_row(
                    "the same, the shipped knowledge compiled afresh from its TOML files", fresh
                ),
            ],
            [
                "nothing is cached on disk: the shipped knowledge comes from its compiled "
                "form generated into the package (sirecommend/_prebuilt.py, code checked "
                "against the files by a fingerprint), so networkx is not imported",
                "the sirecommend package is byte-compiled first, as installing its wheel does",
            ],
        )
    )
    out.append(
        Table(
            "load_knowledge() on the shipped knowledge",
            ["measure", "median", "runs"],
            [
                [
                    "import sirecommend, fresh process",
                    fmt_time(statistics.median(r.import_fresh)),
                    str(len(r.import_fresh)),
                ],
                [
                    "load_knowledge(), first call in a fresh process (generated compiled form)",
                    fmt_time(statistics.median(r.load_fresh)),
                    str(len(r.load_fresh)),
                ],
                [
                    "then the first recommend(), same process",
                    fmt_time(statistics.median(r.first_fresh)),
                    str(len(r.first_fresh)),
                ],
                [
                    f"then the shipped knowledge again from its generated compiled form: "
                    f"check the fingerprint, rebuild the objects (median of {s.reload_runs})",
                    fmt_time(statistics.median(r.reload)),
                    str(len(r.reload)),
                ],
                [
                    f"then the shipped knowledge compiled afresh: read, parse, validate, "
                    f"check, build the graph, compile (median of {s.reload_runs})",
                    fmt_time(statistics.median(r.rebuild)),
                    str(len(r.rebuild)),
                ],
            ],
        )
    )
    rows = []
    for kind, cell in r.kinds.items():
        q90 = statistics.quantiles(cell.times, n=10)[-1] if len(cell.times) > 1 else None
        rows.append([kind, KINDS[kind], fmt_time(cell.median), fmt_time(q90), str(len(cell.times))])
    out.append(
        Table(
            "recommend() on the shipped knowledge, a new profile every call",
            ["profiles", "what varies", "median", "p90", "calls"],
            rows,
            align="llrrr",
        )
    )
    names = ["sirecommend", *(p.name for p in r.peers)]
    headers = ["knowledge", "stretches", "selected"]
    headers += ["sirecommend recommend()", *(f"{p.name} select" for p in r.peers)]
    headers += [f"sirecommend / {p.name}" for p in r.peers]
    rows = []
    notes: dict[str, str] = {}
    for size in r.sizes:
        medians = {n: size.cells[n].median if n in size.cells else None for n in names}
        for n in names:
            if n in size.cells and size.cells[n].note:
                notes.setdefault(n, size.cells[n].note)
        row = [size.label, f"{size.stretches:,}", f"{size.selected:g}" if size.selected else "-"]
        row += [fmt_time(medians[n]) for n in names]
        row += [fmt_ratio(medians["sirecommend"], medians[p.name]) for p in r.peers]
        rows.append(row)
    scale_notes = [
        "median per call, each call a new profile; 'selected': median stretches the "
        "selection task returns; a ratio below 1 means sirecommend is faster",
        *(f"{n}: {note}" for n, note in notes.items()),
    ]
    if r.synthetic_note:
        scale_notes.append(r.synthetic_note)
    out.append(Table("Latency against knowledge size", headers, rows, scale_notes))
    rows = [
        [
            size.label,
            f"{size.gc.calls:,}",
            f"{100 * size.gc.collecting / size.gc.seconds:.1f}%",
            *(f"{1000 * k / size.gc.calls:.3g}" for k in size.gc.collections),
        ]
        for size in r.sizes
        if size.gc is not None and size.gc.calls
    ]
    out.append(
        Table(
            "Time in Python's cyclic garbage collector, within sirecommend's calls",
            ["knowledge", "calls", "share", "gen 0 / 1,000 calls", "gen 1", "gen 2"],
            rows,
            [
                "share: of the calls' time (warm-up included), the collector's; a full "
                "(gen 2) collection walks every object alive, the knowledge's included"
            ],
        )
    )
    rows = [
        [
            size.label,
            fmt_time(size.build.get("sirecommend")),
            fmt_time(size.first_call),
            *(fmt_time(size.build.get(p.name)) for p in r.peers),
        ]
        for size in r.sizes
    ]
    out.append(
        Table(
            "Building the knowledge (one run each)",
            [
                "knowledge",
                "sirecommend build",
                "first recommend()",
                *(f"{p.name} load" for p in r.peers),
            ],
            rows,
            ["sirecommend build: synthetic_knowledge(n), generation and validation included"],
        )
    )
    m = r.memory
    n = f"{s.memory_size:,}"
    out.append(
        Table(
            f"Memory, synthetic_knowledge({n}) in a fresh process",
            ["measure", "value"],
            [
                ["tracemalloc peak while loading", fmt_mb(m.get("traced_peak"))],
                ["peak RSS (VmHWM) after imports", fmt_mb(m.get("imports"))],
                ["peak RSS after loading", fmt_mb(m.get("load"))],
                ["peak RSS after the first recommend()", fmt_mb(m.get("first_call"))],
                ["load time (without tracemalloc)", fmt_time(m.get("seconds"))],
            ],
            [r.memory_note] if r.memory_note else [],
        )
    )
    n_load, first, total = load_calls(s)
    low, high = r.under_load.get("after_first"), r.under_load.get("after_all")
    out.append(
        Table(
            f"Memory under load, synthetic_knowledge({n_load:,}), a new profile every call",
            ["measure", "value"],
            [
                [f"RSS after the first {first:,} calls", fmt_mb(low)],
                [f"RSS after {total:,} calls", fmt_mb(high)],
                [
                    "growth",
                    "-" if low is None or high is None else f"{(high - low) / 1e6:+.1f} MB",
                ],
            ],
        )
    )
    out.append(targets(r, sire / model))
    return out


def header(r: Report) -> str:
    peers = ", ".join(
        f"{p.name} {p.version}" if p.version else f"{p.name} (missing)" for p in r.peers
    )
    mode = "quick" if r.settings.quick else "full"
    return (
        f"sirecommend benchmarks ({mode} run, {r.seconds:.0f} s): sirecommend "
        f"{sirecommend.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; peers: {peers or 'none'}"
    )


def plot(r: Report, path: Path) -> str:
    """A log-log PNG of median latency against knowledge size; returns a note."""
    try:
        import matplotlib
    except ImportError:
        return "no plot: matplotlib is not installed (pip install -r benchmarks/requirements.txt)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    styles = {"sirecommend": ("o", "C0"), "rdflib": ("s", "C3"), "CLIPS": ("^", "C2")}
    synthetic = [z for z in r.sizes if z.label != "shipped"]
    shipped = [z for z in r.sizes if z.label == "shipped"]
    for name, (marker, colour) in styles.items():
        label = "sirecommend recommend()" if name == "sirecommend" else f"{name} selection"
        pts = [(z.stretches, z.cells[name].median) for z in synthetic if name in z.cells]
        xs = [x for x, y in pts if y is not None]
        ys = [y for x, y in pts if y is not None]
        if xs:
            ax.plot(xs, ys, marker=marker, color=colour, label=label)
        for z in shipped:
            y = z.cells[name].median if name in z.cells else None
            if y is not None:
                ax.plot([z.stretches], [y], marker=marker, color=colour, fillstyle="none", ms=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: fmt_time(y).replace(".0 ", " ")))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.set_xlabel("stretches in the knowledge (synthetic_knowledge(n); hollow: shipped)")
    ax.set_ylabel("median latency per call")
    ax.set_title("Latency against knowledge size (lower is better)")
    ax.grid(True, which="major", alpha=0.4)
    ax.grid(True, which="minor", alpha=0.12)
    ax.legend(loc="upper left")
    fig.text(
        0.99,
        0.01,
        f"{header(r).split(': ', 1)[0]}; a new profile every call",
        ha="right",
        va="bottom",
        fontsize=7,
        color="0.4",
    )
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return f"plot written to {path}"


# --- main ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few calls (CI)")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="write a log-log PNG here")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--sizes", help="synthetic sizes, comma-separated (default 10,...,10000)")
    parser.add_argument("--no-peers", action="store_true", help="time sirecommend alone")
    args = parser.parse_args(argv)
    s = settings_for(args)
    peers = [peer.probe() for peer in PEERS] if s.peers else []
    r = Report(settings=s, peers=peers)
    started = time.perf_counter()
    measure_cold_start(r)
    measure_load(r)
    shipped = load_knowledge()
    measure_kinds(r, shipped)
    measure_sizes(r, shipped)
    measure_memory(r)
    r.seconds = time.perf_counter() - started
    render = Table.markdown if args.markdown else Table.text
    print(header(r))
    for table in tables(r):
        print()
        print(render(table))
    if args.plot:
        print()
        print(plot(r, args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
