"""Intake end to end against issue/'s real SQLite register."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from intake_helpers import invoke, make_ballot_def, make_register, write_returns

from issue.audit import read_entries, verify
from issue.tokens import format_token, new_tokens

NAMES = ["Ann Able", "Bob Baker", "Cat Cole", "Dan Dale", "Eve Eagle"]


def _setup(tmp_path: Path) -> dict[str, object]:
    toks = new_tokens(12)
    db, key = make_register(
        tmp_path / "issue", unused=toks[:8], revoked=toks[8:10], used=toks[10:11]
    )
    bdef = make_ballot_def(tmp_path / "pack" / "ballot_definition.json", NAMES)
    online = write_returns(
        tmp_path / "returns" / "online.csv",
        [
            (toks[0], "1;2;3;;"),
            (format_token(toks[1]).lower(), "2;;1;3;"),
            (toks[2], ""),
            (toks[3], "2;3;;;"),
            (toks[8], "1;;;;"),
            (toks[10], "1;;;;"),
            (new_tokens(1)[0], "1"),
            ("NOPE", "1"),
        ],
    )
    postal = write_returns(
        tmp_path / "returns" / "keyed.csv",
        [
            (toks[0], "1;;;;"),
            (toks[4], ";;X;;"),
            (toks[5], "1;1;;;"),
            (toks[6], "1;2;2;;"),
        ],
    )
    with postal.open("a") as fh:
        fh.write("a,b,c\n")
    return {"toks": toks, "db": db, "key": key, "bdef": bdef, "online": online, "postal": postal}


def test_intake_classifies_every_row(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    out = tmp_path / "intake"
    log = tmp_path / "audit.log"
    code, _stdout, err = invoke(
        [
            "intake",
            str(s["online"]),
            "--channel",
            f"postal={s['postal']}",
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(s["bdef"]),
            "--accept-invalid",
            "--out",
            str(out),
            "--audit-log",
            str(log),
        ]
    )
    assert code == 3, err  # rows were rejected: a person must read rejected.csv
    report = json.loads((out / "intake_report.json").read_text())
    t = report["totals"]
    assert (t["received"], t["valid"], t["rejected"]) == (13, 4, 9)
    online, postal = report["channels"]["online"], report["channels"]["postal"]
    assert online["by_class"] == {
        "valid": 2,
        "blank": 1,
        "invalid_no_first_preference": 1,
        "invalid_first_preference_uncertain": 0,
        "invalid_marks_beyond_ballot": 0,
        "malformed_row": 0,
        "token_malformed": 1,
        "token_repeated": 0,
        "token_unknown": 1,
        "token_revoked": 1,
        "token_used": 1,
    }
    assert postal["by_class"]["token_repeated"] == 1
    assert postal["by_class"]["invalid_first_preference_uncertain"] == 1
    assert postal["by_class"]["malformed_row"] == 1
    assert postal["valid_notes"]["single_cross_as_first_preference"] == 1
    assert postal["valid_notes"]["truncated_repeated_rank"] == 1
    assert report["balanced"] is True
    blt = (out / "ballots.blt").read_text().splitlines()
    assert blt[0] == "5 2"
    assert sorted(blt[1:5]) == ["1 1 0", "1 1 2 3 0", "1 3 0", "1 3 1 4 0"]
    assert blt[5:] == ["0", *[f'"{n}"' for n in NAMES], '"Test election"']
    rejected = list(csv.DictReader((out / "rejected.csv").open()))
    assert len(rejected) == 9
    text = (out / "rejected.csv").read_text() + (out / "ballots.blt").read_text()
    text += (out / "intake_report.json").read_text() + (out / "intake_report.html").read_text()
    text += log.read_text() + (out / ".intake-journal.json").read_text()
    for tok in s["toks"]:  # type: ignore[attr-defined]
        assert tok not in text and format_token(tok) not in text
    verify(log)
    events = [e["event"] for e in read_entries(log)]
    assert events == ["intake.started", "intake.finished"]
    assert report["register_after"] == {"unused": 1, "used": 8, "revoked": 2}


def test_intake_refuses_to_overwrite_and_bad_header(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    out = tmp_path / "intake"
    args = [
        "--register",
        str(s["db"]),
        "--keys",
        str(s["key"]),
        "--ballot-def",
        str(s["bdef"]),
        "--accept-invalid",
        "--out",
        str(out),
    ]
    assert invoke(["intake", str(s["online"]), *args])[0] == 3
    code, _, err = invoke(["intake", str(s["online"]), *args])
    assert code == 2 and "already holds an intake" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("code,prefs\nX,1\n")
    code, _, err = invoke(["intake", str(bad), *args[:-1], str(tmp_path / "o2")])
    assert code == 2 and "token,preferences" in err


def test_second_run_sees_tokens_used(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    args = ["--register", str(s["db"]), "--keys", str(s["key"]), "--ballot-def", str(s["bdef"])]
    args.append("--accept-invalid")
    assert invoke(["intake", str(s["online"]), *args, "--out", str(tmp_path / "a")])[0] == 3
    assert invoke(["intake", str(s["online"]), *args, "--out", str(tmp_path / "b")])[0] == 3
    report = json.loads((tmp_path / "b" / "intake_report.json").read_text())
    assert report["totals"]["valid"] == 0
    assert report["totals"]["by_class"]["token_used"] == 5


def test_wrong_election_is_refused(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    bdef = make_ballot_def(tmp_path / "other.json", NAMES, election="other")
    code, _, err = invoke(
        [
            "intake",
            str(s["online"]),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(bdef),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 4 and "election" in err


def test_blt_and_csv_ballots_count_the_same(tmp_path: Path) -> None:
    from count.ballot_files import load_ballots
    from count.rules import ers97

    s = _setup(tmp_path)
    out = tmp_path / "intake"
    code, _, err = invoke(
        [
            "intake",
            str(s["online"]),
            str(s["postal"]),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(s["bdef"]),
            "--accept-invalid",
            "--out",
            str(out),
        ]
    )
    assert code == 3, err
    a = ers97.count(load_ballots(out / "ballots.blt")).to_dict()
    b = ers97.count(load_ballots(out / "ballots.csv")).to_dict()
    assert a["elected"] == b["elected"]
    assert [st["votes"] for st in a["stages"]] == [st["votes"] for st in b["stages"]]
    assert a["valid_votes"] == 4 and a["invalid_votes"] == 0


def test_bad_bytes_stop_the_run_before_any_token_is_used(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    bad = tmp_path / "returns" / "late.csv"
    toks = s["toks"]
    bad.write_bytes(
        b"token,preferences\n"
        + f"{toks[7]},1;;;;\n".encode()  # type: ignore[index]
        + b"\xff\xfe,1\n"
    )
    code, _, err = invoke(
        [
            "intake",
            str(s["online"]),
            str(bad),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(s["bdef"]),
            "--accept-invalid",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2 and "late.csv:3" in err and "UTF-8" in err
    from issue.register import Register

    with Register.open(s["db"], s["key"]) as reg:  # type: ignore[arg-type]
        assert reg.counts()["used"] == 1  # only the token used before this test


def test_quoted_fields_and_crlf(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    toks = s["toks"]
    f = tmp_path / "returns" / "keyed.csv"
    f.write_bytes(
        b'\xef\xbb\xbf"token","preferences"\r\n'
        + f'"{toks[7]}","1;2;;;"\r\n'.encode()  # type: ignore[index]
        + b'"a,b",1\r\n\r\n'
    )
    code, _, err = invoke(
        [
            "intake",
            str(f),
            "--register",
            str(s["db"]),
            "--keys",
            str(s["key"]),
            "--ballot-def",
            str(s["bdef"]),
            "--accept-invalid",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 3, err
    report = json.loads((tmp_path / "o" / "intake_report.json").read_text())
    assert report["totals"]["received"] == 2 and report["totals"]["valid"] == 1
    rejected = list(csv.DictReader((tmp_path / "o" / "rejected.csv").open()))
    assert [(r["line"], r["reason"]) for r in rejected] == [("3", "token_malformed")]


@settings(max_examples=25, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(
            ["valid", "valid", "reused", "revoked", "unknown", "malformed", "used_before"]
        ),
        max_size=40,
    )
)
def test_real_register_conservation(kinds: list[str]) -> None:
    """Against issue/'s SQLite register: valid + rejected = received, each token counted once."""
    import tempfile

    from issue.register import Register
    from vote import intake as core
    from vote.intake_read import normalise
    from vote.intake_register import RegisterAdapter

    toks = new_tokens(len(kinds) + 3)
    fresh, revoked, used = toks[: len(kinds)], toks[-3:-2], toks[-2:]
    with tempfile.TemporaryDirectory() as tmp:
        db, key = make_register(Path(tmp), unused=fresh, revoked=revoked, used=used)
        rows, valid_tokens = [], set()
        for i, kind in enumerate(kinds):
            tok = {
                "valid": fresh[i],
                "reused": fresh[max(i - 1, 0)],
                "revoked": revoked[0],
                "unknown": new_tokens(1)[0],
                "malformed": fresh[i][:-2],
                "used_before": used[0],
            }[kind]
            if kind in ("valid", "reused"):
                valid_tokens.add(tok)
            rows.append(core.ReturnedRow("online", i + 2, tok, "1;;2"))
        with Register.open(db, key) as reg:
            result = core.run_intake(
                rows, 3, RegisterAdapter(reg, chunk=7), normalise, batch_size=5
            )
            counts = reg.counts()
    totals = result.totals()
    assert totals.received == len(rows) == totals.valid + sum(totals.rejected.values())
    assert totals.valid == len(valid_tokens)  # each distinct good token counted exactly once
    assert counts["used"] == len(used) + len(valid_tokens)
