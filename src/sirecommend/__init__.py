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
from sirecommend._version import __version__
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
