"""The scorecard in a real browser: it renders, its one script runs under the CSP, and nothing
from the data turns into markup or code.

Headless Chromium writes every console message of the page to stderr (with
``--enable-logging=stderr``) as a line like::

    [pid:tid:date/time:INFO:CONSOLE:12] "message", source: file:///…/page.html (12)

whatever the message's level: ``console.error``, an uncaught exception (``"Uncaught Error: …"``)
and a CSP violation (``"Executing inline script violates the following Content Security Policy
directive …"``, ``"Loading the image … violates …"``) all look alike. The scorecard writes
nothing to the console, so any such line is a problem. The negative tests below prove the check
sees each kind. A blocking ``alert()`` never returns in headless mode, so an alert that ran would
show up as a time-out.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from auditkit.report import write_reports

TIMEOUT = 90
"""Seconds one browser run may take; a cold start on a busy CI machine takes a few."""

CONSOLE_LINE = re.compile(r"^\[[^\]]*:CONSOLE[:(]\d+\)?\] .*$", re.MULTILINE)
"""A page's console message as Chromium logs it (the level is not in the line)."""
CSP_VIOLATION = re.compile(r"Content Security Policy|Refused to (?:load|execute|apply)")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,2000",
)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, but CI must run the browser tests")
        pytest.skip("chromium is not installed")
    return path


def page_problems(stderr: str) -> list[str]:
    """Console messages and CSP violations in a Chromium log, one entry per line."""
    return [
        line
        for line in stderr.splitlines()
        if CONSOLE_LINE.fullmatch(line) or CSP_VIOLATION.search(line)
    ]


def run_browser(
    chromium: str, page: Path, work: Path, *args: str, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Open ``page`` once in a fresh profile; a run that outlives ``timeout`` fails the test."""
    work.mkdir(parents=True, exist_ok=True)
    profile = work / f"profile-{len(list(work.iterdir()))}"
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    env = {**os.environ, "HOME": str(work)}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        env=env,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return subprocess.CompletedProcess(command, -signal.SIGKILL, stdout, stderr)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class _Dom(HTMLParser):
    """Elements and attributes of a dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def find(self, **wanted: str) -> list[dict[str, str | None]]:
        return [
            attrs
            for _, attrs in self.elements
            if all(attrs.get(key) == value for key, value in wanted.items())
        ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic audit (with injection payloads in its samples) written as a scorecard."""
    from tests.report import realistic

    out = tmp_path_factory.mktemp("report")
    write_reports(realistic.result(), out, ["html"], samples=realistic.samples())
    return out / "scorecard.html"


def test_scorecard_screenshot_is_clean(chromium: str, rendered: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    run = run_browser(chromium, rendered, tmp_path / "browser", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert shot.is_file()
    assert shot.stat().st_size > 20_000
    assert _png_size(shot) == (1280, 2000)
    assert page_problems(run.stderr) == []


def test_scorecard_dom_after_the_script_ran(chromium: str, rendered: Path, tmp_path: Path) -> None:
    run = run_browser(chromium, rendered, tmp_path / "browser", "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    assert page_problems(run.stderr) == []
    dom = _Dom()
    dom.feed(run.stdout)
    # The filter script ran, so the CSP hash allowed it; it unhid the filters and counted rows.
    (explorer,) = dom.find(id="explorer")
    assert explorer.get("data-ready") == "true"
    (filters,) = dom.find(**{"class": "filters"})
    assert "hidden" not in filters
    assert '<span class="count" aria-live="polite">27 of 27 rows shown</span>' in run.stdout
    # Nothing from the data became an element, an attribute or a link.
    tags = [tag for tag, _ in dom.elements]
    assert tags.count("script") == 1
    assert "img" not in tags
    assert [name for _, attrs in dom.elements for name in attrs if name.startswith("on")] == []
    assert [attrs for _, attrs in dom.elements if "href" in attrs or "src" in attrs] == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in run.stdout
    assert "&lt;img src=x onerror=alert(1)&gt;" in run.stdout


@pytest.fixture(scope="module")
def judged_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic audit with a judged probe, judge cards and model notes (some hostile)."""
    from tests.report import realistic

    out = tmp_path_factory.mktemp("judged")
    write_reports(realistic.judged_result(), out, ["html"], samples=realistic.samples())
    return out / "scorecard.html"


def test_judged_scorecard_links_stay_in_the_page(
    chromium: str, judged_page: Path, tmp_path: Path
) -> None:
    run = run_browser(chromium, judged_page, tmp_path / "browser", "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    assert page_problems(run.stderr) == []
    dom = _Dom()
    dom.feed(run.stdout)
    ids = {attrs["id"] for _, attrs in dom.elements if attrs.get("id")}
    assert {"judge-abstention", "judge-short-answer", "model-notes"} <= ids
    hrefs = [attrs["href"] for _, attrs in dom.elements if "href" in attrs]
    assert hrefs
    assert all(href is not None and href[1:] in ids for href in hrefs)
    assert [attrs for _, attrs in dom.elements if "src" in attrs] == []
    tags = [tag for tag, _ in dom.elements]
    assert tags.count("script") == 1
    assert [name for _, attrs in dom.elements for name in attrs if name.startswith("on")] == []
    assert "weights repacked &lt;script&gt;alert(1)&lt;/script&gt;" in run.stdout


# --- the check itself ---------------------------------------------------------------------------

NEGATIVE_PAGES: dict[str, tuple[str, str]] = {
    "console error": (
        "<!DOCTYPE html><title>t</title><p>x</p><script>console.error('boom')</script>",
        '"boom"',
    ),
    "uncaught exception": (
        "<!DOCTYPE html><title>t</title><p>x</p><script>throw new Error('kaput')</script>",
        '"Uncaught Error: kaput"',
    ),
    "blocked inline script": (
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        "<title>t</title><p>x</p><script>document.title = 'ran'</script>",
        "Content Security Policy",
    ),
    "blocked image": (
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<title>t</title><img src="https://example.invalid/x.png" alt="">',
        "Content Security Policy",
    ),
}


@pytest.mark.parametrize("kind", list(NEGATIVE_PAGES))
def test_the_check_sees_page_problems(chromium: str, tmp_path: Path, kind: str) -> None:
    html, expected = NEGATIVE_PAGES[kind]
    page = tmp_path / "bad.html"
    page.write_text(html, encoding="utf-8")
    run = run_browser(chromium, page, tmp_path / "browser", "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    problems = page_problems(run.stderr)
    assert len(problems) == 1, run.stderr[-3000:]
    assert expected in problems[0]


def test_the_check_passes_a_clean_page(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "good.html"
    page.write_text("<!DOCTYPE html><title>t</title><p>fine</p><script>1</script>", "utf-8")
    run = run_browser(chromium, page, tmp_path / "browser", "--dump-dom")
    assert run.returncode == 0, run.stderr[-3000:]
    assert page_problems(run.stderr) == []
    assert "<p>fine</p>" in run.stdout


def test_an_alert_that_runs_shows_up_as_a_time_out(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "alert.html"
    page.write_text("<!DOCTYPE html><title>t</title><script>alert(1)</script>", "utf-8")
    run = run_browser(chromium, page, tmp_path / "browser", "--dump-dom", timeout=10)
    assert run.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('[1:1:1126/120832.972558:INFO:CONSOLE:1] "plainerr", source: file:///p.html (1)', True),
        ('[1:1:0101/000000.000000:INFO:CONSOLE(7)] "old format", source: file:///p.html (7)', True),
        ("[1:1:1126/120832.186715:ERROR:dbus/bus.cc:405] Failed to connect to the bus", False),
        ("[1:1:1126/120832.277430:WARNING:vaapi_wrapper.cc:1655] no devices", False),
    ],
)
def test_page_problems_parses_log_lines(line: str, problem: bool) -> None:
    assert page_problems(f"noise\n{line}\nmore noise\n") == ([line] if problem else [])
