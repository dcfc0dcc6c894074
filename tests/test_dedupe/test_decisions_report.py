"""The auditor's decisions are never destroyed, and the duplicate report lets the auditor decide.

Old behaviour these tests catch: following omov's own advice (fill review_queue.csv, re-run with
``--decisions`` on it) rewrote that file and the decisions were gone; a decisions file with
several bad lines was reported one line per run; the report had no way to decide.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dedupe.decisions_file import Decision, add_decisions, read_decision
from omov import cli
from omov.errors import ExitCode, InputError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test_vote"))
from chromium_cdp import Chromium, find_chromium


def _world(tmp_path: Path) -> list[Path]:
    """Joan Baker: same name and mobile, numbers far apart: queued for the auditor."""
    folder = tmp_path / "exports"
    folder.mkdir()
    a, b = folder / "a.csv", folder / "b.csv"
    a.write_text(
        "Name,LP number,DOB,Mobile,Postcode\nJoan Baker,1111111,,07700 900111,LS1 1AA\n"
        "Carl Moss,5555555,1980-05-05,07700 900222,LS2 2BB\n"
    )
    b.write_text(
        "Name,LP number,DOB,Mobile,Postcode\nJoan Baker,7654321,1970-01-01,07700 900111,LS9 9ZZ\n"
        "Carl Moss,5555555,1980-05-05,07700 900222,LS2 2BB\n"
    )
    return [a, b]


def _run(paths: list[Path], out: Path, *extra: str) -> int:
    return cli.run(["dedupe", "run", *map(str, paths), "--out", str(out), "-q", *extra])


def _persons(out: Path) -> dict[tuple[str, int], str]:
    c = pd.read_csv(out / "clusters.csv")
    return {(o, int(r)): p for o, r, p in zip(c.source_org, c.row_id, c.person_id, strict=True)}


def test_decisions_file_inside_out_is_refused_and_kept(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    paths, out = _world(tmp_path), tmp_path / "out"
    assert _run(paths, out) == ExitCode.PROBLEMS
    advice = capsys.readouterr().err
    assert "--decisions" in advice and "review_queue.csv" not in advice.split("fix:")[1]
    queue = out / "review_queue.csv"
    q = pd.read_csv(queue, dtype=str, keep_default_na=False)
    q["decision"] = "same"
    q.to_csv(queue, index=False)
    before = queue.read_bytes()
    assert _run(paths, out, "--decisions", str(queue)) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "review_queue.csv" in err and "rewrites" in err and "copy it out" in err
    assert queue.read_bytes() == before  # the auditor's work is still there


def test_every_problem_in_a_decisions_file_is_listed_at_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    paths = _world(tmp_path)
    d = tmp_path / "decisions.csv"
    d.write_text(
        "records,decision,note\n"
        "a:1;b:1,maybe,\n"
        "a:2;b:2,Same,ok\n"
        "a:1;b:2,yes please,\n"
        ",different,no records named\n"
        "a:2;b:1,same,\n"
        "b:1;a:2,different,contradicts the line above\n"
    )
    assert _run(paths, tmp_path / "out", "--decisions", str(d)) == ExitCode.USAGE
    err = capsys.readouterr().err
    for line in (2, 4, 5, 7):
        assert f"{d}:{line}:" in err, err
    assert f"{d}:3:" not in err  # "Same" is a decision
    assert "4 problem(s)" in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Same", Decision.SAME),
        ("same ", Decision.SAME),
        ("SAME\u00a0", Decision.SAME),
        ("DIFFERENT", Decision.DIFFERENT),
        ("Different.", Decision.DIFFERENT),
        ("different people", Decision.DIFFERENT),
        ("", None),
        ("  ", None),
    ],
)
def test_decision_spellings(text: str, expected: Decision | None) -> None:
    assert read_decision(text) == expected


def test_unknown_decision_word_is_refused() -> None:
    with pytest.raises(ValueError):
        read_decision("maybe")


def test_decisions_add_keeps_earlier_lines_and_accumulates(tmp_path: Path) -> None:
    ledger = tmp_path / "decisions.csv"
    ledger.write_bytes(b"records,decision,note\r\na:2;b:2,same,checked by phone\r\n")
    before = ledger.read_bytes()
    first = tmp_path / "first.csv"
    first.write_text("records,decision,note\na:1;b:1,Different,two people\na:2;b:2,same,x\n")
    done = add_decisions([first], ledger)
    assert (done.added, done.already) == (1, 1)
    assert ledger.read_bytes().startswith(before)
    rows = pd.read_csv(ledger, dtype=str, keep_default_na=False)
    assert list(rows["decision"]) == ["same", "different"]
    assert add_decisions([first], ledger).added == 0  # adding again changes nothing
    assert len(pd.read_csv(ledger)) == 2
    contra = tmp_path / "contra.csv"
    contra.write_text("records,decision\nb:1;a:1,same\nb:2;a:2,different\n")
    after = ledger.read_bytes()
    with pytest.raises(InputError) as info:
        add_decisions([contra], ledger)
    msg = info.value.render()
    assert f"{contra}:2:" in msg and f"{contra}:3:" in msg and "2 problem(s)" in msg
    assert ledger.read_bytes() == after


def test_decisions_add_to_an_empty_file_writes_the_header(tmp_path: Path) -> None:
    ledger = tmp_path / "decisions.csv"
    ledger.touch()
    answers = tmp_path / "a.csv"
    answers.write_text("records,decision\na:1;b:1,same\n")
    assert add_decisions([answers], ledger).added == 1
    assert ledger.read_text().splitlines()[0].startswith("item_id,")


def test_decisions_add_cli_then_run_applies_them(tmp_path: Path) -> None:
    paths, out = _world(tmp_path), tmp_path / "out"
    assert _run(paths, out) == ExitCode.PROBLEMS
    q = pd.read_csv(out / "review_queue.csv", dtype=str, keep_default_na=False)
    q["decision"] = "same"
    answers = tmp_path / "answers.csv"
    q.to_csv(answers, index=False)
    ledger = tmp_path / "decisions.csv"
    add = ["dedupe", "decisions", "add", str(answers), "--to", str(ledger)]
    assert cli.run(add) == ExitCode.OK
    assert _run(paths, out, "--decisions", str(ledger)) == ExitCode.OK
    p = _persons(out)
    assert p[("a", 1)] == p[("b", 1)]


# --- the report's decision UI, in Chromium ---------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Any:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("OMOV_REQUIRE_BROWSER"):
            pytest.fail("OMOV_REQUIRE_BROWSER is set (CI) but Chromium is not installed")
        pytest.skip("Chromium is not installed (Debian: `apt-get install -y chromium`)")
    with Chromium(binary) as b:
        yield b


class _Page:
    """One tab on a file, with a way to run JavaScript in it and read the value back."""

    def __init__(self, browser: Chromium, path: Path, scripts: bool = True) -> None:
        self.b, self.events = browser, []  # type: ignore[var-annotated]
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": self.target, "flatten": True}
        )["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.send(f"{domain}.enable", session=self.session, events=self.events)
        if not scripts:
            browser.send(
                "Emulation.setScriptExecutionDisabled", {"value": True}, self.session, self.events
            )
        browser.send("Page.navigate", {"url": path.resolve().as_uri()}, self.session, self.events)
        browser.wait_for("Page.loadEventFired", self.events)
        browser.drain(self.events, quiet=0.2)

    def js(self, expression: str) -> Any:
        got = self.b.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True},
            self.session,
            self.events,
        )
        assert "exceptionDetails" not in got, got
        return got.get("result", {}).get("value")

    def close(self) -> None:
        self.b.send("Target.closeTarget", {"targetId": self.target})


def test_report_records_decisions_and_downloads_them(browser: Chromium, tmp_path: Path) -> None:
    paths, out = _world(tmp_path), tmp_path / "out"
    assert _run(paths, out) == ExitCode.PROBLEMS
    page = _Page(browser, out / "duplicate_report.html")
    n = page.js("document.querySelectorAll('#items .item').length")
    assert n >= 1
    assert page.js("document.getElementById('decided').textContent") == f"0 of {n} decided"
    assert page.js("getComputedStyle(document.querySelector('fieldset.decide')).display") != "none"
    page.js(
        "var it=document.querySelector('#items .item');"
        "it.querySelector('input[value=same]').click();"
        "it.querySelector('textarea').value='=1+1 phoned her, \"ok\"'; true"
    )
    assert page.js("document.getElementById('decided').textContent") == f"1 of {n} decided"
    csv_text = page.js("window.omovDecisionsCsv()")
    assert page.js("document.getElementById('download').tagName") == "BUTTON"
    page.close()
    errors = [e for e in page.events if e.get("method") == "Runtime.exceptionThrown"]
    assert not errors, errors
    header, row = csv_text.splitlines()[:2]
    assert header.split(",")[-2:] == ["decision", "note"]
    assert ",same," in row and row.endswith('"\'=1+1 phoned her, ""ok"""')  # no formula
    download = tmp_path / "omov-decisions.csv"
    download.write_text(csv_text)
    ledger = tmp_path / "decisions.csv"
    assert cli.run(["dedupe", "decisions", "add", str(download), "--to", str(ledger)]) == 0
    out2 = tmp_path / "out2"
    assert _run(paths, out2, "--decisions", str(ledger)) == ExitCode.OK
    assert _persons(out2)[("a", 1)] == _persons(out2)[("b", 1)]
    # The next report shows the decision as decided, and its download keeps it.
    page = _Page(browser, out2 / "duplicate_report.html")
    assert page.js("document.querySelectorAll('#earlier .item').length") == 1
    assert page.js("document.querySelector('#earlier input[value=same]').checked") is True
    assert "Joan Baker" in page.js("document.getElementById('earlier').textContent")
    again = page.js("window.omovDecisionsCsv()")
    page.close()
    assert len(again.splitlines()) == 2 and ",same," in again.splitlines()[1]
    assert json.dumps(again).count("phoned her") == 1


def test_report_reads_fine_without_javascript(browser: Chromium, tmp_path: Path) -> None:
    paths, out = _world(tmp_path), tmp_path / "out"
    assert _run(paths, out) == ExitCode.PROBLEMS
    page = _Page(browser, out / "duplicate_report.html", scripts=False)
    try:
        shown = page.js("getComputedStyle(document.querySelector('fieldset.decide')).display")
        assert shown == "none"  # no controls that could not be saved
        assert "Joan Baker" in page.js("document.body.innerText")
        assert "JavaScript is off" in page.js("document.body.innerText")
    finally:
        page.close()
