"""Translate stage: the texts of each page's blocks through the configured translator.

``Translate(translator, target)(pages)`` returns, per page and in order, block id ->
(translation, error), which the executor applies to the same page
(:func:`imgtrans.stages.apply_translations`). The pages of a batch are translated at once
in I/O threads (at most ``in_flight`` requests), so API latency overlaps; the executor runs
the stage beside inpainting. A block the translator cannot do keeps ``translation=None``
with the reason; a page whose request fails fails alone (``translate``); a translator
failure that concerns the whole run (auth, quota) propagates and stops the run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from imgtrans.errors import TranslatorError
from imgtrans.page import Failure, Page
from imgtrans.stages import Translations
from imgtrans.translators.base import ContextPair, Translator

# Source languages as the OCR reports them -> the codes translators take.
SOURCE_CODES = {"zh": "zh-Hans"}
TARGET_CODES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}


def target_code(lang: str) -> str:
    return TARGET_CODES.get(lang.lower(), lang)


def translate_page(
    page: Page, translator: Translator, target: str, context: Sequence[ContextPair] = ()
) -> Translations:
    """Block id -> (translation, error) for the blocks of ``page`` that are translated."""
    todo = [b for b in page.blocks if b.translate and b.text]
    if not todo:
        return {}
    if page.source_lang is None:
        return {b.id: (None, "source language unknown") for b in todo}
    source = SOURCE_CODES.get(page.source_lang, page.source_lang)
    results = translator.translate([b.text for b in todo], source, target_code(target), context)
    return {b.id: (r.text, r.error) for b, r in zip(todo, results, strict=True)}


class Translate:
    """The translate stage; remembers (source, translation) pairs of earlier batches for
    context-aware translators (``context_pages``)."""

    def __init__(
        self, translator: Translator, target: str, context_pages: int = 0, in_flight: int = 4
    ) -> None:
        self.translator = translator
        self.target = target
        self.context_pages = context_pages
        self._threads = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="translate")
        self._context: deque[ContextPair] = deque(maxlen=64)
        self._lock = threading.Lock()

    def __call__(self, pages: list[Page]) -> list[Translations | Failure]:
        context = self._window()
        futures = [
            self._threads.submit(translate_page, page, self.translator, self.target, context)
            for page in pages
        ]
        out: list[Translations | Failure] = []
        for page, future in zip(pages, futures, strict=True):
            try:
                out.append(future.result())
            except TranslatorError:
                for other in futures:
                    other.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - one page's translation failing is that page's failure
                out.append(Failure("translate", f"{page.source}: {type(exc).__name__}: {exc}"))
        self._remember(pages, out)
        return out

    def _window(self) -> tuple[ContextPair, ...]:
        """Blocks of the last ``context_pages`` pages of earlier batches (pages of one batch
        are translated at the same time, so they cannot see each other)."""
        if not self.context_pages:
            return ()
        with self._lock:
            return tuple(self._context)[-8 * self.context_pages :]

    def _remember(self, pages: list[Page], results: list[Translations | Failure]) -> None:
        with self._lock:
            for page, result in zip(pages, results, strict=True):
                if isinstance(result, Failure):
                    continue
                for block in page.blocks:
                    text = result.get(block.id, (None, None))[0]
                    if text:
                        self._context.append(ContextPair(block.text, text))

    def abort(self) -> None:
        """Stop now: queued pages cancelled, requests in flight abandoned (a signal)."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.translator.abort()

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.translator.close()
