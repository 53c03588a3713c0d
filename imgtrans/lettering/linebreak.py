"""Line breaking by script: where a line may end, independent of any font.

Text is cut into :class:`Atom` s, the units a line never splits: a word for Korean and
Latin scripts (a line break at a space drops the space), a kinsoku-glued cluster (or a
budoux phrase of clusters) for Japanese and Chinese. An atom wider than a whole line may be
split into its ``parts`` (syllables, letters, clusters): only then does a word break.
:func:`wrap` fills lines of given widths greedily with any width function.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from imgtrans.lettering import script_of

# Kinsoku shori (JIS X 4051 simplified): characters that may not start a line...
NO_START = set(
    ")]}）］｝〕〉》」』】〙〗〟’”｠»"
    "、。，．,.・：；:;？！?!‼⁇⁈⁉…‥〜～ー゠"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ゝゞヽヾ々〻"
)
# ...and characters that may not end one.
NO_END = set("([{（［｛〔〈《「『【〘〖〝‘“｟«")
_LATIN_RUN = re.compile(r"[0-9A-Za-z\u00C0-\u024F'’%$#&+\-.,:]+")
_REPEAT = ("…", "‥", "—", "―", "ー", "！", "？", "!", "?", "〜", "～")


@dataclass(frozen=True)
class Atom:
    """A unit a line never splits unless it is wider than a whole line.

    ``space_before``: a space separated it from the previous atom (dropped at a line start).
    ``parts``: the smaller units it may be split into, in order (joined they give ``text``).
    ``new_line``: it starts a line (the text had a line break before it).
    ``hyphen``: a piece split off the front of it ends with a hyphen (Latin words).
    ``breakable``: it may be split at all (the fit clears it for words that some line
    holds whole at the minimum size).
    """

    text: str
    space_before: bool = False
    parts: tuple[str, ...] = ()
    new_line: bool = False
    hyphen: bool = False
    breakable: bool = True


def atoms(text: str, lang: str, *, phrases: bool = True) -> list[Atom]:
    """``text`` cut into atoms for target language ``lang``.

    Korean and Latin scripts break at spaces only; Japanese and Chinese between clusters
    with kinsoku rules, at budoux phrase boundaries when ``phrases`` (and budoux) allow.
    A newline in ``text`` (e.g. typed into a sidecar) forces a line break there.
    """
    out: list[Atom] = []
    for k, paragraph in enumerate(text.replace("\r\n", "\n").split("\n")):
        part = _paragraph_atoms(paragraph, lang, phrases)
        if k and part:
            part[0] = replace(part[0], new_line=True)
        out.extend(part)
    return out


def _paragraph_atoms(text: str, lang: str, phrases: bool) -> list[Atom]:
    script = script_of(lang)
    words = text.split()
    if script in ("ko", "latin"):
        latin = script == "latin"
        return [Atom(w, i > 0, tuple(_letters(w)), hyphen=latin) for i, w in enumerate(words)]
    out: list[Atom] = []
    for i, word in enumerate(words):
        out.extend(_cjk_atoms(word, script, lang, i > 0, phrases))
    return out


def _letters(word: str) -> list[str]:
    """Letters of a word, keeping a combining mark or closing punctuation with its letter."""
    out: list[str] = []
    for ch in word:
        if out and (ch in NO_START or _is_mark(ch) or out[-1][-1] in NO_END):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


def clusters(text: str) -> list[str]:
    """CJK text (no spaces) cut into the smallest units a line may end between.

    Latin runs (words, numbers) stay whole; repeated marks ("……", "！？") stay together;
    a no-start character joins the cluster before it, a no-end character the one after.
    """
    raw: list[str] = []
    pos = 0
    while pos < len(text):
        m = _LATIN_RUN.match(text, pos)
        if m:
            raw.append(m.group())
            pos = m.end()
            continue
        ch = text[pos]
        if raw and ch in _REPEAT and raw[-1][-1] == ch:
            raw[-1] += ch
        else:
            raw.append(ch)
        pos += 1
    out: list[str] = []
    for unit in raw:
        if out and (unit[0] in NO_START or out[-1][-1] in NO_END or _is_mark(unit[0])):
            out[-1] += unit
        else:
            out.append(unit)
    return out


@functools.lru_cache(maxsize=4)
def _budoux_parser(script: str, lang: str) -> object | None:
    try:
        import budoux
    except ImportError:
        return None
    if script == "ja":
        return budoux.load_default_japanese_parser()
    traditional = any(tag in lang.lower() for tag in ("hant", "tw", "hk", "mo"))
    if traditional:
        return budoux.load_default_traditional_chinese_parser()
    return budoux.load_default_simplified_chinese_parser()


def _phrase_starts(word: str, script: str, lang: str) -> set[int]:
    parser = _budoux_parser(script, lang)
    if parser is None:
        return set()
    starts: set[int] = set()
    pos = 0
    for phrase in parser.parse(word):  # type: ignore[attr-defined]
        starts.add(pos)
        pos += len(phrase)
    return starts


def _cjk_atoms(word: str, script: str, lang: str, space: bool, phrases: bool) -> list[Atom]:
    units = clusters(word)
    if not phrases:
        return [Atom(u, space and i == 0, (u,)) for i, u in enumerate(units)]
    starts = _phrase_starts(word, script, lang)
    groups: list[list[str]] = []
    pos = 0
    for unit in units:
        if not groups or pos in starts:
            groups.append([unit])
        else:
            groups[-1].append(unit)
        pos += len(unit)
    return [Atom("".join(g), space and i == 0, tuple(g)) for i, g in enumerate(groups)]


def join(line: Sequence[Atom]) -> str:
    """The text of one line: atoms joined, with a space where the source had one."""
    return "".join((" " if a.space_before and i else "") + a.text for i, a in enumerate(line))


def wrap(
    items: Sequence[Atom],
    widths: Sequence[float],
    measure: Callable[[str], float],
    split: bool = True,
    split_above: float | None = None,
) -> list[str] | None:
    """Fill lines of ``widths`` (one per line, in order) greedily; None if the text overflows.

    ``measure(s)`` is the advance of string ``s``. Words are never split to fit a line: an
    atom that does not fit an empty line is split into its parts only when ``split`` and
    it is wider than ``split_above`` (default: the widest line), i.e. when no line could
    hold it whole; otherwise, or when a part does not fit an empty line, the text cannot
    be set at these widths.
    """
    queue = list(items)
    lines: list[str] = []
    widest = max(widths, default=0.0) if split_above is None else split_above
    for width in widths:
        if not queue:
            break
        line: list[Atom] = []
        while queue:
            if line and queue[0].new_line:
                break
            candidate = [*line, queue[0]]
            if measure(join(candidate)) <= width:
                line = candidate
                queue.pop(0)
                continue
            if line:
                break
            if not (split and queue[0].breakable) or measure(queue[0].text) <= widest:
                return None
            head = _split_to_fit(queue[0], width, measure)
            if head is None:
                return None
            line = [head[0]]
            queue[0] = head[1]
            break
        lines.append(join(line))
    return None if queue else lines


def _split_to_fit(
    atom: Atom, width: float, measure: Callable[[str], float]
) -> tuple[Atom, Atom] | None:
    """The longest leading run of ``atom``'s parts that fits ``width`` (with its hyphen),
    and the rest."""
    parts = atom.parts
    mark = "-" if atom.hyphen else ""
    best = 0
    for n in range(1, len(parts)):
        head = "".join(parts[:n])
        if measure(head + (mark if not head.endswith("-") else "")) > width:
            break
        best = n
    if best == 0:
        return None
    text = "".join(parts[:best])
    text += mark if not text.endswith("-") else ""
    head_atom = Atom(text, atom.space_before, parts[:best], atom.new_line)
    rest = parts[best:]
    return head_atom, Atom("".join(rest), False, rest, hyphen=atom.hyphen)


def split_words(items: Sequence[Atom], lines: Sequence[str]) -> tuple[str, ...]:
    """The atoms of ``items`` that ``lines`` do not hold whole (they were split)."""
    out: list[str] = []
    for atom in items:
        if not any(atom.text in line for line in lines) and atom.text not in out:
            out.append(atom.text)
    return tuple(out)
