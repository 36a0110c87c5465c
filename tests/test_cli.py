"""The command line, driven as a user would: exit codes, output, and one-line errors."""

from __future__ import annotations

import argparse
import importlib
import json
import runpy
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, ClassVar

import networkx as nx
import pytest

from sirecommend import (
    InvalidArgumentError,
    KnowledgeBase,
    SafetyError,
    Violation,
    __version__,
    cli,
    load_knowledge,
    recommend,
    schema_of_packs,
)
from sirecommend import _draw as draw
from sirecommend.cli import main
from sirecommend.handout import to_html, to_markdown

MINUTES = "give a number of minutes above 0 and at most 1440"

PACK = """
[[source]]
id = "clinic-notes"
kind = "guideline"
title = "Clinic notes"
publisher = "Test clinic"

[[context]]
id = "at_desk"
name = "At the desk"
cites = ["clinic-notes"]

[[position]]
id = "sofa"
name = "On the sofa"
sequence = 5
is_a = "seated_chair"
cites = ["clinic-notes"]

[[stretch]]
id = "sofa_stretch"
name = "Sofa stretch"
phase = "targeted"
position = "sofa"
movements = ["hip_flexion"]
targets = ["glutes"]
cites = ["clinic-notes"]

[stretch.dosage]
hold_seconds = [30, 30]
sets = [1, 1]
per_side = false
cites = ["clinic-notes"]

[[stretch.instructions]]
text = "Sit back."
cites = ["clinic-notes"]

[[stretch.suits]]
context = "at_desk"
cites = ["clinic-notes"]

[[stretch.suits]]
context = "after_sitting"
cites = ["clinic-notes"]

[[ordering]]
id = "sofa_before_side_bend"
before = "sofa_stretch"
after = "standing_side_bend"
cites = ["clinic-notes"]
"""

# Three problems in one file: an unknown position, a typo'd field, a missing paragraph.
BAD_PACK = """
[[stretch]]
id = "bad_stretch"
name = "Bad stretch"
phase = "targeted"
position = "sofa"
movements = ["hip_flexion"]
targets = ["glutes"]
cites = ["si-stretch-guide#p99"]

[stretch.dosage]
hold_seconds = [30, 30]
sets = [1, 1]
per_side = false
cites = ["si-stretch-guide#p1"]

[[stretch.instructions]]
text = "Sit back."
cites = ["si-stretch-guide#p1"]

[[stretch.suits]]
context = "after_sitting"
cites = ["si-stretch-guide#p1"]

[[muscle]]
id = "calves"
nmae = "Calves"
cites = ["si-stretch-guide#p1"]
"""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pack")
    (folder / "clinic.toml").write_text(PACK, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bad_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "bad.toml").write_text(BAD_PACK, encoding="utf-8")
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def bad_input(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``argv``, expect exit 2 and exactly one line on stderr; return that line."""
    status, out, err = run(capsys, *argv)
    assert status == 2, (out, err)
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("sirecommend")
    return err.strip()


# --------------------------------------------------------------------------- recommend


class TestRecommend:
    PROFILE: ClassVar[tuple[str, ...]] = (
        "--context",
        "after_sitting",
        "--equipment",
        "strap",
        "towel",
        "--aggravated",
        "--minutes",
        "9",
        "--focus",
        "hamstrings",
        "--avoid",
        "prone",
    )
    SAME: ClassVar[dict[str, Any]] = {
        "context": "after_sitting",
        "equipment": {"strap", "towel"},
        "aggravated": True,
        "minutes": 9.0,
        "focus": {"hamstrings"},
        "avoid_positions": {"prone"},
    }

    def test_text_is_str_of_the_routine(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, err = run(capsys, "recommend", *self.PROFILE)
        assert (status, err) == (0, "")
        assert out == str(recommend(**self.SAME)) + "\n"

    def test_json_equals_the_library(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "recommend", *self.PROFILE, "--format", "json")
        assert status == 0
        assert out == recommend(**self.SAME).model_dump_json() + "\n"

    def test_json_with_pregnancy_and_pack(
        self, capsys: pytest.CaptureFixture[str], pack: Path
    ) -> None:
        argv = ["--context", "after_sitting", "--trimester", "2", "--pack", str(pack)]
        status, out, _ = run(capsys, "recommend", *argv, "--format", "json")
        want = recommend(
            context="after_sitting", pregnancy_trimester=2, knowledge=load_knowledge(pack)
        )
        assert status == 0
        assert out.strip() == want.model_dump_json()
        assert "sofa_stretch" in out

    def test_markdown_and_html(self, capsys: pytest.CaptureFixture[str]) -> None:
        routine = recommend(**self.SAME)
        _, md, _ = run(capsys, "recommend", *self.PROFILE, "--format", "markdown")
        assert md == to_markdown(routine)
        _, page, _ = run(capsys, "recommend", *self.PROFILE, "--format", "html")
        assert page == to_html(routine)

    def test_output_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        target = tmp_path / "routine.json"
        status, out, _ = run(
            capsys, "recommend", *self.PROFILE, "--format", "json", "-o", str(target)
        )
        assert (status, out) == (0, "")
        assert target.read_text(encoding="utf-8") == recommend(**self.SAME).model_dump_json() + "\n"

    @pytest.mark.parametrize(
        ("name", "start"),
        [
            ("r.html", "<!DOCTYPE html>"),
            ("r.HTM", "<!DOCTYPE html>"),
            ("r.md", "# "),
            ("r.json", '{"context":'),
            ("r.txt", "SI joint stretching routine"),
            ("r", "SI joint stretching routine"),
        ],
    )
    def test_output_format_from_the_extension(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, start: str
    ) -> None:
        target = tmp_path / name
        assert run(capsys, "recommend", *self.PROFILE, "-o", str(target))[0] == 0
        assert target.read_text(encoding="utf-8").startswith(start)

    def test_handout_options_reach_the_handout(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        routine = recommend(**self.SAME)
        _, md, _ = run(capsys, "recommend", *self.PROFILE, "--format", "markdown", "--clinician")
        assert md == to_markdown(routine, clinician=True)
        assert "Why:" in md
        page = tmp_path / "r.html"
        argv = ["--clinician", "--paper", "Letter", "--large-print", "-o", str(page)]
        assert run(capsys, "recommend", *self.PROFILE, *argv)[0] == 0
        want = to_html(routine, clinician=True, paper="Letter", large_print=True)
        assert page.read_text(encoding="utf-8") == want
        _, plain, _ = run(capsys, "recommend", *self.PROFILE, "--format", "html")
        assert plain == to_html(routine, paper="A4")
        assert "size: A4" in plain
        assert "Why:" not in plain

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (("--clinician",), "--clinician applies to --format markdown or html"),
            (("--clinician", "--format", "json"), "not json"),
            (("--paper", "A4", "--format", "markdown"), "--paper applies to --format html"),
            (("--large-print", "-o", "x.md"), "--large-print applies to --format html"),
        ],
    )
    def test_handout_options_need_a_handout(
        self, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
    ) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", *argv)
        assert message in line
        assert ("sirecommend explain" in line) == (argv == ("--clinician",))

    def test_bad_paper(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", "--paper", "A5")
        assert "argument --paper: invalid choice: 'A5'" in line

    def test_format_wins_over_the_extension(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        target = tmp_path / "r.html"
        assert (
            run(capsys, "recommend", *self.PROFILE, "--format", "text", "-o", str(target))[0] == 0
        )
        assert target.read_text(encoding="utf-8").startswith("SI joint stretching routine")

    @pytest.mark.parametrize(
        ("flags", "word"),
        [
            (("night_pain",), "URGENT"),
            (("fever",), "SEE A DOCTOR TODAY"),
            (("saddle_numbness", "fever"), "EMERGENCY"),
            (("severe_pain",), "STOP AND REVIEW"),
        ],
    )
    def test_red_flag_prints_the_referral_and_exits_0(
        self, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], word: str
    ) -> None:
        status, out, err = run(capsys, "recommend", "--context", "warm_up", "--red-flag", *flags)
        assert (status, err) == (0, "")
        head = word if word.startswith("STOP") else f"STOP - {word}"
        assert f"\n{head}: red flags reported" in out
        assert "STOP - STOP" not in out
        routine = recommend(context="warm_up", red_flags=set(flags))
        assert routine.referral is not None
        assert routine.referral.message.split()[0] in out
        _, js, _ = run(capsys, "recommend", "--context", "warm_up", "--red-flag", *flags,
                       "--format", "json")  # fmt: skip
        assert json.loads(js)["referral"]["urgency"] == routine.referral.urgency


class TestBadInput:
    def test_unknown_context_names_the_choices(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "recommend", "--context", "after_sittin")
        assert "'after_sittin'" in line
        assert "did you mean 'after_sitting'" in line
        assert "after_sleep, cool_down, post_activity, warm_up" in line

    @pytest.mark.parametrize(
        ("flag", "value", "valid"),
        [
            ("--equipment", "rope", "foam_roller, strap, towel"),
            ("--avoid", "sofa", "floor"),
            ("--red-flag", "feverish", "fever"),
            ("--focus", "hamstring", "hamstrings"),
        ],
    )
    def test_unknown_ids(
        self, capsys: pytest.CaptureFixture[str], flag: str, value: str, valid: str
    ) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", flag, value)
        assert repr(value) in line
        assert valid in line

    @pytest.mark.parametrize(
        ("argv", "expect"),
        [
            (["--minutes", "x"], f"argument --minutes: invalid value 'x': {MINUTES}"),
            (["--minutes", "0"], f"argument --minutes: invalid value '0': {MINUTES}"),
            (["--minutes", "-3"], f"argument --minutes: invalid value '-3': {MINUTES}"),
            (["--minutes", "nan"], f"argument --minutes: invalid value 'nan': {MINUTES}"),
            (["--minutes", "1e5"], f"argument --minutes: invalid value '1e5': {MINUTES}"),
            (["--trimester", "4"], "argument --trimester: invalid value '4': choose 1, 2 or 3"),
            (["--trimester", "two"], "argument --trimester: invalid value 'two'"),
        ],
    )
    def test_bad_numbers(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], expect: str
    ) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", *argv)
        assert expect in line

    def test_minutes_in_range_are_taken(self) -> None:
        assert cli._minutes("1440") == 1440.0
        assert cli._minutes(" 0.5 ") == 0.5

    def test_empty_context(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert "invalid --context ''" in bad_input(capsys, "recommend", "--context", "")

    def test_missing_context(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "recommend")
        assert "the following arguments are required: --context" in line

    def test_bad_format(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", "--format", "pdf")
        assert "'pdf'" in line
        assert "'text', 'json', 'markdown', 'html'" in line

    def test_missing_pack(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        missing = str(tmp_path / "nope")
        line = bad_input(capsys, "recommend", "--context", "warm_up", "--pack", missing)
        assert f"no such knowledge pack {missing!r}" in line

    def test_invalid_pack(self, capsys: pytest.CaptureFixture[str], bad_pack: Path) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", "--pack", str(bad_pack))
        assert "invalid knowledge: " in line
        assert "bad.toml" in line
        assert "more)" in line
        assert f"sirecommend validate {bad_pack}" in line

    def test_unwritable_output(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        target = str(tmp_path / "no" / "such" / "dir.txt")
        line = bad_input(capsys, "recommend", "--context", "warm_up", "-o", target)
        assert f"cannot write {target!r}: No such file or directory" in line

    def test_unknown_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "recomend")
        assert "invalid choice: 'recomend'" in line
        assert "'recommend'" in line

    def test_no_command_prints_usage_and_the_commands(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        status, out, err = run(capsys)
        assert (status, err) == (0, "")
        assert out.startswith("usage: sirecommend")
        for command in ("recommend", "explain", "list", "show", "validate", "graph", "schema",
                        "log", "next", "history", "plan"):  # fmt: skip
            assert f"    {command}" in out

    @pytest.mark.parametrize(
        ("flag", "value", "kind"),
        [
            ("--avoid", "sofa", "position"),
            ("--red-flag", "feverish", "red flag"),
            ("--focus", "hamstring", "muscle"),
            ("--equipment", "rope", "equipment"),
        ],
    )
    def test_messages_name_the_flag(
        self, capsys: pytest.CaptureFixture[str], flag: str, value: str, kind: str
    ) -> None:
        line = bad_input(capsys, "explain", "--context", "warm_up", flag, value)
        assert f"unknown {kind} {value!r} in {flag}" in line
        assert "avoid_positions" not in line
        assert "red_flags" not in line

    def test_unknown_context_names_the_flag(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert "in --context" in bad_input(capsys, "recommend", "--context", "nap")

    def test_safety_error_is_one_line_exit_1(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def unsafe(*args: object, **kwargs: object) -> None:
            raise SafetyError([Violation(rule="r", message="m")])

        monkeypatch.setattr(cli, "recommend", unsafe)
        status, out, err = run(capsys, "recommend", "--context", "warm_up")
        assert (status, out) == (1, "")
        assert err.count("\n") == 1
        assert "unsafe routine withheld" in err
        assert "please report it" in err

    def test_invalid_argument_error_is_exit_2(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def wrong(*args: object, **kwargs: object) -> None:
            raise InvalidArgumentError("bad\nargument")

        monkeypatch.setattr(cli, "recommend", wrong)
        assert bad_input(capsys, "explain", "--context", "warm_up").endswith("bad argument")


# --------------------------------------------------------------------------- browsing


class TestBrowse:
    def test_contexts(self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
        status, out, _ = run(capsys, "contexts")
        assert status == 0
        lines = out.splitlines()
        assert [ln.split()[0] for ln in lines] == list(kb.contexts)
        assert "After sitting (9 stretches): A short break after sitting" in lines[0]

    def test_contexts_with_pack(self, capsys: pytest.CaptureFixture[str], pack: Path) -> None:
        _, out, _ = run(capsys, "contexts", "--pack", str(pack))
        assert "at_desk" in out

    def test_stretches(self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
        status, out, _ = run(capsys, "stretches")
        assert status == 0
        assert [ln.split()[0] for ln in out.splitlines()] == list(kb.stretches)
        assert "(alternative to adductor_strap_supine)" in out

    def test_stretches_of_a_context_in_routine_order(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        _, out, _ = run(capsys, "stretches", "--context", "warm_up")
        assert [ln.split()[0] for ln in out.splitlines()] == list(kb.order("warm_up"))
        line = bad_input(capsys, "stretches", "--context", "warmup")
        assert "did you mean 'warm_up'" in line

    def test_show_a_stretch(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "show", "figure_four_supine")
        assert status == 0
        assert out.startswith("stretch figure_four_supine: Figure-4 glute and piriformis stretch\n")
        assert "figure_four_supine.toml" in out
        assert "  per_side: true\n" in out
        assert "    - text: Start lying face up" in out
        assert "  -> suits context:after_sitting (After sitting)" in out
        assert "  -> cites source:si-stretch-guide" in out

    def test_show_by_kind_and_entries_without_a_name(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _, out, _ = run(capsys, "show", "urgency:urgent")
        assert out.startswith("urgency urgent\n")
        assert (
            "  <- refers red_flag:night_pain (Pain at night or at rest that does not ease)" in out
        )
        _, out, _ = run(capsys, "show", "position_group:floor")
        assert "  <- part_of position:supine (Lying on your back)" in out

    def test_show_an_ordering_from_a_pack(
        self, capsys: pytest.CaptureFixture[str], pack: Path
    ) -> None:
        _, out, _ = run(capsys, "show", "sofa_before_side_bend", "--pack", str(pack))
        assert out.startswith("ordering sofa_before_side_bend\n")
        assert "clinic.toml" in out
        assert "links:" not in out  # an ordering is an edge, not a node

    def test_show_unknown(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "show", "figure_for_supine")
        assert "unknown id 'figure_for_supine'; did you mean stretch:figure_four_supine?" in line
        assert "'sirecommend show KIND:'" in line
        assert "'sirecommend list KIND'" in line
        assert "after_sitting" not in line  # no wall of ids
        line = bad_input(capsys, "show", "muscle:figure_four_supine")
        assert "unknown muscle 'figure_four_supine' (valid muscle ids: adductors, glutes" in line

    @pytest.mark.parametrize(
        ("typed", "meant"),
        [
            ("figure_4", "stretch:figure_four_supine"),  # too far for difflib: shared prefix
            ("stretch:figure_4", "stretch:figure_four_supine"),
            ("after_sittin", "context:after_sitting"),
            ("hamstring", "muscle:hamstrings"),
        ],
    )
    def test_show_suggests_the_nearest_id_of_its_kind(
        self, capsys: pytest.CaptureFixture[str], typed: str, meant: str
    ) -> None:
        assert f"did you mean {meant}?" in bad_input(capsys, "show", typed)

    def test_show_without_a_near_id_suggests_nothing(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert "did you mean" not in bad_input(capsys, "show", "zzzz")
        assert cli._closest("figu", ["figure"]) == "figure"
        assert cli._closest("fig", ["figure_x", "other"]) is None
        assert cli._closest("x", []) is None

    def test_show_kind_lists_its_entries(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        status, out, _ = run(capsys, "show", "muscle:")
        assert status == 0
        lines = out.splitlines()
        assert lines[0].split() == ["ID", "NAME"]
        assert [line.split()[0] for line in lines[1:]] == list(kb.muscles)
        assert "Hamstrings" in out

    def test_show_a_base_kind(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "show", "movement_kind:rotation")
        assert status == 0
        assert out.startswith("movement_kind rotation: Trunk rotation")
        assert "<- is_a movement:rotation" in out

    @pytest.mark.parametrize(
        ("kind", "table"),
        [
            ("contexts", "contexts"),
            ("stretches", "stretches"),
            ("equipment", "equipment"),
            ("muscles", "muscles"),
            ("rules", "rules"),
            ("sources", "sources"),
        ],
    )
    def test_list_every_id_of_a_kind(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase, kind: str, table: str
    ) -> None:
        status, out, _ = run(capsys, "list", kind)
        assert status == 0
        lines = out.splitlines()
        assert lines[0].startswith("ID  ")
        assert [line.split()[0] for line in lines[1:]] == list(getattr(kb, table))
        status, out, _ = run(capsys, "list", kind, "--format", "json")
        assert [row["id"] for row in json.loads(out)] == list(getattr(kb, table))

    def test_list_positions_with_groups_and_base_kinds(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        status, out, _ = run(capsys, "list", "positions", "--format", "json")
        rows = json.loads(out)
        assert status == 0
        by_type: dict[str, list[str]] = {}
        for row in rows:
            by_type.setdefault(row["type"], []).append(row["id"])
        assert by_type == {
            "position": list(kb.positions),
            "group": list(kb.position_groups),
            "base kind": list(kb.position_kinds),
        }
        supine = next(r for r in rows if r["id"] == "supine" and r["type"] == "position")
        standing = next(r for r in rows if r["id"] == "standing" and r["type"] == "position")
        assert (supine["is_a"], supine["groups"]) == ("supine", "floor")
        assert standing["groups"] == ""

    def test_list_movements_with_kinds(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        _, out, _ = run(capsys, "list", "movement", "--format", "json")
        rows = json.loads(out)
        moves = {r["id"]: r["is_a"] for r in rows if r["type"] == "movement"}
        assert moves == {m.id: m.is_a for m in kb.movements.values()}
        assert [r["id"] for r in rows if r["type"] == "base kind"] == list(kb.movement_kinds)

    def test_list_red_flags_by_urgency(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        status, out, _ = run(capsys, "list", "red-flags")
        assert status == 0
        rows = [line.split()[:2] for line in out.splitlines()[1:]]
        assert sorted(r[0] for r in rows) == sorted(kb.red_flags)
        rank = {u.id: u.rank for u in kb.urgencies.values()}
        ranks = [rank[urgency] for _, urgency in rows]
        assert ranks == sorted(ranks, reverse=True)
        assert rows[0][1] == "emergency"
        assert rows[-1][1] == "stop_and_review"

    def test_list_stretches_of_a_context_and_with_a_pack(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase, pack: Path
    ) -> None:
        _, out, _ = run(capsys, "list", "stretches", "--context", "warm_up")
        assert [line.split()[0] for line in out.splitlines()[1:]] == list(kb.order("warm_up"))
        assert "alternative_of".upper() in out
        _, out, _ = run(capsys, "list", "contexts", "--pack", str(pack))
        assert "at_desk" in out
        line = bad_input(capsys, "list", "stretches", "--context", "nap")
        assert "unknown context 'nap' in --context" in line

    def test_list_to_a_file_and_bad_kinds(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        target = tmp_path / "eq.json"
        assert run(capsys, "list", "equipment", "--format", "json", "-o", str(target))[0] == 0
        assert [r["id"] for r in json.loads(target.read_text())] == [
            "foam_roller",
            "strap",
            "towel",
        ]
        line = bad_input(capsys, "list", "chairs")
        assert "argument KIND: invalid value 'chairs': choose from contexts, stretches" in line

    def test_table_of_nothing(self) -> None:
        assert cli._table([]) == "(none)"

    def test_pretty_edge_cases(self) -> None:
        assert list(cli._pretty({"a": [], "b": [{}], "c": None})) == [
            "a:",
            "b:",
            "  - ",
            "c: null",
        ]
        assert list(cli._pretty(3)) == ["3"]


class TestExplain:
    def test_in_and_out_with_reasons(self, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["--context", "after_sitting", "--avoid", "floor", "--equipment", "strap"]
        status, out, _ = run(capsys, "explain", *argv)
        assert status == 0
        routine = recommend(context="after_sitting", avoid_positions={"floor"}, equipment={"strap"})
        assert out.startswith("For: After sitting. Equipment at hand: Stretching strap.")
        assert f"In the routine ({len(routine.steps)}):" in out
        for step in routine.steps:
            assert f"{step.name} [{step.stretch_id}]" in out
            for reason in step.reasons:
                assert reason in out
        for e in routine.excluded:
            for r in e.reasons:
                assert f"{r.code.value}: {r.message}" in out
        assert "position_avoided: It is done lying on your back" in out
        assert "Not offered for after sitting by the knowledge (4):" in out
        assert "Foam rolling: glutes [foam_roll_glutes]" in out

    def test_unmet_focus_is_said(self, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["explain", "--context", "after_sitting", "--avoid", "floor"]
        _, out, _ = run(capsys, *argv, "--focus", "hamstrings", "hip_flexors")
        assert "Focus not met: no step here works Hamstrings (--focus)." in out
        _, out, _ = run(capsys, *argv, "--focus", "hip_flexors")
        assert "Focus not met" not in out
        _, out, _ = run(capsys, *argv, "--focus", "hamstrings", "--red-flag", "fever")
        assert "Focus not met" not in out  # a referral has no steps to meet it

    def test_recommend_says_an_unmet_focus_in_plain_words(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["recommend", "--context", "after_sitting", "--avoid", "floor"]
        _, out, _ = run(capsys, *argv, "--focus", "hamstrings")
        flat = " ".join(out.split())
        assert "Focus not met: you asked to focus on Hamstrings, but no step" in flat
        assert "hamstrings" not in out  # no ids in the patient's text

    def test_rules_are_named(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, "explain", "--context", "after_sitting", "--trimester", "3")
        assert "pregnancy: From the second trimester" in out
        assert "; rule pregnancy_no_supine" in out

    def test_red_flags(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, "explain", "--context", "cool_down", "--red-flag", "fever")
        assert "Referral (SAME DAY): Stop the routine and get seen by a doctor today" in out
        assert "In the routine (0):\n  (none)" in out
        assert "red_flag: Warning signs reported (fever or feeling generally unwell)" in out
        assert "Not offered" not in out  # cool_down offers every stretch

    def test_bad_input(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "explain", "--context", "warm_up", "--equipment", "bench")
        assert "unknown equipment 'bench'" in line


# --------------------------------------------------------------------------- validate


class TestValidate:
    def test_shipped_knowledge_is_valid(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "validate")
        assert status == 0
        assert out.startswith("valid: the shipped knowledge\nsirecommend knowledge: 13 stretches")

    def test_a_valid_pack(self, capsys: pytest.CaptureFixture[str], pack: Path) -> None:
        status, out, _ = run(capsys, "validate", str(pack))
        assert status == 0
        assert out.startswith(f"valid: {pack}\n")
        assert "14 stretches, 6 contexts" in out

    def test_pack_option(self, capsys: pytest.CaptureFixture[str], pack: Path) -> None:
        assert run(capsys, "validate", "--pack", str(pack)) == run(capsys, "validate", str(pack))
        status, out, _ = run(capsys, "validate", "--pack", str(pack))
        assert status == 0
        assert "14 stretches, 6 contexts" in out

    def test_pack_option_with_an_invalid_pack(
        self, capsys: pytest.CaptureFixture[str], bad_pack: Path
    ) -> None:
        status, out, _ = run(capsys, "validate", "--pack", str(bad_pack))
        assert status == 2
        assert "bad.toml" in out

    def test_every_problem_is_listed_with_file_entry_and_field(
        self, capsys: pytest.CaptureFixture[str], bad_pack: Path
    ) -> None:
        status, out, err = run(capsys, "validate", str(bad_pack))
        assert (status, err) == (2, "")
        lines = out.splitlines()
        assert lines[-1] == f"invalid: {len(lines) - 1} problems"
        problems = lines[:-1]
        assert len(problems) >= 2
        assert all(p.startswith(str(bad_pack / "bad.toml") + ": ") for p in problems)
        assert any("muscle 'calves': field 'name': Field required" in p for p in problems)
        assert any("muscle 'calves': field 'nmae': unknown field (typo?)" in p for p in problems)

    def test_reference_problems_all_listed(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        # Schema-valid, but an unknown position and a paragraph the source lacks.
        (tmp_path / "refs.toml").write_text(BAD_PACK.split("[[muscle]]")[0], encoding="utf-8")
        status, out, _ = run(capsys, "validate", str(tmp_path))
        assert status == 2
        assert "stretch 'bad_stretch': field 'position': unknown position 'sofa'" in out
        assert "stretch 'bad_stretch': field 'cites': citation 'si-stretch-guide#p99'" in out
        assert out.splitlines()[-1] == "invalid: 2 problems"

    def test_one_problem(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        (tmp_path / "one.toml").write_text("[[muscle]]\nid = 'x'\n", encoding="utf-8")
        status, out, _ = run(capsys, "validate", str(tmp_path / "one.toml"))
        assert status == 2
        assert out.splitlines()[-1].startswith("invalid: ")

    def test_missing_dir(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        line = bad_input(capsys, "validate", str(tmp_path / "gone"))
        assert "no such file or directory" in line


# --------------------------------------------------------------------------- graph and schema


class TestGraph:
    def test_dot(self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
        status, out, _ = run(capsys, "graph")
        assert status == 0
        assert out.startswith("digraph sirecommend {")
        assert out.rstrip().endswith("}")
        assert '"stretch:figure_four_supine" -> "context:after_sitting" [label="suits"' in out
        assert out.count(" -> ") == kb.graph.number_of_edges()
        assert '"stretch:figure_four_supine" [label="Figure-4 glute' in out
        assert 'fillcolor="#84c5f4"' in out

    @pytest.mark.parametrize(
        ("name", "start"),
        [("g.svg", "<svg"), ("g.gv", "digraph"), ("g.graphml", "<graphml"), ("g.json", "{")],
    )
    def test_format_from_the_extension(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, start: str
    ) -> None:
        target = tmp_path / name
        assert run(capsys, "graph", "-o", str(target))[0] == 0
        text = target.read_text(encoding="utf-8")
        assert text.lstrip().startswith(start) or f"\n{start}" in text[:200]

    def test_dot_strings_are_escaped(self) -> None:
        assert draw.dot_str('a "b"\\c\nd') == '"a \\"b\\"\\\\c\\nd"'

    def test_graphml_round_trips(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        _, out, _ = run(capsys, "graph", "--format", "graphml")
        g = nx.parse_graphml(out, force_multigraph=True)
        assert set(g.nodes) == set(kb.graph.nodes)
        assert g.number_of_edges() == kb.graph.number_of_edges()
        dosage = json.loads(g.nodes["stretch:figure_four_supine"]["dosage"])
        assert dosage["hold_seconds"] == [30, 60]

    def test_json_round_trips(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase, tmp_path: Path
    ) -> None:
        target = tmp_path / "g.json"
        assert run(capsys, "graph", "--format", "json", "-o", str(target))[0] == 0
        data = json.loads(target.read_text(encoding="utf-8"))
        g = nx.node_link_graph(data, edges="edges")
        assert set(g.nodes) == set(kb.graph.nodes)
        assert g.number_of_edges() == kb.graph.number_of_edges()
        relations = {d["relation"] for *_, d in g.edges(data=True)}
        assert "suits" in relations

    def test_svg(self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase) -> None:
        status, out, _ = run(capsys, "graph", "--format", "svg")
        assert status == 0
        root = ET.fromstring(out)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        ns = {"s": "http://www.w3.org/2000/svg"}
        titles = [t.text or "" for t in root.iterfind(".//s:g/s:title", ns)]
        shown = [n for n in kb.graph.nodes if kb.graph.nodes[n]["kind"] != "source"]
        assert len(titles) == len(shown)
        edges = root.findall(".//s:path[@marker-end]", ns)
        not_cites = [d for *_, d in kb.graph.edges(data=True) if d["relation"] != "cites"]
        assert len(edges) == len(not_cites)
        labels = {t.text for t in root.iterfind("s:text", ns)}
        assert {"suits", "targets", "in_position", "refers", "alternative_of"} <= labels
        assert "Left out: the sources" in out

    def test_png(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        pytest.importorskip("PIL")
        target = tmp_path / "g.png"
        status, out, err = run(capsys, "graph", "--format", "png", "-o", str(target))
        assert (status, out, err) == (0, "", "")
        assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    def test_png_needs_a_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert "give -o FILE" in bad_input(capsys, "graph", "--format", "png")

    def test_png_unwritable(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        pytest.importorskip("PIL")
        target = str(tmp_path / "no" / "g.png")
        line = bad_input(capsys, "graph", "--format", "png", "-o", target)
        assert "cannot write" in line

    def test_png_without_pillow(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
        line = bad_input(capsys, "graph", "--format", "png", "-o", str(tmp_path / "g.png"))
        assert "needs Pillow: pip install 'sirecommend[graph]'" in line
        assert not (tmp_path / "g.png").exists()

    def test_bad_format(self, capsys: pytest.CaptureFixture[str]) -> None:
        line = bad_input(capsys, "graph", "--format", "jpeg")
        assert "'dot', 'graphml', 'json', 'svg', 'png'" in line

    def test_with_a_pack(self, capsys: pytest.CaptureFixture[str], pack: Path) -> None:
        _, out, _ = run(capsys, "graph", "--format", "svg", "--pack", str(pack))
        assert "Sofa stretch" in out

    def test_layout_wraps_the_legend_and_handles_lone_nodes(self) -> None:
        g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        g.add_node("context:a", kind="context", id="a", name="A")
        g.add_node("stretch:b", kind="stretch", id="b", name="B" * 60)
        g.add_node("stretch:c", kind="stretch", id="c", name="C")
        g.add_node("thing:x", kind="thing", id="x")  # an unknown kind is not drawn
        g.add_edge("stretch:b", "context:a", key="suits", relation="suits")
        g.add_edge("stretch:b", "stretch:c", key="alternative_of", relation="alternative_of")
        g.add_edge("stretch:b", "stretch:c", key="precedes", relation="precedes")
        scene = draw.layout(g)
        assert len(scene.boxes) == 3
        assert max(len(b.label) for b in scene.boxes) == 38
        rows = {round(y) for _, y, *_ in scene.legend}
        assert len(rows) > 1  # the legend wraps on a narrow picture
        assert {c.label for c in scene.curves} == {"suits", "alternative_of", "precedes"}
        ET.fromstring(draw.to_svg(scene))


class TestSchemaAndMeta:
    def test_schema(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        status, out, _ = run(capsys, "schema")
        assert status == 0
        assert out == json.dumps(schema_of_packs(), indent=2) + "\n"
        target = tmp_path / "schema.json"
        assert run(capsys, "schema", "-o", str(target))[0] == 0
        assert json.loads(target.read_text(encoding="utf-8")) == schema_of_packs()

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        status, out, _ = run(capsys, "--version")
        assert (status, out) == (0, f"sirecommend {__version__}\n")

    @pytest.mark.parametrize(
        "command",
        [
            "recommend", "explain", "list", "contexts", "stretches", "show", "validate",
            "graph", "schema", "log", "next", "history", "plan",
        ],
    )  # fmt: skip
    def test_help(self, capsys: pytest.CaptureFixture[str], command: str) -> None:
        status, out, _ = run(capsys, command, "--help")
        assert status == 0
        assert out.startswith(f"usage: sirecommend {command}")

    def test_every_option_has_help(self) -> None:
        commands = cli._build_parser()._actions[-1]
        assert isinstance(commands, argparse._SubParsersAction)
        assert len(commands.choices) == 13
        for name, sub in commands.choices.items():
            for action in sub._actions:
                assert action.help, (name, action.dest)

    def test_help_lists_short_id_lists_of_the_knowledge(
        self, capsys: pytest.CaptureFixture[str], kb: KnowledgeBase
    ) -> None:
        status, out, _ = run(capsys, "recommend", "--help")
        flat = " ".join(out.split())
        assert status == 0
        assert "one of: foam_roller, strap, towel (see 'sirecommend list equipment')" in flat
        assert f"one of: {', '.join(kb.contexts)}" in flat
        assert "floor (see 'sirecommend list positions')" in flat
        # 16 red flags are too many to list: the help points at the list command
        assert "instead; see 'sirecommend list red-flags'" in flat

    def test_python_dash_m_in_process(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sys, "argv", ["sirecommend", "contexts"])
        with pytest.raises(SystemExit) as exc:
            runpy.run_module("sirecommend", run_name="__main__")
        assert exc.value.code == 0
        assert "after_sitting" in capsys.readouterr().out

    def test_importing_main_runs_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        module = importlib.import_module("sirecommend.__main__")
        assert module.main is main
        assert capsys.readouterr() == ("", "")


class TestAsAUser:
    """``python -m sirecommend`` in a fresh interpreter, as a person would run it."""

    def test_json_equals_the_library(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "sirecommend", "recommend", "--context", "post_activity",
             "--equipment", "foam_roller", "--minutes", "12", "--format", "json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        want = recommend(context="post_activity", equipment={"foam_roller"}, minutes=12)
        assert done.stdout == want.model_dump_json() + "\n"

    def test_bad_input_is_one_line_without_traceback(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "sirecommend", "recommend", "--context", "warm_up",
             "--trimester", "7"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr == (
            "sirecommend recommend: error: argument --trimester: "
            "invalid value '7': choose 1, 2 or 3\n"
        )
