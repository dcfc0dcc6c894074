"""The letter preview names nobody real; the dispatch files can be destroyed, and verified after.

Findings of issue 16: the preview showed the first real member of its batch (after a one-person
re-issue: that person), and deleting the dispatch files after mailing made `issue verify` exit 4.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from issue_fixtures import person, write_members

from issue import audit, destroy
from issue.dispatch import SPECIMEN_TOKEN
from issue.tokens import TokenFormatError, normalise_token
from omov.cli import run


def _members(tmp: Path) -> Path:
    rows = [person(i) for i in range(1, 13)]
    rows[4] |= {"full_name": "Wilhelmina Quarrington", "first_name": "Wilhelmina"}
    rows[4] |= {"address": "77 Gannet Terrace", "town": "Berwick", "postcode": "TD15 9ZZ"}
    rows[4] |= {"email": None}  # a postal letter: the preview used to prefer post rows
    return write_members(tmp / "members.parquet", rows)


def _issue(tmp: Path, members: Path) -> Path:
    out = tmp / "out"
    argv = ["issue", "run", "--members", str(members), "--election", "e1", "--out", str(out)]
    assert run(argv) == 0
    return out


def _verify(out: Path, members: Path) -> int:
    return run(["issue", "verify", "--members", str(members), "--out", str(out)])


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- preview


def test_preview_after_a_one_person_reissue_names_nobody_real(tmp_path: Path) -> None:
    members = _members(tmp_path)
    out = _issue(tmp_path, members)
    argv = ["issue", "reissue", "P0000005", "--reason", "lost", "--members", str(members)]
    assert run([*argv, "--out", str(out)]) == 0
    batch = out / "dispatch" / "batch-0002"
    (row,) = _rows(batch / "dispatch_post.csv")
    assert row["full_name"] == "Wilhelmina Quarrington"  # the batch really is that one person
    for html in (batch / "letter_preview.html", out / "letter_preview.html"):
        text = html.read_text(encoding="utf-8")
        for value in ("Wilhelmina", "Quarrington", "Gannet", "Berwick", "TD15", "P0000005"):
            assert value not in text, value
        assert row["token"] not in text and row["token"].replace("-", "") not in text
        assert "SPECIMEN" in text and SPECIMEN_TOKEN in text
    first = (out / "dispatch" / "batch-0001" / "letter_preview.html").read_bytes()
    assert first == (batch / "letter_preview.html").read_bytes()  # depends on no member


def test_specimen_token_can_never_be_a_real_token() -> None:
    with pytest.raises(TokenFormatError):
        normalise_token(SPECIMEN_TOKEN)


# ------------------------------------------------------------------ destroy-dispatch


def test_destroy_dispatch_records_digests_and_verify_passes_after(tmp_path: Path) -> None:
    members = _members(tmp_path)
    out = _issue(tmp_path, members)
    files = destroy.dispatch_files(out)
    assert set(files) >= {"dispatch_email.csv", "batch-0001/dispatch_post.csv"}
    digests = {name: _sha(path) for name, path in files.items()}
    assert run(["issue", "destroy-dispatch", "--out", str(out)]) == 2  # needs --yes
    assert all(p.exists() for p in files.values())
    assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 0
    assert not any(p.exists() for p in files.values())
    entries = audit.read_entries(out / "audit.log")
    (entry,) = [e for e in entries if e["event"] == "dispatch_destroyed"]
    assert entry["files"] == digests and entry["through_batch"] == 1
    assert run(["audit", "verify", str(out / "audit.log")]) == 0
    assert _verify(out, members) == 0
    # Later batches work as before, and can be destroyed in turn.
    argv = ["issue", "reissue", "P0000002", "--reason", "lost", "--members", str(members)]
    assert run([*argv, "--out", str(out)]) == 0
    assert len(_rows(out / "dispatch_email.csv")) == 1
    assert _verify(out, members) == 0
    assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 0
    assert _verify(out, members) == 0
    assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 0  # nothing left


def test_deleting_by_hand_or_restoring_a_destroyed_file_fails_verify(tmp_path: Path) -> None:
    members = _members(tmp_path)
    out = _issue(tmp_path, members)
    (out / "dispatch_post.csv").unlink()  # not recorded: verify must still notice
    assert _verify(out, members) == 4
    members2 = _members(tmp_path / "two")
    out2 = _issue(tmp_path / "two", members2)
    kept = (out2 / "dispatch_post.csv").read_bytes()
    assert run(["issue", "destroy-dispatch", "--out", str(out2), "--yes"]) == 0
    (out2 / "dispatch_post.csv").write_bytes(kept)  # a copy survived and was put back
    assert _verify(out2, members2) == 4


def test_a_changed_dispatch_file_is_kept_as_evidence(tmp_path: Path) -> None:
    members = _members(tmp_path)
    out = _issue(tmp_path, members)
    path = out / "dispatch" / "batch-0001" / "dispatch_post.csv"
    path.write_bytes(path.read_bytes() + b"extra\n")
    assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 4
    assert path.exists() and (out / "dispatch_email.csv").exists()
    assert not any(
        e["event"] == "dispatch_destroyed" for e in audit.read_entries(out / "audit.log")
    )


def test_a_destruction_cut_short_is_finished_by_running_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = _members(tmp_path)
    out = _issue(tmp_path, members)
    real = destroy._overwrite_and_unlink
    done: list[Path] = []  # the first file (all its hard links) goes, then the disk fails

    def crash_after_one(paths: list[Path]) -> None:
        if done:
            raise OSError(5, "Input/output error")  # the disk fails mid-way
        real(paths)
        done.extend(paths)

    with monkeypatch.context() as m:
        m.setattr(destroy, "_overwrite_and_unlink", crash_after_one)
        assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 1
    assert _verify(out, members) == 4  # recorded as destroyed, some still there
    assert run(["issue", "destroy-dispatch", "--out", str(out), "--yes"]) == 0
    assert destroy.dispatch_files(out) == {}
    events = [e["event"] for e in audit.read_entries(out / "audit.log")]
    assert events.count("dispatch_destroyed") == 1
    assert _verify(out, members) == 0
