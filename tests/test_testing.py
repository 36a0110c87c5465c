"""sirecommend.testing: the strategies and synthetic knowledge that other tests (and
clinics testing their own packs) rely on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from sirecommend import (
    InvalidArgumentError,
    KnowledgeBase,
    KnowledgeError,
    Profile,
    audit,
    load_knowledge,
    recommend,
)
from sirecommend._loader import _shipped_files, knowledge_from_packs
from sirecommend._models import PackFile, Stretch
from sirecommend.testing import _id_sets, knowledge_bases, profiles, synthetic_knowledge

# pytest makes a new instance of a test class for every run, and mutmut runs the suite
# more than once in one process: to hypothesis that looks like two "executors" of one
# test method, which is harmless here (and intended for the shared Invariant tests).
REPEATABLE = [*settings.default.suppress_health_check, HealthCheck.differing_executors]


SHIPPED = load_knowledge()


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


class TestImport:
    def test_importing_sirecommend_does_not_import_hypothesis(self) -> None:
        done = _python(
            "import sys, sirecommend; sirecommend.recommend(context='warm_up'); "
            "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'"
        )
        assert done.returncode == 0, done.stderr

    def test_without_hypothesis_the_error_says_how_to_install_it(self) -> None:
        done = _python("import sys; sys.modules['hypothesis'] = None; import sirecommend.testing")
        assert done.returncode != 0
        assert "ImportError: sirecommend.testing needs hypothesis" in done.stderr
        assert "pip install 'sirecommend[test]'" in done.stderr


class TestProfiles:
    @settings(max_examples=50, suppress_health_check=REPEATABLE)
    @given(profiles())
    def test_every_profile_is_valid_for_the_shipped_knowledge(self, profile: Profile) -> None:
        assert recommend(profile).profile == profile

    @settings(max_examples=50, suppress_health_check=REPEATABLE)
    @given(profiles(SHIPPED, red_flags=True), profiles(SHIPPED, red_flags=False))
    def test_red_flags_can_be_forced_either_way(self, flagged: Profile, clear: Profile) -> None:
        assert flagged.red_flags
        assert not clear.red_flags

    @pytest.mark.parametrize("field", sorted(Profile.model_fields))
    def test_every_field_varies(self, field: str) -> None:
        default = Profile(context="warm_up").model_dump()[field]
        found = find(
            profiles(SHIPPED),
            lambda p: p.model_dump()[field] != default,
            settings=settings(database=None, max_examples=500, phases=[Phase.generate]),
        )
        assert found.model_dump()[field] != default

    @settings(suppress_health_check=REPEATABLE)
    @given(_id_sets([f"id_{i}" for i in range(20)]))
    def test_sets_of_many_ids_stay_small(self, ids: frozenset[str]) -> None:
        assert len(ids) <= 4

    def test_refuses_what_cannot_make_a_profile(self) -> None:
        with pytest.raises(InvalidArgumentError, match="KnowledgeBase"):
            profiles("shipped")  # type: ignore[arg-type]
        empty = knowledge_from_packs(PackFile())
        with pytest.raises(InvalidArgumentError, match="no context"):
            profiles(empty)
        no_flags = knowledge_from_packs(
            *[f.model_copy(update={"red_flag": ()}) for _, f in _shipped_files()]
        )
        with pytest.raises(InvalidArgumentError, match="no red flag"):
            profiles(no_flags, red_flags=True)


class TestKnowledgeBases:
    @settings(
        max_examples=max(10, settings.default.max_examples // 6), suppress_health_check=REPEATABLE
    )
    @given(knowledge_bases(max_stretches=5, max_contexts=2))
    def test_drawn_knowledge_is_loaded_and_within_the_bounds(self, kb: KnowledgeBase) -> None:
        assert 1 <= len(kb.stretches) <= 5
        assert 1 <= len(kb.contexts) <= 2
        assert {"rotation", "side_bend"} <= set(kb.movements)
        assert set(kb.compiled.contexts) == set(kb.contexts)

    def test_refuses_empty_bounds(self) -> None:
        with pytest.raises(InvalidArgumentError, match="at least 1"):
            knowledge_bases(max_stretches=0)


class TestSyntheticKnowledge:
    def test_is_deterministic(self) -> None:
        first = synthetic_knowledge(150, seed=3)
        synthetic_knowledge.cache_clear()
        again = synthetic_knowledge(150, seed=3)
        assert again is not first
        assert again.digest == first.digest
        assert synthetic_knowledge(150, seed=4).digest != first.digest

    @pytest.mark.parametrize("n", [0, 1, 10, 1000])
    def test_has_the_size_asked_for_and_the_shipped_vocabulary(self, n: int) -> None:
        kb = synthetic_knowledge(n)
        assert len(kb.stretches) == n
        for table in ("contexts", "equipment", "positions", "position_groups", "red_flags"):
            assert list(getattr(kb, table)) == list(getattr(SHIPPED, table))

    def test_has_alternatives_orderings_and_forbidden_combinations(self) -> None:
        kb = synthetic_knowledge(1000)
        assert sum(s.alternative_of is not None for s in kb.stretches.values()) > 100
        assert len(kb.orderings) > 10
        both = [s for s in kb.stretches.values() if {"rotation", "side_bend"} <= set(s.movements)]
        assert len(both) > 20

    def test_stretches_round_trip(self) -> None:
        stretches = list(synthetic_knowledge(50).stretches.values())
        a = stretches[0]
        b = next(s for s in stretches[1:] if s.model_fields_set == a.model_fields_set)
        for s in stretches:
            fresh = Stretch.model_validate(s.model_dump(exclude_unset=True))
            assert fresh == s
            assert fresh.model_fields_set == s.model_fields_set
        before = set(a.model_fields_set)
        changed = a.model_copy(update={"override": True})
        assert "override" in changed.model_fields_set
        assert a.model_fields_set == b.model_fields_set == before

    @settings(
        max_examples=max(10, settings.default.max_examples // 6), suppress_health_check=REPEATABLE
    )
    @given(profiles(SHIPPED))
    def test_shipped_profiles_work_on_it(self, profile: Profile) -> None:
        kb = synthetic_knowledge(300)
        assert audit(recommend(profile, knowledge=kb), profile, kb) == []

    @pytest.mark.parametrize("n", [-1, 1.5, "10", True])
    def test_refuses_a_bad_size(self, n: object) -> None:
        with pytest.raises(InvalidArgumentError, match="non-negative int"):
            synthetic_knowledge(n)  # type: ignore[arg-type]


class TestKnowledgeFromPacks:
    def test_checks_like_the_loader(self) -> None:
        shipped = [f for _, f in _shipped_files()]
        assert knowledge_from_packs(*shipped).digest == SHIPPED.digest
        with pytest.raises(KnowledgeError, match="duplicate id"):
            knowledge_from_packs(*shipped, shipped[-1], name="<twice>")

    def test_refuses_what_is_not_a_pack_file(self) -> None:
        with pytest.raises(InvalidArgumentError, match="PackFile"):
            knowledge_from_packs({"stretch": []})  # type: ignore[arg-type]
