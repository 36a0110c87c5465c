"""The knowledge graph: every entry a node, every reference a typed edge.

Nodes are named ``"kind:id"`` (``"stretch:hamstring_supine"``) and carry ``kind``
and ``id`` attributes (positions their ``sequence``; stretch and rule nodes their frozen
``entry``, whose words ``sirecommend._compile`` reads); every edge carries a
``relation`` (also its key). Edges:

===============  ==================  =====================================
relation         from                to
===============  ==================  =====================================
suits            stretch             context (``phase``, ``cites``)
targets          stretch             muscle
in_position      stretch             position
requires         stretch             equipment (``preference``: 0 = first)
involves         stretch             movement
alternative_of   stretch             stretch it replaces
part_of          position            position_group (every position of a member's kind)
is_a             movement, position  its base movement_kind or position_kind
precedes         stretch             stretch (an ordering constraint)
forbids          rule                movement, position (or their kinds, groups) it rules out
cautions         rule                movement (or kind) whose steps carry its caution
refers           red_flag            urgency
cites            any entry           source
===============  ==================  =====================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from sirecommend._models import ForbidCombinationRule, PregnancyRule

if TYPE_CHECKING:
    from sirecommend._kb import KnowledgeBase

__all__ = [
    "NODE_KINDS",
    "RELATIONS",
    "build_graph",
    "lint_graph",
    "node",
    "out_neighbours",
    "unfrozen_graph",
]

NODE_KINDS = (
    "stretch",
    "muscle",
    "context",
    "equipment",
    "position",
    "position_group",
    "movement",
    "movement_kind",
    "position_kind",
    "rule",
    "red_flag",
    "urgency",
    "source",
)
RELATIONS = (
    "suits",
    "targets",
    "in_position",
    "requires",
    "involves",
    "alternative_of",
    "part_of",
    "is_a",
    "precedes",
    "forbids",
    "cautions",
    "refers",
    "cites",
)


def node(kind: str, id_: str) -> str:
    """Name of the graph node for entry ``id_`` of ``kind``.

    >>> node("stretch", "hamstring_supine")
    'stretch:hamstring_supine'
    """
    return f"{kind}:{id_}"


def _source_of(citation: str) -> str:
    return citation.split("#", 1)[0]


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph[str]:
    """Build the frozen knowledge graph of a (validated) knowledge base."""
    frozen: nx.MultiDiGraph[str] = nx.freeze(unfrozen_graph(kb))
    return frozen


def unfrozen_graph(kb: KnowledgeBase) -> nx.MultiDiGraph[str]:
    """The knowledge graph of ``kb``, not frozen: the loader reads it, then clears it.

    Clearing it (``g.clear()``) frees its nodes and edges at once, although the views
    networkx caches on a graph make it a reference cycle; a frozen graph cannot be cleared.
    """
    g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    names: dict[str, str] = {}

    def node(kind: str, id_: str) -> str:
        # The module's node(), with one string per name: the graph keeps the string it
        # is given for every edge.
        name = f"{kind}:{id_}"
        return names.setdefault(name, name)

    def key(relation: str, to: str) -> str:
        # One string per edge key too ("targets:glutes" is the key of every edge to it).
        name = f"{relation}:{to}"
        return names.setdefault(name, name)

    def add(kind: str, id_: str, **attrs: Any) -> str:
        name = node(kind, id_)
        g.add_node(name, kind=kind, id=id_, **attrs)
        return name

    def link(a: str, b: str, relation: str, **attrs: Any) -> None:
        g.add_edge(
            a,
            b,
            key=relation if relation != "requires" else key("requires", b),
            relation=relation,
            **attrs,
        )

    def cite(a: str, cites: tuple[str, ...]) -> None:
        for source in sorted({_source_of(c) for c in cites}):
            refs = tuple(c for c in cites if _source_of(c) == source)
            g.add_edge(
                a,
                node("source", source),
                key=key("cites", source),
                relation="cites",
                citations=cites if refs == cites else refs,
            )

    for s in kb.sources.values():
        add("source", s.id, name=s.title)
    for kind, table in (
        ("movement_kind", kb.movement_kinds),
        ("position_kind", kb.position_kinds),
        ("muscle", kb.muscles),
        ("equipment", kb.equipment),
        ("movement", kb.movements),
        ("context", kb.contexts),
        ("position_group", kb.position_groups),
    ):
        for e in table.values():
            cite(add(kind, e.id, name=e.name, entry=e), e.cites)
    for pos in kb.positions.values():
        cite(add("position", pos.id, name=pos.name, sequence=pos.sequence), pos.cites)
    for mv in kb.movements.values():
        link(node("movement", mv.id), node("movement_kind", mv.is_a), "is_a")
    for pos in kb.positions.values():
        link(node("position", pos.id), node("position_kind", pos.is_a), "is_a")
    for grp in kb.position_groups.values():
        for member in sorted(kb.position_members(grp.id)):
            link(node("position", member), node("position_group", grp.id), "part_of")
    for u in kb.urgencies.values():
        cite(add("urgency", u.id, name=u.id, rank=u.rank), u.cites)
    for f in kb.red_flags.values():
        name = add("red_flag", f.id, name=f.name, urgency=f.urgency)
        link(name, node("urgency", f.urgency), "refers")
        cite(name, f.cites)
    for st in kb.stretches.values():
        name = add("stretch", st.id, name=st.name, phase=st.phase, dosage=st.dosage, entry=st)
        cite(name, st.cites)
        link(name, node("position", st.position), "in_position")
        for m in st.targets:
            g.add_edge(name, node("muscle", m), key=key("targets", m), relation="targets")
        for m in st.movements:
            g.add_edge(name, node("movement", m), key=key("involves", m), relation="involves")
        for rank, option in enumerate(st.equipment):
            if option.uses is not None:
                link(name, node("equipment", option.uses), "requires", preference=rank)
        for ctx in st.suits:
            g.add_edge(
                name,
                node("context", ctx.context),
                key=key("suits", ctx.context),
                relation="suits",
                phase=ctx.phase or st.phase,
                cites=ctx.cites,
            )
        if st.alternative_of is not None:
            link(name, node("stretch", st.alternative_of), "alternative_of")
    for o in kb.orderings.values():
        g.add_edge(
            node("stretch", o.before),
            node("stretch", o.after),
            key=f"precedes:{o.id}",
            relation="precedes",
            ordering=o.id,
        )
    for r in kb.rules.values():
        name = add("rule", r.id, name=r.name, rule_kind=r.kind, entry=r)
        cite(name, r.cites)
        if isinstance(r, ForbidCombinationRule):
            for m in r.movements:
                kind = "movement" if m in kb.movements else "movement_kind"
                g.add_edge(name, node(kind, m), key=key("forbids", m), relation="forbids")
            for m in r.caution_movements:
                kind = "movement" if m in kb.movements else "movement_kind"
                g.add_edge(name, node(kind, m), key=key("cautions", m), relation="cautions")
        elif isinstance(r, PregnancyRule):
            for p in r.positions:
                kind = (
                    "position_group"
                    if p in kb.position_groups
                    else "position"
                    if p in kb.positions
                    else "position_kind"
                )
                g.add_edge(
                    name,
                    node(kind, p),
                    key=key("forbids", p),
                    relation="forbids",
                    from_trimester=r.from_trimester,
                )
    return g


def out_neighbours(g: nx.MultiDiGraph[str], n: str, relation: str) -> list[str]:
    """The nodes ``n`` points to through edges of ``relation``."""
    return [v for _, v, data in g.out_edges(n, data=True) if data["relation"] == relation]


def _nodes_where(g: nx.MultiDiGraph[str], attr: str, value: str) -> list[str]:
    return sorted(n for n, data in g.nodes(data=True) if data.get(attr) == value)


def lint_graph(graph: nx.MultiDiGraph[str]) -> list[str]:
    """Check the graph's structure; return the problems found, an empty list when sound.

    Checks that every stretch is reachable from a context (directly, or as the
    alternative of one that is), has exactly one position, a dosage, and a
    citation; that every node has a known ``kind`` and every edge a known
    ``relation``; and that no two rules contradict each other (two different
    ``when_aggravated`` rules; a pregnancy rule and a forbidden combination that
    name nothing).

    >>> from sirecommend import load_knowledge
    >>> lint_graph(load_knowledge().graph)
    []
    """
    problems: list[str] = []
    for n in sorted(graph.nodes):
        kind = graph.nodes[n].get("kind")
        if kind not in NODE_KINDS:
            problems.append(f"{n}: unknown node kind {kind!r}")
    edges = ((u, v, str(d.get("relation"))) for u, v, d in graph.edges(data=True))
    for u, v, relation in sorted(e for e in edges if e[2] not in RELATIONS):
        problems.append(f"{u} -> {v}: unknown relation {relation!r}")
    for s in _nodes_where(graph, "kind", "stretch"):
        out: dict[str, list[str]] = {}  # relation -> the nodes s points to through it
        for _, v, data in graph.out_edges(s, data=True):
            out.setdefault(data["relation"], []).append(v)
        if len(out.get("in_position", ())) != 1:
            problems.append(f"{s}: must be in exactly one position")
        if not out.get("cites"):
            problems.append(f"{s}: cites no source")
        if not out.get("targets"):
            problems.append(f"{s}: targets no muscle")
        if graph.nodes[s].get("dosage") is None:
            problems.append(f"{s}: has no dosage")
        reach = list(out.get("suits", ()))
        for primary in out.get("alternative_of", ()):
            reach += out_neighbours(graph, primary, "suits")
        if not reach:
            problems.append(f"{s}: not reachable from any context")
    for kind in ("movement", "position"):
        for n in _nodes_where(graph, "kind", kind):
            if len(out_neighbours(graph, n, "is_a")) != 1:
                problems.append(f"{n}: must be linked by is_a to exactly one base kind")
    aggravated = _nodes_where(graph, "rule_kind", "when_aggravated")
    if len(aggravated) > 1:
        problems.append(
            f"rules {', '.join(aggravated)} contradict: only one when_aggravated rule may apply"
        )
    return problems
