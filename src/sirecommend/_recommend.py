"""recommend(): validate the profile's ids, then chain the pipeline stages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sirecommend._feedback import Session, check_session
from sirecommend._kb import KnowledgeBase
from sirecommend._loader import load_knowledge
from sirecommend._routine import Profile, Reason, ReasonCode, Routine
from sirecommend.errors import InvalidArgumentError, SafetyError, UnknownIdError
from sirecommend.pipeline import (
    dose,
    explain,
    filter_candidates,
    fit,
    order_steps,
    select,
    substitute,
    triage,
)
from sirecommend.pipeline._types import History
from sirecommend.progression import progress, sorted_sessions
from sirecommend.safety import audit

__all__ = ["check_profile", "recommend"]


def check_profile(profile: Profile, kb: KnowledgeBase) -> None:
    """Raise :class:`UnknownIdError` for the first id the knowledge does not define.

    >>> from sirecommend import load_knowledge
    >>> check_profile(Profile(context="after_sitting", focus={"hamstring"}), load_knowledge())
    Traceback (most recent call last):
    ...
    sirecommend.errors.UnknownIdError: unknown muscle 'hamstring' in focus; did you mean \
'hamstrings'? (valid muscle ids: adductors, glutes, hamstrings, hip_flexors, lateral_trunk, \
piriformis, trunk)
    """
    ids = kb.compiled.valid_ids
    checks: tuple[tuple[str, str, frozenset[str]], ...] = (
        ("context", "context", frozenset([profile.context])),
        ("equipment", "equipment", profile.equipment),
        ("position", "avoid_positions", profile.avoid_positions),
        ("red flag", "red_flags", profile.red_flags),
        ("muscle", "focus", profile.focus),
    )
    for kind, field, values in checks:
        valid = ids[field]
        if not values <= valid:
            value = min(values - valid)
            raise UnknownIdError(kind, value, valid, where="" if field == kind else field)


def recommend(
    profile: Profile | Mapping[str, Any] | None = None,
    /,
    *,
    knowledge: KnowledgeBase | None = None,
    history: Iterable[Session] | None = None,
    **fields: Any,
) -> Routine:
    """A safe, ordered, dosed and explained routine for a person.

    Call it with a :class:`Profile` (or a mapping of its fields), or with the
    profile's fields as keywords -- not both.

    Parameters
    ----------
    profile : Profile or mapping, optional
        Who the routine is for.
    knowledge : KnowledgeBase, optional
        The knowledge to use (default: the shipped knowledge, ``load_knowledge()``).
    history : iterable of Session, optional
        Logged sessions (any order: they are dated), e.g. ``Journal(path).sessions()``.
        Each step is then dosed from its rung on the dose ladder (``Step.progression``
        says how feedback moved it, with a reason citing the rule); a stretch the rules
        pause is left out (``progression_paused``) and its alternative may stand in; a
        red flag in any session gives the referral. Without history (or an empty one)
        nothing changes and ``Step.progression`` is ``None``. See
        :mod:`sirecommend.progression`.
    **fields
        ``context`` (required), ``aggravated``, ``equipment``, ``avoid_positions``,
        ``red_flags``, ``pregnancy_trimester``, ``minutes``, ``focus``: see :class:`Profile`.

    Returns
    -------
    Routine
        With ``status`` ``"ok"``, ``"referred"`` (red flags: no steps, a referral)
        or ``"nothing_fits"`` (nothing could be given; ``excluded`` says why).

    Raises
    ------
    pydantic.ValidationError
        A profile field has the wrong type or is out of range.
    UnknownIdError
        An id (context, equipment, position, red flag, muscle; in a session too) that
        the knowledge does not define; it names the valid choices and the nearest one.
    InvalidArgumentError
        Both a profile and keyword fields, a knowledge that is not a KnowledgeBase, or
        a history that is not an iterable of Session.
    SafetyError
        The independent audit found a broken rule (never expected; please report).

    Examples
    --------
    >>> from sirecommend import recommend
    >>> r = recommend(context="after_sitting", aggravated=True)
    >>> r.steps[0].name, r.steps[0].hold_seconds, r.steps[0].range_of_motion
    ("Child's pose with side reach", 30, 'reduced')
    >>> recommend(context="warm_up", red_flags={"fever"}).referral.urgency
    'same_day'
    """
    if knowledge is None:
        knowledge = load_knowledge()
    elif not isinstance(knowledge, KnowledgeBase):
        raise InvalidArgumentError(
            "knowledge must be a KnowledgeBase from load_knowledge(), "
            f"not {type(knowledge).__name__}"
        )
    if profile is not None and fields:
        raise InvalidArgumentError(
            f"give a profile or keyword fields, not both (got a profile and {sorted(fields)})"
        )
    if profile is None:
        profile = Profile(**fields)
    elif not isinstance(profile, Profile):
        if not isinstance(profile, Mapping):
            raise InvalidArgumentError(
                f"profile must be a Profile or a mapping, not {type(profile).__name__}"
            )
        profile = Profile.model_validate(dict(profile))
    check_profile(profile, knowledge)
    sessions = () if history is None else tuple(sorted_sessions(history))
    for session in sessions:
        check_session(session, knowledge)
    logged = _history(knowledge, profile, sessions)
    routine = _run(knowledge, profile) if logged is None else _run(knowledge, profile, logged)
    violations = audit(routine, profile, knowledge, history=sessions or None)
    if violations:
        raise SafetyError(violations)
    return routine


def _history(kb: KnowledgeBase, profile: Profile, sessions: tuple[Session, ...]) -> History | None:
    """What the sessions mean for this call, once (``None`` without any)."""
    if not sessions:
        return None
    prog = progress(kb, profile.context, sessions)
    paused = {
        p.stretch_id: Reason(
            code=ReasonCode.PROGRESSION_PAUSED,
            message=f"Paused by your logged sessions: {p.reason}.",
            rule=p.rule,
            sources=p.sources,
        )
        for p in prog.paused
    }
    return History(
        red_flags=prog.red_flags,
        paused=MappingProxyType(paused),
        steps=MappingProxyType({s.stretch_id: s for s in prog.steps}),
    )


def _run(kb: KnowledgeBase, profile: Profile, history: History | None = None) -> Routine:
    referral = triage(kb, profile, frozenset() if history is None else history.red_flags)
    if referral is not None:
        return explain(kb, profile, referral=referral)
    candidates = select(kb, profile)
    verdicts = filter_candidates(kb, profile, candidates, history)
    picks, left = substitute(candidates, verdicts)
    dosed = order_steps(dose(profile, picks, history), kb.compiled.contexts[profile.context])
    kept, dropped = fit(dosed, profile, kb.compiled.contexts[profile.context])
    return explain(kb, profile, kept, left, dropped)
