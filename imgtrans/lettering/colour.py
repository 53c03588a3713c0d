"""Text, background and outline colours measured from the source, and WCAG contrast.

The text colour comes from the original stroke pixels (under the text mask, away from
the background colour); the background from the ring of pixels around the block; an
outline is detected as a second ink colour that sits between the strokes and the
background. Colours are RGB tuples of ints in 0..255.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imgtrans.page import RGB

MIN_CONTRAST = 4.5  # WCAG AA for normal text
# A text colour measured from the source needs an added outline only below WCAG's minimum
# for large text: the source was printed at that contrast and read (dark ink on yellowed
# newsprint is ~4:1), and a white outline around it reads as white lettering.
MIN_SOURCE_CONTRAST = 3.0
_BLACK: RGB = (0, 0, 0)
_WHITE: RGB = (255, 255, 255)


def relative_luminance(c: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def lin(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1.0 (same) to 21.0 (black on white)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def best_contrast(against: RGB) -> RGB:
    """Black or white, whichever contrasts more with ``against``."""
    return _BLACK if contrast_ratio(_BLACK, against) >= contrast_ratio(_WHITE, against) else _WHITE


@dataclass(frozen=True)
class Colours:
    """Colours for one block. ``measured``: text colour came from source strokes."""

    text: RGB
    background: RGB
    outline: RGB | None
    measured: bool


def _rgb(v: np.ndarray) -> RGB:
    r, g, b = (int(round(float(x))) for x in v[:3])
    return (r, g, b)


def ring_colour(image: np.ndarray, box_mask: np.ndarray, text_mask: np.ndarray) -> RGB:
    """Median colour of the ring just outside ``box_mask`` that is not text.

    ``image``: RGB uint8 crop; ``box_mask``/``text_mask``: bool masks of the same size.
    """
    k = max(3, int(np.sqrt(box_mask.sum()) * 0.15) | 1)
    grown = cv2.dilate(box_mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    ring = grown & ~box_mask & ~text_mask
    if ring.sum() < 8:
        ring = ~text_mask if (~text_mask).any() else np.ones_like(text_mask)
    return _rgb(np.median(image[ring], axis=0))


def _ranks(pixels: np.ndarray, channel: int) -> np.ndarray:
    """int64[256]: how many of ``pixels`` (N x C uint8, contiguous) have ``channel`` <= v."""
    hist = cv2.calcHist([pixels.reshape(len(pixels), 1, -1)], [channel], None, [256], [0, 256])
    return np.cumsum(hist.ravel().astype(np.int64))


def median_rgb(pixels: np.ndarray) -> tuple[float, float, float]:
    """Per-channel median of ``pixels`` (N x 3 uint8, N > 0), as ``np.median(pixels,
    axis=0)`` gives it (the mean of the two middle values when N is even), from counts."""
    n = len(pixels)
    pixels = np.ascontiguousarray(pixels)
    middle = ((n - 1) // 2 + 1, n // 2 + 1)  # 1-based ranks of the middle value(s)
    out = []
    for c in range(3):
        a, b = np.searchsorted(_ranks(pixels, c), middle)
        out.append(float(int(a) + int(b)) / 2)
    return out[0], out[1], out[2]


def quantile_u8(values: np.ndarray, q: float) -> float:
    """``float(np.quantile(values.astype(np.float32), q))`` (linear method) for uint8
    ``values`` (1-D, not empty), from counts instead of a partition: the two order
    statistics around rank ``q * (n - 1)``, interpolated in float32 as NumPy does."""
    n = len(values)
    rank = (n - 1) * q
    below = math.floor(rank)
    if below >= n - 1:
        return float(values.max())
    ranks = _ranks(np.ascontiguousarray(values), 0)
    a, b = (np.float32(v) for v in np.searchsorted(ranks, (below + 1, below + 2)))
    gamma = rank - below
    diff = b - a
    if gamma >= 0.5:
        return float(b - diff * np.float32(1 - gamma))
    return float(a + diff * np.float32(gamma))


def measure_colours(original: np.ndarray, text_mask: np.ndarray, background: RGB) -> Colours:
    """Text and outline colours of the strokes under ``text_mask`` in ``original``.

    ``original``: RGB uint8 crop holding the source lettering; ``text_mask``: bool, True
    on (dilated) text pixels. Pixels close to ``background`` are not ink. With too few ink
    pixels (e.g. the original is already erased) the text colour is black or white for
    contrast and ``measured`` is False.
    """
    return colours_of(original[text_mask], text_mask, background)


def colours_of(pixels: np.ndarray, text_mask: np.ndarray, background: RGB) -> Colours:
    """:func:`measure_colours` of the pixels ``original[text_mask]`` (N x 3 uint8)."""
    if len(pixels) < 12:
        return Colours(best_contrast(background), background, None, False)
    diff = np.abs(pixels.astype(np.int16) - np.array(background, np.int16))
    dist = np.maximum(np.maximum(diff[:, 0], diff[:, 1]), diff[:, 2]).astype(np.uint8)
    # Ink: clearly off the background (noise stays under ~16) and near the strokes' own
    # contrast, so faint low-contrast lettering still counts.
    # (compared in float32, as the distances were before they were counted)
    ink = dist > np.float32(max(16.0, 0.4 * quantile_u8(dist, 0.99)))
    if np.count_nonzero(ink) < 12:
        return Colours(best_contrast(background), background, None, False)
    bg = np.array(background, np.float32)
    split = _outline_split(pixels[ink], text_mask, bg, ink)
    if split is not None:
        return Colours(split[0], background, split[1], True)
    # The core of the strokes is the ink farthest from the background.
    far = dist[ink] >= np.float32(quantile_u8(dist[ink], 0.5))
    return Colours(_rgb(np.array(median_rgb(pixels[ink][far]))), background, None, True)


def _outline_split(
    ink_pixels: np.ndarray, text_mask: np.ndarray, bg: np.ndarray, ink: np.ndarray
) -> tuple[RGB, RGB] | None:
    """(text, outline) when the ink has two colours and the outer one hugs the strokes.

    ``ink_pixels``: the N x 3 uint8 ink pixels, ``ink`` says which of ``text_mask``'s they
    are. The outer colour is the one whose pixels touch the background more; it is an
    outline only when it is not a blend of the inner colour and the background
    (anti-aliasing pixels lie on that segment, an outline does not).
    """
    if len(ink_pixels) < 40:
        return None
    px = ink_pixels.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(7)
    _, labels, centres = cv2.kmeans(px, 2, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    labels = labels.ravel()
    share = float((labels == 1).mean())
    if np.abs(centres[0] - centres[1]).max() < 80 or min(share, 1 - share) < 0.15:
        return None  # one colour (the test is the same whichever of the two is outer)
    full = np.full(text_mask.shape, -1, np.int8)
    ys, xs = np.nonzero(text_mask)
    full[ys[ink], xs[ink]] = labels.astype(np.int8)
    near_bg = cv2.dilate((full < 0).view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    # Share of each colour's pixels next to a non-ink pixel.
    touching = np.bincount(labels, weights=near_bg[ys[ink], xs[ink]], minlength=2)
    counts = np.bincount(labels, minlength=2)
    touch = [float(touching[k]) / int(counts[k]) if counts[k] else 0.0 for k in (0, 1)]
    outer = int(np.argmax(touch))
    inner = 1 - outer
    c_in, c_out = centres[inner], centres[outer]
    seg = bg - c_in
    t = float(np.clip(np.dot(c_out - c_in, seg) / max(float(np.dot(seg, seg)), 1e-6), 0, 1))
    if np.abs(c_in + t * seg - c_out).max() < 40:
        return None
    text = _rgb(np.array(median_rgb(ink_pixels[labels == inner])))
    return text, _rgb(np.array(median_rgb(ink_pixels[labels == outer])))


def choose(colours: Colours, source_outline: bool = True) -> tuple[RGB, RGB | None]:
    """Final text colour and outline: keep a source outline, add one when contrast is low.

    The added outline is black or white, whichever contrasts more with the text, so
    the text stays readable whatever the background. Contrast is low below
    ``MIN_CONTRAST``, or below ``MIN_SOURCE_CONTRAST`` for a colour measured from the
    source lettering on its own background.
    """
    if colours.outline is not None and source_outline:
        return colours.text, colours.outline
    least = MIN_SOURCE_CONTRAST if colours.measured else MIN_CONTRAST
    if contrast_ratio(colours.text, colours.background) < least:
        return colours.text, best_contrast(colours.text)
    return colours.text, None
