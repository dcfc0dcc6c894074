"""End to end through ``omov dedupe run``: outputs, exit codes, decisions, determinism."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.schema import MEMBERS_SCHEMA
from omov import cli
from omov.errors import ExitCode

from .data import OUTPUTS, TRUTH, shuffle_file, write_world


def _run(paths: list[Path], out: Path, *extra: str) -> int:
    return cli.run(["dedupe", "run", *map(str, paths), "--out", str(out), "-q", *extra])


def _persons(out: Path) -> dict[tuple[str, int], str]:
    df = pd.read_csv(out / "clusters.csv")
    return {(o, int(r)): p for o, r, p in zip(df.source_org, df.row_id, df.person_id, strict=True)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path, int]:
    base = tmp_path_factory.mktemp("world")
    paths = write_world(base / "exports")
    out = base / "out"
    code = _run(paths, out)
    return paths, out, code


def test_every_output_written_and_clusters_right(world) -> None:  # type: ignore[no-untyped-def]
    _paths, out, code = world
    assert code in (ExitCode.OK, ExitCode.PROBLEMS)
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    got = _persons(out)
    assert set(got) == set(TRUTH)  # every row accounted for
    truth_groups = {}
    for k, v in TRUTH.items():
        truth_groups.setdefault(v, set()).add(got[k])
    assert all(len(ids) == 1 for ids in truth_groups.values()), truth_groups
    assert len(set(got.values())) == len(truth_groups)  # twins, father/son kept apart


def test_clusters_csv_header_is_the_contract(world) -> None:  # type: ignore[no-untyped-def]
    _p, out, _c = world
    with open(out / "clusters.csv", newline="") as fh:
        assert next(csv.reader(fh)) == ["source_org", "row_id", "person_id"]


def test_members_parquet_schema_and_eligibility(world) -> None:  # type: ignore[no-untyped-def]
    _p, out, _c = world
    table = pq.read_table(out / "members.parquet")
    assert table.schema.names == MEMBERS_SCHEMA.names
    assert table.schema.metadata[b"format_version"] == b"1"
    m = table.to_pandas().set_index("full_name")
    assert m.loc["Aisha Begum", "eligible"]  # lapsed in one org, current in another
    assert m.loc["Aisha Begum", "organisations"] == "north;union"
    assert m.loc["Margaret Hughes", "membership_number"] == "1234567"
    nia = m.loc["Nia Nobody"]
    assert not nia["eligible"] and "consent" in nia["ineligible_reason"]
    sian = m.loc["Siân Llewellyn"]
    assert sian["eligible"]  # refused in one org only; her union record is usable
    excluded = pd.read_csv(out / "excluded.csv")
    assert list(excluded["full_name"]) == ["Nia Nobody"]


def test_summary_has_digests_and_aggregates_only(world) -> None:  # type: ignore[no-untyped-def]
    paths, out, _c = world
    s = json.loads((out / "summary.json").read_text())
    assert s["format_version"] == "1"
    from omov.fileio import sha256_file

    assert s["inputs"]["north"]["sha256"] == sha256_file(paths[0])
    assert s["counts"]["overlap_matrix"]["north"]["union"] == 3
    text = (out / "summary.json").read_text()
    assert "Hughes" not in text and "@" not in text


def test_report_is_self_contained(world) -> None:  # type: ignore[no-untyped-def]
    _p, out, _c = world
    html = (out / "duplicate_report.html").read_text()
    assert "<script src" not in html and "http://" not in html and "https://" not in html
    assert 'id="q"' in html and "omov-format-version" in html


def _queue_world(tmp_path: Path) -> tuple[list[Path], Path]:
    """A pair the model refuses but a person might doubt: same name and mobile, far numbers."""
    folder = tmp_path / "exports"
    folder.mkdir()
    a = folder / "a.csv"
    b = folder / "b.csv"
    a.write_text(
        "Name,LP number,DOB,Mobile,Postcode\nJoan Baker,1111111,,07700 900111,LS1 1AA\n"
        "Carl Moss,5555555,1980-05-05,07700 900222,LS2 2BB\n"
    )
    b.write_text(
        "Name,LP number,DOB,Mobile,Postcode\nJoan Baker,7654321,1970-01-01,07700 900111,LS9 9ZZ\n"
        "Carl Moss,5555555,1980-05-05,07700 900222,LS2 2BB\n"
    )
    return [a, b], tmp_path / "out"


def test_decisions_apply_both_ways_and_are_logged(tmp_path: Path) -> None:
    paths, out = _queue_world(tmp_path)
    code = _run(paths, out)
    q = pd.read_csv(out / "review_queue.csv", dtype=str, keep_default_na=False)
    joan = q[q["name_a"].str.contains("Joan")]
    assert code == ExitCode.PROBLEMS and len(joan) == 1
    persons = _persons(out)
    assert persons[("a", 1)] != persons[("b", 1)] or joan.iloc[0]["proposed_decision"] == "same"
    # The auditor says "same": they become one person, the queue empties, exit 0.
    dec = joan.copy()
    dec["decision"], dec["note"] = "same", "phoned her: one membership, two numbers"
    dec.to_csv(tmp_path / "d_same.csv", index=False)
    out2 = tmp_path / "out2"
    assert _run(paths, out2, "--decisions", str(tmp_path / "d_same.csv")) == ExitCode.OK
    p2 = _persons(out2)
    assert p2[("a", 1)] == p2[("b", 1)]
    log = pd.read_csv(out2 / "decisions_applied.csv")
    assert list(log["status"]) == ["applied"] and "one person" in log.iloc[0]["detail"]
    # "different" keeps them apart, and Carl (same number, name, DOB) is unaffected.
    dec["decision"] = "different"
    dec.to_csv(tmp_path / "d_diff.csv", index=False)
    out3 = tmp_path / "out3"
    assert _run(paths, out3, "--decisions", str(tmp_path / "d_diff.csv")) == ExitCode.OK
    p3 = _persons(out3)
    assert p3[("a", 1)] != p3[("b", 1)] and p3[("a", 2)] == p3[("b", 2)]


def test_stale_decision_reported(tmp_path: Path) -> None:
    paths, out = _queue_world(tmp_path)
    (tmp_path / "d.csv").write_text(
        "source_org_a,row_id_a,fingerprint_a,source_org_b,row_id_b,fingerprint_b,decision,note\n"
        "a,1,deadbeefdeadbeef,b,1,,same,old export\n"
    )
    code = _run(paths, out, "--decisions", str(tmp_path / "d.csv"))
    assert code == ExitCode.PROBLEMS
    log = pd.read_csv(out / "decisions_applied.csv")
    assert log.iloc[0]["status"] == "stale" and "no longer" in log.iloc[0]["detail"]


def test_cluster_decision_by_records_column(tmp_path: Path) -> None:
    paths, out = _queue_world(tmp_path)
    (tmp_path / "d.csv").write_text("records,decision,note\na:1;b:1,same,one person\n")
    assert _run(paths, out, "--decisions", str(tmp_path / "d.csv")) == ExitCode.OK
    p = _persons(out)
    assert p[("a", 1)] == p[("b", 1)]


def test_conflicting_decisions_are_an_input_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    paths, out = _queue_world(tmp_path)
    (tmp_path / "d.csv").write_text("records,decision,note\na:1;b:1,same,x\na:1;b:1,different,y\n")
    assert _run(paths, out, "--decisions", str(tmp_path / "d.csv")) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "d.csv:3" in err and "fix:" in err


def _digests(out: Path) -> dict[str, bytes]:
    return {
        n: (out / n).read_bytes()
        for n in ("members.parquet", "summary.json", "duplicate_report.html", "excluded.csv")
    }


def test_same_inputs_same_bytes(tmp_path: Path, world) -> None:  # type: ignore[no-untyped-def]
    paths, out, code = world
    out2 = tmp_path / "again"
    assert _run(paths, out2) == code
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (out2 / name).read_bytes(), name


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_row_order_does_not_matter(tmp_path_factory, world, data) -> None:  # type: ignore[no-untyped-def]
    """Shuffle every file: same persons, same members.parquet bytes, every row accounted for."""
    paths, out, _code = world
    base = tmp_path_factory.mktemp("shuf")
    new_paths, remap = [], {}
    for p in paths:
        q = base / p.name
        shutil.copy(p, q)
        n = len(p.read_bytes().splitlines()) - 1
        order = data.draw(st.permutations(list(range(n))))
        remap[p.stem] = shuffle_file(q, order)
        new_paths.append(q)
    out2 = base / "out"
    _run(new_paths, out2)
    before, after = _persons(out), _persons(out2)
    assert len(after) == len(before)
    for (org, row), pid in before.items():
        assert after[(org, remap[org][row])] == pid
    for name in ("members.parquet", "excluded.csv", "summary.json"):
        a, b = (out / name).read_bytes(), (out2 / name).read_bytes()
        if name == "summary.json":  # input digests differ (the files differ); the rest must not
            sa, sb = json.loads(a), json.loads(b)
            sa.pop("inputs"), sb.pop("inputs")
            sa["outputs"].pop("clusters.csv"), sb["outputs"].pop("clusters.csv")
            for s in (sa, sb):
                for k in (
                    "rejected.csv",
                    "warnings.csv",
                    "review_queue.csv",
                    "duplicate_report.html",
                    "decisions_applied.csv",
                ):
                    s["outputs"].pop(k, None)
            assert sa == sb
        else:
            assert a == b, name
