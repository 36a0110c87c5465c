"""The independent safety audit of a finished routine: :func:`audit`.

Written from the knowledge tables, not from the pipeline. It reads only the routine,
the profile and ``kb.facts``: what the tables of the :class:`~sirecommend.KnowledgeBase`
(``stretches``, ``rules``, ``red_flags``, ``urgencies``, ``positions``, ``orderings``
...) say about each stretch, position, context and rule, derived from those tables alone,
once, when the knowledge is loaded (``sirecommend._facts``: fixed-size, frozen, never
filled during a call). It imports nothing from ``sirecommend.pipeline`` and reads no
graph, index, plan or cache of the pipeline. It keeps nothing between calls: every call
compares every field of every step, every reason of every exclusion, the coverage, the
order, the time and the referral afresh, so auditing a routine twice does the same work
twice and a routine changed in any way after its first audit is checked afresh.

:func:`sirecommend.recommend` runs it on every routine and raises
:class:`~sirecommend.errors.SafetyError` rather than return one that breaks a check.

Every check has a name (the ``rule`` of the Violation it reports),
listed with what it checks in ``CHECKS``. Each expectation is computed by one small
function: from the knowledge alone in ``sirecommend._facts`` (``expected_dose``,
``expected_cautions``, ``expected_instructions``, ``rule_facts``, ``offered_phases``),
for this profile below (``expected_referral``, ``*_blockers``, ``option_index``), so
that a deliberate change of the pipeline's output is a change of one function.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from types import MappingProxyType

from sirecommend._facts import (
    AGGRAVATED,
    STEP_FIELDS,
    Blocker,
    ContextFacts,
    KnowledgeFacts,
    OptionFacts,
    StretchFacts,
    expected_choice,
    expected_dose,
    expected_ladder,
    expected_seconds,
    feedback_band,
    session_holds,
)
from sirecommend._feedback import Session, check_session
from sirecommend._kb import KnowledgeBase
from sirecommend._models import AGGRAVATED_MAX_STEPS, PHASES, Phase, ProgressionModel, Stretch
from sirecommend._routine import (
    MAX_STEPS,
    NOTICE,
    Exclusion,
    Profile,
    ReasonCode,
    Routine,
    Step,
    Violation,
)
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
        "stop_rules": "the routine repeats every general caution rule that applies, in rule "
        "order: those for pregnancy only when a trimester is given",
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
        "dose": "a step's hold, sets, range of motion and sides follow the dose rules: the "
        "context's level (Context.dose), or the lowest at reduced range when aggravated",
        "seconds": "a step lasts hold x sets x sides + set-up",
        "phase": "a step's phase is its context link's (or its stretch's own)",
        "replaces": "only an alternative stands in, for its primary, which cannot be done",
        "explained": "steps give reasons and sources, the referral sources, all known",
        "avoided_position": "no step is done in a position the person avoids",
        "pregnancy": "no step is in a position a pregnancy rule rules out",
        "forbidden_combination": "no step involves every movement a forbid rule names",
        "sore_group": "a choice (roll the sore group, p15) is the only step of its stretches "
        "unless the focus names one; then exactly the named ones are steps, not the choice",
        "choice_offers": "a choice step offers exactly the stretches this person may do",
        "exclusion_name": "an exclusion carries its stretch's name",
        "reason_true": "every reason an exclusion gives is true for this profile",
        "reason_other": "a replaced or not-needed reason points at a step of the routine",
        "reasons_complete": "an exclusion gives every rule against it, and a cause",
        "lead_first": "steps of the context's lead movements (rolling in the warm-up) open "
        "the routine",
        "phase_order": "phases run warm-up, targeted, cool-down (from lying to standing: "
        "inside each position block)",
        "position_blocks": "within a phase each position is one block (from lying to "
        "standing: over the whole routine)",
        "ordering": "the knowledge's ordering constraints hold between steps",
        "lying_to_standing": "where the context says so, the routine runs from lying up to "
        "standing and never goes back toward lying",
        "total_seconds": "total_seconds is the sum of the steps' seconds",
        "time_budget": "the routine fits the person's time budget, or without one the "
        "context's default",
        "max_steps": f"at most MAX_STEPS ({MAX_STEPS}) steps, with or without a time budget",
        "aggravated_steps": f"at most {AGGRAVATED_MAX_STEPS} steps when symptoms are aggravated",
        "progression_given": "steps say how feedback moved them exactly when a history is given",
        "progression_ladder": "with a history, every dose is a rung of its stretch's ladder "
        "no harder than the context's gentle level (the lowest, at reduced range, when "
        "aggravated), and lasts its holds and set-up",
        "progression_paused": "no step for a stretch the history pauses (reds_to_pause reds)",
        "progression_up": "a dose goes up only after greens_to_step_up green sessions of it "
        "in a row, and never when the latest session holds",
    }
)

#: Checks made but not reported by :func:`audit` while the pipeline does not meet them
#: yet (a way to land a check before the pipeline does). Empty: every check reports.
PENDING: frozenset[str] = frozenset()


def audit(
    routine: Routine,
    profile: Profile,
    knowledge: KnowledgeBase,
    *,
    history: Iterable[Session] | None = None,
) -> list[Violation]:
    """Every check (``CHECKS``) the routine fails for this profile; empty when it is safe.

    Parameters
    ----------
    routine : Routine
        The routine to check, as :func:`sirecommend.recommend` returned it or changed.
    profile : Profile
        Who it is for.
    knowledge : KnowledgeBase
        The knowledge it was made from.
    history : iterable of Session, optional
        The logged sessions it was made from (``recommend(..., history=...)``). Their
        red flags count as reported; the ``progression_*`` checks read them.

    Returns
    -------
    list of Violation
        One per broken check and item, in a fixed order; ``Violation.rule`` names the
        check.

    Raises
    ------
    InvalidArgumentError
        An argument is not a Routine, a Profile or a KnowledgeBase, the history
        holds something that is not a Session, or a history is given for knowledge
        without a progression model.
    UnknownIdError
        The profile or a session names an id the knowledge does not define.

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
    logged = None if history is None else _sessions(history, knowledge)
    if logged:
        flags = frozenset(f for s in logged for f in s.red_flags) - profile.red_flags
        if flags:  # reported in a session: as if reported with the profile
            merged = profile.model_copy(update={"red_flags": profile.red_flags | flags})
            if routine.profile == profile:
                routine = routine.model_copy(update={"profile": merged})
            profile = merged
    case = _Case.of(routine, profile, knowledge, logged or None)
    return [v for check in _ALL for v in check(case) if v.rule not in PENDING]


def _sessions(history: Iterable[Session], kb: KnowledgeBase) -> tuple[Session, ...]:
    """The sessions of ``history``, oldest first, each a known :class:`Session`."""
    if isinstance(history, (str, bytes)) or not isinstance(history, Iterable):
        raise InvalidArgumentError(
            f"the history must be an iterable of Session, not {type(history).__name__}"
        )
    found = tuple(history)
    for s in found:
        if not isinstance(s, Session):
            raise InvalidArgumentError(f"the history holds a {type(s).__name__}, not a Session")
        check_session(s, kb)
    return tuple(sorted(found, key=lambda s: (s.date, s.model_dump_json())))


# --- what the knowledge says, for this profile ------------------------------------------


def blocking_facts(
    facts: KnowledgeFacts, profile: Profile, position: str, kinds: frozenset[str], st: StretchFacts
) -> list[Blocker]:
    """What rules ``st`` out for this person (red flags aside), as ``(code, rule)``.

    Pregnancy rules from their trimester on, an avoided position, forbid-combination rules
    whose kinds are all among ``kinds``, missing equipment. ``position`` and ``kinds`` (of
    the movements) are the stretch's, or a step's that claims to be it.
    """
    return [
        *position_blockers(facts, profile, position),
        *(
            (ReasonCode.FORBIDDEN_COMBINATION, rule)
            for rule, forbidden in facts.forbid_rules
            if forbidden <= kinds
        ),
        *equipment_blockers(st, profile.equipment),
    ]


def position_blockers(
    facts: KnowledgeFacts, profile: Profile, position: str
) -> tuple[Blocker, ...]:
    """Pregnancy rules from their trimester on that rule ``position`` out; avoided."""
    known = facts.positions.get(position)
    if known is None:  # (a step's position the knowledge does not know: the position check)
        return ()
    found = known.pregnancy_in[profile.pregnancy_trimester or 0]
    if not known.avoided_by.isdisjoint(profile.avoid_positions):
        found += _AVOIDED
    return found


_AVOIDED: tuple[Blocker, ...] = ((ReasonCode.POSITION_AVOIDED, None),)


def option_index(st: StretchFacts, equipment: frozenset[str]) -> int:
    """The index in ``st.options`` of the first way to do ``st`` with what the person has,
    or -1 when there is none."""
    for i, option in enumerate(st.options):
        if option.uses is None or option.uses in equipment:
            return i
    return -1


def equipment_blockers(st: StretchFacts, equipment: frozenset[str]) -> tuple[Blocker, ...]:
    """Missing equipment, when every option of ``st`` needs equipment the person lacks."""
    return _MISSING if st.needs is not None and st.needs.isdisjoint(equipment) else ()


_MISSING: tuple[Blocker, ...] = ((ReasonCode.MISSING_EQUIPMENT, None),)


@dataclass(frozen=True, slots=True)
class ExpectedReferral:
    """What the referral for a set of red flags must say."""

    top_rank: int
    red_flags: tuple[str, ...]
    flag_names: tuple[str, ...]
    action: str
    message: str


def expected_referral(facts: KnowledgeFacts, flags: frozenset[str]) -> ExpectedReferral:
    """The referral for ``flags`` (not empty).

    Flags most urgent first (tier rank), then by id; the action of the most urgent
    flag's tier; the message is that action, the messages of every flag at the top
    rank, then the ``red_flag_referral`` rules' messages, joined by spaces.
    """
    ordered = sorted((facts.red_flags[f] for f in flags), key=lambda f: (-f.rank, f.id))
    top = ordered[0]
    worst = [f for f in ordered if f.rank == top.rank]
    return ExpectedReferral(
        top_rank=top.rank,
        red_flags=tuple(f.id for f in ordered),
        flag_names=tuple(f.name for f in ordered),
        action=top.action,
        message=" ".join([top.action, *(f.message for f in worst), *facts.referral]),
    )


# --- one audit --------------------------------------------------------------------------

_NO_OFFER: Mapping[str, Phase] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class _Case:
    """One audit's inputs and what every check reads: the routine and profile, and the
    facts of the knowledge (derived from its tables at load, never filled here)."""

    routine: Routine
    profile: Profile
    kb: KnowledgeBase
    facts: KnowledgeFacts
    offered: Mapping[str, Phase]
    steps: Mapping[str, Step]
    #: The index of the dose every step must have (``StretchFacts.doses``): aggravated,
    #: else the context's level.
    variant: int
    context: ContextFacts | None
    progress: _History | None = None

    @classmethod
    def of(
        cls,
        routine: Routine,
        profile: Profile,
        kb: KnowledgeBase,
        history: tuple[Session, ...] | None = None,
    ) -> _Case:
        facts = kb.facts
        context = facts.contexts.get(profile.context)
        offered = _NO_OFFER if context is None else context.offered
        return cls(
            routine=routine,
            profile=profile,
            kb=kb,
            facts=facts,
            offered=offered,
            steps={s.stretch_id: s for s in routine.steps},
            variant=(AGGRAVATED if profile.aggravated else 0 if context is None else context.dose),
            context=context,
            progress=(
                None
                if history is None
                else _History.of(kb, offered, history, 0 if context is None else context.dose)
            ),
        )

    def blockers(self, st: StretchFacts) -> tuple[Blocker, ...]:
        """:func:`blocking_facts` of ``st`` as the knowledge describes it."""
        found = position_blockers(self.facts, self.profile, st.position) + st.forbidden
        if st.needs is not None and st.needs.isdisjoint(self.profile.equipment):
            found += _MISSING
        return found

    def known_steps(self) -> Iterator[tuple[Step, StretchFacts]]:
        """Each step with its stretch's facts (steps naming no stretch are skipped)."""
        stretches = self.facts.stretches
        for step in self.routine.steps:
            st = stretches.get(step.stretch_id)
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
    referral, flags = c.routine.referral, c.profile.red_flags
    if not flags:
        if referral is not None:
            yield _v("red_flag_stop", "a referral without any red flag")
        return
    if c.routine.steps:
        yield _v("red_flag_stop", "red flags reported, yet the routine has steps")
    if referral is None:
        yield _v("red_flag_stop", "red flags reported, yet no referral")
        return
    want = expected_referral(c.facts, flags)
    if c.facts.urgency_ranks.get(referral.urgency) != want.top_rank:
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
    pregnant = c.profile.pregnancy_trimester is not None
    if c.routine.cautions != c.facts.stop_rules[pregnant]:
        yield _v("stop_rules", "the general stop rules are missing, changed or out of order")
    if c.routine.notice != NOTICE:
        yield _v("notice", "the notice is missing or changed")
    if c.routine.provenance != c.facts.provenance:
        yield _v("provenance", "the provenance does not name this knowledge and version")
    referral = c.routine.referral
    if referral is not None and not _known_sources(c.facts, referral.sources):
        yield _v("explained", "the referral cites no source, or an unknown one")


def _known_sources(facts: KnowledgeFacts, cites: tuple[str, ...]) -> bool:
    sources = facts.sources
    return bool(cites) and all(cite.partition("#")[0] in sources for cite in cites)


def _check_ids(c: _Case) -> Iterator[Violation]:
    """Every step and exclusion names a known, offered stretch, exactly once in all."""
    items = [*map(_ID, c.routine.steps), *map(_ID, c.routine.excluded)]
    offered = c.offered
    seen = set(items)
    if len(seen) == len(items) and seen == offered.keys():
        return  # (each once, and exactly the stretches offered: nothing to say)
    seen.clear()
    for sid in items:
        if sid not in offered:  # (every stretch offered is a stretch of the knowledge)
            if sid not in c.facts.stretches:
                yield _v("known_stretch", f"{sid!r} is not a stretch of the knowledge", sid)
            else:
                yield _v("context", f"{sid} is not offered by {c.profile.context}", sid)
        if sid in seen:
            yield _v("accounted", f"{sid} is given twice", sid)
        seen.add(sid)
    for sid in sorted(offered.keys() - seen):
        yield _v("accounted", f"{sid} is neither a step nor excluded", sid)


_ID = attrgetter("stretch_id")
_STEP = itemgetter(*STEP_FIELDS)  # of vars(step): the fields as given


def _check_steps(c: _Case) -> Iterator[Violation]:
    """Each step as its stretch's facts say, for this person.

    First every field of :data:`~sirecommend._facts.STEP_FIELDS` at once against what the
    stretch's facts give for this person's equipment and aggravation, its phase, its
    reasons and sources; only a step that differs anywhere is gone through field by field
    to say what is wrong.
    """
    equipment, variant = c.profile.equipment, c.variant
    known_cites, offered = c.facts.cites, c.offered
    for step, st in c.known_steps():
        i = option_index(st, equipment)
        if (
            i >= 0
            and not st.choices  # (a choice step's words depend on what it offers)
            and (st.alternative_of is None or _stands_in(c, st.alternative_of))
            and (
                _STEP(vars(step)) == st.looks[variant][i]
                if c.progress is None  # (with a history: the progression checks)
                else _UNDOSED(vars(step)) == _UNDOSED_LOOK(st.looks[variant][i])
            )
            and step.phase == offered.get(st.id)
            and step.reasons
            and all(map(str.strip, step.reasons))
            and known_cites.issuperset(step.sources)
            and st.cites.issubset(step.sources)
        ):
            continue
        yield from _step_findings(c, step, st, None if i < 0 else st.options[i])


def _stands_in(c: _Case, primary: str) -> bool:
    """Whether a step may stand in for ``primary``: it is no step, and it is ruled out."""
    known = c.facts.stretches.get(primary)
    return known is None or (
        primary not in c.steps and (bool(c.blockers(known)) or _may_pause(c, primary))
    )


def _may_pause(c: _Case, sid: str) -> bool:
    """Whether the history may leave ``sid`` out (see :class:`_History`)."""
    return c.progress is not None and sid in c.progress.may_pause


def _step_findings(
    c: _Case, step: Step, st: StretchFacts, option: OptionFacts | None
) -> Iterator[Violation]:
    """What is wrong with ``step``, field by field."""
    sid, aggravated = st.id, c.profile.aggravated
    if step.name != st.name:
        yield _v("step_name", f"{sid} is called {st.name!r}, not {step.name!r}", sid)
    if step.position != st.position or step.position_name != st.position_name:
        yield _v("position", f"{sid} is done {st.position}, not as the step says", sid)
    if step.movements != st.movements or step.targets != st.targets:
        yield _v("movements", f"{sid}'s movements or targets are not its stretch's", sid)
    cautions = st.aggravated_cautions if aggravated else st.cautions
    if option is not None:  # (if not, the step is reported as ruled out)
        if step.equipment != option.uses or step.equipment_name != option.name:
            yield _v("equipment", f"{sid} should use {option.uses or 'no equipment'}", sid)
        instructions = option.instructions
        if st.choices:  # what it offers is the choice_offers check: its words must fit
            instructions, cautions = _choice_words(c, step, st, option)
        if step.instructions != instructions:
            yield _v("instructions", f"{sid}'s instructions are not the knowledge's", sid)
    if step.cautions != cautions:
        yield _v("cautions", f"{sid}'s cautions are missing, changed or added", sid)
    dose = st.doses[c.variant]
    if c.progress is None and (  # (with a history: the progression checks)
        step.hold_seconds != dose.hold_seconds
        or step.sets != dose.sets
        or step.range_of_motion != dose.range_of_motion
        or step.per_side != st.per_side
    ):
        yield _v(
            "dose",
            f"{sid} should be {dose.hold_seconds} s x {dose.sets}, {dose.range_of_motion} "
            f"range, {'each side' if st.per_side else 'once'}",
            sid,
        )
    if step.seconds != expected_seconds(step.hold_seconds, step.sets, step.per_side):
        yield _v("seconds", f"{sid} lasts {step.seconds} s, not its holds and set-up", sid)
    phase = c.offered.get(sid)
    if phase is not None and step.phase != phase:
        yield _v("phase", f"{sid} is {phase} in this context, not {step.phase}", sid)
    yield from _check_replaces(c, step, st)
    if not (
        step.reasons
        and all(r.strip() for r in step.reasons)
        and _known_sources(c.facts, step.sources)
        and st.cites.issubset(step.sources)
    ):
        yield _v("explained", f"{sid} lacks reasons or sources, or cites unknown ones", sid)


def _offered_in(c: _Case, step: Step, st: StretchFacts) -> tuple[StretchFacts, ...]:
    """The stretches choice step ``step`` (of ``st``) offers: those whose line it gives."""
    given = set(step.instructions)
    stretches = c.facts.stretches
    return tuple(stretches[m] for m in st.choices if m in stretches and stretches[m].offer in given)


def _choice_words(
    c: _Case, step: Step, st: StretchFacts, option: OptionFacts
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The instructions and cautions of choice step ``step`` for what it offers."""
    aggravated = c.profile.aggravated
    own = st.aggravated_cautions if aggravated else st.cautions
    offered = tuple(
        (m.offer, m.aggravated_cautions if aggravated else m.cautions)
        for m in _offered_in(c, step, st)
    )
    return expected_choice(option.instructions, own, offered)


def _members(c: _Case, st: StretchFacts) -> tuple[StretchFacts, ...]:
    """The stretches choice ``st`` offers that this context offers."""
    stretches = c.facts.stretches
    return tuple(stretches[m] for m in st.choices if m in c.offered and m in stretches)


def _named(c: _Case, st: StretchFacts) -> frozenset[str]:
    """The muscles the focus names among those the members of choice ``st`` work."""
    return c.profile.focus & frozenset(t for m in _members(c, st) for t in m.targets)


def _check_sore_group(c: _Case) -> Iterator[Violation]:
    """Each choice (``choose_one``, p15) and its members, as the focus says; what a
    choice step offers: every member this person may do, and no other."""
    stretches = c.facts.stretches
    for sid in c.offered:
        st = stretches.get(sid)
        if st is None or not st.choices:
            continue
        members = _members(c, st)
        named = _named(c, st)
        if named and sid in c.steps:
            yield _v("sore_group", f"the focus names a group to roll, yet {sid} is a step", sid)
        for m in members:
            if m.id in c.steps and not (named and named & set(m.targets)):
                yield _v("sore_group", f"{m.id} is a step, yet the focus does not name it", m.id)
        step = c.steps.get(sid)
        if step is None:
            continue
        offered = {m.id for m in _offered_in(c, step, st)}
        allowed = {m.id for m in members if not c.blockers(m)}
        owed = {m for m in allowed if not _may_pause(c, m)}  # (a history may rest one)
        for mid in sorted(offered - allowed):
            yield _v("choice_offers", f"{sid} offers {mid}, which this person may not do", sid)
        for mid in sorted(owed - offered):
            yield _v("choice_offers", f"{sid} does not offer {mid}, which this person may do", sid)


def _check_replaces(c: _Case, step: Step, st: StretchFacts) -> Iterator[Violation]:
    sid, primary = st.id, st.alternative_of
    if step.replaces != primary:
        yield _v("replaces", f"{sid} stands in for {primary}, not {step.replaces}", sid)
    elif primary is not None and primary in c.facts.stretches:
        if primary in c.steps:
            yield _v("replaces", f"{sid} and the stretch it replaces are both steps", sid)
        elif not c.blockers(c.facts.stretches[primary]) and not _may_pause(c, primary):
            yield _v("replaces", f"{sid} stands in for {primary}, which can be done", sid)


def _words(blocker: Blocker) -> str:
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
        as_stretch = step.position == st.position and step.movements == st.movements
        ruled_out = c.blockers(st)
        if as_stretch and not ruled_out:
            continue
        blocked = set(ruled_out)
        if not as_stretch:
            kinds = st.kinds | c.kb.movement_kinds_of(step.movements)
            blocked.update(blocking_facts(c.facts, c.profile, step.position, kinds, st))
        for code, rule in sorted(blocked, key=_words):
            yield _v(_STEP_BLOCKS[code], f"{st.id} is ruled out: {_words((code, rule))}", st.id)


# The codes, read once: reading an enum member off its class is slow, and this is a loop.
_TIME, _RED_FLAG = ReasonCode.TIME_BUDGET, ReasonCode.RED_FLAG
_LENGTH = ReasonCode.ROUTINE_LENGTH
_REPLACED, _NO_ALTERNATIVE = ReasonCode.REPLACED, ReasonCode.NO_ALTERNATIVE
_NOT_NEEDED = ReasonCode.ALTERNATIVE_NOT_NEEDED
_PAUSED = ReasonCode.PROGRESSION_PAUSED
_ROLL = ReasonCode.ROLL_SORE_GROUP
_POINTING = frozenset({ReasonCode.REPLACED, ReasonCode.ALTERNATIVE_NOT_NEEDED})
_FATES = frozenset({ReasonCode.REPLACED, ReasonCode.NO_ALTERNATIVE})
_CAUSES = frozenset({ReasonCode.TIME_BUDGET, ReasonCode.ALTERNATIVE_NOT_NEEDED})
_RULED_OUT = frozenset(
    {
        ReasonCode.MISSING_EQUIPMENT,
        ReasonCode.POSITION_AVOIDED,
        ReasonCode.PREGNANCY,
        ReasonCode.FORBIDDEN_COMBINATION,
    }
)


def _check_exclusions(c: _Case) -> Iterator[Violation]:
    """Each exclusion: its name, every reason true, the pointers, nothing left unsaid.

    One loop, written out: large knowledge has thousands of exclusions per routine. The
    commonest exclusions (one reason: the time budget for a stretch nothing rules out, the
    rule that rules it out, the red flags) are settled by a few comparisons; any other is
    gone through reason by reason.
    """
    found: list[Violation] = []
    stretches, flagged = c.facts.stretches, bool(c.profile.red_flags)
    over = _TimeBudget(c)
    time_budget, red_flag, not_needed, steps = _TIME, _RED_FLAG, _NOT_NEEDED, c.steps
    routine_length = _LENGTH
    positions, equipment = c.facts.positions, c.profile.equipment
    trimester, avoid = c.profile.pregnancy_trimester or 0, c.profile.avoid_positions
    total, budget, variant, at_cap = over.total, over.budget, over.variant, over.at_cap
    for e in c.routine.excluded:
        fields = vars(e)  # (the fields as given: read like this, fastest)
        st = stretches.get(fields["stretch_id"])
        if st is None:
            continue
        position = positions[st.position]  # (position_blockers, written out)
        blockers = position.pregnancy_in[trimester]
        if not position.avoided_by.isdisjoint(avoid):
            blockers += _AVOIDED
        if st.forbidden:
            blockers += st.forbidden
        if st.needs is not None and st.needs.isdisjoint(equipment):
            blockers += _MISSING
        reasons = fields["reasons"]
        if len(reasons) == 1 and fields["name"] == st.name:
            reason = vars(reasons[0])
            code = reason["code"]
            if flagged:
                if code is red_flag:
                    continue
            elif blockers:
                if (
                    len(blockers) == 1
                    and not st.alternatives
                    and blockers[0] == (code, reason["rule"])
                ):
                    continue
            elif code is time_budget:
                if budget is not None and total + st.seconds[variant] > budget:
                    continue
            elif code is routine_length and at_cap:
                continue
            elif code is not_needed:
                other = reason["other"]
                if other is not None and other == st.alternative_of and other in steps:
                    continue
        found.extend(_exclusion_findings(c, st, e, blockers, over))
    return iter(found)


def _exclusion_findings(
    c: _Case, st: StretchFacts, e: Exclusion, blockers: tuple[Blocker, ...], over: _TimeBudget
) -> list[Violation]:
    """What is wrong with exclusion ``e`` of ``st``, reason by reason."""
    found: list[Violation] = []
    stretches, steps, flagged = c.facts.stretches, c.steps, bool(c.profile.red_flags)
    if e.name != st.name:
        found.append(_v("exclusion_name", f"{st.id} is called {st.name!r}, not {e.name!r}", st.id))
    said: list[Blocker] = []
    red_flag = fate = cause = False
    for reason in e.reasons:
        code, other = reason.code, reason.other
        if code in (_TIME, _LENGTH):
            # Dropped for time or for the length cap: this stretch, or the stretch it
            # points at that was dropped in its place (its stand-in, or the primary it was
            # not needed beside), so its fate too when it is ruled out.
            cause = True
            fate = fate or bool(blockers)
            related = [
                stretches[r]
                for r in (*st.alternatives, st.alternative_of, st.choice_of)
                if r is not None and r not in steps and r in stretches
            ]
            holds = over.at_cap if code == _LENGTH else any(map(over, [st, *related]))
        elif code in _RULED_OUT:
            said.append((code, reason.rule))
            holds = said[-1] in blockers
        elif code == _REPLACED:
            holds = other in st.alternatives
            fate = True
        elif code == _NOT_NEEDED:
            cause = True
            stand_in = stretches.get(other or "")
            holds = st.alternative_of is not None and (
                other == st.alternative_of
                or (stand_in is not None and stand_in.alternative_of == st.alternative_of)
            )
        elif code == _NO_ALTERNATIVE:
            fate = True
            holds = bool(st.alternatives) and steps.keys().isdisjoint(st.alternatives)
        elif code == _RED_FLAG:
            red_flag = True
            holds = flagged
        elif code == _PAUSED:
            cause = True
            holds = _may_pause(c, st.id)
        elif code == _ROLL:
            cause = True
            holds = _roll_holds(c, st, other)
            if other is not None and other not in steps:
                found.append(
                    _v("reason_other", f"{st.id}: {other} is not a step of the routine", st.id)
                )
        else:
            holds = False  # a code this audit does not know: teach it first
        if not holds:
            found.append(_v("reason_true", f"{st.id}: {code} is not true here", st.id))
        if code in _POINTING and other not in steps:
            found.append(
                _v("reason_other", f"{st.id}: {other} is not a step of the routine", st.id)
            )
    if flagged:
        if not red_flag:
            found.append(_v("reasons_complete", f"{st.id} does not give the red flags", st.id))
        return found
    missing = [b for b in blockers if b not in said]
    if missing:
        words = ", ".join(sorted(map(_words, missing)))
        found.append(_v("reasons_complete", f"{st.id} does not say: {words}", st.id))
    if not blockers and not cause:
        found.append(_v("reasons_complete", f"{st.id} can be done, yet is left out", st.id))
    if blockers and st.alternatives and not fate:
        found.append(_v("reasons_complete", f"{st.id} does not say what became of it", st.id))
    return found


def _roll_holds(c: _Case, st: StretchFacts, other: str | None) -> bool:
    """Whether a ``roll_sore_group`` reason (pointing at ``other``) is true of ``st``.

    A choice: the focus names one of its groups, or it points at nothing and none of its
    members can be done. A member: with such a focus, it is not named and points at
    nothing; without, it points at its choice, a step, or at nothing and the choice is
    no step.
    """
    stretches = c.facts.stretches
    if st.choices:
        return other is None and (
            bool(_named(c, st)) or all(c.blockers(m) for m in _members(c, st))
        )
    choice = stretches.get(st.choice_of or "")
    if choice is None:
        return False
    named = _named(c, choice)
    if named:
        return other is None and named.isdisjoint(st.targets)
    return other == choice.id if other is not None else choice.id not in c.steps


class _TimeBudget:
    """Whether adding a stretch would overrun the budget; without a budget, whether the
    routine is at the cap."""

    __slots__ = ("at_cap", "budget", "most", "total", "variant")

    def __init__(self, c: _Case) -> None:
        minutes = _budget_minutes(c)
        self.at_cap = len(c.routine.steps) >= _max_steps(c)
        self.budget = None if minutes is None else minutes * 60
        self.total = c.routine.total_seconds
        self.variant = c.variant
        # With a history, a stretch's dose is a rung of its ladder: at most its top rung.
        # (Only the stretches the context offers have a ladder; any other, which the
        # context check reports, is judged at its dose without a history.)
        self.most = None if c.progress is None or c.profile.aggravated else c.progress.most

    def __call__(self, st: StretchFacts) -> bool:
        budget = self.budget
        most = None if self.most is None else self.most.get(st.id)
        seconds = st.seconds[self.variant] if most is None else most
        return budget is not None and self.total + seconds > budget


def _check_order(c: _Case) -> Iterator[Violation]:
    """The routine's order: the lead steps first, then phases and position blocks as the
    context runs them (``alternate``: phases in turn, each position one block in its
    phase; ``lying_to_standing``: each position one block over the whole routine, from
    lying up to standing, phases in turn inside it), then the ordering constraints."""
    steps, context = c.routine.steps, c.context
    upward = context is not None and context.lying_to_standing
    lead = frozenset() if context is None else context.lead
    stretches = c.facts.stretches
    leads = [
        bool(lead)
        and (st := stretches.get(s.stretch_id)) is not None
        and not lead.isdisjoint(st.kinds)
        for s in steps
    ]
    for i, s in enumerate(steps):
        if leads[i] and not all(leads[:i]):
            yield _v("lead_first", f"{s.stretch_id} should open the routine", s.stretch_id)
    rank = _PHASE_RANK
    last: dict[tuple[bool, str | None], int] = {}
    for s, first in zip(steps, leads, strict=True):
        segment = (first, s.position if upward else None)
        phase = rank.get(s.phase, -1)  # (an unknown phase: the phase check)
        if phase < last.get(segment, -1):
            where = f" in the {s.position} block" if upward else ""
            yield _v("phase_order", f"phases are not warm-up, targeted, cool-down{where}")
        last[segment] = phase
    left: set[tuple[bool, str | None, str]] = set()
    current: tuple[bool, str | None, str] | None = None
    for s, first in zip(steps, leads, strict=True):
        block = (first, None if upward else s.phase, s.position)
        if block != current:
            if block in left:
                where = "the routine" if upward else s.phase
                yield _v("position_blocks", f"{s.position} is split in {where}", s.stretch_id)
            if current is not None:
                left.add(current)
            current = block
    if upward:
        yield from _check_lying_to_standing(c, steps, leads)
    index = {s.stretch_id: i for i, s in enumerate(steps)}
    broken: list[tuple[int, Violation]] = []
    for sid, i in index.items():
        st = stretches.get(sid)
        for k, ordering, before in () if st is None else st.orderings:
            j = index.get(before)
            if j is not None and j > i:
                message = f"{before} must come before {sid} ({ordering})"
                broken.append((k, _v("ordering", message, sid)))
    for _, violation in sorted(broken, key=lambda found: found[0]):
        yield violation


def _check_lying_to_standing(
    c: _Case, steps: tuple[Step, ...], leads: list[bool]
) -> Iterator[Violation]:
    """No step lies lower (higher ``sequence``) than the one before, over the whole
    routine (the lead steps, and then the rest, each from lying up to standing)."""
    positions = c.facts.positions
    for (before, lead_before), (s, lead) in itertools.pairwise(zip(steps, leads, strict=True)):
        a, b = positions.get(before.position), positions.get(s.position)
        if a is None or b is None or lead_before != lead:
            continue  # (an unknown position: the ids check; the lead steps: lead_first)
        if b.sequence > a.sequence:
            message = f"{s.position} comes after {before.position}: lying first, up to standing"
            yield _v("lying_to_standing", message, s.stretch_id)


_PHASE_RANK = MappingProxyType({phase: i for i, phase in enumerate(PHASES)})


def _budget_minutes(c: _Case) -> float | None:
    """The person's time budget, else the context's default (None: no limit)."""
    if c.profile.minutes is not None:
        return c.profile.minutes
    context = c.facts.contexts.get(c.profile.context)
    return None if context is None else context.default_minutes


def _max_steps(c: _Case) -> int:
    return AGGRAVATED_MAX_STEPS if c.profile.aggravated else MAX_STEPS


def _check_time(c: _Case) -> Iterator[Violation]:
    r, minutes = c.routine, _budget_minutes(c)
    total = sum(s.seconds for s in r.steps)
    if r.total_seconds != total:
        yield _v("total_seconds", f"total_seconds {r.total_seconds} is not the sum {total}")
    if minutes is not None and total > minutes * 60:
        yield _v("time_budget", f"{total} s exceeds {minutes:g} minutes")
    if len(r.steps) > MAX_STEPS:
        yield _v("max_steps", f"{len(r.steps)} steps, more than {MAX_STEPS}")
    if c.profile.aggravated and len(r.steps) > AGGRAVATED_MAX_STEPS:
        yield _v(
            "aggravated_steps",
            f"{len(r.steps)} steps while aggravated, more than {AGGRAVATED_MAX_STEPS}",
        )


# --- the progression rules (issue 13): only with a history ------------------------------

#: The fields of :data:`STEP_FIELDS` that a history does not change (not the dose).
_DOSE_FIELDS = ("hold_seconds", "sets", "range_of_motion", "seconds")
_UNDOSED = itemgetter(*(f for f in STEP_FIELDS if f not in _DOSE_FIELDS))
_UNDOSED_LOOK = itemgetter(*(i for i, f in enumerate(STEP_FIELDS) if f not in _DOSE_FIELDS))


@dataclass(frozen=True, slots=True)
class _History:
    """What the audit reads of a history, derived per call from the sessions and the
    knowledge's tables (``stretches``' dosage, the ``progression`` model), never from
    :mod:`sirecommend.progression`.

    ``ladders``: per stretch offered, every dose it may be given: the rungs of its ladder
    no harder than the context's gentle level (any rung at the usual level); ``most``: the seconds
    of its top rung; ``bands``: per stretch, its feedback oldest first as ``(band, the
    session holds)``; ``paused``: the stretches with ``reds_to_pause`` reds;
    ``may_pause``: those, and those red in the latest session (resting, when on the
    lowest rung); ``holds``: the latest session holds. (A red flag in any session counts
    as reported with the profile: :func:`audit` merges them, so the referral checks
    demand the referral.)
    """

    greens: int
    ladders: Mapping[str, tuple[tuple[int, int, str], ...]]
    most: Mapping[str, int]
    bands: Mapping[str, tuple[tuple[int, bool], ...]]
    paused: frozenset[str]
    may_pause: frozenset[str]
    holds: bool

    @classmethod
    def of(
        cls,
        kb: KnowledgeBase,
        offered: Mapping[str, Phase],
        sessions: tuple[Session, ...],
        level: int = 0,
    ) -> _History:
        model = next(iter(kb.progression.values()), None)
        if model is None:
            raise InvalidArgumentError("a history was given, but this knowledge has no progression")
        ladders = {sid: _capped(kb.stretches[sid], model, level) for sid in offered}
        per_side = {sid: kb.stretches[sid].dosage.per_side for sid in offered}
        bands: dict[str, list[tuple[int, bool]]] = {}
        for session in sessions:
            holds = session_holds(session, model)
            for f in session.feedback:
                bands.setdefault(f.stretch_id, []).append((feedback_band(f, model), holds))
        latest = sessions[-1]
        red_now = {f.stretch_id for f in latest.feedback if feedback_band(f, model) == 2}
        paused = {
            sid
            for sid, found in bands.items()
            if sum(b == 2 for b, _ in found) >= model.reds_to_pause
        }
        return cls(
            greens=model.greens_to_step_up,
            ladders=ladders,
            most={
                sid: max(expected_seconds(h, n, per_side[sid]) for h, n, _ in rungs)
                for sid, rungs in ladders.items()
            },
            bands={sid: tuple(found) for sid, found in bands.items()},
            paused=frozenset(paused),
            may_pause=frozenset(paused | red_now),
            holds=session_holds(latest, model),
        )


def _capped(st: Stretch, model: ProgressionModel, level: int) -> tuple[tuple[int, int, str], ...]:
    """The rungs of ``st``'s ladder a context at dose ``level`` (:data:`DOSE_LEVELS`)
    may give: all at the usual level at full range, else those no harder than its level
    (no longer hold, no more sets, no full range where it is reduced)."""
    rungs = expected_ladder(st, model)
    if level == 0:
        return rungs
    hold, sets, motion = expected_dose(st, False, level)
    return tuple(
        (h, n, r)
        for h, n, r in rungs
        if h <= hold and n <= sets and (r == "reduced" or motion == "full")
    )


def _check_progression(c: _Case) -> Iterator[Violation]:
    h, aggravated = c.progress, c.profile.aggravated
    if h is None:
        for step in c.routine.steps:
            if step.progression is not None:
                yield _v(
                    "progression_given",
                    f"{step.stretch_id} moved, with no history",
                    step.stretch_id,
                )
        return
    for step in c.routine.steps:
        sid = step.stretch_id
        if step.progression is None:
            yield _v("progression_given", f"{sid} does not say how the history moved it", sid)
        if sid in h.paused:
            yield _v("progression_paused", f"{sid} is paused by the history, yet a step", sid)
        rungs = h.ladders.get(sid)
        if rungs is None:  # (not offered: the context check)
            continue
        dose = (step.hold_seconds, step.sets, step.range_of_motion)
        if dose not in (rungs[:1] if aggravated else rungs):
            where = "the lowest rung of its ladder" if aggravated else "on its ladder"
            yield _v("progression_ladder", f"{sid}'s dose {dose} is not {where}", sid)
        if step.seconds != expected_seconds(step.hold_seconds, step.sets, step.per_side):
            yield _v(
                "progression_ladder", f"{sid} lasts {step.seconds} s, not its holds and set-up", sid
            )
        if step.progression == "up":
            last = h.bands.get(sid, ())[-h.greens :]
            if h.holds or len(last) < h.greens or any(b or held for b, held in last):
                yield _v(
                    "progression_up",
                    f"{sid} goes up without {h.greens} greens in a row, or after a hold",
                    sid,
                )


_ALL: tuple[_Check, ...] = (
    _check_profile,
    _check_status,
    _check_referral,
    _check_routine_words,
    _check_ids,
    _check_steps,
    _check_steps_allowed,
    _check_sore_group,
    _check_exclusions,
    _check_order,
    _check_time,
    _check_progression,
)
