"""Values passed between pipeline stages: immutable, with named fields, made per call.

They are named tuples rather than frozen dataclasses: a recommendation makes one of
each per stretch it considers, and a tuple is several times cheaper to build. Each
points at the compiled knowledge (``sirecommend._compile``) it was made from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

from sirecommend._compile import Candidate, Dose, Option, StretchFacts
from sirecommend._routine import Reason, ReasonCode
from sirecommend.progression import Movement, StretchProgress

__all__ = ["Candidate", "Dosed", "Dropped", "History", "Left", "Pick", "Verdict"]


class History(NamedTuple):
    """What the logged sessions mean for one call: made once per call from
    :func:`sirecommend.progression.progress`, read by triage, filter and dose.

    ``red_flags``: every flag reported in any session; ``paused``: per stretch the
    progression rules leave out, the reason it is left out; ``steps``: per other stretch
    of the context, its rung and how feedback moved it there.
    """

    red_flags: frozenset[str]
    paused: Mapping[str, Reason]
    steps: Mapping[str, StretchProgress]


class Verdict(NamedTuple):
    """Whether this person can do one stretch, with which equipment option, and if not why.

    ``option`` is the first option the person can use (``None`` when the stretch lists
    none, or none can be used); ``blocked`` every reason against it (empty: usable).
    """

    stretch: StretchFacts
    option: Option | None
    blocked: tuple[Reason, ...]


class Pick(NamedTuple):
    """The stretch chosen for a candidate: itself, or an alternative standing in.

    ``verdict`` is the (usable) verdict on the stretch picked; ``replaced`` the verdict
    on the candidate's own stretch when an alternative stands in for it; ``offers``, for
    a choice step (``choose_one``), the usable verdicts of the stretches it offers;
    ``fallbacks``, when an alternative stands in, the picks of the later usable
    alternatives, in preference order: :func:`~sirecommend.pipeline.fit_to_time` tries
    them when the stand-in does not fit the time left.
    """

    candidate: Candidate
    verdict: Verdict
    replaced: Verdict | None = None
    offers: tuple[Verdict, ...] = ()
    fallbacks: tuple[Pick, ...] = ()


#: Why a stretch that is no step was left out by substitute: its own reasons; those and
#: no alternative either; replaced by ``other``; an alternative not needed, ``other``
#: taking its place. For a choice (``choose_one``, p15) and the stretches it offers:
#: ``named``, the focus names groups to roll (a choice, or a stretch not named, is left
#: out); ``offered``, it is offered in the choice step ``other``; ``choice_out``, it is
#: offered only in the choice ``other``, which cannot be done; ``none_offered``, a
#: choice none of whose stretches can be done.
Why = Literal[
    "own",
    "no_alternative",
    "replaced",
    "not_needed",
    "named",
    "offered",
    "choice_out",
    "none_offered",
]


class Left(NamedTuple):
    """A stretch substitute leaves out: its verdict, why, and the stretch it points at.

    ``named``: with ``why == "named"``, the muscles the focus names among the choice's.
    """

    verdict: Verdict
    why: Why
    other: StretchFacts | None = None
    named: tuple[str, ...] = ()


class Dosed(NamedTuple):
    """A pick with its dose (hold, sets, range, estimated seconds).

    ``movement`` is how logged feedback moved the dose (``None`` without history);
    ``fallbacks`` the pick's fallbacks, dosed alike.
    """

    pick: Pick
    dose: Dose
    movement: Movement | None = None
    fallbacks: tuple[Dosed, ...] = ()

    @property
    def stretch_id(self) -> str:
        return self.pick.verdict.stretch.id

    @property
    def seconds(self) -> int:
        return self.dose.seconds


class Dropped(NamedTuple):
    """A dosed step fit left out: for the time budget, or to keep to the length cap.

    ``stand_in``: a stand-in dropped for time, the later alternative (one of its
    ``fallbacks``) kept in its place, if one fitted.
    """

    step: Dosed
    code: Literal[ReasonCode.TIME_BUDGET, ReasonCode.ROUTINE_LENGTH]
    stand_in: StretchFacts | None = None
