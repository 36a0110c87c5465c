"""Load, merge and validate knowledge packs into a frozen :class:`KnowledgeBase`.

A pack is a directory of ``*.toml`` files (or a single ``.toml`` file); each file is
a :class:`~sirecommend._models.PackFile`. The shipped knowledge is read first,
then each extra pack in the order given. A pack may add entries; it replaces an
existing entry only when that entry sets ``override = true``.

Everything is checked here, once: TOML syntax, the schema of every entry, every
reference between entries, citations, dose bounds and ordering cycles. Any
problem raises :class:`~sirecommend.errors.KnowledgeError` naming the file, the
entry and the field.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sirecommend._cache import cached
from sirecommend._compile import OrderingCycleError, compile_graph
from sirecommend._graph import build_graph, lint_graph
from sirecommend._kb import KnowledgeBase, digest_of, freeze_table
from sirecommend._models import (
    ForbidCombinationRule,
    PackFile,
    PregnancyRule,
    Stretch,
)
from sirecommend.errors import InvalidArgumentError, KnowledgeError, KnowledgeProblem, nearest

__all__ = [
    "knowledge_from_packs",
    "load_knowledge",
    "shipped_knowledge_dir",
]

# PackFile field -> KnowledgeBase attribute, in load order.
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
}

#: The tables only the shipped knowledge may fill: the fixed base kinds rules match on.
BASE_KIND_TABLES = ("movement_kind", "position_kind")

PathArg = str | os.PathLike[str]


def shipped_knowledge_dir() -> Path:
    """The directory of the knowledge shipped with the package.

    In an installed wheel it is package data (``sirecommend/_knowledge``); in a
    source checkout or editable install it is the top-level ``knowledge/``.
    """
    packaged = Path(str(resources.files("sirecommend"))) / "_knowledge"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "knowledge"


def _entry_label(table: str, raw: Any, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    return f"{table} {ident!r}" if isinstance(ident, str) else f"{table} #{index + 1}"


def _validation_problems(label: str, data: Any, err: ValidationError) -> Iterator[KnowledgeProblem]:
    for e in err.errors(include_url=False):
        loc = list(e["loc"])
        entry = ""
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            table, index = loc[0], loc[1]
            raw_list = data.get(table) if isinstance(data, dict) else None
            raw = raw_list[index] if isinstance(raw_list, list) and index < len(raw_list) else None
            entry = _entry_label(table, raw, index)
            loc = loc[2:]
            # A rule's discriminator value is not a field the author wrote.
            if table == "rule" and loc and isinstance(loc[0], str) and loc[0] in _RULE_KINDS:
                loc = loc[1:]
        field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field (typo?)" if entry else "unknown table (typo?)"
        if not entry and len(loc) == 1:
            entry, field = f"table {loc[0]!r}", ""
        yield KnowledgeProblem(label, entry, field, f"{msg} (got {_short(e.get('input'))})")


_RULE_KINDS = {
    "forbid_movement_combination",
    "when_aggravated",
    "pregnancy_avoid_position",
    "red_flag_referral",
    "general_caution",
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pack_files(pack: Path) -> list[Path]:
    if pack.is_file():
        return [pack]
    return sorted(pack.rglob("*.toml"))


def _read_pack(pack: Path, problems: list[KnowledgeProblem]) -> list[tuple[str, PackFile]]:
    if not pack.exists():
        problems.append(KnowledgeProblem(str(pack), "", "", "no such file or directory"))
        return []
    files = _pack_files(pack)
    if not files:
        problems.append(KnowledgeProblem(str(pack), "", "", "no .toml files in this pack"))
    import tomllib  # only when building: a process served from the cache never parses TOML

    out: list[tuple[str, PackFile]] = []
    for path in files:
        label = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(KnowledgeProblem(label, "", "", f"cannot read file: {exc}"))
            continue
        except tomllib.TOMLDecodeError as exc:
            problems.append(KnowledgeProblem(label, "", "", f"TOML syntax error: {exc}"))
            continue
        try:
            out.append((label, PackFile.model_validate(data)))
        except ValidationError as exc:
            problems.extend(_validation_problems(label, data, exc))
    return out


def _merge(
    files: Iterable[tuple[str, PackFile]], problems: list[KnowledgeProblem], shipped: int
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    """Merge ``files`` in order; the first ``shipped`` of them are the shipped knowledge."""
    tables: dict[str, dict[str, Any]] = {t: {} for t in TABLES}
    origins: dict[tuple[str, str], str] = {}
    for index, (label, pack) in enumerate(files):
        for table in TABLES:
            for entry in getattr(pack, table):
                key = (table, entry.id)
                if table in BASE_KIND_TABLES and index >= shipped:
                    if tables[table].get(entry.id) == entry:
                        continue  # the shipped kind itself, repeated: changes nothing
                    problems.append(
                        KnowledgeProblem(
                            label,
                            f"{table} {entry.id!r}",
                            "id",
                            "base kinds are fixed: a pack cannot add or change one; "
                            "name an existing kind in the movement's or position's is_a",
                        )
                    )
                    continue
                if key in origins and not entry.override:
                    problems.append(
                        KnowledgeProblem(
                            label,
                            f"{table} {entry.id!r}",
                            "id",
                            f"duplicate id, already defined in {origins[key]}; "
                            "set override = true to replace it",
                        )
                    )
                    continue
                if entry.override and key not in origins:
                    problems.append(
                        KnowledgeProblem(
                            label,
                            f"{table} {entry.id!r}",
                            "override",
                            "override = true but no earlier entry with this id to replace",
                        )
                    )
                    continue
                tables[table][entry.id] = entry
                origins[key] = label
    return tables, origins


class _Checker:
    """Cross-reference checks over the merged tables; collects problems."""

    def __init__(
        self,
        tables: dict[str, dict[str, Any]],
        origins: Mapping[tuple[str, str], str],
        problems: list[KnowledgeProblem],
    ) -> None:
        self.t = tables
        self.origins = origins
        self.problems = problems

    def problem(self, table: str, entry_id: str, field: str, message: str) -> None:
        self.problems.append(
            KnowledgeProblem(
                self.origins.get((table, entry_id), "<knowledge>"),
                f"{table} {entry_id!r}",
                field,
                message,
            )
        )

    def ref(self, table: str, entry_id: str, field: str, value: str | None, *targets: str) -> None:
        if value is None:
            return
        if any(value in self.t[target] for target in targets):
            return
        choices = sorted({k for target in targets for k in self.t[target]})
        hint = nearest(value, choices)
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        kinds = " or ".join(t.replace("_", " ") for t in targets)
        self.problem(table, entry_id, field, f"unknown {kinds} {value!r}{suggestion}")

    def cites(self, table: str, entry_id: str, field: str, cites: Iterable[str]) -> None:
        for c in cites:
            source_id, _, para = c.partition("#p")
            source = self.t["source"].get(source_id)
            if source is None:
                self.ref(table, entry_id, field, source_id, "source")
            elif para and (source.paragraphs is None or int(para) > source.paragraphs):
                limit = source.paragraphs or 0
                self.problem(
                    table,
                    entry_id,
                    field,
                    f"citation {c!r}: {source_id} has no paragraph {para} (it has {limit})",
                )
            elif not para and source.paragraphs is not None:
                self.problem(
                    table,
                    entry_id,
                    field,
                    f"citation {c!r} must name a paragraph, as {source_id}#pN",
                )

    def run(self) -> None:
        t = self.t
        for table in (
            "movement_kind",
            "position_kind",
            "muscle",
            "equipment",
            "movement",
            "context",
            "position",
            "position_group",
            "ordering",
            "rule",
            "urgency",
            "red_flag",
        ):
            for e in t[table].values():
                self.cites(table, e.id, "cites", e.cites)
        for mv in t["movement"].values():
            self.ref("movement", mv.id, "is_a", mv.is_a, "movement_kind")
        for pos in t["position"].values():
            self.ref("position", pos.id, "is_a", pos.is_a, "position_kind")
        for g in t["position_group"].values():
            if g.id in t["position"] or g.id in t["position_kind"]:
                self.problem(
                    "position_group", g.id, "id", "a group cannot share a position's or kind's id"
                )
            for i, m in enumerate(g.members):
                self.ref("position_group", g.id, f"members[{i}]", m, "position", "position_kind")
        for s in t["stretch"].values():
            self.stretch(s)
        for o in t["ordering"].values():
            self.ref("ordering", o.id, "before", o.before, "stretch")
            self.ref("ordering", o.id, "after", o.after, "stretch")
            if o.before == o.after:
                self.problem("ordering", o.id, "after", "a stretch cannot precede itself")
        for r in t["rule"].values():
            if isinstance(r, ForbidCombinationRule):
                for i, m in enumerate(r.movements):
                    self.ref("rule", r.id, f"movements[{i}]", m, "movement", "movement_kind")
                for i, m in enumerate(r.caution_movements):
                    self.ref(
                        "rule", r.id, f"caution_movements[{i}]", m, "movement", "movement_kind"
                    )
            elif isinstance(r, PregnancyRule):
                for i, p in enumerate(r.positions):
                    self.ref(
                        "rule",
                        r.id,
                        f"positions[{i}]",
                        p,
                        "position",
                        "position_group",
                        "position_kind",
                    )
        for f in t["red_flag"].values():
            self.ref("red_flag", f.id, "urgency", f.urgency, "urgency")
        if t["red_flag"] and not any(r.kind == "red_flag_referral" for r in t["rule"].values()):
            self.problems.append(
                KnowledgeProblem(
                    "<knowledge>",
                    "rule",
                    "kind",
                    "red flags are defined but no red_flag_referral rule says what to do",
                )
            )

    def stretch(self, s: Stretch) -> None:
        self.cites("stretch", s.id, "cites", s.cites)
        self.cites("stretch", s.id, "dosage.cites", s.dosage.cites)
        self.ref("stretch", s.id, "position", s.position, "position")
        for i, m in enumerate(s.movements):
            self.ref("stretch", s.id, f"movements[{i}]", m, "movement")
        for i, m in enumerate(s.targets):
            self.ref("stretch", s.id, f"targets[{i}]", m, "muscle")
        for i, o in enumerate(s.equipment):
            self.ref("stretch", s.id, f"equipment[{i}].uses", o.uses, "equipment")
            self.cites("stretch", s.id, f"equipment[{i}].cites", o.cites)
        for name, notes in (("instructions", s.instructions), ("cautions", s.cautions)):
            for i, note in enumerate(notes):
                self.cites("stretch", s.id, f"{name}[{i}].cites", note.cites)
        for i, link in enumerate(s.suits):
            self.ref("stretch", s.id, f"suits[{i}].context", link.context, "context")
            self.cites("stretch", s.id, f"suits[{i}].cites", link.cites)
        if s.alternative_of is not None:
            self.ref("stretch", s.id, "alternative_of", s.alternative_of, "stretch")
            primary = self.t["stretch"].get(s.alternative_of)
            if primary is not None and primary.alternative_of is not None:
                self.problem(
                    "stretch",
                    s.id,
                    "alternative_of",
                    f"{s.alternative_of!r} is itself an alternative; name the stretch "
                    f"it replaces ({primary.alternative_of!r})",
                )


def _build(
    files: list[tuple[str, PackFile]], packs: tuple[str, ...], shipped: int
) -> KnowledgeBase:
    problems: list[KnowledgeProblem] = []
    tables, origins = _merge(files, problems, shipped)
    if not problems:
        _Checker(tables, origins, problems).run()
    if problems:
        raise KnowledgeError(problems)
    frozen = {attr: freeze_table(tables[table]) for table, attr in TABLES.items()}
    kb = KnowledgeBase(
        **frozen,
        origins=freeze_table(origins),
        packs=packs,
        graph=None,  # type: ignore[arg-type]  # set just below, once the tables exist
        compiled=None,  # type: ignore[arg-type]  # compiled from the graph, below
        digest=digest_of(frozen),
    )
    graph = build_graph(kb)
    lint = lint_graph(graph)
    if lint:
        raise KnowledgeError([KnowledgeProblem("<graph>", "", "", p) for p in lint])
    kb = dataclasses.replace(kb, graph=graph)
    try:
        compiled = compile_graph(kb)
    except OrderingCycleError as exc:
        raise KnowledgeError(
            [
                KnowledgeProblem(
                    origins.get(("ordering", exc.orderings[0]), "<knowledge>")
                    if exc.orderings
                    else "<knowledge>",
                    f"ordering {', '.join(map(repr, exc.orderings))}",
                    "before",
                    str(exc),
                )
            ]
        ) from None
    return dataclasses.replace(kb, compiled=compiled)


@functools.lru_cache(maxsize=1)
def _shipped_files() -> tuple[tuple[str, PackFile], ...]:
    problems: list[KnowledgeProblem] = []
    files = _read_pack(shipped_knowledge_dir(), problems)
    if problems:  # pragma: no cover - the shipped knowledge is tested to be valid
        raise KnowledgeError(problems)
    return tuple(files)


@functools.lru_cache(maxsize=1)
def _shipped_knowledge() -> KnowledgeBase:
    files = list(_shipped_files())
    return _via_cache([], (), lambda: _build(files, (), len(files)))


def _via_cache(
    packs: list[Path], names: tuple[str, ...], build: Callable[[], KnowledgeBase]
) -> KnowledgeBase:
    """``build()`` the knowledge of the shipped files plus ``packs``, or take it from the cache.

    The cache key covers the bytes of every file (see :mod:`sirecommend._cache`). When
    a file cannot be read, the cache is skipped and ``build()`` reports the problem.
    """
    raw: list[tuple[str, bytes]] = []
    for pack in [shipped_knowledge_dir(), *packs]:
        for path in _pack_files(pack) if pack.exists() else []:
            try:
                raw.append((str(path), path.read_bytes()))
            except OSError:
                return build()
    return cached(raw, names, build)


def load_knowledge(*packs: PathArg) -> KnowledgeBase:
    """Load the shipped knowledge plus any extra pack directories, validated and frozen.

    Parameters
    ----------
    *packs : str or os.PathLike
        Directories of ``*.toml`` files (or single ``.toml`` files), applied in
        order after the shipped knowledge. A pack may add entries of any kind and
        replace an existing one only by setting ``override = true`` on it.

    Returns
    -------
    KnowledgeBase
        Frozen. The shipped knowledge alone is loaded once and cached.

    Raises
    ------
    KnowledgeError
        A path is missing or unreadable, a file is not valid TOML, an entry breaks
        the schema, names an unknown id, repeats an id, cites a paragraph that does
        not exist, or ordering constraints form a cycle. Every problem is listed
        with its file, entry and field.

    Examples
    --------
    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> sorted(kb.contexts)
    ['after_sitting', 'after_sleep', 'cool_down', 'post_activity', 'warm_up']
    >>> kb is load_knowledge()
    True
    """
    if not packs:
        return _shipped_knowledge()
    problems: list[KnowledgeProblem] = []
    paths: list[Path] = []
    for pack in packs:
        if not isinstance(pack, (str, os.PathLike)):
            problems.append(
                KnowledgeProblem(repr(pack), "", "", "a pack must be a path (str or os.PathLike)")
            )
            continue
        paths.append(Path(pack))
    if problems:
        raise KnowledgeError(problems)

    def build() -> KnowledgeBase:
        files = list(_shipped_files())
        shipped = len(files)
        for path in paths:
            files.extend(_read_pack(path, problems))
        if problems:
            raise KnowledgeError(problems)
        return _build(files, tuple(map(str, paths)), shipped)

    return _via_cache(paths, tuple(map(str, paths)), build)


def knowledge_from_packs(*files: PackFile, name: str = "<memory>") -> KnowledgeBase:
    """Merge, check and freeze pack files already in memory, *without* the shipped knowledge.

    Only the shipped base kinds (``movement_kind``, ``position_kind``) come first: they
    are the fixed vocabulary every movement and position names in ``is_a``. The same
    checks as :func:`load_knowledge` run (ids, references, citations,
    ordering cycles, graph lint), so the result is as valid as a loaded pack. Used by
    :mod:`sirecommend.testing` to build generated knowledge.

    Parameters
    ----------
    *files : PackFile
        Validated pack files, applied in order (a later entry replaces an earlier one
        only with ``override = true``).
    name : str
        Names the files in error messages (``name[0]``, ``name[1]`` ...) and is the
        knowledge's ``packs``.

    Raises
    ------
    InvalidArgumentError
        An argument is not a :class:`~sirecommend._models.PackFile`.
    KnowledgeError
        The files do not make valid knowledge.

    Examples
    --------
    >>> from sirecommend._models import PackFile
    >>> knowledge_from_packs(PackFile()).summary().splitlines()[0]
    'sirecommend knowledge: 0 stretches, 0 contexts, 0 red flags, 0 rules, 0 sources'
    """
    for f in files:
        if not isinstance(f, PackFile):
            raise InvalidArgumentError(f"a pack file must be a PackFile, not {type(f).__name__}")
    return _build(
        [_shipped_kinds(), *((f"{name}[{i}]", f) for i, f in enumerate(files))], (name,), 1
    )


def _shipped_kinds() -> tuple[str, PackFile]:
    """The shipped base kinds alone, as one pack file."""
    merged: dict[str, tuple[Any, ...]] = dict.fromkeys(BASE_KIND_TABLES, ())
    label = "<base kinds>"
    for file_label, pack in _shipped_files():
        for table in BASE_KIND_TABLES:
            if getattr(pack, table):
                merged[table] += getattr(pack, table)
                label = file_label
    return label, PackFile.model_validate(merged)


def schema_of_packs() -> dict[str, Any]:
    """The JSON Schema of one knowledge-pack TOML file (as committed in ``knowledge/``)."""
    return PackFile.model_json_schema()
