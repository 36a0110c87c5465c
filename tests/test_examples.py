"""The examples a newcomer runs: each runs and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_default_routine() -> None:
    out = run("default_routine.py")
    assert out.startswith("SI joint stretching routine: After sitting")
    assert "Seated butterfly stretch" in out


def test_aggravated_with_towel() -> None:
    out = run("aggravated_with_towel.py")
    assert "30 s x 2" in out
    assert "reduced range" in out
    total = int(out.split("Total: about ")[1].split(" min")[0])
    assert total <= 12


def test_clinic_pack() -> None:
    out = run("clinic_pack_routine.py")
    assert "Chair-supported standing lunge (example clinic)" in out
    assert "example-clinic-protocol" in out


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_every_example_is_tested(script: str) -> None:
    assert script in {"default_routine.py", "aggravated_with_towel.py", "clinic_pack_routine.py"}
