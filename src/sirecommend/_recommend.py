"""recommend(): validate the profile's ids, then chain the pipeline stages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sirecommend._kb import KnowledgeBase
from sirecommend._loader import load_knowledge
from sirecommend._routine import Profile, Routine
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
        An id (context, equipment, position, red flag, muscle) that the knowledge
        does not define; it names the valid choices and the nearest one.
    InvalidArgumentError
        Both a profile and keyword fields, or a knowledge that is not a KnowledgeBase.
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
    routine = _run(knowledge, profile)
    violations = audit(routine, profile, knowledge)
    if violations:
        raise SafetyError(violations)
    return routine


def _run(kb: KnowledgeBase, profile: Profile) -> Routine:
    referral = triage(kb, profile)
    if referral is not None:
        return explain(kb, profile, referral=referral)
    candidates = select(kb, profile)
    verdicts = filter_candidates(kb, profile, candidates)
    picks, left = substitute(candidates, verdicts)
    dosed = order_steps(dose(profile, picks), kb.compiled.contexts[profile.context])
    kept, dropped = fit(dosed, profile, kb.compiled.contexts[profile.context])
    return explain(kb, profile, kept, left, dropped)
