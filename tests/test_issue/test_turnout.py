"""omov issue turnout: aggregates by organisation and channel, no cell below 10."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from delivery_fixtures import NOTICE
from issue_fixtures import person, write_members
from test_send import omov

from issue import issuer
from issue.register import Register
from issue.turnout import MIN_CELL, Cell, Table


def election(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    rows = []
    for i in range(1, 121):
        p = person(i)  # every third has no email (post)
        orgs = (
            ["Labour"] + (["Momentum"] if i % 4 == 0 else []) + (["Unite"] if i % 10 == 0 else [])
        )
        orgs += ["Tiny"] if i in (5, 6, 7) else []
        p["organisations"] = ";".join(orgs)
        rows.append(p)
    members = write_members(tmp_path / "members.parquet", rows)
    out = tmp_path / "issue"
    issuer.issue_run(members, "nec-2027", out, vote_url="https://v.example.org/b#{token}")
    (out / "notice.json").write_text(json.dumps(NOTICE))
    tokens = {}
    for ch in ("email", "post"):
        with open(out / f"dispatch_{ch}.csv", newline="") as fh:
            tokens.update({r["person_id"]: r["token"] for r in csv.DictReader(fh)})
    return out, members, tokens


def test_counts_and_suppression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, members, tokens = election(tmp_path)
    voters = [f"P{i:07d}" for i in range(1, 121) if i % 2 == 0 or i == 5]  # 61
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        reg.consume_many([tokens[p] for p in voters])
    report = tmp_path / "intake_report.json"
    report.write_text(json.dumps({"channels": {
        "postal": {"by_class": {"valid": 20, "blank": 1, "token_used": 4}},
        "online": {"by_class": {"valid": 35, "invalid_no_first_preference": 2}},
    }}))  # fmt: skip
    code, text = omov(capsys, "issue", "turnout", "--out", str(out), "--members", str(members),
                      "--intake-report", str(report), "--title", "NEC 2027")  # fmt: skip
    assert code == 0, text
    rows = list(csv.DictReader((out / "turnout" / "turnout.csv").open()))
    got = {(r["table"], r["group"]): (r["issued"], r["cast"], r["turnout_percent"]) for r in rows}
    assert got[("total", "all members")] == ("120", "61", "50.8")
    assert got[("organisation", "Labour")] == ("120", "61", "50.8")
    # Everyone in these groups voted: the cast count would say so about each member.
    assert got[("organisation", "Momentum")] == ("30", "—", "—")
    assert got[("organisation", "Unite")] == ("12", "—", "—")
    assert got[("organisation", "Tiny")] == ("<10", "<10", "—")
    # Delivery: email 80 (cast 40+?) and post 40: both shown (no small cell).
    email = [i for i in range(1, 121) if i % 3 != 0]
    cast_email = sum(1 for i in email if f"P{i:07d}" in voters)
    assert got[("delivery_channel", "email")] == (
        "80",
        str(cast_email),
        got[("delivery_channel", "email")][2],
    )
    # Return channels: postal 21, online 37, the rest (61 - 58 = 3 < 10) hidden, and so a
    # second cell (the smallest shown: postal) is hidden too so 3 cannot be recovered.
    assert got[("return_channel", "online")][1] == "37"
    assert got[("return_channel", "postal")][1] == "—"  # 21, withheld (secondary)
    assert got[("return_channel", "not in a given intake report")][1] == "<10"
    for r in rows:
        for k in ("issued", "cast"):
            assert r[k] in ("<10", "—", "") or int(r[k]) >= MIN_CELL
    html = (out / "turnout" / "turnout.html").read_text()
    assert "P0000" not in html and "@" not in html and "<script" not in html
    assert "Content-Security-Policy" in html and "Momentum" in html


def test_secondary_suppression_hides_a_second_cell() -> None:
    t = Table("x", "x", [Cell("a", 50, 30), Cell("b", 40, 20), Cell("c", 12, 5)], True)
    t.suppress()
    hidden = [c.group for c in t.cells if c.hide_cast]
    assert hidden == ["b", "c"]
