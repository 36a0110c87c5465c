"""The shipped knowledge loads, is complete and cited; every broken pack gives KnowledgeError."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import textwrap
from pathlib import Path

import networkx as nx
import pytest

from sirecommend import (
    KnowledgeBase,
    KnowledgeError,
    lint_graph,
    load_knowledge,
    recommend,
    schema_of_packs,
    shipped_knowledge_dir,
)
from sirecommend._kb import digest_of
from sirecommend._loader import TABLES, _build, _read_pack
from sirecommend._models import URGENCIES, GeneralCautionRule, Stretch

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"

STRETCHES = {
    "lower_trunk_rotation",
    "child_pose_side_reach",
    "adductor_strap_supine",
    "butterfly_seated",
    "foam_roll_hip_flexors",
    "foam_roll_hamstrings",
    "foam_roll_glutes",
    "foam_roll_sore_group",
    "hip_flexor_half_kneeling",
    "hip_flexor_standing_lunge",
    "hamstring_supine",
    "figure_four_supine",
    "standing_side_bend",
}


def write(tmp_path: Path, text: str, name: str = "pack.toml") -> Path:
    """Write one pack file and return its directory."""
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


# A minimal valid stretch, to be broken one field at a time.
STRETCH = """
[[stretch]]
id = "clinic_stretch"
name = "Clinic stretch"
phase = "targeted"
position = "{position}"
movements = ["{movement}"]
targets = ["hamstrings"]
cites = ["{cite}"]
{extra}

[stretch.dosage]
hold_seconds = [{hold_lo}, 60]
sets = [2, 3]
per_side = true
cites = ["si-stretch-guide#p20"]

[[stretch.instructions]]
text = "Do the clinic stretch gently."
cites = ["si-stretch-guide#p19"]

[[stretch.suits]]
context = "{context}"
cites = ["si-stretch-guide#p25"]
"""


def stretch(**changes: str) -> str:
    values = {
        "position": "supine",
        "movement": "hip_flexion",
        "cite": "si-stretch-guide#p19",
        "extra": "",
        "hold_lo": "30",
        "context": "after_sitting",
    }
    values.update(changes)
    return STRETCH.format(**values)


class TestShippedKnowledge:
    def test_every_stretch_the_article_describes_is_there(self, kb: KnowledgeBase) -> None:
        assert set(kb.stretches) == STRETCHES

    def test_vocabulary_the_issue_names(self, kb: KnowledgeBase) -> None:
        assert {"after_sitting", "after_sleep", "post_activity", "warm_up", "cool_down"} == set(
            kb.contexts
        )
        assert {"strap", "towel", "foam_roller"} == set(kb.equipment)
        assert {"supine", "prone", "quadruped", "half_kneeling", "seated_floor", "standing"} == set(
            kb.positions
        )
        assert kb.position_members("floor") == set(kb.positions) - {"standing"}
        assert {"hamstrings", "hip_flexors", "adductors", "glutes", "piriformis"} <= set(kb.muscles)
        assert {"rotation", "side_bend"} <= set(kb.movements)

    def test_red_flag_tiers(self, kb: KnowledgeBase) -> None:
        tiers = {f.id: f.urgency for f in kb.red_flags.values()}
        for flag in ("saddle_numbness", "bladder_bowel_change", "leg_weakness"):
            assert tiers[flag] == "emergency"
        assert tiers["fever"] == "same_day"  # suspected spinal infection: seen today
        for flag in ("unexplained_weight_loss", "night_pain"):
            assert tiers[flag] == "urgent"
        for flag in ("severe_pain", "symptom_change", "numbness", "tingling"):
            assert tiers[flag] == "stop_and_review"
            assert "si-stretch-guide#p27" in kb.red_flags[flag].cites
        ranks = [kb.urgencies[u].rank for u in URGENCIES]
        assert ranks == sorted(ranks, reverse=True)

    def test_safety_rules_are_data(self, kb: KnowledgeBase) -> None:
        kinds = {r.kind for r in kb.rules.values()}
        assert {
            "forbid_movement_combination",
            "when_aggravated",
            "red_flag_referral",
            "pregnancy_avoid_position",
            "general_caution",
        } <= kinds
        combo = kb.rules["no_rotation_with_side_bend"]
        assert set(combo.movements) == {"rotation", "side_bend"}  # type: ignore[union-attr]
        pregnancy = kb.rules["pregnancy_no_supine"]
        assert pregnancy.from_trimester == 2  # type: ignore[union-attr]
        assert any(c.startswith("acog-") for c in pregnancy.cites)

    @pytest.mark.parametrize("sid", sorted(STRETCHES))
    def test_each_stretch_is_complete_and_cited(self, kb: KnowledgeBase, sid: str) -> None:
        st: Stretch = kb.stretches[sid]
        assert st.instructions
        assert all(i.cites for i in st.instructions)
        assert any(c.startswith("si-stretch-guide#p") for c in st.cites)
        assert st.dosage.cites
        reachable = st.suits or kb.stretches[st.alternative_of or ""].suits
        assert reachable

    def test_doses_match_the_article(self, kb: KnowledgeBase) -> None:
        for st in kb.stretches.values():
            if st.id.startswith("foam_roll_"):
                assert st.dosage.hold_seconds == (10, 30)
            else:
                assert st.dosage.hold_seconds == (30, 60)
                assert st.dosage.sets == (2, 3)

    def test_alternatives_the_article_gives(self, kb: KnowledgeBase) -> None:
        assert kb.stretches["butterfly_seated"].alternative_of == "adductor_strap_supine"
        assert kb.stretches["hip_flexor_standing_lunge"].alternative_of == (
            "hip_flexor_half_kneeling"
        )
        options = [o.uses for o in kb.stretches["hamstring_supine"].equipment]
        assert options == ["strap", "towel", None]

    def test_movements_rules_rely_on(self, kb: KnowledgeBase) -> None:
        assert "rotation" in kb.stretches["lower_trunk_rotation"].movements
        assert "side_bend" in kb.stretches["standing_side_bend"].movements

    def test_phase_lives_on_the_context_link(self, kb: KnowledgeBase) -> None:
        foam = kb.stretches["foam_roll_glutes"]
        phases = {link.context: link.phase for link in foam.suits}
        assert phases == {
            "warm_up": "warm_up",
            "post_activity": "cool_down",
            "cool_down": "cool_down",
        }
        phase = {s.stretch.id: s.phase for s in kb.compiled.contexts["after_sitting"].slots}
        assert phase["hamstring_supine"] == "targeted"
        assert phase["lower_trunk_rotation"] == "warm_up"

    def test_every_citation_resolves(self, kb: KnowledgeBase) -> None:
        text = "\n".join(p.read_text(encoding="utf-8") for p in KNOWLEDGE.rglob("*.toml"))
        cites = set(re.findall(r'"([a-z0-9-]+(?:#p[0-9]+)?)"', text))
        used = {c for c in cites if c.split("#")[0] in kb.sources}
        assert used, "no citations found"
        for c in used:
            source, _, para = c.partition("#p")
            if para:
                assert 1 <= int(para) <= (kb.sources[source].paragraphs or 0)

    def test_general_cautions_cover_the_stop_advice(self, kb: KnowledgeBase) -> None:
        texts = [r.text for r in kb.rules.values() if isinstance(r, GeneralCautionRule)]
        assert any("severe pain" in t for t in texts)


class TestGraph:
    def test_every_kind_and_at_least_eleven_stretches(self, kb: KnowledgeBase) -> None:
        kinds = {d["kind"] for _, d in kb.graph.nodes(data=True)}
        assert {
            "stretch",
            "muscle",
            "context",
            "equipment",
            "position",
            "position_group",
            "movement",
            "movement_kind",
            "position_kind",
            "rule",
            "red_flag",
            "urgency",
            "source",
        } == kinds
        assert sum(1 for _, d in kb.graph.nodes(data=True) if d["kind"] == "stretch") >= 11

    def test_relations(self, kb: KnowledgeBase) -> None:
        rels = {d["relation"] for *_, d in kb.graph.edges(data=True)}
        assert {
            "suits",
            "targets",
            "requires",
            "in_position",
            "part_of",
            "involves",
            "alternative_of",
            "forbids",
            "cites",
            "cautions",
            "refers",
        } <= rels

    def test_graph_is_frozen(self, kb: KnowledgeBase) -> None:
        assert nx.is_frozen(kb.graph)
        with pytest.raises(nx.NetworkXError):
            kb.graph.add_node("x")

    def test_the_graph_is_frozen_and_pickles(self, kb: KnowledgeBase) -> None:
        g = kb.graph
        with pytest.raises(nx.NetworkXError, match=r"[Ff]rozen"):
            g.add_edge("stretch:x", "context:y")
        again = pickle.loads(pickle.dumps(g))
        assert list(again.edges(keys=True, data=True)) == list(g.edges(keys=True, data=True))

    def test_lint_passes_on_shipped(self, kb: KnowledgeBase) -> None:
        assert lint_graph(kb.graph) == []

    def test_lint_finds_structural_problems(self, kb: KnowledgeBase) -> None:
        g = nx.MultiDiGraph(kb.graph)
        g.remove_edges_from(
            [(u, v, k) for u, v, k in g.out_edges("stretch:standing_side_bend", keys=True)]
        )
        g.add_node("odd:thing", kind="odd")
        g.add_edge("odd:thing", "stretch:hamstring_supine", relation="likes")
        g.nodes["stretch:figure_four_supine"]["dosage"] = None
        g.add_node("rule:second_gentle", kind="rule", rule_kind="when_aggravated")
        problems = "\n".join(lint_graph(g))
        assert "stretch:standing_side_bend: must be in exactly one position" in problems
        assert "stretch:standing_side_bend: cites no source" in problems
        assert "stretch:standing_side_bend: targets no muscle" in problems
        assert "stretch:standing_side_bend: not reachable from any context" in problems
        assert "stretch:figure_four_supine: has no dosage" in problems
        assert "unknown node kind 'odd'" in problems
        assert "unknown relation 'likes'" in problems
        assert "contradict" in problems

    def test_alternatives_reach_through_their_primary(self, kb: KnowledgeBase) -> None:
        alts = [
            u
            for u, _, d in kb.graph.in_edges("stretch:hamstring_supine", data=True)
            if d["relation"] == "alternative_of"
        ]
        assert alts == []
        assert kb.graph.has_edge("stretch:butterfly_seated", "stretch:adductor_strap_supine")


class TestLoading:
    def test_cached_and_immutable(self, kb: KnowledgeBase) -> None:
        assert load_knowledge() is kb
        with pytest.raises(TypeError):
            kb.stretches["x"] = kb.stretches["hamstring_supine"]  # type: ignore[index]
        with pytest.raises(AttributeError):
            kb.digest = "x"  # type: ignore[misc]
        with pytest.raises(ValueError, match="frozen"):
            kb.stretches["hamstring_supine"].name = "x"  # type: ignore[misc]

    def test_shipped_dir_is_found_from_anywhere(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.chdir(tmp_path)
        assert (shipped_knowledge_dir() / "vocabulary.toml").is_file()

    def test_packaged_data_is_preferred(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        import sirecommend._loader as loader

        (tmp_path / "_knowledge").mkdir()
        monkeypatch.setattr(loader.resources, "files", lambda _: tmp_path)
        assert loader.shipped_knowledge_dir() == tmp_path / "_knowledge"

    def test_file_order_does_not_matter(self, kb: KnowledgeBase) -> None:
        problems: list[object] = []
        files = _read_pack(shipped_knowledge_dir(), problems)  # type: ignore[arg-type]
        reordered = _build(list(reversed(files)), (), len(files))
        assert reordered.digest == kb.digest
        a = recommend(context="post_activity", knowledge=kb).model_dump_json()
        b = recommend(context="post_activity", knowledge=reordered).model_dump_json()
        assert a == b

    def test_digest_is_the_sha256_of_the_canonical_json(self, kb: KnowledgeBase) -> None:
        # digest_of hashes the JSON entry by entry; the bytes must stay those of one dump.
        tables = {a: getattr(kb, a) for a in TABLES.values()}
        canonical = {
            name: {k: v.model_dump(mode="json") for k, v in table.items()}
            for name, table in tables.items()
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        assert kb.digest == hashlib.sha256(text.encode()).hexdigest() == digest_of(tables)
        empty = hashlib.sha256(b'{"a":{},"b":{}}').hexdigest()
        assert digest_of({"b": {}, "a": {}}) == empty

    def test_pack_adds_a_stretch(self, tmp_path: Path) -> None:
        kb = load_knowledge(write(tmp_path, stretch()))
        assert "clinic_stretch" in kb.stretches
        assert "clinic_stretch" in kb.order("after_sitting")
        assert kb.packs == (str(tmp_path),)
        assert kb.origins[("stretch", "clinic_stretch")].endswith("pack.toml")
        assert kb.digest != load_knowledge().digest

    def test_single_file_pack(self, tmp_path: Path) -> None:
        pack = write(tmp_path, stretch()) / "pack.toml"
        assert "clinic_stretch" in load_knowledge(pack).stretches

    def test_override_replaces_only_when_named(self, tmp_path: Path) -> None:
        text = stretch().replace(
            'id = "clinic_stretch"', 'id = "hamstring_supine"\noverride = true'
        )
        kb = load_knowledge(write(tmp_path, text))
        assert kb.stretches["hamstring_supine"].name == "Clinic stretch"
        assert load_knowledge().stretches["hamstring_supine"].name != "Clinic stretch"

    def test_pack_may_add_a_context(self, tmp_path: Path) -> None:
        text = """
        [[context]]
        id = "after_driving"
        name = "After driving"
        cites = ["si-stretch-guide#p25"]
        """ + stretch(context="after_driving")
        kb = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_driving", knowledge=kb)
        assert [s.stretch_id for s in routine.steps] == ["clinic_stretch"]

    def test_schema_matches_models(self) -> None:
        committed = json.loads((KNOWLEDGE / "schema.json").read_text(encoding="utf-8"))
        assert committed == schema_of_packs(), (
            "regenerate: sirecommend schema > knowledge/schema.json"
        )


def problem_of(tmp_path: Path, text: str) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(write(tmp_path, text))
    return info.value


class TestBrokenPacks:
    """Each class of broken pack raises KnowledgeError naming file, entry and field."""

    def test_missing_path(self, tmp_path: Path) -> None:
        with pytest.raises(KnowledgeError, match="no such file or directory") as info:
            load_knowledge(tmp_path / "nope")
        assert info.value.file.endswith("nope")

    def test_empty_pack(self, tmp_path: Path) -> None:
        with pytest.raises(KnowledgeError, match=r"no \.toml files"):
            load_knowledge(tmp_path)

    def test_not_a_path(self) -> None:
        with pytest.raises(KnowledgeError, match="must be a path"):
            load_knowledge(42)  # type: ignore[arg-type]

    def test_unreadable_file(self, tmp_path: Path) -> None:
        (tmp_path / "dir.toml").mkdir()
        with pytest.raises(KnowledgeError, match="cannot read file"):
            load_knowledge(tmp_path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        (tmp_path / "bad.toml").write_bytes(b"\xff\xfe name = 1")
        with pytest.raises(KnowledgeError, match="cannot read file"):
            load_knowledge(tmp_path)

    def test_toml_syntax_error(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, "[[stretch]\nid = ")
        assert "TOML syntax error" in str(err)
        assert err.file.endswith("pack.toml")

    def test_unknown_table(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, "[[strech]]\nid = 'x'\n")
        assert err.entry == "table 'strech'"
        assert "unknown table" in str(err)

    def test_unknown_field(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(extra='colour = "red"'))
        assert (err.entry, err.field) == ("stretch 'clinic_stretch'", "colour")
        assert "unknown field" in str(err)

    def test_dosage_outside_sane_bounds(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(hold_lo="500"))
        assert (err.entry, err.field) == ("stretch 'clinic_stretch'", "dosage.hold_seconds[0]")

    def test_dosage_range_reversed(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(hold_lo="90"))
        assert err.field == "dosage"
        assert "exceeds" in str(err)

    def test_unknown_position_suggests_nearest(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(position="supin"))
        assert (err.entry, err.field) == ("stretch 'clinic_stretch'", "position")
        assert "did you mean 'supine'" in str(err)

    def test_unknown_movement(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(movement="twisting"))
        assert err.field == "movements[0]"

    def test_unknown_context(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(context="after_sittin"))
        assert err.field == "suits[0].context"
        assert "did you mean 'after_sitting'" in str(err)

    def test_unknown_alternative(self, tmp_path: Path) -> None:
        text = stretch(extra='alternative_of = "nope"').split("[[stretch.suits]]")[0]
        err = problem_of(tmp_path, text)
        assert err.field == "alternative_of"

    def test_alternative_of_an_alternative(self, tmp_path: Path) -> None:
        text = stretch(extra='alternative_of = "butterfly_seated"').split("[[stretch.suits]]")[0]
        err = problem_of(tmp_path, text)
        assert err.field == "alternative_of"
        assert "adductor_strap_supine" in str(err)

    def test_alternative_with_its_own_contexts(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(extra='alternative_of = "hamstring_supine"'))
        assert "drop 'suits'" in str(err)

    def test_duplicate_id(self, tmp_path: Path) -> None:
        text = stretch().replace('id = "clinic_stretch"', 'id = "hamstring_supine"')
        err = problem_of(tmp_path, text)
        assert (err.entry, err.field) == ("stretch 'hamstring_supine'", "id")
        assert "duplicate id" in str(err)
        assert "override = true" in str(err)

    def test_override_of_nothing(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(extra="override = true"))
        assert err.field == "override"

    def test_citation_of_missing_paragraph(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(cite="si-stretch-guide#p99"))
        assert err.field == "cites"
        assert "has no paragraph 99" in str(err)

    def test_citation_without_paragraph(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(cite="si-stretch-guide"))
        assert "must name a paragraph" in str(err)

    def test_citation_of_unknown_source(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(cite="nhs-cauda-equin"))
        assert "did you mean 'nhs-cauda-equina'" in str(err)

    def test_paragraph_of_a_source_without_paragraphs(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch(cite="acog-804-2020#p3"))
        assert "has no paragraph 3" in str(err)

    def test_rule_naming_unknown_movement(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[rule]]
        id = "no_twist_bend"
        kind = "forbid_movement_combination"
        name = "No twisting bend"
        movements = ["twist", "side_bend"]
        caution_movements = ["bend"]
        caution = "Do not twist."
        cites = ["si-stretch-guide#p24"]
        """,
        )
        fields = {p.field for p in err.problems}
        assert {"movements[0]", "caution_movements[0]"} == fields
        assert err.entry == "rule 'no_twist_bend'"

    def test_rule_with_a_bad_field(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[rule]]
        id = "gentle"
        kind = "general_caution"
        name = "Gentle"
        cites = ["si-stretch-guide#p24"]
        """,
        )
        assert (err.entry, err.field) == ("rule 'gentle'", "text")

    def test_pregnancy_rule_naming_unknown_position(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[rule]]
        id = "no_prone"
        kind = "pregnancy_avoid_position"
        name = "No prone"
        from_trimester = 2
        positions = ["pron"]
        reason = "Not lying face down."
        cites = ["acog-804-2020"]
        """,
        )
        assert err.field == "positions[0]"
        assert "did you mean 'prone'" in str(err)

    def test_group_members_and_id(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[position_group]]
        id = "supine"
        name = "Odd"
        members = ["sofa"]
        cites = ["si-stretch-guide#p9"]
        """,
        )
        assert {p.field for p in err.problems} == {"id", "members[0]"}

    def test_red_flag_with_unknown_urgency(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[red_flag]]
        id = "dizziness"
        name = "Dizziness"
        urgency = "soon"
        message = "See someone."
        cites = ["nice-cks-low-back-pain"]
        """,
        )
        assert (err.entry, err.field) == ("red_flag 'dizziness'", "urgency")

    def test_ordering_cycle(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[ordering]]
        id = "rotation_first"
        before = "lower_trunk_rotation"
        after = "adductor_strap_supine"
        cites = ["si-stretch-guide#p9"]

        [[ordering]]
        id = "adductor_first"
        before = "adductor_strap_supine"
        after = "lower_trunk_rotation"
        cites = ["si-stretch-guide#p13"]
        """,
        )
        assert "cycle" in str(err)
        assert "adductor_first" in str(err)
        assert "rotation_first" in str(err)

    def test_ordering_against_the_position_blocks(self, tmp_path: Path) -> None:
        # Standing stretches come after the supine block in the targeted phase.
        err = problem_of(
            tmp_path,
            """
        [[ordering]]
        id = "side_bend_first"
        before = "standing_side_bend"
        after = "hamstring_supine"
        cites = ["si-stretch-guide#p23"]
        """,
        )
        assert "side_bend_first" in str(err)

    def test_ordering_unknown_and_self(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[ordering]]
        id = "odd"
        before = "hamstring_supine"
        after = "hamstring_supine"
        cites = ["si-stretch-guide#p19"]

        [[ordering]]
        id = "odder"
        before = "nope"
        after = "hamstring_supine"
        cites = ["si-stretch-guide#p19"]
        """,
        )
        assert {(p.entry, p.field) for p in err.problems} == {
            ("ordering 'odd'", "after"),
            ("ordering 'odder'", "before"),
        }

    def test_ordering_within_a_block_applies(self, tmp_path: Path) -> None:
        kb = load_knowledge(
            write(
                tmp_path,
                """
        [[ordering]]
        id = "hamstring_before_figure_four"
        before = "hamstring_supine"
        after = "figure_four_supine"
        cites = ["si-stretch-guide#p19"]
        """,
            )
        )
        order = kb.order("after_sitting")
        assert order.index("hamstring_supine") < order.index("figure_four_supine")
        shipped = load_knowledge().order("after_sitting")
        assert shipped.index("hamstring_supine") > shipped.index("figure_four_supine")

    def test_second_aggravated_rule_contradicts(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[rule]]
        id = "aggravated_other"
        kind = "when_aggravated"
        name = "Other"
        range_of_motion = "reduced"
        dose = "lowest"
        caution = "Gently."
        cites = ["si-stretch-guide#p10"]
        """,
        )
        assert err.file.endswith(".toml")  # the pack that adds the second rule
        assert "contradict" in str(err)

    def test_red_flags_need_a_referral_rule(self, tmp_path: Path) -> None:
        problems: list[object] = []
        files = _read_pack(shipped_knowledge_dir(), problems)  # type: ignore[arg-type]
        stripped = [
            (
                label,
                pf.model_copy(
                    update={"rule": tuple(r for r in pf.rule if r.kind != "red_flag_referral")}
                ),
            )
            for label, pf in files
        ]
        with pytest.raises(KnowledgeError, match="no red_flag_referral rule"):
            _build(stripped, (), len(stripped))

    def test_many_problems_are_all_listed(self, tmp_path: Path) -> None:
        text = "".join(
            stretch(position="sofa").replace("clinic_stretch", f"clinic_{i}") for i in range(25)
        )
        err = problem_of(tmp_path, text)
        assert len(err.problems) == 25
        assert "and 5 more" in str(err)
        assert repr(err.problems[0]).startswith("KnowledgeProblem(")


class TestEntryValidators:
    """Checks a single entry can make on itself, before any cross-reference."""

    @pytest.mark.parametrize(
        ("extra", "field", "message"),
        [
            ('targets = ["hamstrings", "hamstrings"]', "targets", "targets repeats hamstrings"),
            ('alternative_of = "clinic_stretch"', "", "its own alternative"),
        ],
    )
    def test_stretch_validators(self, tmp_path: Path, extra: str, field: str, message: str) -> None:
        text = stretch(extra=extra).replace('targets = ["hamstrings"]\n', "", 1 if field else 0)
        err = problem_of(tmp_path, text)
        assert message in str(err)

    def test_sets_range_reversed(self, tmp_path: Path) -> None:
        err = problem_of(tmp_path, stretch().replace("sets = [2, 3]", "sets = [3, 2]"))
        assert "sets low 3 exceeds high 2" in str(err)

    def test_forbidden_combination_needs_distinct_movements(self, tmp_path: Path) -> None:
        err = problem_of(
            tmp_path,
            """
        [[rule]]
        id = "same_twice"
        kind = "forbid_movement_combination"
        name = "Odd"
        movements = ["rotation", "rotation"]
        caution = "Odd."
        cites = ["si-stretch-guide#p24"]
        """,
        )
        assert "movements must be distinct" in str(err)

    def test_repr_and_summary(self, kb: KnowledgeBase) -> None:
        assert repr(kb).startswith("<KnowledgeBase 13 stretches, 5 contexts")
        assert "after_sitting: child_pose_side_reach" in kb.summary()


def test_loaded_entries_round_trip() -> None:
    """Every loaded stretch is exactly what its own fields validate to."""
    for s in load_knowledge().stretches.values():
        assert Stretch.model_validate(s.model_dump(exclude_unset=True)) == s
