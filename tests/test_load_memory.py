"""Loading keeps what calls read and lets the rest go (issue 11 item 6: loading 10,000
stretches peaks under 200 MB RSS).

The peak itself is measured by the benchmark (``benchmarks/run.py``, "Memory,
synthetic_knowledge(10000) in a fresh process"), not here: these tests pin the structural
properties that keep it low, each of which a change can break.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sirecommend._graph as graph_module
from sirecommend import KnowledgeBase
from sirecommend._compile import _smallest_first, compile_graph, compile_reading, read_graph
from sirecommend._loader import _shipped_files, knowledge_from_packs
from sirecommend.testing import synthetic_knowledge


@pytest.fixture(scope="module")
def synthetic() -> KnowledgeBase:
    return synthetic_knowledge(300, seed=5)


class TestTheGraphIsLetGo:
    def test_the_loader_clears_the_graph_it_compiled(self, monkeypatch: pytest.MonkeyPatch) -> None:
        built: list[nx.MultiDiGraph[str]] = []
        build = graph_module.unfrozen_graph

        def keep(kb: KnowledgeBase) -> nx.MultiDiGraph[str]:
            built.append(build(kb))
            return built[-1]

        monkeypatch.setattr(graph_module, "unfrozen_graph", keep)
        kb = knowledge_from_packs(*(pack for _, pack in _shipped_files()))
        assert len(built) == 1
        assert built[0].number_of_nodes() == 0  # cleared once read
        assert kb.graph.number_of_nodes() > 0  # and built again on read

    def test_no_field_of_the_knowledge_base_holds_a_graph(self, synthetic: KnowledgeBase) -> None:
        for f in dataclasses.fields(KnowledgeBase):
            assert not isinstance(getattr(synthetic, f.name), nx.Graph), f.name
        assert synthetic.graph is not synthetic.graph

    def test_the_reading_compiles_to_the_loaded_form(self, synthetic: KnowledgeBase) -> None:
        reading = read_graph(synthetic, synthetic.graph)
        assert compile_reading(synthetic, reading) == synthetic.compiled
        assert compile_graph(synthetic) == synthetic.compiled


def _kept_once(values: list[Any]) -> bool:
    """Whether equal values among ``values`` are one object each."""
    return len({id(v) for v in values}) == len(set(values))


class TestEqualValuesAreKeptOnce:
    def test_the_muscles_of_the_slots(self, synthetic: KnowledgeBase) -> None:
        targets = [s.targets for p in synthetic.compiled.contexts.values() for s in p.slots]
        assert len(set(targets)) < len(targets)  # many slots work the same muscles
        assert _kept_once(targets)

    def test_how_gentle_each_stretch_is(self, synthetic: KnowledgeBase) -> None:
        gentle = [g for p in synthetic.compiled.contexts.values() for g in p.gentle.values()]
        assert len(set(gentle)) < len(gentle)
        assert _kept_once(gentle)

    def test_the_words_of_the_doses(self, synthetic: KnowledgeBase) -> None:
        doses = [
            d
            for p in synthetic.compiled.contexts.values()
            for s in p.slots
            for pair in s.doses.values()
            for d in pair
        ]
        assert _kept_once(doses)
        reasons = [r for d in doses for r in d.reasons]
        assert len(set(reasons)) < len(reasons)
        assert _kept_once(reasons)

    def test_only_stretches_a_choice_offers_have_an_offer_line(self) -> None:
        kb = knowledge_from_packs(*(pack for _, pack in _shipped_files()))
        offered = {m for st in kb.stretches.values() for m in st.choose_one}
        assert offered
        for sid, facts in kb.compiled.stretches.items():
            assert bool(facts.offer) == (sid in offered), sid

    def test_the_audit_keeps_a_stretchs_equal_looks_once(self, synthetic: KnowledgeBase) -> None:
        some_equal = False
        for facts in synthetic.facts.stretches.values():
            looks = [look for level in facts.looks for look in level]
            some_equal |= len(set(looks)) < len(looks)
            assert _kept_once(looks), facts.id
        assert some_equal


def _order(nodes: list[str], edges: list[tuple[str, str]], key: Callable[[str], Any]) -> Any:
    dag: nx.DiGraph[str] = nx.DiGraph()
    dag.add_nodes_from(nodes)
    dag.add_edges_from(edges)
    try:
        return list(nx.lexicographical_topological_sort(dag, key=key))
    except nx.NetworkXUnfeasible:
        return None


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.permutations(range(n)),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    ),
    st.booleans(),
)
def test_the_sort_is_networkxs_lexicographical_one(
    case: tuple[list[int], list[tuple[int, int]], list[int]], acyclic: bool
) -> None:
    """Same order as networkx on any graph, repeated edges included; None on a cycle."""
    place, pairs, weights = case
    nodes = [f"n{i}" for i in range(len(place))]
    # Acyclic: every edge runs from an earlier place to a later one.
    edges = [(nodes[a], nodes[b]) for a, b in pairs if not acyclic or place[a] < place[b]]

    def key(n: str) -> tuple[int, str]:
        return weights[int(n[1:])], n

    assert _smallest_first(nodes, edges, key) == _order(nodes, edges, key)
