"""The letter preview says what a member needs: the election, how to vote, when it closes and who
the scrutineer is — in the words of OUT/notice.json, the same as every email and printed pack."""

from __future__ import annotations

import json
from pathlib import Path

from delivery_fixtures import NOTICE
from issue_fixtures import roll

from issue import issuer


def test_preview_carries_the_notice(tmp_path: Path) -> None:
    out = tmp_path / "issue"
    out.mkdir()
    (out / "notice.json").write_text(json.dumps(NOTICE), encoding="utf-8")
    issuer.issue_run(roll(tmp_path / "m.parquet", range(1, 4)), "nec-2027", out)
    html = (out / "letter_preview.html").read_text("utf-8")
    for text in (
        "NEC election 2027",
        "Labour Party and Momentum",
        "12:00 noon on Friday 29 January 2027",  # closes
        "first post on Thursday 28 January 2027",  # postal return by
        "Freepost OMOV BALLOT",
        "Independent Scrutineer Ltd",
        "scrutineer@example.org",
        "020 7946 0000",
        "https://vote.example.org/candidates_pack.html",
        "How to vote",
    ):
        assert text in html, text
    assert "To complete before mailing" not in html


def test_preview_without_a_notice_names_the_election_and_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "issue"
    issuer.issue_run(roll(tmp_path / "m.parquet", range(1, 4)), "nec-2027", out)
    html = (out / "letter_preview.html").read_text("utf-8")
    assert "nec-2027" in html and "How to vote" in html
    assert "To complete before mailing: write OUT/notice.json" in html


def test_a_broken_notice_stops_issue_run_before_anything_is_issued(tmp_path: Path) -> None:
    import pytest

    from omov.errors import InputError

    out = tmp_path / "issue"
    out.mkdir()
    (out / "notice.json").write_text('{"format_version": "omov.notice/1", "title": ""}')
    with pytest.raises(InputError, match=r"notice\.json"):
        issuer.issue_run(roll(tmp_path / "m.parquet", range(1, 4)), "nec-2027", out)
    assert not (out / "dispatch_email.csv").exists() and not (out / "dispatch_post.csv").exists()
    (out / "notice.json").unlink()  # fixed (here: removed): the same command now issues
    issuer.issue_run(roll(tmp_path / "m.parquet", range(1, 4)), "nec-2027", out)
    assert (out / "letter_preview.html").is_file()
