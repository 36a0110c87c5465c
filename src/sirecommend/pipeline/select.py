"""Select: walk the graph from the context node to the stretches that suit it."""

from __future__ import annotations

from sirecommend._kb import KnowledgeBase
from sirecommend._models import Phase
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Candidate

__all__ = ["candidates_of", "select", "walk_context"]


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
    plain, walked = _plain_candidates(kb, profile.context)
    focus = profile.focus
    if not focus:
        return plain
    return tuple(
        c if focus.isdisjoint(w[4]) else c._replace(focus_hits=tuple(sorted(w[4] & focus)))
        for c, w in zip(plain, walked, strict=True)
    )


def candidates_of(kb: KnowledgeBase, context: str) -> tuple[Candidate, ...]:
    """The candidates of ``context`` for a profile without focus, built once per context."""
    return _plain_candidates(kb, context)[0]


def _plain_candidates(
    kb: KnowledgeBase, context: str
) -> tuple[tuple[Candidate, ...], tuple[_Walked, ...]]:
    def compute() -> tuple[tuple[Candidate, ...], tuple[_Walked, ...]]:
        walked = walk_context(kb, context)
        plain = tuple(
            Candidate(sid, phase, cites, alternatives, (), rank)
            for sid, phase, cites, alternatives, _, rank in walked
        )
        return plain, walked

    return kb.memo(("select.candidates", context), compute)


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
