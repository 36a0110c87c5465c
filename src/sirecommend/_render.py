"""Plain-text rendering of a routine, for the person who does it.

``str(routine)`` is the patient's text: plain words only. It shows no ids, reason codes,
"why" lines or citation ids; the sources are listed once, at the end, as readable
references ("Stretches for SI joint pain, paragraphs 9, 10"). The clinician's view
(reasons, rules, citations) is the ``explain`` command, the JSON, and the handouts with
``clinician=True``. A red-flag sheet leads with what to do, names every flag reported
and gives no stretching advice.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from sirecommend._models import DEFAULT_PHASE_TITLES, PhaseTitles
from sirecommend._routine import ReasonCode

if TYPE_CHECKING:
    from sirecommend._kb import KnowledgeBase
    from sirecommend._routine import Exclusion, Referral, Routine, Step

__all__ = [
    "PHASE_TITLES",
    "RANGE_WORDS",
    "ROLLING_WORDS",
    "URGENCY_WORDS",
    "and_list",
    "cited_sources",
    "count",
    "dose_line",
    "equipment_words",
    "focus_note",
    "format_duration",
    "hold_words",
    "how_far",
    "in_sentence",
    "is_rolling",
    "left_out",
    "left_out_groups",
    "phase_title",
    "position_words",
    "reference",
    "referral_details",
    "render_text",
    "routine_citations",
    "span",
    "steps_and_time",
    "unmet_focus",
    "urgency_word",
    "warning_signs",
]

#: How far to go, in words a person cannot read as "push to the end of the movement".
RANGE_WORDS: Mapping[str, tuple[str, str]] = {
    # range_of_motion: (short label, full sentence)
    "full": (
        "to a gentle stretch, never to your limit",
        "Go only until you feel a gentle stretch, well short of the end of your movement.",
    ),
    "reduced": (
        "smaller movement than usual, slowly",
        "Today, use only part of your usual movement, slowly, and stop at the first "
        "gentle stretch.",
    ),
}


#: Foam rolling has no stretch to reach: how firmly to press, instead (Bartsch et al. 2021).
ROLLING_WORDS: tuple[str, str] = (
    "gentle pressure, never painful",
    "Press only as firmly as feels comfortable: rolling should never hurt.",
)


def is_rolling(step: Step, kb: KnowledgeBase) -> bool:
    """Whether a step is foam rolling (by movement kind), whose dose reads differently.

    >>> from sirecommend import load_knowledge, recommend
    >>> steps = recommend(context="warm_up", equipment={"foam_roller"}).steps
    >>> [is_rolling(s, load_knowledge()) for s in steps][:2]
    [True, False]
    """
    return "rolling" in kb.movement_kinds_of(step.movements)


def how_far(step: Step, kb: KnowledgeBase) -> tuple[str, str]:
    """``(short label, sentence)``: how far to stretch, or how firmly to roll."""
    return ROLLING_WORDS if is_rolling(step, kb) else RANGE_WORDS[step.range_of_motion]


def hold_words(step: Step, kb: KnowledgeBase) -> str:
    """The hold as a person does it: a held stretch, or pauses while rolling.

    >>> from sirecommend import load_knowledge, recommend
    >>> kb = load_knowledge()
    >>> steps = recommend(context="warm_up", equipment={"foam_roller"}).steps
    >>> hold_words(steps[1], kb), hold_words(steps[0], kb)
    ('hold 30 s x 2 sets, each side', 'roll slowly, pausing 10 s on tight spots, each side')
    """
    sides = ", each side" if step.per_side else ""
    if is_rolling(step, kb):
        return f"roll slowly, pausing {step.hold_seconds} s on tight spots{sides}"
    return f"hold {step.hold_seconds} s x {count(step.sets, 'set')}{sides}"


def format_duration(seconds: int) -> str:
    """``195`` -> ``'3 min 15 s'``.

    >>> format_duration(195), format_duration(45), format_duration(120)
    ('3 min 15 s', '45 s', '2 min')
    """
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min" + (f" {secs} s" if secs else "")


def count(n: int, noun: str) -> str:
    """A count with its noun, plural when not one.

    >>> count(1, "set"), count(2, "set")
    ('1 set', '2 sets')
    """
    return f"{n} {noun}" + ("" if n == 1 else "s")


def span(low: int, high: int, unit: str = "") -> str:
    """A range as words, a single value when both ends agree.

    >>> span(30, 60, " s"), span(1, 1)
    ('30-60 s', '1')
    """
    return f"{low}{unit}" if low == high else f"{low}-{high}{unit}"


def steps_and_time(routine: Routine) -> str:
    """How many steps and about how long, as every rendering says it.

    >>> from sirecommend import recommend
    >>> steps_and_time(recommend(context="warm_up", equipment={"foam_roller"}))
    '4 steps, about 6 min 20 s'
    """
    return f"{count(len(routine.steps), 'step')}, about {format_duration(routine.total_seconds)}"


def unmet_focus(routine: Routine) -> tuple[str, ...]:
    """The focus muscles (ids, sorted) that no step of the routine works.

    Empty for a referral, which has no steps to meet a focus.

    >>> from sirecommend import recommend
    >>> unmet_focus(recommend(context="after_sitting", avoid_positions={"floor"},
    ...                       focus={"hamstrings", "hip_flexors"}))
    ('hamstrings',)
    >>> unmet_focus(recommend(context="after_sitting", focus={"hamstrings"}))
    ()
    """
    if routine.referral is not None:
        return ()
    worked = {m for step in routine.steps for m in step.targets}
    return tuple(sorted(routine.profile.focus - worked))


def focus_note(routine: Routine, kb: KnowledgeBase) -> str | None:
    """The sentence that says, in plain words, a requested focus could not be met.

    Muscles are named as ``kb`` names them (an id it does not define, in words).

    >>> from sirecommend import load_knowledge, recommend
    >>> routine = recommend(context="after_sitting", avoid_positions={"floor"},
    ...                     focus={"hamstrings"})
    >>> print(focus_note(routine, load_knowledge()))  # doctest: +NORMALIZE_WHITESPACE
    Focus not met: you asked to focus on Hamstrings, but no step in this routine works
    that area. "Left out" says why.
    >>> print(focus_note(recommend(context="warm_up", focus={"glutes", "piriformis"}),
    ...                  load_knowledge()))  # doctest: +NORMALIZE_WHITESPACE
    Focus not met: you asked to focus on Glutes and Piriformis, but no step in this
    routine works those areas. "Left out" says why.
    >>> print(focus_note(recommend(context="warm_up", focus={"piriformis"}),
    ...                  load_knowledge()))  # doctest: +NORMALIZE_WHITESPACE
    Focus not met: you asked to focus on Piriformis, but no step in this routine works
    that area. None of the stretches for this situation works that area.
    >>> focus_note(recommend(context="after_sitting"), load_knowledge()) is None
    True
    """
    unmet = unmet_focus(routine)
    if not unmet:
        return None
    names = [kb.muscles[m].name if m in kb.muscles else m.replace("_", " ") for m in unmet]
    listed = and_list(names)
    area = "that area" if len(names) == 1 else "those areas"
    left_out = {
        m
        for e in routine.excluded
        if e.stretch_id in kb.stretches
        for m in kb.stretches[e.stretch_id].targets
    }
    why = (
        '"Left out" says why.'
        if left_out.intersection(unmet)
        else f"None of the stretches for this situation works {area}."
    )
    return (
        f"Focus not met: you asked to focus on {listed}, but no step in this routine "
        f"works {area}. {why}"
    )


#: The heading of each phase unless the context names its own (``Context.phase_titles``).
PHASE_TITLES: Mapping[str, str] = DEFAULT_PHASE_TITLES


def left_out(routine: Routine) -> tuple[Exclusion, ...]:
    """The exclusions a patient reads: all but the groups offered within a step.

    A group that a choice step offers (foam rolling: the sore group, p15) is not a step of
    its own, but it is not left out either: its set-up is in that step. The clinician's
    view (``explain``, JSON, the clinician handout) keeps it, with its reason.

    >>> from sirecommend import recommend
    >>> routine = recommend(context="warm_up", equipment={"foam_roller"})
    >>> [e.stretch_id for e in routine.excluded if e not in left_out(routine)]
    ['foam_roll_hip_flexors', 'foam_roll_glutes', 'foam_roll_hamstrings']
    """
    steps = {s.stretch_id for s in routine.steps}
    return tuple(
        e
        for e in routine.excluded
        if not all(r.code is ReasonCode.ROLL_SORE_GROUP and r.other in steps for r in e.reasons)
    )


def left_out_groups(routine: Routine) -> tuple[tuple[tuple[str, ...], str], ...]:
    """The patient's "Left out" list: ``(names, why)``, stretches whose reasons read the
    same given together, in the order of the first of each.

    The words are the reasons' own, unchanged: a group only gathers stretches for which
    they are the same, word for word.

    >>> from sirecommend import recommend
    >>> groups = left_out_groups(recommend(context="after_sitting"))
    >>> [len(names) for names, _ in groups]
    [1, 4, 1]
    >>> groups[1][1].startswith("Left out to keep the routine after sitting to about 10")
    True
    """
    groups: dict[str, list[str]] = {}
    for e in left_out(routine):
        groups.setdefault(" ".join(r.message for r in e.reasons), []).append(e.name)
    return tuple((tuple(names), why) for why, names in groups.items())


def and_list(items: Sequence[str]) -> str:
    """``items`` in words: "A", "A and B", "A, B and C".

    >>> and_list(["Child's pose", "Standing side bend", "Butterfly"])
    "Child's pose, Standing side bend and Butterfly"
    """
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def phase_title(context: str, phase: str, knowledge: KnowledgeBase | None = None) -> str:
    """The heading of a phase, in words that fit the context: the context's own
    ``phase_titles`` in ``knowledge`` (default: the shipped knowledge), else
    :data:`PHASE_TITLES`.

    The moves that open a routine are a warm-up only when the person is about to be
    active (the ``warm_up`` context says so in its data); after sitting, sleep or
    activity they are gentle moves (article p7, p25).

    >>> phase_title("warm_up", "warm_up"), phase_title("post_activity", "warm_up")
    ('Warm-up', 'Gentle moves')
    >>> phase_title("after_sitting", "targeted"), phase_title("cool_down", "cool_down")
    ('Targeted stretches', 'Cool-down')
    """
    from sirecommend import load_knowledge

    kb = knowledge if knowledge is not None else load_knowledge()
    entry = kb.contexts.get(context)
    titles = PhaseTitles() if entry is None else entry.phase_titles
    return titles.title(phase)


def equipment_words(step: Step) -> str:
    """What the step needs, as a person would say it.

    >>> from sirecommend import recommend
    >>> steps = recommend(context="after_sitting", equipment={"strap"}).steps
    >>> [equipment_words(s) for s in steps][:3]
    ['No equipment needed', 'No equipment needed', 'Stretching strap']
    """
    return step.equipment_name or "No equipment needed"


_CITATION = re.compile(r"^(?P<source>[^#]+)(?:#p(?P<para>[0-9]+))?$")


def cited_sources(citations: Iterable[str]) -> dict[str, list[int]]:
    """Source id -> the paragraphs cited from it (empty: the whole source), sorted.

    >>> cited_sources(["si-stretch-guide#p9", "nhs-dvt", "si-stretch-guide#p7"])
    {'nhs-dvt': [], 'si-stretch-guide': [7, 9]}
    """
    cited: dict[str, set[int]] = {}
    for c in citations:
        m = _CITATION.match(c)
        source, para = (m.group("source"), m.group("para")) if m else (c, None)
        paras = cited.setdefault(source, set())
        if para is not None:
            paras.add(int(para))
    return {s: sorted(p) for s, p in sorted(cited.items())}


def routine_citations(routine: Routine) -> list[str]:
    """Every citation the routine's steps and referral rest on."""
    citations = [c for s in routine.steps for c in s.sources]
    if routine.referral is not None:
        citations += routine.referral.sources
    return citations


def reference(source_id: str, paras: list[int], kb: KnowledgeBase | None) -> tuple[str, str | None]:
    """``(readable reference, url)`` for one source, as a person reads it.

    A guideline's publisher and year follow its title; the article's
    publisher is not named in our copy, so it is cited by title and paragraphs. A source
    the knowledge does not define is named in words, never by its id.

    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> reference("si-stretch-guide", [9, 10], kb)
    ('Stretches for SI joint pain, paragraphs 9, 10', None)
    >>> reference("nhs-dvt", [], kb)[0]
    'Deep vein thrombosis (DVT). NHS (nhs.uk health A to Z)'

    >>> reference("clinic-notes", [], None)
    ('clinic notes', None)
    """
    src = None if kb is None else kb.sources.get(source_id)
    if src is None:
        text, url = source_id.replace("-", " ").replace("_", " "), None
    else:
        text, url = src.title, src.url
        if src.kind != "article":
            text += f". {src.publisher}" + (f", {src.year}" if src.year else "")
    if paras:
        text += f", paragraph{'s' if len(paras) > 1 else ''} {', '.join(map(str, paras))}"
    return text, url


def referral_details(referral: Referral) -> str:
    """What the referral says beyond its action: why these flags matter.

    >>> from sirecommend import recommend
    >>> ref = recommend(context="warm_up", red_flags={"fever"}).referral
    >>> referral_details(ref).startswith("A fever")
    True
    """
    return referral.message.removeprefix(referral.action).strip()


URGENCY_WORDS: Mapping[str, str] = {
    "emergency": "EMERGENCY",
    "same_day": "SEE A DOCTOR TODAY",
    "urgent": "URGENT",
    "stop_and_review": "STOP AND REVIEW",
}


def urgency_word(urgency: str) -> str:
    """The heading word of an urgency tier.

    >>> urgency_word("same_day"), urgency_word("other_tier")
    ('SEE A DOCTOR TODAY', 'OTHER TIER')
    """
    return URGENCY_WORDS.get(urgency, urgency.replace("_", " ").upper())


def _wrap(text: str, indent: str, hanging: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        width=88,
        initial_indent=indent,
        subsequent_indent=indent + hanging,
        break_on_hyphens=False,
    ) or [indent]


def position_words(step: Step, kb: KnowledgeBase) -> str:
    """The step's position in words. A choice step (the sore group to roll, p15) says that
    each group has its own: each group's line starts with it (hip flexors: face down).

    >>> from sirecommend import load_knowledge, recommend
    >>> kb = load_knowledge()
    >>> steps = recommend(context="warm_up", equipment={"foam_roller"}).steps
    >>> roll = next(s for s in steps if s.stretch_id == "foam_roll_sore_group")
    >>> position_words(roll, kb)
    'Sitting on the floor, or as each group says'
    >>> position_words(recommend(context="after_sitting").steps[0], kb)
    'On hands and knees'
    """
    st = kb.stretches.get(step.stretch_id)
    if st is None or not st.choose_one:
        return step.position_name
    return f"{step.position_name}, or as each group says"


def dose_line(step: Step, kb: KnowledgeBase) -> str:
    """Where, with what, how long and how far, on one line.

    >>> from sirecommend import load_knowledge, recommend
    >>> step = recommend(context="after_sitting", aggravated=True).steps[0]
    >>> line = dose_line(step, load_knowledge())
    >>> for part in line.split(" | "):
    ...     print(part)
    On hands and knees
    No equipment needed
    hold 30 s x 2 sets, each side
    smaller movement than usual, slowly
    about 2 min 15 s
    """
    return (
        f"{position_words(step, kb)} | {equipment_words(step)} | {hold_words(step, kb)} | "
        f"{how_far(step, kb)[0]} | "
        f"about {format_duration(step.seconds)}"
    )


def warning_signs(routine: Routine, kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    """When to get help: ``(urgency word, the red flags of that urgency, what to do)``,
    most urgent first.

    For a referral, only the tiers more urgent than its own: the signs that would call
    for something faster than what the sheet already says.

    >>> from sirecommend import load_knowledge, recommend
    >>> kb = load_knowledge()
    >>> [w for w, _, _ in warning_signs(recommend(context="warm_up", red_flags={"fever"}), kb)]
    ['EMERGENCY']
    >>> [w for w, _, _ in warning_signs(recommend(context="warm_up"), kb)][0]
    'EMERGENCY'
    """
    above = 0
    if routine.referral is not None:
        tier = kb.urgencies.get(routine.referral.urgency)
        above = tier.rank if tier is not None else 0
    tiers = sorted(kb.urgencies.values(), key=lambda u: (-u.rank, u.id))
    signs = [
        (u, [f.name for f in kb.red_flags.values() if f.urgency == u.id])
        for u in tiers
        if u.rank > above
    ]
    return [
        (urgency_word(u.id), "; ".join(map(in_sentence, names)), u.action)
        for u, names in signs
        if names
    ]


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: its first letter lower-cased, unless it
    starts an abbreviation.

    >>> in_sentence("Numbness in the saddle area"), in_sentence("DVT signs"), in_sentence("")
    ('numbness in the saddle area', 'DVT signs', '')
    """
    if name[:2].istitle() or (len(name) == 1 and name.isupper()):
        return name[0].lower() + name[1:]
    return name


def _referral_lines(referral: Referral) -> list[str]:
    word = urgency_word(referral.urgency)
    head = word if word.startswith("STOP") else f"STOP - {word}"  # (not "STOP - STOP AND")
    lines = ["", f"{head}: red flags reported. Do not stretch."]
    lines += _wrap(referral.action or referral.message, "  ")
    lines += ["", "  You reported:"]
    names = referral.flag_names or tuple(f.replace("_", " ") for f in referral.red_flags)
    lines += [ln for name in names for ln in _wrap(f"- {name}", "  ")]
    if referral.action:
        lines += ["", *_wrap(referral_details(referral), "  ")]
    return lines


def render_text(routine: Routine, *, knowledge: KnowledgeBase | None = None) -> str:
    """The routine as plain text for the person: steps, dose, cues, stop rules, sources.

    Sources are named by the titles in ``knowledge`` (default: the shipped knowledge).
    """
    from sirecommend import load_knowledge

    kb = knowledge if knowledge is not None else load_knowledge()
    context = kb.contexts.get(routine.context)
    title = context.name if context is not None else routine.context.replace("_", " ")
    lines = [f"SI joint stretching routine: {title}"]
    if routine.referral is not None:
        lines += _referral_lines(routine.referral)
        signs = warning_signs(routine, kb)
        if signs:  # what would call for faster help than this sheet says
            lines += ["", "When to get help"]
            for word, flags, action in signs:
                lines += _wrap(f"- {word} if you have: {flags}. {action}", "  ")
    elif not routine.steps:
        lines += ["", "No step could be given for this profile; see why below."]
    else:
        lines.append(steps_and_time(routine))
    note = focus_note(routine, kb)
    if note is not None:
        lines += ["", *_wrap(note, "", hanging="")]
    heading = None
    for n, step in enumerate(routine.steps, 1):
        # A new heading where the title changes: phases that share one (on waking, where
        # they interleave from lying up to standing) read under one heading.
        if (title := phase_title(routine.context, step.phase, kb)) != heading:
            heading = title
            lines += ["", title]
        lines += ["", f"{n}. {step.name}", f"   {dose_line(step, kb)}"]
        lines += [
            ln for i, text in enumerate(step.instructions, 1) for ln in _wrap(f"{i}) {text}", "   ")
        ]
        lines += [ln for text in step.cautions for ln in _wrap(f"! {text}", "   ")]
    if routine.referral is None:
        shown = left_out_groups(routine)
        if shown:
            lines += ["", "Left out"]
            for names, why in shown:
                if len(names) == 1:
                    lines += _wrap(f"- {names[0]}: {why}", "  ")
                else:  # one name a line: names may hold commas and colons
                    lines.append("  - For each of:")
                    lines += [ln for name in names for ln in _wrap(name, "      ")]
                    lines += _wrap(why, "    ", hanging="")
        lines += ["", "Stop rules"]
        lines += [ln for text in routine.cautions for ln in _wrap(f"- {text}", "  ")]
    sources = cited_sources(routine_citations(routine))
    if sources:
        lines += ["", "Sources"]
        for source_id, paras in sources.items():
            lines += _wrap("- " + reference(source_id, paras, kb)[0], "  ")
    lines += ["", *_wrap(routine.notice, "", hanging="")]
    return "\n".join(lines)
