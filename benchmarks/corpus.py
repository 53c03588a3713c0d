"""A deterministic synthetic manga corpus for the benchmarks, with ground truth and a TM.

    python benchmarks/corpus.py OUT [--spreads 8] [--strips 1] [--small] [--seed 0]

Writes into OUT:

- ``images/spread_NNN.jpg``: 1654 x 1170 two-page manga spreads (two 827 x 1170 pages side by
  side): panel grids, screentone dots, gradients, speed lines, hills and figures, white
  elliptic balloons holding vertical Japanese (2-4 columns, drawn with the shipped
  ``fonts/NotoSansJP-Bold-subset.otf`` and raqm's ``vert`` forms) and, on most pages, one
  block of vertical text lettered straight over the art with a white outline.
- ``images/strip_NNN.jpg``: 690 x 19332 webtoon strips (690 x 4833 with ``--small``):
  stacked panels with horizontal Japanese in balloons, narration boxes and balloons in the
  gutters.
- ``ground_truth.json``: per image its size and blocks (kind, direction, lines in reading
  order with their text boxes, the joined block text), as in examples/pages.
- ``tm.tsv``: every drawn block text -> a Korean translation, so ``--translator tm``
  translates every block that OCR reads exactly, at no cost.

Same seed, same Pillow and same fonts: byte-identical files. The drawing primitives are the
ones of examples/page_art.py (imported), the sentences are listed here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from page_art import (  # noqa: E402 - examples/ is not a package
    BLACK,
    WHITE,
    BlockTruth,
    Box,
    LineTruth,
    balloon,
    caption,
    figure,
    hills,
    letter_horizontal,
    letter_vertical,
    panel,
    screentone,
    speed_lines,
    vertical_gradient,
)

FONT_JP = ROOT / "fonts" / "NotoSansJP-Bold-subset.otf"
SPREAD_W, SPREAD_H = 1654, 1170
STRIP_W, STRIP_H = 690, 19332
PAPER = (252, 252, 250)
VERT = {"direction": "ttb", "features": ["vert"]}

# (Japanese, Korean): the block texts drawn and their TM translations.
SENTENCES: tuple[tuple[str, str], ...] = (
    ("今日はいい天気だね", "오늘은 날씨가 좋네"),
    ("早く逃げてください", "빨리 도망치세요"),
    ("あの山の上に何かある", "저 산 위에 뭔가 있어"),
    ("本当に行くの", "정말 가는 거야?"),
    ("明日また来ます", "내일 다시 올게요"),
    ("お腹がすいたなあ", "배고프다"),
    ("どこへ行くつもりだ", "어디 갈 생각이야"),
    ("もう少しだけ待って", "조금만 더 기다려"),
    ("それは私の本です", "그건 내 책이에요"),
    ("一緒に帰ろうよ", "같이 돌아가자"),
    ("約束を忘れないで", "약속 잊지 마"),
    ("彼はまだ学校にいる", "그는 아직 학교에 있어"),
    ("この道は危ない", "이 길은 위험해"),
    ("何が起きたんだ", "무슨 일이 일어난 거야"),
    ("静かにしてください", "조용히 해 주세요"),
    ("空が赤く光っている", "하늘이 붉게 빛나고 있어"),
    ("ありがとう助かったよ", "고마워 덕분에 살았어"),
    ("ここで何をしている", "여기서 뭐 하고 있어"),
    ("電車に間に合わない", "전철 시간에 못 맞춰"),
    ("君の名前を教えて", "네 이름을 알려 줘"),
    ("絶対にあきらめない", "절대 포기하지 않아"),
    ("窓の外を見てごらん", "창밖을 봐"),
    ("昨日の夜は眠れなかった", "어젯밤엔 잠을 못 잤어"),
    ("先生が呼んでいるよ", "선생님이 부르셔"),
    ("この町は初めてです", "이 동네는 처음이에요"),
    ("雨が降りそうだね", "비가 올 것 같네"),
    ("扉を開けてはいけない", "문을 열면 안 돼"),
    ("みんなはどこにいるの", "다들 어디 있어?"),
    ("海に行きたいな", "바다에 가고 싶다"),
    ("もう時間がない", "이제 시간이 없어"),
    ("手紙を読んでくれた", "편지 읽어 줬어?"),
    ("大丈夫だから心配しないで", "괜찮으니까 걱정하지 마"),
    ("猫が屋根の上にいる", "고양이가 지붕 위에 있어"),
    ("誰かが後ろにいる", "누군가 뒤에 있어"),
    ("この地図は古すぎる", "이 지도는 너무 낡았어"),
    ("夢を見ていたみたい", "꿈을 꾸고 있었나 봐"),
    ("駅まで走ろう", "역까지 뛰자"),
    ("今夜は星がきれいだ", "오늘 밤은 별이 예쁘다"),
    ("僕が先に行く", "내가 먼저 갈게"),
    ("その話は本当ですか", "그 이야기 정말이에요?"),
    ("声が聞こえなかった", "목소리가 안 들렸어"),
    ("早く準備をしなさい", "빨리 준비해"),
    ("写真を一枚撮ろう", "사진 한 장 찍자"),
    ("森の奥に家がある", "숲 속에 집이 있어"),
    ("お茶でも飲みませんか", "차라도 마실래요?"),
    ("私も一緒に戦う", "나도 같이 싸울게"),
    ("鍵をなくしてしまった", "열쇠를 잃어버렸어"),
    ("新しい朝が来た", "새로운 아침이 왔다"),
)


@dataclass(frozen=True)
class Corpus:
    """Where :func:`make_corpus` wrote things, and what it drew."""

    root: Path
    images: tuple[Path, ...]  # in images/, spreads first
    truth: Path  # ground_truth.json
    tm: Path  # tm.tsv

    @property
    def image_dir(self) -> Path:
        return self.root / "images"


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_JP), size)


def split_text(text: str, parts: int) -> list[str]:
    """``text`` cut into ``parts`` runs of near-equal length (reading order kept)."""
    parts = max(1, min(parts, len(text)))
    bounds = np.linspace(0, len(text), parts + 1).round().astype(int)
    return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _background(img: Image.Image, rng: np.random.Generator, box: Box) -> bool:
    """Fill a panel with one kind of art; returns True when the panel is busy (not plain)."""
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    kind = int(rng.integers(0, 6))
    grey = int(rng.integers(150, 235))
    if kind == 0:
        return False  # plain paper
    if kind in (1, 4):
        vertical_gradient(img, box, (grey, grey, grey), (min(grey + 60, 250),) * 3)
    if kind in (2, 4):
        screentone(img, box, pitch=int(rng.integers(6, 11)), r_top=0.5, r_bot=2.5)
    if kind == 3:
        speed_lines(img, box, (int(rng.integers(x0, x1)), int(rng.integers(y0, y1))))
    if kind in (1, 5):
        hills(d, box, (grey - 40,) * 3, phase=float(rng.uniform(0, 6)))
    if kind >= 4 and x1 - x0 > 200 and y1 - y0 > 300:
        scale = float(rng.uniform(0.7, 1.1))
        fx = int(rng.integers(x0 + 90, x1 - 90))
        fy = int(rng.integers(y0 + 20, max(y0 + 21, y1 - int(230 * scale))))
        figure(d, fx, fy, scale, (int(rng.integers(120, 240)),) * 3)
    return True


def _panels(rng: np.random.Generator, box: Box) -> list[Box]:
    """A manga panel grid inside ``box``: 3-4 rows, each one or two panels."""
    x0, y0, x1, y1 = box
    rows = int(rng.choice([3, 3, 4]))
    weights = rng.uniform(0.7, 1.3, rows)
    edges = y0 + np.concatenate([[0], np.cumsum(weights / weights.sum())]) * (y1 - y0)
    out = []
    for r in range(rows):
        top, bottom = int(edges[r]) + (0 if r == 0 else 7), int(edges[r + 1]) - 7
        if rng.random() < 0.6:
            mid = int(x0 + (x1 - x0) * rng.uniform(0.35, 0.65))
            out += [(x0, top, mid - 7, bottom), (mid + 7, top, x1, bottom)]
        else:
            out.append((x0, top, x1, bottom))
    return out


def _place(
    rng: np.random.Generator, area: Box, size: tuple[int, int], taken: list[Box]
) -> Box | None:
    """A free ``size`` (w, h) box inside ``area`` not overlapping ``taken``, or None."""
    w, h = size
    x0, y0, x1, y1 = area
    if x1 - x0 - 16 < w or y1 - y0 - 16 < h:
        return None
    for _ in range(25):
        bx = int(rng.integers(x0 + 8, x1 - 8 - w + 1))
        by = int(rng.integers(y0 + 8, y1 - 8 - h + 1))
        cand = (bx, by, bx + w, by + h)
        if all(
            c[2] + 8 < cand[0] or cand[2] + 8 < c[0] or c[3] + 8 < cand[1] or cand[3] + 8 < c[1]
            for c in taken
        ):
            return cand
    return None


def _vertical_size(columns: list[str], font: ImageFont.FreeTypeFont) -> tuple[int, int]:
    step = round(font.size * 1.5)
    height = max(int(font.getbbox(c, **VERT)[3]) for c in columns)  # type: ignore[arg-type]
    return step * (len(columns) - 1) + int(font.size), height


def _outlined_vertical(
    d: ImageDraw.ImageDraw, box: Box, columns: list[str], font: ImageFont.FreeTypeFont
) -> list[LineTruth]:
    """Vertical columns over the art, black with a white outline, first column rightmost."""
    step = round(font.size * 1.5)
    x = box[2] - font.size
    out = []
    for i, col in enumerate(columns):
        xy = (x - i * step, box[1])
        d.text(xy, col, font=font, fill=BLACK, stroke_width=3, stroke_fill=WHITE, **VERT)  # type: ignore[arg-type]
        x0, y0, x1, y1 = d.textbbox(xy, col, font=font, **VERT)  # type: ignore[arg-type]
        out.append(LineTruth(col, (int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))))
    return out


class _Picker:
    """Draws sentences from :data:`SENTENCES` without repeats until the list is used up."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.todo: list[int] = []

    def __call__(self) -> str:
        if not self.todo:
            self.todo = [int(i) for i in self.rng.permutation(len(SENTENCES))]
        return SENTENCES[self.todo.pop()][0]


def _tail(rng: np.random.Generator, box: Box, area: Box) -> tuple[int, int]:
    """A tail tip a short way outside the balloon, inside the panel."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    angle = float(rng.uniform(0, 2 * np.pi))
    reach = 0.5 * max(box[2] - box[0], box[3] - box[1]) + float(rng.uniform(20, 60))
    x = int(np.clip(cx + reach * np.cos(angle), area[0] + 4, area[2] - 4))
    y = int(np.clip(cy + reach * np.sin(angle), area[1] + 4, area[3] - 4))
    return x, y


def _vertical_block(
    img: Image.Image,
    rng: np.random.Generator,
    pick: _Picker,
    area: Box,
    taken: list[Box],
    over_art: bool,
) -> BlockTruth | None:
    """A balloon (or outlined text over the art) with 2-4 vertical columns, if one fits."""
    text = pick()
    first = int(np.clip(np.ceil(len(text) / 5), 2, 4))
    for size in (int(rng.choice([30, 34])), 26, 22):
        for parts in range(first, 5):
            columns = split_text(text, parts)
            font = _font(size)
            tw, th = _vertical_size(columns, font)
            pad_x, pad_y = (6, 6) if over_art else (int(0.22 * tw) + 12, int(0.22 * th) + 12)
            box = _place(rng, area, (tw + 2 * pad_x, th + 2 * pad_y), taken)
            if box is not None:
                break
        if box is not None:
            break
    if box is None:
        return None
    taken.append(box)
    d = ImageDraw.Draw(img)
    if over_art:
        inner = (box[0] + pad_x, box[1] + pad_y, box[2] - pad_x, box[3] - pad_y)
        lines = _outlined_vertical(d, inner, columns, font)
        kind = "over_art"
    else:
        balloon(d, box, tail=_tail(rng, box, area))
        lines = letter_vertical(d, box, columns, font)
        kind = "balloon"
    return BlockTruth(kind, "ja", "vertical", tuple(lines), box, text)


def draw_spread(rng: np.random.Generator, pick: _Picker) -> tuple[Image.Image, list[BlockTruth]]:
    """One 1654 x 1170 spread; blocks in manga order (right page first)."""
    img = Image.new("RGB", (SPREAD_W, SPREAD_H), PAPER)
    d = ImageDraw.Draw(img)
    half = SPREAD_W // 2
    blocks: list[BlockTruth] = []
    for left in (half, 0):  # right-hand page is read first
        page_box = (left + 36, 40, left + half - 36, SPREAD_H - 40)
        panels = _panels(rng, page_box)
        busy = [_background(img, rng, p) for p in panels]
        for p in panels:
            panel(d, p)
        taken: list[Box] = []
        for p in panels:
            for _ in range(int(rng.choice([1, 1, 2]))):
                block = _vertical_block(img, rng, pick, p, taken, over_art=False)
                if block is not None:
                    blocks.append(block)
        art = [p for p, b in zip(panels, busy, strict=True) if b]
        if art and rng.random() < 0.8:
            block = _vertical_block(img, rng, pick, art[int(rng.integers(len(art)))], taken, True)
            if block is not None:
                blocks.append(block)
    return img, blocks


def draw_strip(
    rng: np.random.Generator, pick: _Picker, height: int
) -> tuple[Image.Image, list[BlockTruth]]:
    """One 690-wide webtoon strip: stacked panels, horizontal text, top to bottom."""
    img = Image.new("RGB", (STRIP_W, height), (255, 255, 255))
    d = ImageDraw.Draw(img)
    blocks: list[BlockTruth] = []
    y = 60
    while y < height - 400:
        gap = int(rng.integers(140, 320))
        gutter = (20, y, STRIP_W - 20, min(y + gap, height - 20))
        if rng.random() < 0.7:
            blocks += _horizontal_blocks(img, rng, pick, gutter, 1)
        y += gap
        ph = int(min(rng.integers(700, 1400), height - 60 - y))
        if ph < 300:
            break
        box = (30, y, STRIP_W - 30, y + ph)
        _background(img, rng, box)
        panel(d, box, width=3)
        blocks += _horizontal_blocks(img, rng, pick, box, int(rng.integers(2, 4)))
        y += ph
    blocks.sort(key=lambda b: (b.container[1], b.container[0]))
    return img, blocks


def _horizontal_blocks(
    img: Image.Image, rng: np.random.Generator, pick: _Picker, area: Box, n: int
) -> list[BlockTruth]:
    d = ImageDraw.Draw(img)
    out: list[BlockTruth] = []
    taken: list[Box] = []
    for _ in range(n):
        text = pick()
        lines = split_text(text, int(np.ceil(len(text) / 8)))
        font = _font(int(rng.choice([28, 32])))
        tw = max(int(d.textlength(line, font=font)) for line in lines)
        th = round(font.size * 1.35) * (len(lines) - 1) + int(font.size)
        narration = rng.random() < 0.25
        pad_x, pad_y = (18, 14) if narration else (int(0.25 * tw) + 18, int(0.3 * th) + 16)
        box = _place(rng, area, (tw + 2 * pad_x, th + 2 * pad_y), taken)
        if box is None:
            continue
        taken.append(box)
        if narration:
            caption(d, box)
        else:
            balloon(d, box, tail=_tail(rng, box, area))
        drawn = letter_horizontal(d, box, lines, font)
        kind = "caption" if narration else "balloon"
        out.append(BlockTruth(kind, "ja", "horizontal", tuple(drawn), box, text))
    return out


def make_corpus(
    out_dir: Path, n_spreads: int, n_strips: int, seed: int = 0, small: bool = False
) -> Corpus:
    """Draw ``n_spreads`` spreads and ``n_strips`` strips (JPEG q90) into ``out_dir``.

    ``small``: strips 690 x 4833 instead of 690 x 19332 (quick runs). Deterministic in
    (n_spreads, n_strips, seed, small).
    """
    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pick = _Picker(rng)
    truth: dict[str, object] = {}
    paths: list[Path] = []
    drawn = [(f"spread_{i:03d}.jpg", lambda: draw_spread(rng, pick)) for i in range(n_spreads)]
    strip_h = STRIP_H // 4 if small else STRIP_H
    drawn += [
        (f"strip_{i:03d}.jpg", lambda: draw_strip(rng, pick, strip_h)) for i in range(n_strips)
    ]
    for name, draw in drawn:
        img, blocks = draw()
        img.save(images_dir / name, quality=90)
        paths.append(images_dir / name)
        truth[name] = {
            "width": img.width,
            "height": img.height,
            "blocks": [{**asdict(b), "bbox": list(b.bbox())} for b in blocks],
        }
    (out_dir / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    used = {b["text"] for page in truth.values() for b in page["blocks"]}  # type: ignore[index]
    rows = [f"{ja}\t{ko}" for ja, ko in SENTENCES if ja in used]
    (out_dir / "tm.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return Corpus(out_dir, tuple(paths), out_dir / "ground_truth.json", out_dir / "tm.tsv")


def load_truth(corpus_root: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """ground_truth.json of a corpus: image name -> {width, height, blocks}."""
    return json.loads((corpus_root / "ground_truth.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description="Draw the synthetic benchmark corpus.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--spreads", type=int, default=8)
    parser.add_argument("--strips", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="strips 4833 px tall, not 19332")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = make_corpus(args.out, args.spreads, args.strips, args.seed, args.small)
    truth = load_truth(corpus.root)
    blocks = sum(len(p["blocks"]) for p in truth.values())
    print(f"{len(corpus.images)} images, {blocks} blocks -> {corpus.root}")


if __name__ == "__main__":
    main()
