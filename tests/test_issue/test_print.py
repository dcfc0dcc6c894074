"""omov issue print: one PDF per postal batch, every postal member once with their token."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from delivery_fixtures import ballot_definition, dispatch_rows, issued
from issue_fixtures import person, write_members

from issue import issuer
from omov.cli import run

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)
TOKEN = re.compile(r"\b(?:[0-9A-Z]{4}-){5}[0-9A-Z]\b")


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def omov(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(list(argv))
    got = capsys.readouterr()
    return code, got.out + got.err


def test_every_postal_member_once_with_their_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = issued(tmp_path, 45)  # every third person has no email: 15 postal members
    ballot = ballot_definition(tmp_path / "ballot_definition.json", n=14)
    code, text = omov(capsys, "issue", "print", "--out", str(out), "--ballot", str(ballot))
    assert code == 0, text
    pdf = out / "print" / "batch-0001.pdf"
    assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600
    body = pdf_text(pdf)
    rows = dispatch_rows(out, "post")
    assert len(rows) == 15
    assert Counter(TOKEN.findall(body)) == Counter(r["token"] for r in rows)
    for r in rows:
        # in the address window, once ("Alex Member3" must not match "Alex Member30")
        assert len(re.findall(re.escape(r["full_name"]) + r"\b", body)) == 1
        assert r["postcode"] in body
    pages = body.split("\f")
    assert len([p for p in pages if "BALLOT PAPER" in p]) == 15
    paper = next(p for p in pages if "BALLOT PAPER" in p)
    order = [int(m) for m in re.findall(r"Candidate Zoë Number(\d\d)", paper)]
    assert order == list(range(1, 15))  # ballot-definition order, accents kept
    assert "Freepost OMOV BALLOT" in paper and "Thursday 28 January 2027" in paper
    # Re-run: unchanged batch skipped, same PDF.
    digest = pdf.read_bytes()
    code, text = omov(capsys, "issue", "print", "--out", str(out), "--ballot", str(ballot))
    assert code == 0 and "unchanged, skipped" in text
    assert pdf.read_bytes() == digest


def test_qr_holds_the_token_in_a_fragment_not_a_query(tmp_path: Path) -> None:
    from issue.postal_pdf import qr_runs

    side, runs = qr_runs("https://vote.example.org/ballot#ABCDEFGHJKMNPQRSTVWX0")
    assert side >= 21 and runs
    import segno

    # The same data and mask give the same symbol: the drawn runs are that symbol's modules.
    qr = segno.make("https://vote.example.org/ballot#ABCDEFGHJKMNPQRSTVWX0", error="m", mask=2)
    dark = sum(sum(1 for v in row if v) for row in qr.matrix_iter(border=0))
    assert sum(w for _, _, w in runs) == dark


def test_members_without_address_or_printable_name_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [person(i, email=False) for i in range(1, 6)]
    rows[1]["address"] = None
    rows[1]["town"] = None
    rows[1]["postcode"] = None
    rows[2]["full_name"] = "Ada 𝔏ovelace"  # a character outside DejaVu Sans
    members = write_members(tmp_path / "members.parquet", rows)
    out = tmp_path / "issue"
    issuer.issue_run(members, "nec-2027", out, vote_url="https://v.example.org/b#{token}")
    import json

    from delivery_fixtures import NOTICE

    (out / "notice.json").write_text(json.dumps(NOTICE))
    ballot = ballot_definition(tmp_path / "b.json", n=3)
    code, text = omov(capsys, "issue", "print", "--out", str(out), "--ballot", str(ballot))
    assert code == 3, text
    assert "no_postal_address: 1" in text and "character_not_in_print_font: 1" in text
    problems = (out / "print" / "batch-0001.problems.csv").read_text()
    assert "P0000002" in problems and "P0000003" in problems
    body = pdf_text(out / "print" / "batch-0001.pdf")
    assert len(TOKEN.findall(body)) == 3


def test_volumes_join_into_one_valid_pdf(tmp_path: Path) -> None:
    """A batch drawn 4 packs at a time is one PDF poppler reads without a complaint."""
    import json

    from delivery_fixtures import NOTICE

    from issue.candidates_cli import read_ballot_definition
    from issue.notice import load_notice
    from issue.print_packs import print_all

    out = issued(tmp_path, 33)  # 11 postal members: volumes of 4, 4 and 3
    (out / "notice.json").write_text(json.dumps(NOTICE))
    ballot = ballot_definition(tmp_path / "ballot_definition.json", n=5)
    report = print_all(
        out, load_notice(out / "notice.json"), read_ballot_definition(ballot), "x", volume=4
    )
    assert [(b.letters, b.pages) for b in report.batches] == [(11, 22)]
    pdf = out / "print" / "batch-0001.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "Pages:           22" in info.stdout
    assert info.stderr == ""  # no "Syntax Error", no xref reconstruction
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
    assert text.stderr == ""
    rows = dispatch_rows(out, "post")
    assert Counter(TOKEN.findall(text.stdout)) == Counter(r["token"] for r in rows)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in fonts.stdout.splitlines()[2:]]
    assert len(names) == len(set(names)) == 9  # 3 fonts x 3 volumes, each subset its own tag
