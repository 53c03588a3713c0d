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
import unicodedata
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from imgtrans.errors import TranslatorError
from imgtrans.ocr.blocks import detect_language
from imgtrans.page import Failure, Page, TextBlock
from imgtrans.stages import Translations
from imgtrans.translators.base import ContextPair, Translator

# Source languages as the OCR reports them -> the codes translators take.
SOURCE_CODES = {"zh": "zh-Hans"}
TARGET_CODES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}


def target_code(lang: str) -> str:
    return TARGET_CODES.get(lang.lower(), lang)


def translate_page(
    page: Page,
    translator: Translator,
    target: str,
    context: Sequence[ContextPair] = (),
    auto: bool = False,
) -> Translations:
    """Block id -> (translation, error) for the blocks of ``page`` that are translated.

    ``auto`` (``--from auto``): each block in its own script's language (see
    :func:`block_languages`), one request per language; a block already in the target
    language is handed back as it is (and left as drawn)."""
    todo = [b for b in page.blocks if b.translate and b.text]
    if not todo:
        return {}
    langs = block_languages(page, todo) if auto else {b.id: page.source_lang for b in todo}
    out: Translations = {}
    for lang in dict.fromkeys(langs.values()):
        group = [b for b in todo if langs[b.id] == lang]
        if lang is None:
            out.update({b.id: (None, "source language unknown") for b in group})
        elif auto and _base(lang) == _base(target):
            out.update({b.id: (b.text, None) for b in group})
        else:
            source = SOURCE_CODES.get(lang, lang)
            texts = [b.text for b in group]
            results = translator.translate(texts, source, target_code(target), context)
            out.update(
                {b.id: _cleaned(r.text, r.error) for b, r in zip(group, results, strict=True)}
            )
    return out


def block_languages(page: Page, blocks: Sequence[TextBlock]) -> dict[int, str | None]:
    """Each block's source language by the script of its own text: English on a Chinese
    ad, Chinese in an English comic. Japanese or Chinese is decided over all the page's
    Han and kana text at once (a short all-Han line of a Japanese page is not Chinese); a
    block with no letters takes the page's language."""
    scripts = {b.id: detect_language([b.text]) for b in blocks}
    cjk_text = [b.text for b in blocks if scripts[b.id] in ("ja", "zh")]
    cjk = detect_language(cjk_text) if cjk_text else None
    return {
        b.id: (cjk if scripts[b.id] in ("ja", "zh") else scripts[b.id]) or page.source_lang
        for b in blocks
    }


def _base(lang: str) -> str:
    """``zh-Hans`` -> ``zh``, ``en-US`` -> ``en``."""
    return lang.lower().replace("_", "-").split("-")[0]


def _cleaned(text: str | None, error: str | None) -> tuple[str | None, str | None]:
    clean = without_controls(text)
    if text and not clean:
        return None, "the translation holds only control characters"
    return clean or None, error


def without_controls(text: str | None) -> str | None:
    """``text`` without control characters (``\\x00``, ``\\x1b``, ...: no font draws them,
    so they would come out as boxes); a tab becomes a space, a newline (a forced line break)
    stays."""
    if text is None:
        return None
    text = text.replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


class Translate:
    """The translate stage; remembers (source, translation) pairs of earlier batches for
    context-aware translators (``context_pages``)."""

    def __init__(
        self,
        translator: Translator,
        target: str,
        context_pages: int = 0,
        in_flight: int = 4,
        source: str = "auto",
    ) -> None:
        """``source``: ``--from``; ``auto`` translates each block from its own script's
        language."""
        self.translator = translator
        self.target = target
        self.auto = source == "auto"
        self.context_pages = context_pages
        self._threads = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="translate")
        self._context: deque[ContextPair] = deque(maxlen=64)
        self._lock = threading.Lock()

    def __call__(self, pages: list[Page]) -> list[Translations | Failure]:
        context = self._window()
        futures = [
            self._threads.submit(
                translate_page, page, self.translator, self.target, context, self.auto
            )
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
