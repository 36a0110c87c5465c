"""Handouts: Markdown and printable HTML, escaped, with pictograms; rendered in Chromium."""

from __future__ import annotations

import dataclasses
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sirecommend import KnowledgeBase, Profile, Routine, load_knowledge, recommend
from sirecommend.handout import PICTOGRAMS, describe_profile, pictogram, to_html, to_markdown

# A clinic pack with a position the project draws no figure for, a source without
# paragraphs, and text that would be markup if it were not escaped.
CLINIC_PACK = """
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
name = "On a <sofa> & \\"chair\\""
sequence = 5
is_a = "seated_chair"
cites = ["clinic-notes"]

[[stretch]]
id = "sofa_stretch"
name = "<script>alert('x')</script> *sofa* stretch"
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
text = "# Sit <b>down</b> & relax"
cites = ["clinic-notes"]

[[stretch.suits]]
context = "at_desk"
cites = ["clinic-notes"]
"""

SHIPPED_POSITIONS = ("standing", "half_kneeling", "quadruped", "seated_floor", "supine", "prone")


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    pack = tmp_path_factory.mktemp("clinic") / "clinic.toml"
    pack.write_text(CLINIC_PACK, encoding="utf-8")
    return load_knowledge(pack)


@pytest.fixture(scope="module")
def full() -> Routine:
    """Steps with and without equipment, cautions, alternatives; some left out."""
    return recommend(
        context="after_sitting", equipment={"towel"}, aggravated=True, focus={"hamstrings"}
    )


def profiles() -> list[Profile]:
    return [
        Profile(context="after_sitting"),
        Profile(context="after_sitting", equipment={"strap"}, aggravated=True, minutes=8),
        Profile(context="cool_down", equipment={"strap", "foam_roller"}),
        Profile(context="warm_up", avoid_positions={"floor"}),  # nothing fits
        Profile(context="warm_up", red_flags={"saddle_numbness", "fever"}),  # referred
        Profile(context="after_sleep", pregnancy_trimester=2, focus={"glutes"}),
    ]


class _Checker(HTMLParser):
    """Collects tags and checks that the page is well nested."""

    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "circle", "path", "line"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, tag
        assert self.stack[-1] == tag, (self.stack[-3:], tag)
        self.stack.pop()


def parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    return checker


class TestPictograms:
    @pytest.mark.parametrize("position", SHIPPED_POSITIONS)
    def test_every_shipped_position_has_its_own_figure(self, position: str) -> None:
        svg = pictogram(position, "Label")
        assert PICTOGRAMS[position] in svg
        assert "?" not in svg
        assert 'role="img"' in svg
        assert "<title>Label</title>" in svg
        parse(svg)

    def test_every_shipped_position_is_drawn(self, kb: KnowledgeBase) -> None:
        assert set(kb.positions) == set(PICTOGRAMS)

    def test_figures_differ(self) -> None:
        assert len(set(PICTOGRAMS.values())) == len(PICTOGRAMS)

    def test_unknown_position_gets_the_neutral_figure(self) -> None:
        svg = pictogram("sofa")
        assert ">?</text>" in svg
        assert "#888" in svg
        assert "<title>sofa</title>" in svg

    def test_label_is_escaped(self) -> None:
        svg = pictogram("standing", '<b>"x"</b>')
        assert "<b>" not in svg
        assert "&lt;b&gt;&quot;x&quot;" in svg


class TestDescribeProfile:
    def test_every_field_in_words(self) -> None:
        text = describe_profile(
            Profile(
                context="after_sitting",
                aggravated=True,
                equipment={"towel", "strap"},
                avoid_positions={"floor", "standing"},
                red_flags={"fever"},
                pregnancy_trimester=1,
                minutes=7.5,
                focus={"hamstrings", "glutes"},
            )
        )
        assert text == (
            "For: After sitting. Red flags reported: Fever or feeling generally unwell. "
            "Symptoms aggravated today. Equipment at hand: Stretching strap, Towel. "
            "Avoiding: On the floor, Standing. Pregnant: trimester 1. "
            "Time available: about 7.5 minutes. Focus: Glutes, Hamstrings."
        )

    def test_ids_the_knowledge_lacks_are_shown_in_words(self, clinic: KnowledgeBase) -> None:
        profile = Profile(context="at_desk")
        assert describe_profile(profile, clinic) == ("For: At the desk. Equipment at hand: none.")
        assert describe_profile(profile) == "For: at desk. Equipment at hand: none."


class TestMarkdown:
    def test_holds_every_part(self, full: Routine) -> None:
        md = to_markdown(full)
        assert md.startswith("# SI joint stretching routine: After sitting\n")
        plain = md.replace("\\", "")  # Markdown escapes are backslashes only
        assert describe_profile(full.profile) in plain
        for n, step in enumerate(full.steps, 1):
            assert f"### {n}. {step.name}" in plain
        for label in ("Position", "Equipment", "Hold", "Sets", "Sides", "Range", "Time"):
            assert f"- **{label}:**" in md
        for heading in ("Steps", "Left out, and why", "Stop rules", "When to get help", "Sources"):
            assert f"\n## {heading}\n" in md
        for rule in full.cautions:
            assert rule in plain
        assert f"> {full.notice}" in plain
        assert "EMERGENCY** if you have" in md
        assert "Towel" in md
        assert "None (hands only)" in md
        assert "Reduced: go slowly" in md
        assert "Each side" in md
        assert "Stands in for Inner-thigh stretch with a strap" in plain

    def test_full_range_and_both_sides(self) -> None:
        md = to_markdown(recommend(context="after_sitting"))
        assert "Full comfortable range" in md
        assert "Both sides at once" in md

    def test_referral_comes_first_with_its_urgency(self) -> None:
        r = recommend(context="warm_up", red_flags={"saddle_numbness", "fever"})
        md = to_markdown(r)
        assert "## EMERGENCY: do not stretch; get help" in md
        assert md.index("EMERGENCY: do not stretch") < md.index("## Stop rules")
        assert "## Steps" not in md
        assert "No stretching today" in md
        assert "(nhs-cauda-equina)" not in md  # sources are listed by title
        assert "Cauda equina syndrome. NHS" in md

    def test_nothing_fits(self) -> None:
        md = to_markdown(recommend(context="warm_up", avoid_positions={"floor"}))
        assert "No step could be given" in md
        assert "## Steps" not in md
        assert "## Sources" not in md

    def test_no_exclusions_no_section(self, full: Routine) -> None:
        md = to_markdown(full.model_copy(update={"excluded": ()}))
        assert "Left out" not in md

    def test_sources_with_and_without_paragraphs(self, full: Routine) -> None:
        md = to_markdown(full)
        assert "(paragraphs 7, " in md
        r = recommend(context="warm_up", red_flags={"severe_pain"})
        assert r.referral is not None
        one = r.referral.model_copy(
            update={"sources": ("si-stretch-guide#p27", "nhs-cauda-equina")}
        )
        md = to_markdown(r.model_copy(update={"referral": one}))
        assert "(paragraph 27)." in md
        assert "- Cauda equina syndrome. NHS (nhs.uk health A to Z). <https://" in md

    def test_escapes_markup(self, clinic: KnowledgeBase) -> None:
        r = recommend(context="at_desk", knowledge=clinic)
        md = to_markdown(r, knowledge=clinic)
        assert "<script>" not in md
        assert "<b>" not in md
        assert r"\<script\>alert('x')\</script\> \*sofa\* stretch" in md
        assert r"1. \# Sit \<b\>down\</b\> & relax" in md
        assert "Clinic notes. Test clinic." in md
        assert "packs: " in md
        # Without the pack's knowledge, its source is named by id.
        assert "- clinic-notes." in to_markdown(r)

    def test_url_cannot_break_out_of_its_angle_brackets(self, kb: KnowledgeBase) -> None:
        src = kb.sources["nice-cks-low-back-pain"]
        bad = src.model_copy(update={"url": "https://x.example/<a>"})
        hacked = dataclasses.replace(kb, sources={**kb.sources, src.id: bad})
        md = to_markdown(recommend(context="warm_up", red_flags={"fever"}), knowledge=hacked)
        assert "<https://x.example/%3Ca%3E>" in md
        assert "/<a>" not in md


class TestHtml:
    @pytest.mark.parametrize("profile", profiles(), ids=lambda p: p.model_dump_json())
    def test_well_formed_and_self_contained(self, profile: Profile) -> None:
        page = to_html(recommend(profile))
        checker = parse(page)
        assert page.startswith("<!DOCTYPE html>")
        # Nothing is fetched: no scripts, stylesheets, images, frames or fonts.
        assert not {"script", "link", "img", "iframe", "object", "embed"} & set(checker.tags)
        assert not [v for k, v in checker.attrs if k == "src"]
        assert "@import" not in page
        assert "url(" not in page
        assert "@page" in page

    def test_holds_every_part(self, full: Routine) -> None:
        page = to_html(full)
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        assert "SI joint stretching routine: After sitting" in text
        assert describe_profile(full.profile) in text
        for n, step in enumerate(full.steps, 1):
            assert f'id="step-{n}"' in page
            assert step.name in text
            assert step.position_name in text
            for line in (*step.instructions, *step.cautions):
                assert line in text
        assert page.count('class="pictogram"') == len(full.steps)
        for rule in full.cautions:
            assert rule in text
        assert full.notice in text
        assert "When to get help" in text
        assert "Sources" in text

    def test_referral(self) -> None:
        r = recommend(context="warm_up", red_flags={"fever"})
        page = to_html(r)
        assert 'class="referral urgency-urgent"' in page
        assert "URGENT: do not stretch; get help" in page
        assert r.referral is not None
        assert html.escape(r.referral.message) in page
        assert 'class="steps"' not in page
        assert '<a href="https://cks.nice.org.uk/' in page

    def test_nothing_fits_and_no_exclusions(self) -> None:
        r = recommend(context="warm_up", avoid_positions={"floor"})
        page = to_html(r)
        assert "No step could be given" in page
        assert "<h2>Sources</h2>" not in page
        assert "Left out" not in to_html(r.model_copy(update={"excluded": ()}))

    def test_escapes_everything_from_a_pack(self, clinic: KnowledgeBase) -> None:
        r = recommend(context="at_desk", knowledge=clinic)
        page = to_html(r, knowledge=clinic)
        checker = parse(page)
        assert "script" not in checker.tags
        assert "# Sit &lt;b&gt;down&lt;/b&gt; &amp; relax" in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; *sofa* stretch" in page
        assert "On a &lt;sofa&gt; &amp; &quot;chair&quot;" in page
        assert ">?</text>" in page  # the neutral pictogram
        assert "packs: " in page


# --------------------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")


def render_pdf(page: str, tmp_path: Path) -> str:
    """Print ``page`` to PDF with headless Chromium; return the PDF's text."""
    assert CHROMIUM is not None
    assert PDFTOTEXT is not None
    source = tmp_path / "handout.html"
    source.write_text(page, encoding="utf-8")
    pdf = tmp_path / "handout.pdf"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    done = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return " ".join(done.stdout.decode("utf-8").split())


def _flat(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


@pytest.mark.skipif(
    CHROMIUM is None or PDFTOTEXT is None,
    reason="needs Debian's chromium and poppler-utils (pdftotext): "
    "apt-get install -y chromium poppler-utils",
)
class TestInChromium:
    def test_printed_pdf_holds_every_step_the_stop_rules_and_notice(
        self, full: Routine, tmp_path: Path
    ) -> None:
        text = _flat(render_pdf(to_html(full), tmp_path))
        for n, step in enumerate(full.steps, 1):
            assert re.search(rf"{n}\.\s*{re.escape(_flat(step.name))}", text), step.name
        for rule in full.cautions:
            assert _flat(rule) in text
        assert _flat(full.notice) in text
        assert "When to get help" in text

    def test_printed_referral_names_its_urgency(self, tmp_path: Path) -> None:
        r = recommend(context="warm_up", red_flags={"saddle_numbness"})
        text = _flat(render_pdf(to_html(r), tmp_path))
        assert "EMERGENCY: do not stretch; get help" in text
        assert _flat(r.notice) in text
