"""Print-ready postal packs: per postal member a letter for a DL window envelope and a ballot paper.

Layout (A4, folded in three into a DL window envelope): the address sits in the window area
20 mm from the left and 50 mm from the top, 90 × 35 mm (the usual UK DL window, ISO 269 DL),
with the scrutineer's return address above it. The second page is the ballot paper: the
candidates in ballot-definition order, each with a box for 1, 2, 3 …; the ballot code as text and
as a QR code; how and by when to return it.

**QR code: the token in a URL fragment.** The QR encodes ``VOTE_PAGE#CANONICAL_TOKEN`` (the
notice's ``vote_page``). A fragment is never sent to the server, so it is in no access log, no
proxy log and no Referer header; the voting page reads it in the browser. The code is also
printed beside the QR for members who type it. No token is ever put in a query string.

Library: fpdf2 (see bench/bench_delivery.py --compare-pdf for the figures against reportlab), with
DejaVu Sans embedded (subset) so every name prints as given; a name or address with a character
the font lacks is reported (``unprintable``), never drawn as an empty box in silence. QR codes are
made by segno with a fixed mask pattern (any of the eight masks is valid; choosing one skips
segno's eight-way mask evaluation, which cost 80 % of the time) and drawn as merged runs of
modules (vector rectangles, crisp at any printer resolution).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from issue.candidates import BallotDefinition
from issue.notice import Notice
from omov.errors import UsageError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MONO = "DejaVuSansMono-Bold.ttf"
#: The DL window (mm from the page's top-left corner) and the most address lines it holds.
WINDOW_X, WINDOW_Y, WINDOW_W, WINDOW_H = 20.0, 50.0, 90.0, 35.0
WINDOW_LINES = 7
QR_MASK = 2
QR_SIZE = 32.0  # mm
_DARK_RUN = re.compile(rb"\x01+")


@dataclass(frozen=True)
class PostalMember:
    """One row of a dispatch_post.csv."""

    person_id: str
    token: str  #: grouped form XXXX-XXXX-XXXX-XXXX-XXXX-C
    full_name: str
    first_name: str
    address: str
    town: str
    postcode: str

    def address_lines(self) -> list[str]:
        lines = [self.full_name]
        lines += [p.strip() for p in self.address.replace("\n", ",").split(",") if p.strip()]
        lines += [x for x in (self.town.strip(), self.postcode.strip()) if x]
        return lines


def qr_runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR symbol's side in modules and its dark modules as (x, y, run length) per row.

    segno's matrix holds one byte per module (1 dark, 0 light, no quiet zone); runs of dark
    modules are found with a bytes regex (C speed).
    """
    qr = segno.make(data, error="m", micro=False, mask=QR_MASK)
    runs = [
        (m.start(), y, m.end() - m.start())
        for y, row in enumerate(qr.matrix)
        for m in _DARK_RUN.finditer(bytes(row))
    ]
    return len(qr.matrix), runs


def fonts_available() -> None:
    missing = [n for n in (*FONTS.values(), MONO) if not (FONT_DIR / n).is_file()]
    if missing:
        raise UsageError(
            f"fonts not found: {', '.join(missing)} in {FONT_DIR}",
            fix="apt-get install fonts-dejavu-core",
        )


class PackWriter:
    """Draws packs into one fpdf2 document; ``save`` writes it."""

    def __init__(self, notice: Notice, ballot: BallotDefinition) -> None:
        fonts_available()
        self.notice, self.ballot = notice, ballot
        pdf = FPDF(unit="mm", format="A4")
        pdf.set_compression(True)
        pdf.set_auto_page_break(False)
        pdf.set_creator("omov")
        pdf.set_title(f"Postal packs: {notice.title}")
        for style, name in FONTS.items():
            pdf.add_font("sans", style, str(FONT_DIR / name))
        pdf.add_font("mono", "B", str(FONT_DIR / MONO))
        self.pdf = pdf
        self.cmap: Any = pdf.fonts["sans"].cmap  # type: ignore[union-attr]
        self.pages = 0
        self.packs = 0
        self._wrapped: dict[tuple[str, float, str, float], list[str]] = {}
        for c in ballot.candidates:
            self._check_printable(f"candidate {c.ballot_number}", [c.name, c.organisation])

    def unprintable(self, member: PostalMember) -> bool:
        """True if a character of the member's name or address is not in the font."""
        texts = [member.full_name, member.first_name, *member.address_lines()]
        return any(ord(ch) not in self.cmap for t in texts for ch in t if not ch.isspace())

    def _check_printable(self, what: str, texts: Sequence[str]) -> None:
        if any(ord(ch) not in self.cmap for t in texts for ch in t if not ch.isspace()):
            raise UsageError(f"{what} has a character the print font (DejaVu Sans) lacks")

    def _text(self, x: float, y: float, text: str, size: float, style: str = "") -> None:
        self.pdf.set_font("sans", style, size)
        self.pdf.text(x, y, text)

    def _para(
        self, y: float, text: str, size: float = 10.5, style: str = "", width: float = 170
    ) -> float:
        """A wrapped paragraph from the left margin; returns the y below it.

        The line breaks of a paragraph are computed once (fpdf2's ``multi_cell`` dry run) and
        reused for every pack: the same words are on every letter, and breaking lines was 90 %
        of the drawing time.
        """
        key = (text, size, style, width)
        pdf = self.pdf
        pdf.set_font("sans", style, size)
        if key not in self._wrapped:
            broken = pdf.multi_cell(width, size * 0.5, text, dry_run=True, output="LINES")
            assert isinstance(broken, list)
            self._wrapped[key] = [str(line) for line in broken]
        lines = self._wrapped[key]
        step = size * 0.5
        for line in lines:
            pdf.text(20, y + step * 0.8, line)
            y += step
        return y + 2.0

    def add(self, m: PostalMember) -> None:
        self._letter(m)
        self._ballot_paper(m)
        self.packs += 1

    def _letter(self, m: PostalMember) -> None:
        n, pdf = self.notice, self.pdf
        pdf.add_page()
        self.pages += 1
        y = 20.0
        self._text(20, y, f"From: {n.scrutineer.name}, {', '.join(n.scrutineer.address)}", 7.5)
        lines = m.address_lines()
        y = WINDOW_Y + 5
        for line in lines:
            self._text(WINDOW_X + 2, y, line, 10)
            y += 4.5
        y = max(y, WINDOW_Y + WINDOW_H) + 15
        self._text(20, y + 4, f"Dear {m.first_name or m.full_name},", 10.5)
        y += 7.25
        orgs = n.organisations_text
        y = self._para(
            y,
            f"You are entitled to one vote in the {n.title}, a joint ballot of the members of "
            f"{orgs}. Your ballot paper is enclosed. Voting closes at {n.closes}.",
        )
        y = self._para(y, "How to vote by post", 11.5, "B")
        y = self._para(
            y,
            "Write 1 in the box next to your first choice, 2 next to your second, and so on. "
            "Return the ballot paper in the envelope provided to "
            f"{', '.join(n.return_address)}, to arrive by {n.return_by}.",
        )
        y = self._para(y, "How to vote online instead", 11.5, "B")
        y = self._para(
            y,
            "Scan the QR code on the ballot paper, or go to "
            f"{n.vote_page} and type the ballot code printed on the ballot paper. "
            "The code works once: the first ballot received with it is counted and later ones "
            "are not, whether online or by post. Keep it private.",
        )
        y = self._para(y, "The candidates", 11.5, "B")
        y = self._para(y, f"Read every candidate's statement in the candidates' pack: {n.pack_url}")
        y = self._para(y, "Questions, or a lost or spoilt ballot paper", 11.5, "B")
        phone = f", phone {n.scrutineer.phone}" if n.scrutineer.phone else ""
        self._para(
            y,
            f"Contact the independent scrutineer, {n.scrutineer.name}: "
            f"{n.scrutineer.email}{phone}; {', '.join(n.scrutineer.address)}.",
        )

    def _ballot_paper(self, m: PostalMember) -> None:
        n, b, pdf = self.notice, self.ballot, self.pdf
        pdf.add_page()
        self.pages += 1
        self._text(20, 20, "BALLOT PAPER", 16, "B")
        self._text(20, 28, f"{n.title}: elect {b.seats}", 12, "B")
        y = self._para(
            33,
            "Write 1 in the box next to the candidate you like best, 2 next to your second "
            "choice, 3 next to your third, and so on. Rank as many or as few as you like. "
            "Do not use the same number twice. Do not sign this paper.",
            9.5,
        )
        bottom = 297 - 70.0
        row = min(10.0, (bottom - y) / max(1, len(b.candidates)))
        size = min(11.0, row * 1.6)
        for c in b.candidates:
            box = row * 0.8
            pdf.rect(20, y, box, box)
            label = c.name + (f"  ({c.organisation})" if c.organisation else "")
            self._text(20 + box + 4, y + box * 0.75, label, size)
            y += row
        self._code_block(m)

    def _code_block(self, m: PostalMember) -> None:
        n, pdf = self.notice, self.pdf
        top = 297 - 62.0
        canonical = m.token.replace("-", "")
        side, runs = qr_runs(f"{n.vote_page}#{canonical}")
        cell = QR_SIZE / side
        x0 = 190 - QR_SIZE
        # One fill of all runs as PDF "re" subpaths, written as fpdf2's own rect() writes each
        # (same units and origin): 250 rect() calls a pack were half the drawing time.
        k, height = pdf.k, pdf.h
        ops = " ".join(
            f"{(x0 + x * cell) * k:.2f} {(height - top - y * cell) * k:.2f} "
            f"{w * cell * k:.2f} {-cell * k:.2f} re"
            for x, y, w in runs
        )
        pdf._out(f"0 g {ops} f")
        self._text(20, top + 5, "Your ballot code (also for voting online):", 9.5)
        pdf.set_font("mono", "B", 15)
        pdf.text(20, top + 13, m.token)
        self._para(
            top + 17,
            f"Return this paper in the envelope provided to {', '.join(n.return_address)}, "
            f"to arrive by {n.return_by}. Or scan the QR code, or go to {n.vote_page}.",
            8.5,
            width=x0 - 25,
        )

    def output(self) -> bytes:
        """The finished document (one volume; ``issue.pdf_concat`` joins volumes)."""
        return bytes(self.pdf.output())
