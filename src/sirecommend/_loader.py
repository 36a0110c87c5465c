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
import itertools
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sirecommend._compile import OrderingCycleError, compile_reading, read_graph
from sirecommend._facts import knowledge_facts
from sirecommend._floor import unrelaxed, weakenings
from sirecommend._kb import TABLES, KnowledgeBase, digest_of, freeze_table
from sirecommend._models import (
    ForbidCombinationRule,
    PackFile,
    PregnancyRule,
    Stretch,
    WhenAggravatedRule,
)
from sirecommend.errors import InvalidArgumentError, KnowledgeError, KnowledgeProblem, nearest

__all__ = [
    "knowledge_from_packs",
    "load_knowledge",
    "shipped_knowledge_dir",
]

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


#: The largest knowledge file read, in bytes (1 MiB). The biggest shipped file is a few
#: KiB; anything larger is a mistake (or ``/dev/zero``), not knowledge.
MAX_FILE_BYTES = 1 << 20


#: The most schema problems listed for one file. Past it the file is refused whole and
#: the rest are counted, so that a small file of many bad tables stays quick to report.
MAX_PROBLEMS_PER_FILE = 100


def _pack_files(pack: Path) -> tuple[list[Path], list[Path]]:
    """Every ``*.toml`` under ``pack``, and every symlink to a directory found there.

    A symlink to a directory is not followed (a loop would never end) but returned, so
    that what it holds is not dropped without a word. The walk is a loop, not recursion,
    so no depth of directories exhausts the stack, and each directory is closed at once.
    """
    if not pack.is_dir():
        return [pack], []  # a single file; _read_file refuses it unless it is a regular one
    files: list[Path] = []
    links: list[Path] = []
    folders = [pack]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            found = list(entries)
        for entry in found:
            path = folder / entry.name
            if entry.name.endswith(".toml"):
                files.append(path)  # of any kind: _read_file refuses all but regular files
            if entry.is_dir(follow_symlinks=False):
                folders.append(path)
            elif entry.is_symlink() and entry.is_dir() and not entry.name.endswith(".toml"):
                links.append(path)
    return sorted(files), sorted(links)


def _read_file(path: Path) -> bytes:
    """The bytes of the regular file ``path``, read without ever blocking.

    Only a regular file (or a symlink to one) of at most :data:`MAX_FILE_BYTES` is read.
    A FIFO, a device, a socket or a directory raises ``OSError`` at once: the kind is
    checked with :func:`os.stat`, the file opened with ``O_NONBLOCK`` (so a FIFO swapped
    in meanwhile does not wait for a writer) and checked again on the descriptor, which
    is what is read.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"not a regular file: {path}")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"not a regular file: {path}")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise OSError(f"larger than the limit of {MAX_FILE_BYTES} bytes for a knowledge file")
    return b"".join(chunks)


def _parse(label: str, raw: bytes) -> tuple[Any, KnowledgeProblem | None]:
    """The TOML data of one file, or the problem that stops it being read.

    Every error becomes a problem naming the file: bad TOML, nesting deep enough to
    exhaust the stack (``RecursionError``), an integer past Python's digit limit
    (``ValueError``), ``MemoryError`` or anything else the parser raises.
    """
    import tomllib  # only when building knowledge: not at import

    try:
        # utf-8-sig: a byte-order mark, as some editors write, is not a syntax error.
        return tomllib.loads(raw.decode("utf-8-sig")), None
    except UnicodeDecodeError as exc:
        return None, KnowledgeProblem(label, "", "", f"cannot read file: {exc}")
    except tomllib.TOMLDecodeError as exc:
        return None, KnowledgeProblem(label, "", "", f"TOML syntax error: {exc}")
    except RecursionError:
        return None, KnowledgeProblem(label, "", "", "cannot read file: nested too deeply")
    except MemoryError:
        return None, KnowledgeProblem(label, "", "", "cannot read file: out of memory")
    except Exception as exc:
        return None, KnowledgeProblem(label, "", "", f"cannot read file: {exc}")


def _head(value: Any) -> Any:
    """``value`` with every table and array cut to its first :data:`MAX_PROBLEMS_PER_FILE`."""
    if isinstance(value, dict):
        items = itertools.islice(value.items(), MAX_PROBLEMS_PER_FILE)
        return {k: _head(v) for k, v in items}
    if isinstance(value, list):
        return [_head(v) for v in value[:MAX_PROBLEMS_PER_FILE]]
    return value


def _head_problems(label: str, head: Any) -> list[KnowledgeProblem]:
    try:
        PackFile.model_validate(head)
    except ValidationError as exc:
        found = _validation_problems(label, head, exc)
        return list(itertools.islice(found, MAX_PROBLEMS_PER_FILE))
    return []


def _validate_file(
    label: str, data: Any, problems: list[KnowledgeProblem], broken: set[tuple[str, str]]
) -> PackFile:
    """``data`` as a :class:`PackFile`: the entries that pass, every problem of the others.

    An entry that breaks the schema is dropped and its ``(table, id)`` added to
    ``broken``, so that the cross-reference checks still run on the rest without
    repeating it as an unknown id.
    """
    try:
        return PackFile.model_validate(data)
    except ValidationError as exc:
        count = exc.error_count()
        if count > MAX_PROBLEMS_PER_FILE:
            # Hundreds of thousands of tiny bad tables fit in 1 MiB, and listing a
            # million errors takes seconds: list the problems of the file's first
            # entries only, count the rest, and refuse the file whole.
            head = _head(data)
            listed = _head_problems(label, head)
            problems.extend(listed)
            problems.append(
                KnowledgeProblem(
                    label,
                    "",
                    "",
                    f"{count} problems in all, {len(listed)} listed: the file is refused",
                )
            )
            return PackFile()
        problems.extend(_validation_problems(label, data, exc))
    good: dict[str, list[Any]] = {}
    for table, entries in data.items():
        if table not in PackFile.model_fields or not isinstance(entries, list):
            continue
        for entry in entries:
            try:
                PackFile.model_validate({table: [entry]})
            except ValidationError:
                ident = entry.get("id") if isinstance(entry, dict) else None
                if isinstance(ident, str):
                    broken.add((table, ident))
                continue
            good.setdefault(table, []).append(entry)
    return PackFile.model_validate(good)


def _read_pack(
    pack: Path, problems: list[KnowledgeProblem], broken: set[tuple[str, str]] | None = None
) -> list[tuple[str, PackFile]]:
    try:
        if not pack.exists():
            problems.append(KnowledgeProblem(str(pack), "", "", "no such file or directory"))
            return []
        files, linked = _pack_files(pack)
    except OSError as exc:  # e.g. a name too long for the file system
        problems.append(KnowledgeProblem(str(pack), "", "", f"cannot read pack: {exc.strerror}"))
        return []
    for link in linked:
        problems.append(
            KnowledgeProblem(
                str(link),
                "",
                "",
                "a symlink to a directory is not followed: give that directory as a pack",
            )
        )
    if not files:
        problems.append(KnowledgeProblem(str(pack), "", "", "no .toml files in this pack"))
    broken = set() if broken is None else broken
    out: list[tuple[str, PackFile]] = []
    for path in files:
        label = str(path)
        try:
            raw = _read_file(path)
        except OSError as exc:
            problems.append(KnowledgeProblem(label, "", "", f"cannot read file: {exc}"))
            continue
        data, problem = _parse(label, raw)
        if problem is not None:
            problems.append(problem)
            continue
        out.append((label, _validate_file(label, data, problems, broken)))
    return out


def _merge(
    files: Iterable[tuple[str, PackFile]],
    problems: list[KnowledgeProblem],
    shipped: int,
    broken: set[tuple[str, str]],
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], str]]:
    """Merge ``files`` in order; the first ``shipped`` of them are the shipped knowledge.

    An entry refused here (an override of nothing) is added to ``broken``.
    """
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
                    broken.add(key)
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
        broken: Iterable[tuple[str, str]],
        order: Mapping[str, int],
    ) -> None:
        self.t = tables
        #: Each file's place in load order (later is higher).
        self.order = order
        self.origins = origins
        self.problems = problems
        # Entries dropped for their own problems: not reported again as unknown ids.
        self.broken = frozenset(broken)

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
        if any(value in self.t[target] or (target, value) in self.broken for target in targets):
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
            "relaxation",
        ):
            for e in t[table].values():
                self.cites(table, e.id, "cites", e.cites)
        for table in ("movement", "position"):
            for e in t[table].values():
                self.ref(table, e.id, "is_a", e.is_a, f"{table}_kind")
                if e.id in t[f"{table}_kind"] and e.is_a != e.id:
                    # Rules and profiles may name the kind by its id: it must mean the kind.
                    self.problem(
                        table, e.id, "is_a", f"a {table} named like a base kind must be that kind"
                    )
        for g in t["position_group"].values():
            if g.id in t["position"]:
                # Blame the later of the two: a pack's position "floor", not the shipped group.
                table = max(
                    ("position_group", "position"),
                    key=lambda tb: self.order[self.origins[(tb, g.id)]],
                )
                self.problem(table, g.id, "id", "a position and a group cannot share an id")
            elif g.id in t["position_kind"]:
                self.problem(
                    "position_group", g.id, "id", "a group cannot share a position's or kind's id"
                )
            for i, m in enumerate(g.members):
                self.ref("position_group", g.id, f"members[{i}]", m, "position", "position_kind")
        for c in t["context"].values():
            if c.dose is not None:
                self.cites("context", c.id, "dose.cites", c.dose.cites)
            for i, m in enumerate(c.lead_movements):
                self.ref("context", c.id, f"lead_movements[{i}]", m, "movement", "movement_kind")
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
        # Tables keep load order: the first when_aggravated rule is the earliest loaded.
        aggravated = [r for r in t["rule"].values() if isinstance(r, WhenAggravatedRule)]
        for r in aggravated[1:]:
            self.problem(
                "rule",
                r.id,
                "kind",
                f"a second when_aggravated rule, after {aggravated[0].id!r}: the two "
                "contradict, only one may apply; set override = true on that one to change it",
            )
        for f in t["red_flag"].values():
            self.ref("red_flag", f.id, "urgency", f.urgency, "urgency")
        for p in t["progression"].values():
            for name in ("cites", "ladder_cites", "pause_cites"):
                self.cites("progression", p.id, name, getattr(p, name))
        if len(t["progression"]) > 1:
            self.problem(
                "progression",
                sorted(t["progression"])[1],
                "id",
                "only one progression model may apply; replace the shipped one with "
                f"override = true and its id {sorted(t['progression'])[0]!r}",
            )
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
        for i, member in enumerate(s.choose_one):
            self.ref("stretch", s.id, f"choose_one[{i}]", member, "stretch")
            found = self.t["stretch"].get(member)
            if found is not None and (found.choose_one or found.alternative_of is not None):
                self.problem(
                    "stretch",
                    s.id,
                    f"choose_one[{i}]",
                    f"{member!r} is itself a choice or an alternative; offer plain stretches",
                )
            elif found is not None and not {c.context for c in s.suits} <= {
                c.context for c in found.suits
            }:
                self.problem(
                    "stretch",
                    s.id,
                    f"choose_one[{i}]",
                    f"{member!r} does not suit every context the choice suits",
                )
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


def _check_floor(
    shipped_files: list[tuple[str, PackFile]],
    tables: dict[str, dict[str, Any]],
    origins: Mapping[tuple[str, str], str],
    problems: list[KnowledgeProblem],
    broken: Iterable[tuple[str, str]],
) -> None:
    """Add a problem for every weakening of the shipped safety floor that no relaxation
    declares, and for every relaxation that relaxes nothing (see :mod:`sirecommend._floor`).

    A relaxation of an entry in ``broken`` (refused for its own problems) is not reported.
    """
    shipped, _ = _merge(shipped_files, [], len(shipped_files), set())
    found, idle = unrelaxed(weakenings(shipped, tables), tables["relaxation"].values())
    for w in found:
        problems.append(
            KnowledgeProblem(
                origins[(w.table, w.entry)],
                f"{w.table} {w.entry!r}",
                w.field,
                f"{w.message}; this weakens the shipped safety floor. To do it on purpose, "
                "declare a [[relaxation]] with the reason, the responsible clinician and "
                "a citation",
            )
        )
    refused = set(broken)
    for r in idle:
        if (r.table, r.entry) in refused:
            continue  # the entry it relaxes was refused and is reported already
        problems.append(
            KnowledgeProblem(
                origins[("relaxation", r.id)],
                f"relaxation {r.id!r}",
                "field",
                f"relaxes nothing: no pack weakens {r.table} {r.entry!r} field {r.field!r}",
            )
        )


def _build(
    files: list[tuple[str, PackFile]],
    packs: tuple[str, ...],
    shipped: int,
    problems: list[KnowledgeProblem] | None = None,
    broken: set[tuple[str, str]] | None = None,
) -> KnowledgeBase:
    """Merge and check ``files`` (the first ``shipped`` are the shipped knowledge), and freeze.

    ``problems`` and ``broken`` carry what reading the files found already, so that every
    problem (schema, references, the safety floor) is reported in one pass.
    """
    problems = [] if problems is None else problems
    broken = set() if broken is None else broken
    tables, origins = _merge(files, problems, shipped, broken)
    order = {label: i for i, (label, _) in enumerate(files)}
    _Checker(tables, origins, problems, broken, order).run()
    _check_floor(files[:shipped], tables, origins, problems, broken)
    if problems:
        raise KnowledgeError(problems)
    frozen = {attr: freeze_table(tables[table]) for table, attr in TABLES.items()}
    kb = KnowledgeBase(
        **frozen,
        origins=freeze_table(origins),
        packs=packs,
        compiled=None,  # type: ignore[arg-type]  # compiled from the graph, below
        facts=None,  # type: ignore[arg-type]  # derived from the tables, below (audit)
        digest=digest_of(frozen),
    )
    from sirecommend._graph import lint_graph, unfrozen_graph  # imports networkx

    # The graph lives only while it is linted and read: cleared at once after, it is never
    # beside the context plans built from what was read, nor the audit's facts (kb.graph
    # builds it again on read).
    graph = unfrozen_graph(kb)
    try:
        lint = lint_graph(graph)
        if lint:
            raise KnowledgeError([KnowledgeProblem("<graph>", "", "", p) for p in lint])
        reading = read_graph(kb, graph)
    finally:
        graph.clear()
    try:
        compiled = compile_reading(kb, reading)
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
    del reading  # the plans are built: what was read goes before the facts are derived
    # The audit's facts come from the tables alone, not from the graph or the compiled core.
    return dataclasses.replace(kb, compiled=compiled, facts=knowledge_facts(kb))


@functools.lru_cache(maxsize=1)
def _shipped_files() -> tuple[tuple[str, PackFile], ...]:
    problems: list[KnowledgeProblem] = []
    files = _read_pack(shipped_knowledge_dir(), problems)
    if problems:  # pragma: no cover - the shipped knowledge is tested to be valid
        raise KnowledgeError(problems)
    return tuple(files)


@functools.lru_cache(maxsize=1)
def _shipped_knowledge() -> KnowledgeBase:
    """The shipped knowledge, built once per process and kept in memory (never on disk).

    From its generated compiled form (:mod:`sirecommend._prebuilt`, code in the package)
    while that is current, else read, validated and compiled afresh.
    """
    prebuilt = _prebuilt_knowledge()
    return _fresh_shipped_knowledge() if prebuilt is None else prebuilt


def _fresh_shipped_knowledge() -> KnowledgeBase:
    """The shipped knowledge read, validated, checked and compiled from its TOML files."""
    files = list(_shipped_files())
    return _build(files, (), len(files))


#: The package modules whose source shapes the compiled form of the shipped knowledge (the
#: schema, the loader and its checks, the graph, the compiler, the audit's facts, and the
#: types and words they produce): editing one makes :mod:`sirecommend._prebuilt` stale.
FINGERPRINTED = (
    "_compile.py",
    "_facts.py",
    "_floor.py",
    "_graph.py",
    "_kb.py",
    "_loader.py",
    "_models.py",
    "_prebuild.py",
    "_render.py",
    "_routine.py",
    "_version.py",
)


def shipped_fingerprint() -> str | None:
    """sha256 over every shipped ``*.toml`` file and the source of :data:`FINGERPRINTED`.

    :mod:`sirecommend._prebuilt` records the fingerprint it was generated from, and is used
    only while it still matches; ``None`` when a file cannot be read (the knowledge is then
    compiled afresh, which reports the problem).
    """
    import hashlib

    root = shipped_knowledge_dir()
    package = Path(__file__).resolve().parent
    sha = hashlib.sha256()
    try:
        files, _ = _pack_files(root)
        named = [(f"knowledge/{p.relative_to(root).as_posix()}", p) for p in files]
        named += [(f"sirecommend/{name}", package / name) for name in FINGERPRINTED]
        for name, path in named:
            data = _read_file(path)
            sha.update(f"{name}\0{len(data)}\0".encode())
            sha.update(data)
    except OSError:
        return None
    return sha.hexdigest()


def _prebuilt_knowledge() -> KnowledgeBase | None:
    """The shipped knowledge from :mod:`sirecommend._prebuilt`, or ``None`` if that is stale."""
    from sirecommend import _prebuilt

    if shipped_fingerprint() != _prebuilt.FINGERPRINT:
        return None
    root = shipped_knowledge_dir()
    parts = _prebuilt.parts()
    origins = {key: str(root / rel) for key, rel in parts.pop("origins").items()}
    return KnowledgeBase(**parts, origins=freeze_table(origins), packs=(), digest=_prebuilt.DIGEST)


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
        Frozen. The shipped knowledge alone is built once per process and kept in
        memory; nothing is read back from a disk cache.

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
        try:
            if not isinstance(pack, (str, os.PathLike)):
                raise TypeError
            paths.append(Path(pack))  # TypeError too for an os.PathLike giving bytes
        except TypeError:
            problems.append(
                KnowledgeProblem(repr(pack), "", "", "a pack must be a path (str or os.PathLike)")
            )
    if problems:
        raise KnowledgeError(problems)

    files = list(_shipped_files())
    shipped = len(files)
    broken: set[tuple[str, str]] = set()
    for path in paths:
        files.extend(_read_pack(path, problems, broken))
    return _build(files, tuple(map(str, paths)), shipped, problems, broken)


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
