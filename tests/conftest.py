"""Shared fixtures and the hypothesis profiles.

CI (CI=true) runs the derandomized "ci" profile (300 examples a test) so a run is
reproducible; local runs use "dev" (100, random seeds), which keeps exploring new
examples. ``HYPOTHESIS_PROFILE=thorough`` is the opt-in deep run: 2,000 examples a
test, random seeds, no deadline; each test module states how it shares these out
(tests/test_properties.py gives generated knowledge a fifth per rule and the audit the
full budget).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from sirecommend import KnowledgeBase, load_knowledge

settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "thorough",
    max_examples=2000,
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _knowledge_scope(fixture_name: str, config: pytest.Config) -> str:
    # Per test under mutation testing: see _cold_knowledge below.
    return "function" if os.environ.get("SIRECOMMEND_COLD_KNOWLEDGE") else "session"


@pytest.fixture(scope=_knowledge_scope)
def kb() -> KnowledgeBase:
    """The shipped knowledge (loaded once, frozen)."""
    return load_knowledge()


@pytest.fixture(autouse=True)
def _cold_knowledge() -> None:
    """Under mutation testing only (scripts/mutation.sh), each test loads the knowledge afresh.

    The loader caches the shipped knowledge, and the knowledge remembers the plans and
    indexes derived from it (``KnowledgeBase.memo``). mutmut runs many sessions in one
    process and maps each function to the tests that called it: with the caches kept,
    a mutant in a cached computation would run in no test, or in the first one only.
    """
    if os.environ.get("SIRECOMMEND_COLD_KNOWLEDGE"):
        from sirecommend._loader import _shipped_knowledge
        from sirecommend.testing import synthetic_knowledge

        _shipped_knowledge.cache_clear()
        synthetic_knowledge.cache_clear()
