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
import html
import json
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import networkx as nx
from pydantic import BaseModel, ValidationError

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
        if not Path(pack).exists():
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
        n = len(kb.plans[ctx.id].order)
        lines.append(f"{ctx.id:<{width}}  {ctx.name} ({n} stretches): {ctx.description}")
    _emit("\n".join(lines), None)
    return 0


def _cmd_stretches(args: argparse.Namespace) -> int:
    kb = _knowledge(args.pack)
    stretches = list(kb.stretches.values())
    if args.context is not None:
        if args.context not in kb.contexts:
            raise UnknownIdError("context", args.context, kb.contexts, where="--context")
        order = kb.plans[args.context].order
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
    for pack in args.dirs:
        if not Path(pack).exists():
            raise _UsageError(f"no such file or directory {pack!r}")
    try:
        kb = load_knowledge(*args.dirs)
    except KnowledgeError as exc:
        lines = [str(p) for p in exc.problems]
        n = len(lines)
        lines.append(f"invalid: {n} problem{'s' if n != 1 else ''}")
        _emit("\n".join(lines), None)
        return 1
    what = ", ".join(args.dirs) if args.dirs else "the shipped knowledge"
    _emit(f"valid: {what}\n{kb.summary()}", None)
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
            png = _png(_scene(kb.graph))
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
        "dot": _dot,
        "graphml": lambda g: "\n".join(nx.generate_graphml(_plain_graph(g, flat=True))),
        "json": lambda g: json.dumps(
            nx.node_link_data(_plain_graph(g, flat=False), edges="edges"), indent=2
        ),
        "svg": lambda g: _svg(_scene(g)),
    }
    _emit(writers[args.format](kb.graph), args.output)
    return 0


# --------------------------------------------------------------------------- graph formats


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _plain_graph(g: nx.MultiDiGraph[str], *, flat: bool) -> nx.MultiDiGraph[str]:
    """A copy with JSON-ready attributes, nodes and edges in sorted order.

    With ``flat`` (for GraphML), lists and objects become JSON strings.
    """

    def clean(attrs: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: _jsonable(v) for k, v in sorted(attrs.items())}
        if flat:
            out = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in out.items()}
        return out

    plain: nx.MultiDiGraph[str] = nx.MultiDiGraph(name="sirecommend knowledge")
    for n in sorted(g.nodes):
        plain.add_node(n, **clean(g.nodes[n]))
    for u, v, k, d in sorted(g.edges(keys=True, data=True), key=lambda e: e[:3]):
        plain.add_edge(u, v, key=k, **clean(d))
    return plain


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(g: nx.MultiDiGraph[str]) -> str:
    """Graphviz DOT, nodes filled by kind, edges labelled (and coloured) by relation."""
    lines = [
        "digraph sirecommend {",
        '  graph [rankdir=LR, fontname="Helvetica", label="sirecommend knowledge graph"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8];',
    ]
    for n in sorted(g.nodes):
        d = g.nodes[n]
        kind = str(d.get("kind"))
        label = f"{d.get('name', d.get('id', n))}\n({kind})"
        fill = _KIND_COLOURS.get(kind, "#dddddd")
        lines.append(f"  {_dot_str(n)} [label={_dot_str(label)}, fillcolor={_dot_str(fill)}];")
    for u, v, _, d in sorted(g.edges(keys=True, data=True), key=lambda e: e[:3]):
        rel = str(d.get("relation"))
        colour = _RELATION_COLOURS.get(rel, "#555555")
        lines.append(
            f"  {_dot_str(u)} -> {_dot_str(v)} [label={_dot_str(rel)}, "
            f"color={_dot_str(colour)}, fontcolor={_dot_str(colour)}];"
        )
    lines.append("}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- graph picture
# A layered drawing: one column per group of node kinds, nodes ordered in each
# column by the mean height of their neighbours (a few sweeps, ties by name),
# edges as curves coloured and labelled by relation. Sources and their "cites"
# edges are left out: every entry cites, and they would hide everything else.

_KIND_COLOURS = {
    "context": "#f6bd60",
    "stretch": "#84c5f4",
    "muscle": "#f5a3a3",
    "equipment": "#c3b1e1",
    "position": "#9ad7a4",
    "position_group": "#5fbf74",
    "movement": "#f7d794",
    "rule": "#ff8c69",
    "red_flag": "#e5566b",
    "urgency": "#b8323f",
    "source": "#cfcfcf",
}
_RELATION_COLOURS = {
    "suits": "#b7791f",
    "targets": "#c53030",
    "in_position": "#2f855a",
    "requires": "#6b46c1",
    "involves": "#975a16",
    "alternative_of": "#2b6cb0",
    "part_of": "#276749",
    "precedes": "#2c5282",
    "forbids": "#e53e3e",
    "cautions": "#dd6b20",
    "refers": "#9b2c2c",
    "cites": "#a0aec0",
}
_COLUMNS: tuple[tuple[str, ...], ...] = (
    ("context",),
    ("stretch",),
    ("muscle", "equipment", "position", "movement"),
    ("position_group", "rule"),
    ("red_flag",),
    ("urgency",),
)
_ROW, _BOX_H, _GAP_X, _MARGIN = 30, 22, 190, 30
_CHAR_W = 6.6
_MAX_LABEL = 38


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    label: str
    title: str
    fill: str


@dataclass(frozen=True)
class _Curve:
    points: tuple[tuple[float, float], ...]  # cubic Bezier: start, two controls, end
    colour: str
    label: str  # empty when another edge of the same bundle carries the label
    at: float  # where along the curve the label sits, 0..1
    title: str


@dataclass(frozen=True)
class _Scene:
    width: float
    height: float
    boxes: tuple[_Box, ...]
    curves: tuple[_Curve, ...]
    legend: tuple[tuple[float, float, str, str, bool], ...]  # x, y, text, colour, is_kind
    caption: str


def _short(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def _bezier(points: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3


def _scene(g: nx.MultiDiGraph[str]) -> _Scene:
    """Lay the graph out (deterministically) as boxes and curves."""
    column_of = {kind: i for i, kinds in enumerate(_COLUMNS) for kind in kinds}
    shown = sorted(n for n in g.nodes if g.nodes[n].get("kind") in column_of)
    drawn = frozenset(shown)
    edges = sorted(
        (u, v, str(d["relation"])) for u, v, d in g.edges(data=True) if u in drawn and v in drawn
    )
    col = {n: column_of[str(g.nodes[n]["kind"])] for n in shown}
    label = {n: _short(str(g.nodes[n].get("name", n))) for n in shown}
    neighbours: dict[str, list[str]] = {n: [] for n in shown}
    for u, v, _ in edges:
        neighbours[u].append(v)
        neighbours[v].append(u)
    # Initial order: by kind block, then id; then barycentre sweeps within each block.
    order = {n: i for i, n in enumerate(shown)}
    columns: list[list[str]] = [[] for _ in _COLUMNS]
    for n in shown:
        columns[col[n]].append(n)

    def place(top: float = 0.0) -> dict[str, float]:
        """Rows within each column, each column centred on the tallest one."""
        rows: dict[str, float] = {}
        heights = []
        for nodes in columns:
            row, last_kind = 0.0, None
            for n in nodes:
                kind = g.nodes[n]["kind"]
                if last_kind is not None and kind != last_kind:
                    row += 0.6  # a little air between kinds sharing a column
                rows[n] = row
                row, last_kind = row + 1, kind
            heights.append(row)
        tallest = max(heights)
        return {n: top + (rows[n] + (tallest - heights[col[n]]) / 2) * _ROW for n in shown}

    block = {kind: i for kinds in _COLUMNS for i, kind in enumerate(kinds)}
    for _ in range(4):
        y = place()
        for nodes in columns:

            def key(n: str, y: dict[str, float] = y) -> tuple[int, float, int]:
                near = [y[m] for m in neighbours[n] if col[m] != col[n]]
                centre = sum(near) / len(near) if near else y[n]
                return block[str(g.nodes[n]["kind"])], centre, order[n]

            nodes.sort(key=key)
    widths = [max((len(label[n]) * _CHAR_W + 16 for n in nodes), default=0.0) for nodes in columns]
    lefts, x = [], float(_MARGIN)
    for w in widths:  # an empty column takes no room
        lefts.append(x)
        x += w + _GAP_X if w else 0.0
    width = max(x - _GAP_X + _MARGIN, 400.0)
    kinds = [
        k for kinds_ in _COLUMNS for k in kinds_ if any(g.nodes[n]["kind"] == k for n in shown)
    ]
    relations = sorted({rel for *_, rel in edges})
    legend = _legend(
        [(k.replace("_", " "), _KIND_COLOURS[k], True) for k in kinds]
        + [(r, _RELATION_COLOURS.get(r, "#555555"), False) for r in relations],
        width,
    )
    y = place(top=max((ly for _, ly, *_ in legend), default=46.0) + 40)
    boxes = tuple(
        _Box(
            lefts[col[n]],
            y[n],
            widths[col[n]],
            label[n],
            f"{n}: {g.nodes[n].get('name', n)}",
            _KIND_COLOURS.get(str(g.nodes[n]["kind"]), "#dddddd"),
        )
        for n in shown
    )
    # One label per relation and target node, near the target, on the middle one of
    # the edges that meet there: every edge is labelled without a pile of words.
    meeting: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for edge in sorted(edges, key=lambda e: (y[e[0]], e)):
        meeting.setdefault((edge[1], edge[2]), []).append(edge)
    labelled = {group[(len(group) - 1) // 2] for group in meeting.values()}
    curves = []
    parallel: dict[tuple[str, str], int] = {}
    for u, v, rel in edges:
        nth = parallel[u, v] = parallel.get((u, v), -1) + 1  # fan out edges sharing both ends
        cu, cv = col[u], col[v]
        yu, yv = y[u] + _BOX_H / 2, y[v] + _BOX_H / 2
        if cv > cu:
            x0, x3 = lefts[cu] + widths[cu], lefts[cv]
        elif cv < cu:
            x0, x3 = lefts[cu], lefts[cv] + widths[cv]
        else:  # within one column: an arc out to the right
            x0 = x3 = lefts[cu] + widths[cu]
        lift = 18.0 * nth
        if cv != cu:
            bend = (x3 - x0) / 2
            pts = ((x0, yu), (x0 + bend, yu - lift), (x3 - bend, yv - lift), (x3, yv))
        else:
            bend = 40 + abs(yv - yu) / 4 + lift
            pts = ((x0, yu), (x0 + bend, yu), (x3 + bend, yv), (x3, yv))
        curves.append(
            _Curve(
                pts,
                _RELATION_COLOURS.get(rel, "#555555"),
                rel if (u, v, rel) in labelled else "",
                0.5 if cu == cv else 0.8 - 0.1 * nth,
                f"{u} {rel} {v}",
            )
        )
    hidden = g.number_of_edges() - len(edges)
    caption = (
        f"sirecommend knowledge graph: {len(shown)} of {g.number_of_nodes()} nodes, "
        f"{len(edges)} of {g.number_of_edges()} edges. Left out: the sources and the "
        f"{hidden} edges to them (every entry cites); the dot, graphml and json formats hold "
        "everything."
    )
    height = max(y.values(), default=100.0) + _BOX_H + _MARGIN + 20
    return _Scene(width, height, boxes, tuple(curves), legend, caption)


def _legend(
    items: Sequence[tuple[str, str, bool]], width: float
) -> tuple[tuple[float, float, str, str, bool], ...]:
    """Place the legend's swatches in rows under the caption, wrapping at ``width``."""
    placed = []
    x, y = float(_MARGIN), 46.0
    for text, colour, is_kind in items:
        w = len(text) * _CHAR_W + (30 if is_kind else 40)
        if x + w > width - _MARGIN:
            x, y = float(_MARGIN), y + 22
        placed.append((x, y, text, colour, is_kind))
        x += w + 12
    return tuple(placed)


def _svg(scene: _Scene) -> str:
    """The scene as a standalone SVG document (standard library only)."""
    e = html.escape
    colours = sorted({c.colour for c in scene.curves})
    markers = "".join(
        f'<marker id="a{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="{c}"/></marker>'
        for i, c in enumerate(colours)
    )
    marker_of = {c: f"a{i}" for i, c in enumerate(colours)}
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'width="{scene.width:.0f}" height="{scene.height:.0f}" '
        f'viewBox="0 0 {scene.width:.0f} {scene.height:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        "<title>sirecommend knowledge graph</title>",
        f"<defs>{markers}</defs>",
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{_MARGIN}" y="26" font-size="13">{e(scene.caption)}</text>',
    ]
    for x, y, text, colour, is_kind in scene.legend:
        if is_kind:
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 11:.1f}" width="20" height="14" rx="3" '
                f'fill="{colour}" stroke="#333"/>'
                f'<text x="{x + 26:.1f}" y="{y:.1f}" font-size="11">{e(text)}</text>'
            )
        else:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 30:.1f}" y2="{y - 4:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
                f'<text x="{x + 36:.1f}" y="{y:.1f}" font-size="11" fill="{colour}">'
                f"{e(text)}</text>"
            )
    for c in scene.curves:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = c.points
        parts.append(
            f'<path d="M{x0:.1f} {y0:.1f} C{x1:.1f} {y1:.1f} {x2:.1f} {y2:.1f} {x3:.1f} {y3:.1f}" '
            f'fill="none" stroke="{c.colour}" stroke-width="1.2" stroke-opacity="0.75" '
            f'marker-end="url(#{marker_of[c.colour]})"><title>{e(c.title)}</title></path>'
        )
    for c in (c for c in scene.curves if c.label):
        lx, ly = _bezier(c.points, c.at)
        parts.append(
            f'<text x="{lx:.1f}" y="{ly + 3:.1f}" font-size="9" text-anchor="middle" '
            f'fill="{c.colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
            f"{e(c.label)}</text>"
        )
    for b in scene.boxes:
        parts.append(
            f'<g><title>{e(b.title)}</title><rect x="{b.x:.1f}" y="{b.y:.1f}" '
            f'width="{b.w:.1f}" height="{_BOX_H}" rx="5" fill="{b.fill}" stroke="#333"/>'
            f'<text x="{b.x + 8:.1f}" y="{b.y + 15:.1f}" font-size="11">{e(b.label)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _png(scene: _Scene, scale: float = 1.5) -> bytes:
    """The scene rasterised with Pillow (``sirecommend[graph]``): PNG bytes."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    ss = 2 * scale  # draw at twice the size, then shrink: smooth lines and text
    size = (math.ceil(scene.width * ss), math.ceil(scene.height * ss))
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)

    def font(px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        return ImageFont.load_default(size=px * ss)

    def p(x: float, y: float) -> tuple[float, float]:
        return x * ss, y * ss

    draw.text(p(_MARGIN, 14), scene.caption, fill="black", font=font(13))
    for x, y, text, colour, is_kind in scene.legend:
        if is_kind:
            draw.rounded_rectangle(
                (*p(x, y - 11), *p(x + 20, y + 3)), 3 * ss, fill=colour, outline="#333333"
            )
            draw.text(p(x + 26, y - 11), text, fill="black", font=font(11))
        else:
            draw.line((*p(x, y - 4), *p(x + 30, y - 4)), fill=colour, width=round(2 * ss))
            draw.text(p(x + 36, y - 11), text, fill=colour, font=font(11))
    for c in scene.curves:
        pts = [p(*_bezier(c.points, i / 24)) for i in range(25)]
        draw.line(pts, fill=c.colour, width=round(1.2 * ss))
        (ex, ey), (bx, by) = pts[-1], pts[-2]
        angle = math.atan2(ey - by, ex - bx)
        head = 7 * ss
        draw.polygon(
            [
                (ex, ey),
                (ex - head * math.cos(angle - 0.4), ey - head * math.sin(angle - 0.4)),
                (ex - head * math.cos(angle + 0.4), ey - head * math.sin(angle + 0.4)),
            ],
            fill=c.colour,
        )
    for c in (c for c in scene.curves if c.label):
        lx, ly = _bezier(c.points, c.at)
        draw.text(
            p(lx, ly),
            c.label,
            fill=c.colour,
            font=font(9),
            anchor="mm",
            stroke_width=round(1.5 * ss),
            stroke_fill="white",
        )
    for b in scene.boxes:
        draw.rounded_rectangle(
            (*p(b.x, b.y), *p(b.x + b.w, b.y + _BOX_H)), 5 * ss, fill=b.fill, outline="#333333"
        )
        draw.text(p(b.x + 8, b.y + _BOX_H / 2), b.label, fill="black", font=font(11), anchor="lm")
    final = img.resize((math.ceil(scene.width * scale), math.ceil(scene.height * scale)))
    buf = io.BytesIO()
    final.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


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
        0 on success, 1 when validation finds problems, 2 for bad input.
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
