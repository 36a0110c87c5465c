"""The ``sirecommend`` command line: a thin layer over the public API.

Run ``sirecommend --help`` (or ``python -m sirecommend --help``) for the subcommands:

===========  =====================================================================
recommend    a routine for a profile, as text, JSON, Markdown or a printable HTML page
explain      why each stretch is in or out of the routine for a profile
list KIND    every id of a kind (contexts, stretches, equipment, positions, movements,
             muscles, red-flags, rules, sources), as a table or JSON
contexts     the contexts a routine can be asked for (= ``list contexts``)
stretches    the stretches in the knowledge
show ID      one knowledge entry, where it came from, and its links in the graph
validate     lint the shipped knowledge or extra packs (exit 2 listing every problem)
graph        the knowledge graph as DOT, GraphML, node-link JSON, SVG or PNG
schema       the JSON Schema of a knowledge-pack file
log          record how a session went, in the journal (flags or prompts)
next         the next session, dosed from the journal by the progression rules
history      the journal as a table, JSON or a chart of pain and sets
plan         a dated plan for some weeks, and an iCalendar file with ``--ics``
===========  =====================================================================

The programme commands (``log``, ``next``, ``history``) read and write the journal
named by ``--journal PATH``, else ``$SIRECOMMEND_JOURNAL``, else the platform's user
data directory (see :mod:`sirecommend.journal`).

``sirecommend`` alone prints the usage and the list of commands. ``-o FILE`` takes the
format from the file's extension (``.html``, ``.md``, ``.json``...) unless ``--format``
says otherwise.

Exit status: 0 on success; 2 for bad input (an unknown id, a bad number, a missing
file, an invalid pack, a missing optional dependency), with one line on standard
error naming the option, the bad value and the valid choices (``validate`` lists
every problem of an invalid pack, one per line, and also exits 2); 1 only for a bug
(the safety audit withheld a routine). A user error never prints a traceback.

The SVG picture of the graph is drawn here with the standard library; the PNG is
the same drawing rasterised with Pillow, the optional extra ``sirecommend[graph]``.

Examples
--------
>>> from sirecommend.cli import main
>>> main(["recommend", "--context", "after_sitting", "--format", "json"])  # doctest: +ELLIPSIS
{"context":"after_sitting","status":"ok",...}
0
>>> main(["show", "figure_four_supine"])  # doctest: +ELLIPSIS
stretch figure_four_supine: Figure-4 glute and piriformis stretch
...
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from sirecommend import (
    InvalidArgumentError,
    KnowledgeBase,
    KnowledgeError,
    Profile,
    Routine,
    SafetyError,
    UnknownIdError,
    __version__,
    load_knowledge,
    recommend,
    schema_of_packs,
)
from sirecommend._programme_cli import register
from sirecommend._render import count, unmet_focus
from sirecommend.errors import nearest

if TYPE_CHECKING:
    import networkx as nx

# The handout, the graph drawings and networkx are imported by the commands that use
# them, so that printing one routine does not pay for them (see tests/test_coldstart.py).

__all__ = ["main"]

PROG = "sirecommend"

#: Profile field -> the option that sets it, for error messages.
_FLAGS = {
    "context": "--context",
    "equipment": "--equipment",
    "avoid_positions": "--avoid",
    "aggravated": "--aggravated",
    "red_flags": "--red-flag",
    "pregnancy_trimester": "--trimester",
    "minutes": "--minutes",
    "focus": "--focus",
}

#: Graph node kind -> the KnowledgeBase table that holds its entries.
_TABLES = {
    "stretch": "stretches",
    "context": "contexts",
    "muscle": "muscles",
    "equipment": "equipment",
    "position": "positions",
    "position_group": "position_groups",
    "position_kind": "position_kinds",
    "movement": "movements",
    "movement_kind": "movement_kinds",
    "rule": "rules",
    "red_flag": "red_flags",
    "urgency": "urgencies",
    "source": "sources",
    "ordering": "orderings",
}


class _UsageError(Exception):
    """Bad input found by the CLI itself: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (raised, so ``main`` can return 2)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message}")


# --------------------------------------------------------------------------- helpers


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _emit(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output``, ending with one newline."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _UsageError(f"cannot write {output!r}: {exc.strerror or exc}") from exc


def _knowledge(packs: Sequence[str]) -> KnowledgeBase:
    """The shipped knowledge plus ``packs``; a missing path is bad input (exit 2)."""
    for pack in packs:
        try:
            missing = not Path(pack).exists()
        except OSError:  # e.g. a name too long: load_knowledge reports it as a problem
            missing = False
        if missing:
            raise _UsageError(
                f"no such knowledge pack {pack!r} (give a directory of .toml files or a .toml file)"
            )
    try:
        return load_knowledge(*packs)
    except KnowledgeError as exc:
        more = len(exc.problems) - 1
        tail = f" (and {more} more)" if more > 0 else ""
        raise _UsageError(
            f"invalid knowledge: {exc.problems[0]}{tail}; run "
            f"'{PROG} validate {' '.join(packs)}' to list every problem"
        ) from exc


def _profile(args: argparse.Namespace) -> Profile:
    return Profile(
        context=args.context,
        aggravated=args.aggravated,
        equipment=frozenset(args.equipment),
        avoid_positions=frozenset(args.avoid),
        red_flags=frozenset(args.red_flag),
        pregnancy_trimester=args.trimester,
        minutes=args.minutes,
        focus=frozenset(args.focus),
    )


def _validation_line(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else "profile"
        flag = _FLAGS.get(field, field)
        parts.append(f"invalid {flag} {e.get('input')!r}: {e['msg']}")
    return "; ".join(parts)


#: The one wording of a bad ``--minutes`` (not a number, not above 0, over a day).
_MINUTES_HELP = "give a number of minutes above 0 and at most 1440"


def _trimester(text: str) -> int:
    if text.strip() not in {"1", "2", "3"}:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: choose 1, 2 or 3")
    return int(text)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1440:  # also false for nan
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: {_MINUTES_HELP}")
    return value


#: UnknownIdError kind -> the option of ``recommend``/``explain`` that takes ids of that kind.
_KIND_FLAGS = {
    "context": "--context",
    "equipment": "--equipment",
    "position": "--avoid",
    "red flag": "--red-flag",
    "muscle": "--focus",
}


def _routine(args: argparse.Namespace, kb: KnowledgeBase) -> Routine:
    """The routine for the profile of ``args``; an unknown id names the option that gave it."""
    try:
        return recommend(_profile(args), knowledge=kb)
    except UnknownIdError as exc:
        where = _KIND_FLAGS.get(exc.kind, "")
        raise UnknownIdError(exc.kind, exc.value, exc.choices, where=where) from None


#: File extension -> output format, per command (``--format`` wins over it).
_RECOMMEND_EXTENSIONS = {".json": "json", ".md": "markdown", ".html": "html", ".htm": "html"}
_GRAPH_EXTENSIONS = {
    ".dot": "dot",
    ".gv": "dot",
    ".graphml": "graphml",
    ".json": "json",
    ".svg": "svg",
    ".png": "png",
}


def _format(args: argparse.Namespace, extensions: dict[str, str], default: str) -> str:
    """``--format`` if given, else the format the ``-o`` file's extension names, else
    ``default``."""
    if args.format is not None:
        return str(args.format)
    if args.output is not None:
        return extensions.get(Path(args.output).suffix.lower(), default)
    return default


def _name_of(kb: KnowledgeBase, kind: str, ident: str) -> str:
    entry = getattr(kb, _TABLES[kind]).get(ident)
    return str(getattr(entry, "name", ident))


# --------------------------------------------------------------------------- commands


#: Handout option -> the formats it applies to.
_HANDOUT_ONLY = {
    "--clinician": ("markdown", "html"),
    "--paper": ("html",),
    "--large-print": ("html",),
}


def _check_handout_options(args: argparse.Namespace, fmt: str) -> None:
    """A handout option with a format it does nothing for is bad input, not ignored."""
    given = {
        "--clinician": args.clinician,
        "--paper": args.paper is not None,
        "--large-print": args.large_print,
    }
    for flag, formats in _HANDOUT_ONLY.items():
        if given[flag] and fmt not in formats:
            files = "FILE.html, FILE.md" if "markdown" in formats else "FILE.html"
            hint = (
                "; for the clinician's view as text use 'sirecommend explain'"
                if flag == "--clinician" and fmt == "text"
                else ""
            )
            raise _UsageError(
                f"{flag} applies to --format {' or '.join(formats)} (or -o {files}), "
                f"not {fmt}{hint}"
            )


def _cmd_recommend(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    fmt = _format(args, _RECOMMEND_EXTENSIONS, "text")
    _check_handout_options(args, fmt)
    routine = _routine(args, kb)
    if fmt == "text":
        text = str(routine)
    elif fmt == "json":
        text = routine.model_dump_json()
    else:
        from sirecommend.handout import to_html, to_markdown

        if fmt == "markdown":
            text = to_markdown(routine, knowledge=kb, clinician=args.clinician)
        else:
            text = to_html(
                routine,
                knowledge=kb,
                clinician=args.clinician,
                paper=args.paper or "A4",
                large_print=args.large_print,
            )
    _emit(text, args.output)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from sirecommend.handout import describe_profile

    kb = _knowledge(args.pack)
    routine = _routine(args, kb)
    out = [describe_profile(routine.profile, kb), ""]
    if routine.referral is not None:
        ref = routine.referral
        out += [f"Referral ({ref.urgency.replace('_', ' ').upper()}): {ref.message}", ""]
    out.append(f"In the routine ({len(routine.steps)}):")
    for n, step in enumerate(routine.steps, 1):
        out.append(f"  {n}. {step.name} [{step.stretch_id}]")
        out += [f"     - {reason}" for reason in step.reasons]
    if not routine.steps:
        out.append("  (none)")
    unmet = unmet_focus(routine)
    if unmet:
        names = ", ".join(_name_of(kb, "muscle", m) for m in unmet)
        out.append(f"  Focus not met: no step here works {names} (--focus).")
    out += ["", f"Left out ({len(routine.excluded)}):"]
    for e in routine.excluded:
        out.append(f"  - {e.name} [{e.stretch_id}]")
        for r in e.reasons:
            rule = f"; rule {r.rule}" if r.rule else ""
            out.append(f"     - {r.code.value}: {r.message}{rule}")
    considered = {s.stretch_id for s in routine.steps} | {e.stretch_id for e in routine.excluded}
    others = [s for s in kb.stretches.values() if s.id not in considered]
    if others:
        ctx = _name_of(kb, "context", routine.context).lower()
        out += ["", f"Not offered for {ctx} by the knowledge ({len(others)}):"]
        out += [f"  - {s.name} [{s.id}]" for s in others]
    _emit("\n".join(out), None)
    return 0


Row = dict[str, str]

#: ``list KIND``: every kind that can be listed, with the names it is also known by.
_LIST_KINDS = {
    "contexts": ("context",),
    "stretches": ("stretch",),
    "equipment": (),
    "positions": ("position", "position_groups", "position_kinds"),
    "movements": ("movement", "movement_kinds"),
    "muscles": ("muscle",),
    "red-flags": ("red_flags", "red-flag", "red_flag"),
    "rules": ("rule",),
    "sources": ("source",),
}
_LIST_ALIASES = {a: k for k, aliases in _LIST_KINDS.items() for a in (k, *aliases)}


def _list_kind(text: str) -> str:
    kind = _LIST_ALIASES.get(text.strip().lower())
    if kind is None:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: choose from {', '.join(_LIST_KINDS)}"
        )
    return kind


def _rows(kb: KnowledgeBase, kind: str, context: str | None = None) -> list[Row]:
    """The entries of one ``list`` kind as rows of strings (the columns of the table)."""
    if kind == "contexts":
        return [
            {
                "id": c.id,
                "name": c.name,
                "stretches": str(len(kb.order(c.id))),
                "description": c.description,
            }
            for c in kb.contexts.values()
        ]
    if kind == "stretches":
        ids: Sequence[str] = list(kb.stretches)
        if context is not None:
            if context not in kb.contexts:
                raise UnknownIdError("context", context, kb.contexts, where="--context")
            ids = kb.order(context)
        return [
            {
                "id": s.id,
                "phase": s.phase,
                "position": s.position,
                "name": s.name,
                "alternative_of": s.alternative_of or "",
            }
            for s in (kb.stretches[i] for i in ids)
        ]
    if kind == "positions":
        groups = {
            p: ", ".join(
                g.id for g in kb.position_groups.values() if p in kb.position_members(g.id)
            )
            for p in kb.positions
        }
        return (
            [
                {
                    "id": p.id,
                    "type": "position",
                    "is_a": p.is_a,
                    "groups": groups[p.id],
                    "name": p.name,
                }
                for p in kb.positions.values()
            ]
            + [
                {"id": g.id, "type": "group", "is_a": "", "groups": "", "name": g.name}
                for g in kb.position_groups.values()
            ]
            + [
                {"id": k.id, "type": "base kind", "is_a": "", "groups": "", "name": k.name}
                for k in kb.position_kinds.values()
            ]
        )
    if kind == "movements":
        return [
            {"id": m.id, "type": "movement", "is_a": m.is_a, "name": m.name}
            for m in kb.movements.values()
        ] + [
            {"id": k.id, "type": "base kind", "is_a": "", "name": k.name}
            for k in kb.movement_kinds.values()
        ]
    if kind == "red-flags":
        rank = {u.id: u.rank for u in kb.urgencies.values()}
        flags = sorted(kb.red_flags.values(), key=lambda f: (-rank[f.urgency], f.id))
        return [{"id": f.id, "urgency": f.urgency, "name": f.name} for f in flags]
    if kind == "rules":
        return [{"id": r.id, "kind": r.kind, "name": r.name} for r in kb.rules.values()]
    if kind == "sources":
        return [
            {"id": s.id, "kind": s.kind, "title": s.title, "publisher": s.publisher}
            for s in kb.sources.values()
        ]
    table = kb.equipment if kind == "equipment" else kb.muscles
    return [{"id": e.id, "name": e.name} for e in table.values()]


def _table(rows: Sequence[Row]) -> str:
    """Rows as aligned text columns under a header (the last column is not padded)."""
    if not rows:
        return "(none)"
    columns = list(rows[0])
    widths = [max(len(c), *(len(r[c]) for r in rows)) for c in columns]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()
        for values in [[c.upper() for c in columns], *([r[c] for c in columns] for r in rows)]
    ]
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    rows = _rows(kb, args.kind, args.context)
    fmt = _format(args, {".json": "json"}, "text")
    text = json.dumps(rows, indent=2) if fmt == "json" else _table(rows)
    _emit(text, args.output)
    return 0


def _cmd_contexts(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    width = max(len(c) for c in kb.contexts)
    lines = []
    for ctx in kb.contexts.values():
        n = len(kb.order(ctx.id))
        lines.append(f"{ctx.id:<{width}}  {ctx.name} ({n} stretches): {ctx.description}")
    _emit("\n".join(lines), None)
    return 0


def _cmd_stretches(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    stretches = [kb.stretches[r["id"]] for r in _rows(kb, "stretches", args.context)]
    width = max(len(s.id) for s in stretches)
    lines = [
        f"{s.id:<{width}}  {s.phase:<9}  {s.position:<13}  {s.name}"
        + (f" (alternative to {s.alternative_of})" if s.alternative_of else "")
        for s in stretches
    ]
    _emit("\n".join(lines), None)
    return 0


def _pretty(value: Any, indent: str = "") -> Iterator[str]:
    """A JSON-like value as indented ``key: value`` lines (a little YAML)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                yield f"{indent}{k}:"
                yield from _pretty(v, indent + "  ")
            else:
                yield f"{indent}{k}: {_scalar(v)}"
    elif isinstance(value, list):
        for item in value:
            lines = list(_pretty(item, indent + "  "))
            first = lines[0].lstrip() if lines else ""
            yield f"{indent}- {first}"
            yield from lines[1:]
    else:
        yield f"{indent}{_scalar(value)}"


def _scalar(value: Any) -> str:
    """JSON spelling for booleans and null; everything else as it is."""
    return json.dumps(value) if value is None or isinstance(value, bool) else str(value)


def _closest(value: str, choices: Iterable[str]) -> str | None:
    """The nearest id (see :func:`~sirecommend.errors.nearest`), else the one sharing the
    longest prefix of at least 4 characters with ``value``."""
    ordered = sorted(choices)
    found = nearest(value, ordered)
    if found is None:
        prefix = {c: _shared_prefix(value, c) for c in ordered}
        best = max(ordered, key=lambda c: prefix[c], default=None)
        found = best if best is not None and prefix[best] >= 4 else None
    return found


def _shared_prefix(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _cmd_show(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    kind, sep, ident = args.id.partition(":")
    if sep and kind in _TABLES and not ident:  # KIND: lists the entries of a kind
        table = getattr(kb, _TABLES[kind])
        _emit(_table([{"id": i, "name": _name_of(kb, kind, i)} for i in table]), None)
        return 0
    kinds = [kind] if sep and kind in _TABLES else list(_TABLES)
    ident = ident if sep and kind in _TABLES else args.id
    found = [(k, getattr(kb, _TABLES[k])[ident]) for k in kinds if ident in getattr(kb, _TABLES[k])]
    if not found:
        owner = {i: k for k in reversed(kinds) for i in getattr(kb, _TABLES[k])}
        best = _closest(ident, owner)
        hint = f"; did you mean {owner[best]}:{best}?" if best is not None else ""
        more = (
            f"valid {kind} ids: {', '.join(sorted(owner))}"
            if len(kinds) == 1
            else f"to see the ids of a kind: '{PROG} show KIND:', KIND one of "
            f"{', '.join(_TABLES)}; or '{PROG} list KIND'"
        )
        raise _UsageError(f"unknown {'id' if len(kinds) > 1 else kind} {ident!r}{hint} ({more})")
    out: list[str] = []
    g = kb.graph
    for k, entry in found:
        data = entry.model_dump(mode="json", exclude_defaults=True)
        data.pop("id", None)
        title = f"{k} {ident}" + (f": {entry.name}" if hasattr(entry, "name") else "")
        out += [title, f"  from: {kb.origins.get((k, ident), '<knowledge>')}"]
        out += list(_pretty(data, "  "))
        node = f"{k}:{ident}"
        if node in g:
            links = [
                f"  -> {d['relation']} {v} ({g.nodes[v].get('name', v)})"
                for _, v, d in sorted(g.out_edges(node, data=True), key=_edge_key)
            ] + [
                f"  <- {d['relation']} {u} ({g.nodes[u].get('name', u)})"
                for u, _, d in sorted(g.in_edges(node, data=True), key=_edge_key)
            ]
            out += ["links:", *links]
        out.append("")
    _emit("\n".join(out).rstrip("\n"), None)
    return 0


def _edge_key(edge: tuple[str, str, dict[str, Any]]) -> tuple[str, str, str]:
    u, v, d = edge
    return str(d["relation"]), u, v


def _cmd_validate(args: argparse.Namespace) -> int:
    packs = [*args.dirs, *vars(args).get("pack", ())]  # positional DIRs and/or --pack DIR
    for pack in packs:
        try:
            missing = not Path(pack).exists()
        except OSError:  # e.g. a name too long: load_knowledge reports it as a problem
            missing = False
        if missing:
            raise _UsageError(f"no such file or directory {pack!r}")
    try:
        kb = load_knowledge(*packs)
    except KnowledgeError as exc:
        # One line per problem (a message never spans lines), then the count; exit 2.
        lines = [" ".join(str(p).split()) for p in exc.problems]
        lines.append(f"invalid: {count(len(lines), 'problem')}")
        _emit("\n".join(lines), None)
        return 2
    what = ", ".join(packs) if packs else "the shipped knowledge"
    relaxed = len(kb.relaxations)
    note = f" ({count(relaxed, 'safety rule')} relaxed on purpose)" if relaxed else ""
    _emit(f"valid: {what}{note}\n{kb.summary()}", None)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    _emit(json.dumps(schema_of_packs(), indent=2), args.output)
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    import networkx as nx

    from sirecommend._draw import layout, plain_graph, to_dot, to_png, to_svg

    kb = _knowledge(args.pack)
    fmt = _format(args, _GRAPH_EXTENSIONS, "dot")
    if fmt == "png":
        if args.output is None:
            raise _UsageError("--format png writes binary data: give -o FILE")
        try:
            png = to_png(layout(kb.graph))
        except ImportError:
            raise _UsageError(
                "--format png needs Pillow: pip install 'sirecommend[graph]' "
                "(or use --format svg, which needs nothing more)"
            ) from None
        try:
            Path(args.output).write_bytes(png)
        except OSError as exc:
            raise _UsageError(f"cannot write {args.output!r}: {exc.strerror or exc}") from exc
        return 0
    writers: dict[str, Callable[[nx.MultiDiGraph[str]], str]] = {
        "dot": to_dot,
        "graphml": lambda g: "\n".join(nx.generate_graphml(plain_graph(g, flat=True))),
        "json": lambda g: json.dumps(
            nx.node_link_data(plain_graph(g, flat=False), edges="edges"), indent=2
        ),
        "svg": lambda g: to_svg(layout(g)),
    }
    _emit(writers[fmt](kb.graph), args.output)
    return 0


# --------------------------------------------------------------------------- parser


def _ids(kb: KnowledgeBase | None, list_kind: str, *tables: str) -> str:
    """Help text naming the valid ids: listed when ``kb`` is given and they are few."""
    ids = [i for t in tables for i in getattr(kb, t)] if kb is not None else []
    more = f"see '{PROG} list {list_kind}'"
    if 0 < len(ids) <= 12:
        return f"one of: {', '.join(ids)} ({more})"
    return more


def _build_parser(kb: KnowledgeBase | None = None) -> _Parser:
    """The argument parser; with ``kb``, option help lists that knowledge's ids."""
    parser = _Parser(
        prog=PROG,
        description="Safe, ordered, explained stretching routines for SI joint pain. "
        "General education, not diagnosis.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    packs = _Parser(add_help=False)
    packs.add_argument(
        "--pack",
        action="extend",
        nargs="+",
        default=[],
        metavar="DIR",
        help="extra knowledge pack(s), a directory of .toml files or one .toml file, "
        "loaded after the shipped knowledge",
    )
    output = _Parser(add_help=False)
    output.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE, not standard output; its extension sets the format "
        "unless --format is given",
    )

    profile = _Parser(add_help=False)
    p = profile.add_argument_group("profile")
    p.add_argument(
        "--context",
        required=True,
        help=f"the situation the routine is for, {_ids(kb, 'contexts', 'contexts')}",
    )
    p.add_argument(
        "--equipment",
        action="extend",
        nargs="+",
        default=[],
        metavar="E",
        help=f"equipment at hand (default: none), {_ids(kb, 'equipment', 'equipment')}",
    )
    p.add_argument(
        "--avoid",
        action="extend",
        nargs="+",
        default=[],
        metavar="P",
        help="positions or position groups to leave out, "
        + _ids(kb, "positions", "positions", "position_groups"),
    )
    p.add_argument("--aggravated", action="store_true", help="symptoms are stirred up today")
    p.add_argument(
        "--red-flag",
        action="extend",
        nargs="+",
        default=[],
        metavar="F",
        help=f"warning signs the person has: no routine, a referral instead; "
        f"{_ids(kb, 'red-flags', 'red_flags')}",
    )
    p.add_argument(
        "--trimester",
        type=_trimester,
        metavar="N",
        help="1, 2 or 3 when pregnant (no lying on the back from the 2nd)",
    )
    p.add_argument(
        "--minutes",
        type=_minutes,
        metavar="M",
        help="time budget in minutes, never exceeded: above 0 and at most 1440",
    )
    p.add_argument(
        "--focus",
        action="extend",
        nargs="+",
        default=[],
        metavar="MUSCLE",
        help=f"muscles to keep first when time is short, {_ids(kb, 'muscles', 'muscles')}",
    )

    def add(
        name: str, run: Callable[[argparse.Namespace], int], help_: str, *parents: _Parser
    ) -> _Parser:
        cmd: _Parser = sub.add_parser(name, help=help_, description=help_, parents=list(parents))
        cmd.set_defaults(run=run)
        return cmd

    formats = "text (the default), json, markdown or html"
    rec = add("recommend", _cmd_recommend, "a routine for a profile", profile, packs, output)
    rec.add_argument(
        "--format",
        choices=("text", "json", "markdown", "html"),
        help=f"{formats}; with -o FILE and no --format, taken from FILE's extension "
        "(.json, .md, .html)",
    )
    hand = rec.add_argument_group("handout (markdown and html)")
    hand.add_argument(
        "--clinician",
        action="store_true",
        help="the clinician's copy of the handout: adds each step's reasons and citations, "
        "and the ids, codes and rules of what was left out",
    )
    hand.add_argument(
        "--paper",
        choices=("A4", "Letter"),
        help="the paper an html handout is laid out for: A4 (the default) or Letter",
    )
    hand.add_argument(
        "--large-print",
        action="store_true",
        help="an html handout in large type (about 14 pt), one step per row",
    )
    add("explain", _cmd_explain, "why each stretch is in or out for a profile", profile, packs)
    ls = add("list", _cmd_list, "list every id of a kind, as a table or JSON", packs, output)
    ls.add_argument(
        "kind",
        type=_list_kind,
        metavar="KIND",
        help=f"what to list: {', '.join(_LIST_KINDS)}",
    )
    ls.add_argument(
        "--format",
        choices=("text", "json"),
        help="text (the default) or json; with -o FILE.json and no --format, json",
    )
    ls.add_argument(
        "--context", help="with 'stretches': only those of this context, in routine order"
    )
    add("contexts", _cmd_contexts, "list the contexts", packs)
    st = add("stretches", _cmd_stretches, "list the stretches", packs)
    st.add_argument("--context", help="only those of this context, in routine order")
    show = add("show", _cmd_show, "show one knowledge entry and its links", packs)
    show.add_argument(
        "id",
        metavar="ID",
        help=f"an entry id, KIND:ID, or KIND: to list a kind's entries; KIND one of "
        f"{', '.join(_TABLES)}",
    )
    val = add("validate", _cmd_validate, "lint the knowledge, or extra packs", packs)
    val.add_argument("dirs", nargs="*", metavar="DIR", help="packs to add to the shipped one")
    gr = add("graph", _cmd_graph, "export the knowledge graph", packs, output)
    gr.add_argument(
        "--format",
        choices=("dot", "graphml", "json", "svg", "png"),
        help="dot (the default), graphml, json (node-link), svg or png (needs Pillow); "
        "with -o FILE and no --format, taken from FILE's extension",
    )
    add("schema", _cmd_schema, "the JSON Schema of knowledge-pack files", output)
    register(sub, profile=profile, packs=packs, knowledge=_knowledge, profile_of=_profile)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success (and for ``--help``, ``--version`` or no command at all, which
        print the usage), 2 for bad input (invalid knowledge included), 1 for a bug.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # Help lists the shipped ids; only --help pays for loading them.
    wants_help = not argv or not {"-h", "--help"}.isdisjoint(argv)
    parser = _build_parser(load_knowledge() if wants_help else None)
    command = PROG
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        command = f"{PROG} {args.command}"
        status: int = args.run(args)
        return status
    except SystemExit as exc:  # --help and --version print, then exit 0
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        message = str(exc)
        if not message.startswith(PROG):
            message = f"{command}: error: {message}"
        return _fail(message, 2)
    except ValidationError as exc:
        return _fail(f"{command}: error: {_validation_line(exc)}", 2)
    except (UnknownIdError, InvalidArgumentError) as exc:
        return _fail(f"{command}: error: {exc}", 2)
    except SafetyError as exc:
        return _fail(f"{command}: error: {exc} (this is a bug: please report it)", 1)


def _fail(message: str, status: int) -> int:
    print(_one_line(message), file=sys.stderr)
    return status
