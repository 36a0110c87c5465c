"""``sirecommend validate``: a bad pack exits 2, one line per problem, never a traceback;
a valid pack that relaxes a safety rule says so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sirecommend.cli import main

RELAXED = """
[[source]]
id = "clinic-protocol"
kind = "guideline"
title = "Clinic protocol"
publisher = "Clinic"

[[red_flag]]
id = "numbness"
override = true
name = "Numbness in one leg or foot"
urgency = "stop_and_review"
message = "Numbness in one leg: tell your physiotherapist at your next visit."
cites = ["clinic-protocol"]

[[relaxation]]
id = "numbness_advice"
table = "red_flag"
entry = "numbness"
field = "message"
reason = "Our patients see a physiotherapist weekly."
clinician = "Dr B. Example"
cites = ["clinic-protocol"]
"""


def validate(capsys: pytest.CaptureFixture[str], *packs: Path) -> tuple[int, list[str], str]:
    status = main(["validate", *map(str, packs)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.toml", "a = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("huge.toml", "x = " + "9" * 5000, "Exceeds the limit (4300 digits)"),
        ("syntax.toml", 'x = "\n', "TOML syntax error"),
        ("fifo.toml", None, "not a regular file"),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    if content is None:
        os.mkfifo(tmp_path / name)
    else:
        (tmp_path / name).write_text(content, encoding="utf-8")
    status, lines, err = validate(capsys, tmp_path)
    assert (status, err) == (2, "")
    assert len(lines) == 2
    assert lines[1] == "invalid: 1 problem"
    assert lines[0].startswith(f"{tmp_path / name}: ")
    assert message in lines[0]
    assert "Traceback" not in lines[0]


def test_a_weakening_pack_lists_each_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "weak.toml").write_text(RELAXED.split("[[relaxation]]")[0], encoding="utf-8")
    (tmp_path / "syntax.toml").write_text("x = = 1\n", encoding="utf-8")
    status, lines, _ = validate(capsys, tmp_path)
    assert status == 2
    assert lines[-1] == "invalid: 2 problems"
    assert lines[0].startswith(f"{tmp_path / 'syntax.toml'}: TOML syntax error")
    assert lines[1].startswith(
        f"{tmp_path / 'weak.toml'}: red_flag 'numbness': field 'message': changes the message"
    )
    assert "[[relaxation]]" in lines[1]


def test_a_relaxation_is_printed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "clinic.toml").write_text(RELAXED, encoding="utf-8")
    status, lines, _ = validate(capsys, tmp_path)
    assert status == 0
    assert lines[0] == f"valid: {tmp_path} (1 safety rule relaxed on purpose)"
    assert "SAFETY RULES RELAXED by the clinic that supplied this knowledge:" in lines
    assert (
        "- red_flag 'numbness', field 'message': Our patients see a physiotherapist weekly. "
        "Responsible clinician: Dr B. Example. Cited: clinic-protocol."
    ) in lines


def test_the_shipped_knowledge_relaxes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = validate(capsys)
    assert status == 0
    assert lines[0] == "valid: the shipped knowledge"


def test_packs_given_with_the_pack_option_are_validated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import argparse

    from sirecommend.cli import _cmd_validate

    (tmp_path / "clinic.toml").write_text(RELAXED, encoding="utf-8")
    assert _cmd_validate(argparse.Namespace(dirs=[], pack=[str(tmp_path)])) == 0
    assert capsys.readouterr().out.startswith(f"valid: {tmp_path} (1 safety rule relaxed")


def test_a_pack_name_too_long_for_the_file_system_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = tmp_path / ("p" * (os.pathconf(tmp_path, "PC_NAME_MAX") + 1))
    with pytest.raises(OSError, match="too long"):
        name.exists()  # what the pre-check used to call unguarded
    status, lines, err = validate(capsys, name)
    assert (status, err) == (2, "")
    assert len(lines) == 2
    assert lines[0].startswith(f"{name}: cannot read pack: ")  # e.g. "File name too long"
    assert lines[1] == "invalid: 1 problem"
