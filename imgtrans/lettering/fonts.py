"""Font chains: which font draws which character, checked before anything is drawn.

A :class:`FontChain` is an ordered list of font files (user ``--font`` files first, then the
fonts shipped in ``imgtrans.fonts``, then fonts fontconfig finds for characters nothing
else covers). Every character is looked up in each font's ``cmap``; a character that no
font covers raises :class:`~imgtrans.errors.MissingFontError` naming it: imgtrans never
draws a tofu box.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from imgtrans.errors import MissingFontError
from imgtrans.lettering import script_of

log = logging.getLogger(__name__)

KR_FONT = "NotoSansKR-Bold-subset.otf"
JP_FONT = "NotoSansJP-Bold-subset.otf"
SC_FONT = "NotoSansSC-Bold-subset.otf"
TC_FONT = "NotoSansTC-Bold-subset.otf"
# Own script's font first; the others fill gaps (the JP subset holds JIS kanji, the SC
# subset GB 2312 hanzi, the KR subset Hangul).
_SHIPPED = {
    "ko": (KR_FONT, JP_FONT, SC_FONT, TC_FONT),
    "ja": (JP_FONT, SC_FONT, TC_FONT, KR_FONT),
    "zh": (SC_FONT, TC_FONT, JP_FONT, KR_FONT),
    "zh-hant": (TC_FONT, JP_FONT, SC_FONT, KR_FONT),
    "latin": (KR_FONT, JP_FONT, SC_FONT, TC_FONT),
}
_TRADITIONAL = ("hant", "tw", "hk", "mo")
_FC_LANG = {"ko": "ko", "ja": "ja", "zh": "zh-cn", "latin": "en"}
_ADD_FONT_HINT = "add a font that has it with --font PATH (repeatable; tried in order)"

# What a target script must be able to draw; checked once when a run starts.
_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))
_SAMPLES = {
    "ko": _ASCII + "".join(chr(c) for c in range(0xAC00, 0xD7A4)) + "…·「」",
    "ja": _ASCII
    + "".join(chr(c) for c in range(0x3041, 0x3097))
    + "".join(chr(c) for c in range(0x30A1, 0x30FB))
    + "ー。、「」『』！？…",
    "zh": _ASCII
    + "。，、！？：；「」『』（）…的是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "latin": _ASCII,
}


@dataclass(frozen=True)
class FontSpec:
    """One font face: a file and the face index inside it (TrueType collections)."""

    path: Path
    index: int = 0
    origin: str = "user"  # "user", "shipped" or "fontconfig"

    def __str__(self) -> str:
        suffix = f"#{self.index}" if self.index else ""
        return f"{self.path}{suffix}"


@functools.lru_cache(maxsize=64)
def _coverage(path: Path, index: int) -> frozenset[int]:
    """Code points with a glyph in face ``index`` of ``path``."""
    try:
        with path.open("rb") as fh:
            is_collection = fh.read(4) == b"ttcf"
        font = TTFont(path, fontNumber=index if is_collection else -1, lazy=True)
        cmap = font.getBestCmap() or {}
        font.close()
    except (OSError, TTLibError, AssertionError) as exc:
        raise MissingFontError(f"cannot read font {path}: {exc}") from exc
    return frozenset(cmap)


@functools.lru_cache(maxsize=512)
def pil_font(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font for ``path`` face ``index`` at ``size`` pixels (cached)."""
    return ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.RAQM)


def _needs_glyph(ch: str) -> bool:
    """Whitespace and invisible format characters are laid out, never drawn."""
    return not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")


@dataclass(frozen=True)
class FontChain:
    """Fonts tried in order for each character. ``coverage[i]`` belongs to ``specs[i]``."""

    specs: tuple[FontSpec, ...]
    coverage: tuple[frozenset[int], ...]
    target_lang: str = "latin"
    system_fonts: bool = True

    @staticmethod
    def of(specs: list[FontSpec], target_lang: str, system_fonts: bool = True) -> FontChain:
        unique = list(dict.fromkeys(specs))
        return FontChain(
            tuple(unique),
            tuple(_coverage(s.path, s.index) for s in unique),
            target_lang,
            system_fonts,
        )

    def font_index(self, ch: str) -> int | None:
        """Index of the first font that has a glyph for ``ch``, or None."""
        cp = ord(ch)
        for i, cov in enumerate(self.coverage):
            if cp in cov:
                return i
        return None

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` (in order, once each) that no font of the chain covers."""
        out = dict.fromkeys(ch for ch in text if _needs_glyph(ch) and self.font_index(ch) is None)
        return list(out)

    def covering(self, text: str) -> FontChain:
        """This chain, extended through fontconfig when it lacks a glyph of ``text``.

        Raises :class:`MissingFontError` naming the first character nothing covers.
        """
        chain = self
        for ch in self.missing(text):
            if chain.font_index(ch) is not None:
                continue
            found = fontconfig_font_for(ch) if self.system_fonts else None
            if found is None:
                raise MissingFontError(_missing_message(ch, chain))
            log.info("using %s for %r (U+%04X) through fontconfig", found, ch, ord(ch))
            chain = FontChain.of([*chain.specs, found], self.target_lang, self.system_fonts)
        return chain

    def runs(self, text: str) -> list[tuple[int, str]]:
        """``text`` cut into ``(font index, substring)`` runs; spaces join the current run."""
        out: list[tuple[int, str]] = []
        for ch in text:
            idx = self.font_index(ch) if _needs_glyph(ch) else None
            if idx is None:
                idx = out[-1][0] if out else 0
            if out and out[-1][0] == idx:
                out[-1] = (idx, out[-1][1] + ch)
            else:
                out.append((idx, ch))
        return out

    def font(self, index: int, size: int) -> ImageFont.FreeTypeFont:
        spec = self.specs[index]
        return pil_font(spec.path, spec.index, size)


def _missing_message(ch: str, chain: FontChain) -> str:
    name = unicodedata.name(ch, "unnamed character")
    tried = ", ".join(str(s) for s in chain.specs) or "none"
    return (
        f"no font has a glyph for {ch!r} (U+{ord(ch):04X} {name}); fonts tried: {tried}; "
        f"{_ADD_FONT_HINT}"
    )


def shipped_font_dir() -> Path | None:
    """The folder of the fonts shipped with imgtrans (installed package or source tree)."""
    try:
        root = importlib.resources.files("imgtrans.fonts")
        path = Path(str(root))
        if path.is_dir():
            return path
    except ModuleNotFoundError:
        pass
    source_tree = Path(__file__).resolve().parents[2] / "fonts"
    return source_tree if source_tree.is_dir() else None


def shipped_fonts(target_lang: str) -> list[FontSpec]:
    """The shipped fonts for a target language, its own script's font first."""
    folder = shipped_font_dir()
    script = script_of(target_lang)
    if script == "zh" and any(t in target_lang.lower() for t in _TRADITIONAL):
        script = "zh-hant"
    names = _SHIPPED[script]
    if folder is None:
        return []
    return [FontSpec(folder / n, 0, "shipped") for n in names if (folder / n).is_file()]


def _fc_run(args: list[str]) -> list[str]:
    exe = shutil.which(args[0])
    if exe is None:
        return []
    try:
        res = subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return [ln for ln in res.stdout.splitlines() if ln.strip()] if res.returncode == 0 else []


def _parse_fc(line: str) -> FontSpec | None:
    path, _, index = line.partition("\t")
    p = Path(path)
    if not p.is_file() or p.suffix.lower() not in (".ttf", ".otf", ".ttc", ".otc"):
        return None
    return FontSpec(p, int(index) if index.strip().isdigit() else 0, "fontconfig")


@functools.lru_cache(maxsize=256)
def fontconfig_font_for(ch: str) -> FontSpec | None:
    """A system font with a glyph for ``ch`` found by ``fc-list``; None without fontconfig."""
    fmt = "%{file}\\t%{index}\\n"
    lines = _fc_run(["fc-list", "-f", fmt, f":charset={ord(ch):x}"])
    bold = [ln for ln in lines if "Bold" in ln] + sorted(lines)
    for line in bold:
        spec = _parse_fc(line)
        if spec is not None and ord(ch) in _coverage(spec.path, spec.index):
            return spec
    return None


@functools.lru_cache(maxsize=16)
def fontconfig_font_for_lang(target_lang: str) -> FontSpec | None:
    """fontconfig's best bold font for a target language (``fc-match``); None without it."""
    lang = _FC_LANG[script_of(target_lang)]
    lines = _fc_run(["fc-match", "-f", "%{file}\\t%{index}\\n", f":lang={lang}:weight=bold"])
    return _parse_fc(lines[0]) if lines else None


def build_chain(
    user_fonts: tuple[Path, ...], target_lang: str, *, system_fonts: bool = True
) -> FontChain:
    """User fonts, then the shipped fonts, then (when none is shipped) fontconfig's match.

    Raises :class:`MissingFontError` when a user font is missing or unreadable, or when the
    chain cannot draw the target script (the message names the first character lacking).
    """
    specs: list[FontSpec] = []
    for path in user_fonts:
        if not Path(path).is_file():
            raise MissingFontError(f"font file not found: {path} (given with --font)")
        specs.append(FontSpec(Path(path), 0, "user"))
    specs.extend(shipped_fonts(target_lang))
    if system_fonts and not any(s.origin == "shipped" for s in specs):
        match = fontconfig_font_for_lang(target_lang)
        if match is not None:
            specs.append(match)
    chain = FontChain.of(specs, target_lang, system_fonts)
    lacking = chain.missing(_SAMPLES[script_of(target_lang)])
    if lacking:
        raise MissingFontError(
            f"the fonts cannot draw {target_lang} text: " + _missing_message(lacking[0], chain)
        )
    return chain
