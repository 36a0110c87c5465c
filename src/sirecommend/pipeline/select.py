"""Select: walk the graph from the context node to the stretches that suit it."""

from __future__ import annotations

from sirecommend._graph import in_neighbours, node, out_neighbours
from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Candidate

__all__ = ["select"]


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
    g = kb.graph
    plan = kb.plans[profile.context]
    out: list[Candidate] = []
    for stretch_node, _, data in g.in_edges(node("context", profile.context), data=True):
        if data["relation"] != "suits":  # pragma: no cover - contexts only have suits edges
            continue
        sid = g.nodes[stretch_node]["id"]
        targets = {g.nodes[m]["id"] for m in out_neighbours(g, stretch_node, "targets")}
        alternatives = [g.nodes[a]["id"] for a in in_neighbours(g, stretch_node, "alternative_of")]
        out.append(
            Candidate(
                stretch_id=sid,
                phase=data["phase"],
                link_cites=tuple(data["cites"]),
                alternatives=tuple(sorted(alternatives, key=plan.alternatives[sid].index)),
                focus_hits=tuple(sorted(targets & profile.focus)),
                rank=plan.rank[sid],
            )
        )
    return tuple(sorted(out, key=lambda c: c.rank))
