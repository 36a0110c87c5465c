"""The benchmark harness runs: ``benchmarks/run.py --quick`` as CI runs it (no timing asserted).

The peers (rdflib, clipspy) and matplotlib are benchmark-only; when they are missing
the run still succeeds and the table says so.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def _load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_run", RUN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    png = tmp_path_factory.mktemp("bench") / "latency.png"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--plot", str(png)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return done, png


def test_quick_run_prints_the_table(quick: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, _ = quick
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("sirecommend benchmarks (quick run")
    for title in (
        "Cold start",
        "load_knowledge() on the shipped knowledge",
        "recommend() on the shipped knowledge, a new profile every call",
        "Latency against knowledge size",
        "Memory, synthetic_knowledge(100)",
        "Memory under load, synthetic_knowledge(100), a new profile every call",
        "Targets of issue 11, as measured in this run",
    ):
        assert title in out
    assert re.search(r"knowledge +stretches +selected +sirecommend recommend\(\)", out)
    assert "synthetic_knowledge(100)" in out
    assert re.search(r"RSS after 2,000 calls +[0-9.]+ MB", out)
    # The collector's share is measured within sirecommend's calls, per knowledge.
    assert "Time in Python's cyclic garbage collector, within sirecommend's calls" in out
    assert re.search(r"synthetic_knowledge\(100\) +[1-9][0-9,]* +[0-9.]+% +[0-9.]", out)
    # Each peer either has figures or says why not.
    for peer, module in (("rdflib", "rdflib"), ("CLIPS", "clips")):
        if importlib.util.find_spec(module) is None:
            assert f"{peer}: not installed" in out
        else:
            assert f"sirecommend / {peer}" in out


def test_quick_run_plots(quick: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, png = quick
    if importlib.util.find_spec("matplotlib") is None:
        assert "no plot: matplotlib is not installed" in done.stdout
    else:
        assert png.read_bytes().startswith(b"\x89PNG")


def test_tables_render_as_text_and_markdown() -> None:
    run = _load_run()
    table = run.Table("T", ["name", "median"], [["a|b", run.fmt_time(2.5e-5)]], ["a note"])
    assert table.text().splitlines() == [
        "T",
        "name  median",
        "----  ------",
        "a|b    25 µs",
        "  a note",
    ]
    assert table.markdown().splitlines() == [
        "**T**",
        "",
        "| name | median |",
        "| --- | ---: |",
        "| a\\|b | 25 µs |",
        "",
        "- a note",
    ]
    assert [run.fmt_time(t) for t in (None, 3e-7, 0.0123, 4.0)] == ["-", "300 ns", "12.3 ms", "4 s"]
    assert run.fmt_ratio(1.0, 4.0) == "0.25"
    assert run.fmt_ratio(1.0, None) == "-"


def test_the_output_floor_script_prints_its_table() -> None:
    script = RUN.parent / "output_floor.py"
    done = subprocess.run(
        [sys.executable, str(script), "--sizes", "10", "--calls", "3", "--rounds", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("| 10 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 10
    for timing in cells[1:4]:  # the floor, the audit and recommend() are always measured
        assert re.fullmatch(r"[\d,]+ µs", timing), row
