"""Build the fonts shipped with imgtrans from Debian's ``fonts-noto-cjk`` package.

Run from the repository root (needs ``fonttools`` and the Debian package installed)::

    python fonts/build_fonts.py            # rebuild fonts/*.otf and fonts/OFL.txt
    python fonts/build_fonts.py --check    # rebuild into a temp dir, compare with fonts/

The output is byte-for-byte reproducible: fixed subsetter options, fixed code-point lists,
and the font's ``head.modified`` timestamp left as it is in the source font.

Outputs (all Bold, CFF outlines, layout features kept for horizontal and vertical text):

- ``NotoSansKR-Bold-subset.otf``: Korean face; all 11,172 Hangul syllables, compatibility
  jamo, kana (for ー and ・ kept in translations), ASCII, Latin-1, punctuation, CJK symbols,
  fullwidth forms.
- ``NotoSansJP-Bold-subset.otf``: Japanese face; kana, all JIS X 0208 characters (level 1
  and 2 kanji, symbols, Greek, Cyrillic), plus the common ranges above.
- ``NotoSansSC-Bold-subset.otf``: Simplified Chinese face; all GB 2312 characters (level 1
  and 2 hanzi, symbols), kana, plus the common ranges above.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE_TTC = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
SOURCE_COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
# sha256 of NotoSansCJK-Bold.ttc in Debian fonts-noto-cjk 1:20220127+repack1-1
SOURCE_SHA256 = "faa5f3656a78b2e2d450d27fe8382c778bc2b6bb5ea29c986664a6a435056ceb"
FONTS_DIR = Path(__file__).resolve().parent

# Face numbers inside NotoSansCJK-Bold.ttc.
FACE_JP, FACE_KR, FACE_SC, FACE_TC = 0, 1, 2, 3

# GSUB/GPOS features kept: composition, localisation, kerning, proportional/half widths and
# every vertical-writing feature (vert/vrt2 glyph forms, vkrn/vpal/vhal positioning).
# 'aalt', 'hist', 'ruby', 'dlig' are dropped: they only pull in rarely wanted alternates.
LAYOUT_FEATURES = (
    "ccmp",
    "locl",
    "calt",
    "liga",
    "kern",
    "mark",
    "mkmk",
    "palt",
    "halt",
    "fwid",
    "hwid",
    "pwid",
    "vert",
    "vrt2",
    "vkrn",
    "vpal",
    "vhal",
)


def _span(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


# Ranges every face gets: ASCII, Latin-1, general punctuation, arrows, a few symbols used
# in comics (stars, hearts, notes, circles), CJK symbols and punctuation, fullwidth forms.
COMMON = (
    _span(0x20, 0x7E)
    + _span(0xA0, 0xFF)
    + _span(0x2000, 0x206F)
    + _span(0x2190, 0x2193)
    + [0x25A0, 0x25A1, 0x25B2, 0x25B3, 0x25CB, 0x25CE, 0x25CF, 0x2605, 0x2606]
    + [0x2661, 0x2665, 0x266A, 0x266B]
    + _span(0x3000, 0x303F)
    + _span(0xFF00, 0xFFEF)
)
KANA = _span(0x3040, 0x30FF) + _span(0x31F0, 0x31FF)
HANGUL = _span(0x3130, 0x318F) + _span(0xAC00, 0xD7A3)


def _double_byte_charset(codec: str, rows: range) -> list[int]:
    """Code points of a 94x94 charset (EUC form) in the given rows, in row/cell order."""
    out: list[int] = []
    for row in rows:
        for cell in range(1, 95):
            try:
                text = bytes([0xA0 + row, 0xA0 + cell]).decode(codec)
            except UnicodeDecodeError:
                continue
            out.append(ord(text))
    return out


def jis_x_0208() -> list[int]:
    """JIS X 0208: rows 1-8 (symbols, kana, Greek, Cyrillic), 16-47 level 1, 48-84 level 2."""
    return _double_byte_charset("euc_jp", range(1, 9)) + _double_byte_charset(
        "euc_jp", range(16, 85)
    )


def gb_2312() -> list[int]:
    """GB 2312: rows 1-9 (symbols, kana, Greek, ...), 16-55 level 1, 56-87 level 2."""
    return _double_byte_charset("gb2312", range(1, 10)) + _double_byte_charset(
        "gb2312", range(16, 88)
    )


def big5_level1() -> list[int]:
    """Big5: symbols (lead bytes A1-A3) and the 5,401 frequently used hanzi (A4-C6)."""
    out = []
    for lead in range(0xA1, 0xC7):
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            try:
                ch = bytes([lead, trail]).decode("big5")
            except UnicodeDecodeError:
                continue
            out.extend(ord(c) for c in ch)
    return out


@dataclass(frozen=True)
class FontSpec:
    """One output font: which face of the TTC and which code points."""

    filename: str
    face: int
    codepoints: tuple[int, ...]


def font_specs() -> list[FontSpec]:
    return [
        FontSpec("NotoSansKR-Bold-subset.otf", FACE_KR, tuple(sorted(set(COMMON + KANA + HANGUL)))),
        FontSpec(
            "NotoSansJP-Bold-subset.otf", FACE_JP, tuple(sorted(set(COMMON + KANA + jis_x_0208())))
        ),
        FontSpec(
            "NotoSansSC-Bold-subset.otf", FACE_SC, tuple(sorted(set(COMMON + KANA + gb_2312())))
        ),
        FontSpec(
            "NotoSansTC-Bold-subset.otf", FACE_TC, tuple(sorted(set(COMMON + KANA + big5_level1())))
        ),
    ]


def _subset_options() -> subset.Options:
    opts = subset.Options()
    opts.layout_features = list(LAYOUT_FEATURES)
    opts.name_IDs = ["*"]  # keep copyright, licence and licence-URL records
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = True
    opts.desubroutinize = False
    opts.drop_tables = list(opts.drop_tables)
    return opts


def build_font(spec: FontSpec, out_dir: Path, source: Path = SOURCE_TTC) -> Path:
    """Subset one face of ``source`` into ``out_dir/spec.filename``; returns the path."""
    font = TTFont(source, fontNumber=spec.face, recalcTimestamp=False)
    subsetter = subset.Subsetter(_subset_options())
    subsetter.populate(unicodes=spec.codepoints)
    subsetter.subset(font)
    out = out_dir / spec.filename
    font.save(out)
    font.close()
    return out


def write_licence(out_dir: Path, copyright_file: Path = SOURCE_COPYRIGHT) -> Path:
    """Write OFL.txt: the font's copyright line and the SIL OFL 1.1 text from Debian."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    start = lines.index("License: SIL-1.1", lines.index("Files: debian/*"))
    body: list[str] = []
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        body.append("" if line == " ." else line[1:])
    header = [
        "Noto Sans CJK (subsets shipped with imgtrans)",
        "Copyright (c) 2014-2021 Adobe (http://www.adobe.com/).",
        "Noto is a trademark of Google Inc.",
        "",
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        "This license is copied below, and is also available with a FAQ at:",
        "https://openfontlicense.org",
        "",
    ]
    out = out_dir / "OFL.txt"
    out.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_all(out_dir: Path) -> list[Path]:
    """Build every font and the licence into ``out_dir``."""
    if not SOURCE_TTC.is_file():
        raise SystemExit(
            f"{SOURCE_TTC} not found: install it with `apt-get install fonts-noto-cjk`"
        )
    if _sha256(SOURCE_TTC) != SOURCE_SHA256:
        print(
            f"warning: {SOURCE_TTC} is not the pinned Debian build; output will differ",
            file=sys.stderr,
        )
    paths = [build_font(spec, out_dir) for spec in font_specs()]
    paths.append(write_licence(out_dir))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare a rebuild with fonts/")
    parser.add_argument("--out", type=Path, default=FONTS_DIR, help="output directory")
    args = parser.parse_args(argv)
    if not args.check:
        for path in build_all(args.out):
            print(f"{path.name}\t{path.stat().st_size}\t{_sha256(path)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        differ = [p.name for p in build_all(Path(tmp)) if _sha256(p) != _sha256(FONTS_DIR / p.name)]
    for name in differ:
        print(f"differs: {name}", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
