"""Deprecated: the audit module is now :mod:`sirecommend.safety`.

``import sirecommend.audit`` keeps working for one release, with a
:class:`DeprecationWarning`. Importing this submodule makes the package attribute
``sirecommend.audit`` this module (Python binds a submodule to its package on import),
so the module is callable: ``sirecommend.audit(routine, profile, knowledge)`` still
runs :func:`sirecommend.safety.audit`. Use ``from sirecommend import audit`` (the
function) or ``from sirecommend.safety import audit``.
"""

from __future__ import annotations

import sys
import types
import warnings

from sirecommend._kb import KnowledgeBase
from sirecommend._routine import Profile, Routine, Violation
from sirecommend.safety import CHECKS, audit

__all__ = ["CHECKS", "audit"]

warnings.warn(
    "the module sirecommend.audit is deprecated and will be removed in the next release; "
    "use sirecommend.safety (or the function sirecommend.audit)",
    DeprecationWarning,
    stacklevel=2,
)


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`sirecommend.safety.audit`."""

    def __call__(
        self, routine: Routine, profile: Profile, knowledge: KnowledgeBase
    ) -> list[Violation]:
        return audit(routine, profile, knowledge)


sys.modules[__name__].__class__ = _CallableModule
