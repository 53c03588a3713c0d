"""Where a block's translation may go: the balloon around it, or its box grown a little.

On the inpainted (text-free) image, a speech balloon is the connected region of pixels
close to the colour under the block, closed by the balloon's outline. When that region
leaks to the edge of the search window (open balloon, caption on a flat page, picture
background) there is no balloon and the block box grown by a margin is used instead.
When it is closed but by a panel's frame rather than a balloon's outline (a small balloon
whose outline is open where its tail starts floods the panel; text floating in a panel)
the text has no balloon either: its area is the part of that region near the text that
the text's box sees along its rows and columns (see :func:`is_panel`). The area is eroded by a safety margin so glyphs never touch the outline.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from imgtrans.page import BBox, Point


@dataclass(frozen=True)
class Area:
    """Pixels a block's text may cover.

    ``mask``: bool ``h x w``, True where text may go, in window coordinates; the window's
    top-left corner is page pixel ``(x0, y0)``. ``balloon``: the area is a detected balloon
    (text is centred in it) rather than the grown block box.
    """

    mask: np.ndarray
    x0: int
    y0: int
    balloon: bool
    centre: tuple[float, float] | None = None  # page point to centre the lines on instead

    @cached_property
    def spans(self) -> tuple[float, float, float, float] | None:
        """(x span centre, y span centre, median x, median y) of the area's pixels in window
        coordinates (the first two at :attr:`centre` when it is set); None when empty.
        Cached: the fit asks for it at every size it tries."""
        ys, xs = np.nonzero(self.mask)
        if len(xs) == 0:
            return None
        if self.centre is not None:
            span_x, span_y = self.centre[0] - self.x0, self.centre[1] - self.y0
        else:
            span_x = (float(xs.min()) + float(xs.max()) + 1) / 2
            span_y = (float(ys.min()) + float(ys.max()) + 1) / 2
        return (span_x, span_y, float(np.median(xs)), float(np.median(ys)))

    @cached_property
    def extent(self) -> tuple[int, int]:
        """Width and height of the area's bounding box (0, 0 when empty)."""
        spans = self.bbox
        return spans.width, spans.height

    @cached_property
    def slot_memo(self) -> dict[tuple[int, int, float, bool], tuple[int, int]]:
        """Line slots already found (see ``layout._slot``): the fit asks again per size."""
        return {}

    @cached_property
    def holes_down(self) -> np.ndarray:
        """int32 ``(h + 1) x w``: pixels outside the area above each row, per column (a band
        of rows ``[lo, hi)`` is all area in column x when ``[hi, x] == [lo, x]``)."""
        return _cumulative(~self.mask, axis=0)

    @cached_property
    def holes_across(self) -> np.ndarray:
        """int32 ``(w + 1) x h``: as :attr:`holes_down` for bands of columns."""
        return _cumulative(~self.mask.T, axis=0)

    @cached_property
    def bbox(self) -> BBox:
        """Tight page-coordinate box around the area (empty box when the mask is empty)."""
        ys, xs = np.nonzero(self.mask)
        if len(xs) == 0:
            return BBox(self.x0, self.y0, self.x0, self.y0)
        return BBox(
            self.x0 + int(xs.min()),
            self.y0 + int(ys.min()),
            self.x0 + int(xs.max()) + 1,
            self.y0 + int(ys.max()) + 1,
        )

    def polygon(self) -> tuple[Point, ...]:
        """The outline of the largest part of the area as a simplified page polygon."""
        m = self.mask.astype(np.uint8)
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return ()
        big = max(contours, key=cv2.contourArea)
        approx = cv2.approxPolyDP(big, 1.5, True).reshape(-1, 2)
        return tuple((float(x + self.x0), float(y + self.y0)) for x, y in approx)


def _cumulative(holes: np.ndarray, axis: int) -> np.ndarray:
    out = np.zeros((holes.shape[0] + 1, holes.shape[1]), np.int32)
    np.cumsum(holes, axis=axis, dtype=np.int32, out=out[1:])
    return out


def box_area(box: BBox, width: int, height: int) -> Area:
    """A rectangular area (page coordinates), clipped to a ``width x height`` page."""
    x0, y0 = max(0, box.x0), max(0, box.y0)
    x1, y1 = min(width, box.x1), min(height, box.y1)
    mask = np.ones((max(0, y1 - y0), max(0, x1 - x0)), dtype=bool)
    return Area(mask, x0, y0, balloon=False)


def find_area(clean: np.ndarray, block_box: BBox, glyph_size: int, tol: float = 32.0) -> Area:
    """The area for a block whose lines span ``block_box`` on inpainted image ``clean``.

    ``clean``: RGB uint8 ``H x W x 3`` with the text already erased. ``glyph_size``: the
    source glyph size in pixels (sets the margins). Returns the balloon interior eroded by
    a margin, or ``block_box`` grown by a margin when no closed balloon surrounds it.
    """
    h, w = clean.shape[:2]
    margin = max(2, round(glyph_size * 0.15))
    region = _balloon_region(clean, block_box, tol, glyph_size**2)
    if region is not None:
        mask, x0, y0 = region
        balloon = not is_panel(mask, block_box.grow(2 * glyph_size, w, h))
        if not balloon:
            mask = _near_text(mask, x0, y0, block_box.grow(2 * glyph_size, w, h), block_box)
        eroded = _erode(mask, margin)
        area = Area(eroded, x0, y0, balloon=balloon)
        if eroded.sum() >= 0.6 * block_box.width * block_box.height:
            return area
    grow = max(2, round(glyph_size * 0.3))
    return box_area(block_box.grow(grow, w, h), w, h)


PANEL_RATIO = 1.5  # a framed region this many times the text's neighbourhood: a panel
BOX_RATIO = 3.0  # ... unless it is a full rectangle (a caption box) up to this many times
HUGE_RATIO = 6.0  # this many times: no balloon, framed or not
FRAME_HUG = 0.6  # a side of the region's box it touches along this share is a straight frame
FULL_BOX = 0.94  # a region filling this share of its bounding box is a rectangle


def is_panel(region: np.ndarray, near: BBox) -> bool:
    """Whether ``region`` (the closed region of the block's background colour around it) is
    a panel or a flat part of the page rather than the block's balloon.

    ``near``: the block's box grown by two glyphs, about the most a balloon's outline keeps
    from its text. A region closed on two sides or more by long straight lines (it touches
    two sides of its bounding box along most of their length: a panel's frame) is a panel
    when it is over 1.5 times that, or over 3 times when it fills its bounding box (a
    rectangular caption box holding only its text); any region over 6 times that is one.
    Balloons measured on the dev set: at most 1.4 times (one that two blocks share); panels
    1.6-12 times.
    """
    size = float(region.sum())
    near_size = float(near.width * near.height)
    if size <= PANEL_RATIO * near_size:
        return False
    if size > HUGE_RATIO * near_size:
        return True
    ys, xs = np.nonzero(region)
    tight = region[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    band = 3  # pixels from the side: a frame line drawn by hand is not quite straight
    hugs = (
        tight[:band].any(axis=0).mean(),
        tight[-band:].any(axis=0).mean(),
        tight[:, :band].any(axis=1).mean(),
        tight[:, -band:].any(axis=1).mean(),
    )
    if sum(1 for share in hugs if share >= FRAME_HUG) < 2:
        return False
    return size > BOX_RATIO * near_size or size < FULL_BOX * tight.size


def _near_text(mask: np.ndarray, x0: int, y0: int, near: BBox, box: BBox) -> np.ndarray:
    """The part of ``mask`` (window at page ``(x0, y0)``) inside page box ``near`` that the
    middle of the block's ``box`` sees straight along the box's rows and columns: the inside
    of an open balloon up to its outline, not the panel around it that the opening joins it
    to (the box itself may poke past a tight outline)."""
    h, w = mask.shape
    ya, yb = max(0, near.y0 - y0), min(h, near.y1 - y0)
    xa, xb = max(0, near.x0 - x0), min(w, near.x1 - x0)
    by0, by1 = min(max(box.y0 - y0, ya), yb), min(max(box.y1 - y0, ya), yb)
    bx0, bx1 = min(max(box.x0 - x0, xa), xb), min(max(box.x1 - x0, xa), xb)
    yc, xc = (by0 + by1) // 2, (bx0 + bx1) // 2
    seen = np.zeros(mask.shape, bool)
    if by0 >= by1 or bx0 >= bx1:
        return seen
    run = np.logical_and.accumulate
    rows, cols = mask[by0:by1], mask[:, bx0:bx1]
    seen[by0:by1, xa : xc + 1] = run(rows[:, xa : xc + 1][:, ::-1], axis=1)[:, ::-1]
    seen[by0:by1, xc:xb] |= run(rows[:, xc:xb], axis=1)
    seen[ya : yc + 1, bx0:bx1] |= run(cols[ya : yc + 1][::-1], axis=0)[::-1]
    seen[yc:yb, bx0:bx1] |= run(cols[yc:yb], axis=0)
    return seen


def _erode(mask: np.ndarray, margin: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    padded = np.pad(mask.astype(np.uint8), margin + 1)
    out = cv2.erode(padded, kernel)[margin + 1 : -margin - 1, margin + 1 : -margin - 1]
    return out.astype(bool)


def _balloon_region(
    clean: np.ndarray, box: BBox, tol: float, hole: float = 0.0
) -> tuple[np.ndarray, int, int] | None:
    """The closed region of the block's background colour around ``box``, or None.

    The search window grows (1x, 2x, 4x, 8x the block size around it) until the region no
    longer reaches the window's edge; one that reaches the page edge is open. Holes in it of
    at most ``hole`` pixels are filled.
    """
    inner = clean[box.y0 : box.y1, box.x0 : box.x1].reshape(-1, 3)
    if inner.size == 0:
        return None
    colour = np.median(inner, axis=0)
    h, w = clean.shape[:2]
    for scale in (1, 2, 4, 8):
        win = box.grow(scale * max(box.width, box.height), w, h)
        region = _region_in(clean, win, box, colour, tol)
        if region is None:
            return None
        edges = (region[0].any(), region[-1].any(), region[:, 0].any(), region[:, -1].any())
        if not any(edges):
            return _fill_holes(region, hole), win.x0, win.y0
        on_page_edge = (win.y0 == 0, win.y1 == h, win.x0 == 0, win.x1 == w)
        if any(e and p for e, p in zip(edges, on_page_edge, strict=True)):
            return None  # reaches the page edge: open balloon, flat page or picture
    return None


def _region_in(
    clean: np.ndarray, win: BBox, box: BBox, colour: np.ndarray, tol: float
) -> np.ndarray | None:
    """bool mask (window coords) of the component of near-``colour`` pixels under ``box``."""
    crop = clean[win.y0 : win.y1, win.x0 : win.x1]
    # |pixel - colour| <= tol on every channel, for integer pixels: one inRange pass.
    lower = np.clip(np.ceil(colour - tol), 0, 255)
    upper = np.clip(np.floor(colour + tol), 0, 255)
    near = cv2.inRange(np.ascontiguousarray(crop), tuple(lower.tolist()), tuple(upper.tolist()))
    near = cv2.morphologyEx(near, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    _, labels = cv2.connectedComponents(near, connectivity=4)
    bx0, by0 = box.x0 - win.x0, box.y0 - win.y0
    under = labels[by0 : by0 + box.height, bx0 : bx0 + box.width]
    ids, freq = np.unique(under[under > 0], return_counts=True)
    if len(ids) == 0 or freq.max() < 0.5 * under.size:
        return None
    return np.asarray(labels == ids[np.argmax(freq)])


def _fill_holes(region: np.ndarray, largest: float) -> np.ndarray:
    """``region`` with its enclosed holes of at most ``largest`` pixels (inpainting residue,
    small marks) filled; larger ones (a figure standing in a panel, art inside a balloon)
    stay out of it, so no text is lettered over them."""
    m = np.pad(region.astype(np.uint8), 1)
    flood = m.copy()
    ff_mask = np.zeros((m.shape[0] + 2, m.shape[1] + 2), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 1)
    holes = (flood == 0).view(np.uint8)
    x, y, w, h = cv2.boundingRect(holes)  # label only where there are holes
    out = m.view(bool)
    if w and h:
        crop = holes[y : y + h, x : x + w]
        n, labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=4)
        small = np.zeros(n, bool)
        small[1:] = stats[1:, cv2.CC_STAT_AREA] <= largest
        out[y : y + h, x : x + w] |= small[labels]
    return np.asarray(out[1:-1, 1:-1])


def _box_distance(box: BBox, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    dx = np.maximum(np.maximum(box.x0 - xs, 0), xs - box.x1)
    dy = np.maximum(np.maximum(box.y0 - ys, 0), ys - box.y1)
    return np.asarray(np.hypot(dx, dy))


def _smaller(a: BBox, b: BBox, first: bool) -> bool:
    """``a`` is the smaller box (by area; ties go to the first block)."""
    size_a, size_b = a.width * a.height, b.width * b.height
    return size_a < size_b or (size_a == size_b and first)


def separate(areas: list[Area], boxes: list[BBox], gap: float = 3.0) -> list[Area]:
    """Areas of blocks that share pixels (two blocks in one balloon, neighbouring boxes)
    split between them: a shared pixel goes to the block whose box is nearer by more than
    ``gap`` pixels, so two translations never overlap or touch; a pixel inside both boxes
    goes to the smaller box."""
    out = []
    for i, (area, box) in enumerate(zip(areas, boxes, strict=True)):
        mask = area.mask.copy()
        tight = area.bbox
        for j, (other, other_box) in enumerate(zip(areas, boxes, strict=True)):
            theirs_box = other.bbox  # tight boxes: outside them neither mask has a pixel
            x0, x1 = max(tight.x0, theirs_box.x0), min(tight.x1, theirs_box.x1)
            y0, y1 = max(tight.y0, theirs_box.y0), min(tight.y1, theirs_box.y1)
            if j == i or x0 >= x1 or y0 >= y1:
                continue
            mine = mask[y0 - area.y0 : y1 - area.y0, x0 - area.x0 : x1 - area.x0]
            theirs = other.mask[y0 - other.y0 : y1 - other.y0, x0 - other.x0 : x1 - other.x0]
            by, bx = np.nonzero(mine & theirs)
            if not len(by):
                continue
            ys, xs = by.astype(np.float64) + (y0 + 0.5), bx.astype(np.float64) + (x0 + 0.5)
            d_mine, d_theirs = _box_distance(box, xs, ys), _box_distance(other_box, xs, ys)
            nearer = d_mine + gap < d_theirs
            # Inside both boxes (one block's box holds another's): the smaller box keeps it,
            # else nobody would letter there.
            if _smaller(box, other_box, i < j):
                nearer |= (d_mine == 0) & (d_theirs == 0)
            mine[by[~nearer], bx[~nearer]] = False
        out.append(Area(mask, area.x0, area.y0, area.balloon, area.centre))
    return out
