"""Every code block of the README runs as written, so the README cannot drift.

- ``python`` blocks are pasted, line by line, into one interactive console (what a
  newcomer does in the REPL): no line may raise, and a compound statement must be closed
  by a blank line as the REPL needs;
- ``pycon`` blocks run as doctests;
- ``sh`` blocks: every ``sirecommend`` command runs in process and exits 0, every
  ``python examples/...`` script runs; the set-up commands (venv, pip, the test and docs
  scripts, wheel builds) are named in ``SET_UP``, as they install or run the suite itself;
- ``console`` blocks: each ``$ command`` gives exactly the output shown.

Commands run in a temporary directory holding a link to ``examples/``, as from the root
of a clone, so the files they write (``routine.html``, ``graph.svg``, the programme's
``journal.sqlite3`` and ``plan.ics``) land there.
"""

from __future__ import annotations

import code
import doctest
import re
import shlex
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest

from sirecommend.cli import main
from sirecommend.journal import Journal

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)

#: Commands of the README that set up or run the whole suite: run by CI, not here.
SET_UP = (
    "python3 -m venv .venv",
    ".venv/bin/pip install -q .",
    "bash scripts/test.sh",
    "bash scripts/docs.sh",
    ". .venv/bin/activate",
    "python -m pip wheel . --no-deps",
    "pip install -e '.[dev]'",
    "python -m build",
)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(README) if kind == lang]


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory that looks like the root of a clone."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_block_has_a_known_language() -> None:
    kinds = {kind for kind, _ in BLOCK.findall(README)}
    assert kinds <= {"python", "pycon", "sh", "console"}
    assert {"python", "pycon", "sh", "console"} <= kinds


class _Console(code.InteractiveConsole):
    """A REPL that keeps what it would print as an error."""

    def __init__(self) -> None:
        super().__init__(filename="<README>")
        self.errors: list[str] = []

    def write(self, data: str) -> None:
        self.errors.append(data)


def test_python_blocks_paste_into_the_repl(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    console = _Console()
    for block in blocks("python"):
        for line in block.splitlines():
            console.push(line)
            assert console.errors == [], (line, "".join(console.errors))
        assert not console.push(""), "a block must end with its statements closed"
    out = capsys.readouterr().out
    assert "SI joint stretching routine: After sitting" in out  # print(routine)
    assert "frozenset({'hamstrings'})" in out  # the unmet focus is visible
    assert "'example_chair_supported_lunge'" in out  # the clinic pack adds its stretch


def test_the_options_of_the_tour_change_the_routine(clone: Path) -> None:
    """What the tour claims of each option, checked on the same calls."""
    namespace: dict[str, object] = {}
    for block in blocks("python")[:2]:
        exec(block, namespace)
    base = namespace["routine"]
    for name in ("short", "hamstrings", "strap", "gentle", "pregnant", "off_floor", "flagged"):
        other = namespace[name]
        assert other.steps != base.steps, name  # type: ignore[attr-defined]
    assert "hamstring_supine" in [s.stretch_id for s in namespace["hamstrings"].steps]  # type: ignore[attr-defined]
    assert "hamstring_supine" not in [s.stretch_id for s in namespace["short"].steps]  # type: ignore[attr-defined]


def test_pycon_blocks_are_doctests() -> None:
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for n, block in enumerate(blocks("pycon")):
        test = parser.get_doctest(block, {}, f"README pycon {n}", "README.md", 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def commands() -> list[str]:
    """Every command of the ``sh`` blocks, comments dropped, ``&&`` chains split."""
    out = []
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            out += [part.strip() for part in line.split("&&") if part.strip()]
    return out


def test_every_sh_command_runs_as_written(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ran = 0
    for command in commands():
        if command.startswith(SET_UP):
            continue
        argv = shlex.split(command.removeprefix(".venv/bin/"))
        if argv[0] == "sirecommend":
            status = main(argv[1:])
            assert status == 0, (command, capsys.readouterr().err)
        else:
            assert argv[0] == "python", f"README command not run by this test: {command}"
            done = subprocess.run(
                [sys.executable, *argv[1:]], capture_output=True, text=True, timeout=120,
                check=False,
            )  # fmt: skip
            assert done.returncode == 0, (command, done.stderr)
        ran += 1
    assert ran >= 15
    assert (clone / "routine.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (clone / "graph.svg").read_text(encoding="utf-8").startswith("<svg")
    assert "Why:" in (clone / "review.md").read_text(encoding="utf-8")  # --clinician
    assert "size: letter" in (clone / "large.html").read_text(encoding="utf-8")


def test_the_programme_story_writes_only_where_it_says(
    clone: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The story of "A programme": its journal and calendar are local files; the dose
    goes up after two greens and down after a red, with the reason."""
    monkeypatch.setenv("SIRECOMMEND_JOURNAL", str(clone / "not-this-one.sqlite3"))
    story = [c for c in commands() if c.startswith(("sirecommend log", "sirecommend next"))]
    assert len(story) == 6
    outs = []
    for command in story:
        assert main(shlex.split(command)[1:]) == 0, command
        outs.append(capsys.readouterr().out)
    hamstring = [
        next(line for line in out.splitlines() if "Hamstring stretch" in line)
        for out, command in zip(outs, story, strict=True)
        if "next" in command
    ]
    start, up, down = hamstring
    assert "45 s x 2 each side [start]" in start
    assert "60 s x 2 each side [up]" in up
    assert "45 s x 2 each side [down] - red session" in down
    assert len(Journal(clone / "journal.sqlite3").sessions()) == 3
    assert not (clone / "not-this-one.sqlite3").exists()
    plan = next(c for c in commands() if c.startswith("sirecommend plan"))
    assert main(shlex.split(plan)[1:]) == 0
    calendar = icalendar.Calendar.from_ical((clone / "plan.ics").read_bytes())
    assert len(list(calendar.walk("VEVENT"))) == 4 * 7 + 1  # daily, and the review


def test_console_blocks_print_what_they_show(
    clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for block in blocks("console"):
        command, *shown = block.splitlines()
        assert command.startswith("$ sirecommend ")
        main(shlex.split(command)[2:])
        out, err = capsys.readouterr()
        assert (out + err).splitlines() == shown
