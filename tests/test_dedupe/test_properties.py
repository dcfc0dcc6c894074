"""Hypothesis properties: every row accounted for, idempotence of decisions, determinism."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.io import read_export
from dedupe.pipeline import Options, run
from dedupe.schema import DECISION_COLUMNS

FIRST = ["Ann", "Bob", "Cath", "Dev", "Eve", "", "Siân", "Zoë"]
LAST = ["Lee", "Roe", "Ng", "O'Neil", "Smith", ""]
NUMS = ["L1234567", "1234568", "", "LP-7654321", "0012345", "x"]
DOBS = ["1980-01-02", "", "1975-13-40", "2001-12-31"]


def _row(draw) -> str:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["ok", "ok", "ok", "ragged", "nameless"]))
    f, last = draw(st.sampled_from(FIRST)), draw(st.sampled_from(LAST))
    num, dob = draw(st.sampled_from(NUMS)), draw(st.sampled_from(DOBS))
    if kind == "nameless":
        f, last = "", ""
    row = f"{f},{last},{num},{dob},{f.lower()}@x.org"
    return row + ",extra" if kind == "ragged" else row


@st.composite
def export_text(draw) -> str:  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_value=1, max_value=25))
    rows = [_row(draw) for _ in range(n)]
    return "First Name,Last Name,LP number,DOB,Email\n" + "\n".join(rows) + "\n"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=export_text(), b=export_text())
def test_every_row_accounted_for_exactly_once(tmp_path: Path, a: str, b: str) -> None:
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    pa.write_text(a)
    pb.write_text(b)
    exports = [read_export(p, p.stem, []) for p in (pa, pb)]
    res = run(exports, Options(today=date(2026, 11, 25)))
    clustered = set(
        zip(res.clusters["source_org"], res.clusters["row_id"].astype(int), strict=True)
    )
    rejected = {(str(r["source_org"]), int(r["row_id"])) for r in res.prep.rejected}  # type: ignore[call-overload]
    expected = {("a", k) for k in range(1, a.count("\n"))} | {
        ("b", k) for k in range(1, b.count("\n"))
    }
    assert clustered.isdisjoint(rejected)
    assert clustered | rejected == expected
    assert len(res.clusters) == len(clustered)
    # one person per cluster, one members row per person
    assert set(res.members["person_id"]) == set(res.clusters["person_id"])
    assert res.members["person_id"].is_unique


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(a=export_text(), b=export_text())
def test_accepting_proposals_is_idempotent(tmp_path: Path, a: str, b: str) -> None:
    """Deciding every queue item as omov proposed changes nothing; doing it twice neither."""
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    pa.write_text(a)
    pb.write_text(b)
    exports = [read_export(p, p.stem, []) for p in (pa, pb)]
    opts = Options(today=date(2026, 11, 25))
    first = run(exports, opts)
    q = first.queue.copy()
    q["decision"] = q["proposed_decision"]
    lines = list(range(2, len(q) + 2))
    dec = q.astype(str).reindex(columns=list(DECISION_COLUMNS)).fillna("")
    second = run(exports, opts, (dec, lines, "d.csv"))
    third = run(exports, opts, (dec, lines, "d.csv"))
    pd.testing.assert_frame_equal(first.clusters, second.clusters)
    pd.testing.assert_frame_equal(second.clusters, third.clusters)
    assert second.queue.empty
