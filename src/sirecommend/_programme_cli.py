"""Command-line commands for the programme: ``log``, ``next``, ``history`` and ``plan``.

:func:`register` adds them to the ``sirecommend`` parser's subcommands; each sets
``run`` to a handler taking the parsed arguments and returning the exit status (0, or
2 with one line on standard error for bad input, a bad journal or a missing extra).

===========  =====================================================================
log          record how a session went, from flags (``--feedback``) or by prompts
next         the next routine from the journal: recommend(..., history=sessions)
history      the journal as a table, JSON (``--format json``) or a chart (``--chart``)
plan         a dated plan for some weeks, as text, and as iCalendar with ``--ics``
===========  =====================================================================

The journal is ``--journal PATH``, else ``$SIRECOMMEND_JOURNAL``, else the platform's
user data directory (see :mod:`sirecommend.journal`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sirecommend._feedback import Feedback, Session
from sirecommend._kb import KnowledgeBase
from sirecommend._plan import plan
from sirecommend._recommend import recommend
from sirecommend._render import cited_sources, reference
from sirecommend._routine import Profile, ReasonCode
from sirecommend.errors import UnknownIdError
from sirecommend.journal import ENV_VAR, Journal, JournalError, default_journal_path
from sirecommend.progression import band_of, model_of, progress

__all__ = ["history_svg", "register"]

Handler = Callable[[argparse.Namespace], int]
Loader = Callable[[Sequence[str]], KnowledgeBase]
ProfileOf = Callable[[argparse.Namespace], Profile]
_DAY_NAMES = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_MORNING = ("better", "same", "worse")


class _BadInputError(Exception):
    """Bad input found here: one line on standard error, exit 2."""


#: UnknownIdError kind -> the option that gave an id of that kind.
_KIND_FLAGS = {
    "context": "--context",
    "stretch": "--feedback",
    "red flag": "--red-flag",
    "equipment": "--equipment",
    "position": "--avoid",
    "muscle": "--focus",
}
#: Model field -> the option that set it, for validation errors.
_FIELD_FLAGS = {
    "date": "--date",
    "feedback": "--feedback",
    "context": "--context",
    "red_flags": "--red-flag",
    "equipment": "--equipment",
    "avoid_positions": "--avoid",
    "focus": "--focus",
}


def _flag_of(exc: UnknownIdError, args: argparse.Namespace) -> str:
    """The option an unknown id came from (``plan --also`` gives contexts too)."""
    if exc.kind == "context" and exc.value != args.context:
        return "--also"
    return _KIND_FLAGS.get(exc.kind, "")


def _guard(run: Handler) -> Handler:
    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except _BadInputError as exc:
            message = str(exc)
        except UnknownIdError as exc:
            flag = _flag_of(exc, args)
            message = str(UnknownIdError(exc.kind, exc.value, exc.choices, where=flag))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            flag = _FIELD_FLAGS.get(field, field or "value")
            message = f"invalid {flag}: {first['msg'].removeprefix('Value error, ')}"
        except JournalError as exc:
            detail = exc.message.removeprefix(f"journal {exc.path}: ")
            message = f"{_journal_label(args)}: {detail}"
        except (sqlite3.Error, OSError) as exc:
            message = f"{_journal_label(args)}: cannot open it ({exc})"
        print(f"sirecommend {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
        return 2

    return guarded


def _knowledge(args: argparse.Namespace) -> KnowledgeBase:
    loader: Loader = args.load_knowledge
    return loader(args.pack)


def _journal_path(args: argparse.Namespace) -> Path:
    if args.journal is None:
        return default_journal_path()
    return Path(args.journal).expanduser()


def _journal_label(args: argparse.Namespace) -> str:
    """Where the journal's path came from, as the person set it."""
    path = _journal_path(args)
    if args.journal is not None:
        return f"--journal {str(path)!r}"
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR} {str(path)!r}"
    return f"journal {str(path)!r} (choose another with --journal)"


def _journal(args: argparse.Namespace) -> Journal:
    """The journal ``--journal`` names, else ``$SIRECOMMEND_JOURNAL``, else the default."""
    if args.journal is not None and not args.journal.strip():
        raise _BadInputError("--journal needs a file path, not an empty string")
    path = _journal_path(args)
    if path.is_dir():
        raise _BadInputError(
            f"{_journal_label(args)} is a directory: name a file in it, such as "
            f"{str(path / 'journal.sqlite3')!r}"
        )
    return Journal(path)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def _time(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid time {text!r}: use HH:MM") from None


def _days(text: str) -> list[int]:
    out = []
    for part in text.lower().split(","):
        part = part.strip()
        if part in _DAY_NAMES:
            out.append(_DAY_NAMES[part])
        elif part.isdigit() and 1 <= int(part) <= 7:
            out.append(int(part))
        else:
            raise argparse.ArgumentTypeError(
                f"invalid day {part!r}: use mon..sun or 1 (Monday) to 7, comma-separated"
            )
    return out


#: Feedback field -> how the person would name it.
_FEEDBACK_WORDS = {
    "sets_done": "sets",
    "pain_during": "pain during",
    "pain_after": "pain after",
    "next_morning": "next morning",
}


def _feedback_flag(text: str) -> Feedback:
    """``STRETCH:SETS:DURING[:AFTER[:MORNING]]`` -> a :class:`Feedback`."""
    parts = text.split(":")
    usage = f"invalid value {text!r}: use STRETCH:SETS:PAIN_DURING[:PAIN_AFTER[:MORNING]]"
    if not 3 <= len(parts) <= 5:
        raise argparse.ArgumentTypeError(usage)
    try:
        fields: dict[str, Any] = {
            "stretch_id": parts[0],
            "sets_done": int(parts[1]),
            "pain_during": int(parts[2]),
        }
        if len(parts) > 3 and parts[3]:
            fields["pain_after"] = int(parts[3])
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    if len(parts) > 4:
        fields["next_morning"] = parts[4]
    try:
        return Feedback.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        what = _FEEDBACK_WORDS.get(str(first["loc"][0]), str(first["loc"][0]))
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: {what} {first.get('input')!r}: {first['msg']}"
        ) from None


def _ask(prompt: str, allowed: Callable[[str], bool]) -> str:
    while True:
        print(prompt, end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            raise _BadInputError("no answer (end of input)")
        answer = line.strip()
        if allowed(answer):
            return answer
        print("  not understood; try again", flush=True)


def _score(answer: str) -> bool:
    return answer.isdigit() and int(answer) <= 10


def _prompt_feedback(kb: KnowledgeBase, context: str) -> list[Feedback]:
    print(f"How did each stretch of '{context}' go? Press Enter to skip one you did not do.")
    out = []
    for sid in kb.order(context):
        sets = _ask(f"{kb.stretches[sid].name}: sets done: ", lambda a: a == "" or a.isdigit())
        if sets == "":
            continue
        during = _ask("  pain during, 0-10: ", _score)
        after = _ask("  pain after, 0-10 (Enter to skip): ", lambda a: a == "" or _score(a))
        fields: dict[str, Any] = {
            "stretch_id": sid,
            "sets_done": int(sets),
            "pain_during": int(during),
        }
        if after:
            fields["pain_after"] = int(after)
        out.append(Feedback.model_validate(fields))
    return out


@_guard
def _cmd_log(args: argparse.Namespace) -> int:
    kb = _knowledge(args)
    journal = _journal(args)
    if args.context not in kb.contexts:
        raise UnknownIdError("context", args.context, kb.contexts)
    rows = args.feedback or _prompt_feedback(kb, args.context)
    session = Session(
        date=args.date or dt.date.today(),
        context=args.context,
        feedback=tuple(rows),
        red_flags=frozenset(args.red_flag),
    )
    added = journal.record(session, knowledge=kb)
    what = "recorded in" if added else "already in"
    print(f"Session of {session.date.isoformat()} ({session.context}) {what} {journal.path}.")
    if session.red_flags:
        print(
            "You reported a warning sign: run 'sirecommend next' to see what to do, "
            "before stretching again."
        )
    return 0


def _profile(args: argparse.Namespace) -> Profile:
    """The profile the shared profile options describe, built as ``recommend`` builds it."""
    to_profile: ProfileOf = args.profile_of
    return to_profile(args)


@_guard
def _cmd_next(args: argparse.Namespace) -> int:
    kb = _knowledge(args)
    sessions = _journal(args).sessions()
    routine = recommend(_profile(args), knowledge=kb, history=sessions)
    prog = progress(kb, args.context, sessions)
    if args.format == "json":
        out = {
            "progression": prog.model_dump(mode="json"),
            "routine": routine.model_dump(mode="json"),
        }
        print(json.dumps(out, sort_keys=True))
        return 0
    if routine.status != "ok":
        print(routine)
        return 0
    why = {s.stretch_id: s.reason for s in prog.steps}
    print(f"Next '{args.context}' session, from {prog.sessions} logged session(s):")
    for n, step in enumerate(routine.steps, 1):
        side = " each side" if step.per_side else ""
        reduced = ", reduced range" if step.range_of_motion == "reduced" else ""
        dose = f"{step.hold_seconds} s x {step.sets}{reduced}{side}"
        reason = why[step.stretch_id]
        if args.aggravated:
            reason = "aggravated today: the lowest dose, at reduced range, whatever the journal"
        stands_in = (
            "" if step.replaces is None else f" (in place of {kb.stretches[step.replaces].name})"
        )
        print(f"{n}. {step.name}{stands_in}: {dose} [{step.progression or 'start'}] - {reason}")
    for e in routine.excluded:
        for r in e.reasons:
            if r.code is ReasonCode.PROGRESSION_PAUSED:
                print(f"- Left out: {e.name}: {r.message}")
    if prog.hold_reason:
        print(f"Nothing goes up: {prog.hold_reason}.")
    model = model_of(kb)
    sources = "; ".join(reference(c, p, kb)[0] for c, p in cited_sources(model.cites).items())
    print(f"Rules: {model.name}, from: {sources}.")
    return 0


@_guard
def _cmd_history(args: argparse.Namespace) -> int:
    sessions = _journal(args).sessions()
    if args.chart:
        _write_chart(Path(args.chart), sessions)
        print(f"Chart of {len(sessions)} session(s) written to {args.chart}.")
        return 0
    if args.format == "json":
        print(json.dumps([s.model_dump(mode="json") for s in sessions], sort_keys=True))
        return 0
    if not sessions:
        print("No sessions in the journal yet: record one with 'sirecommend log'.")
        return 0
    kb = _knowledge(args)
    model = model_of(kb)
    # Names, as the person reads them; an id the loaded knowledge no longer has (a pack
    # not loaded this time) is shown as it was recorded.
    stretch = {k: v.name for k, v in kb.stretches.items()}
    context = {k: v.name for k, v in kb.contexts.items()}
    rows = [("date", "context", "stretch", "sets", "during", "after", "morning", "band")]
    for s in sessions:
        for f in s.feedback:
            rows.append(
                (
                    s.date.isoformat(),
                    context.get(s.context, s.context),
                    stretch.get(f.stretch_id, f.stretch_id),
                    str(f.sets_done),
                    str(f.pain_during),
                    "-" if f.pain_after is None else str(f.pain_after),
                    f.next_morning or "-",
                    band_of(f, model),
                )
            )
        if not s.feedback:
            name = context.get(s.context, s.context)
            rows.append((s.date.isoformat(), name, "(none)", "0", "-", "-", "-", "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _series(sessions: Sequence[Session]) -> list[tuple[dt.date, int, int]]:
    """Per session: date, the highest pain reported, and the sets done in all."""
    return [
        (
            s.date,
            max((p for f in s.feedback for _, p in f.ratings()), default=0),
            sum(f.sets_done for f in s.feedback),
        )
        for s in sessions
    ]


_W, _H, _PAD = 640, 320, 48


def _points(
    sessions: Sequence[Session],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], int]:
    series = _series(sessions)
    top_sets = max([1, *(s for _, _, s in series)])
    step = (_W - 2 * _PAD) / max(1, len(series) - 1)
    pain = [
        (_PAD + i * step, _H - _PAD - p * (_H - 2 * _PAD) / 10)
        for i, (_, p, _) in enumerate(series)
    ]
    sets = [
        (_PAD + i * step, _H - _PAD - n * (_H - 2 * _PAD) / top_sets)
        for i, (_, _, n) in enumerate(series)
    ]
    return pain, sets, top_sets


def history_svg(sessions: Sequence[Session]) -> str:
    """A small SVG chart: highest pain per session (red) and sets done (blue) over time.

    >>> '<svg' in history_svg([])
    True
    """
    pain, sets, top_sets = _points(sessions)
    series = _series(sessions)

    def line(points: list[tuple[float, float]], colour: str) -> str:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>{dots}'

    labels = "".join(
        f'<text x="{x:.1f}" y="{_H - _PAD + 16}" font-size="10" text-anchor="middle">'
        f"{d:%d %b}</text>"
        for (x, _), (d, _, _) in zip(pain, series, strict=True)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" font-family="sans-serif">'
        "<title>Pain and sets done per session</title>"
        f'<rect width="{_W}" height="{_H}" fill="white"/>'
        f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#888"/>'
        f'<line x1="{_PAD}" y1="{_PAD}" x2="{_PAD}" y2="{_H - _PAD}" stroke="#888"/>'
        f'<text x="{_PAD}" y="{_PAD - 12}" font-size="12" fill="#c0392b">highest pain (0-10)</text>'
        f'<text x="{_W - _PAD}" y="{_PAD - 12}" font-size="12" fill="#2471a3" '
        f'text-anchor="end">sets done (0-{top_sets})</text>'
        f"{line(pain, '#c0392b')}{line(sets, '#2471a3')}{labels}</svg>\n"
    )


def _write_chart(path: Path, sessions: Sequence[Session]) -> None:
    suffix = path.suffix.lower()
    if suffix not in {".svg", ".png"}:
        raise _BadInputError(f"--chart {str(path)!r}: give a file ending in .svg or .png")
    try:
        if suffix == ".svg":
            path.write_text(history_svg(sessions), encoding="utf-8")
        else:
            _write_png(path, sessions)
    except OSError as exc:
        raise _BadInputError(f"cannot write --chart {str(path)!r}: {exc.strerror}") from None


def _write_png(path: Path, sessions: Sequence[Session]) -> None:
    try:
        from PIL import Image, ImageDraw
    except ImportError:  # pragma: no cover - the test extra installs Pillow
        raise _BadInputError(
            "a PNG chart needs Pillow: pip install 'sirecommend[graph]' (or use .svg)"
        ) from None
    pain, sets, _ = _points(sessions)
    image = Image.new("RGB", (_W, _H), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(_PAD, _H - _PAD), (_W - _PAD, _H - _PAD)], fill="#888888")
    draw.line([(_PAD, _PAD), (_PAD, _H - _PAD)], fill="#888888")
    draw.text((_PAD, _PAD - 20), "highest pain (red), sets done (blue)", fill="black")
    for points, colour in ((pain, "#c0392b"), (sets, "#2471a3")):
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
    image.save(path, format="PNG")


@_guard
def _cmd_plan(args: argparse.Namespace) -> int:
    kb = _knowledge(args)
    p = plan(
        _profile(args),
        args.start or dt.date.today(),
        args.weeks,
        days=args.days,
        contexts=[args.context, *args.also] if args.also else None,
        wake_time=args.wake,
        knowledge=kb,
    )
    print(
        f"Plan from {p.start.isoformat()} to {p.end.isoformat()}: {len(p.sessions)} "
        f"session(s); review on {p.review_on.isoformat()}."
    )
    for r in p.routines:
        count = sum(1 for s in p.sessions if s.context == r.context)
        print(f"- {r.context}: {count} session(s), {len(r.steps)} stretch(es) each")
    for note in p.notes:
        print(f"Note: {note}")
    if args.ics:
        try:
            Path(args.ics).write_bytes(p.to_ical())
        except OSError as exc:
            raise _BadInputError(f"cannot write --ics {args.ics!r}: {exc.strerror}") from None
        print(f"Calendar written to {args.ics}.")
    return 0


def _weeks(text: str) -> int:
    if not (text.strip().isdigit() and 1 <= int(text) <= 52):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: give a whole number of weeks from 1 to 52"
        )
    return int(text)


_JOURNAL_HELP = (
    f"the journal file (default: ${ENV_VAR} if set, else sirecommend/journal.sqlite3 in "
    "your user data directory, such as ~/.local/share on Linux); created on the first 'log'"
)


def register(
    subparsers: Any,
    *,
    profile: argparse.ArgumentParser,
    packs: argparse.ArgumentParser,
    knowledge: Loader,
    profile_of: ProfileOf,
) -> None:
    """Add ``log``, ``next``, ``history`` and ``plan`` to ``subparsers``.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returns.
    profile, packs : argparse.ArgumentParser
        The parent parsers of the profile options (``--context`` ...) and of ``--pack``,
        shared with ``recommend``, so that both read and fail the same way.
    knowledge : callable
        Loads the knowledge from the ``--pack`` paths.
    profile_of : callable
        Builds the :class:`~sirecommend.Profile` from the parsed profile options.

    Examples
    --------
    >>> from sirecommend.cli import _build_parser
    >>> args = _build_parser().parse_args(["history", "--journal", "j.db"])
    >>> args.format, args.journal
    ('table', 'j.db')
    """
    journal = argparse.ArgumentParser(add_help=False)
    journal.add_argument("--journal", metavar="PATH", help=_JOURNAL_HELP)

    def add(name: str, run: Handler, help_: str, *parents: argparse.ArgumentParser) -> Any:
        cmd = subparsers.add_parser(name, help=help_, description=help_, parents=list(parents))
        cmd.set_defaults(run=run, load_knowledge=knowledge, profile_of=profile_of)
        return cmd

    log = add("log", _cmd_log, "record how a session went, in the journal", journal, packs)
    log.add_argument(
        "--context",
        required=True,
        help="the situation the session was for (see 'sirecommend list contexts')",
    )
    log.add_argument("--date", type=_date, help="the session's day, YYYY-MM-DD (default: today)")
    log.add_argument(
        "--feedback",
        type=_feedback_flag,
        action="append",
        metavar="S:SETS:DURING[:AFTER[:MORNING]]",
        help="how one stretch went: its id, the sets done, pain during and after (0-10) and "
        "the next morning (better, same or worse); repeat it for each stretch; without it, "
        "you are asked for each stretch",
    )
    log.add_argument(
        "--red-flag",
        action="extend",
        nargs="+",
        default=[],
        metavar="F",
        help="a warning sign you noticed (see 'sirecommend list red-flags'); 'next' then "
        "says what to do",
    )
    nxt = add(
        "next", _cmd_next, "the next session, dosed from the journal", journal, profile, packs
    )
    nxt.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (the default) or json"
    )
    hist = add("history", _cmd_history, "the sessions in the journal", journal, packs)
    hist.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (the default) or json",
    )
    hist.add_argument(
        "--chart", metavar="FILE", help="write a chart of pain and sets over time (.svg or .png)"
    )
    pl = add("plan", _cmd_plan, "a dated plan for some weeks, and a calendar", profile, packs)
    pl.add_argument("--start", type=_date, help="the first day, YYYY-MM-DD (default: today)")
    pl.add_argument("--weeks", type=_weeks, default=4, help="how many weeks, 1 to 52 (default: 4)")
    pl.add_argument(
        "--days",
        type=_days,
        help="the days to stretch, such as mon,wed,fri or 1,3,5 (default: every day)",
    )
    pl.add_argument(
        "--wake",
        type=_time,
        default=dt.time(7, 30),
        metavar="HH:MM",
        help="the time of an after-waking session, HH:MM (default: 07:30)",
    )
    pl.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="CONTEXT",
        help="another context to plan on the same days (repeat it for more)",
    )
    pl.add_argument("--ics", metavar="FILE", help="also write the plan as an iCalendar file")
