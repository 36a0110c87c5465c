"""The independent safety audit of a finished routine: :func:`audit`.

Written from the knowledge tables, not from the pipeline. It reads only the routine,
the profile and the tables of the :class:`~sirecommend.KnowledgeBase` (``stretches``,
``rules``, ``red_flags``, ``urgencies``, ``positions``, ``orderings`` ...) with the
base-kind methods (``movement_kinds_of``, ``position_members``); it imports nothing
from ``sirecommend.pipeline`` and reads no index, plan or cache built from the
tables. It keeps nothing between calls: auditing a routine twice does the same work
twice, so a routine changed in any way after its first audit is checked afresh.

:func:`sirecommend.recommend` runs it on every routine and raises
:class:`~sirecommend.errors.SafetyError` rather than return one that breaks a check.

Every check has a name (the ``rule`` of the Violation it reports),
listed with what it checks in ``CHECKS``. Each expectation (the referral, a
step's dose, its cautions, what rules a stretch out ...) is computed by one small
public function below (``expected_*``, ``*_blockers``, ``rule_facts``,
``offered_phases``), so that a deliberate change of the pipeline's output is a change
of one function here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from sirecommend._kb import KnowledgeBase
from sirecommend._models import (
    PHASES,
    EquipmentOption,
    ForbidCombinationRule,
    GeneralCautionRule,
    Phase,
    PregnancyRule,
    RedFlag,
    Stretch,
    WhenAggravatedRule,
)
from sirecommend._routine import (
    MAX_STEPS,
    NOTICE,
    Exclusion,
    Profile,
    Provenance,
    Reason,
    ReasonCode,
    Routine,
    Step,
    Violation,
)
from sirecommend._version import __version__
from sirecommend.errors import InvalidArgumentError, UnknownIdError

__all__ = ["CHECKS", "PENDING", "audit"]

#: Every check the audit makes: its name (``Violation.rule``) and what it asserts.
CHECKS: Mapping[str, str] = MappingProxyType(
    {
        "profile": "the routine was made for this profile and its context",
        "status": "status is referred with red flags, else ok with steps, else nothing_fits",
        "red_flag_stop": "red flags: a referral and no step; no red flag: no referral",
        "referral_urgency": "the referral's urgency has the highest tier rank reported",
        "referral_flags": "the referral names every flag reported, most urgent first, by name",
        "referral_words": "the referral's action and message are the knowledge's words",
        "stop_rules": "the routine repeats every general caution rule, in rule order",
        "notice": "the routine carries the library's notice",
        "provenance": "the provenance names this knowledge (digest, packs, relaxations)",
        "known_stretch": "every step and exclusion names a stretch of the knowledge",
        "context": "every step and exclusion is a stretch the context offers",
        "accounted": "every stretch the context offers is a step or excluded, exactly once",
        "step_name": "a step carries its stretch's name",
        "position": "a step's position and position name are its stretch's",
        "movements": "a step's movements and targets are its stretch's",
        "equipment": "a step uses the first equipment option the person has, named",
        "instructions": "a step's instructions: the option's how, then the stretch's",
        "cautions": "a step's cautions: the stretch's, each rule's that applies to it",
        "dose": "a step's hold, sets, range of motion and sides follow the dose rules",
        "seconds": "a step lasts hold x sets x sides + set-up",
        "phase": "a step's phase is its context link's (or its stretch's own)",
        "replaces": "only an alternative stands in, for its primary, which cannot be done",
        "explained": "steps give reasons and sources, the referral sources, all known",
        "avoided_position": "no step is done in a position the person avoids",
        "pregnancy": "no step is in a position a pregnancy rule rules out",
        "forbidden_combination": "no step involves every movement a forbid rule names",
        "exclusion_name": "an exclusion carries its stretch's name",
        "reason_true": "every reason an exclusion gives is true for this profile",
        "reason_other": "a replaced or not-needed reason points at a step of the routine",
        "reasons_complete": "an exclusion gives every rule against it, and a cause",
        "phase_order": "phases run warm-up, targeted, cool-down",
        "position_blocks": "within a phase each position is one block",
        "ordering": "the knowledge's ordering constraints hold between steps",
        "total_seconds": "total_seconds is the sum of the steps' seconds",
        "time_budget": "the routine fits the person's time budget",
        "max_steps": f"without a time budget, at most MAX_STEPS ({MAX_STEPS}) steps",
    }
)

#: Checks made but not yet reported by :func:`audit`, until the pipeline meets them:
#: ``max_steps`` (issue 10, item 6: the pipeline does not cap routines yet) and
#: ``reason_other`` (a step dropped for time still has a "replaced by" pointing at
#: it). Empty this set when the pipeline does both.
PENDING: frozenset[str] = frozenset({"max_steps", "reason_other"})

#: Seconds allowed to get into and out of each step's position (docs/decisions.md).
SETUP_SECONDS = 15

_BLOCKING = frozenset(
    {
        ReasonCode.RED_FLAG,
        ReasonCode.MISSING_EQUIPMENT,
        ReasonCode.POSITION_AVOIDED,
        ReasonCode.PREGNANCY,
        ReasonCode.FORBIDDEN_COMBINATION,
    }
)


def audit(routine: Routine, profile: Profile, knowledge: KnowledgeBase) -> list[Violation]:
    """Every check (``CHECKS``) the routine fails for this profile; empty when it is safe.

    Parameters
    ----------
    routine : Routine
        The routine to check, as :func:`sirecommend.recommend` returned it or changed.
    profile : Profile
        Who it is for.
    knowledge : KnowledgeBase
        The knowledge it was made from.

    Returns
    -------
    list of Violation
        One per broken check and item, in a fixed order; ``Violation.rule`` names the
        check.

    Raises
    ------
    InvalidArgumentError
        An argument is not a Routine, a Profile or a KnowledgeBase.
    UnknownIdError
        The profile reports a red flag the knowledge does not define.

    Examples
    --------
    >>> from sirecommend import load_knowledge, recommend, Profile
    >>> kb = load_knowledge()
    >>> p = Profile(context="after_sitting")
    >>> routine = recommend(p)
    >>> audit(routine, p, kb)
    []
    >>> tampered = routine.model_copy(update={"cautions": ()})
    >>> [v.rule for v in audit(tampered, p, kb)]
    ['stop_rules']
    """
    for value, kind in ((routine, Routine), (profile, Profile), (knowledge, KnowledgeBase)):
        if not isinstance(value, kind):
            raise InvalidArgumentError(
                f"audit() takes a Routine, a Profile and a KnowledgeBase; got a "
                f"{type(value).__name__} for the {kind.__name__}"
            )
    unknown = sorted(profile.red_flags - knowledge.red_flags.keys())
    if unknown:
        raise UnknownIdError("red flag", unknown[0], knowledge.red_flags, where="red_flags")
    case = _Case.of(routine, profile, knowledge)
    return [v for check in _ALL for v in check(case) if v.rule not in PENDING]


# --- what the knowledge says, one expectation per function -----------------------------


def offered_phases(kb: KnowledgeBase, context: str) -> dict[str, Phase]:
    """Every stretch ``context`` offers, with its phase there.

    A stretch whose ``suits`` names the context is offered in the link's phase, or its
    own when the link gives none; its alternatives are offered in the same phase.
    """
    return _walk(kb, context)[0]


def alternatives_of(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """Per stretch that has alternatives, their ids."""
    return _walk(kb, "")[1]


def _walk(kb: KnowledgeBase, context: str) -> tuple[dict[str, Phase], dict[str, tuple[str, ...]]]:
    """:func:`offered_phases` and :func:`alternatives_of`, in one pass over the stretches."""
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
    return phases, {sid: tuple(alts) for sid, alts in alternatives.items()}


def avoided_positions(kb: KnowledgeBase, profile: Profile) -> frozenset[str]:
    """Every position the person avoids: positions, groups and kinds, matched by kind."""
    return frozenset(p for a in profile.avoid_positions for p in kb.position_members(a))


def usable_option(st: Stretch, equipment: frozenset[str]) -> tuple[bool, EquipmentOption | None]:
    """Whether the person has what ``st`` needs, and the first equipment option they can
    use (``None`` when the stretch lists no option: it needs no equipment)."""
    if not st.equipment:
        return True, None
    option = next((o for o in st.equipment if o.uses is None or o.uses in equipment), None)
    return option is not None, option


@dataclass(frozen=True, slots=True)
class RuleFacts:
    """The rules of the knowledge, read in rule order, matched by kind (once per audit).

    ``pregnancy``: per pregnancy rule, its id, first trimester and the positions it rules
    out; ``forbidden``: per forbid-combination rule, its id and the movement kinds it
    forbids together; ``cautions``: per forbid-combination or ``when_aggravated`` rule,
    the movement kinds its caution is for (``None``: every step when aggravated) and the
    caution; ``stop_rules``: the general cautions' texts; ``referral``: the red-flag
    referral rules' messages.
    """

    pregnancy: tuple[tuple[str, int, frozenset[str]], ...]
    forbidden: tuple[tuple[str, frozenset[str]], ...]
    cautions: tuple[tuple[frozenset[str] | None, str], ...]
    stop_rules: tuple[str, ...]
    referral: tuple[str, ...]


def rule_facts(kb: KnowledgeBase) -> RuleFacts:
    """Read :class:`RuleFacts` from ``kb.rules``."""
    pregnancy: list[tuple[str, int, frozenset[str]]] = []
    forbidden: list[tuple[str, frozenset[str]]] = []
    cautions: list[tuple[frozenset[str] | None, str]] = []
    stop_rules: list[str] = []
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
            stop_rules.append(rule.text)
        else:
            referral.append(rule.message)
    return RuleFacts(
        tuple(pregnancy), tuple(forbidden), tuple(cautions), tuple(stop_rules), tuple(referral)
    )


_Blocker = tuple[ReasonCode, str | None]


def blocking_facts(
    rules: RuleFacts,
    profile: Profile,
    avoided: frozenset[str],
    position: str,
    kinds: frozenset[str],
    st: Stretch,
) -> list[_Blocker]:
    """What rules ``st`` out for this person (red flags aside), as ``(code, rule)``.

    Pregnancy rules from their trimester on, forbid-combination rules whose kinds are
    all among ``kinds``, an avoided position, missing equipment. ``position`` and
    ``kinds`` (of the movements) are the stretch's, or a step's that claims to be it.
    """
    return [
        *position_blockers(rules, profile, avoided, position),
        *movement_blockers(rules, kinds),
        *equipment_blockers(st, profile.equipment),
    ]


def position_blockers(
    rules: RuleFacts, profile: Profile, avoided: frozenset[str], position: str
) -> list[_Blocker]:
    """Pregnancy rules from their trimester on that rule ``position`` out; avoided."""
    trimester = profile.pregnancy_trimester or 0
    found: list[_Blocker] = [
        (ReasonCode.PREGNANCY, rule)
        for rule, first, positions in rules.pregnancy
        if trimester >= first and position in positions
    ]
    if position in avoided:
        found.append((ReasonCode.POSITION_AVOIDED, None))
    return found


def movement_blockers(rules: RuleFacts, kinds: frozenset[str]) -> list[_Blocker]:
    """Forbid-combination rules whose movement kinds are all among ``kinds``."""
    return [(ReasonCode.FORBIDDEN_COMBINATION, r) for r, ks in rules.forbidden if ks <= kinds]


def equipment_blockers(st: Stretch, equipment: frozenset[str]) -> list[_Blocker]:
    """Missing equipment, when every option of ``st`` needs equipment the person lacks."""
    return [] if usable_option(st, equipment)[0] else [(ReasonCode.MISSING_EQUIPMENT, None)]


def expected_dose(st: Stretch, aggravated: bool) -> tuple[int, int, Literal["full", "reduced"]]:
    """``(hold_seconds, sets, range_of_motion)`` of a step of ``st``.

    Not aggravated: the middle of the hold range rounded down to 5 s (at least its low
    end), the fewest sets, full range. Aggravated: the lowest hold and sets, reduced range.
    """
    (low, high), sets = st.dosage.hold_seconds, st.dosage.sets[0]
    if aggravated:
        return low, sets, "reduced"
    middle = (low + high) // 2
    return max(low, middle - middle % 5), sets, "full"


def expected_seconds(hold_seconds: int, sets: int, per_side: bool) -> int:
    """How long a step takes: holds x sets x sides, plus :data:`SETUP_SECONDS`."""
    return hold_seconds * sets * (2 if per_side else 1) + SETUP_SECONDS


def expected_instructions(st: Stretch, option: EquipmentOption | None) -> tuple[str, ...]:
    """The equipment option's how (when the stretch lists options), then its instructions."""
    return (*([option.how] if option else []), *(note.text for note in st.instructions))


def expected_cautions(
    rules: RuleFacts, st: Stretch, kinds: frozenset[str], aggravated: bool
) -> tuple[str, ...]:
    """The stretch's cautions, then in rule order each forbid-combination rule's caution
    when the stretch moves in a kind (``kinds``) of its ``caution_movements``, and the
    ``when_aggravated`` caution when aggravated; each text once."""
    texts = [note.text for note in st.cautions]
    for caution_kinds, text in rules.cautions:
        if aggravated if caution_kinds is None else caution_kinds & kinds:
            texts.append(text)
    return tuple(dict.fromkeys(texts))


def expected_provenance(kb: KnowledgeBase) -> Provenance:
    """This library's version, the knowledge's digest and packs, every relaxation."""
    return Provenance(
        version=__version__,
        knowledge_digest=kb.digest,
        packs=kb.packs,
        relaxations=tuple(kb.relaxations.values()),
    )


@dataclass(frozen=True, slots=True)
class ExpectedReferral:
    """What the referral for a set of red flags must say."""

    top_rank: int
    red_flags: tuple[str, ...]
    flag_names: tuple[str, ...]
    action: str
    message: str


def expected_referral(
    kb: KnowledgeBase, rules: RuleFacts, flags: frozenset[str]
) -> ExpectedReferral:
    """The referral for ``flags`` (not empty).

    Flags most urgent first (tier rank), then by id; the action of the most urgent
    flag's tier; the message is that action, the messages of every flag at the top
    rank, then the ``red_flag_referral`` rules' messages, joined by spaces.
    """

    def rank(flag: RedFlag) -> int:
        return kb.urgencies[flag.urgency].rank

    ordered = sorted((kb.red_flags[f] for f in flags), key=lambda f: (-rank(f), f.id))
    top = rank(ordered[0])
    worst = [f for f in ordered if rank(f) == top]
    action = kb.urgencies[ordered[0].urgency].action
    return ExpectedReferral(
        top_rank=top,
        red_flags=tuple(f.id for f in ordered),
        flag_names=tuple(f.name for f in ordered),
        action=action,
        message=" ".join([action, *(f.message for f in worst), *rules.referral]),
    )


# --- one audit --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Case:
    """One audit's inputs and the facts every check reads, derived afresh per call."""

    routine: Routine
    profile: Profile
    kb: KnowledgeBase
    rules: RuleFacts
    offered: Mapping[str, Phase]
    alternatives: Mapping[str, tuple[str, ...]]
    avoided: frozenset[str]
    steps: Mapping[str, Step]
    #: Filled during this one audit and dropped with it: never shared between audits.
    #: (Keys: "position" and its id, "movements" and theirs, "equipment" and the uses.)
    blocked: dict[tuple[str | None, ...], list[_Blocker]]

    @classmethod
    def of(cls, routine: Routine, profile: Profile, kb: KnowledgeBase) -> _Case:
        offered, alternatives = _walk(kb, profile.context)
        return cls(
            routine=routine,
            profile=profile,
            kb=kb,
            rules=rule_facts(kb),
            offered=offered,
            alternatives=alternatives,
            avoided=avoided_positions(kb, profile),
            steps={s.stretch_id: s for s in routine.steps},
            blocked={},
        )

    def blockers(self, st: Stretch) -> list[_Blocker]:
        """:func:`blocking_facts` of ``st`` as the knowledge describes it, each part worked
        out once per position, movements and equipment options in this audit."""
        known = self.blocked
        by_position = known.get(("position", st.position))
        if by_position is None:
            by_position = position_blockers(self.rules, self.profile, self.avoided, st.position)
            known["position", st.position] = by_position
        by_movements = known.get(("movements", *st.movements))
        if by_movements is None:
            kinds = self.kb.movement_kinds_of(st.movements)
            by_movements = known["movements", *st.movements] = movement_blockers(self.rules, kinds)
        uses = ("equipment", *(o.uses for o in st.equipment))
        by_equipment = known.get(uses)
        if by_equipment is None:
            by_equipment = known[uses] = equipment_blockers(st, self.profile.equipment)
        return [*by_position, *by_movements, *by_equipment]

    def known_steps(self) -> Iterator[tuple[Step, Stretch]]:
        """Each step with its stretch (steps naming no stretch are skipped)."""
        for step in self.routine.steps:
            st = self.kb.stretches.get(step.stretch_id)
            if st is not None:
                yield step, st


_Check = Callable[[_Case], Iterator[Violation]]


def _v(rule: str, message: str, stretch_id: str | None = None) -> Violation:
    return Violation(rule=rule, message=message, stretch_id=stretch_id)


def _check_profile(c: _Case) -> Iterator[Violation]:
    if c.routine.profile != c.profile:
        yield _v("profile", "the routine was made for another profile")
    if c.routine.context != c.profile.context:
        yield _v("profile", f"routine context {c.routine.context!r} is not {c.profile.context!r}")


def _check_status(c: _Case) -> Iterator[Violation]:
    r = c.routine
    wanted = "referred" if c.profile.red_flags else "ok" if r.steps else "nothing_fits"
    if r.status != wanted:
        yield _v("status", f"status {r.status} should be {wanted}")


def _check_referral(c: _Case) -> Iterator[Violation]:
    referral, flags, kb = c.routine.referral, c.profile.red_flags, c.kb
    if not flags:
        if referral is not None:
            yield _v("red_flag_stop", "a referral without any red flag")
        return
    if c.routine.steps:
        yield _v("red_flag_stop", "red flags reported, yet the routine has steps")
    if referral is None:
        yield _v("red_flag_stop", "red flags reported, yet no referral")
        return
    want = expected_referral(kb, c.rules, flags)
    tier = kb.urgencies.get(referral.urgency)
    if tier is None or tier.rank != want.top_rank:
        yield _v("referral_urgency", f"urgency {referral.urgency} is not the highest reported")
    if (referral.red_flags, referral.flag_names) != (want.red_flags, want.flag_names):
        yield _v(
            "referral_flags",
            f"names {list(referral.red_flags)}, not {list(want.red_flags)} most urgent first",
        )
    if referral.action != want.action:
        yield _v("referral_words", f"action {referral.action!r} is not {want.action!r}")
    if referral.message != want.message:
        yield _v("referral_words", f"message {referral.message!r} is not {want.message!r}")


def _check_routine_words(c: _Case) -> Iterator[Violation]:
    if c.routine.cautions != c.rules.stop_rules:
        yield _v("stop_rules", "the general stop rules are missing, changed or out of order")
    if c.routine.notice != NOTICE:
        yield _v("notice", "the notice is missing or changed")
    if c.routine.provenance != expected_provenance(c.kb):
        yield _v("provenance", "the provenance does not name this knowledge and version")
    referral = c.routine.referral
    if referral is not None and not _known_sources(c.kb, referral.sources):
        yield _v("explained", "the referral cites no source, or an unknown one")


def _known_sources(kb: KnowledgeBase, cites: tuple[str, ...]) -> bool:
    return bool(cites) and all(cite.partition("#")[0] in kb.sources for cite in cites)


def _check_ids(c: _Case) -> Iterator[Violation]:
    """Every step and exclusion names a known, offered stretch, exactly once in all."""
    seen: set[str] = set()
    items = [*(s.stretch_id for s in c.routine.steps), *(e.stretch_id for e in c.routine.excluded)]
    for sid in items:
        if sid not in c.kb.stretches:
            yield _v("known_stretch", f"{sid!r} is not a stretch of the knowledge", sid)
        elif sid not in c.offered:
            yield _v("context", f"{sid} is not offered by {c.profile.context}", sid)
        if sid in seen:
            yield _v("accounted", f"{sid} is given twice", sid)
        seen.add(sid)
    for sid in sorted(set(c.offered) - seen):
        yield _v("accounted", f"{sid} is neither a step nor excluded", sid)


def _check_steps(c: _Case) -> Iterator[Violation]:
    kb, profile = c.kb, c.profile
    for step, st in c.known_steps():
        sid = st.id
        if step.name != st.name:
            yield _v("step_name", f"{sid} is called {st.name!r}, not {step.name!r}", sid)
        position = kb.positions.get(step.position)
        if step.position != st.position or position is None or step.position_name != position.name:
            yield _v("position", f"{sid} is done {st.position}, not as the step says", sid)
        if step.movements != st.movements or step.targets != st.targets:
            yield _v("movements", f"{sid}'s movements or targets are not its stretch's", sid)
        can, option = usable_option(st, profile.equipment)
        if can:  # (if not, the step is reported as ruled out)
            uses = None if option is None else option.uses
            name = None if uses is None else kb.equipment[uses].name
            if (step.equipment, step.equipment_name) != (uses, name):
                yield _v("equipment", f"{sid} should use {uses or 'no equipment'}", sid)
            if step.instructions != expected_instructions(st, option):
                yield _v("instructions", f"{sid}'s instructions are not the knowledge's", sid)
        kinds = kb.movement_kinds_of(st.movements)
        if step.cautions != expected_cautions(c.rules, st, kinds, profile.aggravated):
            yield _v("cautions", f"{sid}'s cautions are missing, changed or added", sid)
        hold, sets, motion = expected_dose(st, profile.aggravated)
        if (step.hold_seconds, step.sets, step.range_of_motion, step.per_side) != (
            hold,
            sets,
            motion,
            st.dosage.per_side,
        ):
            yield _v(
                "dose",
                f"{sid} should be {hold} s x {sets}, {motion} range, "
                f"{'each side' if st.dosage.per_side else 'once'}",
                sid,
            )
        if step.seconds != expected_seconds(step.hold_seconds, step.sets, step.per_side):
            yield _v("seconds", f"{sid} lasts {step.seconds} s, not its holds and set-up", sid)
        if sid in c.offered and step.phase != c.offered[sid]:
            yield _v("phase", f"{sid} is {c.offered[sid]} in this context, not {step.phase}", sid)
        yield from _check_replaces(c, step, st)
        if not (
            step.reasons
            and all(r.strip() for r in step.reasons)
            and _known_sources(kb, step.sources)
            and {*st.cites, *st.dosage.cites} <= set(step.sources)
        ):
            yield _v("explained", f"{sid} lacks reasons or sources, or cites unknown ones", sid)


def _check_replaces(c: _Case, step: Step, st: Stretch) -> Iterator[Violation]:
    sid, primary = st.id, st.alternative_of
    if step.replaces != primary:
        yield _v("replaces", f"{sid} stands in for {primary}, not {step.replaces}", sid)
    elif primary is not None and primary in c.kb.stretches:
        if primary in c.steps:
            yield _v("replaces", f"{sid} and the stretch it replaces are both steps", sid)
        elif not c.blockers(c.kb.stretches[primary]):
            yield _v("replaces", f"{sid} stands in for {primary}, which can be done", sid)


def _words(blocker: _Blocker) -> str:
    code, rule = blocker
    return code.value if rule is None else f"{code.value} ({rule})"


_STEP_BLOCKS = {
    ReasonCode.POSITION_AVOIDED: "avoided_position",
    ReasonCode.PREGNANCY: "pregnancy",
    ReasonCode.FORBIDDEN_COMBINATION: "forbidden_combination",
    ReasonCode.MISSING_EQUIPMENT: "equipment",
}


def _check_steps_allowed(c: _Case) -> Iterator[Violation]:
    """No step is ruled out, by its stretch's position and movements or by the step's."""
    for step, st in c.known_steps():
        blocked = set(c.blockers(st))
        if step.position != st.position or step.movements != st.movements:
            kinds = c.kb.movement_kinds_of((*st.movements, *step.movements))
            blocked.update(blocking_facts(c.rules, c.profile, c.avoided, step.position, kinds, st))
        for code, rule in sorted(blocked, key=_words):
            yield _v(_STEP_BLOCKS[code], f"{st.id} is ruled out: {_words((code, rule))}", st.id)


def _check_exclusions(c: _Case) -> Iterator[Violation]:
    found: list[Violation] = []  # one list, not a generator per exclusion: there are many
    for e in c.routine.excluded:
        st = c.kb.stretches.get(e.stretch_id)
        if st is None:
            continue
        if e.name != st.name:
            found.append(
                _v("exclusion_name", f"{st.id} is called {st.name!r}, not {e.name!r}", st.id)
            )
        for reason in e.reasons:
            if not _reason_holds(c, st, reason):
                found.append(_v("reason_true", f"{st.id}: {reason.code} is not true here", st.id))
            if reason.code in _POINTING and reason.other not in c.steps:
                found.append(
                    _v(
                        "reason_other",
                        f"{st.id}: {reason.other} is not a step of the routine",
                        st.id,
                    )
                )
        found.extend(_incomplete(c, st, e))
    return iter(found)


_POINTING = frozenset({ReasonCode.REPLACED, ReasonCode.ALTERNATIVE_NOT_NEEDED})
_FATES = frozenset({ReasonCode.REPLACED, ReasonCode.NO_ALTERNATIVE})
_CAUSES = frozenset({ReasonCode.TIME_BUDGET, ReasonCode.ALTERNATIVE_NOT_NEEDED})


def _reason_holds(c: _Case, st: Stretch, reason: Reason) -> bool:
    """Whether ``reason``, given for leaving ``st`` out, is true for this profile."""
    kb, code, other = c.kb, reason.code, reason.other
    if code in _BLOCKING and code != ReasonCode.RED_FLAG:
        return (code, reason.rule) in c.blockers(st)
    if code == ReasonCode.RED_FLAG:
        return bool(c.profile.red_flags)
    if code == ReasonCode.REPLACED:
        return other in c.alternatives.get(st.id, ())
    if code == ReasonCode.ALTERNATIVE_NOT_NEEDED:
        primary, stand_in = st.alternative_of, kb.stretches.get(other or "")
        return primary is not None and (
            other == primary or (stand_in is not None and stand_in.alternative_of == primary)
        )
    if code == ReasonCode.NO_ALTERNATIVE:
        alternatives = c.alternatives.get(st.id, ())
        return bool(alternatives) and not set(alternatives) & c.steps.keys()
    if code != ReasonCode.TIME_BUDGET:
        return False  # a code this audit does not know: teach it before the pipeline uses it
    # Adding it would overrun the budget; without a budget, the routine is at the cap.
    if c.profile.minutes is None:
        return len(c.routine.steps) >= MAX_STEPS
    hold, sets, _ = expected_dose(st, c.profile.aggravated)
    seconds = expected_seconds(hold, sets, st.dosage.per_side)
    return c.routine.total_seconds + seconds > c.profile.minutes * 60


def _incomplete(c: _Case, st: Stretch, e: Exclusion) -> list[Violation]:
    """What an exclusion fails to say: a red flag, a rule against it, or any cause."""
    codes = {r.code for r in e.reasons}
    if c.profile.red_flags:
        if ReasonCode.RED_FLAG in codes:
            return []
        return [_v("reasons_complete", f"{st.id} does not give the red flags", st.id)]
    found = []
    blockers = c.blockers(st)
    missing = set(blockers) - {(r.code, r.rule) for r in e.reasons}
    if missing:
        said = ", ".join(sorted(map(_words, missing)))
        found.append(_v("reasons_complete", f"{st.id} does not say: {said}", st.id))
    if not blockers and not codes & _CAUSES:
        found.append(_v("reasons_complete", f"{st.id} can be done, yet is left out", st.id))
    if blockers and st.id in c.alternatives and not codes & _FATES:
        found.append(_v("reasons_complete", f"{st.id} does not say what became of it", st.id))
    return found


def _check_order(c: _Case) -> Iterator[Violation]:
    steps = c.routine.steps
    rank = {phase: i for i, phase in enumerate(PHASES)}
    phases = [rank.get(s.phase, -1) for s in steps]  # (an unknown phase: the phase check)
    if phases != sorted(phases):
        yield _v("phase_order", "phases are not warm-up, targeted, cool-down")
    left: set[tuple[str, str]] = set()
    current: tuple[str, str] | None = None
    for s in steps:
        block = (s.phase, s.position)
        if block != current:
            if block in left:
                yield _v("position_blocks", f"{s.position} is split in {s.phase}", s.stretch_id)
            if current is not None:
                left.add(current)
            current = block
    index = {s.stretch_id: i for i, s in enumerate(steps)}
    for o in c.kb.orderings.values():
        if o.before in index and o.after in index and index[o.before] > index[o.after]:
            yield _v("ordering", f"{o.before} must come before {o.after} ({o.id})", o.after)


def _check_time(c: _Case) -> Iterator[Violation]:
    r, minutes = c.routine, c.profile.minutes
    total = sum(s.seconds for s in r.steps)
    if r.total_seconds != total:
        yield _v("total_seconds", f"total_seconds {r.total_seconds} is not the sum {total}")
    if minutes is not None and total > minutes * 60:
        yield _v("time_budget", f"{total} s exceeds {minutes:g} minutes")
    if minutes is None and len(r.steps) > MAX_STEPS:
        yield _v("max_steps", f"{len(r.steps)} steps, more than {MAX_STEPS}")


_ALL: tuple[_Check, ...] = (
    _check_profile,
    _check_status,
    _check_referral,
    _check_routine_words,
    _check_ids,
    _check_steps,
    _check_steps_allowed,
    _check_exclusions,
    _check_order,
    _check_time,
)
