"""Handouts: Markdown and printable HTML, escaped, with pictograms; rendered in Chromium."""

from __future__ import annotations

import dataclasses
import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings

from sirecommend import (
    InvalidArgumentError,
    KnowledgeBase,
    Profile,
    ReasonCode,
    Routine,
    load_knowledge,
    recommend,
)
from sirecommend._render import focus_note
from sirecommend.handout import (
    PICTOGRAMS,
    STRETCH_PICTOGRAMS,
    describe_profile,
    pictogram,
    to_html,
    to_markdown,
)
from sirecommend.testing import profiles as any_profile

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

    def test_every_shipped_stretch_has_a_figure_of_its_own(self, kb: KnowledgeBase) -> None:
        assert set(kb.stretches) == set(STRETCH_PICTOGRAMS)
        drawn = {s: pictogram(kb.stretches[s].position, "x", stretch=s) for s in kb.stretches}
        assert len(set(drawn.values())) == len(drawn)
        for sid, svg in drawn.items():
            assert STRETCH_PICTOGRAMS[sid] in svg
            # the stretch, not just the position it starts from
            assert PICTOGRAMS[kb.stretches[sid].position] not in svg
            assert "<path" in STRETCH_PICTOGRAMS[sid]
            parse(svg)

    def test_rotation_and_figure_four_no_longer_share_a_picture(self) -> None:
        rotation = pictogram("supine", stretch="lower_trunk_rotation")
        figure_four = pictogram("supine", stretch="figure_four_supine")
        assert rotation != figure_four

    @pytest.mark.parametrize("stretch", sorted(STRETCH_PICTOGRAMS))
    def test_black_and_white_only(self, stretch: str) -> None:
        svg = pictogram("supine", stretch=stretch)
        colours = set(re.findall(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", svg))
        assert colours
        for c in colours:
            rgb = [c[i : i + 2] for i in (0, 2, 4)] if len(c) == 6 else list(c)
            assert len(set(rgb)) == 1, c  # grey, black or white: a photocopy keeps it

    def test_a_view_from_above_has_no_floor(self) -> None:
        assert "<line" not in pictogram("supine", stretch="adductor_strap_supine")
        assert "<line" in pictogram("supine", stretch="hamstring_supine")

    def test_a_stretch_without_a_figure_falls_back_to_its_position(self) -> None:
        assert pictogram("standing", "x", stretch="sofa_stretch") == pictogram("standing", "x")
        assert "<title>sofa stretch</title>" in pictogram("sofa", stretch="sofa_stretch")

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

    def test_one_minute_reads_singular(self) -> None:
        text = describe_profile(Profile(context="after_sitting", minutes=1))
        assert text.endswith("Time available: about 1 minute.")

    def test_ids_the_knowledge_lacks_are_shown_in_words(self, clinic: KnowledgeBase) -> None:
        profile = Profile(context="at_desk")
        assert describe_profile(profile, clinic) == ("For: At the desk. Equipment at hand: none.")
        assert describe_profile(profile) == "For: at desk. Equipment at hand: none."


def _plain_md(md: str) -> str:
    return md.replace("\\", "")  # Markdown escapes are backslashes only


def _html_text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# What only the clinician's view may show: citation ids, "why" lines, reason codes.
CLINICIAN_ONLY = re.compile(
    r"#p[0-9]|\bwhy:|\bcited:|\[(?:" + "|".join(c.value for c in ReasonCode) + r")\b",
    re.IGNORECASE,
)


def patient_texts(routine: Routine) -> dict[str, str]:
    return {
        "text": " ".join(str(routine).split()),  # lines joined again
        "markdown": " ".join(_plain_md(to_markdown(routine)).split()),
        "html": _html_text(to_html(routine)),
    }


class TestPatientText:
    """str(routine) and both handouts, as the patient reads them."""

    def test_no_clinician_marks(self, full: Routine, kb: KnowledgeBase) -> None:
        for name, text in patient_texts(full).items():
            assert not CLINICIAN_ONLY.search(text), name
            assert "si-stretch-guide" not in text, name
            for sid in kb.stretches:
                assert sid not in text, (name, sid)

    def test_sources_once_at_the_end_by_title(self, full: Routine) -> None:
        for name, text in patient_texts(full).items():
            assert text.count("Stretches for SI joint pain, paragraphs 7, ") == 1, name
            assert text.index("Stretches for SI joint pain, paragraphs") > text.index(
                full.steps[-1].name
            )
            assert "Not named in the copy" not in text

    def test_equipment_reads_naturally(self) -> None:
        r = recommend(context="after_sitting", equipment={"strap"}, minutes=60.0)
        bend = next(s for s in r.steps if s.stretch_id == "standing_side_bend")
        assert bend.equipment is None
        for name, text in patient_texts(r).items():
            assert "None (hands only)" not in text, name
            assert "No equipment needed" in text, name

    def test_range_cannot_read_as_push_to_the_end(self) -> None:
        for routine in (
            recommend(context="after_sitting"),
            recommend(context="after_sitting", aggravated=True),
        ):
            for name, text in patient_texts(routine).items():
                assert "full comfortable range" not in text.lower(), name
                assert "full range" not in text.lower(), name
        assert "never to your limit" in str(recommend(context="after_sitting"))
        assert "smaller movement than usual" in str(
            recommend(context="after_sitting", aggravated=True)
        )

    @pytest.mark.parametrize(
        ("context", "first"),
        [
            ("post_activity", "Gentle moves"),
            ("after_sitting", "Gentle moves"),
            ("cool_down", "Gentle moves"),
            ("warm_up", "Warm-up"),
        ],
    )
    def test_phase_names_fit_the_context(self, context: str, first: str) -> None:
        r = recommend(context=context, equipment={"foam_roller"})
        assert r.steps[0].phase == "warm_up"
        for name, text in patient_texts(r).items():
            assert first in text, name
            if first != "Warm-up":
                assert "Warm-up" not in text.replace("For: Warm-up", ""), name

    def test_rolling_reads_as_rolling(self) -> None:
        r = recommend(context="post_activity", equipment={"foam_roller"})
        texts = patient_texts(r)
        for name, text in texts.items():
            assert "hold 20 s x 1 set" not in text, name
            assert "rolling should never hurt" in text or "never painful" in text, name
        # After activity, gently: the lowest pause of the source's 10-30 s (p15, p25).
        assert "roll slowly, pausing 10 s on tight spots, each side" in texts["text"]
        assert "- **Pause on tight spots:** 10 seconds" in to_markdown(r)
        assert "<b>How firmly:</b> gentle pressure, never painful." in to_html(r)
        rolling = texts["text"][texts["text"].index("Foam rolling: the sore muscle group") :]
        glutes = rolling[rolling.index("Glutes:") :]
        assert "other side and roll that buttock" in glutes
        assert "off the tailbone" in glutes
        assert "get it checked by a doctor today" in glutes

    def test_hamstring_starts_by_lying_down(self) -> None:
        for kit in ({"strap"}, {"towel"}, set()):
            r = recommend(context="after_sitting", equipment=kit, focus={"hamstrings"})
            ham = next(s for s in r.steps if s.stretch_id == "hamstring_supine")
            assert ham.instructions[0].startswith("Lie on your back"), kit
            assert not any("Lie on your back" in i for i in ham.instructions[1:])

    @settings(max_examples=40, deadline=None)
    @given(any_profile())
    def test_property_patient_text_has_no_ids_or_citations(self, profile: Profile) -> None:
        routine = recommend(profile)
        kb = load_knowledge()
        for name, text in patient_texts(routine).items():
            assert not CLINICIAN_ONLY.search(text), name
            assert not [s for s in kb.stretches if s in text], name
            assert not [f for f in kb.red_flags if "_" in f and f in text], name


class TestRedFlagSheet:
    FLAGS = frozenset({"saddle_numbness", "fever", "numbness"})

    def test_action_first_then_every_flag_in_words(self, kb: KnowledgeBase) -> None:
        r = recommend(context="warm_up", red_flags=self.FLAGS)
        assert r.referral is not None
        for name, text in patient_texts(r).items():
            action = text.index(" ".join(r.referral.action.split()))
            for flag in self.FLAGS:
                assert text.index(kb.red_flags[flag].name) > action, (name, flag)
            assert "saddle_numbness" not in text
            assert text.index("EMERGENCY") < action

    def test_no_stretching_advice(self) -> None:
        r = recommend(context="warm_up", red_flags=self.FLAGS)
        for name, text in patient_texts(r).items():
            assert "Stop rules" not in text, name
            assert "Left out" not in text, name
            for rule in r.cautions:
                assert " ".join(rule.split()) not in text, name

    def test_help_lists_only_the_faster_tiers(self) -> None:
        md = to_markdown(recommend(context="warm_up", red_flags={"saddle_numbness"}))
        assert "When to get help" not in md  # nothing is faster than an emergency
        md = to_markdown(recommend(context="warm_up", red_flags={"night_pain"}))
        assert "**EMERGENCY** if you have" in md
        assert "**SEE A DOCTOR TODAY** if you have" in md
        assert "**URGENT** if you have" not in md

    def test_fever_is_seen_today(self) -> None:
        r = recommend(context="warm_up", red_flags={"fever"})
        assert r.referral is not None
        assert r.referral.urgency == "same_day"
        text = str(r)
        assert "STOP - SEE A DOCTOR TODAY" in text
        assert "within days" not in r.referral.message

    def test_a_referral_without_an_action_still_leads_with_what_to_do(self) -> None:
        r = recommend(context="warm_up", red_flags={"severe_pain"})
        assert r.referral is not None
        bare = r.referral.model_copy(update={"action": "", "flag_names": ()})
        r = r.model_copy(update={"referral": bare})
        for name, text in patient_texts(r).items():
            assert " ".join(bare.message.split()) in text, name
            assert "severe pain" in text, name

    @settings(max_examples=40, deadline=None)
    @given(any_profile(red_flags=True))
    def test_property_no_stretching_advice_under_a_stop(self, profile: Profile) -> None:
        routine = recommend(profile)
        assert routine.referral is not None
        for name, text in patient_texts(routine).items():
            assert "Stop rules" not in text, name
            assert "How to do it" not in text, name
            for rule in routine.cautions:
                assert " ".join(rule.split()) not in text, name
            action = text.index(" ".join(routine.referral.action.split()))
            for flag in routine.referral.flag_names:
                assert flag in text[action:], (name, flag)


class TestClinicianHandout:
    def test_keeps_reasons_rules_and_citations(self, full: Routine) -> None:
        md = to_markdown(full, clinician=True)
        page = to_html(full, clinician=True)
        assert "Clinician's copy" in md
        assert "Clinician's copy" in page
        for step in full.steps:
            assert _md_escaped(f"Cited: {', '.join(step.sources)}") in md
            assert html.escape(f"Cited: {', '.join(step.sources)}") in page
        assert "Why: " in md
        assert f"knowledge {full.provenance.knowledge_digest[:12]}" in md
        assert full.provenance.knowledge_digest[:12] in page
        excluded = full.excluded[0]
        assert f"{excluded.name} ({excluded.stretch_id})" in _plain_md(md)
        assert f"[{excluded.reasons[0].code.value}" in _plain_md(md)

    def test_referral_keeps_what_was_left_out(self) -> None:
        r = recommend(context="warm_up", red_flags={"fever"})
        md = _plain_md(to_markdown(r, clinician=True))
        assert "Left out, and why" in md
        assert "[red_flag; rule red_flags_stop_and_refer]" in md

    def test_patient_version_is_the_default(self, full: Routine) -> None:
        assert to_markdown(full) == to_markdown(full, clinician=False)
        assert "Clinician's copy" not in to_html(full)
        assert full.provenance.knowledge_digest[:12] not in to_html(full)


def _md_escaped(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|~])", r"\\\1", text)


class TestMarkdown:
    def test_holds_every_part(self, full: Routine) -> None:
        md = to_markdown(full)
        assert md.startswith("# SI joint stretching routine: After sitting\n")
        plain = _plain_md(md)
        assert describe_profile(full.profile) in plain
        for n, step in enumerate(full.steps, 1):
            assert f"### {n}. {step.name}" in plain
        for label in ("Position", "Equipment", "Hold", "Sets", "Sides", "How far", "Time"):
            assert f"- **{label}:**" in md
        for heading in ("Steps", "Left out, and why", "Stop rules", "When to get help", "Sources"):
            assert f"\n## {heading}\n" in md
        for rule in full.cautions:
            assert rule in plain
        assert f"> {full.notice}" in plain
        assert "EMERGENCY** if you have" in md
        assert "Towel" in md
        assert "No equipment needed" in md
        assert "Today, use only part of your usual movement" in md
        assert "Each side" in md

    def test_gentle_range_and_both_sides(self) -> None:
        md = to_markdown(recommend(context="after_sitting"))
        assert "Go only until you feel a gentle stretch" in md
        assert "Both sides at once" in md

    def test_referral_comes_first_with_its_urgency(self) -> None:
        r = recommend(context="warm_up", red_flags={"saddle_numbness", "fever"})
        md = to_markdown(r)
        assert "## EMERGENCY: do not stretch; get help" in md
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
        assert "Stretches for SI joint pain, paragraphs 7, " in md
        r = recommend(context="warm_up", red_flags={"severe_pain"})
        assert r.referral is not None
        one = r.referral.model_copy(
            update={"sources": ("si-stretch-guide#p27", "nhs-cauda-equina")}
        )
        md = to_markdown(r.model_copy(update={"referral": one}))
        assert "- Stretches for SI joint pain, paragraph 27.\n" in md
        assert "- Cauda equina syndrome. NHS (nhs.uk health A to Z). <https://" in md

    def test_escapes_markup(self, clinic: KnowledgeBase) -> None:
        r = recommend(context="at_desk", knowledge=clinic)
        md = to_markdown(r, knowledge=clinic)
        assert "<script>" not in md
        assert "<b>" not in md
        assert r"\<script\>alert('x')\</script\> \*sofa\* stretch" in md
        assert r"1. \# Sit \<b\>down\</b\> & relax" in md
        assert "Clinic notes. Test clinic." in md
        assert "packs: " in to_markdown(r, knowledge=clinic, clinician=True)
        # Without the pack's knowledge, its source is named in words, not by id.
        assert "- clinic notes." in to_markdown(r)

    def test_url_cannot_break_out_of_its_angle_brackets(self, kb: KnowledgeBase) -> None:
        src = kb.sources["nice-cks-low-back-pain"]
        bad = src.model_copy(update={"url": "https://x.example/<a>"})
        hacked = dataclasses.replace(kb, sources={**kb.sources, src.id: bad})
        md = to_markdown(recommend(context="warm_up", red_flags={"night_pain"}), knowledge=hacked)
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

    def test_one_picture_of_each_stretch(self) -> None:
        r = recommend(context="after_sitting", equipment={"strap"})
        page = to_html(r)
        for step in r.steps:
            assert STRETCH_PICTOGRAMS[step.stretch_id] in page
            assert f"Picture: {html.escape(step.name)}" in page

    def test_paper_and_print_size(self, full: Routine) -> None:
        assert "size: A4;" in to_html(full)
        assert "size: letter;" in to_html(full, paper="Letter")
        large = to_html(full, large_print=True)
        assert "font: 14pt/" in large
        assert "column-count: 1;" in large
        assert "font: 9pt/" in to_html(full)
        with pytest.raises(InvalidArgumentError, match="paper size 'A5'"):
            to_html(full, paper="A5")  # type: ignore[arg-type]

    def test_referral(self) -> None:
        r = recommend(context="warm_up", red_flags={"night_pain"})
        page = to_html(r)
        assert 'class="referral urgency-urgent"' in page
        assert "URGENT: do not stretch; get help" in page
        assert r.referral is not None
        assert html.escape(r.referral.action) in page
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
        page = to_html(r, knowledge=clinic, clinician=True)
        checker = parse(page)
        assert "script" not in checker.tags
        assert "# Sit &lt;b&gt;down&lt;/b&gt; &amp; relax" in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; *sofa* stretch" in page
        assert "On a &lt;sofa&gt; &amp; &quot;chair&quot;" in page
        assert ">?</text>" in page  # the neutral pictogram
        assert "packs: " in page


class TestUnmetFocus:
    """A focus no step works is said plainly, in the text and both handouts (issue 14)."""

    AVOID_FLOOR = recommend(
        context="after_sitting", avoid_positions={"floor"}, focus={"hamstrings", "hip_flexors"}
    )

    def test_said_in_every_patient_text(self) -> None:
        routine = self.AVOID_FLOOR
        want = "Focus not met: you asked to focus on Hamstrings, but no step in this routine"
        text = " ".join(str(routine).split())
        assert want in text
        assert '"Left out" says why.' in text
        lines = str(routine).splitlines()
        assert lines.index("Focus not met: you asked to focus on Hamstrings, but no step in "
                           "this routine works that") < lines.index("Left out")  # fmt: skip
        md = to_markdown(routine)
        assert f"> {want}" in " ".join(md.split()).replace("\\", "")
        page = to_html(routine)
        assert f'<p class="focus-unmet">{want}' in page
        for rendered in (str(routine), md, page):
            assert "hamstrings" not in rendered.replace("Hamstrings", "")  # no id

    def test_several_muscles_and_none_offered(self) -> None:
        routine = recommend(context="warm_up", focus={"piriformis", "glutes"})
        assert "on Glutes and Piriformis" in " ".join(str(routine).split())
        alone = recommend(context="warm_up", focus={"piriformis"})
        assert "None of the stretches for this situation works that area." in " ".join(
            str(alone).split()
        )

    @pytest.mark.parametrize(
        "routine",
        [
            recommend(context="after_sitting", focus={"hamstrings"}),  # met
            recommend(context="after_sitting"),  # no focus
            recommend(context="warm_up", focus={"piriformis"}, red_flags={"fever"}),  # referral
        ],
    )
    def test_not_said_when_met_or_referred(self, routine: Routine) -> None:
        for rendered in (str(routine), to_markdown(routine), to_html(routine)):
            assert "Focus not met" not in rendered

    def test_nothing_fits_still_says_it(self) -> None:
        routine = recommend(context="warm_up", avoid_positions={"floor"}, focus={"glutes"})
        assert routine.status == "nothing_fits"
        assert "Focus not met" in str(routine)

    def test_ids_the_knowledge_lacks_are_shown_in_words(self, kb: KnowledgeBase) -> None:
        """A routine made with a pack, rendered with the shipped knowledge only."""
        routine = self.AVOID_FLOOR
        profile = routine.profile.model_copy(update={"focus": frozenset({"deep_rotators"})})
        excluded = tuple(e.model_copy(update={"stretch_id": "pack_only"}) for e in routine.excluded)
        odd = routine.model_copy(update={"profile": profile, "excluded": excluded})
        note = focus_note(odd, kb) or ""
        assert note.startswith("Focus not met: you asked to focus on deep rotators,")
        assert note.endswith("None of the stretches for this situation works that area.")
