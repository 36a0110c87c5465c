"""The documentation site builds with no warnings, and documents every public name.

The site is built once per session (about 10 s) into a temporary directory, with the
same nitpicky, warnings-are-errors settings as ``bash scripts/docs.sh``. Without Sphinx
the tests skip, except in CI (``CI`` set), where a missing docs toolchain is a failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import sirecommend
from sirecommend import load_knowledge

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = [
    "sirecommend.testing",
    "sirecommend.fhir",
    "sirecommend.handout",
    "sirecommend.cli",
]


def _have_sphinx() -> bool:
    return all(importlib.util.find_spec(m) for m in ("sphinx", "furo", "myst_parser"))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site (HTML), built once per session."""
    if not _have_sphinx():
        if os.environ.get("CI"):
            pytest.fail("Sphinx, furo or myst-parser is missing: pip install -e '.[test]'")
        pytest.skip("Sphinx, furo or myst-parser is not installed (pip install -e '.[docs]')")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-W", "--keep-going", "-q",
         "-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # no warning at all
    return out


def inventory(site: Path) -> dict[str, str]:
    """``objects.inv`` as ``{name: role}`` (the format: 4 header lines, then zlib)."""
    raw = (site / "objects.inv").read_bytes()
    header, _, body = raw.partition(b"# The remainder of this file is compressed using zlib.\n")
    assert header.startswith(b"# Sphinx inventory version 2")
    names: dict[str, str] = {}
    for line in zlib.decompress(body).decode("utf-8").splitlines():
        m = re.match(r"(?x)(.+?)\s+(\S+:\S+)\s+(-?\d+)\s+(\S+)\s+(.*)", line)
        assert m, line
        names[m.group(1)] = m.group(2)
    return names


def text_of(page: Path) -> str:
    """The visible text of a built page, tags stripped."""
    html = page.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_public_name_is_in_the_inventory(site: Path) -> None:
    names = inventory(site)
    missing = [n for n in sirecommend.__all__ if f"sirecommend.{n}" not in names]
    assert missing == []
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        assert modname in names
        assert [n for n in module.__all__ if f"{modname}.{n}" not in names] == []
    assert names["sirecommend.recommend"] == "py:function"
    assert names["sirecommend.Profile"] == "py:class"
    assert names["sirecommend.errors.nearest"] == "py:function"


def test_every_page_is_built(site: Path) -> None:
    for page in ["index", "getting-started", "cli", "evidence", "api", "benchmarks",
                 "changelog", "decisions", "mutation-survivors", "concepts/knowledge",
                 "concepts/pipeline", "concepts/safety", "concepts/triage",
                 "howto/clinic-pack", "howto/testing", "howto/fhir", "howto/handout",
                 "howto/programme"]:  # fmt: skip
        assert (site / f"{page}.html").is_file(), page


def test_the_evidence_page_holds_the_whole_knowledge(site: Path) -> None:
    text = text_of(site / "evidence.html")
    kb = load_knowledge()
    for table in (kb.rules, kb.red_flags, kb.stretches, kb.sources):
        for ident, entry in table.items():
            assert ident in text, ident
            assert str(getattr(entry, "name", ident)).split("'")[0] in text.replace("&#8217;", "'")
    # every citation of a stretch is shown, and links to its source
    for cite in kb.stretches["figure_four_supine"].cites:
        assert cite in text
    assert 'href="#source-si-stretch-guide"' in (site / "evidence.html").read_text("utf-8")


def test_the_cli_reference_is_the_parser(site: Path) -> None:
    text = text_of(site / "cli.html")
    for command in ("recommend", "explain", "list", "contexts", "stretches", "show",
                    "validate", "graph", "schema", "log", "next", "history", "plan"):  # fmt: skip
        assert f"sirecommend {command}" in text
    assert "foam_roller, strap, towel" in text  # the help lists the shipped ids
    for option in ("--journal PATH", "--clinician", "--large-print", "--ics FILE"):
        assert option in text
    assert "/root" not in text  # no path of the build machine
    assert "/home/" not in text


def test_the_programme_guide_tells_the_story(site: Path) -> None:
    text = text_of(site / "howto" / "programme.html")
    for words in ("[start]", "[up]", "[down]", "SIRECOMMEND_JOURNAL", "--journal",
                  "tendon rehabilitation, not from SI joint studies", "physical therapist",
                  "VEVENT"):  # fmt: skip
        assert words in text, words


def test_the_changelog_is_included(site: Path) -> None:
    first = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()[3]
    assert first.split("[")[0].strip() in text_of(site / "changelog.html")
