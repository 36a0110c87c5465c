"""Attacks on the safety floor and the loader that issue 10 does not list (red team, H7).

Each test is one attack. Where the code was wrong, the fix is in the same commit; where the
behaviour is acceptable, the test pins it and a comment says why it is safe.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, KnowledgeError, audit, load_knowledge, recommend
from sirecommend._loader import TABLES
from sirecommend._models import GeneralCautionRule

SOURCE = """
[[source]]
id = "clinic-protocol"
kind = "guideline"
title = "Clinic protocol"
publisher = "Clinic"
"""

STRETCH = """
[[stretch]]
id = "{id}"
name = "Gentle stretch"
phase = "targeted"
position = "{position}"
movements = {movements}
targets = ["lateral_trunk"]
cites = ["clinic-protocol"]
dosage = {{hold_seconds = [30, 60], sets = [2, 3], per_side = true, cites = ["clinic-protocol"]}}
instructions = [{{text = "Ease into it.", cites = ["clinic-protocol"]}}]
suits = [{{context = "after_sitting", cites = ["clinic-protocol"]}}]
"""


def write(folder: Path, text: str, *, source: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = (SOURCE if source else "") + textwrap.dedent(text)
    (folder / "clinic.toml").write_text(body, encoding="utf-8")
    return folder


def problems(*packs: Path) -> list[tuple[str, str, str]]:
    """(file name, entry, field) of every problem loading ``packs`` raises."""
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(*packs)
    return [(Path(p.file).name, p.entry, p.field) for p in info.value.problems]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{k} = {_toml(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'


def override(kb: KnowledgeBase, table: str, ident: str, **changes: object) -> str:
    """A TOML override of a shipped entry, with ``changes``."""
    data = {**getattr(kb, TABLES[table])[ident].model_dump(), **changes, "override": True}
    lines = (f"{k} = {_toml(v)}\n" for k, v in data.items() if v is not None)
    return f"[[{table}]]\n" + "".join(lines)


def steps(routine: object) -> list[str]:
    return [s.stretch_id for s in routine.steps]  # type: ignore[attr-defined]


# ------------------------------------------------- overriding a shipped stretch (fixed)


class TestShippedStretchOverrides:
    """Stretches were outside the floor: an override could move a stretch out of a rule's
    reach while its shipped instructions still described the shipped position. Now a
    shipped stretch's base position kind, and every movement kind a shipped forbid rule
    names, are part of the floor."""

    def test_a_supine_stretch_moved_to_standing_is_refused(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Before the fix, trimester 3 got hamstring_supine with "Lie on your back ...".
        text = override(kb, "stretch", "hamstring_supine", position="standing")
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "stretch 'hamstring_supine'", "position")
        ]

    def test_a_side_bend_dropped_from_a_stretch_is_refused(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Before the fix, standing_side_bend lost its "do not twist" caution.
        text = override(kb, "stretch", "standing_side_bend", movements=["trunk_flexion"])
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "stretch 'standing_side_bend'", "movements")
        ]

    def test_stricter_or_unrelated_stretch_edits_load(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Adding a movement kind (now blocked by the rule), changing the dose, respelling
        # the position by another position of the same kind, or dropping a movement no
        # rule names: none lets a step through that the shipped knowledge blocks.
        dose = {**kb.stretches["hamstring_supine"].dosage.model_dump(), "hold_seconds": [20, 30]}
        both = ["rotation", "side_bend"]
        text = "\n".join(
            [
                override(kb, "stretch", "lower_trunk_rotation", movements=both),
                override(kb, "stretch", "hamstring_supine", position="lying_on_back", dosage=dose),
                override(kb, "stretch", "child_pose_side_reach", movements=["side_bend"]),
                "[[position]]\nid = 'lying_on_back'\nname = 'On the back'\nis_a = 'supine'\n"
                "sequence = 41\ncites = ['clinic-protocol']\n",
            ]
        )
        stricter = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_sleep", knowledge=stricter, pregnancy_trimester=2)
        assert "hamstring_supine" not in steps(routine)
        assert "lower_trunk_rotation" not in steps(
            recommend(context="after_sleep", knowledge=stricter)
        )
        assert audit(routine, routine.profile, stricter) == []

    def test_a_declared_relaxation_allows_it(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = (
            override(kb, "stretch", "hamstring_supine", position="standing")
            + """
        [[relaxation]]
        id = "standing_hamstring"
        table = "stretch"
        entry = "hamstring_supine"
        field = "position"
        reason = "Our handout teaches this stretch standing, one heel on a low step."
        clinician = "Dr B. Example"
        cites = ["clinic-protocol"]
        """
        )
        relaxed = load_knowledge(write(tmp_path, text))
        assert [r.id for r in relaxed.relaxations.values()] == ["standing_hamstring"]
        routine = recommend(context="after_sleep", knowledge=relaxed, pregnancy_trimester=3)
        assert "hamstring_supine" in steps(routine)  # relaxed, as declared
        assert routine.provenance.relaxations == tuple(relaxed.relaxations.values())


# ------------------------------------------ hidden characters in text a person reads (fixed)


class TestHiddenCharacters:
    """A new general caution needs no override. With terminal escapes it erased the shipped
    stop rule printed above it (``sirecommend recommend`` writes text as it is); with a
    bidirectional override it could read differently from what it holds."""

    @pytest.mark.parametrize(
        ("escaped", "char"),
        [
            ("Use a mat.\\u001b[1A\\u001b[2K", "'\\x1b'"),
            ("Use a mat.\\rCarry on.", "'\\r'"),
            ("Use a \\u202emat", "'\\u202e'"),
            ("Use a mat.\\u009b2K", "'\\x9b'"),
        ],
    )
    def test_control_and_direction_characters_are_refused(
        self, tmp_path: Path, escaped: str, char: str
    ) -> None:
        text = f"""
        [[rule]]
        id = "a_use_a_mat"
        kind = "general_caution"
        name = "Use a mat"
        text = "{escaped}"
        cites = ["clinic-protocol"]
        """
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(write(tmp_path, text))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("rule 'a_use_a_mat'", "text")
        assert f"control or direction character {char}" in problem.message

    def test_in_a_description_too(self, tmp_path: Path) -> None:
        text = """
        [[muscle]]
        id = "calves"
        name = "Calves"
        description = "Back of the leg\\u001b[2J"
        cites = ["clinic-protocol"]
        """
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "muscle 'calves'", "description")
        ]

    def test_tabs_newlines_and_any_printable_text_load(self, tmp_path: Path) -> None:
        text = '''
        [[rule]]
        id = "a_use_a_mat"
        kind = "general_caution"
        name = "Use a mat — “gently”"
        text = """Use a mat.\r
        \tKeep it dry: naïve façade ✓"""
        cites = ["clinic-protocol"]
        '''
        kb = load_knowledge(write(tmp_path, text))
        assert kb.rules["a_use_a_mat"].text == "Use a mat.\n\tKeep it dry: naïve façade ✓"  # type: ignore[union-attr]


# --------------------------------------------------------------- loader hazards (fixed)

MUSCLE = '[[muscle]]\nid = "calves"\nname = "Calves"\ncites = ["clinic-protocol"]\n'


def one(*packs: object) -> tuple[str, str]:
    """(file, message) of the one problem loading ``packs`` raises."""
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(*packs)  # type: ignore[arg-type]
    (problem,) = info.value.problems
    return problem.file, problem.message


class TestPathArguments:
    @pytest.mark.parametrize("name", ["a" * 300, "a/" * 3000])
    def test_a_name_too_long(self, tmp_path: Path, name: str) -> None:
        # Before: Path.exists() raised a bare OSError (ENAMETOOLONG) out of load_knowledge.
        path = tmp_path / name
        assert one(path) == (str(path), "cannot read pack: File name too long")

    def test_an_os_pathlike_giving_bytes(self) -> None:
        # Before: Path() raised a bare TypeError.
        class BytesPath:
            def __fspath__(self) -> bytes:
                return b"/tmp"

        import os

        os.PathLike.register(BytesPath)
        file, message = one(BytesPath())
        assert message == "a pack must be a path (str or os.PathLike)"
        assert file.startswith("<")

    @pytest.mark.parametrize("pack", [b"/tmp", 3, None])
    def test_bytes_or_other_objects(self, pack: object) -> None:
        assert one(pack) == (repr(pack), "a pack must be a path (str or os.PathLike)")

    def test_str_and_path_both_load(self, tmp_path: Path) -> None:
        folder = write(tmp_path, MUSCLE)
        assert "calves" in load_knowledge(str(folder)).muscles
        assert "calves" in load_knowledge(folder).muscles

    def test_a_symlinked_directory_is_reported_not_skipped(self, tmp_path: Path) -> None:
        # Not followed (a loop would not end); before, the rules there were dropped silently.
        real = write(tmp_path / "real", MUSCLE)
        pack = write(tmp_path / "pack", "")
        (pack / "extra").symlink_to(real)
        assert one(pack) == (
            str(pack / "extra"),
            "a symlink to a directory is not followed: give that directory as a pack",
        )

    def test_a_symlink_loop_is_reported(self, tmp_path: Path) -> None:
        pack = write(tmp_path / "pack", MUSCLE)
        (pack / "loop").symlink_to(pack)
        (pack / "dead.toml").symlink_to(tmp_path / "missing.toml")
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(pack)
        assert [(Path(p.file).name, p.message[:24]) for p in info.value.problems] == [
            ("loop", "a symlink to a directory"),
            ("dead.toml", "cannot read file: [Errno"),
        ]


def _dig(depth: int) -> None:
    """Make ``depth`` nested directories ``a`` below the working directory, and enter them."""
    import os

    for _ in range(depth):
        os.mkdir("a")
        os.chdir("a")


def _fill_in(top: Path, depth: int) -> None:
    """Remove what :func:`_dig` made, bottom up: pytest's own clean-up recurses per level."""
    import os

    os.chdir(top)
    for _ in range(depth):
        os.chdir("a")
    for name in os.listdir("."):
        os.remove(name)
    for _ in range(depth):
        os.chdir("..")
        os.rmdir("a")


class TestDeepDirectories:
    def test_a_pack_nested_deeper_than_the_recursion_limit(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Before: a bare RecursionError from Path.rglob, which recursed once per level.
        # The walk is a loop now: the file at the bottom is read.
        import sys

        depth = sys.getrecursionlimit() + 100
        monkeypatch.chdir(tmp_path)
        _dig(depth)
        try:
            Path("clinic.toml").write_text(SOURCE + MUSCLE, encoding="utf-8")
            assert "calves" in load_knowledge(tmp_path).muscles
        finally:
            _fill_in(tmp_path, depth)

    def test_a_pack_deeper_than_the_file_system_allows(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        depth = 2100  # 4,200 characters below tmp_path: past PATH_MAX (4,096)
        monkeypatch.chdir(tmp_path)
        _dig(depth)
        try:
            assert one(tmp_path) == (str(tmp_path), "cannot read pack: File name too long")
        finally:
            _fill_in(tmp_path, depth)


class TestEncodings:
    def test_a_byte_order_mark_is_read(self, tmp_path: Path) -> None:
        # Before: "TOML syntax error: Invalid statement (at line 1, column 1)".
        (tmp_path / "clinic.toml").write_bytes(b"\xef\xbb\xbf" + (SOURCE + MUSCLE).encode())
        assert "calves" in load_knowledge(tmp_path).muscles

    def test_crlf_line_endings_are_read(self, tmp_path: Path) -> None:
        # Acceptable as it is: TOML allows CRLF, and tomllib reads it.
        text = (SOURCE + MUSCLE).replace("\n", "\r\n")
        (tmp_path / "clinic.toml").write_bytes(text.encode())
        assert load_knowledge(tmp_path).muscles["calves"].name == "Calves"

    @pytest.mark.parametrize(
        "raw", [b"\xff\xfe" + "x = 1".encode("utf-16-le"), b'x = "\xc3\x28"', b"x = 1\x00"]
    )
    def test_utf16_invalid_utf8_and_nul_are_a_problem_naming_the_file(
        self, tmp_path: Path, raw: bytes
    ) -> None:
        # Acceptable as it is: a clear KnowledgeError naming the file, no traceback.
        (tmp_path / "clinic.toml").write_bytes(raw)
        file, message = one(tmp_path)
        assert file == str(tmp_path / "clinic.toml")
        assert message.startswith(("cannot read file: 'utf-8' codec", "TOML syntax error"))


class TestManySmallTables:
    def test_a_mebibyte_of_empty_rules_lists_a_hundred_problems(self, tmp_path: Path) -> None:
        # Before: 116,000 problems (one line each in validate) after about 8 s; with
        # 340,000 empty inline tables, 1,020,000 problems after about 39 s.
        (tmp_path / "clinic.toml").write_text("[[rule]]\n" * 116_000, encoding="utf-8")
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        found = info.value.problems
        assert len(found) == 101
        assert found[0].entry == "rule #1"
        assert found[-1].message == "116000 problems in all, 100 listed: the file is refused"

    def test_when_the_first_entries_are_good(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from sirecommend import _loader

        monkeypatch.setattr(_loader, "MAX_PROBLEMS_PER_FILE", 3)
        # (Cut to 3, entries of at most 3 fields: a real entry has far fewer than 100.)
        good = "".join(MUSCLE.replace("calves", f"m{i}") for i in range(3))
        good = good.replace("clinic-protocol", "si-stretch-guide#p1")
        write(tmp_path, good + "[[muscle]]\n" * 2, source=False)
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        assert [(p.entry, p.message) for p in info.value.problems] == [
            ("", "6 problems in all, 0 listed: the file is refused")
        ]


# ------------------------------------------------ problems that named the wrong place (fixed)


class TestProblemsNameThePack:
    def test_a_second_when_aggravated_rule(self, tmp_path: Path) -> None:
        # Refused before too, but as "<graph>" with no entry or field.
        text = """
        [[rule]]
        id = "aggravated_push_on"
        kind = "when_aggravated"
        name = "Push on"
        range_of_motion = "reduced"
        dose = "lowest"
        caution = "Push through the pain."
        cites = ["clinic-protocol"]
        """
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "rule 'aggravated_push_on'", "kind")
        ]

    def test_a_position_named_like_a_shipped_group(self, tmp_path: Path) -> None:
        # Refused before too, but blamed on the shipped group in vocabulary.toml. A
        # position "floor" that is standing would make avoiding "floor" mean standing.
        text = """
        [[position]]
        id = "floor"
        name = "Standing on the floor"
        is_a = "standing"
        sequence = 5
        cites = ["clinic-protocol"]
        """
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(write(tmp_path, text))
        (problem,) = info.value.problems
        assert (Path(problem.file).name, problem.entry, problem.field) == (
            "clinic.toml",
            "position 'floor'",
            "id",
        )
        assert problem.message == "a position and a group cannot share an id"

    def test_a_stretch_no_context_reaches_is_still_a_graph_problem(self, tmp_path: Path) -> None:
        # Left as it is (the graph lint catches it, harmless to safety): no routine can
        # include a stretch no context offers.
        text = STRETCH.format(id="orphan", position="standing", movements='["hip_flexion"]')
        text = text.replace(
            'suits = [{context = "after_sitting", cites = ["clinic-protocol"]}]', ""
        )
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(write(tmp_path, text))
        (problem,) = info.value.problems
        assert problem.file == "<graph>"
        assert problem.message == "stretch:orphan: not reachable from any context"

    @pytest.mark.parametrize("ident", ["supine", "kneeling"])
    def test_a_group_named_like_a_position_or_a_kind(self, tmp_path: Path, ident: str) -> None:
        text = f"""
        [[position_group]]
        id = "{ident}"
        name = "Upright"
        members = ["standing"]
        cites = ["clinic-protocol"]
        """
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", f"position_group {ident!r}", "id")
        ]


# ------------------------------------------------------------- the CLI, with each bad pack


def _bad_pack(tmp_path: Path, kind: str) -> Path:
    """A pack that must be refused, of the given kind."""
    import os

    if kind == "too long":
        return tmp_path / ("a" * 300)
    if kind == "fifo":
        os.mkfifo(tmp_path / "clinic.toml")
        return tmp_path
    text = {
        "floor": "[[rule]]\nid = 'pregnancy_no_supine'\noverride = true\n"
        "kind = 'pregnancy_avoid_position'\nname = 'Late'\nfrom_trimester = 3\n"
        "positions = ['supine']\nreason = 'Late.'\ncites = ['clinic-protocol']\n",
        "stretch": "[[stretch]]\nid = 'standing_side_bend'\noverride = true\n"
        + STRETCH.split("\n", 3)[3].format(
            id="x", position="standing", movements='["trunk_flexion"]'
        ),
        "escape": "[[rule]]\nid = 'a_mat'\nkind = 'general_caution'\nname = 'Mat'\n"
        "text = \"Use a mat.\\u001b[2J\"\ncites = ['clinic-protocol']\n",
        "many": "[[rule]]\n" * 500,
        "nested": "a = " + "[" * 5000 + "]" * 5000,
        "bom and bad toml": "\ufeffx = = 1",
    }[kind]
    return write(tmp_path, text)


class TestCli:
    """``recommend --pack`` with each bad pack: exit 2, one line, no traceback."""

    @pytest.mark.parametrize(
        ("kind", "words"),
        [
            ("floor", "weakens the shipped safety floor"),
            ("stretch", "drops side_bend"),
            ("escape", "control or direction character"),
            ("many", "(and 100 more)"),
            ("nested", "nested too deeply"),
            ("bom and bad toml", "TOML syntax error"),
            ("fifo", "not a regular file"),
            ("too long", "cannot read pack: File name too long"),
        ],
    )
    def test_recommend_with_a_bad_pack(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, words: str
    ) -> None:
        from sirecommend.cli import main

        pack = _bad_pack(tmp_path, kind)
        status = main(["recommend", "--context", "warm_up", "--pack", str(pack)])
        out, err = capsys.readouterr()
        assert status == 2
        assert out == ""
        assert err.count("\n") == 1
        assert "Traceback" not in err
        assert err.startswith("sirecommend recommend: error: invalid knowledge: ")
        assert words in err


# ------------------------------------------------ attacks that end safely (pinned as they are)


def shipped_cautions_kept(routine: object) -> bool:
    shipped = [
        r.text
        for r in load_knowledge().rules.values()
        if isinstance(r, GeneralCautionRule) and r.when == "always"  # (not pregnant here)
    ]
    return all(text in routine.cautions for text in shipped)  # type: ignore[attr-defined]


class TestNoOverrideNeeded:
    def test_a_new_general_caution_that_contradicts_a_stop_rule_loads(self, tmp_path: Path) -> None:
        # Allowed: adding text cannot lower the floor in code (no rule reads it), every
        # shipped stop rule is still printed, and the pack is named in the provenance.
        # What added text means is the clinic's to answer for: code cannot judge it.
        text = """
        [[rule]]
        id = "a_keep_going"
        kind = "general_caution"
        name = "Keep going"
        text = "Numbness is normal: keep stretching."
        cites = ["clinic-protocol"]
        """
        kb = load_knowledge(write(tmp_path, text))
        routine = recommend(context="warm_up", knowledge=kb)
        assert "Numbness is normal: keep stretching." in routine.cautions
        assert shipped_cautions_kept(routine)
        assert routine.provenance.packs == (str(tmp_path),)
        flagged = recommend(context="warm_up", knowledge=kb, red_flags={"numbness"})
        assert flagged.status == "referred"
        assert flagged.steps == ()

    def test_new_movements_of_rotation_and_side_bend_kinds_are_blocked(
        self, tmp_path: Path
    ) -> None:
        text = """
        [[movement]]
        id = "gentle_stretch"
        name = "Gentle stretch"
        is_a = "rotation"
        cites = ["clinic-protocol"]

        [[movement]]
        id = "soft_lean"
        name = "Soft lean"
        is_a = "side_bend"
        cites = ["clinic-protocol"]
        """ + STRETCH.format(
            id="sneaky", position="standing", movements='["gentle_stretch", "soft_lean"]'
        )
        kb = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_sitting", knowledge=kb)
        assert "sneaky" not in steps(routine)
        (out,) = [e for e in routine.excluded if e.stretch_id == "sneaky"]
        assert [r.rule for r in out.reasons] == ["no_rotation_with_side_bend"]
        assert audit(routine, routine.profile, kb) == []

    def test_a_new_supine_alternative_of_a_supine_stretch_is_blocked_too(
        self, tmp_path: Path
    ) -> None:
        text = STRETCH.format(id="knee_hug", position="supine", movements='["hip_flexion"]')
        suits = 'suits = [{context = "after_sitting", cites = ["clinic-protocol"]}]'
        text = text.replace(suits, 'alternative_of = "hamstring_supine"')
        kb = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_sitting", knowledge=kb, pregnancy_trimester=2)
        assert not {"knee_hug", "hamstring_supine"} & set(steps(routine))
        assert audit(routine, routine.profile, kb) == []

    @pytest.mark.parametrize(("position", "hint"), [("floor", None), ("kneeling", "half_kneeling")])
    def test_a_stretch_in_a_group_or_a_bare_kind_is_refused(
        self, tmp_path: Path, position: str, hint: str | None
    ) -> None:
        text = STRETCH.format(id="odd", position=position, movements='["hip_flexion"]')
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(write(tmp_path, text))
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("stretch 'odd'", "position")
        assert problem.message.startswith(f"unknown position {position!r}")

    def test_a_movement_named_like_a_kind_must_be_that_kind(self, tmp_path: Path) -> None:
        text = """
        [[movement]]
        id = "trunk_extension"
        name = "Really a hip flexion"
        is_a = "hip_flexion"
        cites = ["clinic-protocol"]
        """
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "movement 'trunk_extension'", "is_a")
        ]

    def test_renaming_a_shipped_position_or_movement_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Allowed: no rule, profile or audit reads a name; all match by is_a, which is
        # floor. "supine" called "Standing" still leaves its steps out in pregnancy.
        text = override(kb, "position", "supine", name="Standing") + override(
            kb, "movement", "side_bend", name="Gentle lean"
        )
        renamed = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_sitting", knowledge=renamed, pregnancy_trimester=2)
        assert "supine" not in {s.position for s in routine.steps}
        lean = recommend(context="after_sitting", knowledge=renamed, minutes=60.0)
        (step,) = [s for s in lean.steps if s.stretch_id == "standing_side_bend"]
        assert renamed.rules["no_rotation_with_side_bend"].caution in step.cautions  # type: ignore[union-attr]


class TestRelaxationAbuse:
    RELAX = """
    [[relaxation]]
    id = "late"
    table = "{table}"
    entry = "{entry}"
    field = "{field}"
    reason = "{reason}"
    clinician = "Dr A"
    cites = ["clinic-protocol"]
    """

    def late(self, kb: KnowledgeBase) -> str:
        return override(kb, "rule", "pregnancy_no_supine", from_trimester=3)

    def relax(
        self,
        table: str = "rule",
        entry: str = "pregnancy_no_supine",
        field: str = "from_trimester",
        reason: str = "Supervised.",
    ) -> str:
        return self.RELAX.format(table=table, entry=entry, field=field, reason=reason)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"field": "no_such_field"}, "field"),  # relaxes nothing
            ({"entry": "no_rotation_with_side_bend"}, "field"),  # relaxes nothing
            ({"reason": "   "}, "reason"),  # no reason given
        ],
    )
    def test_a_relaxation_that_misses_does_not_relax(
        self, tmp_path: Path, kb: KnowledgeBase, changes: dict[str, str], field: str
    ) -> None:
        got = problems(write(tmp_path, self.late(kb) + self.relax(**changes)))
        assert sorted(got) == [
            ("clinic.toml", "relaxation 'late'", field),
            ("clinic.toml", "rule 'pregnancy_no_supine'", "from_trimester"),
        ]

    def test_a_table_outside_the_floor_cannot_be_named(self, tmp_path: Path) -> None:
        got = problems(write(tmp_path, self.relax(table="source")))
        assert got == [("clinic.toml", "relaxation 'late'", "table")]

    def test_a_relaxation_in_one_pack_covers_a_weakening_in_another(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Allowed: both packs are loaded together by one caller, the relaxation is still
        # declared with reason, clinician and citation, and it heads every handout.
        first = write(tmp_path / "a", self.relax())
        second = write(tmp_path / "b", self.late(kb), source=False)
        relaxed = load_knowledge(first, second)
        assert relaxed.origins[("relaxation", "late")] == str(first / "clinic.toml")
        routine = recommend(context="after_sitting", knowledge=relaxed, pregnancy_trimester=2)
        assert routine.provenance.relaxations == (relaxed.relaxations["late"],)

    def test_a_later_pack_may_undo_an_earlier_packs_strengthening(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Allowed: the floor is the shipped knowledge, not the last pack; the result is
        # exactly the shipped rule.
        first = write(tmp_path / "a", override(kb, "rule", "pregnancy_no_supine", from_trimester=1))
        second = write(tmp_path / "b", override(kb, "rule", "pregnancy_no_supine"), source=False)
        both = load_knowledge(first, second)
        assert both.rules["pregnancy_no_supine"] == kb.rules["pregnancy_no_supine"].model_copy(
            update={"override": True}
        )

    def test_a_later_pack_restoring_the_shipped_rule_makes_a_relaxation_stale(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Refused: a relaxation must relax something, so none lingers after the change.
        first = write(tmp_path / "a", self.late(kb) + self.relax())
        second = write(tmp_path / "b", override(kb, "rule", "pregnancy_no_supine"), source=False)
        assert problems(first, second) == [("clinic.toml", "relaxation 'late'", "field")]


class TestUrgencyTricks:
    def test_equal_ranks_are_refused(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = override(kb, "urgency", "urgent", rank=3)
        assert ("clinic.toml", "urgency 'urgent'", "rank") in problems(write(tmp_path, text))

    def test_ranks_scaled_in_order_load(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        text = "".join(
            override(kb, "urgency", tier, rank=rank)
            for tier, rank in (
                ("emergency", 9),
                ("same_day", 7),
                ("urgent", 6),
                ("stop_and_review", 3),
            )
        )
        scaled = load_knowledge(write(tmp_path, text))
        flagged = recommend(context="warm_up", knowledge=scaled, red_flags={"fever", "numbness"})
        assert flagged.referral is not None
        assert flagged.referral.urgency == "same_day"

    def test_a_new_tier_is_not_in_the_schema(self, tmp_path: Path) -> None:
        text = (
            "[[urgency]]\nid = 'later'\nrank = 1\naction = 'Wait.'\ncites = ['clinic-protocol']\n"
        )
        assert problems(write(tmp_path, text)) == [("clinic.toml", "urgency 'later'", "id")]

    def test_a_red_flag_made_stricter_by_override_loads(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        stricter = load_knowledge(
            write(tmp_path, override(kb, "red_flag", "numbness", urgency="emergency"))
        )
        flagged = recommend(context="warm_up", knowledge=stricter, red_flags={"numbness"})
        assert flagged.referral is not None
        assert flagged.referral.urgency == "emergency"

    def test_rule_names_cites_and_reasons_may_change(
        self, tmp_path: Path, kb: KnowledgeBase
    ) -> None:
        # Allowed: no referral action or message, caution or stop rule changes. A pregnancy
        # rule made stricter (trimester 1) must be able to say so in its reason, and a
        # renamed rule still blocks the same steps.
        text = "".join(
            [
                override(kb, "rule", "red_flags_stop_and_refer", name="Warning signs",
                         cites=["clinic-protocol"]),
                override(kb, "rule", "pregnancy_no_supine", from_trimester=1,
                         reason="In pregnancy, exercises lying on the back are left out."),
                override(kb, "rule", "no_rotation_with_side_bend", name="No twisting bends"),
                override(kb, "urgency", "urgent", cites=["clinic-protocol"]),
            ]
        )  # fmt: skip
        edited = load_knowledge(write(tmp_path, text))
        routine = recommend(context="after_sitting", knowledge=edited, pregnancy_trimester=1)
        assert "supine" not in {s.position for s in routine.steps}
        flagged = recommend(context="warm_up", knowledge=edited, red_flags={"fever"})
        shipped = recommend(context="warm_up", red_flags={"fever"})
        assert flagged.referral is not None
        assert shipped.referral is not None
        assert flagged.referral.message == shipped.referral.message

    def test_a_red_flag_cannot_be_removed(self, tmp_path: Path, kb: KnowledgeBase) -> None:
        # No pack can remove an entry: an empty table adds nothing, and an override that
        # drops a required field is refused (the shipped flag stays).
        kept = load_knowledge(write(tmp_path / "a", "red_flag = []\n", source=False))
        assert kept.red_flags == kb.red_flags
        stub = "[[red_flag]]\nid = 'saddle_numbness'\noverride = true\n"
        got = problems(write(tmp_path / "b", stub))
        assert {entry for _, entry, _ in got} == {"red_flag 'saddle_numbness'"}


class TestLoaderPinned:
    def test_duplicate_ids_across_two_packs(self, tmp_path: Path) -> None:
        first = write(tmp_path / "a", MUSCLE)
        second = write(tmp_path / "b", MUSCLE, source=False)
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(first, second)
        (problem,) = info.value.problems
        assert problem.file == str(second / "clinic.toml")
        assert str(first / "clinic.toml") in problem.message

    @pytest.mark.parametrize("value", ["nan", "inf", "-inf", "30.0"])
    def test_no_float_is_accepted(self, tmp_path: Path, value: str) -> None:
        text = STRETCH.format(id="f", position="standing", movements='["hip_flexion"]')
        text = text.replace("hold_seconds = [30, 60]", f"hold_seconds = [{value}, 60]")
        assert problems(write(tmp_path, text)) == [
            ("clinic.toml", "stretch 'f'", "dosage.hold_seconds[0]")
        ]

    def test_a_pack_that_is_a_symlink_to_stdin(self, tmp_path: Path) -> None:
        import os
        import stat

        if stat.S_ISREG(os.stat("/dev/stdin").st_mode):
            pytest.skip("stdin is a regular file here: reading it would be right")
        (tmp_path / "pack.toml").symlink_to("/dev/stdin")
        file, message = one(tmp_path / "pack.toml")
        assert file == str(tmp_path / "pack.toml")
        assert "not a regular file" in message or "cannot read file" in message
