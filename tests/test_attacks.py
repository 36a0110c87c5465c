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
        # rglob does not follow it: a clinic's stricter rules there were dropped silently.
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
