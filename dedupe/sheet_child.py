"""Read one .xls in a child process with a memory cap: ``python -m dedupe.sheet_child PATH SHEET``.

The workbook's bytes come on stdin; the answer goes to stdout pickled: ``(True, (names, sheets))``
or ``(False, InputError)``. A damaged file that makes the reader abort or run out of its memory
cap kills only this process; ``dedupe.sheets`` then refuses the file (exit 2, the file named).
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from dedupe.sheets import _load
from omov.errors import InputError

#: Memory the reader may use beyond what the interpreter holds: far above what a real .xls
#: needs (a full 65,536 x 256 sheet of text is well under it), far below a runaway allocation.
BUDGET_BYTES = 2 << 30
PER_FILE_BYTE = 32


def _cap_memory(size: int) -> None:
    """Cap this process's address space (Linux: /proc; elsewhere uncapped)."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as fh:
            used = int(fh.read().split()[0]) * resource.getpagesize()
    except (ImportError, OSError):
        return
    cap = used + BUDGET_BYTES + PER_FILE_BYTE * size
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def main() -> None:
    path, wanted = Path(sys.argv[1]), sys.argv[2] or None
    raw = sys.stdin.buffer.read()
    _cap_memory(len(raw))
    try:
        answer: tuple[bool, object] = (True, _load(raw, path, wanted))
    except InputError as err:
        answer = (False, err)
    sys.stdout.buffer.write(pickle.dumps(answer))


if __name__ == "__main__":
    main()
