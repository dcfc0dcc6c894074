"""``omov dedupe inspect``: what omov would make of each export, without matching anything.

Why: a data officer should see, before the real run, which header was taken as which field,
which rows would be rejected and what would be warned about, file by file, and fix the exports
or the mapping first. Every file is surveyed even when an earlier one cannot be read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dedupe.csvfile import Mapping
from dedupe.headers import Column, Level, Notice
from dedupe.loading import read_and_prepare, unused_mapping_lines
from omov.errors import InputError


@dataclass
class FileSurvey:
    """One export as omov reads it (``error`` set when it cannot be read at all)."""

    org: str
    path: Path
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    columns: list[Column] = field(default_factory=list)
    rejected: list[dict[str, object]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    cell_warnings: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def must_act(self) -> bool:
        """A person must act before the real run (it would exit 2 or 3)."""
        return bool(self.error or self.rejected or any(n.level is Level.WARN for n in self.notices))


@dataclass
class Survey:
    """Every file's survey, plus warnings about the mapping file as a whole."""

    files: list[FileSurvey]
    mapping: list[Notice]

    @property
    def any_error(self) -> bool:
        return any(f.error for f in self.files)

    @property
    def must_act(self) -> bool:
        return bool(self.mapping) or any(f.must_act for f in self.files)


def survey_exports(pairs: list[tuple[str, Path]], mapping: Mapping, today: date) -> Survey:
    """Read and clean each export as the run would; collect, never stop at, each file's error."""
    files: list[FileSurvey] = []
    exports = []
    for org, path in pairs:
        try:
            exp, part = read_and_prepare(org, path, mapping, today)
        except InputError as err:
            files.append(FileSurvey(org, path, error=err.render()))
            continue
        exports.append(exp)
        files.append(
            FileSurvey(
                org,
                path,
                exp.encoding,
                exp.delimiter,
                exp.n_records,
                exp.columns,
                part.rejected,
                exp.notices,
                dict(
                    sorted(Counter(str(w["field"]) for w in part.warnings if w["row_id"]).items())
                ),
            )
        )
    return Survey(files, unused_mapping_lines(mapping, exports) if exports else [])
