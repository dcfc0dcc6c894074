"""Exit codes and the errors that carry them.

Why one place: the exit code is a contract with scripts and scrutineers (README, "Exit codes").
A stage raises one of these; only ``omov.cli`` turns it into a process exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit-code contract."""

    OK = 0
    INTERNAL = 1  #: a bug in omov: please report it
    USAGE = 2  #: bad arguments, configuration or unreadable input: nothing was written
    PROBLEMS = 3  #: finished, the report is written, and it holds problems a person must act on
    INTEGRITY = 4  #: audit chain broken, digest mismatch, token re-use, foreign package


class OmovError(Exception):
    """Base of every error omov reports to a user (never a bare crash)."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with every attribute (path, line, fix): errors cross from worker processes."""
        return (_rebuild, (type(self), self.args, self.__dict__))

    def render(self) -> str:
        """One short block for stderr: what went wrong, then how to fix it."""
        return self.message if not self.fix else f"{self.message}\n  fix: {self.fix}"


class UsageError(OmovError):
    """Bad arguments, configuration, or input that cannot be read (exit 2)."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """A file cannot be used as given; names the file and line so the user can fix it (exit 2)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message, fix=fix)
        self.path = path
        self.line = line


class ProblemsFound(OmovError):
    """The work finished and its report is written, but a person must act on it (exit 3)."""

    exit_code = ExitCode.PROBLEMS


class IntegrityError(OmovError):
    """Something that must never change did: audit chain, digest, token re-use (exit 4)."""

    exit_code = ExitCode.INTEGRITY


def _rebuild(cls: type[OmovError], args: tuple[object, ...], state: dict[str, object]) -> OmovError:
    """Unpickle an OmovError without calling its keyword-only ``__init__``."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err
