"""Exit codes and the exception tree: the one table that shell scripts branch on.

Every failure kind is an :class:`ImgtransError` subclass carrying its :class:`ExitCode`.
``cli.py`` maps exceptions to process exit status in exactly one place. The table is a
stable interface and is copied into README.md (a test keeps the two in step).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit status of ``imgtrans``. Stable: cron jobs branch on these."""

    OK = 0  # every image done (or skipped as already done)
    UNEXPECTED = 1  # a bug or an unforeseen error; the message says what
    USAGE = 2  # bad command line or option values
    SOME_FAILED = 3  # at least one image failed; the others were written
    NO_INPUT = 4  # nothing to do: no input images, or input/output paths unusable
    MISSING_MODEL = 5  # model weights absent or not verified; the message says how to get them
    MISSING_FONT = 6  # no font covers a character to draw; the message says how to add one
    TRANSLATOR = 7  # translator failed for the whole run (auth, quota, unsupported pair)
    LOCKED = 8  # another imgtrans run is writing the same output folder (see --wait)
    INTERRUPTED = 130  # SIGINT (Ctrl-C); finished images stay finished, rerun resumes
    TERMINATED = 143  # SIGTERM; as above


class ImgtransError(Exception):
    """Base of every error imgtrans raises on purpose. ``code`` is the process exit status."""

    code: ExitCode = ExitCode.UNEXPECTED
    kind: str = "error"


class UsageError(ImgtransError):
    code = ExitCode.USAGE
    kind = "usage"


class NoInputError(ImgtransError):
    code = ExitCode.NO_INPUT
    kind = "no_input"


class OutputError(ImgtransError):
    """The output location cannot be used (read-only, inside the input, ...)."""

    code = ExitCode.NO_INPUT
    kind = "output"


class OutputLocked(ImgtransError):
    """Another run holds the lock of an output folder (and ``--wait`` was not given)."""

    code = ExitCode.LOCKED
    kind = "locked"


class MissingModelError(ImgtransError):
    code = ExitCode.MISSING_MODEL
    kind = "missing_model"


class MissingFontError(ImgtransError):
    code = ExitCode.MISSING_FONT
    kind = "missing_font"


class TranslatorError(ImgtransError):
    """A translator cannot go on for this run (auth, quota, bad configuration)."""

    code = ExitCode.TRANSLATOR
    kind = "translator"


class UnsupportedLanguageError(TranslatorError):
    kind = "unsupported_language"


class PageError(ImgtransError):
    """One image failed; the run goes on. ``kind`` names the failure for the sidecar."""

    code = ExitCode.SOME_FAILED

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Interrupted(KeyboardInterrupt):
    """SIGTERM (raised by the CLI's handler) or SIGINT. Like ``KeyboardInterrupt`` it is no
    ``Exception``: no ``except Exception`` that stands for "this page failed" can swallow it."""

    code = ExitCode.INTERRUPTED
    kind = "interrupted"

    def __init__(self, signum: int = 2) -> None:
        super().__init__("interrupted")
        self.code = ExitCode.TERMINATED if signum == 15 else ExitCode.INTERRUPTED
