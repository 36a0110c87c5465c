"""The frozen, validated knowledge base that every recommendation reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from sirecommend._floor import relaxation_lines
from sirecommend._models import (
    Context,
    Equipment,
    Movement,
    MovementKind,
    Muscle,
    Ordering,
    PackFile,
    Position,
    PositionGroup,
    PositionKind,
    ProgressionModel,
    RedFlag,
    Relaxation,
    Rule,
    Source,
    Stretch,
    UrgencyTier,
)

if TYPE_CHECKING:
    import networkx as nx

    from sirecommend._compile import Compiled
    from sirecommend._facts import KnowledgeFacts

__all__ = ["KnowledgeBase"]

_K = TypeVar("_K", str, tuple[str, str])
_T = TypeVar("_T")

#: PackFile field -> KnowledgeBase attribute, in load order.
TABLES: dict[str, str] = {
    "source": "sources",
    "movement_kind": "movement_kinds",
    "position_kind": "position_kinds",
    "muscle": "muscles",
    "equipment": "equipment",
    "position": "positions",
    "position_group": "position_groups",
    "movement": "movements",
    "context": "contexts",
    "stretch": "stretches",
    "ordering": "orderings",
    "rule": "rules",
    "urgency": "urgencies",
    "red_flag": "red_flags",
    "relaxation": "relaxations",
    "progression": "progression",
}


@dataclass(frozen=True, slots=True, eq=False)
class KnowledgeBase:
    """Validated knowledge, frozen: the tables and the compiled form of their graph.

    Build one with :func:`sirecommend.load_knowledge`; never construct it by hand.
    Every table maps ids to frozen pydantic entries, in id order. Nothing here can
    be changed after load, so one knowledge base can serve many threads.

    Examples
    --------
    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> kb.stretches["hamstring_supine"].dosage.hold_seconds
    (30, 60)
    >>> sorted(kb.position_members("floor"))
    ['half_kneeling', 'prone', 'quadruped', 'seated_floor', 'supine']
    """

    sources: Mapping[str, Source]
    #: The fixed base kinds that rules match on (shipped only; see ``is_a``).
    movement_kinds: Mapping[str, MovementKind]
    position_kinds: Mapping[str, PositionKind]
    muscles: Mapping[str, Muscle]
    equipment: Mapping[str, Equipment]
    positions: Mapping[str, Position]
    position_groups: Mapping[str, PositionGroup]
    movements: Mapping[str, Movement]
    contexts: Mapping[str, Context]
    stretches: Mapping[str, Stretch]
    orderings: Mapping[str, Ordering]
    rules: Mapping[str, Rule]
    urgencies: Mapping[str, UrgencyTier]
    red_flags: Mapping[str, RedFlag]
    #: Deliberate, documented weakenings of the shipped safety floor that packs declare.
    relaxations: Mapping[str, Relaxation]
    #: How logged feedback moves a stretch on its dose ladder (at most one model).
    progression: Mapping[str, ProgressionModel]
    #: Where each entry came from: ``(table, id) -> file``.
    origins: Mapping[tuple[str, str], str]
    #: The pack directories loaded after the shipped knowledge, in order.
    packs: tuple[str, ...]
    #: The graph compiled, at load, into what every call reads (see
    #: ``sirecommend._compile``); its size depends only on the knowledge.
    compiled: Compiled = field(repr=False)
    #: What the tables say about each stretch, position, context and rule, derived from
    #: the tables at load for the audit alone (see ``sirecommend._facts``).
    facts: KnowledgeFacts = field(repr=False)
    #: sha256 of the canonical JSON of every entry: identifies the knowledge in use.
    digest: str = ""

    @property
    def graph(self) -> nx.MultiDiGraph[str]:
        """The knowledge graph, frozen: every entry a node, every reference an edge.

        Built at load, compiled into :attr:`compiled`, and then let go: what a call
        reads is all in :attr:`compiled`, and a graph of 10,000 stretches would hold
        about 45 MB for no call. Each read builds the graph anew from the tables (a few
        milliseconds for the shipped knowledge; nothing is kept), and a program that
        never asks for it never imports networkx (the shipped knowledge is made from its
        generated compiled form).

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().graph.nodes["stretch:hamstring_supine"]["kind"]
        'stretch'
        """
        from sirecommend._graph import build_graph

        return build_graph(self)

    def kind_of_movement(self, movement: str) -> str:
        """The base kind a movement id (or a movement kind id) stands for.

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().kind_of_movement("side_bend")
        'side_bend'
        """
        found = self.movements.get(movement)
        return movement if found is None else found.is_a

    def kind_of_position(self, position: str) -> str:
        """The base kind a position id (or a position kind id) stands for.

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().kind_of_position("seated_floor")
        'seated_floor'
        """
        found = self.positions.get(position)
        return position if found is None else found.is_a

    def movement_kinds_of(self, movements: Iterable[str]) -> frozenset[str]:
        """The base kinds of ``movements`` (movement or movement kind ids).

        >>> from sirecommend import load_knowledge
        >>> sorted(load_knowledge().movement_kinds_of(["rotation", "hip_flexion"]))
        ['hip_flexion', 'rotation']
        """
        return frozenset(self.kind_of_movement(m) for m in movements)

    def position_kinds_of(self, name: str) -> frozenset[str]:
        """The base kinds a position, group or position kind id stands for.

        >>> from sirecommend import load_knowledge
        >>> sorted(load_knowledge().position_kinds_of("floor"))[:3]
        ['half_kneeling', 'kneeling', 'prone']
        """
        group = self.position_groups.get(name)
        members = group.members if group is not None else (name,)
        return frozenset(self.kind_of_position(m) for m in members)

    def position_members(self, position_or_group: str) -> frozenset[str]:
        """Every position a position, group or position kind id stands for, matched by kind.

        A position belongs when its base kind (``is_a``) is a kind the id stands for,
        so avoiding ``supine`` also avoids a pack's ``lying_on_back`` (``is_a = "supine"``).

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().position_members("supine")
        frozenset({'supine'})
        """
        kinds = self.position_kinds_of(position_or_group)
        return frozenset(p.id for p in self.positions.values() if p.is_a in kinds)

    def order(self, context: str) -> tuple[str, ...]:
        """Every stretch a context offers (those that suit it and their alternatives), in
        routine order.

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().order("warm_up")[:2]
        ('foam_roll_hip_flexors', 'foam_roll_glutes')
        """
        return self.compiled.contexts[context].order

    def summary(self) -> str:
        """A short, human-readable inventory of the knowledge.

        >>> from sirecommend import load_knowledge
        >>> print(load_knowledge().summary().splitlines()[0])
        sirecommend knowledge: 13 stretches, 5 contexts, 17 red flags, 11 rules, 14 sources
        """
        lines = [
            f"sirecommend knowledge: {len(self.stretches)} stretches, {len(self.contexts)} "
            f"contexts, {len(self.red_flags)} red flags, {len(self.rules)} rules, "
            f"{len(self.sources)} sources",
            f"digest: {self.digest[:16]}",
        ]
        lines += relaxation_lines(self.relaxations.values())
        for ctx in self.contexts.values():
            lines.append(f"  {ctx.id}: {', '.join(self.order(ctx.id))}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<KnowledgeBase {len(self.stretches)} stretches, {len(self.contexts)} contexts, "
            f"packs={list(self.packs)!r}, digest={self.digest[:12]}>"
        )


def freeze_table(entries: Mapping[_K, _T]) -> Mapping[_K, _T]:
    """A read-only mapping of ``entries``, in id order."""
    return MappingProxyType(dict(sorted(entries.items())))


def digest_of(tables: Mapping[str, Mapping[str, object]]) -> str:
    """sha256 of the canonical JSON of all tables: independent of file order.

    The text hashed is ``json.dumps({table: {id: entry.model_dump(mode="json")}},
    sort_keys=True, separators=(",", ":"))``, fed to the hash one entry at a time, so
    that neither the whole text nor a JSON copy of every entry is ever held at once.
    """
    import hashlib  # only when knowledge is built: not at import
    import json

    encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode
    sha = hashlib.sha256(b"{")
    for i, (name, table) in enumerate(sorted(tables.items())):
        sha.update(f"{',' if i else ''}{encode(name)}:{{".encode())
        keys = sorted(table)
        dumped_entries = _dump_entries(name, [table[k] for k in keys])
        for j, (key, dumped) in enumerate(zip(keys, dumped_entries, strict=True)):
            sha.update(f"{',' if j else ''}{encode(key)}:{encode(dumped)}".encode())
        sha.update(b"}")
    sha.update(b"}")
    return sha.hexdigest()


def _dump_entries(table: str, entries: list[object]) -> list[object]:
    """``[e.model_dump(mode="json") for e in entries]``, for the entries of ``table``.

    They are dumped through the serializer of :class:`~sirecommend._models.PackFile`,
    built once with its validator, so that no entry class builds a serializer of its own
    just to be hashed (that is most of what hashing the shipped knowledge would cost).
    """
    if not entries:
        return []
    field = _PACK_FIELDS[table]
    values: dict[str, Any] = {field: tuple(entries)}
    dumped = PackFile.model_construct(**values).model_dump(mode="json", include={field})
    out: list[object] = dumped[field]
    return out


#: KnowledgeBase table attribute -> its field in a PackFile.
_PACK_FIELDS = {attr: table for table, attr in TABLES.items()}
