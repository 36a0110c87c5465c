"""Select: the places the context offers, from its compiled walk of the graph."""

from __future__ import annotations

from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Profile
from sirecommend.pipeline._types import Candidate

__all__ = ["select"]


def select(kb: KnowledgeBase, profile: Profile) -> tuple[Candidate, ...]:
    """The stretches that suit ``profile.context``, in routine order, with their focus hits.

    The walk from the context node (``suits`` edges back to stretches, ``targets`` to
    muscles, ``alternative_of`` to stand-ins) was done once at load, into the context's
    slots (:class:`~sirecommend._compile.ContextPlan`), with a candidate per slot for a
    profile without focus (``ContextPlan.candidates``): a call makes one only for a slot
    whose stretch works a focus muscle. Focus raises priority (used when fitting to time)
    and never adds a stretch; where it names a muscle a rolling stretch works,
    :func:`~sirecommend.pipeline.substitute` rolls that group instead of offering the
    choice of groups (p15).

    >>> from sirecommend import load_knowledge, Profile
    >>> kb = load_knowledge()
    >>> [c.slot.stretch.id for c in select(kb, Profile(context="warm_up"))][:2]
    ['foam_roll_hip_flexors', 'foam_roll_glutes']
    >>> [c.focus_hits for c in select(kb, Profile(context="warm_up", focus={"glutes"}))][:2]
    [(), ('glutes',)]
    """
    focus = profile.focus
    candidates = kb.compiled.contexts[profile.context].candidates  # (no focus hits)
    if not focus:
        return candidates
    return tuple(
        c
        if c.slot.targets.isdisjoint(focus)
        else Candidate(c.slot, tuple(sorted(c.slot.targets & focus)))
        for c in candidates
    )
