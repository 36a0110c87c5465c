"""The command line, driven as a user would: exit codes, output, and one-line errors."""

from __future__ import annotations

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
        ("flags", "word"),
        [
            (("fever",), "URGENT"),
            (("saddle_numbness", "fever"), "EMERGENCY"),
            (("severe_pain",), "STOP AND REVIEW"),
        ],
    )
    def test_red_flag_prints_the_referral_and_exits_0(
        self, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], word: str
    ) -> None:
        status, out, err = run(capsys, "recommend", "--context", "warm_up", "--red-flag", *flags)
        assert (status, err) == (0, "")
        assert f"STOP - {word}: red flags reported" in out
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
            (["--minutes", "x"], "invalid number of minutes 'x'"),
            (["--minutes", "0"], "invalid --minutes 0.0: Input should be greater than 0"),
            (["--minutes", "-3"], "invalid --minutes -3.0"),
            (["--minutes", "nan"], "invalid --minutes nan"),
            (["--minutes", "100000"], "less than or equal to 1440"),
            (["--trimester", "4"], "invalid trimester '4': choose from 1, 2, 3"),
            (["--trimester", "two"], "invalid trimester 'two'"),
        ],
    )
    def test_bad_numbers(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], expect: str
    ) -> None:
        line = bad_input(capsys, "recommend", "--context", "warm_up", *argv)
        assert expect in line

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

    def test_no_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert "required" in bad_input(capsys)

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
        assert "After sitting (9 stretches): Loosening up" in lines[0]

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
        assert "    - text: Lie on your back" in out
        assert "  -> suits context:after_sitting (After sitting)" in out
        assert "  -> cites source:si-stretch-guide" in out

    def test_show_by_kind_and_entries_without_a_name(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        _, out, _ = run(capsys, "show", "urgency:urgent")
        assert out.startswith("urgency urgent\n")
        assert "  <- refers red_flag:fever (Fever or feeling generally unwell)" in out
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
        assert "did you mean 'figure_four_supine'" in line
        assert "after_sitting" in line
        line = bad_input(capsys, "show", "muscle:figure_four_supine")
        assert "adductors, glutes, hamstrings" in line

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
        assert "Not offered for after sitting by the knowledge (3):" in out
        assert "Foam rolling: glutes [foam_roll_glutes]" in out

    def test_rules_are_named(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, "explain", "--context", "after_sitting", "--trimester", "3")
        assert "pregnancy: From the second trimester" in out
        assert "; rule pregnancy_no_supine" in out

    def test_red_flags(self, capsys: pytest.CaptureFixture[str]) -> None:
        _, out, _ = run(capsys, "explain", "--context", "cool_down", "--red-flag", "fever")
        assert "Referral (URGENT): Stop the routine and arrange" in out
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
        assert out.startswith("valid: the shipped knowledge\nsirecommend knowledge: 12 stretches")

    def test_a_valid_pack(self, capsys: pytest.CaptureFixture[str], pack: Path) -> None:
        status, out, _ = run(capsys, "validate", str(pack))
        assert status == 0
        assert out.startswith(f"valid: {pack}\n")
        assert "13 stretches, 6 contexts" in out

    def test_every_problem_is_listed_with_file_entry_and_field(
        self, capsys: pytest.CaptureFixture[str], bad_pack: Path
    ) -> None:
        status, out, err = run(capsys, "validate", str(bad_pack))
        assert (status, err) == (1, "")
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
        assert status == 1
        assert "stretch 'bad_stretch': field 'position': unknown position 'sofa'" in out
        assert "stretch 'bad_stretch': field 'cites': citation 'si-stretch-guide#p99'" in out
        assert out.splitlines()[-1] == "invalid: 2 problems"

    def test_one_problem(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        (tmp_path / "one.toml").write_text("[[muscle]]\nid = 'x'\n", encoding="utf-8")
        status, out, _ = run(capsys, "validate", str(tmp_path / "one.toml"))
        assert status == 1
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
        ["recommend", "explain", "contexts", "stretches", "show", "validate", "graph", "schema"],
    )
    def test_help(self, capsys: pytest.CaptureFixture[str], command: str) -> None:
        status, out, _ = run(capsys, command, "--help")
        assert status == 0
        assert out.startswith(f"usage: sirecommend {command}")

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
            "invalid trimester '7': choose from 1, 2, 3\n"
        )
