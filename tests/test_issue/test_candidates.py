"""Candidates: every problem at once with file and line; pack order; ballot definition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from intake_helpers import invoke, write_members

from issue import candidates as core

HEADER = "name,membership_number,organisation,bio,nominations,gender\n"


def _roll(tmp_path: Path) -> Path:
    return write_members(
        tmp_path / "dedupe" / "members.parquet",
        [
            ("1000001", True, ""),
            ("1000002", True, ""),
            ("1000003", False, "arrears"),
            ("1000004", True, ""),
            ("1000005", True, ""),
            ("1000006", True, ""),
        ],
        names=["Ann Able", "Robert Baker", "Gus Gray", "Cat Cole", "Daniel Dale", "Eve Eagle"],
    )


def _good_rows() -> list[str]:
    return [
        'Ann Able,L1000001,Momentum,"Short bio.",Leeds Central CLP,woman\n',
        'Bob Baker,LP-1000002,Unison,"Bio.",Unison NEC;Hackney North CLP,\n',
        'Cat Cole,0001000004,Momentum,"Bio.",Momentum NCG,\n',
        'Dan Dale,100 0005,Unite,"Bio.",Unite EC,man\n',
    ]


def test_normalise_membership_number() -> None:
    assert core.normalise_membership_number("L1234567") == "1234567"
    assert core.normalise_membership_number("lp-0123456") == "0123456"
    assert core.normalise_membership_number("00001234567") == "1234567"
    assert core.normalise_membership_number("123 4567") == "1234567"
    assert core.normalise_membership_number("12345678") is None
    assert core.normalise_membership_number("L12A4567") is None
    assert core.normalise_membership_number("") is None


def test_validate_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    long_bio = " ".join(["word"] * 151)
    text = (
        HEADER
        + "".join(_good_rows())
        + "".join(
            [
                'Eve Eagle,1000006,Unite,"Bio.",,\n',  # line 6: no nomination
                f'Fay Fox,1000006,Unite,"{long_bio}",Unite EC,\n',  # line 7: Eve's number, long bio
                'ann  ABLE,9999999,Momentum,"Bio.",X CLP,\n',  # line 8: dup name, not on roll
                'Gus Gray,1000003,Momentum,"Bio.",Y CLP,\n',  # line 9: not eligible
                'Hal Hill,12AB,Momentum,"Bio.",Z CLP,\n',  # line 10: bad number
            ]
        )
    )
    path = tmp_path / "candidates.csv"
    path.write_text(text)
    code, _out, err = invoke(
        [
            "candidates",
            "validate",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--out",
            str(tmp_path / "rep"),
        ]
    )
    assert code == 3
    report = json.loads((tmp_path / "rep" / "candidates_validation.json").read_text())
    found = {(p["line"], p["code"]) for p in report["problems"]}
    assert found == {
        (6, "no_nomination"),
        (7, "duplicate_candidate"),
        (7, "bio_too_long"),
        (7, "name_mismatch"),
        (8, "duplicate_candidate"),
        (8, "not_on_roll"),
        (9, "not_eligible"),
        (10, "bad_membership_number"),
    }
    assert all(p["file"] == str(path) for p in report["problems"])
    assert f"{path}:7: bio_too_long" in err
    assert "arrears" in err


def test_validate_clean_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text(HEADER + "".join(_good_rows()))
    code, out, _ = invoke(
        [
            "candidates",
            "validate",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--out",
            str(tmp_path / "rep"),
        ]
    )
    assert code == 0, out
    assert "4 candidates, no problems" in out


def test_missing_column_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text("name,organisation\nA,B\n")
    code, _, err = invoke(
        [
            "candidates",
            "validate",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--out",
            str(tmp_path / "rep"),
        ]
    )
    assert code == 3
    assert "missing_columns" in err


def test_pack_refuses_invalid_unless_dropped(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text(HEADER + "".join(_good_rows()) + 'Eve Eagle,1000006,Unite,"Bio.",,\n')
    roll = _roll(tmp_path)
    base = [
        "candidates",
        "pack",
        str(path),
        "--members",
        str(roll),
        "--election",
        "e1",
        "--seats",
        "2",
    ]
    code, _, _ = invoke([*base, "--out", str(tmp_path / "p1")])
    assert code == 3
    assert not (tmp_path / "p1" / "ballot_definition.json").exists()
    code, _, err = invoke([*base, "--out", str(tmp_path / "p2"), "--drop-invalid"])
    assert code == 0, err
    ballot = json.loads((tmp_path / "p2" / "ballot_definition.json").read_text())
    assert [c["name"] for c in ballot["candidates"]] == [
        "Ann Able",
        "Bob Baker",
        "Cat Cole",
        "Dan Dale",
    ]
    assert [c["ballot_number"] for c in ballot["candidates"]] == [1, 2, 3, 4]
    assert ballot["dropped"] == ["Eve Eagle"]
    assert ballot["format_version"] == core.BALLOT_DEF_FORMAT_VERSION
    html = (tmp_path / "p2" / "candidates_pack.html").read_text()
    assert "Eve Eagle" not in html and "Hackney North CLP" in html
    assert "1000001" not in html  # no membership numbers in the pack


def test_random_order_is_seeded_and_reproducible(tmp_path: Path) -> None:
    cands, _ = core.read_candidates(HEADER + "".join(_good_rows()), "c.csv")
    a = [c.name for c in core.ballot_order(cands, "random", "seed-1")]
    b = [c.name for c in core.ballot_order(list(reversed(cands)), "random", "seed-1")]
    assert a == b
    orders = {tuple(c.name for c in core.ballot_order(cands, "random", f"s{i}")) for i in range(20)}
    assert len(orders) > 1
    with pytest.raises(ValueError):
        core.ballot_order(cands, "random", None)


def test_pack_random_needs_seed(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text(HEADER + "".join(_good_rows()))
    code, _, err = invoke(
        [
            "candidates",
            "pack",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--election",
            "e1",
            "--seats",
            "2",
            "--order",
            "random",
            "--out",
            str(tmp_path / "p"),
        ]
    )
    assert code == 2
    assert "--seed" in err


def test_pack_appends_to_the_audit_log(tmp_path: Path) -> None:
    from issue import audit

    path = tmp_path / "candidates.csv"
    path.write_text(HEADER + "".join(_good_rows()))
    log = tmp_path / "audit.log"
    code, out, err = invoke(
        [
            "candidates",
            "pack",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--election",
            "e1",
            "--seats",
            "2",
            "--out",
            str(tmp_path / "p"),
            "--audit-log",
            str(log),
        ]
    )
    assert code == 0, err
    (entry,) = audit.read_entries(log)
    assert entry["event"] == "candidates.packed" and entry["on_ballot"] == 4
    assert audit.verify(log).hash in out


def test_name_paired_with_somebody_elses_number_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    # line 2: Cat Cole's number under another name; line 3: Bob for Robert Baker is fine
    path.write_text(
        HEADER
        + 'Zed Zoo,1000004,Momentum,"Bio.",A CLP,\n'
        + 'Bob Baker,1000002,Unison,"Bio.",Unison NEC,\n'
    )
    code, _, err = invoke(
        [
            "candidates",
            "validate",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--out",
            str(tmp_path / "rep"),
        ]
    )
    assert code == 3
    report = json.loads((tmp_path / "rep" / "candidates_validation.json").read_text())
    assert {(p["line"], p["code"]) for p in report["problems"]} == {(2, "name_mismatch")}
    assert "'Cat Cole'" in err


@pytest.mark.parametrize(
    ("candidate", "roll", "agree"),
    [
        ("Ann Able", "Ann Able", True),
        ("Bob Baker", "Robert Baker", True),
        ("A. Able", "Ann Able", True),
        ("Ann Able-Smith", "Ann Smith", True),
        ("ANN  ABLE", "ann able", True),
        ("Dr Pauline Medici", "Pauline Medici", True),
        ("Cllr Ann Able", "Ann Able", True),
        ("Ann Able", "Bob Baker", False),
        ("Ann Able", "Ann Baker", False),
        ("Zoë Able", "Bob Able", False),
    ],
)
def test_names_agree(candidate: str, roll: str, agree: bool) -> None:
    assert core.names_agree(candidate, roll) is agree


def test_headers_are_matched_leniently(tmp_path: Path) -> None:
    path = tmp_path / "candidates.csv"
    path.write_text(
        "Name;Membership No.;Organisation;Bio;Nominations;Gender\n"
        'Ann Able;L1000001;Momentum;"Short bio, with a comma.";Leeds Central CLP;woman\n'
    )
    code, out, err = invoke(
        [
            "candidates",
            "validate",
            str(path),
            "--members",
            str(_roll(tmp_path)),
            "--out",
            str(tmp_path / "rep"),
        ]
    )
    assert code == 0, out + err
    assert core.header_key(" MEMBERSHIP  number ") == "membership_number"
