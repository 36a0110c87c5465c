"""Order: one unique precedence order per context, computed once at load.

The order is a topological sort of a precedence DAG with an explicit tie-break
key, so it is unique and independent of file order:

1. phases run warm-up, then targeted, then cool-down;
2. inside a phase, each position is one block, so the person changes position as
   few times as possible. Blocks follow the positions' ``sequence`` (standing
   down to lying) in the warm-up, back up in the targeted phase, and down again
   in the cool-down, so that the last block of one phase tends to be the first of
   the next; positions that share a ``sequence`` follow their ids;
3. inside a block, ``ordering`` constraints from the knowledge apply;
4. remaining ties: the first article paragraph the stretch cites, then its id.

Per call, :func:`order_steps` only filters this precomputed order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import TypeVar

import networkx as nx

from sirecommend._models import PHASES, Ordering, Phase, Position, Stretch

__all__ = ["ContextPlan", "OrderingCycleError", "order_steps", "plan_context"]

_T = TypeVar("_T")
_PARAGRAPH = re.compile(r"#p([0-9]+)$")
_NO_PARAGRAPH = 10**9


class OrderingCycleError(ValueError):
    """Ordering constraints that cannot all hold in a context (a cycle)."""

    def __init__(self, context: str, orderings: tuple[str, ...]) -> None:
        self.context = context
        self.orderings = orderings
        super().__init__(
            f"ordering constraints {', '.join(orderings)} form a cycle with each other or "
            f"with the phase and position order in context {context!r}"
        )


@dataclass(frozen=True, slots=True)
class ContextPlan:
    """What a context offers, precomputed at load.

    ``primaries`` are the stretches linked to the context; ``alternatives`` maps a
    primary to its alternatives in preference order; ``phases`` and ``link_cites``
    hold, for every candidate, the phase and the citations of its link (an
    alternative takes its primary's); ``order`` lists every candidate in the one
    routine order and ``rank`` gives each one's index in it.
    """

    context: str
    primaries: tuple[str, ...]
    alternatives: Mapping[str, tuple[str, ...]]
    phases: Mapping[str, Phase]
    link_cites: Mapping[str, tuple[str, ...]]
    order: tuple[str, ...]
    rank: Mapping[str, int]


def first_paragraph(stretch: Stretch) -> int:
    """The lowest paragraph number the stretch cites (article order), or a large number."""
    found = [int(m.group(1)) for c in stretch.cites if (m := _PARAGRAPH.search(c))]
    return min(found, default=_NO_PARAGRAPH)


def _block_key(phase: Phase, position: Position) -> tuple[int, int, str]:
    index = PHASES.index(phase)
    seq = position.sequence if index % 2 == 0 else -position.sequence
    # The id keeps two positions that share a sequence in two blocks, not one mixed block.
    return index, seq, position.id


def plan_context(
    context: str,
    stretches: Mapping[str, Stretch],
    positions: Mapping[str, Position],
    orderings: Iterable[Ordering] = (),
) -> ContextPlan:
    """Compute the :class:`ContextPlan` of ``context``.

    Raises :class:`OrderingCycleError` when the ordering constraints cannot hold.
    """
    phases: dict[str, Phase] = {}
    link_cites: dict[str, tuple[str, ...]] = {}
    primaries: list[str] = []
    for sid in sorted(stretches):
        st = stretches[sid]
        for link in st.suits:
            if link.context == context:
                primaries.append(sid)
                phases[sid] = link.phase or st.phase
                link_cites[sid] = link.cites
    alternatives: dict[str, list[str]] = {p: [] for p in primaries}
    for sid in sorted(stretches):
        primary = stretches[sid].alternative_of
        if primary in alternatives:
            alternatives[primary].append(sid)
            phases[sid] = phases[primary]
            link_cites[sid] = link_cites[primary]
    for alts in alternatives.values():
        alts.sort(key=lambda a: (first_paragraph(stretches[a]), a))

    def key(sid: str) -> tuple[int, int, str, int, int, str]:
        if sid.startswith("#"):  # a barrier between position blocks
            return (*barrier_keys[sid], 1, 0, sid)
        st = stretches[sid]
        return (*_block_key(phases[sid], positions[st.position]), 0, first_paragraph(st), sid)

    dag: nx.DiGraph[str] = nx.DiGraph()
    dag.add_nodes_from(phases)
    blocks: dict[tuple[int, int, str], list[str]] = {}
    for sid in phases:
        blocks.setdefault(_block_key(phases[sid], positions[stretches[sid].position]), []).append(
            sid
        )
    # Chain the blocks through barrier nodes: every member of a block precedes the
    # barrier, which precedes every member of the next block (linear, not quadratic).
    barrier_keys: dict[str, tuple[int, int, str]] = {}
    ordered_blocks = sorted(blocks)
    for i, block in enumerate(ordered_blocks[:-1]):
        barrier = f"#barrier{i}"
        barrier_keys[barrier] = block
        dag.add_edges_from((sid, barrier) for sid in blocks[block])
        dag.add_edges_from((barrier, sid) for sid in blocks[ordered_blocks[i + 1]])
    used = [o for o in orderings if o.before in phases and o.after in phases]
    dag.add_edges_from((o.before, o.after, {"ordering": o.id}) for o in used)
    try:
        sorted_nodes = list(nx.lexicographical_topological_sort(dag, key=key))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(dag)
        names = sorted({o.id for o in used if (o.before, o.after) in {(u, v) for u, v in cycle}})
        raise OrderingCycleError(context, tuple(names)) from None
    dag.clear()  # networkx's cached views make it a reference cycle: free it now
    order = tuple(n for n in sorted_nodes if not n.startswith("#"))
    rank = {sid: i for i, sid in enumerate(order)}
    return ContextPlan(
        context=context,
        primaries=tuple(sorted(primaries, key=rank.__getitem__)),
        alternatives=MappingProxyType({p: tuple(a) for p, a in sorted(alternatives.items())}),
        phases=MappingProxyType(dict(sorted(phases.items()))),
        link_cites=MappingProxyType(dict(sorted(link_cites.items()))),
        order=order,
        rank=MappingProxyType(rank),
    )


def order_steps(items: Iterable[_T], plan: ContextPlan, stretch_id: str = "stretch_id") -> list[_T]:
    """Sort ``items`` (anything with a ``stretch_id``) into the plan's precomputed order.

    >>> from sirecommend import load_knowledge
    >>> from types import SimpleNamespace as NS
    >>> plan = load_knowledge().plans["after_sitting"]
    >>> [i.stretch_id for i in order_steps([NS(stretch_id="standing_side_bend"),
    ...                                      NS(stretch_id="lower_trunk_rotation")], plan)]
    ['lower_trunk_rotation', 'standing_side_bend']
    """
    rank, of = plan.rank, attrgetter(stretch_id)
    return sorted(items, key=lambda item: rank[of(item)])
