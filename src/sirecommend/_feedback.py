"""What a person reports after a session: :class:`Feedback` per stretch, in a :class:`Session`.

Both are frozen pydantic models. Numbers are strict (``"3"`` or ``True`` is not a pain
score), pain is 0-10, and a session dated in the future is an error. Ids are checked
against the knowledge in use by :func:`check_session`.

>>> import datetime as dt
>>> s = Session(
...     date=dt.date(2026, 1, 5),
...     context="after_sitting",
...     feedback=[Feedback(stretch_id="hamstring_supine", sets_done=2, pain_during=2)],
... )
>>> s.feedback[0].pain_during, s.red_flags
(2, frozenset())
>>> Feedback(stretch_id="hamstring_supine", sets_done=2, pain_during=11)
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Feedback
pain_during
  Input should be less than or equal to 10 ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
)

from sirecommend._kb import KnowledgeBase
from sirecommend._models import MAX_SETS
from sirecommend.errors import UnknownIdError

__all__ = ["Feedback", "NextMorning", "Session", "check_session"]

NextMorning = Literal["better", "same", "worse"]
_Id = Annotated[str, StringConstraints(min_length=1, max_length=64), Field(strict=True)]
Pain = Annotated[int, Field(strict=True, ge=0, le=10)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Feedback(_Frozen):
    """How one stretch went: sets done, pain 0-10 during and after, and the next morning.

    ``next_morning`` compares the next morning with before the session: ``"better"``,
    ``"same"`` or ``"worse"`` (``None`` until the person knows).
    """

    stretch_id: _Id
    sets_done: Annotated[int, Field(strict=True, ge=0, le=MAX_SETS)]
    pain_during: Pain
    pain_after: Pain | None = None
    next_morning: NextMorning | None = None
    note: Annotated[str, StringConstraints(max_length=500), Field(strict=True)] = ""

    def ratings(self) -> tuple[tuple[Literal["during", "after"], int], ...]:
        """The pain ratings given, with their phase.

        >>> Feedback(stretch_id="x", sets_done=1, pain_during=2, pain_after=1).ratings()
        (('during', 2), ('after', 1))
        """
        if self.pain_after is None:
            return (("during", self.pain_during),)
        return (("during", self.pain_during), ("after", self.pain_after))


class Session(_Frozen):
    """One session of a routine as it went: its date, context, feedback and any red flags.

    Raises pydantic's ``ValidationError`` for a date in the future or a stretch given
    feedback twice.
    """

    date: Annotated[dt.date, Field(strict=True)]
    context: _Id
    feedback: tuple[Feedback, ...] = ()
    red_flags: Annotated[
        frozenset[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
        PlainSerializer(lambda ids: sorted(ids), return_type=list[str]),
    ] = frozenset()

    @classmethod
    def from_fhir(cls, bundle: Mapping[str, Any]) -> Session:
        """Read back a FHIR Bundle made by ``sirecommend.fhir.to_fhir(session)``.

        See :func:`sirecommend._fhir_programme.session_from_fhir` for the errors.
        """
        from sirecommend._fhir_programme import session_from_fhir

        return session_from_fhir(bundle)

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today():
            raise ValueError(f"a session cannot be dated in the future ({value.isoformat()})")
        return value

    @field_validator("feedback")
    @classmethod
    def _once_each(cls, value: tuple[Feedback, ...]) -> tuple[Feedback, ...]:
        ids = [f.stretch_id for f in value]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"feedback repeats stretch {', '.join(repeated)}")
        return value


def check_session(session: Session, kb: KnowledgeBase) -> None:
    """Raise :class:`~sirecommend.errors.UnknownIdError` for an id the knowledge lacks.

    >>> import datetime as dt
    >>> from sirecommend import load_knowledge
    >>> bad = Session(date=dt.date(2026, 1, 5), context="after_sitting",
    ...               feedback=[Feedback(stretch_id="hamstring", sets_done=2, pain_during=1)])
    >>> check_session(bad, load_knowledge())
    Traceback (most recent call last):
    ...
    sirecommend.errors.UnknownIdError: unknown stretch 'hamstring' in feedback; did you mean ...
    """
    if session.context not in kb.contexts:
        raise UnknownIdError("context", session.context, kb.contexts)
    for f in session.feedback:
        if f.stretch_id not in kb.stretches:
            raise UnknownIdError("stretch", f.stretch_id, kb.stretches, where="feedback")
    unknown = session.red_flags - kb.red_flags.keys()
    if unknown:
        raise UnknownIdError("red flag", min(unknown), kb.red_flags, where="red_flags")
