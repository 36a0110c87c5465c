"""The whole sirecommend exception tree, in one place.

Every error the public API raises on purpose is a :class:`SirecommendError`
(malformed *models* raise pydantic's ``ValidationError`` instead)::

    SirecommendError
    ├── KnowledgeError          a knowledge file or pack is missing, unreadable or invalid
    ├── UnknownIdError          an id that the knowledge in use does not define (also a ValueError)
    ├── InvalidArgumentError    an argument of the wrong kind (also a TypeError)
    └── SafetyError             the independent audit found a broken safety rule in a routine

Examples
--------
>>> from sirecommend import recommend, UnknownIdError
>>> try:
...     recommend(context="after_sittin")
... except UnknownIdError as err:
...     print(err.suggestion)
after_sitting
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sirecommend._routine import Violation

__all__ = [
    "InvalidArgumentError",
    "KnowledgeError",
    "KnowledgeProblem",
    "SafetyError",
    "SirecommendError",
    "UnknownIdError",
    "nearest",
]


class SirecommendError(Exception):
    """Root of every error sirecommend raises on purpose.

    ``message`` holds the human-readable text (also ``str(err)``).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def nearest(value: str, choices: Iterable[str]) -> str | None:
    """Return the valid choice closest to ``value``, or ``None`` when none is close.

    >>> nearest("after_sittin", ["after_sitting", "after_sleep"])
    'after_sitting'
    >>> nearest("zzz", ["after_sitting"]) is None
    True
    """
    import difflib  # only when an id is wrong: not worth importing at start-up

    found = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return found[0] if found else None


class UnknownIdError(SirecommendError, ValueError):
    """An id that the knowledge in use does not define.

    Attributes
    ----------
    kind : str
        What kind of id it should have been (``"context"``, ``"equipment"`` ...).
    value : str
        The id as given.
    choices : tuple[str, ...]
        Every valid id of that kind, sorted.
    suggestion : str | None
        The nearest valid id, when one is close enough.
    """

    def __init__(
        self, kind: str, value: object, choices: Iterable[str], *, where: str = ""
    ) -> None:
        self.kind = kind
        self.value = value
        self.choices: tuple[str, ...] = tuple(sorted(choices))
        self.suggestion = nearest(value, self.choices) if isinstance(value, str) else None
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        place = f" in {where}" if where else ""
        super().__init__(
            f"unknown {kind} {value!r}{place}{hint} "
            f"(valid {kind} ids: {', '.join(self.choices) or 'none'})"
        )


class InvalidArgumentError(SirecommendError, TypeError):
    """An argument of the wrong kind for the call (a typed error, never a bare TypeError)."""


class KnowledgeProblem:
    """One problem found in a knowledge file: where it is and what is wrong.

    >>> str(KnowledgeProblem("x.toml", "stretch 'x'", "position", "unknown position 'sofa'"))
    "x.toml: stretch 'x': field 'position': unknown position 'sofa'"
    """

    __slots__ = ("entry", "field", "file", "message")

    def __init__(self, file: str, entry: str, field: str, message: str) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.message = message

    def __str__(self) -> str:
        parts = [self.file or "<knowledge>"]
        if self.entry:
            parts.append(self.entry)
        if self.field:
            parts.append(f"field {self.field!r}")
        parts.append(self.message)
        return ": ".join(parts)

    def __repr__(self) -> str:
        return f"KnowledgeProblem({str(self)!r})"


class KnowledgeError(SirecommendError):
    """A knowledge file or pack is missing, unreadable, malformed or inconsistent.

    ``problems`` lists every problem found (each with ``file``, ``entry``, ``field``);
    the message names the first ones. ``file``, ``entry`` and ``field`` are those of
    the first problem, for convenience.
    """

    def __init__(self, problems: Sequence[KnowledgeProblem]) -> None:
        self.problems: tuple[KnowledgeProblem, ...] = tuple(problems)
        first = self.problems[0] if self.problems else KnowledgeProblem("", "", "", "invalid")
        self.file = first.file
        self.entry = first.entry
        self.field = first.field
        shown = "\n  ".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = len(self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in knowledge:\n  {shown}{tail}"
        )


class SafetyError(SirecommendError):
    """The independent audit found a broken safety rule; the routine was not returned.

    This must never happen with valid knowledge: please report it.
    ``violations`` holds what the audit found.
    """

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        listed = "; ".join(f"{v.rule}: {v.message}" for v in self.violations)
        super().__init__(f"unsafe routine withheld ({len(self.violations)} violations): {listed}")
