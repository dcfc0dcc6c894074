"""``omov issue print``: one PDF of postal packs per dispatch batch, re-run safe.

Batches printed (each a ``dispatch_post.csv``): ``OUT/dispatch/batch-NNNN/`` (written by
``omov issue run`` / ``reissue``) and ``OUT/postal/bounced-NNNN/`` (members moved to post by
``omov issue bounces``, same token). Each becomes ``OUT/print/<name>.pdf`` (0600: it holds
tokens), drawn ``VOLUME`` packs at a time and joined as it goes (``issue.pdf_concat``), so
memory does not grow with the batch. ``OUT/print/manifest.json`` records, per PDF, the SHA-256
of its source file, notice and ballot definition and of the PDF; a re-run skips a batch whose
inputs are unchanged and re-prints one whose inputs changed. A member with no postal address,
or with a character the print font lacks, is not printed: they are listed in
``OUT/print/<name>.problems.csv`` and the run exits 3. Every printed batch is recorded in the
audit log (counts and digests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from issue import audit
from issue.candidates import BallotDefinition
from issue.notice import Notice
from issue.pdf_concat import PdfJoiner
from issue.postal_pdf import PackWriter, PostalMember
from omov.fileio import atomic_open, sha256_file, write_json_atomic
from omov.textio import read_csv_columns, write_csv

POST_COLUMNS = ("person_id", "token", "full_name", "first_name", "address", "town", "postcode")
MANIFEST_FORMAT = "omov.print-manifest/1"
VOLUME = 1000  #: packs drawn in memory at a time (about 45 MB), then appended to the PDF


@dataclass
class BatchPrint:
    name: str
    letters: int = 0
    pages: int = 0
    skipped_unchanged: bool = False
    problems: dict[str, int] = field(default_factory=dict)
    pdf: str = ""


@dataclass
class PrintReport:
    batches: list[BatchPrint] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(sum(b.problems.values()) for b in self.batches)


def postal_batches(out: Path) -> list[tuple[str, Path]]:
    """(name, dispatch_post.csv) of every batch with postal rows, in name order."""
    found = [
        (d.name, d / "dispatch_post.csv")
        for parent in (out / "dispatch", out / "postal")
        if parent.is_dir()
        for d in sorted(parent.iterdir())
        if d.is_dir() and not d.name.startswith(".") and (d / "dispatch_post.csv").is_file()
    ]
    return sorted(found)


def read_postal(path: Path) -> Iterator[PostalMember]:
    """The members of a dispatch_post.csv, cells as written before neutralising."""
    for values in read_csv_columns(path, POST_COLUMNS):
        yield PostalMember(*values)


def _has_address(m: PostalMember) -> bool:
    return bool(m.address.strip()) and bool(m.town or m.postcode)


def print_batch(
    name: str,
    source: Path,
    target: Path,
    notice: Notice,
    ballot: BallotDefinition,
    *,
    volume: int = VOLUME,
) -> BatchPrint:
    """Draw one batch's packs into ``target``, ``volume`` packs at a time (memory stays flat);
    members who cannot be posted go to ``<name>.problems.csv``."""
    result = BatchPrint(name)
    problems: list[dict[str, str]] = []
    writer: PackWriter | None = None
    with atomic_open(target, "wb") as fh:
        joiner = PdfJoiner(fh)
        for m in read_postal(source):
            writer = writer or PackWriter(notice, ballot)
            problem = (
                "no_postal_address"
                if not _has_address(m)
                else "character_not_in_print_font"
                if writer.unprintable(m)
                else ""
            )
            if problem:
                problems.append({"person_id": m.person_id, "problem": problem})
                result.problems[problem] = result.problems.get(problem, 0) + 1
                continue
            writer.add(m)
            if writer.packs >= volume:
                _flush(writer, joiner, result)
                writer = None
        if writer is not None and writer.packs:
            _flush(writer, joiner, result)
        joiner.close()
    problem_file = target.with_name(f"{name}.problems.csv")
    if problems:
        write_csv(problem_file, ("person_id", "problem"), problems)
    else:
        problem_file.unlink(missing_ok=True)
    result.pdf = sha256_file(target)
    return result


def _flush(writer: PackWriter, joiner: PdfJoiner, result: BatchPrint) -> None:
    joiner.add(writer.output())
    result.letters += writer.packs
    result.pages += writer.pages


def print_all(
    out: Path,
    notice: Notice,
    ballot: BallotDefinition,
    ballot_sha256: str,
    *,
    volume: int = VOLUME,
) -> PrintReport:
    """Print every postal batch whose PDF is missing or whose inputs changed."""
    from omov.textio import read_json

    folder = out / "print"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    manifest_path = folder / "manifest.json"
    manifest = read_json(manifest_path, "print manifest") if manifest_path.is_file() else {}
    entries: dict[str, dict[str, object]] = dict(manifest.get("batches", {}))
    report = PrintReport()
    for name, source in postal_batches(out):
        target = folder / f"{name}.pdf"
        inputs = {
            "source_sha256": sha256_file(source),
            "notice_sha256": notice.sha256,
            "ballot_sha256": ballot_sha256,
        }
        old = entries.get(name, {})
        if (
            target.is_file()
            and all(old.get(k) == v for k, v in inputs.items())
            and (old.get("pdf_sha256") == sha256_file(target))
        ):
            problems = old.get("problems")
            report.batches.append(
                BatchPrint(
                    name,
                    int(str(old["letters"])),
                    int(str(old["pages"])),
                    True,
                    dict(problems) if isinstance(problems, dict) else {},
                )
            )
            continue
        done = print_batch(name, source, target, notice, ballot, volume=volume)
        entries[name] = {
            **inputs,
            "pdf_sha256": done.pdf,
            "letters": done.letters,
            "pages": done.pages,
            "problems": done.problems,
        }
        write_json_atomic(manifest_path, {"format_version": MANIFEST_FORMAT, "batches": entries})
        audit.append(
            out / "audit.log",
            "delivery.postal_printed",
            batch=name,
            letters=done.letters,
            pages=done.pages,
            problems=done.problems,
            **inputs,
            pdf_sha256=done.pdf,
        )
        report.batches.append(done)
    return report
