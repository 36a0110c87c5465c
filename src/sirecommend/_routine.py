"""The public input and output models: Profile in; Routine of Steps out."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StringConstraints,
)

from sirecommend._models import Phase, Relaxation, Urgency

__all__ = [
    "MAX_STEPS",
    "NOTICE",
    "Exclusion",
    "Profile",
    "Provenance",
    "Reason",
    "ReasonCode",
    "Referral",
    "Routine",
    "Step",
    "Violation",
]

#: Shown with every routine: what this library is, and what it is not.
NOTICE = (
    "General education, not a diagnosis or a personal treatment plan. Stop and seek "
    "professional advice if a warning sign appears; red flags always come first."
)

#: The most steps a routine holds when no time budget is given: the pipeline keeps the
#: highest-priority ones and leaves the rest out with a ``routine_length`` reason (see
#: docs/decisions.md, "Routine length cap").
MAX_STEPS = 8

_IdStr = Annotated[str, StringConstraints(min_length=1, max_length=64)]
IdSet = Annotated[
    frozenset[_IdStr],
    # Sets serialise sorted, so equal profiles give byte-identical JSON.
    PlainSerializer(lambda ids: sorted(ids), return_type=list[str]),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Profile(_Frozen):
    """Who the routine is for, and what they have: the whole input of :func:`recommend`.

    Types and ranges are checked here (pydantic ``ValidationError``); ids are
    checked against the knowledge in use by :func:`recommend`.

    >>> Profile(context="after_sitting", equipment={"strap"}).equipment
    frozenset({'strap'})
    >>> Profile(context="after_sitting", minutes=0)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Profile
    minutes
      Input should be greater than 0 ...
    """

    context: Annotated[str, StringConstraints(min_length=1, max_length=64), Field(strict=True)]
    aggravated: StrictBool = False
    equipment: IdSet = Field(
        default=frozenset(), description="Equipment at hand; the body and the floor need none."
    )
    avoid_positions: IdSet = Field(
        default=frozenset(), description="Positions (or groups such as 'floor') to avoid."
    )
    red_flags: IdSet = frozenset()
    pregnancy_trimester: Annotated[int, Field(strict=True, ge=1, le=3)] | None = Field(
        default=None, description="1, 2 or 3 when pregnant; None otherwise."
    )
    minutes: Annotated[float, Field(strict=True, gt=0, le=24 * 60, allow_inf_nan=False)] | None = (
        Field(default=None, description="Time budget in minutes.")
    )
    focus: IdSet = Field(default=frozenset(), description="Muscle ids to favour.")

    @property
    def budget_seconds(self) -> float:
        """The time budget in seconds (infinite without ``minutes``)."""
        return math.inf if self.minutes is None else self.minutes * 60


class ReasonCode(StrEnum):
    """Why a stretch is not a step (machine-readable; each :class:`Reason` has words too)."""

    RED_FLAG = "red_flag"
    MISSING_EQUIPMENT = "missing_equipment"
    POSITION_AVOIDED = "position_avoided"
    PREGNANCY = "pregnancy"
    FORBIDDEN_COMBINATION = "forbidden_combination"
    REPLACED = "replaced"
    ALTERNATIVE_NOT_NEEDED = "alternative_not_needed"
    NO_ALTERNATIVE = "no_alternative"
    TIME_BUDGET = "time_budget"
    #: Left out for now by the progression rules (see :mod:`sirecommend.progression`).
    PROGRESSION_PAUSED = "progression_paused"
    ROUTINE_LENGTH = "routine_length"
    #: Foam rolling is for the one sore group (p15): rolled as one step offering a
    #: choice, or the group the focus names (see ``Stretch.choose_one``).
    ROLL_SORE_GROUP = "roll_sore_group"


class Reason(_Frozen):
    """One reason a stretch was left out: a code, plain words, and the rule behind it.

    ``other`` is the id of the stretch a ``replaced`` or ``alternative_not_needed`` reason
    points at; it is always a step of the same routine.
    """

    code: ReasonCode
    message: str
    rule: str | None = None
    sources: tuple[str, ...] = ()
    other: str | None = None

    def __str__(self) -> str:
        return self.message


class Step(_Frozen):
    """One dosed, explained step of a routine."""

    stretch_id: str
    name: str
    phase: Phase
    position: str
    position_name: str
    equipment: str | None = Field(description="The one item used, or None (hands only).")
    equipment_name: str | None = None
    movements: tuple[str, ...]
    targets: tuple[str, ...]
    hold_seconds: int
    sets: int
    per_side: bool
    range_of_motion: Literal["full", "reduced"]
    instructions: tuple[str, ...]
    cautions: tuple[str, ...]
    reasons: tuple[str, ...] = Field(description="Why this step is here, from the graph path.")
    sources: tuple[str, ...]
    seconds: int = Field(description="Estimated duration: hold x sets x sides + set-up.")
    replaces: str | None = Field(default=None, description="The stretch this one stands in for.")
    progression: Literal["start", "up", "same", "down"] | None = Field(
        default=None, description="How logged feedback moved the dose; None without history."
    )

    @property
    def sides(self) -> int:
        """2 when the stretch is done on each side, else 1."""
        return 2 if self.per_side else 1


class Exclusion(_Frozen):
    """A stretch of the context that is not in the routine, and why."""

    stretch_id: str
    name: str
    reasons: Annotated[tuple[Reason, ...], Field(min_length=1)]


class Referral(_Frozen):
    """Red flags were reported: no routine, and what to do instead.

    ``red_flags`` lists every flag reported, most urgent first (then by id), and
    ``flag_names`` their names in words, in the same order. ``action`` is what to do,
    from the highest urgency tier; ``message`` leads with it, then says why.
    """

    urgency: Urgency
    red_flags: tuple[str, ...]
    flag_names: tuple[str, ...] = ()
    action: str = ""
    message: str
    sources: tuple[str, ...] = ()


class Provenance(_Frozen):
    """What produced a routine: the library version, a hash of the knowledge, the packs
    and every safety rule they relax."""

    version: str
    knowledge_digest: str
    packs: tuple[str, ...] = ()
    relaxations: tuple[Relaxation, ...] = Field(
        default=(), description="Safety rules the packs in use relax on purpose, and who for."
    )


class Routine(_Frozen):
    """A safe, ordered, dosed and explained routine (or a referral).

    ``status`` is ``"ok"`` (steps to do), ``"referred"`` (red flags: no steps, see
    ``referral``) or ``"nothing_fits"`` (no step could be given; ``excluded`` says why).
    ``str(routine)`` is a readable sheet for the person.
    """

    context: str
    status: Literal["ok", "referred", "nothing_fits"]
    steps: tuple[Step, ...]
    excluded: tuple[Exclusion, ...]
    referral: Referral | None = None
    total_seconds: int
    cautions: tuple[str, ...]
    notice: str = NOTICE
    profile: Profile
    provenance: Provenance

    def __str__(self) -> str:
        from sirecommend._render import render_text

        return render_text(self)


class Violation(_Frozen):
    """One broken safety rule, as found by :func:`sirecommend.audit`."""

    rule: str
    message: str
    stretch_id: str | None = None
