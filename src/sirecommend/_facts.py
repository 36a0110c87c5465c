"""What the knowledge tables say about each stretch, position, context and rule.

:func:`knowledge_facts` reads the tables of a :class:`~sirecommend.KnowledgeBase`
(``stretches``, ``rules``, ``positions``, ``red_flags``, ``urgencies``, ``orderings`` ...)
with its base-kind methods, once, when the knowledge is loaded, into fixed-size, frozen,
slotted :class:`KnowledgeFacts` (``kb.facts``). Only the audit (:mod:`sirecommend.safety`)
reads them. They are an independent derivation: nothing here reads the graph or the
pipeline's compiled form, and neither the pipeline nor its compiler imports this module.

Everything here depends on the knowledge alone, so its size depends on the knowledge
alone; what depends on a profile (the trimester, the equipment a person has, the positions
they avoid, whether they are aggravated, the time budget) is left to the audit, which picks
among these facts on every call and fills nothing. Each expectation (a step's dose, its
cautions, its instructions, what rules a stretch out ...) is one small function below, so
that a deliberate change of what the pipeline gives is a change of one function here.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, TypeVar

from sirecommend._models import (
    Context,
    EquipmentOption,
    ForbidCombinationRule,
    GeneralCautionRule,
    PainBands,
    Phase,
    PregnancyRule,
    ProgressionModel,
    Stretch,
    WhenAggravatedRule,
)
from sirecommend._routine import Provenance, ReasonCode
from sirecommend._version import __version__

if TYPE_CHECKING:
    from sirecommend._feedback import Feedback, Session
    from sirecommend._kb import KnowledgeBase

__all__ = [
    "AGGRAVATED",
    "DOSE_LEVELS",
    "SETUP_SECONDS",
    "STEP_FIELDS",
    "ContextFacts",
    "Dose",
    "FlagFacts",
    "KnowledgeFacts",
    "OptionFacts",
    "PositionFacts",
    "RuleFacts",
    "StretchFacts",
    "dose_level",
    "expected_cautions",
    "expected_choice",
    "expected_dose",
    "expected_instructions",
    "expected_ladder",
    "expected_offer",
    "expected_seconds",
    "feedback_band",
    "knowledge_facts",
    "offered_phases",
    "rule_facts",
    "session_holds",
]

#: Seconds allowed to get into and out of each step's position (docs/decisions.md).
SETUP_SECONDS = 15

#: The dose levels a context may ask for when the person is not aggravated, as
#: ``(level, range_of_motion)`` (``Context.dose``; absent: the first); a stretch's doses,
#: looks and seconds are indexed by these, then :data:`AGGRAVATED`.
DOSE_LEVELS: tuple[tuple[Literal["usual", "lowest"], Literal["full", "reduced"]], ...] = (
    ("usual", "full"),
    ("usual", "reduced"),
    ("lowest", "full"),
    ("lowest", "reduced"),
)
#: The index of the aggravated dose, after :data:`DOSE_LEVELS`.
AGGRAVATED = len(DOSE_LEVELS)

#: A reason a stretch is ruled out: its code and the rule that says so (if any).
Blocker = tuple[ReasonCode, str | None]

_H = TypeVar("_H", bound=Hashable)


# --- the expectations, one per function --------------------------------------------------


def offered_phases(kb: KnowledgeBase, context: str) -> dict[str, Phase]:
    """Every stretch ``context`` offers, with its phase there.

    A stretch whose ``suits`` names the context is offered in the link's phase, or its
    own when the link gives none; its alternatives are offered in the same phase.

    >>> from sirecommend import load_knowledge
    >>> offered_phases(load_knowledge(), "warm_up")["butterfly_seated"]
    'warm_up'
    """
    phases: dict[str, Phase] = {}
    alternatives: dict[str, list[str]] = {}
    for st in kb.stretches.values():
        if st.alternative_of is not None:
            alternatives.setdefault(st.alternative_of, []).append(st.id)
        for link in st.suits:
            if link.context == context:
                phases[st.id] = link.phase or st.phase
    for primary, alts in alternatives.items():
        if primary in phases:
            phases.update(dict.fromkeys(alts, phases[primary]))
    return phases


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """The rules of the knowledge, read in rule order, matched by kind.

    ``pregnancy``: per pregnancy rule, its id, first trimester and the positions it rules
    out; ``forbidden``: per forbid-combination rule, its id and the movement kinds it
    forbids together; ``cautions``: per forbid-combination or ``when_aggravated`` rule,
    the movement kinds its caution is for (``None``: every step when aggravated) and the
    caution; ``stop_rules``: the general cautions' texts a routine shows, not pregnant
    and pregnant (a ``when = "pregnant"`` rule only in the second); ``referral``: the
    red-flag referral rules' messages.
    """

    pregnancy: tuple[tuple[str, int, frozenset[str]], ...]
    forbidden: tuple[tuple[str, frozenset[str]], ...]
    cautions: tuple[tuple[frozenset[str] | None, str], ...]
    stop_rules: tuple[tuple[str, ...], tuple[str, ...]]
    referral: tuple[str, ...]


def rule_facts(kb: KnowledgeBase) -> RuleFacts:
    """Read :class:`RuleFacts` from ``kb.rules``.

    >>> from sirecommend import load_knowledge
    >>> rule_facts(load_knowledge()).forbidden[0][0]
    'no_rotation_with_side_bend'
    """
    pregnancy: list[tuple[str, int, frozenset[str]]] = []
    forbidden: list[tuple[str, frozenset[str]]] = []
    cautions: list[tuple[frozenset[str] | None, str]] = []
    stop_rules: tuple[list[str], list[str]] = ([], [])
    referral: list[str] = []
    for rule in kb.rules.values():
        if isinstance(rule, PregnancyRule):
            positions = frozenset(p for name in rule.positions for p in kb.position_members(name))
            pregnancy.append((rule.id, int(rule.from_trimester), positions))
        elif isinstance(rule, ForbidCombinationRule):
            forbidden.append((rule.id, kb.movement_kinds_of(rule.movements)))
            cautions.append((kb.movement_kinds_of(rule.caution_movements), rule.caution))
        elif isinstance(rule, WhenAggravatedRule):
            cautions.append((None, rule.caution))
        elif isinstance(rule, GeneralCautionRule):
            for pregnant, shown in enumerate(stop_rules):
                if pregnant or rule.when != "pregnant":
                    shown.append(rule.text)
        else:
            referral.append(rule.message)
    return RuleFacts(
        tuple(pregnancy),
        tuple(forbidden),
        tuple(cautions),
        (tuple(stop_rules[0]), tuple(stop_rules[1])),
        tuple(referral),
    )


def dose_level(context: Context) -> int:
    """The index in :data:`DOSE_LEVELS` of a context's dose when not aggravated.

    >>> from sirecommend import load_knowledge
    >>> contexts = load_knowledge().contexts
    >>> [DOSE_LEVELS[dose_level(contexts[c])] for c in ("after_sitting", "post_activity")]
    [('usual', 'full'), ('lowest', 'reduced')]
    """
    if context.dose is None:
        return 0
    return DOSE_LEVELS.index((context.dose.level, context.dose.range_of_motion))


def expected_dose(
    st: Stretch, aggravated: bool, level: int = 0
) -> tuple[int, int, Literal["full", "reduced"]]:
    """``(hold_seconds, sets, range_of_motion)`` of a step of ``st``.

    Aggravated: the lowest hold and sets, reduced range, whatever the context. Not
    aggravated, at the context's ``level`` (an index in :data:`DOSE_LEVELS`): ``usual``,
    the middle of the hold range rounded down to 5 s (at least its low end), or
    ``lowest``, the low end; the fewest sets; at the level's range of motion.

    >>> from sirecommend import load_knowledge
    >>> st = load_knowledge().stretches["hamstring_supine"]
    >>> expected_dose(st, False), expected_dose(st, True), expected_dose(st, False, 2)
    ((45, 2, 'full'), (30, 2, 'reduced'), (30, 2, 'full'))
    """
    (low, high), sets = st.dosage.hold_seconds, st.dosage.sets[0]
    if aggravated:
        return low, sets, "reduced"
    hold, motion = DOSE_LEVELS[level]
    if hold == "lowest":
        return low, sets, motion
    middle = (low + high) // 2
    return max(low, middle - middle % 5), sets, motion


def expected_seconds(hold_seconds: int, sets: int, per_side: bool) -> int:
    """How long a step takes: holds x sets x sides, plus :data:`SETUP_SECONDS`.

    >>> expected_seconds(30, 2, True)
    135
    """
    return hold_seconds * sets * (2 if per_side else 1) + SETUP_SECONDS


def expected_instructions(st: Stretch, option: EquipmentOption | None) -> tuple[str, ...]:
    """The equipment option's how (when the stretch lists options), then its instructions.

    >>> from sirecommend import load_knowledge
    >>> st = load_knowledge().stretches["standing_side_bend"]
    >>> expected_instructions(st, None) == tuple(n.text for n in st.instructions)
    True
    """
    return (*([option.how] if option else []), *(note.text for note in st.instructions))


def expected_offer(kb: KnowledgeBase, st: Stretch) -> str:
    """The line a choice step (``choose_one``) gives for ``st``: the names of the muscles
    it works, a colon, then its instructions, one after another.

    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> expected_offer(kb, kb.stretches["foam_roll_glutes"])[:30]
    'Glutes: Sit on the roller with'
    """
    names = ", ".join(kb.muscles[m].name for m in st.targets)
    return f"{names}: {' '.join(note.text for note in st.instructions)}"


def expected_choice(
    choice: tuple[str, ...],
    own: tuple[str, ...],
    offered: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(instructions, cautions)`` of a choice step offering ``offered`` (per stretch,
    its line and its cautions): ``choice`` (its option's instructions) then each offered
    stretch's line; each offered stretch's cautions that the choice's own (``own``) do
    not already give, then those.

    >>> expected_choice(("Pick one.",), ("No clots.",), (("A: roll.", ("Knee.", "No clots.")),))
    (('Pick one.', 'A: roll.'), ('Knee.', 'No clots.'))
    """
    said = set(own)
    cautions = dict.fromkeys(c for _, notes in offered for c in notes if c not in said)
    return (*choice, *(line for line, _ in offered)), (*cautions, *own)


def expected_cautions(
    rules: RuleFacts, st: Stretch, kinds: frozenset[str], aggravated: bool
) -> tuple[str, ...]:
    """The stretch's cautions, then in rule order each forbid-combination rule's caution
    when the stretch moves in a kind (``kinds``) of its ``caution_movements``, and the
    ``when_aggravated`` caution when aggravated; each text once.

    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> st = kb.stretches["hamstring_supine"]
    >>> kinds = kb.movement_kinds_of(st.movements)
    >>> rules = rule_facts(kb)
    >>> plain, aggravated = (expected_cautions(rules, st, kinds, a) for a in (False, True))
    >>> len(aggravated) > len(plain)
    True
    """
    texts = [note.text for note in st.cautions]
    for caution_kinds, text in rules.cautions:
        if aggravated if caution_kinds is None else caution_kinds & kinds:
            texts.append(text)
    return tuple(dict.fromkeys(texts))


# --- the facts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dose:
    """A step's expected hold, sets, range of motion and seconds (set-up included)."""

    hold_seconds: int
    sets: int
    range_of_motion: Literal["full", "reduced"]
    seconds: int


@dataclass(frozen=True, slots=True)
class OptionFacts:
    """One way to do a stretch: the equipment it uses (``None``: none) and its name, and
    the instructions a step done this way gives."""

    uses: str | None
    name: str | None
    instructions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StretchFacts:
    """What the tables say about one stretch, for any profile.

    ``options``: the equipment options in order (one with no equipment when the stretch
    lists none); ``needs``: the equipment of which the person must have one (``None``: an
    option needs nothing); ``forbidden``: the forbid-combination rules its movements break,
    as blockers; ``plain``/``aggravated`` and ``cautions``/``aggravated_cautions``: its dose
    and cautions either way (``seconds``: both doses' seconds); ``cites``: the sources every
    step of it cites; ``orderings``: per ordering that puts a stretch before this one,
    ``(its index in the ordering table, its id, the stretch that comes before)``;
    ``looks``: not aggravated and aggravated, per option, the values of every field of
    :data:`STEP_FIELDS` a step of it must have; ``doses``, ``seconds`` and ``looks`` hold
    one entry per :data:`DOSE_LEVELS`, then the aggravated one (index :data:`AGGRAVATED`).
    """

    id: str
    name: str
    position: str
    position_name: str
    movements: tuple[str, ...]
    targets: tuple[str, ...]
    kinds: frozenset[str]
    per_side: bool
    options: tuple[OptionFacts, ...]
    needs: frozenset[str] | None
    forbidden: tuple[Blocker, ...]
    plain: Dose
    aggravated: Dose
    doses: tuple[Dose, ...]
    seconds: tuple[int, ...]
    cautions: tuple[str, ...]
    aggravated_cautions: tuple[str, ...]
    cites: frozenset[str]
    alternative_of: str | None
    alternatives: tuple[str, ...]
    orderings: tuple[tuple[int, str, str], ...]
    looks: tuple[tuple[tuple[object, ...], ...], ...]
    #: A choice (``choose_one``, p15): the stretches it offers; a member: its choice.
    choices: tuple[str, ...] = ()
    choice_of: str | None = None
    #: The line a choice step gives for it (:func:`expected_offer`).
    offer: str = ""


@dataclass(frozen=True, slots=True)
class PositionFacts:
    """What the tables say about one position: its name, every position, group or kind id
    whose avoidance covers it (matched by kind), and the pregnancy rules that rule it out,
    with the trimester from which they do, in rule order."""

    name: str
    #: Its place from standing (low) down to lying (high).
    sequence: int
    avoided_by: frozenset[str]
    pregnancy: tuple[tuple[str, int], ...]
    #: Per trimester (0: not pregnant, then 1-3), the pregnancy rules in force against it.
    pregnancy_in: tuple[tuple[Blocker, ...], ...]


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """Every stretch a context offers (those that suit it and their alternatives), with
    its phase there; its time budget when the profile gives none (``None``: no limit);
    whether the routine runs its positions from lying up to standing (phases inside a
    position block); its dose level when not aggravated (an index in
    :data:`DOSE_LEVELS`); the movement kinds whose steps open the routine."""

    offered: Mapping[str, Phase]
    default_minutes: float | None = None
    lying_to_standing: bool = False
    dose: int = 0
    lead: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FlagFacts:
    """One red flag: its name, its tier's rank and action, and its message."""

    id: str
    name: str
    rank: int
    action: str
    message: str


@dataclass(frozen=True, slots=True)
class KnowledgeFacts:
    """Everything the audit reads about the knowledge, derived once from its tables.

    ``forbid_rules``: per forbid-combination rule, its id and the movement kinds it
    forbids together (for a step that claims other movements than its stretch's);
    ``urgency_ranks``: per tier, its rank; ``referral``: the red-flag referral rules'
    messages; ``stop_rules``: the general cautions' texts, not pregnant and pregnant
    (index by whether the profile gives a trimester); ``sources``: every source id;
    ``cites``: every citation a stretch gives (itself, its dose, its links, its notes)
    whose source is one of ``sources``; ``provenance``: what every routine made from this
    knowledge must say of it.
    """

    stretches: Mapping[str, StretchFacts]
    positions: Mapping[str, PositionFacts]
    contexts: Mapping[str, ContextFacts]
    red_flags: Mapping[str, FlagFacts]
    urgency_ranks: Mapping[str, int]
    forbid_rules: tuple[tuple[str, frozenset[str]], ...]
    referral: tuple[str, ...]
    stop_rules: tuple[tuple[str, ...], tuple[str, ...]]
    sources: frozenset[str]
    cites: frozenset[str]
    provenance: Provenance


def _cites(kb: KnowledgeBase) -> set[str]:
    """Every citation a step may give: its stretch's, its dose's, its links' and notes',
    and those of the rules, positions, movements, muscles and contexts."""
    found: set[str] = set()
    for st in kb.stretches.values():
        found.update(st.cites, st.dosage.cites)
        for link in st.suits:
            found.update(link.cites)
        for note in (*st.instructions, *st.cautions):
            found.update(note.cites)
    for table in (kb.rules, kb.positions, kb.movements, kb.muscles, kb.contexts):
        for entry in table.values():
            found.update(entry.cites)
    return found


class _Shared:
    """Equal values built for many stretches, kept once (only while building)."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, Hashable] = {}

    def __call__(self, value: _H) -> _H:
        return self._seen.setdefault(value, value)  # type: ignore[return-value]


def knowledge_facts(kb: KnowledgeBase) -> KnowledgeFacts:
    """Derive :class:`KnowledgeFacts` from the tables of ``kb`` (at load, once).

    >>> from sirecommend import load_knowledge
    >>> facts = knowledge_facts(load_knowledge())
    >>> facts.stretches["standing_side_bend"].forbidden
    ()
    >>> facts.positions["supine"].pregnancy
    (('pregnancy_no_supine', 2),)
    """
    rules = rule_facts(kb)
    share = _Shared()
    positions = _position_facts(kb, rules, share)
    alternatives: dict[str, list[str]] = {}
    for st in kb.stretches.values():
        if st.alternative_of is not None:
            alternatives.setdefault(st.alternative_of, []).append(st.id)
    choice_of = {m: st.id for st in kb.stretches.values() for m in st.choose_one}
    before: dict[str, list[tuple[int, str, str]]] = {}
    for i, o in enumerate(kb.orderings.values()):
        before.setdefault(o.after, []).append((i, o.id, o.before))
    stretches = {
        st.id: _stretch_facts(
            kb,
            rules,
            share,
            st,
            positions[st.position].name,
            tuple(alternatives.get(st.id, ())),
            tuple(before.get(st.id, ())),
            choice_of.get(st.id),
        )
        for st in kb.stretches.values()
    }
    contexts = {
        ctx: ContextFacts(
            MappingProxyType(offered_phases(kb, ctx)),
            c.default_minutes,
            c.order == "lying_to_standing",
            dose_level(c),
            kb.movement_kinds_of(c.lead_movements),
        )
        for ctx, c in kb.contexts.items()
    }
    flags = {
        f.id: FlagFacts(
            f.id, f.name, kb.urgencies[f.urgency].rank, kb.urgencies[f.urgency].action, f.message
        )
        for f in kb.red_flags.values()
    }
    return KnowledgeFacts(
        stretches=MappingProxyType(stretches),
        positions=MappingProxyType(positions),
        contexts=MappingProxyType(contexts),
        red_flags=MappingProxyType(flags),
        urgency_ranks=MappingProxyType({u.id: u.rank for u in kb.urgencies.values()}),
        forbid_rules=rules.forbidden,
        referral=rules.referral,
        stop_rules=rules.stop_rules,
        sources=frozenset(kb.sources),
        cites=frozenset(c for c in _cites(kb) if c.partition("#")[0] in kb.sources),
        provenance=Provenance(
            version=__version__,
            knowledge_digest=kb.digest,
            packs=kb.packs,
            relaxations=tuple(kb.relaxations.values()),
        ),
    )


def _position_facts(
    kb: KnowledgeBase, rules: RuleFacts, share: _Shared
) -> dict[str, PositionFacts]:
    """Per position: its name, what avoiding covers it, the pregnancy rules against it."""
    avoided_by: dict[str, set[str]] = {p: set() for p in kb.positions}
    names = {*kb.positions, *kb.position_groups, *kb.position_kinds}
    names.update(p.is_a for p in kb.positions.values())
    for name in names:
        for member in kb.position_members(name):
            avoided_by[member].add(name)
    found = {}
    for p in kb.positions.values():
        pregnancy = tuple(
            (rule, first) for rule, first, ruled_out in rules.pregnancy if p.id in ruled_out
        )
        in_force = tuple(
            share(tuple((ReasonCode.PREGNANCY, rule) for rule, first in pregnancy if t >= first))
            for t in range(4)
        )
        found[p.id] = PositionFacts(
            p.name, p.sequence, share(frozenset(avoided_by[p.id])), pregnancy, in_force
        )
    return found


def _stretch_facts(
    kb: KnowledgeBase,
    rules: RuleFacts,
    share: _Shared,
    st: Stretch,
    position_name: str,
    alternatives: tuple[str, ...],
    orderings: tuple[tuple[int, str, str], ...],
    choice_of: str | None = None,
) -> StretchFacts:
    kinds = share(kb.movement_kinds_of(st.movements))
    options = tuple(
        OptionFacts(
            o.uses,
            None if o.uses is None else kb.equipment[o.uses].name,
            expected_instructions(st, o),
        )
        for o in st.equipment
    ) or (OptionFacts(None, None, expected_instructions(st, None)),)
    needs = (
        None
        if any(o.uses is None for o in options)
        else share(frozenset(o.uses for o in options if o.uses is not None))
    )
    doses = []
    for aggravated, level in [*((False, i) for i in range(AGGRAVATED)), (True, 0)]:
        hold, sets, motion = expected_dose(st, aggravated, level)
        doses.append(
            share(Dose(hold, sets, motion, expected_seconds(hold, sets, st.dosage.per_side)))
        )
    cautions = [
        share(expected_cautions(rules, st, kinds, aggravated)) for aggravated in (False, True)
    ]
    # A stretch's own values (its looks, its instructions) are equal only within it:
    # kept once here, not in ``share``, which would hold one entry per stretch.
    own: dict[tuple[object, ...], tuple[object, ...]] = {}
    looks = [
        tuple(
            own.setdefault(look, look)
            for o in options
            for look in [_look(st, position_name, o, dose, cautions[i == AGGRAVATED])]
        )
        for i, dose in enumerate(doses)
    ]
    return StretchFacts(
        id=st.id,
        name=st.name,
        position=st.position,
        position_name=position_name,
        movements=st.movements,
        targets=st.targets,
        kinds=kinds,
        per_side=st.dosage.per_side,
        options=options,
        needs=needs,
        forbidden=share(
            tuple(
                (ReasonCode.FORBIDDEN_COMBINATION, rule)
                for rule, forbidden in rules.forbidden
                if forbidden <= kinds
            )
        ),
        plain=doses[0],
        aggravated=doses[AGGRAVATED],
        doses=share(tuple(doses)),
        seconds=share(tuple(d.seconds for d in doses)),
        cautions=cautions[0],
        aggravated_cautions=cautions[1],
        cites=share(frozenset((*st.cites, *st.dosage.cites))),
        alternative_of=st.alternative_of,
        alternatives=alternatives,
        orderings=orderings,
        looks=tuple(looks),
        choices=st.choose_one,
        choice_of=choice_of,
        offer=expected_offer(kb, st),
    )


#: The fields of a step that its stretch, the person's equipment and whether they are
#: aggravated decide alone, in the order of :attr:`StretchFacts.looks`.
STEP_FIELDS = (
    "stretch_id",
    "name",
    "position",
    "position_name",
    "movements",
    "targets",
    "equipment",
    "equipment_name",
    "instructions",
    "cautions",
    "hold_seconds",
    "sets",
    "per_side",
    "range_of_motion",
    "seconds",
    "replaces",
)


def _look(
    st: Stretch, position_name: str, option: OptionFacts, dose: Dose, cautions: tuple[str, ...]
) -> tuple[object, ...]:
    """The values of :data:`STEP_FIELDS` of a step of ``st`` done with ``option``."""
    return (
        st.id,
        st.name,
        st.position,
        position_name,
        st.movements,
        st.targets,
        option.uses,
        option.name,
        option.instructions,
        cautions,
        dose.hold_seconds,
        dose.sets,
        st.dosage.per_side,
        dose.range_of_motion,
        dose.seconds,
        st.alternative_of,
    )


# --- the progression rules (issue 13), read from the tables for the audit ----------------


_Rung = tuple[int, int, Literal["full", "reduced"]]


def expected_ladder(st: Stretch, model: ProgressionModel) -> tuple[_Rung, ...]:
    """Every dose ``(hold_seconds, sets, range_of_motion)`` the progression may give ``st``.

    Lowest first: the source's lowest hold and sets at reduced range; then at full range
    ``hold_rungs`` holds spread evenly from its low to its high hold (those in between
    rounded down to 5 s, never below the low hold), at the lowest sets; then the high
    hold with each further set up to the source's highest.

    >>> from sirecommend import load_knowledge
    >>> kb = load_knowledge()
    >>> expected_ladder(kb.stretches["hamstring_supine"], kb.progression["traffic_light"])
    ((30, 2, 'reduced'), (30, 2, 'full'), (45, 2, 'full'), (60, 2, 'full'), (60, 3, 'full'))
    """
    (low, high), (fewest, most) = st.dosage.hold_seconds, st.dosage.sets
    last = model.hold_rungs - 1
    holds = {low, high}
    for k in range(1, last):
        exact = low + (high - low) * k // last
        holds.add(max(low, exact // 5 * 5 if exact % 5 else exact))
    full: list[_Rung] = [(h, fewest, "full") for h in sorted(holds)]
    more: list[_Rung] = [(high, n, "full") for n in range(fewest + 1, most + 1)]
    return ((low, fewest, "reduced"), *full, *more)


def feedback_band(feedback: Feedback, model: ProgressionModel) -> int:
    """0 (green), 1 (amber) or 2 (red): the worst band of a feedback's ratings.

    >>> from sirecommend import load_knowledge
    >>> from sirecommend._feedback import Feedback
    >>> m = load_knowledge().progression["traffic_light"]
    >>> feedback_band(Feedback(stretch_id="x", sets_done=1, pain_during=4), m)
    1
    """
    found = [_pain_band(feedback.pain_during, model.pain_during)]
    if feedback.pain_after is not None:
        found.append(_pain_band(feedback.pain_after, model.pain_after))
    if feedback.next_morning is not None:
        word = getattr(model.next_morning, feedback.next_morning)
        found.append(("green", "amber", "red").index(word))
    return max(found)


def _pain_band(pain: int, bands: PainBands) -> int:
    return 0 if pain <= bands.green_max else 1 if pain <= bands.amber_max else 2


def session_holds(session: Session, model: ProgressionModel) -> bool:
    """Whether nothing may go up after ``session``: pain at or above ``hold_pain`` in any
    rating, or a worse next morning after every stretch it gives feedback on."""
    pains = [p for f in session.feedback for p in (f.pain_during, f.pain_after) if p is not None]
    if any(p >= model.hold_pain for p in pains):
        return True
    mornings = [f.next_morning for f in session.feedback]
    return bool(mornings) and all(m == "worse" for m in mornings)
