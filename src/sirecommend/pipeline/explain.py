"""Explain: turn kept steps and what was left out into the public, self-explaining Routine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

from sirecommend._compile import ContextPlan, StretchFacts, length_phrase
from sirecommend._kb import KnowledgeBase
from sirecommend._models import RedFlagRule
from sirecommend._render import and_list, format_duration
from sirecommend._routine import (
    Exclusion,
    Profile,
    Reason,
    ReasonCode,
    Referral,
    Routine,
    Step,
)
from sirecommend.pipeline._types import Dosed, Dropped, Left

__all__ = ["explain"]

_NO_ALTERNATIVE = Reason(
    code=ReasonCode.NO_ALTERNATIVE, message="None of its alternatives can be done either."
)


def explain(
    kb: KnowledgeBase,
    profile: Profile,
    kept: Sequence[Dosed] = (),
    left: Iterable[Left] = (),
    dropped: Sequence[Dropped] = (),
    referral: Referral | None = None,
) -> Routine:
    """Assemble the :class:`~sirecommend.Routine`: steps with reasons, exclusions in order.

    A reason that points at another stretch ("Replaced by X", "Not needed: X is in the
    routine") names only a stretch that is a step of this routine: when X was itself
    dropped by :func:`~sirecommend.pipeline.fit_to_time`, the reason says so instead.
    With a ``referral``, every stretch of the context is left out for the red flags.
    """
    compiled = kb.compiled
    plan = compiled.contexts[profile.context]
    if referral is not None:
        excluded = _referral_exclusions(kb, plan, referral)
    else:
        excluded = _exclusions(profile, plan, left, dropped, compiled.muscle_names)
    steps = tuple(_step(kb, d, profile.aggravated) for d in kept)
    return Routine(
        context=profile.context,
        status="referred" if referral else ("ok" if steps else "nothing_fits"),
        steps=steps,
        excluded=excluded,
        referral=referral,
        total_seconds=sum(s.seconds for s in steps),
        cautions=(
            compiled.general_cautions
            if profile.pregnancy_trimester is None
            else compiled.pregnant_cautions
        ),
        profile=profile,
        provenance=compiled.provenance,
    )


def _step(kb: KnowledgeBase, d: Dosed, aggravated: bool) -> Step:
    pick, dose = d.pick, d.dose
    slot, hits = pick.candidate.slot, pick.candidate.focus_hits
    st, option = pick.verdict.stretch, pick.verdict.option
    reasons = [slot.reason]
    cites = [*st.cites[aggravated], *slot.link_cites]
    if pick.replaced is not None:
        why = " ".join(r.message for r in pick.replaced.blocked)
        reasons.append(f"Stands in for {pick.replaced.stretch.name}: {why}")
    if hits:
        names = ", ".join(kb.compiled.muscle_names[m].lower() for m in hits)
        reasons.append(f"Works {names}, which you asked to focus on.")
    instructions, cautions = st.instructions, st.cautions[aggravated]
    if pick.offers:  # a choice: the set-up and cautions of every stretch it offers
        instructions = (*instructions, *(v.stretch.offer for v in pick.offers))
        own = set(cautions)
        cautions = (
            *dict.fromkeys(
                c for v in pick.offers for c in v.stretch.cautions[aggravated] if c not in own
            ),
            *cautions,
        )
        for v in pick.offers:
            cites.extend(v.stretch.cites[aggravated])
        names = ", ".join(
            kb.compiled.muscle_names[m].lower() for v in pick.offers for m in v.stretch.targets
        )
        reasons.append(
            f"Offers the groups you can roll ({names}): the source says to roll the sore one."
        )
    if option is not None:
        reasons.append(option.reason)
        instructions = (option.how, *instructions)
        cites.extend(option.cites)
    reasons.extend(dose.reasons)
    rank = kb.compiled.citation_rank
    # Validated, as every model a call returns (and, for a model of this many fields,
    # cheaper than model_construct).
    return Step(
        stretch_id=st.id,
        name=st.name,
        phase=slot.phase,
        position=st.position,
        position_name=st.position_name,
        equipment=None if option is None else option.uses,
        equipment_name=None if option is None else option.equipment_name,
        movements=st.movements,
        targets=st.targets,
        hold_seconds=dose.hold_seconds,
        sets=dose.sets,
        per_side=st.per_side,
        range_of_motion=dose.range_of_motion,
        instructions=instructions,
        cautions=cautions,
        reasons=tuple(reasons),
        sources=tuple(sorted(set(cites), key=rank.__getitem__)),
        seconds=dose.seconds,
        replaces=None if pick.replaced is None else pick.replaced.stretch.id,
        progression=d.movement,
    )


def _exclusions(
    profile: Profile,
    plan: ContextPlan,
    left: Iterable[Left],
    dropped: Sequence[Dropped],
    muscle_names: Mapping[str, str],
) -> tuple[Exclusion, ...]:
    """The exclusions of what substitute left out and what fit dropped, each worded
    true, in the context's routine order."""
    by_id: Mapping[str, Dropped] = {d.step.stretch_id: d for d in dropped}
    # A stand-in fit dropped for time, and the later alternative it kept instead.
    swap = {d.step.stretch_id: d.stand_in for d in dropped if d.stand_in is not None}
    fell_back = {s.id for s in swap.values()}
    rank = plan.rank
    # (rank, exclusion): sorted by the rank alone (each stretch is left out once, so
    # ranks are distinct), which is cheaper than reading each exclusion back.
    out: list[tuple[int, Exclusion]] = []
    for item in left:
        st, other = item.verdict.stretch, item.other
        if by_id and (st.id in by_id or st.id in fell_back):
            continue  # a fallback fit tried: a step, or dropped (its own exclusion)
        if other is not None and other.id in swap:
            other = swap[other.id]  # the stand-in fit kept in its place
        reasons = list(item.verdict.blocked)
        if item.why == "no_alternative":
            reasons.append(_NO_ALTERNATIVE)
        elif item.why in _ROLL_ONE:
            reasons.append(_roll_one(profile, plan, item, by_id, muscle_names))
        elif other is not None and other.id in by_id:  # X is no step: say what happened
            reasons.append(_with_dropped(profile, plan, item, other, by_id[other.id]))
        elif other is not None and item.why == "replaced":
            reasons.append(
                Reason(
                    code=ReasonCode.REPLACED, message=f"Replaced by {other.name}.", other=other.id
                )
            )
        elif other is not None:
            reasons.append(
                Reason(
                    code=ReasonCode.ALTERNATIVE_NOT_NEEDED,
                    message=f"Not needed: {other.name} is in the routine.",
                    other=other.id,
                )
            )
        out.append((rank[st.id], _exclusion(st.id, st.name, tuple(reasons))))
    # A time-budget reason is shared by every stretch it applies to (the words depend only
    # on the time a step takes: one per duration), built within this call and gone with
    # it; a length-cap exclusion was compiled with its stretch.
    timed: dict[int, Reason] = {}
    for d in dropped:
        st = d.step.pick.verdict.stretch
        if d.code is ReasonCode.ROUTINE_LENGTH:
            out.append((rank[st.id], st.capped[profile.aggravated]))
            continue
        seconds = d.step.seconds  # (the rest are dropped for time)
        if d.stand_in is not None:  # a later alternative stands in for the slot's stretch
            words = (
                f"Left out {_dropped_for(profile, plan, d.code)} (it takes about "
                f"{format_duration(seconds)}); {d.stand_in.name} stands in for "
                f"{d.step.pick.candidate.slot.stretch.name} instead."
            )
            out.append(
                (rank[st.id], _exclusion(st.id, st.name, (Reason(code=d.code, message=words),)))
            )
            continue
        reason = timed.get(seconds)
        if reason is None:
            reason = timed[seconds] = Reason(
                code=d.code,
                message=f"Left out {_dropped_for(profile, plan, d.code)} "
                f"(it takes about {format_duration(seconds)}).",
            )
        out.append((rank[st.id], _exclusion(st.id, st.name, (reason,))))
    out.sort(key=itemgetter(0))
    return tuple(e for _, e in out)


_ROLL_ONE = frozenset({"named", "offered", "choice_out", "none_offered"})


def _with_dropped(
    profile: Profile, plan: ContextPlan, item: Left, other: StretchFacts, dropped: Dropped
) -> Reason:
    """What became of ``item`` when the stretch it points at, ``other``, was dropped by
    fit: its stand-in, the primary it is an alternative to, or a fellow alternative that
    stood in (the code is the one ``other`` was dropped with)."""
    code = dropped.code
    phrase = _dropped_for(profile, plan, code)
    if item.why == "replaced":
        message = f"Its stand-in, {other.name}, was left out too, {phrase}."
    elif dropped.step.pick.replaced is None:  # other is the primary, which can be done
        message = (
            f"Not given: it is an alternative to {other.name}, which was itself left out {phrase}."
        )
    else:
        primary = dropped.step.pick.candidate.slot.stretch.name
        message = (
            f"Not given: {other.name} stood in for {primary} instead, and was itself left "
            f"out {phrase}."
        )
    return Reason(code=code, message=message)


def _roll_one(
    profile: Profile,
    plan: ContextPlan,
    item: Left,
    dropped: Mapping[str, Dropped],
    muscle_names: Mapping[str, str],
) -> Reason:
    """Why the choice rule (``choose_one``, p15) leaves a choice or a member out."""
    code, other, name = ReasonCode.ROLL_SORE_GROUP, None, None
    if item.other is not None:
        name = item.other.name
    if item.why == "named":
        said = [muscle_names[m].lower() for m in item.named]
        names = and_list(said)
        groups = "group" if len(said) == 1 else "groups"
        message = (
            f"You named {names} as the {groups} to roll, so no step asks you to choose one."
            if item.verdict.stretch.choices
            else f"Foam rolling is for the sore group; you named {names}."
        )
    elif item.why == "none_offered":
        message = "None of the groups it offers can be rolled by you (see each one)."
    elif item.why == "choice_out":
        message = f"It is offered only within {name}, which is left out."
    elif item.other is not None and item.other.id in dropped:  # the choice was dropped
        code = dropped[item.other.id].code
        message = f"Left out with {name}, {_dropped_for(profile, plan, code)}."
    else:
        other = item.other.id if item.other is not None else None
        message = f'Not a step of its own: it is one of the groups to choose from in "{name}".'
    return Reason(code=code, message=message, other=other)


def _exclusion(stretch_id: str, name: str, reasons: tuple[Reason, ...]) -> Exclusion:
    # Validated, as every model a call returns; the reasons are already Reason objects,
    # so this is cheaper than model_construct.
    return Exclusion(stretch_id=stretch_id, name=name, reasons=reasons)


def _dropped_for(profile: Profile, plan: ContextPlan, code: ReasonCode) -> str:
    if code is ReasonCode.TIME_BUDGET:
        if profile.minutes is not None:
            return f"to keep within your {profile.minutes:g}-minute budget"
        return (
            f"to keep the routine {plan.name.lower()} to about {plan.default_minutes:g} "
            "minutes, its usual length when you give no time"
        )
    return length_phrase(profile.aggravated)


def _referral_exclusions(
    kb: KnowledgeBase, plan: ContextPlan, referral: Referral
) -> tuple[Exclusion, ...]:
    """Every stretch of the context, left out because of the red flags."""
    reason = Reason(
        code=ReasonCode.RED_FLAG,
        message=f"Warning signs reported ({', '.join(referral.flag_names).lower()}): no "
        "stretching until a health professional has assessed you.",
        rule=next((r.id for r in kb.rules.values() if isinstance(r, RedFlagRule)), None),
        sources=referral.sources,
    )
    stretches = kb.compiled.stretches
    return tuple(  # plan.order is the routine order
        Exclusion(stretch_id=sid, name=stretches[sid].name, reasons=(reason,)) for sid in plan.order
    )
