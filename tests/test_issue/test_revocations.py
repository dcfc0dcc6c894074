"""Revocations stick (issue 12 item 3): a revoke for a reason that ends the right to a ballot is
never undone by `issue run`, `verify` accepts it, and only `reissue` overrides it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from issue_fixtures import person, write_members

from issue import reasons
from issue.register import Register
from omov.cli import run


def _live(out: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for ch in ("email", "post"):
        with open(out / f"dispatch_{ch}.csv", newline="") as fh:
            found |= {r["person_id"]: r["token"] for r in csv.DictReader(fh)}
    return found


@pytest.fixture()
def setup(tmp_path: Path) -> tuple[Path, Path]:
    members = write_members(tmp_path / "members.parquet", [person(i) for i in range(1, 11)])
    out = tmp_path / "issue"
    assert _run(members, out) == 0
    return members, out


def _run(members: Path, out: Path) -> int:
    return run(["issue", "run", "--members", str(members), "--election", "e-1", "--out", str(out)])


def _verify(members: Path, out: Path) -> int:
    return run(["issue", "verify", "--members", str(members), "--out", str(out)])


@pytest.mark.parametrize("reason", ["ineligible", "deceased", "withdrawn", "duplicate"])
def test_a_no_ballot_revoke_survives_issue_run_and_verify(
    setup: tuple[Path, Path], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    members, out = setup
    old = _live(out)["P0000003"]
    assert run(["issue", "revoke", "P0000003", "--reason", reason, "--out", str(out)]) == 0
    assert _verify(members, out) == 0  # before: exit 4 (a legitimate revoke was "inconsistent")
    capsys.readouterr()
    assert run(["issue", "status", "--out", str(out)]) == 0
    assert f"revoked tokens by reason: {reason} 1" in capsys.readouterr().out
    assert _run(members, out) == 0
    assert "not issued: 1 person" in capsys.readouterr().out
    assert "P0000003" not in _live(out)  # before: a fresh token was issued here
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(old) == "revoked"
        assert sum(reg.counts().values()) == 10  # no new token at all
    assert _verify(members, out) == 0  # before: exit 4


def test_a_revoke_that_keeps_the_ballot_is_owed_a_new_token(setup: tuple[Path, Path]) -> None:
    members, out = setup
    assert run(["issue", "revoke", "P0000004", "--reason", "stolen", "--out", str(out)]) == 0
    assert _verify(members, out) == 3  # a person must act: issue the replacement
    assert _run(members, out) == 0
    assert "P0000004" in _live(out)
    assert _verify(members, out) == 0


def test_reissue_overrides_a_no_ballot_revoke(setup: tuple[Path, Path]) -> None:
    members, out = setup
    a = ["--members", str(members), "--out", str(out)]
    assert run(["issue", "revoke", "P0000005", "--reason", "ineligible", "--out", str(out)]) == 0
    assert run(["issue", "reissue", "P0000005", "--reason", "deceased", *a]) == 2
    assert run(["issue", "reissue", "P0000005", "--reason", "reinstated", *a]) == 0
    new = _live(out)["P0000005"]
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        assert reg.check(new) == "unused"
    assert _run(members, out) == 0
    assert _live(out)["P0000005"] == new  # held, not issued twice
    assert _verify(members, out) == 0
    assert run(["audit", "verify", str(out / "audit.log")]) == 0


def test_reissue_of_a_person_never_revoked_and_without_a_token_is_refused(
    setup: tuple[Path, Path], tmp_path: Path
) -> None:
    _, out = setup
    more = write_members(tmp_path / "m2.parquet", [person(i) for i in range(1, 12)])
    a = ["--members", str(more), "--out", str(out)]
    assert run(["issue", "reissue", "P0000011", "--reason", "lost", *a]) == 2
    assert run(["issue", "reissue", "P0000001", "--reason", "made-up", *a]) == 2


def test_every_reason_says_whether_the_ballot_is_kept() -> None:
    keeps = {r.value for r in reasons.Reason if r.keeps_ballot}
    assert {"lost", "spoilt", "not-received", "stolen", "compromised", "reinstated"} <= keeps
    assert {"ineligible", "deceased", "withdrawn", "duplicate"}.isdisjoint(keeps)
    assert reasons.parse(" Deceased ") is reasons.Reason.DECEASED
    with pytest.raises(Exception, match="re-issue reason"):
        reasons.parse("reinstated")
    assert reasons.parse("reinstated", for_reissue=True) is reasons.Reason.REINSTATED
    for typed in ("roll-change", "other", ""):
        with pytest.raises(Exception, match="not a reason"):
            reasons.parse(typed)


def test_a_token_added_to_the_register_outside_issue_is_exit_4(setup: tuple[Path, Path]) -> None:
    """The counter holds vote.key, so it can hash a made-up token; verify must notice the row."""
    from issue.tokens import new_tokens

    members, out = setup
    with Register.open(out / "register.sqlite", out / "vote.key") as reg:
        reg.add_unused(reg.key.token_hashes(new_tokens(1)))
    assert _verify(members, out) == 4
