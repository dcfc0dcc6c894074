"""Every HTML page omov writes, rendered in headless Chromium with the network off.

A page fails on any console error, uncaught exception, error-level log entry (a blocked remote
resource, a CSP violation) or a missing required element. Skipped, with the reason, when
Debian's ``chromium`` is not installed (``sudo apt-get install -y chromium``; see README).

To add a page: write a generator ``def _my_pages(tmp: Path) -> list[Page]`` that produces the
HTML file(s) in ``tmp`` and names the selectors that must be there, and append it to
``GENERATORS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from chromium_cdp import Chromium, find_chromium
from intake_helpers import build_election, invoke, write_members

ROOT = Path(__file__).resolve().parents[2]


class Page(NamedTuple):
    path: Path
    selectors: list[str]


def _candidates_pack(tmp: Path) -> list[Page]:
    roll = write_members(
        tmp / "members.parquet",
        [("1000001", True, ""), ("1000002", True, ""), ("1000003", True, "")],
        names=["Ann <b>Able</b>", "Bob Baker", "Cat Cole"],
    )
    cands = tmp / "candidates.csv"
    cands.write_text(
        "name,membership_number,organisation,bio,nominations,gender\n"
        'Ann <b>Able</b>,1000001,Momentum,"Bio with <script>alert(1)</script>",A CLP,woman\n'
        'Bob Baker,1000002,Unison,"Bio.",Unison NEC,\n'
        'Cat Cole,1000003,Unite,"Bio.",Unite EC,\n'
    )
    code, _, err = invoke(
        [
            "candidates",
            "pack",
            str(cands),
            "--members",
            str(roll),
            "--election",
            "e1",
            "--seats",
            "2",
            "--out",
            str(tmp / "pack"),
        ]
    )
    assert code == 0, err
    return [
        Page(
            tmp / "pack" / "candidates_pack.html",
            ["#title", "#candidates", "#candidate-1", "#candidate-3", "article.candidate"],
        )
    ]


def _intake_and_report(tmp: Path) -> list[Page]:
    e = build_election(tmp)
    code, _, err = invoke(
        [
            "report",
            "--intake",
            str(e["intake"]),
            "--result",
            str(e["count"]),
            "--register",
            str(e["db"]),
            "--keys",
            str(e["key"]),
            "--audit-log",
            str(e["log"]),
            "--out",
            str(e["out"]),
        ]
    )
    assert code == 0, err
    return [
        Page(  # count/'s own renderer
            e["count"] / "result.html", ["table", "td", "#chart", "details.stage[open] li.bar"]
        ),
        Page(
            e["intake"] / "intake_report.html",
            ["#title", "#summary", "#classes", "tr.class-row", "#digests"],
        ),
        Page(
            e["out"] / "scrutineer_report.html",
            [
                "#papers",
                "#reasons",
                "#channels",
                "#count",
                "#stages",
                "#elected",
                "#ties",
                "#checks",
                "#files",
                "#head-hash",
                "#statements",
            ],
        ),
    ]


def _issue_letter(tmp: Path) -> list[Page]:
    """issue/'s letter preview, from `omov issue run` on a tiny roll."""
    from omov.cli import run

    roll = write_members(tmp / "members.parquet", [("1000001", True, ""), ("1000002", True, "")])
    code = run(
        ["issue", "run", "--members", str(roll), "--election", "e1", "--out", str(tmp / "issue")]
    )
    assert code == 0
    return [Page(tmp / "issue" / "letter_preview.html", ["body", "p", "a"])]


def _dedupe_report(tmp: Path) -> list[Page]:
    """dedupe/'s duplicate report (it has a script: the browser must run it cleanly)."""
    from omov.cli import run

    exports = sorted((ROOT / "sample_data" / "exports").glob("*.csv"))[:2]
    if not exports:
        pytest.skip("sample_data/exports not present")
    small = []
    for f in exports:  # the first 120 lines of two exports: enough for duplicates, fast
        lines = f.read_text(encoding="utf-8-sig").splitlines(keepends=True)[:120]
        (tmp / f.name).write_text("".join(lines), encoding="utf-8")
        small.append(str(tmp / f.name))
    code = run(["dedupe", "run", *small, "--out", str(tmp / "dedupe")])
    assert code in (0, 3)  # 3 = written, with pairs for the auditor
    return [Page(tmp / "dedupe" / "duplicate_report.html", ["body", "table"])]


def _intake_warning_and_dry_run(tmp: Path) -> list[Page]:
    """A losing intake (warning box) and a dry run (notice), as a phone or desktop shows them."""
    from intake_helpers import make_ballot_def, make_register, write_returns

    from issue.tokens import new_tokens

    toks = new_tokens(4)
    db, key = make_register(tmp / "issue", unused=toks[:1], used=toks[1:])
    bdef = make_ballot_def(tmp / "ballot.json", ["A", "B"])
    f = write_returns(tmp / "online.csv", [(t, "1;2") for t in toks])
    common = ["--register", str(db), "--keys", str(key), "--ballot-def", str(bdef)]
    for extra in (["--dry-run"], []):
        code, _, err = invoke(["intake", str(f), *common, "--out", str(tmp / "o"), *extra])
        assert code == 3, err
    return [
        Page(tmp / "o" / "intake_report.html", ["#warning", "#classes", "#run"]),
        Page(tmp / "o" / "dry_run_report.html", ["#dry-run", "#warning", "#classes"]),
    ]


GENERATORS: list[Callable[[Path], list[Page]]] = [
    _candidates_pack,
    _intake_and_report,
    _intake_warning_and_dry_run,
    _issue_letter,
    _dedupe_report,
]


@pytest.fixture(scope="module")
def browser() -> Chromium:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("OMOV_REQUIRE_BROWSER"):
            pytest.fail("OMOV_REQUIRE_BROWSER is set (CI) but Chromium is not installed")
        pytest.skip(
            "Chromium is not installed (Debian: `apt-get install -y chromium`); the "
            "HTML reports were not checked in a browser"
        )
    with Chromium(binary) as b:
        yield b  # type: ignore[misc]


#: A desktop window and a phone (iPhone 12-15 width), as the published pages are read on both.
WIDTHS = (1400, 390)


@pytest.mark.parametrize("generate", GENERATORS, ids=lambda g: g.__name__.lstrip("_"))
def test_html_renders_without_errors(
    browser: Chromium, generate: Callable[[Path], list[Page]], tmp_path: Path
) -> None:
    pages = generate(tmp_path)
    assert pages
    for page in pages:
        assert '<meta name="viewport"' in page.path.read_text("utf-8"), page.path.name
        for width in WIDTHS:
            seen = browser.check_page(page.path, page.selectors, width)
            where = f"{page.path.name} at {width}px"
            assert not seen.errors, f"{where}: console errors {seen.errors}"
            assert not seen.missing, f"{where}: missing elements {seen.missing}"
            assert seen.title, f"{where}: no <title>"
            assert seen.overflow_px <= 0, f"{where}: {seen.overflow_px}px wider than the screen"


def test_a_broken_page_is_caught(browser: Chromium, tmp_path: Path) -> None:
    """The checker itself: a remote image and a script error must both be reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head>'
        '<body><img src="https://example.org/x.png"><script>nope();</script></body>'
        "</html>"
    )
    seen = browser.check_page(bad, ["#absent"])
    assert any("ERR_" in e for e in seen.errors)
    assert any("nope" in e for e in seen.errors)
    assert seen.missing == ["#absent"]


def test_missing_chromium_is_reported_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    import chromium_cdp

    monkeypatch.setattr(chromium_cdp, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert chromium_cdp.find_chromium() is None
