"""``--glossary terms.tsv``: fixed translations of names and terms (``source<TAB>target``).

Backends honour it natively where the API has glossaries (DeepL, Papago ``glossaryKey``), in
the prompt for LLMs (only the terms that occur), and otherwise by protection: either
*markup* (the target term inside a do-not-translate tag, for APIs with an HTML/XML mode) or
*tokens* (the source term replaced by ``[#n]``, put back after translation).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from imgtrans.translators.tm import read_tsv_pairs

_TOKEN_BACK = re.compile(r"[\[［]\s*[#＃]\s*(\d+)\s*[\]］]")
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Glossary:
    """Entries in file order; the longest source term wins where terms overlap."""

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def load(cls, path: Path | None) -> Glossary:
        if path is None:
            return cls(())
        return cls(tuple(read_tsv_pairs(path, "glossary")))

    def __bool__(self) -> bool:
        return bool(self.entries)

    @cached_property
    def digest(self) -> str:
        """sha256 of the entries ('' for no glossary): part of every cache key."""
        if not self.entries:
            return ""
        blob = "\n".join(f"{s}\t{t}" for s, t in self.entries).encode()
        return hashlib.sha256(blob).hexdigest()

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.entries:
            return None
        terms = sorted({s for s, _ in self.entries}, key=len, reverse=True)
        return re.compile("|".join(re.escape(t) for t in terms))

    @cached_property
    def _targets(self) -> dict[str, str]:
        return dict(self.entries)

    def tsv(self) -> str:
        return "\n".join(f"{s}\t{t}" for s, t in self.entries)

    def terms_in(self, texts: Iterable[str]) -> list[tuple[str, str]]:
        """The entries whose source term occurs in any of ``texts`` (file order)."""
        if self._pattern is None:
            return []
        found = {m.group(0) for text in texts for m in self._pattern.finditer(text)}
        return [(s, t) for s, t in self.entries if s in found]

    def protect_tokens(self, text: str) -> tuple[str, list[str]]:
        """Replace each term with ``[#n]``; returns the text and the targets by ``n``."""
        targets: list[str] = []
        if self._pattern is None:
            return text, targets

        def sub(match: re.Match[str]) -> str:
            targets.append(self._targets[match.group(0)])
            return f"[#{len(targets) - 1}]"

        return self._pattern.sub(sub, text), targets

    @staticmethod
    def restore_tokens(text: str, targets: Sequence[str]) -> str:
        """Put the target terms back where the translation kept the tokens."""

        def sub(match: re.Match[str]) -> str:
            n = int(match.group(1))
            return targets[n] if n < len(targets) else match.group(0)

        return _TOKEN_BACK.sub(sub, text)

    def protect_markup(self, text: str, open_tag: str, close_tag: str) -> str:
        """HTML/XML-escape ``text`` and put each term's *target* inside the given tags, which
        the API is told not to translate."""
        if self._pattern is None:
            return html.escape(text, quote=False)
        out, pos = [], 0
        for match in self._pattern.finditer(text):
            out.append(html.escape(text[pos : match.start()], quote=False))
            target = html.escape(self._targets[match.group(0)], quote=False)
            out.append(f"{open_tag}{target}{close_tag}")
            pos = match.end()
        out.append(html.escape(text[pos:], quote=False))
        return "".join(out)

    @staticmethod
    def strip_markup(text: str) -> str:
        """Remove tags and unescape entities from an HTML/XML-mode answer."""
        return html.unescape(_TAG.sub("", text))
