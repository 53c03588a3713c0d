"""Text, background and outline colours measured from the source, and WCAG contrast.

The text colour comes from the original stroke pixels (under the text mask, away from
the background colour); the background from the ring of pixels around the block; an
outline is detected as a second ink colour that sits between the strokes and the
background. Colours are RGB tuples of ints in 0..255.
"""

from __future__ import annotations

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


def measure_colours(original: np.ndarray, text_mask: np.ndarray, background: RGB) -> Colours:
    """Text and outline colours of the strokes under ``text_mask`` in ``original``.

    ``original``: RGB uint8 crop holding the source lettering; ``text_mask``: bool, True
    on (dilated) text pixels. Pixels close to ``background`` are not ink. With too few ink pixels (e.g. the original is already erased) the text colour is
    black or white for contrast and ``measured`` is False.
    """
    pixels = original[text_mask].astype(np.float32)
    bg = np.array(background, np.float32)
    dist = np.abs(pixels - bg).max(axis=1) if len(pixels) else np.zeros(0)
    if len(dist) < 12:
        return Colours(best_contrast(background), background, None, False)
    # Ink: clearly off the background (noise stays under ~16) and near the strokes' own
    # contrast, so faint low-contrast lettering still counts.
    ink = dist > max(16.0, 0.4 * float(np.quantile(dist, 0.99)))
    if ink.sum() < 12:
        return Colours(best_contrast(background), background, None, False)
    split = _outline_split(original, text_mask, bg, ink)
    if split is not None:
        return Colours(split[0], background, split[1], True)
    # The core of the strokes is the ink farthest from the background.
    far = dist[ink] >= np.quantile(dist[ink], 0.5)
    return Colours(_rgb(np.median(pixels[ink][far], axis=0)), background, None, True)


def _outline_split(
    original: np.ndarray, text_mask: np.ndarray, bg: np.ndarray, ink: np.ndarray
) -> tuple[RGB, RGB] | None:
    """(text, outline) when the ink has two colours and the outer one hugs the strokes.

    The outer colour is the one whose pixels touch the background more; it is an
    outline only when it is not a blend of the inner colour and the background
    (anti-aliasing pixels lie on that segment, an outline does not).
    """
    px = original[text_mask].astype(np.float32)[ink]
    if len(px) < 40:
        return None
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(7)
    _, labels, centres = cv2.kmeans(px, 2, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    labels = labels.ravel()
    full = np.full(text_mask.shape, -1, np.int8)
    ys, xs = np.nonzero(text_mask)
    full[ys[ink], xs[ink]] = labels.astype(np.int8)
    near_bg = cv2.dilate((full < 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    touch = [float(near_bg[full == k].mean()) if (full == k).any() else 0.0 for k in (0, 1)]
    outer = int(np.argmax(touch))
    inner = 1 - outer
    share = float((labels == outer).mean())
    c_in, c_out = centres[inner], centres[outer]
    if np.abs(c_in - c_out).max() < 80 or min(share, 1 - share) < 0.15:
        return None
    seg = bg - c_in
    t = float(np.clip(np.dot(c_out - c_in, seg) / max(float(np.dot(seg, seg)), 1e-6), 0, 1))
    if np.abs(c_in + t * seg - c_out).max() < 40:
        return None
    text = _rgb(np.median(px[labels == inner], axis=0))
    return text, _rgb(np.median(px[labels == outer], axis=0))


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
