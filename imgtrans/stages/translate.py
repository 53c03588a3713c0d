"""Translate stage: the texts of each page's blocks through the configured translator.

Runs in I/O threads (see pipeline.py) so that API latency overlaps with model work. A
block that the translator cannot do keeps ``translation=None`` with the reason; a
translator failure that concerns the whole run (auth, quota) propagates and stops the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from imgtrans.page import Page, TextBlock
from imgtrans.translators.base import ContextPair, Translator

# Source languages as the OCR reports them -> the codes translators take.
SOURCE_CODES = {"zh": "zh-Hans"}
TARGET_CODES = {"zh": "zh-Hans", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}


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
            block = replace(block, translation=result.text, translation_error=result.error)
        done.append(block)
    return replace(page, blocks=tuple(done))


def translate(pages: list[Page], translator: Translator, target: str) -> list[Page]:
    """The stage form: every page in turn (the pipeline runs ``translate_page`` in threads)."""
    return [translate_page(page, translator, target) for page in pages]
