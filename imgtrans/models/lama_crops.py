"""LaMa's crops without the model: where they go, how they are cut, resized, padded and pasted
back (host work: no torch here, so worker processes can do it without loading torch).

Each region (a box around masked pixels) is cropped with a margin of context, shrunk if its
long side exceeds the largest bucket, padded (bottom/right, mirror padding) to a
bucket-dependent shape; predictions are resized back and pasted over masked pixels only,
with a short feather inside the mask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imgtrans.page import BBox

BUCKETS = (256, 512, 1024)


@dataclass(frozen=True)
class LamaCrop:
    """One region to inpaint and how it is fed to the generator."""

    page: int
    box: BBox  # crop in page pixels: the region grown by the margin
    paste: BBox  # the region: only its masked pixels are written
    size: tuple[int, int]  # (h, w) after resizing, before padding
    shape: tuple[int, int]  # (H, W) model input after padding


def padded_shape(h: int, w: int, buckets: tuple[int, ...] = BUCKETS) -> tuple[int, int]:
    """Model input shape for a crop of ``h x w`` (already no larger than ``buckets[-1]``).

    The bucket is the smallest one that holds the long side; each side is rounded up to a
    quarter of the bucket, so a bucket holds at most 16 shapes and everything is a
    multiple of 8.
    """
    long_side = max(h, w)
    bucket = next((b for b in buckets if b >= long_side), buckets[-1])
    step = max(8, bucket // 4)
    return math.ceil(h / step) * step, math.ceil(w / step) * step


def feather_alpha(mask: np.ndarray, feather: int) -> np.ndarray:
    """Blend weight for pasting: 0 outside the mask, rising to 1 within ``feather`` px inside.

    ``mask`` bool HxW; returns float32 HxW in [0, 1].
    """
    if feather <= 0:
        return mask.astype(np.float32)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    return np.clip(dist / (feather + 1), 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class CropPlan:
    """Where LaMa's crops go and how they are cut, resized, padded and pasted back (host
    work, no model: picklable, so an executor can run it in its workers)."""

    margin_ratio: float = 0.5
    min_margin: int = 32
    feather: int = 2
    buckets: tuple[int, ...] = BUCKETS

    def plan(
        self, images: list[np.ndarray], masks: list[np.ndarray], regions: list[list[BBox]]
    ) -> list[LamaCrop]:
        """The crops for ``regions`` of each page (those with masked pixels), page order."""
        crops: list[LamaCrop] = []
        for page, (image, mask, boxes) in enumerate(zip(images, masks, regions, strict=True)):
            h, w = image.shape[:2]
            for region in boxes:
                paste = BBox(
                    max(0, region.x0), max(0, region.y0), min(w, region.x1), min(h, region.y1)
                )
                if paste.width <= 0 or paste.height <= 0:
                    continue
                if not mask[paste.y0 : paste.y1, paste.x0 : paste.x1].any():
                    continue
                margin = max(
                    self.min_margin, int(self.margin_ratio * max(paste.width, paste.height))
                )
                box = paste.grow(margin, w, h)
                scale = min(1.0, self.buckets[-1] / max(box.width, box.height))
                size = (max(1, round(box.height * scale)), max(1, round(box.width * scale)))
                crops.append(LamaCrop(page, box, paste, size, padded_shape(*size, self.buckets)))
        return crops

    def inputs(
        self, image: np.ndarray, mask: np.ndarray, crop: LamaCrop
    ) -> tuple[np.ndarray, np.ndarray]:
        """The generator's inputs for ``crop``: uint8 H x W x 3 image, H x W mask (0/255)."""
        b = crop.box
        img: np.ndarray = image[b.y0 : b.y1, b.x0 : b.x1]
        msk: np.ndarray = np.where(mask[b.y0 : b.y1, b.x0 : b.x1] > 0, 255, 0).astype(np.uint8)
        h, w = crop.size
        if (h, w) != img.shape[:2]:
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
            msk = cv2.resize(msk, (w, h), interpolation=cv2.INTER_AREA)
        pad = ((0, crop.shape[0] - h), (0, crop.shape[1] - w))
        img = np.pad(img, (*pad, (0, 0)), mode="symmetric")
        msk = np.pad(msk, pad, mode="symmetric")
        return img, msk

    def paste(self, out: np.ndarray, mask: np.ndarray, crop: LamaCrop, pred: np.ndarray) -> None:
        """Blend the prediction into ``out`` (in place) over the region's masked pixels."""
        b, p = crop.box, crop.paste
        if pred.shape[:2] != (b.height, b.width):
            pred = cv2.resize(pred, (b.width, b.height), interpolation=cv2.INTER_LINEAR)
        # Only the region's own pixels: offsets of the region inside the crop.
        oy, ox = p.y0 - b.y0, p.x0 - b.x0
        pred = pred[oy : oy + p.height, ox : ox + p.width]
        crop_mask = mask[b.y0 : b.y1, b.x0 : b.x1] > 0
        region_mask = crop_mask[oy : oy + p.height, ox : ox + p.width]
        alpha = feather_alpha(crop_mask, self.feather)[oy : oy + p.height, ox : ox + p.width]
        alpha = alpha[region_mask][:, None]
        target = out[p.y0 : p.y1, p.x0 : p.x1]
        orig = target[region_mask].astype(np.float32)
        blended = alpha * (pred[region_mask] * 255.0) + (1.0 - alpha) * orig
        target[region_mask] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
