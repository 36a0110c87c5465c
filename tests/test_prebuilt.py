"""The shipped knowledge's generated compiled form (``sirecommend._prebuilt``).

It is code in the package, made by ``python -m sirecommend._prebuild``. These tests prove
that it is current and that it equals a fresh compile of the shipped TOML files, field by
field: every table and entry (with the fields each entry set), the origins, the digest,
the whole compiled form, the audit's facts and the graph built from it.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx
import pytest
from pydantic import BaseModel

import sirecommend._loader as loader
import sirecommend._prebuild as prebuild
from sirecommend import KnowledgeBase, load_knowledge, recommend
from sirecommend import _prebuilt as prebuilt
from sirecommend._kb import TABLES

STALE = "the generated form is stale: run python -m sirecommend._prebuild and commit it"


@pytest.fixture(scope="module")
def fresh() -> KnowledgeBase:
    return loader._fresh_shipped_knowledge()


@pytest.fixture(scope="module")
def generated() -> KnowledgeBase:
    kb = loader._prebuilt_knowledge()
    assert kb is not None, STALE
    return kb


def _set_fields(value: Any) -> Any:
    """``value`` with every pydantic model replaced by the fields it set, recursively."""
    if isinstance(value, BaseModel):
        return (
            type(value),
            sorted(value.model_fields_set),
            {k: _set_fields(getattr(value, k)) for k in type(value).model_fields},
        )
    if isinstance(value, (tuple, list)):
        return [_set_fields(v) for v in value]
    return value


class TestCurrent:
    def test_the_committed_source_is_what_the_generator_writes(self) -> None:
        path = Path(prebuilt.__file__)
        assert path.read_text("utf-8") == prebuild.generate(), STALE

    def test_its_fingerprint_is_that_of_the_files_in_the_package(self) -> None:
        assert loader.shipped_fingerprint() == prebuilt.FINGERPRINT, STALE

    def test_load_knowledge_answers_from_it(self, generated: KnowledgeBase) -> None:
        kb = load_knowledge()
        assert kb.digest == generated.digest
        assert kb.compiled == generated.compiled


class TestEqualsAFreshCompile:
    def test_every_field_of_the_knowledge_base(
        self, generated: KnowledgeBase, fresh: KnowledgeBase
    ) -> None:
        names = [f.name for f in dataclasses.fields(KnowledgeBase)]
        assert set(names) >= {"compiled", "facts", "digest", "origins", *TABLES.values()}
        for name in names:
            assert getattr(generated, name) == getattr(fresh, name), name

    def test_the_compiled_form_and_the_facts_whole(
        self, generated: KnowledgeBase, fresh: KnowledgeBase
    ) -> None:
        assert generated.compiled == fresh.compiled
        assert generated.facts == fresh.facts
        for name in ("compiled", "facts"):
            for field in dataclasses.fields(getattr(fresh, name)):
                a = getattr(getattr(generated, name), field.name)
                assert a == getattr(getattr(fresh, name), field.name), field.name

    def test_every_entry_with_the_fields_it_set(
        self, generated: KnowledgeBase, fresh: KnowledgeBase
    ) -> None:
        for attr in TABLES.values():
            a, b = getattr(generated, attr), getattr(fresh, attr)
            assert list(a) == list(b), attr  # id order too
            for key in b:
                assert _set_fields(a[key]) == _set_fields(b[key]), (attr, key)

    def test_the_origins_name_the_files_of_this_installation(
        self, generated: KnowledgeBase, fresh: KnowledgeBase
    ) -> None:
        assert dict(generated.origins) == dict(fresh.origins)
        root = loader.shipped_knowledge_dir()
        assert all(Path(label).is_relative_to(root) for label in generated.origins.values())

    def test_the_graph_built_from_it(self, generated: KnowledgeBase, fresh: KnowledgeBase) -> None:
        g = generated.graph
        assert nx.is_frozen(g)
        assert nx.utils.graphs_equal(g, fresh.graph)
        assert sorted(g.edges(keys=True)) == sorted(fresh.graph.edges(keys=True))
        # Nothing is kept: each read builds the graph anew, for a compiled pack too.
        assert generated.graph is not g
        assert fresh.graph is not fresh.graph

    def test_routines_are_the_same(self, generated: KnowledgeBase, fresh: KnowledgeBase) -> None:
        for context in fresh.contexts:
            for aggravated in (False, True):
                a = recommend(context=context, aggravated=aggravated, knowledge=generated)
                b = recommend(context=context, aggravated=aggravated, knowledge=fresh)
                assert a.model_dump_json() == b.model_dump_json()


class TestStale:
    def test_a_stale_form_is_not_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(prebuilt, "FINGERPRINT", "0" * 64)
        assert loader._prebuilt_knowledge() is None

    def test_then_the_knowledge_is_compiled_afresh(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(loader, "_prebuilt_knowledge", lambda: None)
        kb = loader._shipped_knowledge.__wrapped__()
        assert kb.graph is not kb.graph  # compiled at load, then let go
        assert kb.digest == load_knowledge().digest

    def test_an_unreadable_file_gives_no_fingerprint(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def refuse(path: Path) -> bytes:
            raise OSError(f"cannot read {path}")

        monkeypatch.setattr(loader, "_read_file", refuse)
        assert loader.shipped_fingerprint() is None
        assert loader._prebuilt_knowledge() is None

    def test_editing_a_knowledge_file_changes_the_fingerprint(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        read = loader._read_file
        monkeypatch.setattr(loader, "_read_file", lambda p: read(p) + b"\n")
        assert loader.shipped_fingerprint() not in (None, prebuilt.FINGERPRINT)

    @pytest.mark.parametrize("module", loader.FINGERPRINTED)
    def test_editing_a_compiler_module_changes_the_fingerprint(
        self, monkeypatch: pytest.MonkeyPatch, module: str
    ) -> None:
        # So a mutant of the compiler or the facts (scripts/mutation.sh) is compiled and
        # tested, not hidden behind the generated form.
        read = loader._read_file

        def edited(path: Path) -> bytes:
            return read(path) + (b"# edited\n" if path.name == module else b"")

        monkeypatch.setattr(loader, "_read_file", edited)
        assert loader.shipped_fingerprint() not in (None, prebuilt.FINGERPRINT)


@dataclasses.dataclass(frozen=True)
class _Point:
    x: float
    y: float = dataclasses.field(default=0.0, init=False)


class TestWriter:
    def write(self, value: object) -> object:
        w = prebuild._Writer()
        w.count(value)
        text = w.expr(value)
        namespace: dict[str, Any] = {}
        for line in w.header():
            exec(line, namespace)
        exec("\n".join(line.strip() for line in w.lines), namespace)
        return eval(text, namespace)

    def test_literals_round_trip(self) -> None:
        value = {
            "floats": (1.5, -0.0, math.inf, -math.inf),
            "one": (1,),
            "list": [1, "a", None, True],
            "sets": (frozenset(), frozenset({"b", "a"})),
            "proxy": MappingProxyType({("a", "b"): 1}),
        }
        assert self.write(value) == value
        nan = self.write(math.nan)
        assert isinstance(nan, float)
        assert math.isnan(nan)

    def test_a_shared_object_is_written_once(self) -> None:
        shared = MappingProxyType({"a": 1})
        w = prebuild._Writer()
        w.count((shared, shared))
        assert w.expr((shared, shared)) == "(_v0, _v0)"
        assert w.lines == ["    _v0 = _types_MappingProxyType({'a': 1})"]

    def test_what_it_cannot_write(self) -> None:
        with pytest.raises(TypeError, match="cannot write a object"):
            prebuild._Writer().expr(object())
        with pytest.raises(TypeError, match=r"_Point\.y is not set by __init__"):
            prebuild._Writer().expr(_Point(1.0))

    def test_main_writes_and_checks(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr(prebuild, "_PACKAGE", tmp_path)
        monkeypatch.setattr(prebuild, "generate", lambda: "SOURCE\n")
        assert prebuild.main(["--check"]) == 1  # missing
        assert "is stale" in capsys.readouterr().err
        assert prebuild.main([]) == 0
        assert (tmp_path / "_prebuilt.py").read_text("utf-8") == "SOURCE\n"
        assert prebuild.main(["--check"]) == 0
        (tmp_path / "_prebuilt.py").write_text("OLD\n", "utf-8")
        assert prebuild.main(["--check"]) == 1
        monkeypatch.setattr("sys.argv", ["_prebuild", "--check"])
        assert prebuild.main() == 1
