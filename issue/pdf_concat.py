"""Join PDF volumes written by fpdf2 into one PDF, streaming: memory holds one volume at a time.

Why: fpdf2 keeps a whole document in memory until ``output()`` (about 23 KB a page here), so a
batch of 100,000 postal packs would need gigabytes. ``print_packs`` draws a batch in volumes of a
few hundred packs and this module appends each volume's objects to the one output file as it
comes, then writes one page tree, catalog, cross-reference table and trailer at the end.

What it relies on (fpdf2's own output, checked on every volume; anything else is refused):
one cross-reference section ``0 N`` at ``startxref``; a trailer with ``/Root`` and ``/Info``; a
catalog whose ``/Pages`` is one flat page tree (``/Kids`` of page objects, each with ``/Parent``).
Each volume's objects are renumbered into one sequence (references ``n 0 R`` are rewritten in
dictionaries only, never inside stream data, whose bytes are copied as they are); its catalog,
page tree and info dictionary are dropped; page ``/Parent`` points at the joint page tree. Font
subset tags (``/ABCDEF+``) are made unique per volume, as PDF 32000-1 §9.6.4 asks, since each
volume embeds its own subset of the same font.
"""

from __future__ import annotations

import re
from typing import IO

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_REF = re.compile(rb"(\d+) 0 R")
_OBJ = re.compile(rb"^(\d+) 0 obj")
_SUBSET = re.compile(rb"/[A-Z]{6}\+")
_DICT_ENTRY = {
    name: re.compile(rb"/" + name + rb"\s+(\d+) 0 R") for name in (b"Root", b"Info", b"Pages")
}


class ConcatError(ValueError):
    """A volume is not laid out as fpdf2 writes it."""


def _xref(data: bytes) -> tuple[list[int], bytes, int]:
    """Object offsets (index = object number, 0 unused), the trailer bytes, the xref offset."""
    m = _STARTXREF.search(data[-64:])
    if m is None:
        raise ConcatError("no startxref")
    at = int(m.group(1))
    head = re.match(rb"xref\s+0 (\d+)\s+", data[at : at + 32])
    if head is None:
        raise ConcatError("not a single 0 N cross-reference section")
    count, start = int(head.group(1)), at + head.end()
    table = data[start : start + 20 * count]
    offsets = [int(table[20 * i : 20 * i + 10]) for i in range(count)]
    if data[start + 20 * count : start + 20 * count + 7] != b"trailer":
        raise ConcatError("cross-reference table is not followed by the trailer")
    trailer_end = data.rindex(b"startxref")
    return offsets, data[start + 20 * count : trailer_end], at


def _objects(data: bytes, offsets: list[int], xref_at: int) -> dict[int, bytes]:
    """Each object's bytes from its header to just before the next object (or the xref)."""
    order = sorted((off, n) for n, off in enumerate(offsets) if n > 0)
    spans: dict[int, bytes] = {}
    for i, (off, n) in enumerate(order):
        end = order[i + 1][0] if i + 1 < len(order) else xref_at
        body = data[off:end]
        head = _OBJ.match(body)
        if head is None or int(head.group(1)) != n:
            raise ConcatError(f"object {n} is not where the cross-reference table says")
        spans[n] = body
    return spans


def _ref(trailer_or_dict: bytes, name: bytes) -> int:
    m = _DICT_ENTRY[name].search(trailer_or_dict)
    if m is None:
        raise ConcatError(f"no /{name.decode()}")
    return int(m.group(1))


class PdfJoiner:
    """Append fpdf2 volumes to ``out`` (an open binary file); ``close`` writes the page tree."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.offsets: list[int] = [0, 0, 0, 0]  # 1 pages, 2 catalog, 3 info: written last
        self.kids: list[int] = []
        self.media_box = b"[0 0 595.28 841.89]"
        self.info = b"<<>>"
        self.volumes = 0
        self.pos = 0

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)

    def add(self, volume: bytes) -> None:
        if self.volumes == 0:
            self._write(volume[: volume.index(b"\n") + 1] + b"%\xe2\xe3\xcf\xd3\n")
        offsets, trailer, xref_at = _xref(volume)
        spans = _objects(volume, offsets, xref_at)
        root, info = _ref(trailer, b"Root"), _ref(trailer, b"Info")
        pages = _ref(spans[root], b"Pages")
        tree = spans[pages]
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", tree)
        box = re.search(rb"/MediaBox\s*(\[[^\]]*\])", tree)
        if kids is None:
            raise ConcatError("page tree without /Kids")
        if self.volumes == 0:
            self.media_box = box.group(1) if box else self.media_box
            self.info = spans[info][spans[info].index(b"<<") : spans[info].rindex(b">>") + 2]
        keep = [n for n in sorted(spans) if n not in (root, info, pages)]
        new = {n: len(self.offsets) + i for i, n in enumerate(keep)}
        new[pages] = 1
        tag = self._tag()
        for n in keep:
            self.offsets.append(self.pos)
            self._write(self._renumber(spans[n], n, new, tag))
        self.kids.extend(new[int(k)] for k in _REF.findall(kids.group(1)))
        self.volumes += 1

    def _tag(self) -> bytes:
        """A subset tag of six capitals unique to this volume: OM + the volume number in A-Z."""
        n, letters = self.volumes, b""
        for _ in range(4):
            n, r = divmod(n, 26)
            letters = bytes([65 + r]) + letters
        return b"/O" + letters + b"M+"

    @staticmethod
    def _renumber(body: bytes, n: int, new: dict[int, int], tag: bytes) -> bytes:
        split = body.find(b"stream\n")
        head, tail = (body, b"") if split < 0 else (body[:split], body[split:])

        def ref(m: re.Match[bytes]) -> bytes:
            target = int(m.group(1))
            if target not in new:
                raise ConcatError(f"object {n} refers to object {target}, which is not kept")
            return b"%d 0 R" % new[target]

        head = _REF.sub(ref, head)
        head = _SUBSET.sub(tag, head)
        return b"%d 0 obj" % new[n] + head[_OBJ.match(head).end() :] + tail  # type: ignore[union-attr]

    def close(self) -> int:
        """Write the page tree, catalog, info, cross-reference table and trailer; page count."""
        if self.volumes == 0:
            self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = b"\n".join(b"%d 0 R" % k for k in self.kids)
        for number, body in (
            (1, b"<<\n/Count %d\n/Kids [%s]\n/MediaBox %s\n/Type /Pages\n>>" % (
                len(self.kids), kids, self.media_box)),
            (2, b"<<\n/Pages 1 0 R\n/Type /Catalog\n>>"),
            (3, self.info),
        ):  # fmt: skip
            self.offsets[number] = self.pos
            self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        xref_at = self.pos
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets)]
        lines += [b"%010d 00000 n \n" % off for off in self.offsets[1:]]
        self._write(b"".join(lines))
        self._write(
            b"trailer\n<<\n/Size %d\n/Root 2 0 R\n/Info 3 0 R\n>>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets), xref_at)
        )
        return len(self.kids)
