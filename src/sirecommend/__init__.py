"""sirecommend: safe, ordered, explained stretching routines for SI joint pain.

The knowledge (stretches, contexts, safety rules, red flags) lives in reviewable
TOML files, validated once at load into a frozen graph; :func:`recommend` walks it
to a routine for a person's profile, and an independent :func:`audit` checks every
routine before it is returned. General education, not diagnosis.

>>> from sirecommend import recommend
>>> routine = recommend(context="after_sitting")
>>> routine.status, [s.phase for s in routine.steps][:1]
('ok', ['warm_up'])
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sirecommend._version import __version__

if TYPE_CHECKING:
    from sirecommend._feedback import Feedback, Session
    from sirecommend._graph import lint_graph
    from sirecommend._kb import KnowledgeBase
    from sirecommend._loader import load_knowledge, schema_of_packs, shipped_knowledge_dir
    from sirecommend._plan import Plan, PlannedSession, plan
    from sirecommend._recommend import recommend
    from sirecommend._routine import (
        NOTICE,
        Exclusion,
        Profile,
        Provenance,
        Reason,
        ReasonCode,
        Referral,
        Routine,
        Step,
        Violation,
    )
    from sirecommend.errors import (
        InvalidArgumentError,
        KnowledgeError,
        KnowledgeProblem,
        SafetyError,
        SirecommendError,
        UnknownIdError,
    )
    from sirecommend.progression import Progression, progress
    from sirecommend.safety import audit

__all__ = [
    "NOTICE",
    "Exclusion",
    "Feedback",
    "InvalidArgumentError",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeProblem",
    "Plan",
    "PlannedSession",
    "Profile",
    "Progression",
    "Provenance",
    "Reason",
    "ReasonCode",
    "Referral",
    "Routine",
    "SafetyError",
    "Session",
    "SirecommendError",
    "Step",
    "UnknownIdError",
    "Violation",
    "__version__",
    "audit",
    "lint_graph",
    "load_knowledge",
    "plan",
    "progress",
    "recommend",
    "schema_of_packs",
    "shipped_knowledge_dir",
]

#: Where each public name lives. A name is imported from its module the first time it is
#: used (PEP 562), so that ``import sirecommend`` stays cheap and a program that only
#: prints a routine never imports the plan, the progression CLI, or what it does not use.
_HOMES: dict[str, str] = {
    "Feedback": "sirecommend._feedback",
    "Session": "sirecommend._feedback",
    "lint_graph": "sirecommend._graph",
    "KnowledgeBase": "sirecommend._kb",
    "load_knowledge": "sirecommend._loader",
    "schema_of_packs": "sirecommend._loader",
    "shipped_knowledge_dir": "sirecommend._loader",
    "Plan": "sirecommend._plan",
    "PlannedSession": "sirecommend._plan",
    "plan": "sirecommend._plan",
    "recommend": "sirecommend._recommend",
    "NOTICE": "sirecommend._routine",
    "Exclusion": "sirecommend._routine",
    "Profile": "sirecommend._routine",
    "Provenance": "sirecommend._routine",
    "Reason": "sirecommend._routine",
    "ReasonCode": "sirecommend._routine",
    "Referral": "sirecommend._routine",
    "Routine": "sirecommend._routine",
    "Step": "sirecommend._routine",
    "Violation": "sirecommend._routine",
    "InvalidArgumentError": "sirecommend.errors",
    "KnowledgeError": "sirecommend.errors",
    "KnowledgeProblem": "sirecommend.errors",
    "SafetyError": "sirecommend.errors",
    "SirecommendError": "sirecommend.errors",
    "UnknownIdError": "sirecommend.errors",
    "Progression": "sirecommend.progression",
    "progress": "sirecommend.progression",
    "audit": "sirecommend.safety",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # bound once, like an eager import: later uses are plain lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
