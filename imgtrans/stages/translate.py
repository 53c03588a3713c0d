"""Translate stage: the texts of each page's blocks through the configured translator.

Runs in I/O threads (see pipeline.py) so that API latency overlaps with model work. A
block that the translator cannot do keeps ``translation=None`` with the reason; a
translator failure that concerns the whole run (auth, quota) propagates and stops the run.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from imgtrans.page import Page, TextBlock
from imgtrans.translators.base import ContextPair, Translator

# Source languages as the OCR reports them -> the codes translators take.
SOURCE_CODES = {"zh": "zh-Hans"}
TARGET_CODES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}


def without_controls(text: str | None) -> str | None:
    """``text`` without control characters (``\\x00``, ``\\x1b``, ...: no font draws them,
    so they would come out as boxes); a tab becomes a space, a newline (a forced line break)
    stays."""
    if text is None:
        return None
    text = text.replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def target_code(lang: str) -> str:
    return TARGET_CODES.get(lang.lower(), lang)


def translate_page(
    page: Page, translator: Translator, target: str, context: Sequence[ContextPair] = ()
) -> Page:
    """Return ``page`` with ``translation`` (or ``translation_error``) set on its blocks."""
    todo = [b for b in page.blocks if b.translate and b.text]
    if not todo:
        return page
    if page.source_lang is None:
        blocks = tuple(
            replace(b, translation_error="source language unknown") if b in todo else b
            for b in page.blocks
        )
        return replace(page, blocks=blocks)
    source = SOURCE_CODES.get(page.source_lang, page.source_lang)
    results = translator.translate([b.text for b in todo], source, target_code(target), context)
    by_id = {b.id: r for b, r in zip(todo, results, strict=True)}
    done: list[TextBlock] = []
    for block in page.blocks:
        result = by_id.get(block.id)
        if result is not None:
            text, error = without_controls(result.text), result.error
            if result.text and not text:
                error = "the translation holds only control characters"
            block = replace(block, translation=text or None, translation_error=error)
        done.append(block)
    return replace(page, blocks=tuple(done))


def translate(pages: list[Page], translator: Translator, target: str) -> list[Page]:
    """The stage form: every page in turn (the pipeline runs ``translate_page`` in threads)."""
    return [translate_page(page, translator, target) for page in pages]
