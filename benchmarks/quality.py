"""Lettering quality on real pages: what a reader would reject, counted per page.

    python benchmarks/quality.py [FOLDER] [--to ko en] [--out DIR] [--cache DIR]
                                 [--json FILE] [--limit N] [--no-residue]
                                 [--inpainter opencv|auto]

Translates every image under FOLDER (default ``../shared/devset``) in this process, stage by
stage (OCR, mask, inpaint, render: the real stage functions, OpenCV inpainting by default),
with benchmark translations instead of a translator:

- OpenMantra pages (``openmantra_ground_truth.json`` beside the images) at ``--to en`` get
  the professional English translation of the balloon whose box overlaps the block most;
  when one balloon was detected as several blocks its words are shared out between them in
  proportion to their source text;
- every other block (and every block at ``--to ko``: there is no Korean reference) gets
  filler text of realistic length: real words of the target language, as many characters as
  a translation from the source script usually has (:data:`RATIO`). Filler is a benchmark
  helper, not a translator.

Per page and in total it reports (``blocks`` = blocks to translate, each given a text):

- ``blank``: blocks erased and left with nothing drawn (``kept`` blocks are not erased);
- ``fragments``: drawn tokens that are not whole words of the block's translation, except
  pieces of a word the sidecar records as split (``splits``, counted apart);
- ``overflow`` / ``kept``: render statuses;
- ``residue``: source-script characters OCR reads again on the output within the translated
  blocks' boxes, over the source-script characters of those blocks. The new lettering is
  taken away first (its pixels set back to the erased image's): the recogniser has no
  Hangul and reads Korean lettering as stray Han characters. Not measured when the target
  is written in the source's script (an English page at ``--to en``);
- ``outside``: blocks with drawn pixels outside every lettering area;
- ``on_ink``: blocks whose drawn pixels land on ink left in the erased image (pixels far
  from the block's background colour: strokes not erased, artwork) for more than 3 %
  (not counting what is drawn on an ``overflow`` block's backing, which covers the ink);
- ``letter_ms``: CPU ms of the render stage for the page.

``--out DIR`` writes each output image (JPEG) and its sidecar for looking at. ``--cache DIR``
keeps the OCR'd and erased pages (pickles) so that a rerun measures lettering alone; delete
it after changing OCR, masks or inpainting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imgtrans import sidecar  # noqa: E402
from imgtrans.discover import IMAGE_SUFFIXES  # noqa: E402
from imgtrans.options import InpaintOptions, MaskOptions, OcrOptions, RenderOptions  # noqa: E402
from imgtrans.page import BBox, Page, TextBlock  # noqa: E402

DEVSET = ROOT.parent / "shared" / "devset"
GROUND_TRUTH = "openmantra_ground_truth.json"
# Characters of a translation per source character, by (source script, target).
RATIO = {
    ("ja", "ko"): 1.0,
    ("zh", "ko"): 1.4,
    ("latin", "ko"): 0.5,
    ("ko", "ko"): 1.0,
    ("ja", "en"): 2.3,
    ("zh", "en"): 3.0,
    ("latin", "en"): 1.0,
    ("ko", "en"): 2.0,
}
KO_TEXT = (
    "선생님은 오늘은 그렇게 고마워 정말 괜찮아? 어디로 가는 거야 우리가 이번에는 절대로 말하지 "
    "않을게 무슨 일이야! 잠깐만 기다려 봐 여기서 뭐 하는 거지? 그러니까 내가 말했잖아 너는 "
    "언제나 혼자서 모든 걸 하려고 해 조심해 위험하니까 빨리 도망쳐! 아무도 모르게 해야 돼 "
    "마피아를 얕보지 마라 보디가드라고? 눈을 감은 녀석이 허리에 찬 총으로 머리를 날려 줄까? "
    "제발 그만해 이런 데서! 응? 저기요... 아... 어? 친구들이랑 학교에서 기다리고 있었어"
)
EN_TEXT = (
    "don't mess with us ah closed-eyes for a bodyguard? do you want me to shoot your brains "
    "out?! huh? er... hey, just please stop! what are you doing here? I told you already "
    "everyone absolutely understand the situation tonight we have to leave before they find "
    "out wait a second that's impossible listen carefully nobody believes me anyway "
    "unbelievable you're kidding, right? thank you so much I'm sorry"
)
KO_WORDS = tuple(KO_TEXT.split())
EN_WORDS = tuple(EN_TEXT.split())
TOKEN_EDGE = "\"'“”‘’()[]「」『』"


def script_of_text(text: str) -> str:
    """The script most of ``text``'s letters are in: ja, zh, ko or latin."""
    kana = sum(1 for c in text if "\u3040" <= c <= "\u30ff")
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    best = max((kana, "ja"), (han, "zh"), (hangul, "ko"), (latin, "latin"))
    return "ja" if best[1] == "zh" and kana else best[1]


def source_chars(text: str, script: str) -> int:
    """Characters of ``text`` in the source script (kana + han, han, hangul or Latin letters)."""
    if script == "ja":
        return sum(1 for c in text if "\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff")
    if script == "zh":
        return sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    if script == "ko":
        return sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
    return sum(1 for c in text if c.isascii() and c.isalpha())


def filler(seed: str, n_chars: int, target: str) -> str:
    """Real words of ``target`` (ko/en) adding up to about ``n_chars`` characters."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    words = KO_WORDS if target == "ko" else EN_WORDS
    out: list[str] = []
    while not out or len(" ".join(out)) < n_chars:
        out.append(rng.choice(words))
    return " ".join(out)


def _overlap(a: BBox, b: BBox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return 0.0 if w <= 0 or h <= 0 else w * h / max(1, a.width * a.height)


def reference(root: Path) -> dict[str, list[tuple[BBox, str]]]:
    """OpenMantra English references by image file name: [(balloon box, text_en)]."""
    path = root / GROUND_TRUTH
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[tuple[BBox, str]]] = {}
    for page in doc["pages"]:
        boxes = [
            (BBox(t["x"], t["y"], t["x"] + t["w"], t["y"] + t["h"]), t["text_en"])
            for t in page["text"]
        ]
        out[Path(page["file"]).name] = boxes
    return out


def assign(page: Page, target: str, refs: list[tuple[BBox, str]]) -> tuple[Page, int]:
    """The page with a benchmark translation on every block to translate; and how many
    came from the reference."""
    todo = [b for b in page.blocks if b.translate and b.text]
    owner: dict[int, int] = {}
    if target == "en":
        for b in todo:
            scores = [_overlap(b.bbox, box) for box, _ in refs]
            if scores and max(scores) >= 0.3:
                owner[b.id] = int(np.argmax(scores))
    texts: dict[int, str] = {}
    for ref_index, (_, text) in enumerate(refs):
        mine = [b for b in todo if owner.get(b.id) == ref_index]
        texts.update(_share(text, mine))
    for b in todo:
        if b.id not in texts:
            n = len(b.text) * RATIO.get((script_of_text(b.text), target), 1.0)
            texts[b.id] = filler(f"{page.rel_path}:{b.id}:{target}", max(2, round(n)), target)
    blocks = tuple(replace(b, translation=texts.get(b.id)) for b in page.blocks)
    return replace(page, blocks=blocks), len(owner)


def _share(text: str, blocks: list[TextBlock]) -> dict[int, str]:
    """``text``'s words shared out between ``blocks`` in proportion to their source text."""
    words = text.split()
    if not blocks or not words:
        return {}
    weights = np.cumsum([len(b.text) for b in blocks], dtype=np.float64)
    cuts = [round(len(words) * w / weights[-1]) for w in weights]
    out, start = {}, 0
    for b, end in zip(blocks, cuts, strict=True):
        out[b.id] = " ".join(words[start:end]) or words[min(start, len(words) - 1)]
        start = end
    return out


@dataclass
class Counts:
    blocks: int = 0
    from_reference: int = 0
    blank: int = 0
    fragments: int = 0
    tokens: int = 0
    splits: int = 0
    overflow: int = 0
    kept: int = 0
    residue_read: int = 0
    residue_source: int = 0
    outside: int = 0
    on_ink: int = 0
    letter_ms: float = 0.0
    examples: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            if name != "examples":
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.examples.extend(other.examples)


def _clean_token(token: str) -> str:
    return token.strip(TOKEN_EDGE)


def word_fragments(block: TextBlock, counts: Counts) -> None:
    """Count drawn tokens that are not whole words of the translation."""
    render = block.render
    if render is None or not render.lines or block.translation is None:
        return
    words = {_clean_token(w) for w in block.translation.split()}
    split_words = {_clean_token(w) for w in render.split_words}
    for line in render.lines:
        for token in line.split():
            counts.tokens += 1
            tok = _clean_token(token)
            if tok in words:
                continue
            if any(tok.rstrip("-") in w for w in split_words):
                counts.splits += 1
                continue
            counts.fragments += 1
            if len(counts.examples) < 6:
                counts.examples.append(f"{tok!r} of {block.translation!r}")


def _drawn(page: Page, kept: list[TextBlock]) -> np.ndarray:
    """bool HxW: pixels the render stage changed, less blocks whose source was put back."""
    assert page.output is not None and page.clean is not None
    diff = np.abs(page.output.astype(np.int16) - page.clean.astype(np.int16)).max(axis=2) > 24
    for b in kept:
        box = b.bbox.grow(8, page.width, page.height)
        diff[box.y0 : box.y1, box.x0 : box.x1] = False
    return np.asarray(diff)


def _poly_mask(shape: tuple[int, int], polygon: tuple[tuple[float, float], ...]) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    if len(polygon) >= 3:
        cv2.fillPoly(m, [np.round(np.array(polygon)).astype(np.int32)], 1)
    return m.astype(bool)


def placement(page: Page, counts: Counts) -> None:
    """Count blocks drawn outside every area, and blocks drawn over ink left behind."""
    assert page.clean is not None
    lettered = [b for b in page.blocks if b.render is not None and b.render.lines]
    kept = [b for b in page.blocks if b.render is not None and b.render.status == "kept"]
    drawn = _drawn(page, kept)
    shape = drawn.shape
    areas = [_poly_mask(shape, b.render.area_polygon) for b in lettered if b.render]
    union = np.zeros(shape, bool)
    for a in areas:
        union |= a
    union = cv2.dilate(union.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    clean = page.clean.astype(np.int16)
    for b, area in zip(lettered, areas, strict=True):
        assert b.render is not None and b.render.area is not None and b.style is not None
        size = b.render.font_size or 10
        box = b.render.area.grow(size, page.width, page.height)
        sl = (slice(box.y0, box.y1), slice(box.x0, box.x1))
        if (drawn[sl] & ~union[sl]).sum() >= 5:
            counts.outside += 1
        glyphs = drawn & area
        if b.render.backing is not None:  # lettered on a plate: the ink under it is covered
            k = b.render.backing
            glyphs[k.y0 : k.y1, k.x0 : k.x1] = False
        n = int(glyphs.sum())
        if n:
            bg = np.array(b.style.background_color, np.int16)
            ink = np.abs(clean[glyphs] - bg).max(axis=1) > 96
            counts.on_ink += int(ink.sum() > 0.03 * n)


def residue(page: Page, read: Page, script: str, counts: Counts) -> None:
    """Source-script characters read on the output within the translated blocks' boxes."""
    boxes = [b.bbox for b in page.blocks if b.translate and b.text and b.translation]
    counts.residue_source += sum(
        source_chars(b.text, script) for b in page.blocks if b.translate and b.translation
    )
    for block in read.blocks:
        for line in block.lines:
            if any(_overlap(line.bbox, box) > 0.3 for box in boxes):
                counts.residue_read += source_chars(line.text, script)


def measure(page: Page, target: str, read: Page | None) -> Counts:
    counts = Counts()
    for b in page.blocks:
        if not (b.translate and b.translation):
            continue
        counts.blocks += 1
        r = b.render
        status = r.status if r else "none"
        counts.overflow += status == "overflow"
        counts.kept += status == "kept"
        if status != "kept" and (r is None or not r.lines):
            counts.blank += 1
        word_fragments(b, counts)
    placement(page, counts)
    script = script_of_text(" ".join(b.text for b in page.blocks if b.translate))
    same = (script == "latin" and target == "en") or script == target
    if read is not None and not same:
        residue(page, read, script, counts)
    return counts


class Runner:
    """The stages of one run, models loaded once."""

    def __init__(self, inpainter: str, cache: Path | None) -> None:
        from imgtrans.api import make_inpainter
        from imgtrans.stages.ocr import OcrEngine, make_backend

        self.engine = OcrEngine(OcrOptions(), make_backend("cpu"), batch_size=1)
        self.inpainter = make_inpainter(InpaintOptions(inpainter=inpainter), "cpu")  # type: ignore[arg-type]
        self.cache = cache

    def erased(self, path: Path, rel: str) -> Page:
        from imgtrans.stages.mask import mask
        from imgtrans.stages.preprocess import load_page

        key = hashlib.sha256(f"{path.resolve()}:{path.stat().st_mtime_ns}".encode()).hexdigest()
        cached = self.cache / f"{key[:24]}.pickle" if self.cache else None
        if cached is not None and cached.is_file():
            page: Page = pickle.loads(cached.read_bytes())
            return page
        page = load_page(path, rel, 400_000_000)
        [page] = mask(self.engine([page]), MaskOptions())
        [page] = self.inpainter([page])
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps(page))
        return page

    def read(self, image: np.ndarray) -> Page:
        """OCR of ``image`` (kept in the cache by the image's hash)."""
        key = hashlib.sha256(image.tobytes()).hexdigest()[:24]
        cached = self.cache / f"read-{key}.pickle" if self.cache else None
        if cached is not None and cached.is_file():
            page: Page = pickle.loads(cached.read_bytes())
            return page
        blank = Page(Path("out.png"), "out.png", "0" * 64, image)
        page = replace(self.engine([blank])[0], image=np.zeros((8, 8, 3), np.uint8))
        if cached is not None:
            cached.write_bytes(pickle.dumps(page))
        return page


def unlettered(page: Page) -> np.ndarray:
    """The output with the new lettering taken away (what is left of the source text)."""
    assert page.output is not None and page.clean is not None
    kept = [b for b in page.blocks if b.render is not None and b.render.status == "kept"]
    drawn = _drawn(page, kept)
    out = page.output.copy()
    out[drawn] = page.clean[drawn]
    return out


def letter(page: Page, target: str) -> tuple[Page, float]:
    from imgtrans.stages.render import render

    start = time.process_time()
    [done] = render([page], RenderOptions(), target)
    return done, (time.process_time() - start) * 1000


def save(out: Path, page: Page, target: str) -> None:
    from PIL import Image

    from imgtrans.sidecar import RunInfo

    assert page.output is not None
    stem = f"{Path(page.rel_path).stem}.{target}"
    out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(page.output).save(out / f"{stem}.jpg", quality=92)
    run = RunInfo("bench", {}, "benchmark", "0" * 64, "opencv", "auto", target)
    doc = sidecar.page_json(page, run, f"{stem}.jpg", "ok")
    (out / f"{stem}.imgtrans.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1))


def images(folder: Path) -> list[Path]:
    root = folder / "images" if (folder / "images").is_dir() else folder
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def report(target: str, rows: list[tuple[str, Counts]]) -> dict[str, Any]:
    total = Counts()
    print(f"\n--to {target}")
    head = "page blocks ref blank frag/tokens splits overflow kept residue outside on_ink ms"
    print(head.replace(" ", "\t"))
    for name, c in rows:
        total.add(c)
        res = f"{c.residue_read}/{c.residue_source}" if c.residue_source else "-"
        print(
            f"{name[:36]}\t{c.blocks}\t{c.from_reference}\t{c.blank}\t{c.fragments}/{c.tokens}"
            f"\t{c.splits}\t{c.overflow}\t{c.kept}\t{res}\t{c.outside}\t{c.on_ink}"
            f"\t{c.letter_ms:.0f}"
        )
    blocks = max(1, total.blocks)
    summary = {
        "target": target,
        "pages": len(rows),
        "blocks": total.blocks,
        "from_reference": total.from_reference,
        "blank": total.blank,
        "fragments": total.fragments,
        "tokens": total.tokens,
        "fragment_share": total.fragments / max(1, total.tokens),
        "splits": total.splits,
        "overflow": total.overflow,
        "overflow_share": total.overflow / blocks,
        "kept": total.kept,
        "residue_share": total.residue_read / max(1, total.residue_source),
        "outside": total.outside,
        "on_ink": total.on_ink,
        "letter_ms_median": statistics.median([c.letter_ms for _, c in rows]) if rows else 0.0,
        "fragment_examples": total.examples,
        "per_page": {name: {k: v for k, v in vars(c).items()} for name, c in rows},
    }
    print(
        f"TOTAL --to {target}: {total.blocks} blocks, blank {total.blank}, fragments "
        f"{total.fragments}/{total.tokens} ({100 * summary['fragment_share']:.1f} %), splits "
        f"{total.splits}, overflow {total.overflow} ({100 * summary['overflow_share']:.1f} %), "
        f"kept {total.kept}, residue {total.residue_read}/{total.residue_source} "
        f"({100 * summary['residue_share']:.1f} %), outside {total.outside}, on_ink "
        f"{total.on_ink}, lettering median {summary['letter_ms_median']:.0f} ms CPU/page"
    )
    for example in total.examples[:20]:
        print("  fragment:", example)
    return summary


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    paths = images(args.folder)[: args.limit or None]
    if not paths:
        raise SystemExit(f"no images under {args.folder}")
    refs = reference(args.folder)
    runner = Runner(args.inpainter, args.cache)
    erased = [runner.erased(p, p.name) for p in paths]
    summaries = []
    for target in args.to:
        rows = []
        for page in erased:
            given, n_ref = assign(page, target, refs.get(Path(page.rel_path).name, []))
            done, ms = letter(given, target)
            assert done.output is not None
            read = None if args.no_residue else runner.read(unlettered(done))
            counts = measure(done, target, read)
            counts.from_reference, counts.letter_ms = n_ref, ms
            rows.append((page.rel_path, counts))
            if args.out:
                save(args.out, done, target)
        summaries.append(report(target, rows))
    return summaries


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=DEVSET)
    ap.add_argument("--to", nargs="+", default=["ko", "en"], choices=["ko", "en"])
    ap.add_argument("--out", type=Path, help="write output images and sidecars here")
    ap.add_argument("--cache", type=Path, help="keep OCR'd and erased pages here")
    ap.add_argument("--json", type=Path, help="write the totals and per-page counts here")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images")
    ap.add_argument("--no-residue", action="store_true", help="skip OCR of the output")
    ap.add_argument("--inpainter", default="opencv", choices=["opencv", "auto", "lama"])
    args = ap.parse_args(argv)
    if not args.folder.is_dir():
        raise SystemExit(f"{args.folder}: no such folder (the dev set lives in ../shared/devset)")
    summaries = run(args)
    if args.json:
        args.json.write_text(json.dumps(summaries, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
