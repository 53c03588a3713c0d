"""Binary morphology on bool masks for the mask stage: growing by a disc, labels, holes.

Masks are bool ``H x W`` numpy arrays (uint8 0/1 views are handed to OpenCV). Growing by a
radius over 3 px means "within that distance" by OpenCV's 3x3 L2 chamfer distance
(``cv2.distanceTransform(..., DIST_L2, 3)``), up to 3 px a dilation by an elliptic disc.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

SMALL_REACH = 7  # grown by a kernel up to this radius, by a distance transform past it
CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


@functools.cache
def disc(radius: int) -> np.ndarray:
    """uint8 elliptic kernel of ``radius`` px (``2 * radius + 1`` square)."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` (bool) grown by ``radius`` px (a disc; a distance transform when it is big)."""
    return Grower(mask).grow(radius)


@functools.cache
def chamfer_disc(radius: int) -> np.ndarray:
    """uint8 kernel: the offsets within ``radius`` by OpenCV's 3x3 L2 chamfer distance.
    Dilating by it equals thresholding ``cv2.distanceTransform(..., DIST_L2, 3)`` at
    ``radius`` (the chamfer distance is a distance between offsets; the transform's two
    passes compute it exactly), at a fraction of the cost for small radii."""
    r = radius + 1
    point = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    point[r, r] = 0
    return (cv2.distanceTransform(point, cv2.DIST_L2, 3) <= radius).view(np.uint8)


Box = tuple[slice, slice]
WHOLE: Box = (slice(None), slice(None))


class Grower:
    """One bool mask grown by several radii: the distance transform is computed once."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self._dist: np.ndarray | None = None

    def grow(self, radius: int, box: Box = WHOLE) -> np.ndarray:
        """The mask grown by ``radius``, within ``box`` (which holds all of the mask)."""
        if self._dist is not None and radius > 3:
            return np.asarray(self._dist[box] <= radius)
        part = self.mask[box]
        if radius <= 0:
            return part
        if radius <= 3:
            return np.asarray(cv2.dilate(part.view(np.uint8), disc(radius)) > 0)
        if radius <= SMALL_REACH:
            return cv2.dilate(part.view(np.uint8), chamfer_disc(radius)).view(bool)
        # 1 off the mask, 0 on it: the distance of every pixel to the mask.
        dist = cv2.distanceTransform(part.view(np.uint8) ^ 1, cv2.DIST_L2, 3)
        if box is WHOLE:
            self._dist = dist
        return np.asarray(dist <= radius)


def flagged(labels: np.ndarray, count: int, chosen: np.ndarray) -> np.ndarray:
    """bool: pixels whose label is one of ``chosen`` (labels, repeats allowed; 0 never)."""
    flag = np.zeros(count, bool)
    flag[chosen] = True
    flag[0] = False
    return np.asarray(flag[labels])


def fill_holes(part: np.ndarray) -> np.ndarray:
    """``part`` with its holes filled (the inside of a glyph's loop is not its surroundings);
    ``part`` must be empty along its border."""
    flood = part.astype(np.uint8)
    cv2.floodFill(flood, None, (0, 0), 2)
    return np.asarray(flood != 2)


def enclosed(marks: np.ndarray) -> np.ndarray:
    """bool: pixels off ``marks`` that ``marks`` cut off from the crop's border (holes)."""
    flood = np.pad(marks.view(np.uint8), 1)
    cv2.floodFill(flood, None, (0, 0), 2)
    return np.asarray(flood[1:-1, 1:-1] == 0)
