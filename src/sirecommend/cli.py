"""The ``sirecommend`` command line: a thin layer over the public API.

Run ``sirecommend --help`` (or ``python -m sirecommend --help``) for the subcommands:

===========  =====================================================================
recommend    a routine for a profile, as text, JSON, Markdown or a printable HTML page
explain      why each stretch is in or out of the routine for a profile
contexts     the contexts a routine can be asked for
stretches    the stretches in the knowledge
show ID      one knowledge entry, where it came from, and its links in the graph
validate     lint the shipped knowledge or extra packs (exit 1 listing every problem)
graph        the knowledge graph as DOT, GraphML, node-link JSON, SVG or PNG
schema       the JSON Schema of a knowledge-pack file
===========  =====================================================================

Exit status: 0 on success; 1 when ``validate`` finds problems (or, never expected,
the safety audit withholds a routine); 2 for bad input (an unknown id, a bad
number, a missing file, an invalid pack, a missing optional dependency), with one
line on standard error naming the bad value and the valid choices. A user error
never prints a traceback.

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
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import networkx as nx
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
from sirecommend._draw import layout, plain_graph, to_dot, to_png, to_svg
from sirecommend._render import count
from sirecommend.handout import describe_profile, to_html, to_markdown

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
    "movement": "movements",
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


def _trimester(text: str) -> int:
    if text.strip() not in {"1", "2", "3"}:
        raise argparse.ArgumentTypeError(f"invalid trimester {text!r}: choose from 1, 2, 3")
    return int(text)


def _minutes(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid number of minutes {text!r}: give a number above 0 and at most 1440"
        ) from None


def _name_of(kb: KnowledgeBase, kind: str, ident: str) -> str:
    entry = getattr(kb, _TABLES[kind]).get(ident)
    return str(getattr(entry, "name", ident))


# --------------------------------------------------------------------------- commands


def _cmd_recommend(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    routine = recommend(_profile(args), knowledge=kb)
    renderers: dict[str, Callable[[Routine], str]] = {
        "text": str,
        "json": Routine.model_dump_json,
        "markdown": lambda r: to_markdown(r, knowledge=kb),
        "html": lambda r: to_html(r, knowledge=kb),
    }
    _emit(renderers[args.format](routine), args.output)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    routine = recommend(_profile(args), knowledge=kb)
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
    stretches = list(kb.stretches.values())
    if args.context is not None:
        if args.context not in kb.contexts:
            raise UnknownIdError("context", args.context, kb.contexts, where="--context")
        order = kb.order(args.context)
        stretches = [kb.stretches[s] for s in order]
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


def _cmd_show(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    kind, sep, ident = args.id.partition(":")
    kinds = [kind] if sep and kind in _TABLES else list(_TABLES)
    ident = ident if sep and kind in _TABLES else args.id
    found = [(k, getattr(kb, _TABLES[k])[ident]) for k in kinds if ident in getattr(kb, _TABLES[k])]
    if not found:
        every = {i for k in kinds for i in getattr(kb, _TABLES[k])}
        raise UnknownIdError("entry", args.id, every, where="show")
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
        if not Path(pack).exists():
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
    kb = _knowledge(args.pack)
    if args.format == "png":
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
    _emit(writers[args.format](kb.graph), args.output)
    return 0


# --------------------------------------------------------------------------- parser


def _build_parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Safe, ordered, explained stretching routines for SI joint pain. "
        "General education, not diagnosis.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    packs = _Parser(add_help=False)
    packs.add_argument(
        "--pack",
        action="extend",
        nargs="+",
        default=[],
        metavar="DIR",
        help="extra knowledge pack(s) to load after the shipped knowledge",
    )
    output = _Parser(add_help=False)
    output.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")

    profile = _Parser(add_help=False)
    p = profile.add_argument_group("profile")
    p.add_argument("--context", required=True, help="the situation (see 'contexts')")
    p.add_argument("--equipment", action="extend", nargs="+", default=[], metavar="E")
    p.add_argument(
        "--avoid", action="extend", nargs="+", default=[], metavar="P", help="positions or groups"
    )
    p.add_argument("--aggravated", action="store_true", help="symptoms are stirred up today")
    p.add_argument("--red-flag", action="extend", nargs="+", default=[], metavar="F")
    p.add_argument("--trimester", type=_trimester, metavar="N", help="1, 2 or 3 when pregnant")
    p.add_argument("--minutes", type=_minutes, metavar="M", help="time budget in minutes")
    p.add_argument("--focus", action="extend", nargs="+", default=[], metavar="MUSCLE")

    def add(
        name: str, run: Callable[[argparse.Namespace], int], help_: str, *parents: _Parser
    ) -> _Parser:
        cmd: _Parser = sub.add_parser(name, help=help_, description=help_, parents=list(parents))
        cmd.set_defaults(run=run)
        return cmd

    rec = add("recommend", _cmd_recommend, "a routine for a profile", profile, packs, output)
    rec.add_argument("--format", choices=("text", "json", "markdown", "html"), default="text")
    add("explain", _cmd_explain, "why each stretch is in or out for a profile", profile, packs)
    add("contexts", _cmd_contexts, "list the contexts", packs)
    st = add("stretches", _cmd_stretches, "list the stretches", packs)
    st.add_argument("--context", help="only those of this context, in routine order")
    show = add("show", _cmd_show, "show one knowledge entry and its links", packs)
    show.add_argument("id", metavar="ID", help="an entry id, or KIND:ID (e.g. stretch:x)")
    val = add("validate", _cmd_validate, "lint the knowledge, or extra packs")
    val.add_argument("dirs", nargs="*", metavar="DIR", help="packs to add to the shipped one")
    gr = add("graph", _cmd_graph, "export the knowledge graph", packs, output)
    gr.add_argument("--format", choices=("dot", "graphml", "json", "svg", "png"), default="dot")
    add("schema", _cmd_schema, "the JSON Schema of knowledge-pack files", output)
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
        0 on success, 2 for bad input (invalid knowledge included), 1 for a bug.
    """
    parser = _build_parser()
    command = PROG
    try:
        args = parser.parse_args(argv)
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
