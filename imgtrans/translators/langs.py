"""The one table of language codes: imgtrans's codes (ISO 639-1, ``zh-Hans``/``zh-Hant``)
mapped to each backend's codes, plus the script a text in that language is written in.

A missing entry means the backend does not support the language. ``check`` raises
:class:`~imgtrans.errors.UnsupportedLanguageError` naming the pair and the backend.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from imgtrans.errors import UnsupportedLanguageError, UsageError


@dataclass(frozen=True)
class Language:
    code: str  # imgtrans code
    name: str  # English name, for LLM prompts
    scripts: tuple[str, ...]  # first word of unicodedata.name() of its letters
    deepl_source: str | None
    deepl_target: str | None
    google: str | None
    papago: str | None
    microsoft: str | None
    libretranslate: tuple[str, ...]  # candidates, first one the server lists wins


_HAN = ("CJK", "IDEOGRAPHIC")
_JA = ("HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "CJK", "IDEOGRAPHIC", "HALFWIDTH")
_LATIN = ("LATIN", "FULLWIDTH")

# fmt: off
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in (
    #        code       name                    scripts       deepl src/tgt      google   papago   microsoft  libretranslate
    Language("ja",      "Japanese",             _JA,          "JA", "JA",        "ja",    "ja",    "ja",      ("ja",)),
    Language("ko",      "Korean",               ("HANGUL",),  "KO", "KO",        "ko",    "ko",    "ko",      ("ko",)),
    Language("zh-Hans", "Simplified Chinese",   _HAN,         "ZH", "ZH-HANS",   "zh-CN", "zh-CN", "zh-Hans", ("zh-Hans", "zh")),
    Language("zh-Hant", "Traditional Chinese",  _HAN,         "ZH", "ZH-HANT",   "zh-TW", "zh-TW", "zh-Hant", ("zh-Hant", "zt")),
    Language("en",      "English",              _LATIN,       "EN", "EN-US",     "en",    "en",    "en",      ("en",)),
    Language("fr",      "French",               _LATIN,       "FR", "FR",        "fr",    "fr",    "fr",      ("fr",)),
    Language("de",      "German",               _LATIN,       "DE", "DE",        "de",    "de",    "de",      ("de",)),
    Language("es",      "Spanish",              _LATIN,       "ES", "ES",        "es",    "es",    "es",      ("es",)),
    Language("it",      "Italian",              _LATIN,       "IT", "IT",        "it",    "it",    "it",      ("it",)),
    Language("pt",      "Portuguese",           _LATIN,       "PT", "PT-BR",     "pt",    None,    "pt",      ("pt",)),
    Language("ru",      "Russian",              ("CYRILLIC",), "RU", "RU",       "ru",    "ru",    "ru",      ("ru",)),
    Language("id",      "Indonesian",           _LATIN,       "ID", "ID",        "id",    "id",    "id",      ("id",)),
    Language("vi",      "Vietnamese",           _LATIN,       None, None,        "vi",    "vi",    "vi",      ("vi",)),
    Language("th",      "Thai",                 ("THAI",),    None, None,        "th",    "th",    "th",      ("th",)),
)}
# fmt: on

_ALIASES = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-hant": "zh-Hant",
}
# Country or 3-letter codes people type for a language code: refused with a hint.
_NEAR_MISSES = {
    "kr": "ko",
    "jp": "ja",
    "cn": "zh-Hans",
    "tw": "zh-Hant",
    "kor": "ko",
    "jpn": "ja",
    "eng": "en",
    "chi": "zh-Hans",
    "zho": "zh-Hans",
    "us": "en",
    "uk": "en",
}


def canonical(code: str) -> str:
    """``'ZH-cn'`` -> ``'zh-Hans'``; ``'auto'`` stays. Unknown codes come back lower-cased."""
    low = code.strip().replace("_", "-").lower()
    if low == "auto":
        return "auto"
    return _ALIASES.get(low, low)


def language(code: str) -> Language | None:
    return LANGUAGES.get(canonical(code))


def check_code(code: str, option: str) -> None:
    """Raise ``UsageError`` unless ``code`` names a language imgtrans knows (every
    translator, ``tm`` and ``none`` included: the code also picks fonts and line breaking)."""
    if language(code) is not None:
        return
    hint = _NEAR_MISSES.get(code.strip().lower())
    raise UsageError(
        f"{option} {code}: not a language code"
        + (f" (did you mean {hint}?)" if hint else "")
        + f"; known: {', '.join(LANGUAGES)} (also zh, zh-CN, zh-TW)"
    )


def check(backend: str, field: str, source: str, target: str, src_field: str | None = None) -> None:
    """Raise ``UnsupportedLanguageError`` if ``backend`` has no code for either side.
    ``field`` names the ``Language`` attribute for targets, ``src_field`` for sources."""
    src, tgt = canonical(source), canonical(target)
    src_lang, tgt_lang = LANGUAGES.get(src), LANGUAGES.get(tgt)
    bad_source = src != "auto" and (src_lang is None or not getattr(src_lang, src_field or field))
    bad_target = tgt_lang is None or not getattr(tgt_lang, field)
    if bad_source or bad_target or src == tgt:
        side = "source" if bad_source else "target" if bad_target else "pair"
        raise UnsupportedLanguageError(
            f"translator '{backend}' does not support {source} -> {target} "
            f"(unsupported {side} language); supported: {', '.join(supported(field))}"
        )


def supported(field: str) -> list[str]:
    return [code for code, lang in LANGUAGES.items() if getattr(lang, field)]


def code_for(backend_field: str, code: str) -> str:
    """The backend's code for an imgtrans code (call ``check`` first)."""
    lang = LANGUAGES[canonical(code)]
    value = getattr(lang, backend_field)
    return str(value[0] if isinstance(value, tuple) else value)


def letter_scripts(text: str) -> list[str]:
    """The script of every letter in ``text`` (first word of its Unicode name)."""
    out = []
    for ch in text:
        if unicodedata.category(ch).startswith("L"):
            name = unicodedata.name(ch, "")
            out.append(name.split(" ", 1)[0] if name else "UNKNOWN")
    return out
