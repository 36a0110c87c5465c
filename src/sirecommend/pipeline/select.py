"""Select: walk the graph from the context node to the stretches that suit it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sirecommend._kb import KnowledgeBase
from sirecommend._models import Phase
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Candidate

__all__ = ["GROUP_SIZE", "ContextIndex", "context_index", "select", "walk_context"]


def select(kb: KnowledgeBase, profile: Profile) -> tuple[Candidate, ...]:
    """The stretches that suit ``profile.context``, found by walking the graph.

    From the context node, every ``suits`` edge leads back to a stretch (the
    edge carries the phase and citations); from each stretch, ``targets`` edges
    give the muscles it works, matched against ``profile.focus``, and
    ``alternative_of`` edges lead to the stretches that can stand in for it.
    Candidates come back in the context's precomputed order. Focus only raises
    priority (used when fitting to time); it never adds a stretch.

    >>> from sirecommend import load_knowledge, Profile
    >>> kb = load_knowledge()
    >>> [c.stretch_id for c in select(kb, Profile(context="warm_up"))][:2]
    ['child_pose_side_reach', 'foam_roll_glutes']
    """
    index = context_index(kb, profile.context)
    focus = profile.focus
    hit = sorted({i for m in focus for i in index.by_muscle.get(m, ())})
    if not hit:
        return index.candidates
    # Only the candidates that work a focus muscle change: they carry which ones.
    out = list(index.candidates)
    for i in hit:
        c = out[i]
        out[i] = Candidate(c[0], c[1], c[2], c[3], tuple(sorted(index.targets[i] & focus)), c[5])
    return tuple(out)


#: Average stretches per group from which filter_candidates() judges by group: below
#: it, the per-group bookkeeping costs more than judging each stretch (measured on the
#: shipped knowledge, 9 stretches in 7 groups: 24 us by group, 13 us one by one).
GROUP_SIZE = 4


@dataclass(frozen=True, slots=True)
class ContextIndex:
    """What a call needs of one context, built once at load from the graph walk.

    ``candidates`` are the context's candidates without focus, in rank order, and
    ``targets`` the muscles each works; ``by_muscle`` gives, per muscle, the positions
    in ``candidates`` of those that work it. ``stretch_ids`` lists every candidate
    and its alternatives, in that order (what :func:`filter_candidates` judges), and
    ``groups`` partitions them by position and equipment options (indexes into
    ``positions`` and ``equipment_options``, the distinct ones): stretches of a group
    are judged alike for any one profile. ``by_group`` says whether the groups are large
    enough (:data:`GROUP_SIZE` stretches on average) for judging by group to pay.
    """

    context: str
    candidates: tuple[Candidate, ...]
    targets: tuple[frozenset[str], ...]
    by_muscle: Mapping[str, tuple[int, ...]]
    stretch_ids: tuple[str, ...]
    positions: tuple[str, ...]
    equipment_options: tuple[tuple[str | None, ...], ...]
    groups: tuple[tuple[int, int, tuple[str, ...]], ...]
    by_group: bool


def context_index(kb: KnowledgeBase, context: str) -> ContextIndex:
    """The :class:`ContextIndex` of ``context`` (built once per knowledge base)."""

    def compute() -> ContextIndex:
        walked = walk_context(kb, context)
        candidates = tuple(
            Candidate(sid, phase, cites, alternatives, (), rank)
            for sid, phase, cites, alternatives, _, rank in walked
        )
        by_muscle: dict[str, list[int]] = {}
        for i, w in enumerate(walked):
            for muscle in sorted(w[4]):
                by_muscle.setdefault(muscle, []).append(i)
        stretch_ids = tuple(sid for c in candidates for sid in (c.stretch_id, *c.alternatives))
        groups: dict[tuple[str, tuple[str | None, ...]], list[str]] = {}
        for sid in stretch_ids:
            st = kb.stretches[sid]
            groups.setdefault((st.position, tuple(o.uses for o in st.equipment)), []).append(sid)
        positions = sorted({pos for pos, _ in groups})
        options = sorted({uses for _, uses in groups}, key=repr)
        return ContextIndex(
            context=context,
            candidates=candidates,
            targets=tuple(w[4] for w in walked),
            by_muscle=MappingProxyType({m: tuple(ix) for m, ix in sorted(by_muscle.items())}),
            stretch_ids=stretch_ids,
            positions=tuple(positions),
            equipment_options=tuple(options),
            groups=tuple(
                (positions.index(pos), options.index(uses), tuple(ids))
                for (pos, uses), ids in groups.items()
            ),
            by_group=len(stretch_ids) >= GROUP_SIZE * len(groups),
        )

    return kb.memo(("select.index", context), compute)


_Walked = tuple[str, Phase, tuple[str, ...], tuple[str, ...], frozenset[str], int]


def walk_context(kb: KnowledgeBase, context: str) -> tuple[_Walked, ...]:
    """The graph walk from one context node, done once per context and remembered.

    For each stretch that ``suits`` the context: its id, phase and link citations,
    its alternatives (in preference order), the muscles it ``targets``, and its rank
    in the context's order; sorted by rank.
    """

    def compute() -> tuple[_Walked, ...]:
        # At load only (see sirecommend.pipeline.prepare): a process that loads the
        # knowledge from the cache never needs the graph helpers.
        from sirecommend._graph import in_neighbours, node, out_neighbours

        g = kb.graph
        plan = kb.plans[context]
        out: list[_Walked] = []
        for stretch_node, _, data in g.in_edges(node("context", context), data=True):
            sid = g.nodes[stretch_node]["id"]
            targets = frozenset(
                g.nodes[m]["id"] for m in out_neighbours(g, stretch_node, "targets")
            )
            alternatives = [
                g.nodes[a]["id"] for a in in_neighbours(g, stretch_node, "alternative_of")
            ]
            out.append(
                (
                    sid,
                    data["phase"],
                    tuple(data["cites"]),
                    tuple(sorted(alternatives, key=plan.alternatives[sid].index)),
                    targets,
                    plan.rank[sid],
                )
            )
        return tuple(sorted(out, key=lambda w: w[-1]))

    return kb.memo(("select.walk", context), compute)
