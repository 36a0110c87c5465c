"""Plain-text rendering of a routine, for a person to read."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sirecommend._routine import Routine, Step

__all__ = ["count", "format_duration", "render_text", "span"]

_PHASE_TITLES = {"warm_up": "Warm-up", "targeted": "Targeted stretches", "cool_down": "Cool-down"}


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
    '6 steps, about 10 min'
    """
    return f"{count(len(routine.steps), 'step')}, about {format_duration(routine.total_seconds)}"


def _wrap(text: str, indent: str, hanging: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        width=88,
        initial_indent=indent,
        subsequent_indent=indent + hanging,
        break_on_hyphens=False,
    ) or [indent]


def _dose_line(step: Step) -> str:
    sides = ", each side" if step.per_side else ""
    rng = "reduced range, slowly" if step.range_of_motion == "reduced" else "full comfortable range"
    kit = step.equipment_name or "no equipment"
    hold = f"hold {step.hold_seconds} s x {count(step.sets, 'set')}{sides}"
    return f"{step.position_name} | {kit} | {hold} | {rng} | about {format_duration(step.seconds)}"


def render_text(routine: Routine) -> str:
    """The routine as plain text: steps, dose, cues, reasons, sources, cautions, notice."""
    lines = [f"SI joint routine: {routine.context.replace('_', ' ')}"]
    if routine.referral is not None:
        ref = routine.referral
        lines += [
            "",
            f"STOP - {ref.urgency.replace('_', ' ').upper()}: "
            f"red flags reported ({', '.join(ref.red_flags)})",
        ]
        lines += _wrap(ref.message, "  ")
        lines += _wrap("Sources: " + ", ".join(ref.sources), "  ")
    elif not routine.steps:
        lines += ["", "No step could be given for this profile; see why below."]
    else:
        lines.append(steps_and_time(routine))
    phase = None
    for n, step in enumerate(routine.steps, 1):
        if step.phase != phase:
            phase = step.phase
            lines += ["", _PHASE_TITLES[phase]]
        lines += ["", f"{n}. {step.name}", f"   {_dose_line(step)}"]
        lines += [
            ln for i, text in enumerate(step.instructions, 1) for ln in _wrap(f"{i}) {text}", "   ")
        ]
        lines += [ln for text in step.cautions for ln in _wrap(f"! {text}", "   ")]
        lines += [ln for text in step.reasons for ln in _wrap(f"why: {text}", "   ")]
        lines += _wrap("sources: " + ", ".join(step.sources), "   ")
    if routine.excluded:
        lines += ["", "Left out"]
        for e in routine.excluded:
            lines += _wrap(f"- {e.name}: " + " ".join(r.message for r in e.reasons), "  ")
    lines += ["", "Stop rules"]
    lines += [ln for text in routine.cautions for ln in _wrap(f"- {text}", "  ")]
    lines += ["", *_wrap(routine.notice, "", hanging="")]
    return "\n".join(lines)
