"""The on-disk knowledge cache: a later process loads the same knowledge without building it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, KnowledgeError, _cache, _loader, load_knowledge, recommend
from sirecommend._cache import CACHE_ENV, cache_dir, cache_key, cached, read_cache, write_cache

PACK = textwrap.dedent(
    """
    [[muscle]]
    id = "calves"
    name = "Calves"
    cites = ["si-stretch-guide#p3"]
    """
)


def same_knowledge(a: KnowledgeBase, b: KnowledgeBase) -> None:
    assert a.digest == b.digest
    assert a.packs == b.packs
    assert dict(a.stretches) == dict(b.stretches)
    assert a.compiled == b.compiled
    assert dict(a.origins) == dict(b.origins)
    assert sorted(a.graph.edges(keys=True, data=True)) == sorted(
        b.graph.edges(keys=True, data=True)
    )


def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the knowledge builds from now on."""
    count: list[int] = []
    real = _loader._build

    def counting(*args: object, **kwargs: object) -> KnowledgeBase:
        count.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_loader, "_build", counting)
    return count


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty cache directory, and a loader that has forgotten the shipped knowledge."""
    where = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(where))
    _loader._shipped_knowledge.cache_clear()
    yield where
    _loader._shipped_knowledge.cache_clear()


class TestWhere:
    def test_the_variable_names_the_directory(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(CACHE_ENV, "/some/where")
        assert cache_dir() == Path("/some/where")

    def test_an_empty_variable_turns_it_off(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(CACHE_ENV, "")
        assert cache_dir() is None

    def test_default_is_the_xdg_cache(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(CACHE_ENV)
        monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
        assert cache_dir() == Path("/xdg/sirecommend")
        monkeypatch.delenv("XDG_CACHE_HOME")
        assert cache_dir() == Path.home() / ".cache" / "sirecommend"


class TestShippedKnowledge:
    def test_a_second_load_reads_the_cache(
        self, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        count = builds(monkeypatch)
        first = load_knowledge()
        assert count == [1]
        assert len(list(cache.glob("*.kb.pickle"))) == 1
        _loader._shipped_knowledge.cache_clear()
        second = load_knowledge()
        assert count == [1], "the second load built the knowledge again"
        assert second is not first
        same_knowledge(first, second)
        assert recommend(context="after_sitting", knowledge=second) == recommend(
            context="after_sitting", knowledge=first
        )

    def test_the_cached_knowledge_is_still_frozen(self, cache: Path) -> None:
        load_knowledge()
        _loader._shipped_knowledge.cache_clear()
        kb = load_knowledge()
        with pytest.raises(TypeError):
            kb.stretches["x"] = kb.stretches["hamstring_supine"]  # type: ignore[index]
        with pytest.raises(TypeError):
            kb.compiled.contexts["after_sitting"].rank["x"] = 0  # type: ignore[index]

    def test_a_corrupt_file_is_built_again(
        self, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        load_knowledge()
        (path,) = cache.glob("*.kb.pickle")
        path.write_bytes(b"not a pickle")
        _loader._shipped_knowledge.cache_clear()
        count = builds(monkeypatch)
        kb = load_knowledge()
        assert count == [1]
        assert kb.digest == load_knowledge().digest
        assert read_cache(path.name.removesuffix(".kb.pickle"), cache) is not None

    def test_a_pickle_of_something_else_is_ignored(self, cache: Path) -> None:
        write_cache("k", load_knowledge(), cache)
        (cache / "k.kb.pickle").write_bytes(__import__("pickle").dumps({"not": "knowledge"}))
        assert read_cache("k", cache) is None

    def test_off_means_no_files(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(CACHE_ENV, "")
        _loader._shipped_knowledge.cache_clear()
        count = builds(monkeypatch)
        load_knowledge()
        _loader._shipped_knowledge.cache_clear()
        load_knowledge()
        assert count == [1, 1]
        assert write_cache("k", load_knowledge()) is False
        assert read_cache("k") is None

    def test_an_unwritable_directory_is_not_an_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocker = tmp_path / "file"
        blocker.write_text("")
        monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))  # a directory under a file
        _loader._shipped_knowledge.cache_clear()
        assert load_knowledge().stretches
        assert write_cache("k", load_knowledge()) is False
        _loader._shipped_knowledge.cache_clear()

    def test_a_failed_write_leaves_no_temporary_file(
        self, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(src: str, dst: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(_cache.os, "replace", broken)
        assert write_cache("k", load_knowledge(), cache) is False
        assert list(cache.iterdir()) == []

    def test_an_unreadable_file_skips_the_cache(
        self, cache: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = Path.read_bytes

        def unreadable(self: Path) -> bytes:
            if self.suffix == ".toml":
                raise OSError("permission denied")
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", unreadable)
        assert load_knowledge().stretches
        assert list(cache.glob("*")) == []


class TestKey:
    def test_every_byte_of_every_file_counts(self) -> None:
        base = cache_key([("a.toml", b"x = 1")], ())
        assert cache_key([("a.toml", b"x = 2")], ()) != base
        assert cache_key([("b.toml", b"x = 1")], ()) != base
        assert cache_key([("a.toml", b"x = 1")], ("pack",)) != base
        assert cache_key([("a.toml", b"x"), ("b.toml", b"= 1")], ()) != cache_key(
            [("a.toml", b"x ="), ("b.toml", b" 1")], ()
        )
        assert cache_key([("a.toml", b"x = 1")], ()) == base

    def test_the_code_counts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        base = cache_key([], ())
        monkeypatch.setattr(_cache, "_code_stamp", lambda: b"other code")
        assert cache_key([], ()) != base

    def test_cached_builds_once_per_key(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(CACHE_ENV, str(tmp_path))
        made: list[KnowledgeBase] = []

        def build() -> KnowledgeBase:
            made.append(load_knowledge())
            return made[-1]

        files = [("a.toml", b"x = 1")]
        assert cached(files, (), build).digest == load_knowledge().digest
        assert cached(files, (), build).digest == load_knowledge().digest
        assert len(made) == 1
        cached([("a.toml", b"x = 2")], (), build)
        assert len(made) == 2


class TestPacks:
    def test_a_pack_is_cached_and_its_edits_are_seen(
        self, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pack = tmp_path / "pack"
        pack.mkdir()
        (pack / "muscles.toml").write_text(PACK)
        count = builds(monkeypatch)
        first = load_knowledge(pack)
        again = load_knowledge(pack)
        assert count == [1]
        same_knowledge(first, again)
        assert "calves" in again.muscles
        (pack / "muscles.toml").write_text(PACK.replace("Calves", "Calf muscles"))
        edited = load_knowledge(pack)
        assert count == [1, 1]
        assert edited.muscles["calves"].name == "Calf muscles"

    def test_a_broken_pack_is_never_cached(
        self, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pack = tmp_path / "pack"
        pack.mkdir()
        (pack / "bad.toml").write_text("[[muscle]]\nid = 3\n")
        for _ in range(2):
            with pytest.raises(KnowledgeError):
                load_knowledge(pack)
        assert not any(p.name.endswith(".kb.pickle") for p in cache.glob("*"))


def test_a_new_process_loads_from_the_cache(tmp_path: Path) -> None:
    """The point of the cache: a second process does not build (or validate) the knowledge."""
    code = textwrap.dedent(
        """
        import sys
        from sirecommend import _loader, recommend
        from sirecommend._models import Stretch
        built = []
        real = _loader._build
        _loader._build = lambda *a: built.append(1) or real(*a)
        routine = recommend(context="after_sitting")
        print(len(built), Stretch.__pydantic_complete__, routine.status)
        """
    )
    env = {**os.environ, CACHE_ENV: str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == ["1", "True", "ok"]  # built, and so validated
    assert runs[1] == ["0", "False", "ok"]  # from the cache: no build, no validator built


def test_only_the_newest_builds_are_kept(tmp_path: Path) -> None:
    kb = load_knowledge()
    for i in range(_cache.KEEP + 3):
        assert write_cache(f"k{i}", kb, tmp_path)
        os.utime(tmp_path / f"k{i}.kb.pickle", ns=(i * 10**9, i * 10**9))
    write_cache("last", kb, tmp_path)
    kept = sorted(p.name.removesuffix(".kb.pickle") for p in tmp_path.glob("*.kb.pickle"))
    assert len(kept) == _cache.KEEP
    assert "last" in kept
    assert "k0" not in kept
    assert f"k{_cache.KEEP + 2}" in kept


def test_pruning_survives_a_file_removed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cache("a", load_knowledge(), tmp_path)

    def gone(self: Path) -> os.stat_result:
        raise FileNotFoundError(self)

    monkeypatch.setattr(Path, "stat", gone)
    _cache._prune(tmp_path)  # no error
