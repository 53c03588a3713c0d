"""Inpaint stage: flat fast path, classical path, LaMa path (tiny seeded model), sidecar paths."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from imgtrans.models.lama import LamaConfig, build_lama
from imgtrans.models.lama_runner import LamaInpainter
from imgtrans.options import InpaintOptions, MaskOptions
from imgtrans.page import Page, TextBlock, TextLine
from imgtrans.stages.inpaint import Inpainter
from imgtrans.stages.mask import mask as mask_stage


def line(x0: int, y0: int, x1: int, y1: int, text: str = "x") -> TextLine:
    return TextLine(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), text, 0.99)


def page_with_two_blocks() -> Page:
    """A white balloon on the left, text over a gradient-with-stripes picture on the right."""
    img = np.zeros((200, 400, 3), np.uint8)
    img[:, :] = np.linspace(40, 220, 400, dtype=np.uint8)[None, :, None]
    img[::6] = 30  # stripes: art, not flat
    cv2.ellipse(img, (100, 100), (90, 70), 0, 0, 360, (255, 255, 255), -1)
    cv2.putText(img, "HI", (70, 115), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    cv2.putText(img, "ART", (250, 115), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    blocks = (
        TextBlock(0, (line(64, 82, 122, 122, "HI"),), "horizontal"),
        TextBlock(1, (line(244, 82, 322, 122, "ART"),), "horizontal"),
        TextBlock(2, (line(340, 170, 390, 190, "7"),), "horizontal", translate=False),
    )
    return Page(Path("p.png"), "p.png", "0" * 64, img, blocks=blocks)


def run(inpainter: Inpainter) -> Page:
    [page] = mask_stage([page_with_two_blocks()], MaskOptions(dilate=3))
    [out] = inpainter([page])
    return out


def test_flat_balloon_is_filled_with_its_colour_and_art_goes_to_the_model() -> None:
    out = run(Inpainter(InpaintOptions(inpainter="opencv")))
    paths = {b.id: b.inpaint_path for b in out.blocks}
    assert paths == {0: "flat", 1: "opencv", 2: None}
    assert out.clean is not None and out.mask is not None
    balloon = out.clean[82:122, 64:122]
    assert (balloon == 255).all()  # exactly the balloon's white, no ink left
    unmasked = out.mask == 0
    assert (out.clean[unmasked] == out.image[unmasked]).all()  # nothing else touched
    art_ink = (out.image[82:122, 244:322].sum(axis=2) < 100) & (out.mask[82:122, 244:322] > 0)
    assert (out.clean[82:122, 244:322][art_ink].sum(axis=1) > 100).mean() > 0.95


def test_lama_path_batches_regions_and_leaves_unmasked_pixels_bit_identical() -> None:
    torch.manual_seed(0)
    model = build_lama(LamaConfig(ngf=8, n_blocks=2, max_features=64))
    lama = LamaInpainter(model, torch.device("cpu"), batch_size=4)
    out = run(Inpainter(InpaintOptions(), lama))
    assert {b.id: b.inpaint_path for b in out.blocks} == {0: "flat", 1: "lama", 2: None}
    assert out.clean is not None and out.mask is not None
    unmasked = out.mask == 0
    assert (out.clean[unmasked] == out.image[unmasked]).all()
    changed = (out.clean != out.image).any(axis=2)
    assert changed[82:122, 244:322].mean() > 0.3  # the art block was repainted by the model
    assert not changed[170:190, 340:390].any()  # the block not to translate stays


def test_snug_balloon_is_flat_and_its_outline_survives_the_erase() -> None:
    """The text mask reaches over the balloon's border: erase the glyphs, keep the border."""
    img = np.full((200, 300, 3), 120, np.uint8)
    img[::4] = 60  # screentone-ish art around the balloon
    cv2.ellipse(img, (150, 100), (80, 40), 0, 0, 360, (255, 255, 255), -1)
    cv2.ellipse(img, (150, 100), (80, 40), 0, 0, 360, (0, 0, 0), 3)
    cv2.putText(img, "HELLO", (88, 112), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 3)
    outline = np.zeros((200, 300), np.uint8)
    cv2.ellipse(outline, (150, 100), (80, 40), 0, 0, 360, 1, 3)
    block = TextBlock(0, (line(72, 70, 228, 130, "HELLO"),), "horizontal")  # wider than the balloon
    page = Page(Path("s.png"), "s.png", "0" * 64, img, blocks=(block,))
    [page] = mask_stage([page], MaskOptions(dilate=3))
    # The polygon crosses the border; the stroke mask leaves the border out.
    assert page.mask is not None and not (page.mask[outline > 0] > 0).any()
    [out] = Inpainter(InpaintOptions(inpainter="opencv"))([page])
    assert out.blocks[0].inpaint_path == "flat"
    assert out.clean is not None
    inner = np.zeros((200, 300), np.uint8)
    cv2.ellipse(inner, (150, 100), (74, 34), 0, 0, 360, 1, -1)
    assert (out.clean[inner > 0] == 255).all()  # no glyph left inside
    assert (out.clean[outline > 0] == out.image[outline > 0]).all()  # border untouched
