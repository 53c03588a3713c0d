"""Text detection around the PP-OCR DB model: resize/tile, batch across pages, post-process.

Pre-processing follows PaddleOCR's v6 det config: BGR input, ImageNet mean/std, sides
multiples of 32, long side at most ``limit``. Tall strips and huge scans are cut into
overlapping tiles at a sane scale; the tiles' probability maps are stitched (max) into one
page map *before* post-processing, so a line across a seam is found once, whole.

DB post-processing matches PaddleOCR's defaults: binarise at ``thresh``, contours, min-area
rectangle, mean probability inside the box (``box_thresh``), unclip by
``area * ratio / perimeter`` (pyclipper), min side 3 px before / 5 px after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np
import pyclipper

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
TILE_OVERLAP = 160  # px in detection scale: taller than any text line we expect to meet
MAX_CANDIDATES = 1000

DetFn = Callable[[np.ndarray], np.ndarray]  # N x 3 x H x W float32 -> N x H x W prob
Tile = tuple[int, int, int, int]  # y0, x0, h, w
T = TypeVar("T")


@dataclass(frozen=True)
class DetPlan:
    """How one page is fed to the detector: its scale and its tiles (in scaled pixels)."""

    scale: float
    height: int  # scaled page size
    width: int
    tiles: tuple[tuple[int, int, int, int], ...]  # y0, x0, h, w in the scaled page


def plan_page(height: int, width: int, limit: int) -> DetPlan:
    """Pick the detection scale and tiling for a ``height x width`` page.

    Ordinary pages: long side scaled down to ``limit`` (PaddleOCR's behaviour). Strips
    (aspect > 2): the short side is kept at most ``limit`` and the long side tiled, so a
    690x19332 webtoon keeps its text size. Huge scans: at most 4 x ``limit`` on the long side,
    tiled, so small print survives an 8000x8000 page.
    """
    long_side, short_side = max(height, width), min(height, width)
    scale = min(1.0, limit / long_side)
    if long_side / short_side > 2.0:
        scale = min(1.0, limit / short_side)
    elif long_side > 2 * limit:
        scale = max(scale, min(1.0, 4 * limit / long_side))
    sh, sw = max(32, round(height * scale)), max(32, round(width * scale))
    tiles = []
    for y0 in _starts(sh, limit):
        for x0 in _starts(sw, limit):
            tiles.append((y0, x0, min(limit, sh - y0), min(limit, sw - x0)))
    return DetPlan(scale, sh, sw, tuple(tiles))


def _starts(size: int, tile: int) -> list[int]:
    if size <= tile * 1.25:
        return [0]
    step = tile - TILE_OVERLAP
    starts = list(range(0, size - tile, step))
    starts.append(size - tile)
    return starts


def _normalise_tables() -> np.ndarray:
    """3 x 256 float32: BGR channel c's value for each uint8 level (``(v/255 - mean)/std``
    in float32, as the arithmetic over the whole image would give it)."""
    levels = (np.arange(256, dtype=np.float32) / 255.0)[:, None]
    tables: np.ndarray = ((levels - MEAN) / STD).T.copy()
    return tables


NORMALISE_TABLES = _normalise_tables()


def normalise(image_rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """RGB uint8 HxWx3 -> 3xHxW float32, BGR order, ImageNet mean/std (into ``out`` when
    given). A table lookup per channel: the same values as float arithmetic, 3x cheaper."""
    h, w = image_rgb.shape[:2]
    if out is None:
        out = np.empty((3, h, w), np.float32)
    for c in range(3):
        np.take(NORMALISE_TABLES[c], image_rgb[:, :, 2 - c], out=out[c])
    return out


def _pad32(n: int) -> int:
    return max(32, (n + 31) // 32 * 32)


@dataclass(frozen=True)
class DetInput:
    """One page made ready for the detector (host work: resize, normalise, flat areas)."""

    plan: DetPlan
    tiles: tuple[np.ndarray, ...]  # per plan tile: float32 3 x H32 x W32, as the detector eats it
    flat_free: np.ndarray  # uint8 HxW at detection scale: 1 near contrast, 0 in flat areas


def det_input(image: np.ndarray, limit: int) -> DetInput:
    """Plan, scale and normalise one RGB uint8 page for the detector (see :func:`plan_page`).

    Each tile is padded to its own multiple of 32 by repeating its edge: a constant (zero)
    border is itself an edge, and the v6 model answers it with a grid of false text all over
    a blank tile."""
    plan = plan_page(image.shape[0], image.shape[1], limit)
    scaled = image
    if (plan.height, plan.width) != image.shape[:2]:
        inter = cv2.INTER_AREA if plan.scale < 1 else cv2.INTER_LINEAR
        scaled = cv2.resize(image, (plan.width, plan.height), interpolation=inter)
    tiles = []
    for y0, x0, h, w in plan.tiles:
        ph, pw = _padded((y0, x0, h, w))
        tile = np.empty((3, ph, pw), np.float32)
        normalise(scaled[y0 : y0 + h, x0 : x0 + w], out=tile[:, :h, :w])
        tile[:, :h, w:] = tile[:, :h, w - 1 : w]
        tile[:, h:, :] = tile[:, h - 1 : h, :]
        tiles.append(tile)
    return DetInput(plan, tuple(tiles), flat_free(scaled))


def detect(inputs: list[DetInput], det: DetFn, batch_size: int) -> list[list[np.ndarray]]:
    """The detector over every tile of the pages, batched by padded shape (device work).

    A tile is only ever padded to its own multiple of 32, as it would be alone, so a page's
    map does not depend on which pages share its batch (see :func:`_shape_batches`).
    Returns, per page and tile, its probabilities (float32 h x w of the tile)."""
    items = [((i, k), t) for i, inp in enumerate(inputs) for k, t in enumerate(inp.plan.tiles)]
    items.sort(key=lambda it: _padded(it[1]))
    out: list[list[np.ndarray]] = [[np.empty(0)] * len(inp.tiles) for inp in inputs]
    for group in _shape_batches(items, batch_size):
        probs = det(np.stack([inputs[i].tiles[k] for (i, k), _ in group]))
        for n, ((i, k), (_, _, h, w)) in enumerate(group):
            out[i][k] = probs[n, :h, :w]
    return out


def stitch(inp: DetInput, probs: list[np.ndarray]) -> np.ndarray:
    """The page's probability map at detection scale: its tiles' maps (max where they
    overlap), zero in flat areas (host work)."""
    prob = np.zeros((inp.plan.height, inp.plan.width), np.float32)
    for (y0, x0, h, w), tile in zip(inp.plan.tiles, probs, strict=True):
        view = prob[y0 : y0 + h, x0 : x0 + w]
        np.maximum(view, tile, out=view)
    prob *= inp.flat_free.astype(np.float32)
    return prob


def flat_free(
    image: np.ndarray, window: int = 7, min_std: float = 2.0, reach: int = 9
) -> np.ndarray:
    """uint8 HxW: 1 near pixels with local contrast, 0 in perfectly flat areas.

    The v6 detector "sees" text in large flat light-grey areas (probability up to 0.9 on a
    uniform 200-245 grey, measured), which digital webtoons are full of; text always has
    contrast, so flat areas are masked out of the probability map.
    """
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(gray, (window, window))
    var = cv2.blur(gray * gray, (window, window)) - mean * mean
    busy = (var > min_std * min_std).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1, 2 * reach + 1))
    out: np.ndarray = cv2.dilate(busy, kernel)
    return out


def _padded(tile: tuple[int, int, int, int]) -> tuple[int, int]:
    return _pad32(tile[2]), _pad32(tile[3])


def _shape_batches(items: list[tuple[T, Tile]], batch_size: int) -> list[list[tuple[T, Tile]]]:
    """Group items (sorted by padded shape) into batches of one padded shape.

    Never pad a tile to a batch-mate's larger shape: the v6 detector's features reach across
    the whole input, so extra padding moves boxes and flips words all over the page (a page
    read differently depending on the other pages of its run). Tiles of one shape batch
    together as before (the model's output for a tile is the same alone or in a batch).
    """
    batches: list[list[tuple[T, Tile]]] = []
    for item in items:
        cur = batches[-1] if batches else None
        if cur and len(cur) < batch_size and _padded(cur[0][1]) == _padded(item[1]):
            cur.append(item)
        else:
            batches.append([item])
    return batches


def boxes_from_map(
    prob: np.ndarray, scale: float, thresh: float, box_thresh: float, unclip_ratio: float
) -> list[tuple[np.ndarray, float]]:
    """DB post-processing of one page map -> [(4x2 float32 box in page pixels, score)].

    Boxes are ordered clockwise from top-left. ``scale`` is detection/page.
    """
    bitmap = (prob > thresh).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    # Specks first out, so that MAX_CANDIDATES keeps real lines on a noisy map.
    contours = [c for c in contours if len(c) > 2]
    contours.sort(key=cv2.contourArea, reverse=True)
    out = []
    for contour in contours[:MAX_CANDIDATES]:
        found = _box(prob, contour, box_thresh, unclip_ratio)
        if found is not None:
            out.append((found[0] / scale, found[1]))
            continue
        # Two lines joined by a stroke: their common box is slanted and scores low.
        pieces = [_box(prob, p, box_thresh, unclip_ratio) for p in _split_lines(contour)]
        out += [(box / scale, score) for box, score in filter(None, pieces)]
    return out


def _box(
    prob: np.ndarray, contour: np.ndarray, box_thresh: float, unclip_ratio: float
) -> tuple[np.ndarray, float] | None:
    """The grown box of one contour and its score, in map pixels; None when it fails."""
    rect = cv2.minAreaRect(contour)
    if min(rect[1]) < 3:
        return None
    box = cv2.boxPoints(rect)
    score = _box_score(prob, box)
    if score < box_thresh:
        return None
    grown = _unclip(box, unclip_ratio)
    if grown is None:
        return None
    rect = cv2.minAreaRect(grown)
    if min(rect[1]) < 5:
        return None
    box = order_points(cv2.boxPoints(rect))
    h, w = prob.shape
    box[:, 0] = np.clip(box[:, 0], 0, w)
    box[:, 1] = np.clip(box[:, 1], 0, h)
    return box, float(score)


def _split_lines(contour: np.ndarray) -> list[np.ndarray]:
    """The lines a failed region holds when it is lines stacked (rows, else columns) joined
    by a thin bridge, or a line with a thin spur: the region cut where its profile across
    the lines falls under a tenth of its peak. No pieces when there is no such place."""
    x, y, w, h = cv2.boundingRect(contour)
    if min(w, h) < 6:
        return []
    region = np.zeros((h, w), np.uint8)
    cv2.drawContours(region, [contour - np.array([x, y], contour.dtype)], -1, 1, cv2.FILLED)
    for axis in (1, 0):  # rows (horizontal lines one above the other), then columns
        profile = region.mean(axis=axis)
        gap = profile < 0.1 * profile.max()
        if not gap.any():
            continue
        cut = region.copy()
        if axis == 1:
            cut[gap, :] = 0
        else:
            cut[:, gap] = 0
        pieces, _ = cv2.findContours(cut, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return [p + np.array([x, y], p.dtype) for p in pieces if len(p) > 2]
    return []


def _box_score(prob: np.ndarray, box: np.ndarray) -> float:
    h, w = prob.shape
    x0 = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    pts = (box - np.array([x0, y0], np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    area = cv2.contourArea(box)
    length = cv2.arcLength(box, True)
    if length == 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(
        [tuple(map(int, map(round, p))) for p in box],
        pyclipper.JT_ROUND,
        pyclipper.ET_CLOSEDPOLYGON,
    )
    grown = offset.Execute(area * ratio / length)
    if len(grown) != 1:
        return None
    return np.asarray(grown[0], np.float32).reshape(-1, 1, 2)


def order_points(pts: np.ndarray) -> np.ndarray:
    """4 points -> top-left, top-right, bottom-right, bottom-left (float32 4x2)."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], np.float32)
