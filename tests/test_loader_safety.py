"""The loader never crashes, hangs or trusts a cache: every bad file is a KnowledgeError.

FIFOs, devices and symlinks to them are refused without blocking; files have a size
limit; deep nesting, huge integers and any parser error name the file; scalar types are
strict; schema and cross-reference problems come in one pass; nothing is unpickled.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sirecommend import KnowledgeError, _loader, load_knowledge

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """Fail (not hang) if a read ever blocks: the alarm interrupts it."""
    signal.alarm(20)
    yield
    signal.alarm(0)


def one_problem(*packs: Path) -> tuple[str, str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(*packs)
    (problem,) = info.value.problems
    return problem.file, problem.message


class TestOnlyRegularFiles:
    def test_a_fifo_in_a_pack(self, tmp_path: Path) -> None:
        os.mkfifo(tmp_path / "stretches.toml")
        assert one_problem(tmp_path) == (
            str(tmp_path / "stretches.toml"),
            f"cannot read file: not a regular file: {tmp_path / 'stretches.toml'}",
        )

    def test_a_fifo_given_as_the_pack(self, tmp_path: Path) -> None:
        os.mkfifo(tmp_path / "pack.toml")
        file, message = one_problem(tmp_path / "pack.toml")
        assert file == str(tmp_path / "pack.toml")
        assert "not a regular file" in message

    @pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "fifo"])
    def test_a_symlink_to_a_device_or_fifo(self, tmp_path: Path, target: str) -> None:
        if target == "fifo":
            os.mkfifo(tmp_path / "fifo")
            target = str(tmp_path / "fifo")
        (tmp_path / "zero.toml").symlink_to(target)
        file, message = one_problem(tmp_path)
        assert file == str(tmp_path / "zero.toml")
        assert "not a regular file" in message

    def test_a_directory_named_like_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "odd.toml").mkdir()
        file, message = one_problem(tmp_path)
        assert file == str(tmp_path / "odd.toml")
        assert "not a regular file" in message

    def test_a_fifo_swapped_in_after_the_check(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # os.stat saw a regular file; by the time it is opened it is a FIFO. The open
        # does not block (O_NONBLOCK) and the descriptor is checked again.
        regular = tmp_path / "regular.txt"
        regular.write_text("", encoding="utf-8")
        os.mkfifo(tmp_path / "pack.toml")
        real_stat = os.stat

        def swapped(path: object, **kw: object) -> os.stat_result:
            return real_stat(regular) if "pack.toml" in str(path) else real_stat(path, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(_loader.os, "stat", swapped)
        _file, message = one_problem(tmp_path / "pack.toml")
        assert "not a regular file" in message


class TestSizeLimit:
    def test_the_limit_is_one_mebibyte(self) -> None:
        assert _loader.MAX_FILE_BYTES == 1024 * 1024

    def test_a_file_over_the_limit(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(_loader, "MAX_FILE_BYTES", 40)
        (tmp_path / "big.toml").write_text("# " + "x" * 39 + "\n", encoding="utf-8")
        assert one_problem(tmp_path) == (
            str(tmp_path / "big.toml"),
            "cannot read file: larger than the limit of 40 bytes for a knowledge file",
        )

    def test_a_file_at_the_limit_is_read(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        text = '[[muscle]]\nid = "calves"\nname = "Calves"\ncites = ["si-stretch-guide#p1"]\n'
        monkeypatch.setattr(_loader, "MAX_FILE_BYTES", len(text))
        (tmp_path / "calves.toml").write_text(text, encoding="utf-8")
        assert "calves" in load_knowledge(tmp_path).muscles

    def test_a_real_file_over_a_mebibyte(self, tmp_path: Path) -> None:
        (tmp_path / "big.toml").write_bytes(b"#" * (1024 * 1024) + b"\n")
        assert "larger than the limit of 1048576 bytes" in one_problem(tmp_path)[1]


class TestParserErrors:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("a = " + "[" * 5000 + "]" * 5000, "cannot read file: nested too deeply"),
            ("a = " + "{b = " * 3000 + "1" + "}" * 3000, "cannot read file: nested too deeply"),
            ("x = " + "9" * 5000, "cannot read file: Exceeds the limit (4300 digits)"),
            ("x = = 1", "TOML syntax error: "),
        ],
    )
    def test_each_names_the_file(self, tmp_path: Path, text: str, message: str) -> None:
        (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
        file, found = one_problem(tmp_path)
        assert file == str(tmp_path / "bad.toml")
        assert found.startswith(message)

    @pytest.mark.parametrize(
        ("error", "message"),
        [
            (MemoryError(), "cannot read file: out of memory"),
            (RuntimeError("parser broke"), "cannot read file: parser broke"),
        ],
    )
    def test_any_other_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
    ) -> None:
        import tomllib

        def broken(text: str) -> None:
            raise error

        (tmp_path / "pack.toml").write_text("", encoding="utf-8")
        monkeypatch.setattr(tomllib, "loads", broken)
        assert one_problem(tmp_path) == (str(tmp_path / "pack.toml"), message)


class TestStrictTypes:
    @pytest.mark.parametrize(
        ("dosage", "field"),
        [
            ("hold_seconds = [true, 60]", "dosage.hold_seconds[0]"),
            ('hold_seconds = ["30", 60]', "dosage.hold_seconds[0]"),
            ("hold_seconds = [30.0, 60]", "dosage.hold_seconds[0]"),
            ("hold_seconds = [30, 60]\nper_side = 1", "dosage.per_side"),
        ],
    )
    def test_no_coercion(self, tmp_path: Path, dosage: str, field: str) -> None:
        lines = [
            "[[stretch]]",
            'id = "odd"',
            'name = "Odd"',
            'phase = "targeted"',
            'position = "standing"',
            'movements = ["side_bend"]',
            'targets = ["lateral_trunk"]',
            'cites = ["si-stretch-guide#p23"]',
            'instructions = [{text = "Lean.", cites = ["si-stretch-guide#p23"]}]',
            "[stretch.dosage]",
            "sets = [2, 3]",
            'cites = ["si-stretch-guide#p23"]',
            *dosage.splitlines(),
        ]
        if "per_side" not in dosage:
            lines.append("per_side = true")
        (tmp_path / "odd.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("stretch 'odd'", field)

    def test_trimester_must_be_an_integer(self, tmp_path: Path) -> None:
        text = textwrap.dedent(
            """
            [[rule]]
            id = "late_supine"
            kind = "pregnancy_avoid_position"
            name = "Late"
            from_trimester = true
            positions = ["supine"]
            reason = "Late."
            cites = ["acog-804-2020"]
            """
        )
        (tmp_path / "rule.toml").write_text(text, encoding="utf-8")
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        (problem,) = info.value.problems
        assert (problem.entry, problem.field) == ("rule 'late_supine'", "from_trimester")


class TestOnePass:
    def test_schema_reference_and_floor_problems_together(self, tmp_path: Path) -> None:
        (tmp_path / "a.toml").write_text(
            '[[muscle]]\nid = "calves"\nnmae = "Calves"\ncites = ["si-stretch-guide#p1"]\n\n'
            '[[muscle]]\nid = "shins"\nname = "Shins"\ncites = ["si-stretch-guide#p1"]\n',
            encoding="utf-8",
        )
        (tmp_path / "b.toml").write_text(
            textwrap.dedent(
                """
                [[stretch]]
                id = "calf_stretch"
                name = "Calf stretch"
                phase = "targeted"
                position = "sofa"
                movements = ["ankle_flex"]
                targets = ["calves", "shins"]
                cites = ["si-stretch-guide#p1"]
                instructions = [{text = "Lean.", cites = ["si-stretch-guide#p1"]}]
                [stretch.dosage]
                hold_seconds = [30, 60]
                sets = [2, 3]
                per_side = true
                cites = ["si-stretch-guide#p1"]

                [[red_flag]]
                id = "fever"
                override = true
                name = "Fever or feeling generally unwell"
                urgency = "stop_and_review"
                message = "x"
                cites = ["nice-cks-low-back-pain"]

                [[muscle]]
                id = "hams"
                override = true
                name = "Hams"
                cites = ["si-stretch-guide#p1"]

                [[stretch]]
                id = "uses_hams"
                name = "Uses hams"
                phase = "targeted"
                position = "standing"
                movements = ["side_bend"]
                targets = ["hams"]
                cites = ["si-stretch-guide#p1"]
                instructions = [{text = "Lean.", cites = ["si-stretch-guide#p1"]}]
                [stretch.dosage]
                hold_seconds = [30, 60]
                sets = [2, 3]
                per_side = true
                cites = ["si-stretch-guide#p1"]
                """
            ),
            encoding="utf-8",
        )
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        found = [(Path(p.file).name, p.entry, p.field) for p in info.value.problems]
        assert found == [
            ("a.toml", "muscle 'calves'", "name"),
            ("a.toml", "muscle 'calves'", "nmae"),
            ("b.toml", "muscle 'hams'", "override"),
            ("b.toml", "stretch 'calf_stretch'", "position"),
            ("b.toml", "stretch 'calf_stretch'", "movements[0]"),
            ("b.toml", "red_flag 'fever'", "urgency"),
            ("b.toml", "red_flag 'fever'", "message"),
        ]
        # Neither the broken muscle nor the refused override is reported again as unknown.
        assert not any("unknown muscle" in p.message for p in info.value.problems)

    def test_entries_without_an_id_and_good_entries_beside_them(self, tmp_path: Path) -> None:
        (tmp_path / "a.toml").write_text(
            'muscle = [{name = "No id", cites = ["si-stretch-guide#p1"]}, "not a table",\n'
            '  {id = "shins", name = "Shins", cites = ["si-stretch-guide#p1"]}]\n\n'
            "[[calves]]\nid = 1\n",
            encoding="utf-8",
        )
        (tmp_path / "b.toml").write_text(
            'equipment = "strap"\n\n'
            '[[muscle]]\nid = "shin"\nname = "Shin"\ncites = ["si-stretch-guide#p99"]\n',
            encoding="utf-8",
        )
        with pytest.raises(KnowledgeError) as info:
            load_knowledge(tmp_path)
        found = [(Path(p.file).name, p.entry, p.field) for p in info.value.problems]
        assert found == [
            ("a.toml", "muscle #1", "id"),
            ("a.toml", "muscle #2", ""),
            ("a.toml", "table 'calves'", ""),
            ("b.toml", "table 'equipment'", ""),
            ("b.toml", "muscle 'shin'", "cites"),  # checked although the file had a schema error
        ]


class TestNoTrustedCache:
    def test_the_pickle_cache_is_gone(self) -> None:
        assert importlib.util.find_spec("sirecommend._cache") is None

    def test_planted_pickles_and_fifos_in_every_old_cache_place_change_nothing(
        self, tmp_path: Path
    ) -> None:
        """A new process gets the right knowledge whatever the cache directories hold."""
        marker = tmp_path / "pwned"

        class Evil:
            def __reduce__(self) -> tuple[object, tuple[str]]:
                return (os.system, (f"touch {marker}",))

        home, xdg, own = tmp_path / "home", tmp_path / "xdg", tmp_path / "own"
        places = [home / ".cache" / "sirecommend", xdg / "sirecommend", own]
        for place in places:
            place.mkdir(parents=True)
            for name in ("kb.pickle", "0" * 64 + ".kb.pickle", "index.pickle"):
                (place / name).write_bytes(pickle.dumps(Evil()))
            os.mkfifo(place / "fifo.kb.pickle")
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(xdg),
            "SIRECOMMEND_CACHE_DIR": str(own),
        }
        code = (
            "from sirecommend import recommend, load_knowledge\n"
            "r = recommend(context='after_sitting', pregnancy_trimester=3)\n"
            "print(sorted({s.position for s in r.steps} & {'supine'}))\n"
            "f = recommend(context='after_sitting', red_flags={'saddle_numbness'})\n"
            "print(f.referral.urgency)\n"
            "print(load_knowledge().digest)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["[]", "emergency", load_knowledge().digest]
        assert not marker.exists()
