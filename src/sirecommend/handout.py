"""Printable handouts of a routine: Markdown, and a self-contained HTML page.

The HTML page needs no network: the CSS is inline, and each step carries an inline
SVG pictogram of its position, drawn here (stick figures for the six positions of
the shipped knowledge; a neutral figure for any other position a pack adds). It
prints on A4 and US Letter alike. Every piece of text that comes from the routine
or the knowledge is escaped, so a pack cannot inject markup.

Both handouts hold the same things, in this order: the title, the profile in words,
the referral when red flags were reported, the numbered steps (name, position,
equipment, hold, sets, sides, range, instructions, cautions, why, citations), what
was left out and why, the stop rules, when to get help (every red flag of the
knowledge by urgency, with what to do), the sources and the education-not-diagnosis
notice.

Examples
--------
>>> from sirecommend import recommend
>>> from sirecommend.handout import to_html, to_markdown
>>> routine = recommend(context="after_sitting", equipment={"strap"})
>>> print(to_markdown(routine).splitlines()[0])
# SI joint stretching routine: After sitting
>>> page = to_html(routine)
>>> page.startswith("<!DOCTYPE html>"), page.count("<svg") == len(routine.steps)
(True, True)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from sirecommend import KnowledgeBase, Profile, Routine, Step, load_knowledge
from sirecommend._floor import relaxation_lines
from sirecommend._render import format_duration, steps_and_time

__all__ = [
    "PICTOGRAMS",
    "describe_profile",
    "pictogram",
    "to_html",
    "to_markdown",
]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_PHASE_TITLES = {"warm_up": "Warm-up", "targeted": "Targeted stretch", "cool_down": "Cool-down"}
_URGENCY_WORDS = {
    "emergency": "EMERGENCY",
    "urgent": "URGENT",
    "stop_and_review": "STOP AND REVIEW",
}

# Stick figures, side view, in a 120 x 80 box whose floor is the line y = 75. The
# styling is in presentation attributes, so a figure looks the same outside our page.
_FLOOR = '<line x1="6" y1="75" x2="114" y2="75" stroke="#999" stroke-width="2"/>'
_INK = (
    'fill="none" stroke="{colour}" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"'
)
PICTOGRAMS: Mapping[str, str] = {
    "standing": (
        '<circle cx="60" cy="12" r="7"/>'
        '<path d="M60 20 L60 46 M60 26 L51 43 M60 26 L69 43 M60 46 L54 73 M60 46 L66 73"/>'
    ),
    "half_kneeling": (
        '<circle cx="52" cy="11" r="7"/>'
        '<path d="M52 19 L53 44 M52 25 L60 40 M53 44 L76 45 L78 73 L88 73'
        ' M53 44 L45 73 L22 73"/>'
    ),
    "quadruped": (
        '<circle cx="20" cy="31" r="7"/>'
        '<path d="M28 34 L78 36 M32 35 L32 73 M78 36 L78 73 L104 73"/>'
    ),
    "seated_floor": (
        '<circle cx="34" cy="31" r="7"/>'
        '<path d="M35 39 L40 70 M37 46 L58 60 M40 72 L100 72 L102 64"/>'
    ),
    "supine": (
        '<circle cx="18" cy="66" r="7"/>'
        '<path d="M26 70 L66 70 M32 70 L50 72 M66 70 L82 50 L94 73 L102 73"/>'
    ),
    "prone": (
        '<circle cx="20" cy="58" r="7"/>'
        '<path d="M28 64 L70 70 M34 65 L36 73 L22 73 M70 70 L108 72"/>'
    ),
}
#: Drawn for a position without a figure of its own: a grey figure and a question mark.
_FALLBACK = (
    '<circle cx="56" cy="14" r="7"/>'
    '<path d="M56 22 L56 48 M56 28 L47 44 M56 28 L65 44 M56 48 L50 73 M56 48 L62 73"/>'
)
_QUESTION = (
    '<text x="78" y="36" font-family="sans-serif" font-size="28" font-weight="bold" '
    'fill="#888">?</text>'
)


def pictogram(position: str, label: str = "") -> str:
    """An inline SVG stick figure of a body position.

    Parameters
    ----------
    position : str
        A position id. The shipped ones (``standing``, ``half_kneeling``,
        ``quadruped``, ``seated_floor``, ``supine``, ``prone``) have their own
        figure; any other gets a neutral grey figure with a question mark.
    label : str, optional
        The accessible name of the picture (default: the id in words).

    Returns
    -------
    str
        An ``<svg>`` element, safe to embed in HTML.

    Examples
    --------
    >>> svg = pictogram("supine", "Lying on your back")
    >>> svg.startswith("<svg"), "Lying on your back" in svg
    (True, True)
    >>> "?" in pictogram("sofa")
    True
    """
    title = html.escape(label or _words(position))
    figure = PICTOGRAMS.get(position)
    if figure is None:
        drawn = f"<g {_INK.format(colour='#888')}>{_FALLBACK}</g>{_QUESTION}"
    else:
        drawn = f"<g {_INK.format(colour='#1a1a1a')}>{figure}</g>"
    return (
        '<svg class="pictogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" '
        f'width="120" height="80" role="img" aria-label="{title}">'
        f"<title>{title}</title>{_FLOOR}{drawn}</svg>"
    )


def _words(ident: str) -> str:
    return ident.replace("_", " ")


def _name(table: Mapping[str, _Named], ident: str) -> str:
    entry = table.get(ident)
    return entry.name if entry is not None else _words(ident)


def _listing(items: Iterable[str]) -> str:
    return ", ".join(items)


def describe_profile(profile: Profile, knowledge: KnowledgeBase | None = None) -> str:
    """The profile in plain words, for the top of a handout.

    Ids are shown by their names in ``knowledge`` (default: the shipped knowledge);
    an id it does not define is shown in words.

    Examples
    --------
    >>> from sirecommend import Profile
    >>> describe_profile(Profile(context="after_sitting", equipment={"strap"}, minutes=10))
    'For: After sitting. Equipment at hand: Stretching strap. Time available: about 10 minutes.'
    >>> describe_profile(Profile(context="warm_up", aggravated=True, pregnancy_trimester=2))
    'For: Warm-up. Symptoms aggravated today. Equipment at hand: none. Pregnant: trimester 2.'
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    places: dict[str, _Named] = {**kb.positions, **kb.position_groups}
    parts = [f"For: {_name(kb.contexts, profile.context)}."]
    if profile.red_flags:
        flags = _listing(_name(kb.red_flags, f) for f in sorted(profile.red_flags))
        parts.append(f"Red flags reported: {flags}.")
    if profile.aggravated:
        parts.append("Symptoms aggravated today.")
    kit = _listing(_name(kb.equipment, e) for e in sorted(profile.equipment)) or "none"
    parts.append(f"Equipment at hand: {kit}.")
    if profile.avoid_positions:
        avoid = _listing(_name(places, p) for p in sorted(profile.avoid_positions))
        parts.append(f"Avoiding: {avoid}.")
    if profile.pregnancy_trimester is not None:
        parts.append(f"Pregnant: trimester {profile.pregnancy_trimester}.")
    if profile.minutes is not None:
        parts.append(f"Time available: about {profile.minutes:g} minutes.")
    if profile.focus:
        focus = _listing(_name(kb.muscles, m) for m in sorted(profile.focus))
        parts.append(f"Focus: {focus}.")
    return " ".join(parts)


def _dose(step: Step) -> list[tuple[str, str]]:
    return [
        ("Position", step.position_name),
        ("Equipment", step.equipment_name or "None (hands only)"),
        ("Hold", f"{step.hold_seconds} seconds"),
        ("Sets", str(step.sets)),
        ("Sides", "Each side" if step.per_side else "Both sides at once"),
        (
            "Range",
            "Reduced: go slowly, part of your usual range"
            if step.range_of_motion == "reduced"
            else "Full comfortable range",
        ),
        ("Time", f"about {format_duration(step.seconds)}"),
    ]


def _summary(routine: Routine) -> str:
    if routine.status == "referred":
        return "No stretching today: see the advice below."
    if routine.status == "nothing_fits":
        return "No step could be given for this profile; see what was left out and why."
    return f"{steps_and_time(routine)}."


def _title(routine: Routine, kb: KnowledgeBase) -> str:
    return f"SI joint stretching routine: {_name(kb.contexts, routine.context)}"


def _referral_heading(routine: Routine) -> str:
    assert routine.referral is not None
    word = _URGENCY_WORDS.get(routine.referral.urgency, routine.referral.urgency.upper())
    return f"{word}: do not stretch; get help"


def _warning_signs(kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    """``(urgency word, the red flags of that urgency, what to do)``, most urgent first."""
    tiers = sorted(kb.urgencies.values(), key=lambda u: (-u.rank, u.id))
    signs = [(u, [f.name for f in kb.red_flags.values() if f.urgency == u.id]) for u in tiers]
    return [
        (_URGENCY_WORDS.get(u.id, u.id.upper()), "; ".join(names), u.action)
        for u, names in signs
        if names
    ]


_CITATION = re.compile(r"^(?P<source>[^#]+)(?:#p(?P<para>[0-9]+))?$")


def _sources(routine: Routine) -> dict[str, list[int]]:
    """Source id -> the paragraphs cited from it (empty: the whole source), in order."""
    cited: dict[str, set[int]] = {}
    citations = [c for s in routine.steps for c in s.sources]
    if routine.referral is not None:
        citations += routine.referral.sources
    for c in citations:
        m = _CITATION.match(c)
        source, para = (m.group("source"), m.group("para")) if m else (c, None)
        paras = cited.setdefault(source, set())
        if para is not None:
            paras.add(int(para))
    return {s: sorted(p) for s, p in sorted(cited.items())}


def _source_words(source_id: str, paras: list[int], kb: KnowledgeBase) -> tuple[str, str | None]:
    """``(citation text, url)`` for one source."""
    src = kb.sources.get(source_id)
    if src is None:
        text = source_id
        url = None
    else:
        year = f", {src.year}" if src.year else ""
        text = f"{src.title}. {src.publisher}{year}"
        url = src.url
    if paras:
        text += f" (paragraph{'s' if len(paras) > 1 else ''} {', '.join(map(str, paras))})"
    return text + ".", url


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?[A-Za-z0-9]+;))")
_MD_LEADING = re.compile(r"^(?:([#+=-])|(\d+)([.)]))")


def _md(text: str) -> str:
    """Escape Markdown (and inline HTML) so the text renders literally, even at a line start.

    >>> print(_md("1. <b>*bold*</b> & A&amp;E"))
    1\\. \\<b\\>\\*bold\\*\\</b\\> & A\\&amp;E
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _MD_LEADING.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", escaped)


def to_markdown(routine: Routine, *, knowledge: KnowledgeBase | None = None) -> str:
    """The routine as a Markdown handout.

    Parameters
    ----------
    routine : Routine
        From :func:`sirecommend.recommend`.
    knowledge : KnowledgeBase, optional
        Used for names and source titles (default: the shipped knowledge). Pass
        the knowledge the routine was made with when it used extra packs.

    Returns
    -------
    str
        CommonMark text. Text from the routine is escaped, so it renders literally.

    Examples
    --------
    >>> from sirecommend import recommend
    >>> md = to_markdown(recommend(context="warm_up", red_flags={"fever"}))
    >>> "## URGENT: do not stretch; get help" in md
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    out = [f"# {_md(_title(routine, kb))}", ""]
    warning = relaxation_lines(routine.provenance.relaxations)
    out += [*(f"> **{_md(line)}**  " for line in warning), ""] if warning else []
    out += [_md(describe_profile(routine.profile, kb)), ""]
    out += [f"**{_md(_summary(routine))}**", ""]
    if routine.referral is not None:
        out += [f"## {_md(_referral_heading(routine))}", "", _md(routine.referral.message), ""]
    if routine.steps:
        out += ["## Steps", ""]
    for n, step in enumerate(routine.steps, 1):
        out += [f"### {n}. {_md(step.name)}", "", f"*{_PHASE_TITLES[step.phase]}*", ""]
        out += [f"- **{label}:** {_md(value)}" for label, value in _dose(step)]
        out += ["", "How to do it:", ""]
        out += [f"{i}. {_md(text)}" for i, text in enumerate(step.instructions, 1)]
        if step.cautions:
            out += ["", "Take care:", ""]
            out += [f"- {_md(text)}" for text in step.cautions]
        out += ["", "Why: " + " ".join(_md(r) for r in step.reasons), ""]
        out += [f"Cited: {_md(', '.join(step.sources))}", ""]
    if routine.excluded:
        out += ["## Left out, and why", ""]
        out += [
            f"- **{_md(e.name)}:** " + " ".join(_md(r.message) for r in e.reasons)
            for e in routine.excluded
        ]
        out.append("")
    out += ["## Stop rules", ""]
    out += [f"- {_md(text)}" for text in routine.cautions]
    out += ["", "## When to get help", ""]
    out += [
        f"- **{_md(word)}** if you have: {_md(names)}. {_md(action)}"
        for word, names, action in _warning_signs(kb)
    ]
    out.append("")
    sources = _sources(routine)
    if sources:
        out += ["## Sources", ""]
        for source_id, paras in sources.items():
            text, url = _source_words(source_id, paras, kb)
            safe = url.replace("<", "%3C").replace(">", "%3E") if url else ""
            out.append(f"- {_md(text)}" + (f" <{safe}>" if safe else ""))
        out.append("")
    out += [f"> {_md(routine.notice)}", ""]
    prov = routine.provenance
    packs = f", packs: {_md(', '.join(prov.packs))}" if prov.packs else ""
    out.append(f"*sirecommend {prov.version}, knowledge {prov.knowledge_digest[:12]}{packs}*")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
@page { margin: 14mm; }
* { box-sizing: border-box; }
html { color: #1a1a1a; background: #fff; }
body { font: 10pt/1.35 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 0; }
main { max-width: 180mm; margin: 0 auto; padding: 6mm 4mm; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 1px solid #bbb; }
h3 { font-size: 12pt; margin: 0 0 1mm; }
p { margin: 1mm 0; }
.profile { color: #333; }
.summary { font-weight: bold; }
.referral { border: 3px solid #b00020; background: #fff3f3; padding: 3mm 4mm; margin: 4mm 0; }
.referral h2 { color: #b00020; border: 0; margin-top: 0; }
ol.steps { list-style: none; padding: 0; margin: 0; }
li.step { display: flex; gap: 3mm; border: 1px solid #ccc; border-radius: 2mm;
  padding: 2.5mm 3mm; margin: 2.5mm 0; break-inside: avoid; page-break-inside: avoid; }
.picture { flex: 0 0 30mm; text-align: center; font-size: 8pt; color: #444; }
.pictogram { width: 30mm; height: auto; }
.detail { flex: 1 1 auto; min-width: 0; }
.num { display: inline-block; min-width: 7mm; }
.phase { font-size: 9pt; text-transform: uppercase; letter-spacing: .05em; color: #555; }
dl.dose { display: grid; grid-template-columns: max-content 1fr max-content 1fr;
  gap: 0 2.5mm; margin: 1mm 0; font-size: 9.5pt; }
dl.dose dt { font-weight: bold; }
dl.dose dd { margin: 0; }
h4 { font-size: 9.5pt; margin: 1.5mm 0 .5mm; }
ol.how, ul.care { margin: 0; padding-left: 6mm; }
ul.care li { color: #7a2e00; }
.why, .cited, .provenance { font-size: 7.5pt; color: #555; }
.stop-rules { border: 2px solid #7a2e00; padding: 1mm 4mm 3mm; margin-top: 5mm;
  break-inside: avoid; page-break-inside: avoid; }
.stop-rules h2 { border: 0; }
.left-out, .help { font-size: 9pt; }
.notice { border-top: 2px solid #1a1a1a; margin-top: 6mm; padding-top: 2mm; font-weight: bold; }
a { color: #0b4f8a; word-break: break-all; }
@media print { a { color: inherit; text-decoration: none; } main { padding: 0; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _step_html(n: int, step: Step) -> str:
    dose = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in _dose(step))
    how = "".join(f"<li>{_e(t)}</li>" for t in step.instructions)
    care = (
        '<h4>Take care</h4><ul class="care">'
        + "".join(f"<li>{_e(t)}</li>" for t in step.cautions)
        + "</ul>"
        if step.cautions
        else ""
    )
    why = " ".join(_e(r) for r in step.reasons)
    return (
        f'<li class="step" id="step-{n}">'
        f'<div class="picture">{pictogram(step.position, step.position_name)}'
        f"<div>{_e(step.position_name)}</div></div>"
        f'<div class="detail"><div class="phase">{_PHASE_TITLES[step.phase]}</div>'
        f'<h3><span class="num">{n}.</span>{_e(step.name)}</h3>'
        f'<dl class="dose">{dose}</dl>'
        f'<h4>How to do it</h4><ol class="how">{how}</ol>{care}'
        f'<p class="why"><b>Why:</b> {why}</p>'
        f'<p class="cited">Cited: {_e(", ".join(step.sources))}</p></div></li>'
    )


def to_html(routine: Routine, *, knowledge: KnowledgeBase | None = None) -> str:
    """The routine as one self-contained, printable HTML page.

    Parameters
    ----------
    routine : Routine
        From :func:`sirecommend.recommend`.
    knowledge : KnowledgeBase, optional
        Used for names and source titles (default: the shipped knowledge). Pass
        the knowledge the routine was made with when it used extra packs.

    Returns
    -------
    str
        An HTML5 document with inline CSS and inline SVG pictograms; it loads
        nothing from the network (no scripts, stylesheets, fonts or images) and
        prints on A4 or US Letter. All text is HTML-escaped.

    Examples
    --------
    >>> from sirecommend import recommend
    >>> page = to_html(recommend(context="cool_down"))
    >>> "<script" in page, "Stop rules" in page
    (False, True)
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    title = _title(routine, kb)
    relaxed = routine.provenance.relaxations
    body = [
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="profile">{_e(describe_profile(routine.profile, kb))}</p>',
        f'<p class="summary">{_e(_summary(routine))}</p></header>',
    ]
    body[:0] = [f'<p class="relaxed"><b>{_e(line)}</b></p>' for line in relaxation_lines(relaxed)]
    if routine.referral is not None:
        body.append(
            f'<section class="referral urgency-{_e(routine.referral.urgency)}">'
            f"<h2>{_e(_referral_heading(routine))}</h2><p>{_e(routine.referral.message)}</p>"
            "</section>"
        )
    if routine.steps:
        steps = "".join(_step_html(n, s) for n, s in enumerate(routine.steps, 1))
        body.append(f'<section><h2>Steps</h2><ol class="steps">{steps}</ol></section>')
    if routine.excluded:
        items = "".join(
            f"<li><b>{_e(e.name)}:</b> {_e(' '.join(r.message for r in e.reasons))}</li>"
            for e in routine.excluded
        )
        body.append(
            f'<section class="left-out"><h2>Left out, and why</h2><ul>{items}</ul></section>'
        )
    rules = "".join(f"<li>{_e(t)}</li>" for t in routine.cautions)
    body.append(f'<section class="stop-rules"><h2>Stop rules</h2><ul>{rules}</ul></section>')
    signs = "".join(
        f"<li><b>{_e(word)}</b> if you have: {_e(names)}. {_e(action)}</li>"
        for word, names, action in _warning_signs(kb)
    )
    body.append(f'<section class="help"><h2>When to get help</h2><ul>{signs}</ul></section>')
    sources = _sources(routine)
    if sources:
        items_ = []
        for source_id, paras in sources.items():
            text, url = _source_words(source_id, paras, kb)
            link = f' <a href="{_e(url)}">{_e(url)}</a>' if url else ""
            items_.append(f"<li>{_e(text)}{link}</li>")
        body.append(f"<section><h2>Sources</h2><ol>{''.join(items_)}</ol></section>")
    prov = routine.provenance
    packs = f"; packs: {', '.join(prov.packs)}" if prov.packs else ""
    body.append(
        f'<footer><p class="notice">{_e(routine.notice)}</p>'
        f'<p class="provenance">Made by sirecommend {_e(prov.version)} from knowledge '
        f"{_e(prov.knowledge_digest[:12])}{_e(packs)}.</p></footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
