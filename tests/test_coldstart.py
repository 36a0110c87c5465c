"""What a cold start pays for: ``import sirecommend`` imports a public name's module only
when that name is first used (PEP 562), and printing one routine imports nothing it does
not need. No timing is asserted here (see ``benchmarks/run.py`` for the figures)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import pytest

import sirecommend

#: Modules that printing one routine never needs.
NOT_FOR_ONE_ROUTINE = (
    "sirecommend.cli",
    "sirecommend._programme_cli",
    "sirecommend._plan",
    "sirecommend._draw",
    "sirecommend.handout",
    "sirecommend.fhir",
    "sirecommend._fhir_programme",
    "sirecommend.journal",
    "sirecommend.testing",
    "sirecommend.audit",
    "icalendar",
    "hypothesis",
    "sqlite3",
)


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


class TestLazyNames:
    @pytest.mark.parametrize("name", sirecommend.__all__)
    def test_every_public_name_imports_from_its_module(self, name: str) -> None:
        namespace: dict[str, object] = {}
        exec(f"from sirecommend import {name}", namespace)
        value = namespace[name]
        assert getattr(sirecommend, name) is value
        if name != "__version__":
            home = importlib.import_module(sirecommend._HOMES[name])
            assert getattr(home, name) is value

    def test_every_lazy_name_is_public(self) -> None:
        assert set(sirecommend._HOMES) == set(sirecommend.__all__) - {"__version__"}

    def test_star_import_gives_every_public_name(self) -> None:
        namespace: dict[str, object] = {}
        exec("from sirecommend import *", namespace)
        assert set(sirecommend.__all__) <= set(namespace)

    def test_dir_lists_every_public_name(self) -> None:
        assert set(sirecommend.__all__) <= set(dir(sirecommend))
        assert dir(sirecommend) == sorted(dir(sirecommend))

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match="has no attribute 'recomend'"):
            sirecommend.recomend  # noqa: B018
        with pytest.raises(ImportError, match="recomend"):
            exec("from sirecommend import recomend", {})


class TestColdStartImports:
    def test_import_alone_loads_no_submodule_but_the_version(self) -> None:
        loaded = _modules_after("import sirecommend")
        assert {m for m in loaded if m.startswith("sirecommend")} == {
            "sirecommend",
            "sirecommend._version",
        }
        assert "pydantic" not in loaded
        assert "networkx" not in loaded

    def test_printing_one_routine_loads_only_what_it_needs(self) -> None:
        loaded = _modules_after(
            """
            import sirecommend
            print(sirecommend.recommend(context="after_sitting"))
            """
        )
        assert "sirecommend._recommend" in loaded
        assert "sirecommend.safety" in loaded  # every routine is audited
        assert not loaded & set(NOT_FOR_ONE_ROUTINE)
        # The shipped knowledge comes from its generated compiled form: no TOML is
        # parsed, and no graph is built, so networkx is not imported at all.
        assert "sirecommend._prebuilt" in loaded
        assert not loaded & {"networkx", "sirecommend._graph", "tomllib"}

    def test_asking_for_the_graph_builds_it(self) -> None:
        loaded = _modules_after(
            """
            import sirecommend
            assert sirecommend.load_knowledge().graph.number_of_nodes() > 0
            """
        )
        assert {"networkx", "sirecommend._graph"} <= loaded

    def test_the_cli_prints_a_routine_without_the_handout_or_the_graph(self) -> None:
        loaded = _modules_after(
            """
            import contextlib, io
            from sirecommend.cli import main
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["recommend", "--context", "after_sitting"]) == 0
            """
        )
        assert "sirecommend.cli" in loaded
        assert not loaded & {"sirecommend.handout", "sirecommend._draw", "networkx"}
