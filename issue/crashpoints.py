"""Named crash points for the kill -9 tests.

``OMOV_TEST_KILL_AT=<name>`` makes the process SIGKILL itself when it reaches ``kill_point(name)``,
so tests can stop a real ``omov issue`` run at each step of the batch protocol, not only at
random moments. Unset (always, outside tests), it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def kill_point(name: str) -> None:
    """SIGKILL this process if ``OMOV_TEST_KILL_AT`` names this point."""
    if os.environ.get("OMOV_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
