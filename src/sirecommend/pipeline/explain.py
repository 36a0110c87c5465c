"""Explain: turn dosed picks and exclusions into the public, self-explaining Routine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sirecommend._kb import KnowledgeBase
from sirecommend._models import (
    ForbidCombinationRule,
    GeneralCautionRule,
    Phase,
    WhenAggravatedRule,
)
from sirecommend._render import count, span
from sirecommend._routine import (
    Exclusion,
    Profile,
    Provenance,
    Reason,
    ReasonCode,
    Referral,
    Routine,
    Step,
)
from sirecommend._version import __version__
from sirecommend.pipeline._types import Dosed, Verdict, VerdictKey
from sirecommend.pipeline._util import unique_sources

__all__ = ["PHASE_WORDS", "explain", "time_exclusions"]

PHASE_WORDS: dict[Phase, str] = {
    "warm_up": "a warm-up",
    "targeted": "a targeted stretch",
    "cool_down": "a cool-down",
}


def _short_cites(cites: Iterable[str]) -> str:
    return ", ".join(unique_sources(cites))


def _steps(kb: KnowledgeBase, profile: Profile) -> Callable[[Dosed], Step]:
    """``step(dosed)`` for this profile's context and aggravation, from a memo.

    A step is built in layers, each remembered: the stretch as picked (by candidate,
    stretch, equipment option and dose); as a stand-in, that plus why it stands in;
    with focus, that plus which focus muscles it works. A layer above the first is
    a copy with one reason more, never a rebuild.
    """
    context, aggravated = profile.context, profile.aggravated
    built: dict[_StepKey, Step] = kb.memo(("explain.steps", context, aggravated), dict)

    def get(key: _StepKey, d: Dosed) -> Step:
        found = built.get(key)
        if found is None:
            found = built.setdefault(key, make(key, d))
        return found

    def make(key: _StepKey, d: Dosed) -> Step:
        hits, replaced = key[3], d.pick.replaced
        if hits:
            return _with_focus(kb, get((*key[:3], (), *key[4:]), d), hits)
        if replaced is not None and key[6] is not None:
            return _standing_in(kb, get((*key[:6], None, *key[7:]), d), replaced)
        return _build_step(kb, profile, d)

    def step(d: Dosed) -> Step:
        pick = d.pick
        c = pick.candidate
        key: _StepKey = (
            c.stretch_id,
            c.phase,
            c.link_cites,
            c.focus_hits,
            pick.verdict.stretch_id,
            pick.verdict.key[2],  # the equipment option
            None if pick.replaced is None else pick.replaced.key,
            d.hold_seconds,
            d.sets,
            d.range_of_motion,
            d.seconds,
        )
        return get(key, d)

    return step


_StepKey = tuple[
    str, Phase, tuple[str, ...], tuple[str, ...], str, int, VerdictKey | None, int, int, str, int
]


def _with_focus(kb: KnowledgeBase, step: Step, hits: tuple[str, ...]) -> Step:
    """``step`` with the reason that it works the focus muscles ``hits``."""
    names = ", ".join(kb.muscles[m].name.lower() for m in hits)
    at = 1 if step.replaces is None else 2  # after the context and substitution reasons
    reasons = (
        *step.reasons[:at],
        f"Works {names}, which you asked to focus on.",
        *step.reasons[at:],
    )
    return step.model_copy(update={"reasons": reasons})


def _standing_in(kb: KnowledgeBase, step: Step, replaced: Verdict) -> Step:
    """``step`` standing in for the stretch ``replaced`` judged, and why."""
    why = " ".join(r.message for r in replaced.blocked)
    reason = f"Stands in for {kb.stretches[replaced.stretch_id].name}: {why}"
    reasons = (step.reasons[0], reason, *step.reasons[1:])  # after the context reason
    return step.model_copy(update={"reasons": reasons, "replaces": replaced.stretch_id})


def _build_step(kb: KnowledgeBase, profile: Profile, d: Dosed) -> Step:
    pick, c = d.pick, d.pick.candidate
    st = kb.stretches[pick.stretch_id]
    context = kb.contexts[profile.context]
    cites: list[str] = [*st.cites, *st.dosage.cites, *c.link_cites]
    instructions: list[str] = []
    reasons = [
        f"{context.name} -> {kb.stretches[c.stretch_id].name}: the source suits it to "
        f"{context.name.lower()} as {PHASE_WORDS[c.phase]} ({_short_cites(c.link_cites)})."
    ]
    if pick.option is not None:
        instructions.append(pick.option.how)
        cites.extend(pick.option.cites)
        used = (
            kb.equipment[pick.option.uses].name.lower() if pick.option.uses else "your hands only"
        )
        first = pick.option is st.equipment[0]
        reasons.append(
            f"Uses {used}"
            + (
                ", the source's first choice."
                if first
                else ": the earlier options need equipment you lack."
            )
        )
    for note in st.instructions:
        instructions.append(note.text)
        cites.extend(note.cites)
    cautions = []
    for note in st.cautions:
        cautions.append(note.text)
        cites.extend(note.cites)
    for rule in kb.rules.values():
        if (
            isinstance(rule, ForbidCombinationRule)
            and kb.movement_kinds_of(rule.caution_movements) & kb.movement_kinds_of(st.movements)
        ) or (isinstance(rule, WhenAggravatedRule) and profile.aggravated):
            cautions.append(rule.caution)
            cites.extend(rule.cites)
    lo, hi = st.dosage.hold_seconds
    s_lo, s_hi = st.dosage.sets
    side = "on each side" if st.dosage.per_side else "in total"
    dose_basis = "the lowest of" if profile.aggravated else "within"
    reasons.append(
        f"Dose: {d.hold_seconds} s holds, {count(d.sets, 'set')} {side}, {dose_basis} the "
        f"source's {span(lo, hi, ' s')} and {span(s_lo, s_hi)} set{'' if s_hi == 1 else 's'} "
        f"({_short_cites(st.dosage.cites)})."
    )
    if profile.aggravated:
        reasons.append("Reduced range of motion, because your symptoms are aggravated.")
    return Step(
        stretch_id=st.id,
        name=st.name,
        phase=c.phase,
        position=st.position,
        position_name=kb.positions[st.position].name,
        equipment=pick.option.uses if pick.option else None,
        equipment_name=(
            kb.equipment[pick.option.uses].name if pick.option and pick.option.uses else None
        ),
        movements=st.movements,
        targets=st.targets,
        hold_seconds=d.hold_seconds,
        sets=d.sets,
        per_side=st.dosage.per_side,
        range_of_motion=d.range_of_motion,
        instructions=tuple(instructions),
        cautions=tuple(dict.fromkeys(cautions)),
        reasons=tuple(reasons),
        sources=unique_sources(cites),
        seconds=d.seconds,
    )


def time_exclusions(
    kb: KnowledgeBase, profile: Profile, dropped: Iterable[Dosed]
) -> tuple[Exclusion, ...]:
    """Exclusions for the steps dropped to fit the time budget.

    Built on every call: budgets are any number of minutes, so remembering them would
    only grow the memo (and the garbage collector's work) for little reuse. Steps of
    the same duration share one reason.
    """
    reasons: dict[int, tuple[Reason]] = {}
    stretches = kb.stretches
    out: list[Exclusion] = []
    for d in dropped:
        reason = reasons.get(d.seconds)
        if reason is None:
            message = (
                f"Left out to keep within your {profile.minutes:g}-minute budget "
                f"(it takes about {d.seconds} s)."
            )
            reason = reasons[d.seconds] = (Reason(code=ReasonCode.TIME_BUDGET, message=message),)
        sid = d.stretch_id
        out.append(Exclusion(stretch_id=sid, name=stretches[sid].name, reasons=reason))
    return tuple(out)


def explain(
    kb: KnowledgeBase,
    profile: Profile,
    steps: Sequence[Dosed],
    excluded: Iterable[Exclusion],
    referral: Referral | None = None,
) -> Routine:
    """Assemble the :class:`Routine`: steps with reasons, exclusions in routine order."""
    rank = kb.plans[profile.context].rank
    built = tuple(map(_steps(kb, profile), steps)) if steps else ()
    status = "referred" if referral else ("ok" if built else "nothing_fits")
    return Routine(
        context=profile.context,
        status=status,
        steps=built,
        excluded=tuple(sorted(excluded, key=lambda e: rank[e.stretch_id])),
        referral=referral,
        total_seconds=sum(s.seconds for s in built),
        cautions=kb.memo("explain.cautions", lambda: _general_cautions(kb)),
        profile=profile,
        provenance=kb.memo("explain.provenance", lambda: _provenance(kb)),
    )


def _general_cautions(kb: KnowledgeBase) -> tuple[str, ...]:
    return tuple(r.text for r in kb.rules.values() if isinstance(r, GeneralCautionRule))


def _provenance(kb: KnowledgeBase) -> Provenance:
    return Provenance(
        version=__version__,
        knowledge_digest=kb.digest,
        packs=kb.packs,
        relaxations=tuple(kb.relaxations.values()),
    )
