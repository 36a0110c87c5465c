"""The printable handout in a real browser: headless Chromium prints it, pdftotext reads it
back, and axe-core checks it for accessibility (WCAG 2.1 A and AA).

Needs Debian's ``chromium`` and ``poppler-utils`` (pdftotext, pdfinfo), Node.js, and
``npm install`` in ``tests/browser`` (axe-core and playwright-core, pinned there).
``.ci/run`` installs them all. Without them these tests skip locally, saying why; with
``CI`` set they fail instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sirecommend import Routine, recommend
from sirecommend.handout import to_html

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")
NODE = shutil.which("node")
AXE = BROWSER_DIR / "node_modules" / "axe-core" / "axe.min.js"
PLAYWRIGHT = BROWSER_DIR / "node_modules" / "playwright-core" / "package.json"


def need(ready: bool, what: str) -> None:
    """Skip without ``what`` locally; in CI, fail (issue 10, item 8)."""
    if ready:
        return
    message = f"{what} is missing: run .ci/run, or see this module's docstring"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser checks, but {message}")
    pytest.skip(message)


@pytest.fixture
def printing() -> None:
    need(CHROMIUM is not None, "chromium (apt-get install chromium)")
    need(PDFTOTEXT is not None and PDFINFO is not None, "pdftotext (apt-get install poppler-utils)")


@pytest.fixture
def axe() -> None:
    need(CHROMIUM is not None, "chromium (apt-get install chromium)")
    need(NODE is not None, "node (apt-get install nodejs npm)")
    need(AXE.exists() and PLAYWRIGHT.exists(), "axe-core (npm install in tests/browser)")


def print_pdf(page: str, tmp_path: Path) -> tuple[int, str]:
    """Print ``page`` with headless Chromium: ``(page count, text in reading order)``."""
    assert CHROMIUM is not None
    assert PDFTOTEXT is not None
    assert PDFINFO is not None
    tmp_path.mkdir(parents=True, exist_ok=True)
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
    info = subprocess.run(
        [PDFINFO, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    text = subprocess.run(
        # -raw: the order the text was laid down in (the page's reading order), not
        # pdftotext's guess across the two columns of steps
        [PDFTOTEXT, "-raw", "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode("utf-8")
    return pages, _flat(text)


def run_axe(page: str, tmp_path: Path) -> dict[str, Any]:
    """axe-core's WCAG 2.1 A/AA result for ``page``, run in headless Chromium."""
    assert NODE is not None
    assert CHROMIUM is not None
    source = tmp_path / "page.html"
    source.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [NODE, str(BROWSER_DIR / "axe.mjs"), str(source), CHROMIUM],
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _flat(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").replace("\u00ad", "").split())


@pytest.fixture(scope="module")
def after_sitting() -> Routine:
    # With time for all 7 steps (a break from sitting is about 10 minutes by default).
    return recommend(context="after_sitting", equipment={"strap"}, minutes=60.0)


@pytest.mark.usefixtures("printing")
class TestPrinted:
    @pytest.mark.parametrize("paper", ["A4", "Letter"])
    def test_seven_steps_fit_on_two_pages(
        self, after_sitting: Routine, paper: str, tmp_path: Path
    ) -> None:
        assert len(after_sitting.steps) == 7
        pages, _ = print_pdf(to_html(after_sitting, paper=paper), tmp_path)  # type: ignore[arg-type]
        assert pages <= 2

    def test_text_reads_in_order(self, after_sitting: Routine, tmp_path: Path) -> None:
        _, text = print_pdf(to_html(after_sitting), tmp_path)
        at = 0
        for n, step in enumerate(after_sitting.steps, 1):
            found = re.compile(rf"{n}\.\s*{re.escape(_flat(step.name))}").search(text, at)
            assert found, step.name
            for line in step.instructions[:1]:
                assert text.index(_flat(line)[:40], found.end()) > found.end()
            at = found.end()
        for heading in ("Stop rules", "When to get help", "Sources"):
            at = text.index(heading, at)
        for rule in after_sitting.cautions:
            assert _flat(rule) in text
        assert text.index(_flat(after_sitting.notice)) > at

    def test_large_print_is_larger(self, after_sitting: Routine, tmp_path: Path) -> None:
        normal, _ = print_pdf(to_html(after_sitting), tmp_path / "normal")
        large, text = print_pdf(to_html(after_sitting, large_print=True), tmp_path / "large")
        assert large > normal
        assert _flat(after_sitting.steps[-1].name) in text

    def test_red_flag_sheet_leads_with_the_action(self, tmp_path: Path) -> None:
        r = recommend(context="warm_up", red_flags={"saddle_numbness", "fever"})
        assert r.referral is not None
        pages, text = print_pdf(to_html(r), tmp_path)
        assert pages == 1
        action = text.index(_flat(r.referral.action)[:60])
        assert text.index("EMERGENCY: do not stretch; get help") < action
        for name in r.referral.flag_names:
            assert text.index(name) > action
        assert "Stop rules" not in text


@pytest.mark.usefixtures("axe")
class TestAccessible:
    @pytest.mark.parametrize(
        ("routine", "options"),
        [
            ({"context": "after_sitting", "equipment": {"strap"}}, {}),
            ({"context": "after_sitting", "equipment": {"strap"}}, {"clinician": True}),
            ({"context": "after_sitting", "equipment": {"strap"}}, {"large_print": True}),
            ({"context": "post_activity", "equipment": {"foam_roller"}}, {"paper": "Letter"}),
            ({"context": "warm_up", "red_flags": {"saddle_numbness", "fever"}}, {}),
        ],
        ids=["patient", "clinician", "large-print", "letter", "red-flags"],
    )
    def test_no_wcag_violations(
        self, routine: dict[str, Any], options: dict[str, Any], tmp_path: Path
    ) -> None:
        result = run_axe(to_html(recommend(**routine), **options), tmp_path)
        assert result["violations"] == [], result["violations"]
        assert result["passes"] > 5  # axe really ran its rules

    def test_axe_does_find_a_violation(self, after_sitting: Routine, tmp_path: Path) -> None:
        bad = to_html(after_sitting).replace(
            "<main>", '<main><p style="color:#ddd">hard to read</p><svg role="img"></svg>'
        )
        ids = {v["id"] for v in run_axe(bad, tmp_path)["violations"]}
        assert {"color-contrast", "svg-img-alt"} <= ids


def test_a_missing_tool_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    need(True, "anything")  # present: nothing happens
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser checks"):
        need(False, "chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        need(False, "chromium")
