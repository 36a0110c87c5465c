"""Shared fixtures and the hypothesis profiles.

CI (CI=true) runs the derandomized "ci" profile so a run is reproducible; local
runs use "dev", which keeps exploring new examples.
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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The shipped knowledge (loaded once, frozen)."""
    return load_knowledge()
