"""``omov issue turnout``: ballots cast so far, by organisation and by channel, safe to share.

What is counted (all on the scrutineer's machine; only aggregates leave it):

* **By organisation**: for each organisation in ``members.parquet`` (``organisations`` is
  ``;``-separated), the persons holding an active token (issued) and how many of those tokens are
  used (cast). A person in two organisations counts in both, so the rows do not add up to the total.
  The per-person join (ledger × register) is ``issue.standing``: in memory, never written.
* **By delivery channel**: how the member was sent their ballot — email, post, or email then post
  after a bounce (``OUT/postal/bounced-*``).
* **By return channel**: what the register records is only *that* a token was used (and by which
  intake run, a random id), **not the channel**. So the return channel comes from the intake
  reports given with ``--intake-report`` (``omov.intake-report/1``: per channel, the papers that
  used a token = valid + blank + invalid); ballots used in the register but in no report given
  (e.g. the web ballot, until it writes such a report) are shown as "not in a given intake report".
  No change to the register was needed for this.

**Small numbers suppressed**: no cell shows a number below ``MIN_CELL`` (10). A count below 10 is
shown as "<10"; a cast count (and its turnout) is also withheld ("—") when fewer than 10 of the
group have not cast: "30 of 30 voted" would tell that each named member voted. Where rows add up
to a shown total (the channel tables), a second, next-smallest cell is withheld when only one is
hidden, so no hidden cell can be recovered by subtraction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq

from issue.register import USED
from issue.standing import token_states
from omov.errors import InputError
from omov.textio import render_html, write_csv

MIN_CELL = 10
FORMAT_VERSION = "omov.turnout/1"
CSV_COLUMNS = ("format_version", "table", "group", "issued", "cast", "turnout_percent")
SMALL = "<10"  #: the true figure is below MIN_CELL
WITHHELD = "—"  #: the figure is 10 or more but withheld so that a small one cannot be derived


def _hidden(value: int) -> str:
    return SMALL if value < MIN_CELL else WITHHELD


@dataclass
class Cell:
    group: str
    issued: int
    cast: int
    hide_issued: bool = False
    hide_cast: bool = False
    cast_only: bool = False  #: a return channel: no "issued" of its own

    @property
    def few_not_cast(self) -> bool:
        """Fewer than MIN_CELL of this group have not cast: showing the cast count would tell
        that nearly everyone (a named group of people) voted."""
        return not self.cast_only and self.issued - self.cast < MIN_CELL

    @property
    def hide_turnout(self) -> bool:
        return (
            self.cast_only
            or self.hide_cast
            or self.hide_issued
            or self.issued - self.cast < MIN_CELL
        )

    def shown(self) -> dict[str, str]:
        pct = Fraction(100 * self.cast, self.issued) if self.issued else Fraction(0)
        tenths = int(pct * 10 + Fraction(1, 2))  # exact, half up
        return {
            "group": self.group,
            "issued": ""
            if self.cast_only
            else _hidden(self.issued)
            if self.hide_issued
            else str(self.issued),
            "cast": _hidden(self.cast) if self.hide_cast else str(self.cast),
            "turnout_percent": "—" if self.hide_turnout else f"{tenths // 10}.{tenths % 10}",
            "bar": "" if self.hide_turnout else f"{float(pct):.1f}",
        }


@dataclass
class Table:
    name: str
    caption: str
    cells: list[Cell]
    adds_up: bool  #: rows add up to a shown total: secondary suppression applies
    has_issued: bool = True  #: False for return channels (cast only)

    def suppress(self) -> None:
        for c in self.cells:
            c.hide_issued = self.has_issued and c.issued < MIN_CELL
            c.hide_cast = c.cast < MIN_CELL or c.hide_issued or c.few_not_cast
        if self.adds_up:
            for attr in ("hide_issued", "hide_cast"):
                hidden = [c for c in self.cells if getattr(c, attr)]
                shown = [c for c in self.cells if not getattr(c, attr)]
                if len(hidden) == 1 and shown:
                    key = (lambda c: c.issued) if attr == "hide_issued" else (lambda c: c.cast)
                    setattr(min(shown, key=key), attr, True)
                    if attr == "hide_issued":
                        for c in self.cells:
                            c.hide_cast = c.hide_cast or c.hide_issued


@dataclass
class Turnout:
    as_of: str
    total: Cell
    tables: list[Table] = field(default_factory=list)


def _members(members: Path) -> dict[str, list[str]]:
    if not members.is_file():
        raise InputError("members file not found", path=str(members))
    t = pq.read_table(members, columns=["person_id", "organisations", "eligible"])
    out: dict[str, list[str]] = {}
    for pid, orgs, eligible in zip(*(t.column(c).to_pylist() for c in t.column_names), strict=True):
        if eligible:
            out[pid] = sorted({o.strip() for o in (orgs or "").split(";") if o.strip()})
    return out


def _ids(path: Path) -> set[str]:
    import csv

    if not path.is_file():
        return set()
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["person_id"] for row in csv.DictReader(fh)}


def return_channels(reports: Iterable[Path], used_total: int) -> list[Cell]:
    """Papers that used a token, per intake channel, from intake reports (aggregates)."""
    by_channel: Counter[str] = Counter()
    for path in reports:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            channels = doc["channels"]
            for name, tally in channels.items():
                by_class = tally["by_class"]
                by_channel[name] += sum(
                    int(by_class.get(k, 0))
                    for k in (
                        "valid",
                        "blank",
                        "invalid_no_first_preference",
                        "invalid_first_preference_uncertain",
                        "invalid_marks_beyond_ballot",
                    )
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"not an omov intake report ({exc})", path=str(path)) from None
    cells = [Cell(name, 0, n, cast_only=True) for name, n in sorted(by_channel.items())]
    rest = used_total - sum(by_channel.values())
    if rest < 0:
        raise InputError(
            f"the intake reports count {sum(by_channel.values())} papers that used a token, "
            f"more than the register's {used_total} used tokens",
            fix="give each intake run's report once, and only this election's",
        )
    cells.append(Cell("not in a given intake report", 0, rest, cast_only=True))
    return cells


def _channel(p: str, email: set[str], post: set[str], moved: set[str]) -> str:
    if p in moved:
        return "email, then post (bounced)"
    if p in email:
        return "email"
    return "post" if p in post else "not in a dispatch file"


def compute(out: Path, members: Path, reports: list[Path], keys: Path | None = None) -> Turnout:
    orgs_of = _members(members)
    states = token_states(out, sorted(orgs_of), keys)
    holders = {p for p, s in states.items() if s in ("unused", USED)}
    cast = {p for p in holders if states[p] == USED}
    by_org_issued: Counter[str] = Counter()
    by_org_cast: Counter[str] = Counter()
    for p in holders:
        for o in orgs_of[p] or ["(no organisation)"]:
            by_org_issued[o] += 1
            by_org_cast[o] += p in cast
    email, post = _ids(out / "dispatch_email.csv"), _ids(out / "dispatch_post.csv")
    moved: set[str] = set()
    for f in (out / "postal").glob("bounced-*/dispatch_post.csv"):
        moved |= _ids(f)
    channel_of = {p: _channel(p, email, post, moved) for p in holders}
    ch_issued = Counter(channel_of.values())
    ch_cast = Counter(channel_of[p] for p in cast)
    total = Cell("all members", len(holders), len(cast))
    tables = [
        Table("organisation", "By organisation (a member of two counts in both)",
              [Cell(o, by_org_issued[o], by_org_cast[o]) for o in sorted(by_org_issued)], False),
        Table("delivery_channel", "By how the ballot was sent",
              [Cell(c, ch_issued[c], ch_cast[c]) for c in sorted(ch_issued)], True),
    ]  # fmt: skip
    if reports:
        tables.append(
            Table(
                "return_channel",
                "By how the ballot came back (cast only)",
                return_channels(reports, len(cast)),
                True,
                has_issued=False,
            )
        )
    total.hide_issued = total.issued < MIN_CELL
    total.hide_cast = total.cast < MIN_CELL or total.hide_issued or total.few_not_cast
    for t in tables:
        t.suppress()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Turnout(stamp, total, tables)


def write_outputs(folder: Path, t: Turnout, title: str) -> dict[str, str]:
    rows = [{"format_version": FORMAT_VERSION, "table": "total", **t.total.shown()}]
    rows += [{"format_version": FORMAT_VERSION, "table": tb.name, **c.shown()}
             for tb in t.tables for c in tb.cells]  # fmt: skip
    csv_digest = write_csv(folder / "turnout.csv", CSV_COLUMNS, rows)
    html = render_html(
        "issue",
        "turnout.html.j2",
        format_version=FORMAT_VERSION,
        title=title,
        as_of=t.as_of,
        total=t.total.shown(),
        tables=[
            (tb.caption, tb.name, [c.shown() for c in tb.cells], tb.has_issued) for tb in t.tables
        ],
        min_cell=MIN_CELL,
    )
    from omov.fileio import write_text_atomic

    return {
        "turnout.csv": csv_digest,
        "turnout.html": write_text_atomic(folder / "turnout.html", html),
    }
