"""The wheel ships the knowledge: installed elsewhere, it loads from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("sirecommend-*.whl"))


def test_wheel_contains_knowledge_and_marker(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {
        p.relative_to(ROOT / "knowledge").as_posix()
        for p in (ROOT / "knowledge").rglob("*")
        if p.is_file()
    }
    packaged = {
        n.removeprefix("sirecommend/_knowledge/")
        for n in names
        if n.startswith("sirecommend/_knowledge/")
    }
    assert shipped == packaged
    assert "sirecommend/py.typed" in names


def test_installed_wheel_loads_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sirecommend as s; print(s.__file__); print(s.shipped_knowledge_dir()); "
        "print(len(s.load_knowledge().stretches)); print(s.recommend(context='after_sleep').status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
    )
    module, knowledge, count, status = done.stdout.split()
    assert module.startswith(str(site))
    assert knowledge == str(site / "sirecommend" / "_knowledge")
    assert (int(count), status) == (13, "ok")
