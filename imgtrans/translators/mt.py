"""What the machine-translation APIs (DeepL, Google, Papago, Microsoft, LibreTranslate)
share: pair checking from the language table, skipping blank texts, splitting a page's
texts into requests within the API's documented limits, and glossary protection.

A subclass sets its limits and implements ``_send(texts, source, target, context, markup)``
returning one string per text, in order.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from imgtrans.options import TranslatorOptions
from imgtrans.translators import langs
from imgtrans.translators.base import ContextPair, Translation, Translator
from imgtrans.translators.glossary import Glossary
from imgtrans.translators.http import ContentRejected, HttpClient, RetryPolicy, error_detail

GlossaryMode = Literal["none", "native", "markup", "tokens"]


def batches(
    texts: Sequence[str], max_items: int, max_chars: int, max_bytes: int
) -> Iterator[list[int]]:
    """Indices of ``texts`` grouped so each group has at most ``max_items`` texts,
    ``max_chars`` characters and ``max_bytes`` bytes of JSON-encoded text."""
    group: list[int] = []
    chars = size = 0
    for i, text in enumerate(texts):
        n_bytes = len(json.dumps(text).encode()) + 2
        if group and (
            len(group) == max_items or chars + len(text) > max_chars or size + n_bytes > max_bytes
        ):
            yield group
            group, chars, size = [], 0, 0
        group.append(i)
        chars += len(text)
        size += n_bytes
    if group:
        yield group


class MTTranslator(Translator):
    """Base of the batch machine-translation backends."""

    cacheable = True

    lang_field: str = ""  # the Language attribute holding this backend's target codes
    src_field: str | None = None  # ... and source codes, when they differ
    max_items: int = 50
    max_chars: int = 5000
    max_bytes: int = 10**9
    markup: tuple[str, str] | None = None  # do-not-translate tags of the API's markup mode
    max_in_flight: int = 4

    def __init__(self, options: TranslatorOptions, retry: RetryPolicy | None = None) -> None:
        self.options = options
        self.glossary = Glossary.load(options.glossary)
        self.http = self._client(options, retry)

    @abstractmethod
    def _client(self, options: TranslatorOptions, retry: RetryPolicy | None) -> HttpClient:
        """Read keys and build the HTTP client (raise if a key is missing)."""

    @abstractmethod
    def _send(
        self,
        texts: list[str],
        source: str,
        target: str,
        context: Sequence[ContextPair],
        mode: GlossaryMode,
    ) -> list[str]:
        """One request; ``source`` is ``'auto'`` or an imgtrans code."""

    def glossary_mode(self, source: str, target: str) -> GlossaryMode:
        if not self.glossary:
            return "none"
        return "markup" if self.markup else "tokens"

    def check_pair(self, source: str, target: str) -> None:
        langs.check(self.name, self.lang_field, source, target, self.src_field)

    def translate(
        self,
        texts: Sequence[str],
        source: str,
        target: str,
        context: Sequence[ContextPair] = (),
    ) -> list[Translation]:
        source, target = langs.canonical(source), langs.canonical(target)
        self.check_pair(source, target)
        results = [Translation("") if not t.strip() else None for t in texts]
        todo = [i for i, r in enumerate(results) if r is None]
        mode = self.glossary_mode(source, target)
        sent, tokens = self._protect([texts[i] for i in todo], mode)
        for group in batches(sent, self.max_items, self.max_chars, self.max_bytes):
            if len(group) == 1 and len(sent[group[0]]) > self.max_chars:
                reason = f"text longer than {self.name}'s limit of {self.max_chars} characters"
                results[todo[group[0]]] = Translation(None, reason)
                continue
            outs = self._send_or_split(sent, group, (source, target, context, mode))
            for j, out in zip(group, outs, strict=True):
                results[todo[j]] = (
                    out if isinstance(out, Translation) else self._finish(out, mode, tokens[j])
                )
        return [r if r is not None else Translation(None, "not translated") for r in results]

    def _send_or_split(
        self,
        sent: list[str],
        group: list[int],
        how: tuple[str, str, Sequence[ContextPair], GlossaryMode],
    ) -> list[str | Translation]:
        """``_send`` the texts ``group`` of ``sent``; when the API refuses the content, halve
        the group until the texts at fault are alone: they fail, the others are translated."""
        try:
            return list(self._send([sent[j] for j in group], *how))
        except ContentRejected as exc:
            if len(group) == 1:
                self.http.gave_up_on_text(str(exc))
                return [Translation(None, str(exc))]
            half = len(group) // 2
            return self._send_or_split(sent, group[:half], how) + self._send_or_split(
                sent, group[half:], how
            )

    def _protect(self, texts: list[str], mode: GlossaryMode) -> tuple[list[str], list[list[str]]]:
        if mode == "tokens":
            pairs = [self.glossary.protect_tokens(t) for t in texts]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if mode == "markup" and self.markup:
            open_tag, close_tag = self.markup
            return [self.glossary.protect_markup(t, open_tag, close_tag) for t in texts], [
                [] for _ in texts
            ]
        return list(texts), [[] for _ in texts]

    def _finish(self, out: str, mode: GlossaryMode, tokens: list[str]) -> Translation:
        if mode == "tokens":
            out = Glossary.restore_tokens(out, tokens)
        elif mode == "markup":
            out = Glossary.strip_markup(out)
        out = out.strip()
        return Translation(out) if out else Translation(None, f"{self.name} returned nothing")

    def _post(
        self, url: str, extract: Callable[[Any], list[str]], n: int, **kwargs: Any
    ) -> list[str]:
        """POST, check the status, pull ``n`` translations out of the JSON with ``extract``."""
        response = self.http.request("POST", url, **kwargs)
        if response.status_code != 200:
            if rejected := self.http.rejected(response):
                raise rejected
            raise self.http.error(f"HTTP {response.status_code}: {error_detail(response)}")
        try:
            out = extract(response.json())
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            raise self.http.error(f"unexpected answer from {urlsplit(url).path}") from None
        if len(out) != n:
            raise self.http.error(f"sent {n} texts, got {len(out)} translations")
        return [str(t) for t in out]

    def close(self) -> None:
        self.http.close()

    def abort(self) -> None:
        self.http.abort()
