"""The frozen, validated knowledge base that every recommendation reads."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from sirecommend._models import (
    Context,
    Equipment,
    Movement,
    Muscle,
    Ordering,
    Position,
    PositionGroup,
    RedFlag,
    Rule,
    Source,
    Stretch,
    UrgencyTier,
)

if TYPE_CHECKING:
    import networkx as nx

    from sirecommend.pipeline.order import ContextPlan

__all__ = ["KnowledgeBase"]

_K = TypeVar("_K", str, tuple[str, str])
_T = TypeVar("_T")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True, eq=False)
class KnowledgeBase:
    """Validated knowledge, frozen: the tables, the graph and the per-context plans.

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
    #: Where each entry came from: ``(table, id) -> file``.
    origins: Mapping[tuple[str, str], str]
    #: The pack directories loaded after the shipped knowledge, in order.
    packs: tuple[str, ...]
    graph: nx.MultiDiGraph[str] = field(repr=False)
    #: Per context: candidates, alternatives and the one precedence order.
    plans: Mapping[str, ContextPlan] = field(repr=False)
    #: sha256 of the canonical JSON of every entry: identifies the knowledge in use.
    digest: str = ""
    # Derived values computed on first use (indexes, step templates). Only ever holds
    # immutable values computed from the frozen tables, so filling it changes nothing
    # a caller can observe; dict.setdefault keeps it safe across threads.
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: Hashable, compute: Callable[[], _V]) -> _V:
        """The derived value for ``key``, computed by ``compute()`` the first time.

        Pipeline stages use it to index the frozen knowledge once and read it many times.
        """
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            return self._memo.setdefault(key, compute())  # type: ignore[no-any-return]

    def position_members(self, position_or_group: str) -> frozenset[str]:
        """The positions a position id or group id stands for.

        >>> from sirecommend import load_knowledge
        >>> load_knowledge().position_members("supine")
        frozenset({'supine'})
        """
        group = self.position_groups.get(position_or_group)
        if group is not None:
            return frozenset(group.members)
        return frozenset({position_or_group})

    def summary(self) -> str:
        """A short, human-readable inventory of the knowledge.

        >>> from sirecommend import load_knowledge
        >>> print(load_knowledge().summary().splitlines()[0])
        sirecommend knowledge: 12 stretches, 5 contexts, 16 red flags, 8 rules, 10 sources
        """
        lines = [
            f"sirecommend knowledge: {len(self.stretches)} stretches, {len(self.contexts)} "
            f"contexts, {len(self.red_flags)} red flags, {len(self.rules)} rules, "
            f"{len(self.sources)} sources",
            f"digest: {self.digest[:16]}",
        ]
        for ctx in self.contexts.values():
            plan = self.plans[ctx.id]
            lines.append(f"  {ctx.id}: {', '.join(plan.order)}")
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
        for j, (key, entry) in enumerate(sorted(table.items())):
            dumped = encode(entry.model_dump(mode="json"))  # type: ignore[attr-defined]
            sha.update(f"{',' if j else ''}{encode(key)}:{dumped}".encode())
        sha.update(b"}")
    sha.update(b"}")
    return sha.hexdigest()
