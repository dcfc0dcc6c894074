"""Dispatch files: the mail-merge CSVs (one per channel) and an HTML preview of one letter.

These are the **only** files that ever hold plaintext tokens. Layout under ``OUT/``::

    dispatch/batch-NNNN/dispatch_email.csv   # this batch's rows sent by email
    dispatch/batch-NNNN/dispatch_post.csv    # this batch's rows sent by post (no email held)
    dispatch/batch-NNNN/letter_preview.html  # one letter, self-contained, with a SPECIMEN token
    dispatch_email.csv, dispatch_post.csv    # the live mailing list: every person's current token
    letter_preview.html                      # the latest batch's preview

Per-batch files never change once written (their SHA-256 is in the audit log); send the batch
files for increments (late joiners, re-issues). The top-level files are maintained from them:
each batch's rows are appended after dropping any earlier row of a person whose token that batch
revoked or replaced, so the top-level files always list exactly the active tokens.

Columns (``format_version`` = ``omov.dispatch/1`` on every row):

* email: format_version, batch, person_id, token, full_name, first_name, email, vote_link
* post:  format_version, batch, person_id, token, full_name, first_name, address, town, postcode,
  vote_link

``token`` is the grouped form ``XXXX-XXXX-XXXX-XXXX-XXXX-C``; ``vote_link`` is ``--vote-url``
with ``{token}`` replaced by the canonical 21 symbols (no hyphens), so online voters never type.
The placeholder must sit in the URL's *fragment* (after ``#``, e.g.
``https://vote.example.org/#{token}``): browsers never send a fragment to the server, put it in
no Referer header and no proxy or server log, and the web ballot's entry page (``omov vote
serve``) reads it with a small script and posts it. A token in a path or query string would be
logged along the way, so such a ``--vote-url`` is refused.
Channel: email when a non-empty email is held, otherwise post.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from issue.crashpoints import kill_point
from issue.notice import Notice
from omov.csvsafe import neutralise_array, restore_array
from omov.errors import UsageError
from omov.fileio import atomic_open, make_private_dirs, sha256_file, write_text_atomic

FORMAT_VERSION = "omov.dispatch/1"
DEFAULT_VOTE_URL = "https://vote.example.invalid/#{token}"
CHANNELS = ("email", "post")
EMAIL_COLUMNS = (
    "format_version",
    "batch",
    "person_id",
    "token",
    "full_name",
    "first_name",
    "email",
    "vote_link",
)
POST_COLUMNS = (
    "format_version",
    "batch",
    "person_id",
    "token",
    "full_name",
    "first_name",
    "address",
    "town",
    "postcode",
    "vote_link",
)
COLUMNS = {"email": EMAIL_COLUMNS, "post": POST_COLUMNS}
#: The preview's token: reads SPECMEN and fails the check symbol (the valid one would end in Z),
#: so it can never be issued, and a voting page refuses it if someone types it.
SPECIMEN_TOKEN = "SPEC-MEN0-0000-0000-0000-X"  # noqa: S105 (a printed specimen, never issued)
#: The preview's addressee: nobody. The preview is a file anyone may see (docs/formats-issue.md),
#: so it never shows a real member, not even the only person of a one-person re-issue batch.
SPECIMEN_MEMBER = {
    "full_name": "A. N. Specimen",
    "first_name": "Specimen",
    "address": "1 Specimen Street",
    "town": "Nowhere (SPECIMEN, not a real member)",
    "postcode": "XX0 0XX",
}


@dataclass(frozen=True)
class BatchFiles:
    """What was written for one batch (paths and SHA-256 digests; row counts by channel)."""

    directory: Path
    rows: dict[str, int]
    digests: dict[str, str]


def check_vote_url(url: str) -> str:
    """The link template: one ``{token}``, in the fragment (never a path or a query string)."""
    fix = "e.g. --vote-url 'https://vote.example.org/#{token}' (the address of `omov vote serve`)"
    if "{token}" not in url:
        raise UsageError(f"--vote-url {url!r} has no {{token}} placeholder", fix=fix)
    head, hash_sign, fragment = url.partition("#")
    if not hash_sign or "{token}" in head or fragment.count("{token}") != 1:
        raise UsageError(
            f"--vote-url {url!r} would put the token where servers and proxies log it; "
            "it must appear once, after '#'",
            fix=fix,
        )
    return url


def channels_of(email: pa.Array) -> pa.Array:
    """'email' where a non-empty email is held, else 'post'."""
    has = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(email)), 0), False)
    return pc.if_else(has, "email", "post")


def _grouped(canonical: pa.Array) -> pa.Array:
    """``format_token`` in Arrow compute (C, no per-row Python): XXXX-XXXX-XXXX-XXXX-XXXX-C."""
    parts = [pc.utf8_slice_codeunits(canonical, i, i + 4) for i in range(0, 20, 4)]
    parts.append(pc.utf8_slice_codeunits(canonical, 20, 21))
    return pc.binary_join_element_wise(*parts, "-")


def _link_array(url: str, canonical: pa.Array) -> pa.Array:
    """The voting links, ``url`` with ``{token}`` replaced, in Arrow compute."""
    head, _, tail = url.partition("{token}")
    return pc.binary_join_element_wise(head, canonical, tail, "")


def _links(url: str, tokens: list[str]) -> list[str]:
    head, _, tail = url.partition("{token}")
    return [f"{head}{t}{tail}" for t in tokens]


def _write_csv(path: Path, table: pa.Table) -> str:
    """Write rows of ``_channel_table`` (or restored by ``_read_dispatch_csv``), neutralised."""
    table = pa.table([neutralise_array(col) for col in table.columns], names=table.column_names)
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    with atomic_open(path, "wb") as fh:
        pacsv.write_csv(table, fh, write_options=opts)
    return sha256_file(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def preview_html(url: str, election: str, notice: Notice | None = None) -> str:
    """letter_preview.html: a postal letter to ``SPECIMEN_MEMBER`` with ``SPECIMEN_TOKEN``, in
    the words of the election's notice (``OUT/notice.json``) when there is one.

    It depends on nothing but these: no batch's rows, not even which channel they use.
    """
    from omov.textio import render_html

    m = SPECIMEN_MEMBER
    return render_html(
        "issue",
        "letter_preview.html.j2",
        format_version=FORMAT_VERSION,
        election=election,
        notice=notice,
        channel="post",
        name=m["full_name"],
        first_name=m["first_name"],
        address_lines=[m["address"], m["town"], m["postcode"]],
        token=SPECIMEN_TOKEN,
        link=_links(url, [SPECIMEN_TOKEN.replace("-", "")])[0],
    )


def _channel_table(
    people: pa.Table, tokens: list[str], batch: int, url: str, channel: str
) -> pa.Table:
    """The dispatch rows of one channel (``people`` and ``tokens`` already restricted to it)."""
    n = people.num_rows
    cols: dict[str, pa.Array] = {
        "format_version": pa.array([FORMAT_VERSION] * n, pa.string()),
        "batch": pa.array([str(batch)] * n, pa.string()),
        "token": _grouped(canonical := pa.array(tokens, pa.string())),
        "vote_link": _link_array(url, canonical),
    }
    return pa.table(
        [
            neutralise_array(cols[c] if c in cols else people.column(c).cast(pa.string()))
            for c in COLUMNS[channel]
        ],
        names=list(COLUMNS[channel]),
    )


def write_batch(
    directory: Path,
    batch: int,
    people: pa.Table,
    tokens: list[str],
    channels: pa.Array,
    url: str,
    *,
    election: str,
    notice: Notice | None = None,
    block: int = 1 << 17,
) -> BatchFiles:
    """Write one batch's CSVs and preview into ``directory`` (fsynced; the caller renames it).

    ``people`` has the roll's columns for the persons of this batch, row-aligned with ``tokens``
    (canonical) and ``channels``. Rows are written in blocks so memory stays flat at 1M rows.
    """
    make_private_dirs(directory)
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    rows: dict[str, int] = {}
    digests: dict[str, str] = {}
    for channel in CHANNELS:
        idx = pc.indices_nonzero(pc.equal(channels, channel)).to_pylist()
        name = f"dispatch_{channel}.csv"
        schema = pa.schema([(c, pa.string()) for c in COLUMNS[channel]])
        with atomic_open(directory / name, "wb") as fh:
            writer = pacsv.CSVWriter(fh, schema, write_options=opts)
            for start in range(0, len(idx), block):
                part = idx[start : start + block]
                table = _channel_table(
                    people.take(pa.array(part, pa.int64())),
                    [tokens[i] for i in part],
                    batch,
                    url,
                    channel,
                )
                writer.write_table(table)
            writer.close()
        digests[name] = sha256_file(directory / name)
        rows[channel] = len(idx)
    digests["letter_preview.html"] = write_text_atomic(
        directory / "letter_preview.html", preview_html(url, election, notice)
    )
    _fsync_dir(directory)
    _fsync_dir(directory.parent)
    return BatchFiles(directory, rows, digests)


def _read_dispatch_csv(path: Path, channel: str) -> pa.Table:
    """A dispatch file as omov wrote it, each cell restored to its raw value (``csvsafe``)."""
    types = {c: pa.string() for c in COLUMNS[channel]}
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    return pa.table([restore_array(col) for col in table.columns], names=table.column_names)


def _link_or_copy(src: Path, dst: Path) -> None:
    """Make ``dst`` hold ``src``'s bytes atomically: a hard link if possible, else a copy."""
    tmp = dst.with_name(f".{dst.name}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        with atomic_open(dst, "wb") as fh, open(src, "rb") as fsrc:
            shutil.copyfileobj(fsrc, fh, 1 << 20)
        return
    os.replace(tmp, dst)
    _fsync_dir(dst.parent)


def update_live_files(
    out: Path,
    batch_dir: Path | None,
    batch: int,
    drop_pids: Callable[[], set[bytes]],
    pseudonyms: Callable[[list[str]], list[bytes]],
    batch_digests: dict[str, str] | None = None,
) -> dict[str, str]:
    """Bring ``OUT/dispatch_*.csv`` up to date with ``batch`` (idempotent; atomic per file).

    Drops rows of this batch (so a re-run after a crash never duplicates them) and rows of
    persons in ``drop_pids()`` (their token was revoked or replaced; asked for only when a live
    file already exists), then appends the batch's rows. Returns the new files' SHA-256 digests.
    The first batch's files become the live files by a hard link (no copy: the batch file is
    never written again, and a later update replaces the live file by rename, a new inode).
    """
    digests: dict[str, str] = {}
    drop: set[bytes] | None = None
    for channel in CHANNELS:
        name = f"dispatch_{channel}.csv"
        live, new = out / name, (batch_dir / name if batch_dir else None)
        if not live.exists():
            if new is not None:
                _link_or_copy(new, live)
                known = (batch_digests or {}).get(name)
                digests[name] = known if known else sha256_file(live)
            else:
                empty = pa.table({c: pa.array([], pa.string()) for c in COLUMNS[channel]})
                digests[name] = _write_csv(live, empty)
            kill_point(f"live_{channel}_written")
            continue
        table = _read_dispatch_csv(live, channel)
        keep = pc.not_equal(table.column("batch"), str(batch))
        if drop is None:
            drop = drop_pids()
        if drop and table.num_rows:
            pids = pseudonyms(table.column("person_id").to_pylist())
            keep = pc.and_(keep, pa.array([p not in drop for p in pids], pa.bool_()))
        table = table.filter(keep)
        if new is not None:
            table = pa.concat_tables([table, _read_dispatch_csv(new, channel)])
        digests[name] = _write_csv(live, table)
        kill_point(f"live_{channel}_written")
    preview = batch_dir / "letter_preview.html" if batch_dir is not None else None
    if preview is not None and preview.exists():
        with atomic_open(out / "letter_preview.html", "wb") as fh, open(preview, "rb") as src:
            shutil.copyfileobj(src, fh)
    return digests
