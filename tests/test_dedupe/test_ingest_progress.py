"""Progress a person can trust (issue 15, item 4): rows read and cleaned of a rows total.

Old behaviour: one "file" counter (0/5 while a file of a million rows was read), no rows, no
rate, no ETA. Here the loader must report every data row as read and as cleaned, of a total
announced up front and corrected once each file is read, in both the serial and worker paths.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dedupe import loading
from dedupe.progress import RowProgress, RowStage


class Recorder:
    def __init__(self) -> None:
        self.expected = 0
        self.done = {RowStage.READ: 0, RowStage.CLEAN: 0}
        self.phases: list[str] = []

    def phase(self, name: str, total: int | None = None) -> None:
        self.phases.append(name)

    def advance(self, steps: int = 1) -> None:
        return None

    def rows_expected(self, total: int) -> None:
        self.expected = total

    def rows_total_changed(self, delta: int) -> None:
        self.expected += delta

    def rows_done(self, stage: RowStage, n: int) -> None:
        self.done[stage] += n


@pytest.mark.parametrize("parallel", [False, True])
def test_rows_read_and_cleaned_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    if parallel:
        monkeypatch.setattr(loading, "PARALLEL_MIN_BYTES", 0)
    sizes = {"a": 60_000, "b": 1_234}
    pairs = []
    for org, n in sizes.items():
        p = tmp_path / f"{org}.csv"
        body = "".join(f"Ann{k},Lee{k % 97},{1000000 + k}\n" for k in range(n))
        # an address with a line break: the line count over-estimates, the total is corrected
        p.write_text('First Name,Last Name,LP number,Address\nBo,Roe,1,"1 High St\nLeeds"\n' + body)
        pairs.append((org, p))
    rec = Recorder()
    assert isinstance(rec, RowProgress)
    exports, _ = loading.load_exports(pairs, [], date(2026, 11, 25), 2, rec)
    rows = sum(e.n_records for e in exports)
    assert rows == sum(sizes.values()) + 2
    assert rec.done[RowStage.READ] == rows and rec.done[RowStage.CLEAN] == rows
    assert rec.expected == rows  # the estimate was corrected to what was read
