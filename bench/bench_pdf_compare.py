"""fpdf2 vs reportlab on the same postal pack layout (used to choose the PDF library).

    .venv/bin/python bench/bench_delivery.py --compare-pdf 2000

Each library draws N packs in its own child process (so each peak RSS is its own): page 1 an
address block and 16 lines of letter text, page 2 a 15-candidate ballot with boxes, the token and
a QR code (segno, fixed mask, drawn as merged runs), both with DejaVu Sans embedded (a TTF font is
needed for names beyond Latin-1). reportlab is not an omov dependency: install it into the venv
to run this (`pip install reportlab`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINE = "You are entitled to one vote in the NEC election 2027, a joint ballot of the members."


def _runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from issue.postal_pdf import qr_runs

    return qr_runs(data)


def draw_fpdf(n: int, path: str) -> None:
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_compression(True)
    pdf.add_font("sans", "", FONT)
    for i in range(n):
        token = f"ABCD-EFGH-JKMN-PQRS-{i % 10000:04d}-X"
        pdf.add_page()
        pdf.set_font("sans", "", 10)
        for j, line in enumerate([f"Member Name{i}", f"{i} High Street", "Leeds", "LS1 1AA"]):
            pdf.text(22, 55 + 4.5 * j, line)
        for j in range(16):
            pdf.text(20, 100 + 5.5 * j, LINE)
        pdf.add_page()
        for j in range(15):
            pdf.rect(20, 40 + 9 * j, 7, 7)
            pdf.text(31, 45 + 9 * j, f"Candidate Name{j:02d} Surname (Momentum)")
        pdf.text(20, 250, token)
        side, runs = _runs("https://vote.example.org/ballot#" + token.replace("-", ""))
        cell = 32 / side
        for x, y, w in runs:
            pdf.rect(158 + x * cell, 235 + y * cell, w * cell, cell, style="F")
    pdf.output(path)


def draw_reportlab(n: int, path: str) -> None:
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("sans", FONT))
    c = canvas.Canvas(path, pageCompression=1)
    top = 297 * mm
    for i in range(n):
        token = f"ABCD-EFGH-JKMN-PQRS-{i % 10000:04d}-X"
        c.setFont("sans", 10)
        for j, line in enumerate([f"Member Name{i}", f"{i} High Street", "Leeds", "LS1 1AA"]):
            c.drawString(22 * mm, top - (55 + 4.5 * j) * mm, line)
        for j in range(16):
            c.drawString(20 * mm, top - (100 + 5.5 * j) * mm, LINE)
        c.showPage()
        c.setFont("sans", 10)
        for j in range(15):
            c.rect(20 * mm, top - (47 + 9 * j) * mm, 7 * mm, 7 * mm)
            c.drawString(
                31 * mm, top - (45 + 9 * j) * mm, f"Candidate Name{j:02d} Surname (Momentum)"
            )
        c.drawString(20 * mm, top - 250 * mm, token)
        side, runs = _runs("https://vote.example.org/ballot#" + token.replace("-", ""))
        cell = 32 * mm / side
        p = c.beginPath()
        for x, y, w in runs:
            p.rect(158 * mm + x * cell, top - 235 * mm - (y + 1) * cell, w * cell, cell)
        c.drawPath(p, stroke=0, fill=1)
        c.showPage()
    c.save()


def _child(lib: str, n: int) -> None:
    path = f"/tmp/omov-compare-{lib}.pdf"
    t = time.perf_counter()
    (draw_fpdf if lib == "fpdf2" else draw_reportlab)(n, path)
    secs = time.perf_counter() - t
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = os.path.getsize(path) / 2**20
    os.unlink(path)
    print(f"{lib}: {n} packs = {2 * n} pages in {secs:.1f} s = {2 * n / secs:.0f} pages/s; "
          f"peak RSS {rss:.0f} MB; PDF {size:.1f} MB [load {os.getloadavg()[0]:.2f}]")  # fmt: skip


def compare(n: int) -> None:
    for lib in ("fpdf2", "reportlab"):
        subprocess.run([sys.executable, __file__, lib, str(n)], check=False)


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
