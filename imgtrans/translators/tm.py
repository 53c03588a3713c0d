"""``tm``: a translation-memory file, TSV ``source<TAB>target``.

Lookup is an exact match after :func:`normalize_text` (NFKC + whitespace folding). A text
that is not in the memory is reported untranslated, never guessed. Lines starting with
``#`` and blank lines are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from imgtrans.errors import TranslatorError
from imgtrans.translators.base import ContextPair, Translation, Translator, normalize_text

log = logging.getLogger(__name__)


def read_tsv_pairs(
    path: Path, what: str, key: Callable[[str], str] = str.strip
) -> list[tuple[str, str]]:
    """Read ``source<TAB>target`` rows from a UTF-8 TSV file; errors name file and line.

    A source that repeats an earlier line's (after ``key``) is a warning naming both lines:
    the later line wins. A row with more than two columns is an error (a tab inside a text
    would otherwise be cut off silently)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TranslatorError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranslatorError(
            f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    pairs: dict[str, tuple[str, str]] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip():
            raise TranslatorError(f"{what} {path}:{number}: expected 'source<TAB>target'")
        if len(cols) > 2:
            raise TranslatorError(
                f"{what} {path}:{number}: {len(cols)} columns, expected 2 "
                "('source<TAB>target'; a text may not hold a tab)"
            )
        k = key(cols[0])
        if k in lines:
            log.warning(
                "%s %s:%d: %r is also on line %d; line %d wins",
                what,
                path,
                number,
                cols[0],
                lines[k],
                number,
            )
            del pairs[k]  # keep file order: the winner's place is its own line
        pairs[k] = (cols[0], cols[1].strip())
        lines[k] = number
    return list(pairs.values())


class TMTranslator(Translator):
    name = "tm"

    def __init__(self, path: Path) -> None:
        self.path = path
        pairs = read_tsv_pairs(path, "translation memory", normalize_text)
        self.memory = {normalize_text(src): dst for src, dst in pairs}

    def describe(self) -> str:
        return f"tm:{self.path.name}"

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        out = []
        for text in texts:
            hit = self.memory.get(normalize_text(text))
            out.append(Translation(hit) if hit else Translation(None, "not in translation memory"))
        return out
