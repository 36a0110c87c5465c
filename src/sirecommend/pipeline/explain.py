"""Explain: turn dosed picks and exclusions into the public, self-explaining Routine."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
from sirecommend.pipeline._types import Dosed
from sirecommend.pipeline._util import unique_sources

__all__ = ["PHASE_WORDS", "explain", "time_exclusions"]

PHASE_WORDS: dict[Phase, str] = {
    "warm_up": "a warm-up",
    "targeted": "a targeted stretch",
    "cool_down": "a cool-down",
}


def _short_cites(cites: Iterable[str]) -> str:
    return ", ".join(unique_sources(cites))


def build_step(kb: KnowledgeBase, profile: Profile, d: Dosed) -> Step:
    """The public :class:`Step` for one dosed pick, with its reasons and sources.

    A step depends only on the context, whether the person is aggravated, and the
    dosed pick, so each distinct one is built (and validated) once per knowledge base.
    """
    key = ("explain.step", profile.context, profile.aggravated, d)
    return kb.memo(key, lambda: _build_step(kb, profile, d))


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
    if pick.replaces is not None:
        why = " ".join(r.message for r in pick.replaced_because)
        reasons.append(f"Stands in for {kb.stretches[pick.replaces].name}: {why}")
    if c.focus_hits:
        names = ", ".join(kb.muscles[m].name.lower() for m in c.focus_hits)
        reasons.append(f"Works {names}, which you asked to focus on.")
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
            and set(rule.caution_movements) & set(st.movements)
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
        replaces=pick.replaces,
    )


def time_exclusions(
    kb: KnowledgeBase, profile: Profile, dropped: Iterable[Dosed]
) -> tuple[Exclusion, ...]:
    """Exclusions for the steps dropped to fit the time budget."""
    return tuple(
        Exclusion(
            stretch_id=d.stretch_id,
            name=kb.stretches[d.stretch_id].name,
            reasons=(
                Reason(
                    code=ReasonCode.TIME_BUDGET,
                    message=f"Left out to keep within your {profile.minutes:g}-minute budget "
                    f"(it takes about {d.seconds} s).",
                ),
            ),
        )
        for d in dropped
    )


def explain(
    kb: KnowledgeBase,
    profile: Profile,
    steps: Sequence[Dosed],
    excluded: Iterable[Exclusion],
    referral: Referral | None = None,
) -> Routine:
    """Assemble the :class:`Routine`: steps with reasons, exclusions in routine order."""
    rank = kb.plans[profile.context].rank
    built = tuple(build_step(kb, profile, d) for d in steps)
    status = "referred" if referral else ("ok" if built else "nothing_fits")
    return Routine(
        context=profile.context,
        status=status,
        steps=built,
        excluded=tuple(sorted(excluded, key=lambda e: rank[e.stretch_id])),
        referral=referral,
        total_seconds=sum(s.seconds for s in built),
        cautions=tuple(r.text for r in kb.rules.values() if isinstance(r, GeneralCautionRule)),
        profile=profile,
        provenance=Provenance(version=__version__, knowledge_digest=kb.digest, packs=kb.packs),
    )
