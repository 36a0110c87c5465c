"""Compile the knowledge graph, once at load, into the flat structures every call reads.

:func:`compile_graph` walks the graph (its one source: relations come from the edges, the
words of an entry from the entry its node carries) and returns a :class:`Compiled`:
typed, immutable, slotted values whose size depends only on the knowledge. A
recommendation only reads them; nothing here is filled during a call.

It does so in two steps, so that the graph and most of what it compiles into are never in
memory together: :func:`read_graph` reads the graph in one walk (the per-stretch values,
compiled at once, and what each context plan needs of its nodes and edges, as a
:class:`GraphReading`); :func:`compile_reading` builds the context plans from that
reading. The loader clears the graph between the two.

Where each fact about a stretch is compiled, and which stage reads it:

==========================================  =====================  ==================
fact                                        compiled into          read by
==========================================  =====================  ==================
contexts it suits, phase, link citations    :class:`Slot`          select, explain
its place with no focus                     ``ContextPlan.candidates``  select
its alternatives, in preference order       ``Slot.alternatives``  filter, substitute
the muscles it works (for ``focus``)        ``Slot.targets``       select
position (a bit), avoided-position reason   :class:`StretchFacts`  filter
equipment options, missing-kit reason       ``StretchFacts``       filter, explain
pregnancy and forbidden-combination rules   ``StretchFacts.rules`` filter
its exclusion when the length cap drops it  ``StretchFacts.capped`` explain
its dose in the context, and aggravated     ``Slot.doses``         dose, explain
instructions, cautions, sources             ``StretchFacts``       explain
what a choice offers, and how (``offer``)   ``StretchFacts``       substitute, explain
the one precedence order (and its cycles)   ``ContextPlan.order``  order, explain
how gentle it is, when aggravated           ``ContextPlan.gentle`` fit
==========================================  =====================  ==================

Per context, from its entry (its defaults as data, docs/decisions.md "Per-context
defaults"):

============================================  ===============================  ============
fact                                          compiled into                    read by
============================================  ===============================  ============
the time budget when the profile gives none   ``ContextPlan.default_minutes``  fit, explain
the dose level and range (``Context.dose``)   :class:`Dose` in ``Slot.doses``  dose
the order of its position blocks and its      ``ContextPlan.order``            order
lead movements (``Context.order``,
``Context.lead_movements``)
============================================  ===============================  ============
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

from sirecommend._models import (
    AGGRAVATED_MAX_STEPS,
    PHASES,
    USUAL_DOSE,
    Cited,
    Context,
    ContextDose,
    ForbidCombinationRule,
    GeneralCautionRule,
    Phase,
    PregnancyRule,
    Stretch,
    WhenAggravatedRule,
    dose_level,
)
from sirecommend._render import count, span
from sirecommend._routine import MAX_STEPS, Exclusion, Provenance, Reason, ReasonCode
from sirecommend._version import __version__

if TYPE_CHECKING:
    import networkx as nx

    from sirecommend._kb import KnowledgeBase

__all__ = [
    "SETUP_SECONDS",
    "Candidate",
    "Compiled",
    "ContextPlan",
    "Dose",
    "GraphReading",
    "Member",
    "Option",
    "OrderingCycleError",
    "RuleReason",
    "Slot",
    "StretchFacts",
    "capped_reason",
    "compile_graph",
    "compile_reading",
    "default_dose",
    "length_phrase",
    "lowest_dose",
    "offer_line",
    "precedence_order",
    "read_graph",
    "step_seconds",
]

#: Seconds allowed to get into (and out of) each step's position.
SETUP_SECONDS = 15

_PARAGRAPH = re.compile(r"#p([0-9]+)$")
_CITATION = re.compile(r"^(?P<source>[^#]+)(?:#p(?P<para>[0-9]+))?$")
_NO_PARAGRAPH = 10**9
_V = TypeVar("_V")


class OrderingCycleError(ValueError):
    """Ordering constraints that cannot all hold in a context (a cycle)."""

    def __init__(self, context: str, orderings: tuple[str, ...]) -> None:
        self.context = context
        self.orderings = orderings
        super().__init__(
            f"ordering constraints {', '.join(orderings)} form a cycle with each other or "
            f"with the phase and position order in context {context!r}"
        )


# --- the compiled values -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose level of a stretch: what a step gets, and the words that explain it."""

    hold_seconds: int
    sets: int
    range_of_motion: Literal["full", "reduced"]
    #: Estimated duration: hold x sets x sides + set-up.
    seconds: int
    #: The dose reason (and, when reduced, the reduced-range reason; at a context's
    #: gentle level, the context's reason).
    reasons: tuple[str, ...]
    #: Whether it is a context's gentle level (``Context.dose``): with logged sessions,
    #: the dose ladder gives no more than it here.
    ceiling: bool = False


@dataclass(frozen=True, slots=True)
class Option:
    """One equipment option of a stretch, as a step uses it."""

    #: The equipment id, or ``None``: the hands only.
    uses: str | None
    equipment_name: str | None
    how: str
    #: Why this option: the source's first choice, or the earlier ones need kit.
    reason: str
    cites: tuple[str, ...]


class RuleReason(NamedTuple):
    """A rule against a stretch: from which trimester it applies (0: always), and why."""

    from_trimester: int
    reason: Reason


@dataclass(frozen=True, slots=True)
class StretchFacts:
    """Everything a call needs of one stretch, whatever the context."""

    id: str
    name: str
    position: str
    position_name: str
    #: ``1 << i`` for the position's index ``i``: matched against an avoided-position mask.
    position_bit: int
    movements: tuple[str, ...]
    targets: tuple[str, ...]
    per_side: bool
    #: Equipment options in preference order; empty when it needs none.
    options: tuple[Option, ...]
    #: Why it is left out when the person has none of its equipment (None: it needs none).
    missing: Reason | None
    #: Why it is left out when the person avoids its position.
    avoided: Reason
    #: Pregnancy and forbidden-combination rules against it, in rule order.
    rules: tuple[RuleReason, ...]
    #: Its exclusion when the length cap leaves it out: not aggravated, aggravated (index
    #: by ``aggravated``). These exclusions are most of what a call over a large knowledge
    #: leaves out, so they are made here, once, and a call only picks them.
    capped: tuple[Exclusion, Exclusion]
    instructions: tuple[str, ...]
    #: Its cautions, not aggravated and aggravated (index by ``aggravated``).
    cautions: tuple[tuple[str, ...], tuple[str, ...]]
    #: Its citations (stretch, dose, notes, rules), not aggravated and aggravated.
    cites: tuple[tuple[str, ...], tuple[str, ...]]
    #: The stretches it offers as one choice (``choose_one``: roll the sore group, p15).
    choices: tuple[str, ...] = ()
    #: How a choice offers it: the muscles it works, then its instructions, in one line
    #: ("" when no choice offers it).
    offer: str = ""


@dataclass(frozen=True, slots=True)
class Slot:
    """One place a context offers: a stretch that suits it, with its alternatives."""

    stretch: StretchFacts
    phase: Phase
    link_cites: tuple[str, ...]
    #: Why the context offers it: the first reason of its step (and of a stand-in's).
    reason: str
    alternatives: tuple[StretchFacts, ...]
    targets: frozenset[str]
    #: Per stretch of the slot (its own and its alternatives'), its dose in this context
    #: (``Context.dose``) and when aggravated: index by ``aggravated``.
    doses: Mapping[str, tuple[Dose, Dose]]


class Candidate(NamedTuple):
    """A place the context offers, with the focus muscles its stretch works.

    Each plan holds one per slot with no focus muscles (``ContextPlan.candidates``); a
    call makes one only for a slot whose stretch works a muscle of the person's focus.
    """

    slot: Slot
    focus_hits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ContextPlan:
    """What one context offers, in the one routine order.

    ``slots`` are in the order of their stretch; ``order`` lists every stretch the
    context offers (slots and alternatives) in routine order and ``rank`` gives each
    one's index in it; ``by_muscle`` gives, per muscle, the indexes of the slots whose
    stretch works it.
    """

    id: str
    name: str
    slots: tuple[Slot, ...]
    order: tuple[str, ...]
    rank: Mapping[str, int]
    by_muscle: Mapping[str, tuple[int, ...]]
    #: Per stretch the context offers, how gentle it is (lower: gentler): warm-up moves
    #: before targeted stretches before the cool-down, then the more supported position
    #: (higher ``sequence``: lying) first. Fit keeps the gentlest when aggravated.
    gentle: Mapping[str, tuple[int, int]]
    #: The time budget in minutes when the profile gives none (None: no limit).
    default_minutes: float | None
    #: A candidate per slot, in slot order, for a profile with no focus muscles in it.
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class Compiled:
    """The knowledge compiled for calls: built once by :func:`compile_graph`."""

    contexts: Mapping[str, ContextPlan]
    stretches: Mapping[str, StretchFacts]
    #: Position, group or position kind id -> the bits of every position it stands for.
    avoid_masks: Mapping[str, int]
    muscle_names: Mapping[str, str]
    #: Every citation the knowledge holds -> its place in source, then paragraph order.
    citation_rank: Mapping[str, int]
    #: The general cautions (stop rules) every routine shows, in rule order.
    general_cautions: tuple[str, ...]
    #: The stop rules a pregnant person's routine shows: those, and the ``when =
    #: "pregnant"`` ones, in rule order.
    pregnant_cautions: tuple[str, ...]
    provenance: Provenance
    #: The ids a profile may name, per field (``avoid_positions``: positions and groups).
    valid_ids: Mapping[str, frozenset[str]]


# --- dose -------------------------------------------------------------------------------


def length_phrase(aggravated: bool) -> str:
    """How a reason says a stretch was left out for the length cap.

    >>> length_phrase(False)
    'to keep the routine to 8 steps'
    """
    if aggravated:
        return (
            f"to keep the routine to {AGGRAVATED_MAX_STEPS} steps while your symptoms are "
            "stirred up"
        )
    return f"to keep the routine to {MAX_STEPS} steps"


def capped_reason(aggravated: bool) -> Reason:
    """The reason of a stretch the length cap leaves out (fewer steps when aggravated).

    >>> capped_reason(True).message.startswith("Left out to keep the routine to 4 steps")
    True
    """
    if aggravated:
        message = (
            f"Left out {length_phrase(True)}: the {AGGRAVATED_MAX_STEPS} gentlest are kept "
            "(gentle moves before targeted stretches, and within each the more supported "
            "positions, such as lying down, first)."
        )
    else:
        message = (
            f"Left out {length_phrase(False)}: with no time limit given, the {MAX_STEPS} "
            "that matter most for you are kept."
        )
    return Reason(code=ReasonCode.ROUTINE_LENGTH, message=message)


def default_dose(hold: tuple[int, int], sets: tuple[int, int]) -> tuple[int, int]:
    """``(hold_seconds, sets)`` for a person who is not aggravated.

    The middle of the hold range rounded down to 5 s (never below the low end), and the
    lowest number of sets.

    >>> default_dose((30, 60), (2, 3))
    (45, 2)
    """
    low, high = hold
    mid = (low + high) // 2
    return max(low, mid - mid % 5), sets[0]


def lowest_dose(hold: tuple[int, int], sets: tuple[int, int]) -> tuple[int, int]:
    """``(hold_seconds, sets)`` at the bottom of the source's range.

    >>> lowest_dose((30, 60), (2, 3))
    (30, 2)
    """
    return hold[0], sets[0]


def step_seconds(hold_seconds: int, sets: int, per_side: bool) -> int:
    """Estimated duration of a step: holds x sets x sides, plus set-up.

    >>> step_seconds(45, 2, per_side=True)
    195
    """
    return hold_seconds * sets * (2 if per_side else 1) + SETUP_SECONDS


def offer_line(muscles: Sequence[str], instructions: Iterable[Cited]) -> str:
    """How a choice step (``choose_one``) offers one stretch: the muscles it works, then
    its instructions, in one line, so a person has the whole set-up of what they pick.

    >>> from sirecommend._models import Cited
    >>> offer_line(["Glutes"], [Cited(text="Sit.", cites=("a#p1",))])
    'Glutes: Sit.'
    """
    return f"{', '.join(muscles)}: {' '.join(note.text for note in instructions)}"


# --- order ------------------------------------------------------------------------------


class Member(NamedTuple):
    """What the precedence order knows of one stretch a context offers."""

    id: str
    phase: Phase
    #: The position's ``sequence`` (standing down to lying) and id.
    sequence: int
    position: str
    #: The lowest article paragraph the stretch cites (a large number when none).
    first_paragraph: int
    #: Whether it involves one of the context's ``lead_movements``: it opens the routine.
    lead: bool = False


def first_paragraph(cites: Iterable[str]) -> int:
    """The lowest paragraph number among ``cites``, or a large number.

    >>> first_paragraph(["a#p12", "b", "a#p9"])
    9
    """
    found = [int(m.group(1)) for c in cites if (m := _PARAGRAPH.search(c))]
    return min(found, default=_NO_PARAGRAPH)


def precedence_order(
    context: str,
    members: Iterable[Member],
    orderings: Iterable[tuple[str, str, str]] = (),
    direction: Literal["alternate", "lying_to_standing"] = "alternate",
) -> tuple[str, ...]:
    """The one routine order of a context's stretches: a topological sort with a tie-break.

    0. the ``lead`` members (those that involve a context's lead movement) open the
       routine, ordered among themselves by the rules below; then the others;
    1. with ``direction="alternate"``: phases run warm-up, then targeted, then cool-down;
       inside a phase, each position is one block, so the person changes position as few
       times as possible. Blocks follow the positions' ``sequence`` (standing down to
       lying) in the warm-up, back up in the targeted phase, and down again in the
       cool-down;
    2. with ``"lying_to_standing"``: each position is one block over the whole routine,
       from lying up to standing (never back down), and inside a block the phases run
       in turn, so phases may interleave;
       positions that share a ``sequence`` follow their ids (two blocks, not one);
    3. inside a block, ``orderings`` ``(id, before, after)`` apply;
    4. remaining ties: the first article paragraph the stretch cites, then its id.

    Raises :class:`OrderingCycleError` naming the orderings that cannot all hold.

    >>> m = [Member("b", "targeted", 1, "p", 3), Member("a", "targeted", 1, "p", 5)]
    >>> precedence_order("c", m), precedence_order("c", m, [("o", "a", "b")])
    (('b', 'a'), ('a', 'b'))
    """
    by_id = {m.id: m for m in members}

    def block(m: Member) -> tuple[int, int, int, str, int]:
        index = PHASES.index(m.phase)
        # The id keeps two positions that share a sequence in two blocks, not one.
        if direction == "lying_to_standing":
            return int(not m.lead), 0, -m.sequence, m.position, index
        down = index % 2 == 0
        return int(not m.lead), index, m.sequence if down else -m.sequence, m.position, 0

    blocks: dict[tuple[int, int, int, str, int], list[str]] = {}
    for m in by_id.values():
        blocks.setdefault(block(m), []).append(m.id)
    ordered = sorted(blocks)
    barriers = {f"#barrier{i}": b for i, b in enumerate(ordered[:-1])}

    def key(n: str) -> tuple[int, int, int, str, int, int, int, str]:
        if n in barriers:  # a barrier between position blocks
            return (*barriers[n], 1, 0, n)
        m = by_id[n]
        return (*block(m), 0, m.first_paragraph, n)

    # Chain the blocks through barrier nodes: every member of a block precedes the
    # barrier, which precedes every member of the next block (linear, not quadratic).
    edges: list[tuple[str, str]] = []
    for i, (barrier, b) in enumerate(barriers.items()):
        edges += ((sid, barrier) for sid in blocks[b])
        edges += ((barrier, sid) for sid in blocks[ordered[i + 1]])
    used = [(o, a, b) for o, a, b in orderings if a in by_id and b in by_id]
    edges += ((a, b) for _, a, b in used)
    nodes = _smallest_first([*by_id, *barriers], edges, key)
    if nodes is None:
        import networkx as nx  # at load only, to name a cycle

        dag: nx.DiGraph[str] = nx.DiGraph()
        dag.add_nodes_from(by_id)  # members first, then the edges: the cycle found is
        dag.add_edges_from(edges)  # the one a graph built in this order always gave
        cycle = set(nx.find_cycle(dag))
        raise OrderingCycleError(context, tuple(sorted({o for o, a, b in used if (a, b) in cycle})))
    return tuple(n for n in nodes if n not in barriers)


def _smallest_first(
    nodes: Iterable[str],
    edges: Iterable[tuple[str, str]],
    key: Callable[[str], tuple[Any, ...]],
) -> list[str] | None:
    """``nodes`` in the topological order of ``edges`` that takes, each time, the node of
    smallest ``key`` free to come next (``key`` ends with the node: no two are equal);
    ``None`` when the edges form a cycle.

    Kahn's algorithm over plain lists and dicts, the order networkx's
    ``lexicographical_topological_sort`` gives, at a fraction of the memory of a
    ``DiGraph`` of 10,000 stretches.

    >>> _smallest_first("abc", [("c", "a")], lambda n: (n,))
    ['b', 'c', 'a']
    >>> _smallest_first("ab", [("a", "b"), ("b", "a")], lambda n: (n,)) is None
    True
    """
    after: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = dict.fromkeys(after, 0)
    for a, b in edges:
        after[a].append(b)
        waiting[b] += 1
    free = [key(n) for n, count in waiting.items() if not count]
    heapq.heapify(free)
    out: list[str] = []
    while free:
        n = heapq.heappop(free)[-1]
        out.append(n)
        for b in after[n]:
            waiting[b] -= 1
            if not waiting[b]:
                heapq.heappush(free, key(b))
    return out if len(out) == len(after) else None


# --- the compiler -----------------------------------------------------------------------


def _citation_key(citation: str) -> tuple[str, int]:
    m = _CITATION.match(citation)
    if m is None or m.group("para") is None:
        return citation, 0
    return m.group("source"), int(m.group("para"))


class _Shared:
    """Equal values built for many stretches or contexts, kept once (only while compiling).

    A knowledge of 10,000 stretches gives about 24,000 slots: one tuple, string, frozenset
    or mapping per slot where a few hundred distinct ones serve (the muscles a slot works,
    how gentle it is, the words of a context's dose) is most of what it would hold.
    """

    def __init__(self) -> None:
        # Per type: a plain tuple is never handed out for an equal named tuple.
        self._seen: dict[type, dict[Any, Any]] = {}

    def __call__(self, value: _V) -> _V:
        seen = self._seen.get(type(value))
        if seen is None:
            seen = self._seen[type(value)] = {}
        return seen.setdefault(value, value)  # type: ignore[no-any-return]


class _Graph:
    """Reads of the frozen graph the compiler needs (public networkx API only)."""

    def __init__(self, g: nx.MultiDiGraph[str]) -> None:
        self.g = g

    def nodes(self, kind: str) -> list[str]:
        return [n for n, data in self.g.nodes(data=True) if data["kind"] == kind]

    def attr(self, n: str, name: str) -> Any:
        return self.g.nodes[n][name]

    def out(self, n: str, relation: str) -> list[tuple[str, dict[str, Any]]]:
        return [(v, d) for _, v, d in self.g.out_edges(n, data=True) if d["relation"] == relation]

    def into(self, n: str, relation: str) -> list[tuple[str, dict[str, Any]]]:
        return [(u, d) for u, _, d in self.g.in_edges(n, data=True) if d["relation"] == relation]

    def kind_of(self, n: str) -> str:
        """The base kind node a movement or position node (or a kind node) stands for."""
        found = self.out(n, "is_a")
        return found[0][0] if found else n


def compile_graph(kb: KnowledgeBase) -> Compiled:
    """Compile ``kb.graph`` into the :class:`Compiled` form every call reads:
    :func:`read_graph`, then :func:`compile_reading` (the loader clears the graph between
    the two).

    Raises :class:`OrderingCycleError` when a context's ordering constraints cannot hold.

    >>> from sirecommend import load_knowledge
    >>> c = compile_graph(load_knowledge())
    >>> c.contexts["warm_up"].order[:2]
    ('foam_roll_hip_flexors', 'foam_roll_glutes')
    """
    return compile_reading(kb, read_graph(kb, kb.graph))


@dataclass(frozen=True, slots=True)
class GraphReading:
    """Everything the compiler reads off the graph, in one walk: the graph may go after.

    The per-stretch values are compiled already; the context plans (most of
    :class:`Compiled`) are built by :func:`compile_reading` from what the graph says
    about each stretch and context, so that the graph and the plans are never in memory
    together (for 10,000 stretches, about 45 MB and 20 MB).
    """

    stretches: dict[str, StretchFacts]
    read: dict[str, _StretchReading]
    contexts: tuple[_ContextReading, ...]
    orderings: list[tuple[str, str, str]]
    avoid_masks: dict[str, int]
    muscle_names: dict[str, str]
    #: The citations the graph's edges carry.
    citations: set[str]
    general_cautions: tuple[str, ...]
    pregnant_cautions: tuple[str, ...]
    valid_ids: dict[str, frozenset[str]]
    share: _Shared


def read_graph(kb: KnowledgeBase, graph: nx.MultiDiGraph[str]) -> GraphReading:
    """Read what the compiler needs off ``graph`` (the graph of ``kb``), in one walk."""
    g = _Graph(graph)
    share = _Shared()  # equal compiled values, built once (compile time only)

    # Positions: one bit each; every id a profile may avoid -> the bits it stands for.
    positions = sorted(g.nodes("position"))
    bit = {p: 1 << i for i, p in enumerate(positions)}
    by_kind: dict[str, int] = {}
    for p in positions:
        by_kind[g.kind_of(p)] = by_kind.get(g.kind_of(p), 0) | bit[p]
    avoid = {g.attr(p, "id"): by_kind[g.kind_of(p)] for p in positions}
    for k in g.nodes("position_kind"):
        avoid[g.attr(k, "id")] = by_kind.get(k, 0)
    for grp in g.nodes("position_group"):
        # part_of links every position whose kind is the kind of a member
        avoid[g.attr(grp, "id")] = sum(bit[p] for p, _ in g.into(grp, "part_of"))

    def movement_kinds(nodes: Iterable[str]) -> frozenset[str]:
        return frozenset(g.kind_of(m) for m in nodes)

    # Rules, in rule order: what each rules out, and the cautions they add to steps.
    rule_entries = [g.attr(r, "entry") for r in sorted(g.nodes("rule"))]
    rule_nodes = sorted(g.nodes("rule"))
    forbidding: list[tuple[int, frozenset[str], int, Reason]] = []
    cautioning: list[tuple[frozenset[str] | None, str, tuple[str, ...]]] = []
    for r, entry in zip(rule_nodes, rule_entries, strict=True):
        targets = g.out(r, "forbids")
        if isinstance(entry, ForbidCombinationRule):
            reason = Reason(
                code=ReasonCode.FORBIDDEN_COMBINATION,
                message=f"It combines {' and '.join(entry.movements)}: {entry.name.lower()}.",
                rule=entry.id,
                sources=entry.cites,
            )
            forbidding.append((0, movement_kinds(v for v, _ in targets), 0, reason))
            kinds = movement_kinds(v for v, _ in g.out(r, "cautions"))
            cautioning.append((kinds, entry.caution, entry.cites))
        elif isinstance(entry, PregnancyRule):
            reason = Reason(
                code=ReasonCode.PREGNANCY, message=entry.reason, rule=entry.id, sources=entry.cites
            )
            mask, start = 0, 1
            for v, data in targets:  # positions, groups or kinds: matched by kind
                mask |= avoid[g.attr(v, "id")]
                start = int(data["from_trimester"])
            forbidding.append((start, frozenset(), mask, reason))
        elif isinstance(entry, WhenAggravatedRule):
            cautioning.append((None, entry.caution, entry.cites))  # None: when aggravated
    equipment_names = {g.attr(e, "id"): g.attr(e, "name") for e in g.nodes("equipment")}
    muscle_names = {g.attr(m, "id"): g.attr(m, "name") for m in sorted(g.nodes("muscle"))}

    # The length cap's reasons do not depend on the stretch: one object each, for all.
    capped = ((capped_reason(False),), (capped_reason(True),))

    def stretch_facts(n: str, moves: frozenset[str]) -> StretchFacts:
        st: Stretch = g.attr(n, "entry")
        ((position, _),) = g.out(n, "in_position")
        found = [
            RuleReason(start, reason)
            for start, combo, mask, reason in forbidding
            if (combo and combo <= moves) or mask & bit[position]
        ]
        base_cites = [*st.cites, *st.dosage.cites]
        base_cites += [c for note in (*st.instructions, *st.cautions) for c in note.cites]
        cautions: list[tuple[str, ...]] = []
        cites: list[tuple[str, ...]] = []
        for aggravated in (False, True):
            said, cited = [c.text for c in st.cautions], list(base_cites)
            for kinds, caution, rule_cites in cautioning:
                if (kinds is None and aggravated) or (kinds is not None and kinds & moves):
                    said.append(caution)
                    cited.extend(rule_cites)
            cautions.append(share(tuple(dict.fromkeys(said))))
            cites.append(share(tuple(dict.fromkeys(cited))))
        options = tuple(
            share(
                Option(
                    uses=o.uses,
                    equipment_name=equipment_names[o.uses] if o.uses else None,
                    how=o.how,
                    reason=(
                        f"Uses {equipment_names[o.uses].lower() if o.uses else 'your hands only'}"
                        + (
                            ", the source's first choice."
                            if k == 0
                            else ": the earlier options need equipment you lack."
                        )
                    ),
                    cites=o.cites,
                )
            )
            for k, o in enumerate(st.equipment)
        )
        missing = None
        if options and all(o.uses for o in options):
            names = " or ".join(str(o.equipment_name).lower() for o in options)
            missing = share(
                Reason(
                    code=ReasonCode.MISSING_EQUIPMENT,
                    message=f"It needs a {names}, which you do not have.",
                )
            )
        position_name: str = g.attr(position, "name")
        avoided = share(
            Reason(
                code=ReasonCode.POSITION_AVOIDED,
                message=f"It is done {position_name.lower()}, a position you avoid.",
            )
        )
        return StretchFacts(
            id=st.id,
            name=st.name,
            position=g.attr(position, "id"),
            position_name=position_name,
            position_bit=bit[position],
            movements=st.movements,
            targets=st.targets,
            per_side=st.dosage.per_side,
            options=options,
            missing=missing,
            avoided=avoided,
            rules=share(tuple(found)),
            capped=(
                Exclusion(stretch_id=st.id, name=st.name, reasons=capped[0]),
                Exclusion(stretch_id=st.id, name=st.name, reasons=capped[1]),
            ),
            instructions=tuple(note.text for note in st.instructions),
            cautions=share((cautions[0], cautions[1])),
            cites=(cites[0], cites[1]),
            choices=st.choose_one,
            offer=(
                offer_line([muscle_names[m] for m in st.targets], st.instructions)
                if st.id in offered
                else ""
            ),
        )

    stretch_nodes = {g.attr(n, "id"): n for n in g.nodes("stretch")}
    # Only a stretch some choice offers has a line to offer it by (one string less each).
    offered = {m for n in stretch_nodes.values() for m in g.attr(n, "entry").choose_one}
    read = {sid: _read_stretch(g, n, share) for sid, n in stretch_nodes.items()}
    # (the movement kinds of each stretch, read once for its facts and its plans)
    facts = {sid: stretch_facts(n, read[sid].kinds) for sid, n in sorted(stretch_nodes.items())}
    orderings = sorted(
        (d["ordering"], g.attr(u, "id"), g.attr(v, "id"))
        for u in stretch_nodes.values()
        for v, d in g.out(u, "precedes")
    )
    return GraphReading(
        stretches=facts,
        read=read,
        contexts=tuple(_read_context(g, c) for c in sorted(g.nodes("context"))),
        orderings=orderings,
        avoid_masks=dict(sorted(avoid.items())),
        muscle_names=muscle_names,
        citations={c for _, _, d in g.g.edges(data=True) for c in d.get("citations", ())},
        general_cautions=tuple(
            r.text for r in rule_entries if isinstance(r, GeneralCautionRule) and r.when == "always"
        ),
        pregnant_cautions=tuple(r.text for r in rule_entries if isinstance(r, GeneralCautionRule)),
        valid_ids={
            "equipment": frozenset(equipment_names),
            "avoid_positions": frozenset(
                g.attr(n, "id")
                for k in ("position", "position_group", "position_kind")
                for n in g.nodes(k)
            ),
            "red_flags": frozenset(g.attr(n, "id") for n in g.nodes("red_flag")),
            "focus": frozenset(g.attr(m, "id") for m in g.nodes("muscle")),
        },
        share=share,
    )


def compile_reading(kb: KnowledgeBase, reading: GraphReading) -> Compiled:
    """The :class:`Compiled` form of ``kb`` from what :func:`read_graph` read off its graph.

    Raises :class:`OrderingCycleError` when a context's ordering constraints cannot hold.
    """
    facts, share = reading.stretches, reading.share
    contexts = {
        c.id: _plan(c, reading.read, facts, reading.orderings, share) for c in reading.contexts
    }
    citations = set(reading.citations)
    for f in facts.values():
        citations.update(f.cites[1])
        for o in f.options:
            citations.update(o.cites)
    for plan in contexts.values():
        for slot in plan.slots:
            citations.update(slot.link_cites)
    return Compiled(
        contexts=MappingProxyType(contexts),
        stretches=MappingProxyType(facts),
        avoid_masks=MappingProxyType(reading.avoid_masks),
        muscle_names=MappingProxyType(reading.muscle_names),
        citation_rank=MappingProxyType(
            {c: i for i, c in enumerate(sorted(citations, key=_citation_key))}
        ),
        general_cautions=reading.general_cautions,
        pregnant_cautions=reading.pregnant_cautions,
        provenance=Provenance(
            version=__version__,
            knowledge_digest=kb.digest,
            packs=kb.packs,
            relaxations=tuple(kb.relaxations.values()),
        ),
        valid_ids=MappingProxyType({"context": frozenset(contexts), **reading.valid_ids}),
    )


def _short_cites(cites: Iterable[str]) -> str:
    return ", ".join(sorted(set(cites), key=_citation_key))


def _dose(st: Stretch, context: Context, aggravated: bool, share: _Shared) -> Dose:
    """The dose of ``st`` in ``context``: aggravated, the lowest at reduced range (the
    aggravation rule wins); else the context's level and range (``Context.dose``; absent:
    the usual dose at full range), with the context's reason when it is gentler."""
    d, level = st.dosage, context.dose
    lowest = aggravated or (level is not None and level.level == "lowest")
    reduced = aggravated or (level is not None and level.range_of_motion == "reduced")
    hold, sets = (lowest_dose if lowest else default_dose)(d.hold_seconds, d.sets)
    (lo, hi), (s_lo, s_hi) = d.hold_seconds, d.sets
    side = "on each side" if d.per_side else "in total"
    basis = "the lowest of" if lowest else "within"
    reasons = [
        f"Dose: {hold} s holds, {count(sets, 'set')} {side}, {basis} the "
        f"source's {span(lo, hi, ' s')} and {span(s_lo, s_hi)} set{'' if s_hi == 1 else 's'} "
        f"({_short_cites(d.cites)})."
    ]
    ceiling = not aggravated and _gentle(level)
    if aggravated:
        reasons.append("Reduced range of motion, because your symptoms are aggravated.")
    elif level is not None and ceiling:
        reasons.append(f"{context.name}: {level.why} ({_short_cites(level.cites)}).")
    return share(
        Dose(
            hold_seconds=hold,
            sets=sets,
            range_of_motion="reduced" if reduced else "full",
            seconds=step_seconds(hold, sets, d.per_side),
            # The same words in many doses (a context's reason, the lowest dose
            # when aggravated and at a gentle context's level): one string each.
            reasons=share(tuple(share(r) for r in reasons)),
            ceiling=ceiling,
        )
    )


def _gentle(level: ContextDose | None) -> bool:
    """Whether a context's dose is gentler than the usual dose at full range."""
    return dose_level(level) != USUAL_DOSE


@dataclass(frozen=True, slots=True)
class _StretchReading:
    """What the context plans need of one stretch node, read off the graph once."""

    entry: Stretch
    #: Its position's ``sequence`` and id.
    sequence: int
    position: str
    #: The lowest article paragraph its ``cites`` edges name.
    first_paragraph: int
    #: The base movement kind nodes it involves.
    kinds: frozenset[str]
    #: The muscles it targets.
    targets: frozenset[str]
    #: The stretches that are alternatives of it (``alternative_of`` edges into it).
    alternatives: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _ContextReading:
    """What the plan of one context needs of the graph: its entry and its ``suits`` links."""

    id: str
    name: str
    entry: Context
    #: The base movement kind nodes of its lead movements.
    lead: frozenset[str]
    #: Per stretch that suits it, in edge order: its id, phase and link citations.
    links: tuple[tuple[str, Phase, tuple[str, ...]], ...]


def _read_stretch(g: _Graph, n: str, share: _Shared) -> _StretchReading:
    ((position, _),) = g.out(n, "in_position")
    return _StretchReading(
        entry=g.attr(n, "entry"),
        sequence=g.attr(position, "sequence"),
        position=g.attr(position, "id"),
        first_paragraph=first_paragraph(c for _, d in g.out(n, "cites") for c in d["citations"]),
        kinds=share(frozenset(g.kind_of(v) for v, _ in g.out(n, "involves"))),
        targets=share(frozenset(g.attr(m, "id") for m, _ in g.out(n, "targets"))),
        alternatives=tuple(g.attr(a, "id") for a, _ in g.into(n, "alternative_of")),
    )


def _read_context(g: _Graph, c: str) -> _ContextReading:
    from sirecommend._graph import node  # at load only

    entry: Context = g.attr(c, "entry")
    return _ContextReading(
        id=g.attr(c, "id"),
        name=g.attr(c, "name"),
        entry=entry,
        lead=frozenset(
            g.kind_of(named)
            for m in entry.lead_movements
            for named in (node("movement", m), node("movement_kind", m))
            if g.g.has_node(named)
        ),
        links=tuple(
            (g.attr(u, "id"), link["phase"], tuple(link["cites"])) for u, link in g.into(c, "suits")
        ),
    )


def _plan(
    reading: _ContextReading,
    read: Mapping[str, _StretchReading],
    facts: Mapping[str, StretchFacts],
    orderings: Sequence[tuple[str, str, str]],
    share: _Shared,
) -> ContextPlan:
    """One context's slots, in the one routine order, from what was read off the graph."""
    context, name, entry, lead = reading.id, reading.name, reading.entry, reading.lead
    members: dict[str, Member] = {}
    found: list[tuple[str, Phase, tuple[str, ...], list[str], frozenset[str]]] = []

    def member(sid: str, phase: Phase) -> Member:
        r = read[sid]
        return Member(
            sid, phase, r.sequence, r.position, r.first_paragraph, not lead.isdisjoint(r.kinds)
        )

    stretches: dict[str, Stretch] = {}
    for sid, phase, cites in reading.links:
        stretches[sid] = read[sid].entry
        for a in read[sid].alternatives:
            stretches[a] = read[a].entry
        members[sid] = member(sid, phase)
        alternatives = []
        for a in read[sid].alternatives:
            members[a] = member(a, phase)  # in its primary's phase
            alternatives.append(a)
        alternatives.sort(key=lambda a: (members[a].first_paragraph, a))
        found.append((sid, phase, cites, alternatives, read[sid].targets))
    order = precedence_order(context, members.values(), orderings, entry.order)
    rank = {sid: share(i) for i, sid in enumerate(order)}
    found.sort(key=lambda f: rank[f[0]])
    slots = tuple(
        Slot(
            stretch=facts[sid],
            phase=phase,
            link_cites=cites,
            reason=(
                f"{name} -> {facts[sid].name}: the source suits it to {name.lower()}, in "
                f"the {entry.phase_titles.title(phase).lower()} phase ({_short_cites(cites)})."
            ),
            alternatives=tuple(facts[a] for a in alternatives),
            targets=targets,
            doses=MappingProxyType(
                {
                    a: (
                        _dose(stretches[a], entry, False, share),
                        _dose(stretches[a], entry, True, share),
                    )
                    for a in (sid, *alternatives)
                }
            ),
        )
        for sid, phase, cites, alternatives, targets in found
    )
    by_muscle: dict[str, list[int]] = {}
    for i, slot in enumerate(slots):
        for muscle in sorted(slot.targets):
            by_muscle.setdefault(muscle, []).append(share(i))
    return ContextPlan(
        id=context,
        name=name,
        slots=slots,
        order=order,
        rank=MappingProxyType(rank),
        by_muscle=MappingProxyType({m: tuple(ix) for m, ix in sorted(by_muscle.items())}),
        gentle=MappingProxyType(
            {sid: share((PHASES.index(m.phase), -m.sequence)) for sid, m in sorted(members.items())}
        ),
        default_minutes=entry.default_minutes,
        candidates=tuple(Candidate(slot, ()) for slot in slots),
    )
