"""Pydantic models of every knowledge entry: the schema of a knowledge pack.

Each model is frozen and forbids unknown fields, so a typo in a TOML file is an
error, not a silently ignored key. Ranges that do not depend on other entries
(dose bounds, id spelling, citation syntax) are checked here; references between
entries are checked by :mod:`sirecommend._loader` once all packs are merged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    model_validator,
)

__all__ = [
    "AGGRAVATED_MAX_STEPS",
    "DEFAULT_PHASE_TITLES",
    "ID_PATTERN",
    "PHASES",
    "URGENCIES",
    "USUAL_DOSE",
    "Cited",
    "Context",
    "ContextDose",
    "ContextLink",
    "Dosage",
    "Equipment",
    "EquipmentOption",
    "ForbidCombinationRule",
    "GeneralCautionRule",
    "MorningBands",
    "Movement",
    "MovementKind",
    "Muscle",
    "Ordering",
    "PackFile",
    "PainBands",
    "Phase",
    "PhaseTitles",
    "Position",
    "PositionGroup",
    "PositionKind",
    "PregnancyRule",
    "ProgressionModel",
    "RedFlag",
    "RedFlagRule",
    "Relaxation",
    "Rule",
    "Source",
    "Stretch",
    "Urgency",
    "UrgencyTier",
    "WhenAggravatedRule",
    "dose_level",
]

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
# Every scalar is strict: a pack's ``hold_seconds = [true, 60]`` or ``["30", 60]`` is an
# error, not a coercion. (Arrays stay lax, so TOML lists validate as tuples.)
Int = Annotated[int, Strict()]
Id = Annotated[str, Strict(), StringConstraints(pattern=ID_PATTERN, max_length=64)]
SourceId = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
]
#: ``source-id`` or, for a source with numbered paragraphs, ``source-id#pN``.
Citation = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*(#p[1-9][0-9]*)?$", max_length=80),
]
Cites = Annotated[tuple[Citation, ...], Field(min_length=1)]
# Control characters (but tab and newline) and bidirectional overrides in text a person
# reads would let a pack's new caution hide or reorder the shipped ones on a terminal
# (``\x1b[1A\x1b[2K`` erases the line above) or disguise what it says.
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    found = _HIDDEN.search(text)
    if found:
        raise ValueError(
            f"control or direction character {found.group()!r} at {found.start()}: "
            "text a person reads may hold only printable characters, tabs and newlines"
        )
    return text


Text = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_visible),
]
Str = Annotated[str, Strict(), AfterValidator(_visible)]
Phase = Literal["warm_up", "targeted", "cool_down"]
Urgency = Literal["emergency", "same_day", "urgent", "stop_and_review"]

#: Phases in the order a routine runs them.
PHASES: tuple[Phase, ...] = ("warm_up", "targeted", "cool_down")
#: Red-flag urgencies, highest first.
URGENCIES: tuple[Urgency, ...] = ("emergency", "same_day", "urgent", "stop_and_review")

# Sane outer bounds for any dose a pack may declare. The article's 30-60 s and the
# ACSM flexibility guidance (10-60 s, 2-4 repetitions) sit well inside them; a value
# outside is a typo, not a clinical choice.
MAX_HOLD_SECONDS = 120
MAX_SETS = 6
#: At most this many steps when symptoms are aggravated: the gentlest ones (p10, p26).
AGGRAVATED_MAX_STEPS = 4


class _Frozen(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )


class _Entry(_Frozen):
    """Fields every knowledge entry has. ``override`` must be set to replace an entry."""

    id: Id
    override: StrictBool = Field(
        default=False,
        description="Set to true in a pack to replace the entry with the same id.",
    )


class Source(_Frozen):
    """A document the knowledge cites: the article, or a named public guideline."""

    id: SourceId
    override: StrictBool = False
    kind: Literal["article", "guideline"]
    title: Text
    publisher: Text
    year: Annotated[Int, Field(ge=1900, le=2100)] | None = None
    url: Annotated[str, Strict(), StringConstraints(pattern=r"^https?://\S+$")] | None = None
    paragraphs: Annotated[Int, Field(ge=1)] | None = Field(
        default=None, description="Number of numbered paragraphs, when cited as id#pN."
    )
    note: Str = ""


class Cited(_Frozen):
    """A sentence of ours with the citations it stands on."""

    text: Text
    cites: Cites


class _Named(_Entry):
    name: Text
    description: Str = ""
    cites: Cites


class _Kind(_Entry):
    name: Text
    description: Str = ""
    cites: tuple[Citation, ...] = ()


class MovementKind(_Kind):
    """A base kind of movement (``rotation``, ``side_bend`` ...): the fixed set rules match on.

    Only the shipped knowledge defines base kinds; every movement names one in ``is_a``.
    """


class PositionKind(_Kind):
    """A base kind of body position (``supine``, ``prone`` ...): the fixed set rules match on.

    Only the shipped knowledge defines base kinds; every position names one in ``is_a``.
    """


class Muscle(_Named):
    """A muscle group or tissue that a stretch targets."""


class Equipment(_Named):
    """A piece of equipment a stretch may use. The hands and the floor are not equipment."""


class Movement(_Named):
    """A movement a stretch involves (``rotation``, ``side_bend`` ...); safety rules name them.

    ``is_a`` names its base :class:`MovementKind`: rules match movements by kind, so a
    pack's ``trunk_twist`` that ``is_a = "rotation"`` counts as a rotation.
    """

    is_a: Id = Field(description="The base movement kind (movement_kind id) this movement is.")


class PhaseTitles(_Frozen):
    """The heading a person reads over each phase of a context's routine; a phase left
    out reads the default ("Gentle moves", "Targeted stretches", "Cool-down")."""

    warm_up: Text | None = None
    targeted: Text | None = None
    cool_down: Text | None = None

    def title(self, phase: str) -> str:
        """This context's heading for ``phase``, else the default.

        >>> PhaseTitles(warm_up="Warm-up").title("warm_up"), PhaseTitles().title("warm_up")
        ('Warm-up', 'Gentle moves')
        """
        own: str | None = getattr(self, phase, None)
        return own if own is not None else DEFAULT_PHASE_TITLES.get(phase, phase.replace("_", " "))


#: The heading of each phase where a context does not name its own: the opening moves are
#: a warm-up only before activity (the ``warm_up`` context says so in its data, p7, p15).
DEFAULT_PHASE_TITLES: Mapping[str, str] = MappingProxyType(
    {"warm_up": "Gentle moves", "targeted": "Targeted stretches", "cool_down": "Cool-down"}
)


class ContextDose(_Frozen):
    """How a context doses its steps when the person is not aggravated, and why.

    ``level`` is the hold and sets: ``"usual"`` (the middle of the source's hold range,
    rounded down to 5 s, at its fewest sets) or ``"lowest"`` (the bottom of the range).
    ``range_of_motion`` is ``"full"`` (to a gentle stretch at the full comfortable range)
    or ``"reduced"`` (a smaller, gentler movement). ``why`` is the reason a clinician
    reads on each step, in our words; ``cites`` what it rests on. With logged sessions,
    a context's level is the most the dose ladder gives: it never doses above it.
    Aggravated symptoms always win: the lowest dose at reduced range, with the
    ``when_aggravated`` rule's caution, whatever the context says.
    """

    level: Literal["usual", "lowest"] = Field(
        description="Hold and sets: the middle of the source's range, or its lowest."
    )
    range_of_motion: Literal["full", "reduced"] = Field(
        description="Full comfortable range, or a reduced (smaller, gentler) range."
    )
    why: Text = Field(description="Why the context doses so, as a clinician reads it.")
    cites: Cites


#: How a context without a ``dose`` table doses its steps: the usual level at full range.
USUAL_DOSE: tuple[Literal["usual", "lowest"], Literal["full", "reduced"]] = ("usual", "full")


def dose_level(
    dose: ContextDose | None,
) -> tuple[Literal["usual", "lowest"], Literal["full", "reduced"]]:
    """A context's ``(level, range_of_motion)``: its ``dose``'s, else :data:`USUAL_DOSE`.

    >>> dose_level(None)
    ('usual', 'full')
    """
    return USUAL_DOSE if dose is None else (dose.level, dose.range_of_motion)


class Context(_Named):
    """A situation a routine is asked for (``after_sitting`` ...).

    ``default_minutes`` is the time budget when the profile gives none (``None``: no
    limit but the length cap). ``dose`` is how its steps are dosed when the person is
    not aggravated (``None``: the usual dose at full range; see :class:`ContextDose`).
    ``order`` is how the position blocks run: ``"alternate"`` (phases in turn: the
    warm-up from standing down to lying, the targeted phase back up, the cool-down down
    again) or ``"lying_to_standing"`` (the whole routine from lying up to standing, as
    for someone getting out of bed: each position one block, lying first, and inside a
    block the phases in turn, so the phases may interleave). ``lead_movements`` name
    movements or base movement kinds whose steps open the routine, before every other
    step (``rolling`` in the warm-up, p15); they follow ``order`` among themselves.
    """

    default_minutes: (
        Annotated[float, Field(strict=True, gt=0, le=24 * 60, allow_inf_nan=False)] | None
    ) = Field(default=None, description="Time budget in minutes when the profile gives none.")
    dose: ContextDose | None = Field(
        default=None,
        description="Dose level and range of motion when not aggravated (absent: usual, full).",
    )
    order: Literal["alternate", "lying_to_standing"] = Field(
        default="alternate", description="How the position blocks of the routine run."
    )
    lead_movements: tuple[Id, ...] = Field(
        default=(),
        description="Movements or movement kinds whose steps open the routine, before the rest.",
    )
    phase_titles: PhaseTitles = Field(
        default=PhaseTitles(), description="Headings of the phases, where not the default."
    )


class Position(_Named):
    """A body position. ``sequence`` orders positions from standing down to lying.

    ``is_a`` names its base :class:`PositionKind`: rules and groups match positions by
    kind, so a pack's ``lying_on_back`` that ``is_a = "supine"`` counts as supine.
    """

    sequence: Annotated[Int, Field(ge=0, le=1000)]
    is_a: Id = Field(description="The base position kind (position_kind id) this position is.")


class PositionGroup(_Named):
    """A named set of positions, usable wherever a position is avoided (``floor``).

    ``members`` name positions or base position kinds; the group holds every position
    whose kind is the kind of a member.
    """

    members: Annotated[tuple[Id, ...], Field(min_length=1)]


class Dosage(_Frozen):
    """The dose range the source gives: hold seconds and sets as ``[low, high]``."""

    hold_seconds: tuple[
        Annotated[Int, Field(ge=1, le=MAX_HOLD_SECONDS)],
        Annotated[Int, Field(ge=1, le=MAX_HOLD_SECONDS)],
    ]
    sets: tuple[Annotated[Int, Field(ge=1, le=MAX_SETS)], Annotated[Int, Field(ge=1, le=MAX_SETS)]]
    per_side: StrictBool
    cites: Cites

    @model_validator(mode="after")
    def _ranges_ascend(self) -> Dosage:
        if self.hold_seconds[0] > self.hold_seconds[1]:
            raise ValueError(
                f"hold_seconds low {self.hold_seconds[0]} exceeds high {self.hold_seconds[1]}"
            )
        if self.sets[0] > self.sets[1]:
            raise ValueError(f"sets low {self.sets[0]} exceeds high {self.sets[1]}")
        return self


class EquipmentOption(_Frozen):
    """One way to do a stretch; ``uses`` is the equipment, or absent for hands only.

    Options are listed in preference order: the source's primary one first.
    """

    uses: Id | None = None
    how: Text
    cites: Cites


class ContextLink(_Frozen):
    """A stretch suits a context, in a phase (the stretch's own phase when absent)."""

    context: Id
    phase: Phase | None = None
    cites: Cites


class Stretch(_Entry):
    """One stretch or foam-rolling exercise, as the source describes it."""

    name: Text
    phase: Phase = Field(description="The article's grouping: warm-up moves or targeted stretches.")
    position: Id
    equipment: tuple[EquipmentOption, ...] = ()
    movements: Annotated[tuple[Id, ...], Field(min_length=1)]
    targets: Annotated[tuple[Id, ...], Field(min_length=1)]
    dosage: Dosage
    instructions: Annotated[tuple[Cited, ...], Field(min_length=1)]
    cautions: tuple[Cited, ...] = ()
    suits: tuple[ContextLink, ...] = ()
    alternative_of: Id | None = Field(
        default=None,
        description="The stretch this one replaces when that one cannot be done.",
    )
    choose_one: tuple[Id, ...] = Field(
        default=(),
        description="The stretches this step offers as one choice (roll the sore muscle "
        "group, p15): given when no focus names a muscle they target, offering only those "
        "the person may do; with such a focus, the named ones are given instead.",
    )
    cites: Cites

    @model_validator(mode="after")
    def _no_repeats(self) -> Stretch:
        for name, values in (
            ("movements", self.movements),
            ("targets", self.targets),
            ("equipment", tuple(str(o.uses) for o in self.equipment)),
            ("suits", tuple(link.context for link in self.suits)),
            ("choose_one", self.choose_one),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{name} repeats {', '.join(repeated)}")
        if self.alternative_of == self.id:
            raise ValueError("a stretch cannot be its own alternative")
        if self.id in self.choose_one:
            raise ValueError("a choice cannot offer itself")
        if self.choose_one and self.alternative_of is not None:
            raise ValueError("a choice cannot be an alternative")
        if self.alternative_of is not None and self.suits:
            raise ValueError(
                "an alternative takes its contexts from the stretch it replaces; drop 'suits'"
            )
        return self


class Ordering(_Entry):
    """A precedence constraint: within a phase, ``before`` runs ahead of ``after``."""

    before: Id
    after: Id
    cites: Cites


class ForbidCombinationRule(_Entry):
    """No step may involve all of ``movements`` at once.

    Steps involving any of ``caution_movements`` carry ``caution``. Both name movements
    or base movement kinds and match by kind (``is_a``), never by spelling.
    """

    kind: Literal["forbid_movement_combination"]
    name: Text
    movements: Annotated[tuple[Id, ...], Field(min_length=2)]
    caution: Text
    caution_movements: tuple[Id, ...] = ()
    cites: Cites

    @model_validator(mode="after")
    def _distinct(self) -> ForbidCombinationRule:
        if len(set(self.movements)) != len(self.movements):
            raise ValueError("movements must be distinct")
        return self


class WhenAggravatedRule(_Entry):
    """What changes when the person's symptoms are aggravated."""

    kind: Literal["when_aggravated"]
    name: Text
    range_of_motion: Literal["reduced"]
    dose: Literal["lowest"]
    caution: Text
    cites: Cites


class PregnancyRule(_Entry):
    """From ``from_trimester`` on, no step in any of ``positions``.

    ``positions`` name positions, groups or base position kinds and match by kind.
    """

    kind: Literal["pregnancy_avoid_position"]
    name: Text
    from_trimester: Annotated[Int, Field(ge=1, le=3)]
    positions: Annotated[tuple[Id, ...], Field(min_length=1)]
    reason: Text
    cites: Cites


class RedFlagRule(_Entry):
    """Any red flag stops the routine: no steps, a referral at the highest urgency."""

    kind: Literal["red_flag_referral"]
    name: Text
    message: Text
    cites: Cites


class GeneralCautionRule(_Entry):
    """A stop rule every routine repeats to the person.

    ``when = "pregnant"`` shows it only in the routines of a person who gives a
    pregnancy trimester (ACOG's warning signs to stop exercising); by default every
    routine shows it.
    """

    kind: Literal["general_caution"]
    name: Text
    text: Text
    when: Literal["always", "pregnant"] = Field(
        default="always",
        description="Who is shown it: everyone, or only a person who is pregnant.",
    )
    cites: Cites


Rule = Annotated[
    ForbidCombinationRule | WhenAggravatedRule | PregnancyRule | RedFlagRule | GeneralCautionRule,
    Field(discriminator="kind"),
]


class UrgencyTier(_Frozen):
    """What a person should do for red flags of one urgency."""

    id: Urgency
    override: StrictBool = False
    rank: Annotated[Int, Field(ge=1, le=10)]
    action: Text
    cites: Cites


class RedFlag(_Entry):
    """A symptom that stops the routine and sends the person to a professional."""

    name: Text
    urgency: Urgency
    message: Text
    cites: Cites


class Relaxation(_Entry):
    """A deliberate, documented weakening of the safety floor by a pack.

    The shipped knowledge is a floor: a pack that would let through a step it blocks,
    lower an urgency or change what a person is told to do is refused, unless it
    declares that change here: which entry and field (as the refusal names them), why,
    the clinician responsible and a citation. Every relaxation is shown in the
    knowledge summary, in each routine's provenance and at the top of each handout.
    A relaxation that relaxes nothing is an error.
    """

    table: Literal[
        "red_flag",
        "urgency",
        "rule",
        "position_group",
        "movement",
        "position",
        "stretch",
        "context",
        "progression",
    ]
    entry: Id = Field(
        description="The id of the entry relaxed (an urgency tier's id for table 'urgency')."
    )
    field: Id = Field(description="The field relaxed, as the refusal names it.")
    reason: Text = Field(description="Why the clinic relaxes it, in plain words.")
    clinician: Text = Field(description="The clinician who answers for the relaxation.")
    cites: Cites


Band = Literal["green", "amber", "red"]


class PainBands(_Frozen):
    """Traffic-light bands of a 0-10 pain rating: green up to ``green_max``, amber up to
    ``amber_max``, red above it."""

    green_max: Annotated[Int, Field(ge=0, le=9)]
    amber_max: Annotated[Int, Field(ge=0, le=9)]

    @model_validator(mode="after")
    def _ascend(self) -> PainBands:
        if self.green_max > self.amber_max:
            raise ValueError(f"green_max {self.green_max} exceeds amber_max {self.amber_max}")
        return self


class MorningBands(_Frozen):
    """The band of each next-morning answer, compared with before the session."""

    better: Band
    same: Band
    worse: Band


class ProgressionModel(_Entry):
    """How logged feedback moves a stretch on its dose ladder (:mod:`sirecommend.progression`).

    A feedback's band is the worst of its pain during, pain after and next-morning bands.
    ``greens_to_step_up`` green sessions in a row move a stretch one rung up; amber keeps
    it; red moves it one rung down (paused for the next session when already at the
    bottom); ``reds_to_pause`` reds in all leave it out with advice to see a physical
    therapist. Pain at or above ``hold_pain`` anywhere in a session, or a worse next
    morning on every stretch of it, means nothing goes up after that session.
    """

    name: Text
    description: Str = ""
    pain_during: PainBands
    pain_after: PainBands
    next_morning: MorningBands
    greens_to_step_up: Annotated[Int, Field(ge=1, le=10)]
    reds_to_pause: Annotated[Int, Field(ge=1, le=10)]
    hold_pain: Annotated[Int, Field(ge=1, le=10)]
    hold_rungs: Annotated[Int, Field(ge=2, le=5)] = Field(
        default=3,
        description="Distinct holds on the ladder from the source's low to high hold.",
    )
    cites: Cites
    ladder_cites: Cites
    pause_cites: Cites


class PackFile(_Frozen):
    """One TOML file of a knowledge pack. Every table is optional."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="sirecommend knowledge pack file",
        json_schema_extra={
            "description": (
                "A TOML file in a sirecommend knowledge pack. Each array of tables adds "
                "entries; an entry whose id exists already must set override = true."
            )
        },
    )

    source: tuple[Source, ...] = ()
    movement_kind: tuple[MovementKind, ...] = ()
    position_kind: tuple[PositionKind, ...] = ()
    muscle: tuple[Muscle, ...] = ()
    equipment: tuple[Equipment, ...] = ()
    position: tuple[Position, ...] = ()
    position_group: tuple[PositionGroup, ...] = ()
    movement: tuple[Movement, ...] = ()
    context: tuple[Context, ...] = ()
    stretch: tuple[Stretch, ...] = ()
    ordering: tuple[Ordering, ...] = ()
    rule: tuple[Rule, ...] = ()
    urgency: tuple[UrgencyTier, ...] = ()
    red_flag: tuple[RedFlag, ...] = ()
    relaxation: tuple[Relaxation, ...] = ()
    progression: tuple[ProgressionModel, ...] = ()
