"""Pictures and exports of the knowledge graph: DOT, plain GraphML/JSON copies, SVG and PNG.

The SVG is drawn with the standard library; PNG rasterises the same drawing with
Pillow (the optional ``graph`` extra). Source nodes and ``cites`` edges are left
out of the pictures (they would bury everything else); the exports keep all.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
from pydantic import BaseModel

__all__ = ["dot_str", "layout", "plain_graph", "to_dot", "to_png", "to_svg"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def plain_graph(g: nx.MultiDiGraph[str], *, flat: bool) -> nx.MultiDiGraph[str]:
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


def dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: nx.MultiDiGraph[str]) -> str:
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
        lines.append(f"  {dot_str(n)} [label={dot_str(label)}, fillcolor={dot_str(fill)}];")
    for u, v, _, d in sorted(g.edges(keys=True, data=True), key=lambda e: e[:3]):
        rel = str(d.get("relation"))
        colour = _RELATION_COLOURS.get(rel, "#555555")
        lines.append(
            f"  {dot_str(u)} -> {dot_str(v)} [label={dot_str(rel)}, "
            f"color={dot_str(colour)}, fontcolor={dot_str(colour)}];"
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
    "movement_kind": "#e9c46a",
    "position_kind": "#74b49b",
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
    "is_a": "#4a5568",
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
    ("position_group", "movement_kind", "position_kind", "rule"),
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


def layout(g: nx.MultiDiGraph[str]) -> _Scene:
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


def to_svg(scene: _Scene) -> str:
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


def to_png(scene: _Scene, scale: float = 1.5) -> bytes:
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
