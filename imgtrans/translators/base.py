"""The translator interface.

A translator turns the texts of one page (its blocks, in reading order) into the target
language. It is called from I/O threads, so implementations must be thread-safe. It never
invents a translation: a text it cannot translate comes back as ``Translation(None, reason)``.
A failure that makes the whole run pointless (bad key, quota, unsupported pair) raises
:class:`imgtrans.errors.TranslatorError` instead.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Translation:
    """The result for one text: ``text`` or, when it could not be translated, ``error``."""

    text: str | None
    error: str | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.error is None):
            raise ValueError("Translation needs exactly one of text or error")


@dataclass(frozen=True)
class ContextPair:
    """A source text and its translation from an earlier page, for context-aware backends."""

    source: str
    target: str


class Translator(ABC):
    """Base class of every backend. ``name`` is the registry key and goes in the sidecar."""

    name: str = "base"
    cacheable: bool = False  # True for API backends: build_translator puts the cache in front

    def check_pair(self, source: str, target: str) -> None:  # noqa: B027 - optional hook
        """Raise ``UnsupportedLanguageError`` before any page is processed if the pair is
        not supported. ``source`` may be ``"auto"``."""

    def describe(self) -> str:
        """What goes into the sidecar's ``run.translator`` (backend and model, never keys)."""
        return self.name

    @abstractmethod
    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        """Translate ``texts`` (one page's blocks, reading order) from ``source`` to
        ``target`` (ISO 639-1 codes, ``zh-Hans``/``zh-Hant`` for Chinese). Returns one
        :class:`Translation` per text, in order."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and caches."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """The run is being stopped (SIGTERM, Ctrl-C): abandon the calls in flight at once.
        Called from the main thread while other threads may be inside :meth:`translate`."""


def normalize_text(text: str) -> str:
    """NFKC plus whitespace folding: the key for exact-match lookups (TM, cache)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())
