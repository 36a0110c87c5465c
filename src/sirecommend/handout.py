"""Printable handouts of a routine: Markdown, and a self-contained HTML page.

Two audiences. By default a handout is the patient's: plain words, with no ids, reason
codes, "why" lines or citation ids, and the sources listed once at the end as readable
references. ``clinician=True`` gives the clinician's copy, which adds each step's reasons
and citations, the ids, codes and rules of what was left out, and the knowledge digest.

The HTML page needs no network: the CSS is inline, and each step carries an inline,
black-and-white SVG pictogram of the stretch itself, with an arrow for its movement (a
stretch a pack adds gets its position's figure; an unknown position a neutral figure).
It prints on A4 (the default) or US Letter (``paper="Letter"``); a 7-step routine fits
on two sheets, and ``large_print=True`` trades pages for 14 pt type. Every piece of text
that comes from the routine or the knowledge is escaped, so a pack cannot inject markup.

Both handouts hold, in this order: the title; on a red-flag sheet, what to do (the
highest tier's action), every flag reported in words and why, and no stretching advice;
the profile in words; the summary, and, when a focus muscle is worked by no step, a
plain sentence that says so; the numbered steps (name, phase, position, equipment, hold, sets,
sides, how far, instructions, cautions); what was left out and why; the stop rules; when
to get help (on a red-flag sheet, only the faster tiers); the sources and the
education-not-diagnosis notice.

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
from typing import Literal, Protocol

from sirecommend import KnowledgeBase, Profile, Referral, Routine, Step, load_knowledge
from sirecommend._floor import relaxation_lines
from sirecommend._render import (
    and_list,
    cited_sources,
    equipment_words,
    focus_note,
    format_duration,
    hold_words,
    how_far,
    is_rolling,
    left_out_groups,
    phase_title,
    position_words,
    reference,
    referral_details,
    routine_citations,
    steps_and_time,
    urgency_word,
    warning_signs,
)
from sirecommend.errors import InvalidArgumentError

__all__ = [
    "PICTOGRAMS",
    "STRETCH_PICTOGRAMS",
    "describe_profile",
    "pictogram",
    "to_html",
    "to_markdown",
]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


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


# One figure per shipped stretch, showing the stretch itself (where the body goes and,
# by an arrow, which way it moves), not just the starting position. Black on white
# only, so a photocopy keeps it. ``None`` as a floor means a view from above.
_ARROW = 'fill="none" stroke="#1a1a1a" stroke-width="2.5" stroke-linecap="round"'
_ROLLER = '<circle cx="{x}" cy="{y}" r="8" fill="#fff" stroke="#1a1a1a" stroke-width="3"/>'


def _arrow(
    x0: float, y0: float, cx: float, cy: float, x1: float, y1: float, both: bool = False
) -> str:
    """A curved (or, with the control point on the line, straight) arrow with its head(s)."""

    def head(tx: float, ty: float, fx: float, fy: float) -> str:
        dx, dy = tx - fx, ty - fy
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / length, dy / length
        left = (tx - 6 * ux + 4 * uy, ty - 6 * uy - 4 * ux)
        right = (tx - 6 * ux - 4 * uy, ty - 6 * uy + 4 * ux)
        return f" M{left[0]:.1f} {left[1]:.1f} L{tx} {ty} L{right[0]:.1f} {right[1]:.1f}"

    d = f"M{x0} {y0} Q{cx} {cy} {x1} {y1}" + head(x1, y1, cx, cy)
    if both:
        d += head(x0, y0, cx, cy)
    return f'<path {_ARROW} d="{d}"/>'


STRETCH_PICTOGRAMS: Mapping[str, str] = {
    # knees bent, dropping together to one side
    "lower_trunk_rotation": (
        '<circle cx="14" cy="66" r="6"/>'
        '<path d="M20 69 L62 69 M28 69 L48 72 M62 69 L86 54 L96 72"/>'
        + _arrow(72, 40, 92, 36, 98, 54)
    ),
    # ankle over the other knee, both legs drawn in toward the chest
    "figure_four_supine": (
        '<circle cx="14" cy="66" r="6"/>'
        '<path d="M20 69 L60 69 M26 68 L58 48 M60 69 L64 42 L86 38 M60 69 L84 54 L64 44"/>'
        + _arrow(96, 34, 88, 18, 72, 20)
    ),
    # one straight leg drawn up by a strap
    "hamstring_supine": (
        '<circle cx="14" cy="66" r="6"/>'
        '<path d="M20 69 L62 69 M62 69 L108 71 M62 69 L74 16 M26 68 L40 54"/>'
        '<path d="M40 54 L72 14" stroke-width="2" stroke-dasharray="4 3"/>'
        + _arrow(94, 30, 94, 12, 80, 8)
    ),
    # seen from above: one leg straight, the other lowered out to the side
    "adductor_strap_supine": (
        '<circle cx="14" cy="40" r="6"/>'
        '<path d="M20 40 L62 40 M26 40 L46 48 M26 40 L46 32 M62 40 L112 40 M62 40 L100 70"/>'
        '<path d="M46 48 L98 70" stroke-width="2" stroke-dasharray="4 3"/>'
        + _arrow(106, 48, 110, 58, 102, 64)
    ),
    # soles together, trunk leaning forward
    "butterfly_seated": (
        '<circle cx="63" cy="30" r="6"/>'
        '<path d="M40 71 L58 37 M54 44 L74 66 M40 71 L62 58 L78 72"/>'
        + _arrow(70, 18, 84, 20, 90, 32)
    ),
    # hips back to the heels, both arms reaching long toward one corner
    "child_pose_side_reach": (
        '<circle cx="46" cy="67" r="5"/>'
        '<path d="M70 73 L98 73 M70 73 L94 58 L58 58 M58 58 L12 68"/>'
        + _arrow(34, 50, 18, 44, 8, 56)
    ),
    # half-kneeling, hips easing forward
    "hip_flexor_half_kneeling": (
        '<circle cx="58" cy="11" r="7"/>'
        '<path d="M58 19 L60 45 M58 25 L66 40 M60 45 L82 47 L84 73 L94 73'
        ' M60 45 L48 73 L24 73"/>' + _arrow(42, 40, 50, 40, 58, 40)
    ),
    # standing lunge, back heel up, hips easing forward
    "hip_flexor_standing_lunge": (
        '<circle cx="58" cy="10" r="7"/>'
        '<path d="M58 18 L58 44 M58 24 L64 40 M58 44 L78 54 L80 73 L90 73'
        ' M58 44 L38 60 L24 72 L18 69"/>' + _arrow(40, 38, 48, 38, 56, 38)
    ),
    # seen from the front: the spine bends to one side, an arm over the head
    "standing_side_bend": (
        '<circle cx="75" cy="14" r="7"/>'
        '<path d="M60 48 Q60 32 70 22 M60 48 L52 73 M60 48 L68 73 M62 32 L54 50'
        ' M68 25 L80 40"/>' + _arrow(84, 6, 98, 6, 102, 20)
    ),
    # sitting on the roller, one buttock at a time
    "foam_roll_glutes": (
        '<circle cx="32" cy="26" r="6"/>'
        '<path d="M44 58 L34 33 M36 40 L22 72 M44 58 L66 46 L78 73"/>'
        + _ROLLER.format(x=44, y=66)
        + _arrow(58, 32, 72, 32, 86, 32, both=True)
    ),
    # one thigh on the roller, bottom lifted, the other knee bent with the foot down
    "foam_roll_hamstrings": (
        '<circle cx="24" cy="30" r="6"/>'
        '<path d="M32 62 L26 37 M27 44 L14 72 M32 62 L60 58 L104 70 M32 62 L56 44 L66 72"/>'
        + _ROLLER.format(x=60, y=66)
        + _arrow(50, 44, 64, 44, 78, 44, both=True)
    ),
    # face down on the forearms, the roller under the front of one thigh
    "foam_roll_hip_flexors": (
        '<circle cx="18" cy="44" r="6"/>'
        '<path d="M26 52 L64 58 M28 54 L30 73 L14 73 M64 58 L110 70"/>'
        + _ROLLER.format(x=72, y=66)
        + _arrow(60, 40, 74, 40, 88, 40, both=True)
    ),
    # the choice: sitting with a leg out over the roller, the three places to pick from
    # marked (buttock, back of the thigh, front of the hip)
    "foam_roll_sore_group": (
        '<circle cx="20" cy="28" r="6"/>'
        '<path d="M28 58 L22 35 M23 42 L12 72 M28 58 L104 62"/>'
        '<circle cx="30" cy="60" r="4" fill="#1a1a1a"/>'
        '<circle cx="76" cy="61" r="4" fill="#1a1a1a"/>'
        '<circle cx="40" cy="52" r="4" fill="#fff"/>'
        + _ROLLER.format(x=62, y=68)
        + _arrow(54, 40, 70, 40, 86, 40, both=True)
    ),
}
#: Stretch figures drawn from above, with no floor under them.
_FROM_ABOVE = frozenset({"adductor_strap_supine"})


def pictogram(position: str, label: str = "", stretch: str | None = None) -> str:
    """An inline SVG stick figure of a stretch, or of a body position.

    Parameters
    ----------
    position : str
        A position id. The shipped ones (``standing``, ``half_kneeling``,
        ``quadruped``, ``seated_floor``, ``supine``, ``prone``) have their own
        figure; any other gets a neutral grey figure with a question mark.
    label : str, optional
        The accessible name of the picture (default: the id in words).
    stretch : str, optional
        A stretch id. Each shipped stretch has a figure of the stretch itself, with
        an arrow for the movement; a stretch without one falls back to its position.

    Returns
    -------
    str
        An ``<svg>`` element, safe to embed in HTML, in black and white.

    Examples
    --------
    >>> svg = pictogram("supine", "Lying on your back")
    >>> svg.startswith("<svg"), "Lying on your back" in svg
    (True, True)
    >>> "?" in pictogram("sofa")
    True
    >>> pictogram("supine", stretch="figure_four_supine") != pictogram("supine")
    True
    """
    title = html.escape(label or _words(stretch or position))
    drawn_stretch = STRETCH_PICTOGRAMS.get(stretch) if stretch is not None else None
    figure = PICTOGRAMS.get(position)
    floor = _FLOOR
    if drawn_stretch is not None:
        drawn = f"<g {_INK.format(colour='#1a1a1a')}>{drawn_stretch}</g>"
        floor = "" if stretch in _FROM_ABOVE else _FLOOR
    elif figure is None:
        drawn = f"<g {_INK.format(colour='#888')}>{_FALLBACK}</g>{_QUESTION}"
    else:
        drawn = f"<g {_INK.format(colour='#1a1a1a')}>{figure}</g>"
    return (
        '<svg class="pictogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" '
        f'width="120" height="80" role="img" aria-label="{title}">'
        f"<title>{title}</title>{floor}{drawn}</svg>"
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
        unit = "minute" if profile.minutes == 1 else "minutes"
        parts.append(f"Time available: about {profile.minutes:g} {unit}.")
    if profile.focus:
        focus = _listing(_name(kb.muscles, m) for m in sorted(profile.focus))
        parts.append(f"Focus: {focus}.")
    return " ".join(parts)


Paper = Literal["A4", "Letter"]
_PAPERS: Mapping[str, str] = {"A4": "A4", "Letter": "letter"}


def _check(paper: str) -> None:
    if paper not in _PAPERS:
        raise InvalidArgumentError(
            f"unknown paper size {paper!r}; choose one of: {', '.join(_PAPERS)}"
        )


def _dose(step: Step, kb: KnowledgeBase) -> list[tuple[str, str]]:
    rolling = is_rolling(step, kb)
    return [
        ("Position", position_words(step, kb)),
        ("Equipment", equipment_words(step)),
        ("Pause on tight spots" if rolling else "Hold", f"{step.hold_seconds} seconds"),
        ("Sets", str(step.sets)),
        ("Sides", "Each side" if step.per_side else "Both sides at once"),
        ("How firmly" if rolling else "How far", how_far(step, kb)[1]),
        ("Time", f"about {format_duration(step.seconds)}"),
    ]


def _summary(routine: Routine) -> str:
    if routine.status == "referred":
        return "No stretching today: see what to do above."
    if routine.status == "nothing_fits":
        return "No step could be given for this profile; see what was left out and why."
    return f"{steps_and_time(routine)}."


def _title(routine: Routine, kb: KnowledgeBase) -> str:
    return f"SI joint stretching routine: {_name(kb.contexts, routine.context)}"


def _referral_heading(referral: Referral) -> str:
    return f"{urgency_word(referral.urgency)}: do not stretch; get help"


def _flag_names(referral: Referral) -> tuple[str, ...]:
    return referral.flag_names or tuple(_words(f) for f in referral.red_flags)


def _references(routine: Routine, kb: KnowledgeBase) -> list[tuple[str, str | None]]:
    return [
        reference(source_id, paras, kb)
        for source_id, paras in cited_sources(routine_citations(routine)).items()
    ]


def _why(step: Step) -> str:
    return " ".join(step.reasons)


def _left_out(routine: Routine, clinician: bool) -> list[tuple[tuple[str, ...], str]]:
    """``(names, why)`` of the stretches left out: for the patient, those whose reasons
    read the same together (:func:`left_out_groups`); for the clinician, each on its own,
    with its id, and each reason's code and rule."""
    if not clinician:
        return list(left_out_groups(routine))
    out: list[tuple[tuple[str, ...], str]] = []
    for e in routine.excluded:
        why = " ".join(
            f"{r.message} [{r.code.value}" + (f"; rule {r.rule}]" if r.rule else "]")
            for r in e.reasons
        )
        out.append(((f"{e.name} ({e.stretch_id})",), why))
    return out


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


def to_markdown(
    routine: Routine, *, knowledge: KnowledgeBase | None = None, clinician: bool = False
) -> str:
    """The routine as a Markdown handout, for the patient or (opt-in) the clinician.

    Parameters
    ----------
    routine : Routine
        From :func:`sirecommend.recommend`.
    knowledge : KnowledgeBase, optional
        Used for names and source titles (default: the shipped knowledge). Pass
        the knowledge the routine was made with when it used extra packs.
    clinician : bool, optional
        The clinician's version: adds each step's reasons and citations, the ids,
        reason codes and rules of what was left out, and the knowledge digest. The
        default is the patient's version, in plain words only.

    Returns
    -------
    str
        CommonMark text. Text from the routine is escaped, so it renders literally.

    Examples
    --------
    >>> from sirecommend import recommend
    >>> md = to_markdown(recommend(context="warm_up", red_flags={"night_pain"}))
    >>> "## URGENT: do not stretch; get help" in md, "Stop rules" in md
    (True, False)
    >>> "Why:" in to_markdown(recommend(context="warm_up"), clinician=True)
    True
    """
    kb = knowledge if knowledge is not None else load_knowledge()
    out = [f"# {_md(_title(routine, kb))}", ""]
    warning = relaxation_lines(routine.provenance.relaxations)
    out += [*(f"> **{_md(line)}**  " for line in warning), ""] if warning else []
    ref = routine.referral
    if ref is not None:  # a red-flag sheet leads with what to do
        out += [f"## {_md(_referral_heading(ref))}", "", f"**{_md(ref.action or ref.message)}**"]
        out += ["", "You reported:", ""]
        out += [f"- {_md(name)}" for name in _flag_names(ref)]
        if ref.action:
            out += ["", _md(referral_details(ref))]
        out.append("")
    out += [_md(describe_profile(routine.profile, kb)), ""]
    if clinician:
        out += ["*Clinician's copy: with reasons, rules and citations.*", ""]
    out += [f"**{_md(_summary(routine))}**", ""]
    note = focus_note(routine, kb)
    if note is not None:
        out += [f"> {_md(note)}", ""]
    if routine.steps:
        out += ["## Steps", ""]
    for n, step in enumerate(routine.steps, 1):
        phase = phase_title(routine.context, step.phase, kb)
        out += [f"### {n}. {_md(step.name)}", "", f"*{phase}*", ""]
        out += [f"- **{label}:** {_md(value)}" for label, value in _dose(step, kb)]
        out += ["", "How to do it:", ""]
        out += [f"{i}. {_md(text)}" for i, text in enumerate(step.instructions, 1)]
        if step.cautions:
            out += ["", "Take care:", ""]
            out += [f"- {_md(text)}" for text in step.cautions]
        if clinician:
            out += ["", f"Why: {_md(_why(step))}", "", f"Cited: {_md(', '.join(step.sources))}"]
        out.append("")
    left = _left_out(routine, clinician)
    if left and (ref is None or clinician):
        out += ["## Left out, and why", ""]
        out += [
            f"- **{_md(names[0])}:** {_md(why)}"
            if len(names) == 1
            else f"- For each of {and_list([f'**{_md(n)}**' for n in names])}: {_md(why)}"
            for names, why in left
        ]
        out.append("")
    if ref is None:
        out += ["## Stop rules", ""]
        out += [f"- {_md(text)}" for text in routine.cautions]
        out.append("")
    signs = warning_signs(routine, kb)
    if signs:
        out += ["## When to get help", ""]
        out += [
            f"- **{_md(word)}** if you have: {_md(names)}. {_md(action)}"
            for word, names, action in signs
        ]
        out.append("")
    references = _references(routine, kb)
    if references:
        out += ["## Sources", ""]
        for text, url in references:
            safe = url.replace("<", "%3C").replace(">", "%3E") if url else ""
            out.append(f"- {_md(text)}." + (f" <{safe}>" if safe else ""))
        out.append("")
    out += [f"> {_md(routine.notice)}", ""]
    prov = routine.provenance
    if clinician:
        packs = f", packs: {_md(', '.join(prov.packs))}" if prov.packs else ""
        out.append(f"*sirecommend {prov.version}, knowledge {prov.knowledge_digest[:12]}{packs}*")
    else:
        out.append(f"*Made with sirecommend {prov.version}.*")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- HTML

# Sized so that a 7-step routine prints on two sheets of A4 or Letter: the steps sit in
# two columns of cards that do not break across pages. Large print is one column at
# about 14 pt. Every colour passes WCAG AA contrast on white, and the page reads in
# black and white.
_CSS = """
@page { size: %(paper)s; margin: 11mm 12mm; }
* { box-sizing: border-box; }
html { color: #1a1a1a; background: #fff; }
body { font: %(font)s/1.3 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 0; }
main { max-width: 190mm; margin: 0 auto; padding: 4mm; }
h1 { font-size: 1.55em; margin: 0 0 1mm; }
h2 { font-size: 1.2em; margin: 3mm 0 1.5mm; border-bottom: 1px solid #767676; }
h3 { font-size: 1.05em; margin: 0 0 .5mm; }
p { margin: .8mm 0; }
.summary { font-weight: bold; }
.focus-unmet { border-left: 3px solid #1a1a1a; padding-left: 2mm; }
.referral { border: 3px solid #1a1a1a; padding: 3mm 4mm; margin: 3mm 0; }
.referral h2 { border: 0; margin-top: 0; }
.action { font-weight: bold; font-size: 1.1em; }
ol.steps { list-style: none; padding: 0; margin: 0; column-count: %(columns)s;
  column-gap: 3mm; }
li.step { border: 1px solid #767676; border-radius: 1.5mm; padding: 1.5mm 2.5mm;
  margin: 0 0 2mm; break-inside: avoid; page-break-inside: avoid; display: flow-root; }
.picture { float: right; width: %(picture)s; margin: 0 0 1mm 2mm; }
.pictogram { width: 100%%; height: auto; display: block; }
.phase { font-size: .85em; text-transform: uppercase; letter-spacing: .04em; color: #4d4d4d; }
.dose { margin: .5mm 0 1mm; font-size: .92em; }
h4 { font-size: .95em; margin: 1mm 0 .3mm; }
ol.how, ul.care { margin: 0; padding-left: 5mm; }
ul.care { font-size: .95em; }
.why, .cited, .provenance { font-size: .8em; color: #4d4d4d; }
.stop-rules { border: 2px solid #1a1a1a; padding: 0 4mm 2mm; margin-top: 3mm;
  break-inside: avoid; page-break-inside: avoid; }
.stop-rules h2 { border: 0; }
.left-out, .help, .sources { font-size: .88em; }
.left-out ul, .help ul, .sources ol, .stop-rules ul { margin: 0; padding-left: 5mm; }
.notice { border-top: 2px solid #1a1a1a; margin-top: 3mm; padding-top: 1.5mm; font-weight: bold; }
a { color: #0b4f8a; word-break: break-all; }
@media print { a { color: inherit; text-decoration: none; } main { padding: 0; } }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _step_html(n: int, step: Step, context: str, kb: KnowledgeBase, clinician: bool) -> str:
    both = "" if step.per_side else ", both sides at once"
    dose = (
        f"<b>{_e(position_words(step, kb))}</b> · {_e(equipment_words(step))} · "
        f"{_e(hold_words(step, kb))}{both} · about {_e(format_duration(step.seconds))}"
    )
    label = "How firmly" if is_rolling(step, kb) else "How far"
    how = "".join(f"<li>{_e(t)}</li>" for t in step.instructions)
    care = (
        '<h4>Take care</h4><ul class="care">'
        + "".join(f"<li>{_e(t)}</li>" for t in step.cautions)
        + "</ul>"
        if step.cautions
        else ""
    )
    extra = (
        f'<p class="why"><b>Why:</b> {_e(_why(step))}</p>'
        f'<p class="cited">Cited: {_e(", ".join(step.sources))}</p>'
        if clinician
        else ""
    )
    picture = pictogram(step.position, f"Picture: {step.name}", stretch=step.stretch_id)
    return (
        f'<li class="step" id="step-{n}">'
        f'<div class="picture">{picture}</div>'
        f'<div class="phase">{_e(phase_title(context, step.phase, kb))}</div>'
        f'<h3><span class="num">{n}. </span>{_e(step.name)}</h3>'
        f'<p class="dose">{dose}</p>'
        f'<p class="dose"><b>{label}:</b> {_e(how_far(step, kb)[0])}.</p>'
        f'<ol class="how">{how}</ol>{care}{extra}</li>'
    )


def to_html(
    routine: Routine,
    *,
    knowledge: KnowledgeBase | None = None,
    clinician: bool = False,
    paper: Paper = "A4",
    large_print: bool = False,
) -> str:
    """The routine as one self-contained, printable HTML page.

    Parameters
    ----------
    routine : Routine
        From :func:`sirecommend.recommend`.
    knowledge : KnowledgeBase, optional
        Used for names and source titles (default: the shipped knowledge). Pass
        the knowledge the routine was made with when it used extra packs.
    clinician : bool, optional
        The clinician's version, with reasons, rules and citations (see
        :func:`to_markdown`). The default is the patient's version.
    paper : str, optional
        The paper size, "A4" (the default) or "Letter". A 7-step routine fits on two
        sheets of either.
    large_print : bool, optional
        Larger type, one step per row, for people who find small print hard to read.

    Returns
    -------
    str
        An HTML5 document with inline CSS and inline SVG pictograms (one per step,
        showing the stretch); it loads nothing from the network (no scripts,
        stylesheets, fonts or images). All text is HTML-escaped.

    Raises
    ------
    InvalidArgumentError
        For a paper size other than ``"A4"`` or ``"Letter"``.

    Examples
    --------
    >>> from sirecommend import recommend
    >>> page = to_html(recommend(context="cool_down"))
    >>> "<script" in page, "Stop rules" in page, "size: A4" in page
    (False, True, True)
    >>> "size: letter" in to_html(recommend(context="cool_down"), paper="Letter")
    True
    """
    _check(paper)
    kb = knowledge if knowledge is not None else load_knowledge()
    title = _title(routine, kb)
    relaxed = relaxation_lines(routine.provenance.relaxations)
    body = [f'<p class="relaxed"><b>{_e(line)}</b></p>' for line in relaxed]
    body.append(f"<header><h1>{_e(title)}</h1></header>")
    ref = routine.referral
    if ref is not None:  # a red-flag sheet leads with what to do
        names = "".join(f"<li>{_e(name)}</li>" for name in _flag_names(ref))
        details = f"<p>{_e(referral_details(ref))}</p>" if ref.action else ""
        body.append(
            f'<section class="referral urgency-{_e(ref.urgency)}">'
            f"<h2>{_e(_referral_heading(ref))}</h2>"
            f'<p class="action">{_e(ref.action or ref.message)}</p>'
            f"<p>You reported:</p><ul>{names}</ul>{details}</section>"
        )
    body.append(f'<p class="profile">{_e(describe_profile(routine.profile, kb))}</p>')
    if clinician:
        body.append("<p><i>Clinician's copy: with reasons, rules and citations.</i></p>")
    body.append(f'<p class="summary">{_e(_summary(routine))}</p>')
    note = focus_note(routine, kb)
    if note is not None:
        body.append(f'<p class="focus-unmet">{_e(note)}</p>')
    if routine.steps:
        steps = "".join(
            _step_html(n, s, routine.context, kb, clinician) for n, s in enumerate(routine.steps, 1)
        )
        body.append(f'<section><h2>Steps</h2><ol class="steps">{steps}</ol></section>')
    left = _left_out(routine, clinician)
    if left and (ref is None or clinician):
        items = "".join(
            f"<li><b>{_e(names[0])}:</b> {_e(why)}</li>"
            if len(names) == 1
            else f"<li>For each of {and_list([f'<b>{_e(n)}</b>' for n in names])}: {_e(why)}</li>"
            for names, why in left
        )
        body.append(
            f'<section class="left-out"><h2>Left out, and why</h2><ul>{items}</ul></section>'
        )
    if ref is None:
        rules = "".join(f"<li>{_e(t)}</li>" for t in routine.cautions)
        body.append(f'<section class="stop-rules"><h2>Stop rules</h2><ul>{rules}</ul></section>')
    signs = warning_signs(routine, kb)
    if signs:
        items = "".join(
            f"<li><b>{_e(word)}</b> if you have: {_e(names)}. {_e(action)}</li>"
            for word, names, action in signs
        )
        body.append(f'<section class="help"><h2>When to get help</h2><ul>{items}</ul></section>')
    references = _references(routine, kb)
    if references:
        items = "".join(
            f"<li>{_e(text)}." + (f' <a href="{_e(url)}">{_e(url)}</a>' if url else "") + "</li>"
            for text, url in references
        )
        body.append(f'<section class="sources"><h2>Sources</h2><ol>{items}</ol></section>')
    prov = routine.provenance
    made = f"Made with sirecommend {_e(prov.version)}"
    if clinician:
        packs = f"; packs: {', '.join(prov.packs)}" if prov.packs else ""
        made += f" from knowledge {_e(prov.knowledge_digest[:12])}{_e(packs)}"
    body.append(
        f'<footer><p class="notice">{_e(routine.notice)}</p>'
        f'<p class="provenance">{made}.</p></footer>'
    )
    css = _CSS % {
        "paper": _PAPERS[paper],
        "font": "14pt" if large_print else "9pt",
        "columns": "1" if large_print else "2",
        "picture": "38mm" if large_print else "24mm",
    }
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{css}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
