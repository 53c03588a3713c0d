"""Line crops, orientation, and batched CTC recognition for PP-OCR.

Crops are perspective-rectified from the detected quadrilaterals. A tall crop
(height >= 1.5 x width) is a vertical CJK column: it is turned 90 degrees
counter-clockwise before recognition (measured CER 0.07, against 0.97 clockwise). The
orientation classifier then catches lines that are upside down.

Recognition takes the crops of one page (the OCR stage never mixes pages in a batch), sorts
them by aspect ratio and runs width buckets: each crop is padded to its step on a width
ladder, alone or batched, so batching never changes what is read (see tests/test_ocr.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from imgtrans.models.ppocr import ctc_decode_best

REC_HEIGHT = 48
REC_MIN_WIDTH = 320  # PaddleOCR's; 96 reads worse on real pages (benchmarks/RESULTS.md, K)
REC_MAX_WIDTH = 3200
CLS_SHAPE = (48, 192)
CLS_THRESH = 0.9
VERTICAL_RATIO = 1.5

ArrayFn = Callable[[np.ndarray], np.ndarray]
BestFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Crop:
    image: np.ndarray  # RGB uint8, text running left to right
    vertical: bool


def crop_line(image: np.ndarray, box: np.ndarray) -> Crop:
    """Rectify the quadrilateral ``box`` (tl, tr, br, bl) out of ``image`` (RGB uint8)."""
    w = int(round(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))))
    h = int(round(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))))
    w, h = max(w, 1), max(h, 1)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), dst)
    crop = cv2.warpPerspective(
        image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    if h >= VERTICAL_RATIO * w:
        return Crop(np.ascontiguousarray(np.rot90(crop, k=1)), True)
    return Crop(crop, False)


# uint8 level -> (v / 255 - 0.5) / 0.5 in float32: a lookup gives the arithmetic's values.
UNIT_TABLE = (np.arange(256, dtype=np.float32) / 255.0 - 0.5) / 0.5


def _rec_normalise(crop_rgb: np.ndarray, width: int) -> np.ndarray:
    """RGB crop -> 3 x 48 x ``width`` float32 BGR in [-1, 1], right-padded with zeros."""
    h, w = crop_rgb.shape[:2]
    new_w = min(width, max(1, int(np.ceil(REC_HEIGHT * w / h))))
    resized = cv2.resize(crop_rgb, (new_w, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((3, REC_HEIGHT, width), np.float32)
    out[:, :, :new_w] = UNIT_TABLE[resized[:, :, ::-1]].transpose(2, 0, 1)
    return out


def _width_ladder() -> tuple[int, ...]:
    widths = [REC_MIN_WIDTH]
    while widths[-1] < REC_MAX_WIDTH:
        widths.append(min(REC_MAX_WIDTH, (int(widths[-1] * 1.125) + 31) // 32 * 32))
    return tuple(widths)


WIDTH_LADDER = _width_ladder()  # 320, 384, 448, ... about 12.5% apart


def rec_width(crop: np.ndarray) -> int:
    """Input width for a crop: the smallest ladder width that holds it at height 48.

    Every crop is padded to its ladder width whether it runs alone or in a batch, so the text
    read never depends on which other lines share the batch (padding a short line to a much
    wider batch can flip a borderline space: "42 apples" vs "42apples").
    """
    h, w = crop.shape[:2]
    want = int(np.ceil(REC_HEIGHT * w / max(h, 1)))
    for width in WIDTH_LADDER:
        if width >= want:
            return width
    return REC_MAX_WIDTH


def cls_inputs(crops: list[Crop], batch_size: int) -> list[np.ndarray]:
    """The classifier's input batches for ``crops`` (host work)."""
    return [
        np.stack([_cls_normalise(c.image) for c in crops[start : start + batch_size]])
        for start in range(0, len(crops), batch_size)
    ]


def turn_upside_down(crops: list[Crop], probs: list[np.ndarray], batch_size: int) -> list[Crop]:
    """``crops`` with those the classifier's ``probs`` (per batch of :func:`cls_inputs`)
    find upside down turned by 180 degrees."""
    out = list(crops)
    for start, batch in zip(range(0, len(crops), batch_size), probs, strict=True):
        for k, crop in enumerate(crops[start : start + batch_size]):
            if batch[k, 1] > CLS_THRESH and batch[k, 1] > batch[k, 0]:
                out[start + k] = Crop(np.ascontiguousarray(crop.image[::-1, ::-1]), crop.vertical)
    return out


def _cls_normalise(crop_rgb: np.ndarray) -> np.ndarray:
    ch, cw = CLS_SHAPE
    h, w = crop_rgb.shape[:2]
    new_w = min(cw, max(1, int(np.ceil(ch * w / h))))
    resized = cv2.resize(crop_rgb, (new_w, ch))
    out = np.zeros((3, ch, cw), np.float32)
    out[:, :, :new_w] = UNIT_TABLE[resized[:, :, ::-1]].transpose(2, 0, 1)
    return out


def recognise(
    crops: list[np.ndarray], rec_best: BestFn, charset: list[str], batch_size: int
) -> list[tuple[str, float]]:
    """Recognise RGB crops (text left to right) -> [(text, confidence)] in input order.

    Crops are grouped by ladder width and batched (see :func:`rec_width`). ``rec_best``
    returns the per-step best class and its probability (argmax on the device, so a GPU
    does not copy N x T x 18,710 probabilities back).
    """
    inputs = rec_inputs(crops, batch_size)
    outputs = [rec_best(batch) for _, batch in inputs]
    return decode(len(crops), [idx for idx, _ in inputs], outputs, charset)


def rec_inputs(crops: list[np.ndarray], batch_size: int) -> list[tuple[list[int], np.ndarray]]:
    """(crop indices, input batch) per width bucket of ``crops`` (host work)."""
    widths = [rec_width(c) for c in crops]
    return [
        (idx, np.stack([_rec_normalise(crops[i], widths[idx[0]]) for i in idx]))
        for idx in width_buckets(widths, batch_size)
    ]


def decode(
    count: int,
    buckets: list[list[int]],
    outputs: list[tuple[np.ndarray, np.ndarray]],
    charset: list[str],
) -> list[tuple[str, float]]:
    """(text, confidence) per crop from the recogniser's outputs per bucket (host work)."""
    results: list[tuple[str, float]] = [("", 0.0)] * count
    for idx, (best, best_p) in zip(buckets, outputs, strict=True):
        for i, (text, conf, _) in zip(idx, ctc_decode_best(best, best_p, charset), strict=True):
            results[i] = (text, conf)
    return results


def width_buckets(widths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped by ladder width (narrowest first), at most ``batch_size`` a batch."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    buckets: list[list[int]] = []
    for i in order:
        if buckets and len(buckets[-1]) < batch_size and widths[i] == widths[buckets[-1][0]]:
            buckets[-1].append(i)
        else:
            buckets.append([i])
    return buckets
