"""The programme's commands (log, next, history, plan), through ``sirecommend.cli.main``."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import icalendar
import pytest

from sirecommend._programme_cli import history_svg
from sirecommend.cli import main
from sirecommend.journal import ENV_VAR, Journal


def run(*argv: str) -> int:
    return main(list(argv))


@pytest.fixture
def journal(tmp_path: Path) -> str:
    return str(tmp_path / "journal.sqlite3")


def log(journal: str, day: str, *feedback: str, extra: tuple[str, ...] = ()) -> int:
    flags = [x for f in feedback for x in ("--feedback", f)]
    return run(
        "log", "--context", "after_sitting", "--journal", journal, "--date", day, *flags, *extra
    )


def line_of(out: str, name: str) -> str:
    (found,) = [line for line in out.splitlines() if name in line and line[0].isdigit()]
    return found


FOCUS = ("--focus", "hamstrings")


def test_the_four_session_story(journal: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Start; two green sessions, then a dose up; a red session, then a dose down.

    A break from sitting lasts about 10 minutes: the focus keeps the hamstring stretch."""
    ham = "Hamstring stretch on your back"
    assert run("next", "--context", "after_sitting", *FOCUS, "--journal", journal) == 0
    out = capsys.readouterr().out
    assert "45 s x 2 each side [start]" in line_of(out, ham)
    assert "does not change them" not in out  # the journal decides the routine now
    assert "Rules: Traffic-light pain monitoring, from: Stretches for SI joint pain" in out
    assert "Achilles tendinopathy" in out  # where the bands come from, in words
    assert "si-stretch-guide" not in out  # no citation ids
    assert log(journal, "2025-11-02", "hamstring_supine:2:2:1:same") == 0
    assert log(journal, "2025-11-03", "hamstring_supine:2:3:2:better") == 0
    assert "recorded" in capsys.readouterr().out
    assert run("next", "--context", "after_sitting", *FOCUS, "--journal", journal) == 0
    up = line_of(capsys.readouterr().out, ham)
    assert "60 s x 2 each side [up]" in up
    assert "2 green sessions in a row" in up
    assert log(journal, "2025-11-04", "hamstring_supine:2:7:6:worse") == 0
    capsys.readouterr()
    assert run("next", "--context", "after_sitting", *FOCUS, "--journal", journal) == 0
    out = capsys.readouterr().out
    down = line_of(out, ham)
    assert "45 s x 2 each side [down]" in down
    assert "red session" in down
    assert "Nothing goes up: pain of 7/10" in out


def test_next_json_and_a_second_red(journal: str, capsys: pytest.CaptureFixture[str]) -> None:
    log(journal, "2025-11-02", "hamstring_supine:2:8", "hip_flexor_standing_lunge:2:8")
    log(journal, "2025-11-03", "hamstring_supine:2:8", "hip_flexor_standing_lunge:2:8")
    capsys.readouterr()
    assert run("next", "--context", "after_sitting", "--journal", journal) == 0
    out = capsys.readouterr().out
    assert "Left out: Hamstring stretch on your back" in out
    # Both paused: the alternative cannot stand in, and is listed as paused too.
    assert "Left out: Standing lunge hip-flexor stretch: Paused by your logged sessions" in out
    assert "physical therapist" in out
    assert run("next", "--context", "after_sitting", "--journal", journal, "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["progression"]["paused"][0]["stretch_id"] == "hamstring_supine"
    assert data["routine"]["status"] == "ok"


def test_a_logged_red_flag_refers(journal: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert log(journal, "2025-11-02", "hamstring_supine:2:1", extra=("--red-flag", "fever")) == 0
    assert "warning sign" in capsys.readouterr().out
    assert run("next", "--context", "after_sitting", "--journal", journal) == 0
    out = capsys.readouterr().out
    assert "URGENT" in out.upper()
    assert "[start]" not in out


def test_log_twice_and_by_prompts(
    journal: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert log(journal, "2025-11-02", "hamstring_supine:2:1") == 0
    assert log(journal, "2025-11-02", "hamstring_supine:2:1") == 0
    assert f"(after_sitting) already in {journal}." in capsys.readouterr().out
    # Prompts: skip the first stretch, then a bad answer, then sets, pains.
    answers = "\nx\n2\n11\n3\n\n" + "\n" * 10
    monkeypatch.setattr("sys.stdin", io.StringIO(answers))
    assert (
        run("log", "--context", "after_sitting", "--journal", journal, "--date", "2025-11-05") == 0
    )
    out = capsys.readouterr().out
    assert "not understood" in out
    second = Journal(journal).sessions()[-1]
    (fb,) = second.feedback
    assert (fb.sets_done, fb.pain_during, fb.pain_after) == (2, 3, None)
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n4\n5\n" + "\n" * 10))
    assert (
        run("log", "--context", "after_sitting", "--journal", journal, "--date", "2025-11-06") == 0
    )
    assert Journal(journal).sessions()[-1].feedback[0].pain_after == 5
    monkeypatch.setattr("sys.stdin", io.StringIO("2\n"))
    assert run("log", "--context", "after_sitting", "--journal", journal) == 2
    assert "end of input" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("log", "--context", "after_sittin", "--feedback", "x:1:1"),
            "did you mean 'after_sitting'",
        ),
        (("log", "--context", "after_sitting", "--feedback", "hamstring:1:1"), "unknown stretch"),
        (
            ("log", "--context", "after_sitting", "--feedback", "hamstring_supine:1:12"),
            "argument --feedback: invalid value 'hamstring_supine:1:12': pain during 12",
        ),
        (
            (
                "log",
                "--context",
                "after_sitting",
                "--date",
                "2999-01-01",
                "--feedback",
                "hamstring_supine:1:1",
            ),
            "future",
        ),
        (("history", "--chart", "chart.gif"), ".svg or .png"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    journal: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert run(*argv, "--journal", journal) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith(f"sirecommend {argv[0]}: error:")


def test_a_damaged_journal_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "j.db"
    bad.write_bytes(b"not sqlite " * 100)
    assert run("history", "--journal", str(bad)) == 2
    assert "damaged or not SQLite" in capsys.readouterr().err
    assert (
        run(
            "history",
            "--journal",
            str(tmp_path / "no" / "dir" / "x"),
            "--chart",
            str(tmp_path / "no" / "c.svg"),
        )
        == 2
    )
    assert "No such file" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["x", "x:1", "x:a:1", "x:1:1:b", "a:1:1:1:fine:z"])
def test_bad_feedback_flags(flag: str, journal: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "--context", "after_sitting", "--journal", journal, "--feedback", flag) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sirecommend log: error: argument --feedback: invalid value {flag!r}: "
        "use STRETCH:SETS:PAIN_DURING[:PAIN_AFTER[:MORNING]]\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("plan", "--context", "warm_up", "--days", "mon,funday"), "--days: invalid day 'funday'"),
        (("plan", "--context", "warm_up", "--days", "8"), "--days: invalid day '8'"),
        (("plan", "--context", "warm_up", "--wake", "7h"), "--wake: invalid time '7h'"),
        (("plan", "--context", "warm_up", "--weeks", "0"), "--weeks: invalid value '0'"),
        (("plan", "--context", "warm_up", "--weeks", "53"), "from 1 to 52"),
        (("log", "--context", "warm_up", "--date", "yesterday"), "--date: invalid date"),
        (
            ("log", "--context", "warm_up", "--feedback", "hamstring_supine:1:1:2:meh"),
            "next morning 'meh': Input should be 'better', 'same' or 'worse'",
        ),
    ],
)
def test_bad_option_values(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sirecommend {argv[0]}: error: argument ")
    assert message in err
    assert err.count("\n") == 1


def test_history_table_json_and_charts(
    journal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("history", "--journal", journal) == 0
    assert "No sessions" in capsys.readouterr().out
    log(journal, "2025-11-02", "hamstring_supine:2:2:4:same", "figure_four_supine:1:5")
    run(
        "log",
        "--context",
        "warm_up",
        "--journal",
        journal,
        "--date",
        "2025-11-03",
        "--feedback",
        "child_pose_side_reach:0:0",
    )
    Journal(journal).record(
        Journal(journal).sessions()[0].model_copy(update={"feedback": (), "context": "cool_down"})
    )
    capsys.readouterr()
    assert run("history", "--journal", journal) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == [
        "date",
        "context",
        "stretch",
        "sets",
        "during",
        "after",
        "morning",
        "band",
    ]
    # Columns are separated by two or more spaces; names, not ids, as the person reads them.
    cells = [re.split(r"\s{2,}", r) for r in rows]
    assert cells[1] == [
        "2025-11-02", "After sitting", "Hamstring stretch on your back",
        "2", "2", "4", "same", "amber",
    ]  # fmt: skip
    assert ["Warm-up", "Child's pose with side reach"] in [c[1:3] for c in cells]
    assert ["Cool-down", "(none)", "0"] in [c[1:4] for c in cells]
    assert "hamstring_supine" not in "\n".join(rows)
    assert len(rows) == 5
    assert run("history", "--journal", journal, "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["date"] for s in data] == ["2025-11-02", "2025-11-02", "2025-11-03"]
    svg = tmp_path / "c.svg"
    assert run("history", "--journal", journal, "--chart", str(svg)) == 0
    root = ET.fromstring(svg.read_text("utf-8"))
    polylines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(polylines) == 2
    assert len(polylines[0].get("points", "").split()) == 3  # one point per session
    png = tmp_path / "c.png"
    assert run("history", "--journal", journal, "--chart", str(png)) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one = tmp_path / "one.png"
    Journal(tmp_path / "single.db").record(Journal(journal).sessions()[0])
    assert run("history", "--journal", str(tmp_path / "single.db"), "--chart", str(one)) == 0
    assert one.exists()


def test_history_svg_scales_pain_to_ten() -> None:
    root = ET.fromstring(history_svg([]))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_plan_writes_a_calendar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ics = tmp_path / "plan.ics"
    argv = ["plan", "--context", "after_sleep", "--start", "2026-12-07", "--weeks", "2"]
    assert (
        run(
            *argv,
            "--days",
            "mon,3,fri",
            "--wake",
            "06:45",
            "--also",
            "after_sitting",
            "--ics",
            str(ics),
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "12 session(s); review on 2026-12-21" in out
    assert "- after_sleep: 6 session(s)" in out
    assert "Calendar written" in out
    cal = icalendar.Calendar.from_ical(ics.read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 13
    wake = [e for e in events if "after sleep" in str(e["SUMMARY"])]
    assert wake[0].decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2026-12-07 06:45"
    assert run("plan", "--context", "warm_up", "--days", "tue") == 0
    assert "ACSM" in capsys.readouterr().out


# --------------------------------------------------------------------------- wiring


def test_bare_sirecommend_lists_the_programme_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run() == 0
    out = capsys.readouterr().out
    for command in ("log", "next", "history", "plan"):
        assert f"    {command}" in out


@pytest.mark.parametrize("command", ["log", "next", "history", "plan"])
def test_help_of_each_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(command, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: sirecommend {command}")
    if command != "plan":
        assert "SIRECOMMEND_JOURNAL" in " ".join(out.split())


def test_the_journal_comes_from_the_flag_then_the_environment_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    feedback = ("--feedback", "hamstring_supine:2:1")
    assert run("log", "--context", "after_sitting", *feedback) == 0
    default = tmp_path / "data" / "sirecommend" / "journal.sqlite3"
    assert f"recorded in {default}." in capsys.readouterr().out
    env = tmp_path / "env.sqlite3"
    monkeypatch.setenv(ENV_VAR, str(env))
    assert run("log", "--context", "warm_up", *feedback) == 0
    flag = tmp_path / "flag.sqlite3"
    assert run("log", "--context", "cool_down", "--journal", str(flag), *feedback) == 0
    contexts = [[s.context for s in Journal(p).sessions()] for p in (default, env, flag)]
    assert contexts == [["after_sitting"], ["warm_up"], ["cool_down"]]
    home = tmp_path / "home"
    home.mkdir()
    assert run("history", "--journal", "~/flag.sqlite3") == 0  # ~ is expanded
    assert "No sessions" in capsys.readouterr().out


def test_journal_errors_name_where_the_path_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    (tmp_path / "sirecommend" / "journal.sqlite3").mkdir(parents=True)

    def error(*argv: str) -> str:
        assert run(*argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        return err

    default = tmp_path / "sirecommend" / "journal.sqlite3"
    assert error("history") == (
        f"sirecommend history: error: journal {str(default)!r} (choose another with "
        f"--journal) is a directory: name a file in it, such as "
        f"{str(default / 'journal.sqlite3')!r}\n"
    )
    assert "--journal needs a file path" in error("history", "--journal", " ")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("not a journal " * 100, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(not_sqlite))
    assert f"${ENV_VAR} {str(not_sqlite)!r}: damaged or not SQLite" in error("history")
    under_a_file = not_sqlite / "journal.sqlite3"
    line = error(
        "log", "--context", "warm_up", "--journal", str(under_a_file),
        "--feedback", "hamstring_supine:1:1",
    )  # fmt: skip
    assert f"--journal {str(under_a_file)!r}: cannot open it" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("log", "--context", "warm_up", "--red-flag", "fevr",
             "--feedback", "hamstring_supine:1:1"),
            "unknown red flag 'fevr' in --red-flag; did you mean 'fever'?",
        ),
        (
            ("log", "--context", "warm_up", "--feedback", "hamstring_supine:1:1",
             "--feedback", "hamstring_supine:1:2"),
            "invalid --feedback: feedback repeats stretch hamstring_supine",
        ),
        (
            ("next", "--context", "after_sittin"),
            "unknown context 'after_sittin' in --context; did you mean 'after_sitting'?",
        ),
        (("next", "--context", "warm_up", "--equipment", "strp"), "'strp' in --equipment"),
        (("next", "--context", "warm_up", "--focus", "hams"), "'hams' in --focus"),
        (("next", "--context", "warm_up", "--minutes", "0"), "argument --minutes"),
        (("plan", "--context", "warm_up", "--also", "warmup"), "'warmup' in --also"),
        (("plan", "--context", "warmup"), "'warmup' in --context"),
        (("plan", "--context", "warm_up", "--avoid", "sofa"), "'sofa' in --avoid"),
        (("next", "--context", "warm_up", "--pack", "no/such/pack"), "no such knowledge pack"),
    ],
)  # fmt: skip
def test_messages_name_the_flag_typed(
    journal: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    extra = () if argv[0] == "plan" else ("--journal", journal)
    assert run(*argv, *extra) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "red_flags" not in err
    assert "avoid_positions" not in err


def test_writing_the_calendar_or_the_chart_can_fail(
    journal: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "dir"
    assert run("plan", "--context", "warm_up", "--ics", str(missing / "p.ics")) == 2
    assert f"cannot write --ics {str(missing / 'p.ics')!r}: No such file" in capsys.readouterr().err
    for name in ("c.svg", "c.png"):
        assert run("history", "--journal", journal, "--chart", str(missing / name)) == 2
        assert f"cannot write --chart {str(missing / name)!r}" in capsys.readouterr().err


def test_next_when_aggravated_and_a_stand_in(
    journal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Aggravated today wins over the journal; a paused stretch gives way to its stand-in."""
    log(journal, "2025-11-02", "hip_flexor_half_kneeling:2:8")
    log(journal, "2025-11-03", "hip_flexor_half_kneeling:2:9")
    log(journal, "2025-11-04", "hamstring_supine:2:1")
    log(journal, "2025-11-05", "hamstring_supine:2:2")
    capsys.readouterr()
    # Time for every step (a break from sitting is about 10 minutes by default).
    argv = ("next", "--context", "after_sitting", "--minutes", "30", "--journal", journal)
    assert run(*argv) == 0
    out = capsys.readouterr().out
    assert "60 s x 2 each side [up]" in line_of(out, "Hamstring stretch on your back")
    lunge = line_of(out, "Standing lunge hip-flexor stretch")
    assert "(in place of Half-kneeling hip-flexor stretch)" in lunge
    assert "Left out: Half-kneeling hip-flexor stretch: Paused" in out
    # Aggravated keeps the 4 gentlest steps; the focus keeps the hamstring stretch.
    assert run(*argv, "--aggravated", "--focus", "hamstrings") == 0
    ham = line_of(capsys.readouterr().out, "Hamstring stretch on your back")
    assert "30 s x 2, reduced range each side [down] - aggravated today" in ham
