"""Translator backends and their registry.

``build_translator(options)`` turns ``--translator`` (one name, or a comma-separated chain
such as ``tm,deepl``) into a :class:`Translator`. An unknown name is an error listing the
valid ones.
"""

from __future__ import annotations

from collections.abc import Callable

from imgtrans.errors import UsageError
from imgtrans.options import TranslatorOptions
from imgtrans.translators.base import ContextPair, Translation, Translator
from imgtrans.translators.cache import CachedTranslator, TranslationCache
from imgtrans.translators.chain import ChainTranslator
from imgtrans.translators.ctranslate2 import CTranslate2Translator
from imgtrans.translators.deepl import DeepLTranslator
from imgtrans.translators.glossary import Glossary
from imgtrans.translators.google import GoogleTranslator
from imgtrans.translators.libretranslate import LibreTranslateTranslator
from imgtrans.translators.microsoft import MicrosoftTranslator
from imgtrans.translators.none import NoneTranslator
from imgtrans.translators.openai import OpenAITranslator
from imgtrans.translators.papago import PapagoTranslator
from imgtrans.translators.tm import TMTranslator

Factory = Callable[[TranslatorOptions], Translator]


def _tm(options: TranslatorOptions) -> Translator:
    if options.tm is None:
        raise UsageError("translator 'tm' needs a translation memory: --tm FILE.tsv")
    return TMTranslator(options.tm)


REGISTRY: dict[str, Factory] = {
    "none": lambda options: NoneTranslator(),
    "tm": _tm,
    "deepl": DeepLTranslator,
    "google": GoogleTranslator,
    "papago": PapagoTranslator,
    "microsoft": MicrosoftTranslator,
    "libretranslate": LibreTranslateTranslator,
    "openai": OpenAITranslator,
    "ctranslate2": CTranslate2Translator,
}


def register(name: str, factory: Factory) -> None:
    """Add a backend (used by the built-in API backends and by tests that inject faults)."""
    REGISTRY[name] = factory


def build_translator(options: TranslatorOptions) -> Translator:
    names = [n.strip() for n in options.name.split(",") if n.strip()]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown or not names:
        valid = ", ".join(sorted(REGISTRY))
        raise UsageError(
            f"unknown translator {','.join(unknown) or repr(options.name)}; valid: {valid}"
        )
    members = [REGISTRY[n](options) for n in names]
    if options.cache and any(m.cacheable for m in members):
        cache = TranslationCache()
        digest = Glossary.load(options.glossary).digest
        members = [CachedTranslator(m, cache, digest) if m.cacheable else m for m in members]
    return members[0] if len(members) == 1 else ChainTranslator(members)


__all__ = [
    "REGISTRY",
    "CachedTranslator",
    "ContextPair",
    "Translation",
    "TranslationCache",
    "Translator",
    "build_translator",
    "register",
]
