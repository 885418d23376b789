"""Finds the ultrasound image region in a screen capture (menus, text, rulers, bars around it).

Speckle is textured everywhere and (over a few frames) changes; user-interface elements are flat,
thin (text, dots, lines) or static. The detector marks textured/changing pixels, removes thin
structures with a morphological opening, keeps the largest blob and returns its bounding box.
Screen captures are tried first as the largest textured blob that differs from the flat background.
Last, a depth ruler inside the region's edge (a column or row of evenly spaced bright dots drawn
over the image, with its labels beyond) is cut off: it is user interface, not image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from usguide.errors import UsguideError
from usguide.types import Roi

_TEXTURE_MIN = 2.5  # local std (grey levels) below which a pixel is flat UI or background
_CHANGE_MIN = 4.0  # temporal std above which a pixel is live image
_TEXTURE_RADIUS = 2  # 5x5 windows: stable on correlated speckle; the mask bleeds 2 px outwards
_FLAT_SHARE = 0.95  # share of the background's +-1 grey levels at its mode: a noise-free capture
_PASTED_AREA_MIN = 0.05  # the image covers at least this share of the screen
_PASTED_TEXTURE_MIN = 2.0  # 7x7 local std (grey levels) of speckle, even smooth, coarse speckle
_PASTED_TEXTURED_SHARE = 0.3  # share of an image blob's pixels that are textured
# A nearly empty image (water, a phantom: black with a few echoes) is a flat box that is live: it
# fills its bounding box, stays clear of the screen's edge (bars touch it) and changes somewhere.
_PASTED_BOX_FILL = 0.9
_PASTED_LIVE_SHARE = 0.002  # share of its pixels that change over the frames (clocks: a bar's)
_RULER_TOPHAT = 60.0  # grey levels a ruler dot stands above its surroundings (dots are near white)
_RULER_DOT_MAX = 0.02  # largest dot radius, as a share of the frame's smaller side
_RULER_BAND = 0.1  # share of the region's width (height) searched for a ruler at each edge
_RULER_DOTS_MIN = 5  # fewer aligned dots could be chance (bright speckle grains, text)
_RULER_ALIGN = 2.0  # pixels a ruler's dot centres may stray from a common column (row)
_RULER_PERIOD_TOL = 0.15  # share of the spacing a gap may miss a whole number of spacings by
_RULER_FILLED = 0.75  # share of the grid's slots from the first mark to the last that hold a mark
_RULER_SPAN_MIN = 0.4  # share of the region's height (width) a ruler spans


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32)


def texture_map(image: np.ndarray, radius: int = 2, median: int = 5) -> np.ndarray:
    """Local RMS of speckle-like detail (image minus its median), float32, the image's size.

    A median filter keeps straight step edges (bars, panel borders) and removes speckle, so the
    residual is strong in speckle and weak on flat UI and its edges.
    """
    grey = _grey(image)
    smooth = cv2.medianBlur(grey.astype(np.uint8) if grey.max() <= 255 else grey, 5).astype(
        np.float32
    )
    detail = grey - smooth
    size = (2 * radius + 1, 2 * radius + 1)
    return np.sqrt(cv2.blur(detail * detail, size))


def change_map(frames: Sequence[np.ndarray]) -> np.ndarray:
    """Per-pixel standard deviation over time (speckle changes, the user interface does not)."""
    stack = np.stack([_grey(f) for f in frames])
    return stack.std(axis=0)


def detect_roi(frames: np.ndarray | Sequence[np.ndarray]) -> Roi:
    """Detects the image region in one frame or a few frames of a screen capture.

    Args:
        frames: one image (HxW or HxWx3) or a sequence of images of the same size.

    Returns:
        The bounding box of the ultrasound image (for a fan: the fan's bounding box), without a
        depth ruler drawn over its edge.

    Raises:
        UsguideError: when no textured region is found.
    """
    images = [frames] if isinstance(frames, np.ndarray) else list(frames)
    if not images:
        raise UsguideError("no frames to detect the image region in")
    height, width = images[0].shape[:2]
    # Screen captures: the pasted image is the largest textured blob that differs from the flat
    # screen background (its black parts too: shadows, a fan's corners), which texture alone misses.
    found = _pasted_region(images, width, height)
    if found is None:
        # Fine speckle first; coarse (smoothed, large-grain) speckle needs a wider median.
        fine = _detect(images, width, height, 5)
        coarse = _detect(images, width, height, 9)
        # The fine result is more exact at the edges; the coarse one wins only when the fine pass
        # saw a mere part of the image (e.g. only a moving needle).
        if fine is not None and (coarse is None or fine.w * fine.h * 2 > coarse.w * coarse.h):
            found = fine
        elif coarse is not None:
            found = coarse
    if found is None:
        raise UsguideError("no ultrasound image region found — give the region with --roi X,Y,W,H")
    # A ruler drawn over the image's edge joins the image in every mask above (e.g. a full-screen
    # app export whose ruler sits on faded image): only its dots' layout gives it away.
    return _cut_ruler(images, found)


def region_to_mask(roi: Roi | None, frames: np.ndarray | Sequence[np.ndarray]) -> Roi:
    """The image region outside which burned-in text is masked: ``roi``, else the detected one.

    Raises:
        UsguideError: none given and none found (the user gives ``--roi`` or ``--keep-burned-in``).
    """
    if roi is not None:
        return roi
    try:
        return detect_roi(frames)
    except UsguideError:
        raise UsguideError(
            "no image region known, so burned-in text cannot be masked — give --roi X,Y,W,H "
            "or --keep-burned-in"
        ) from None


def _pasted_region(images: list[np.ndarray], width: int, height: int) -> Roi | None:
    greys = [_grey(image) for image in images[:8]]
    first = np.clip(greys[0], 0, 255).astype(np.uint8)
    hist = np.bincount(first.ravel(), minlength=256).astype(np.float64)
    background = int(np.argmax(hist))
    # A capture card's background is exactly flat: then one grey level separates a black image
    # from a near-black screen. A noisy background needs a wider margin.
    near = hist[max(background - 1, 0) : background + 2].sum()
    margin = 1.0 if hist[background] > _FLAT_SHARE * near else 4.0
    mask = np.zeros(first.shape, bool)
    for grey in greys:
        mask |= np.abs(grey - background) > margin
    # A background need not be one level: a noise-free gradient (or a bar along an edge) is
    # screen too. (A noisy one is never flat enough to be followed: nothing changes there.)
    mask &= ~_screen_background(first, 1)
    # Speckle grains at the background's level are holes in the image, not screen: the screen is
    # what the frame's border reaches without crossing the image. Holes broke the opening below
    # into pieces, which cut the image's dark top (or gave no region at all).
    outside = (~mask).astype(np.uint8)
    _, parts = cv2.connectedComponents(outside, connectivity=4)
    ring = np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])
    mask = ~np.isin(parts, ring[ring > 0])
    # Breaks one-pixel bridges (anti-aliased text touching the image) and removes noise specks.
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    texture = _local_std(greys[0]) > _PASTED_TEXTURE_MIN
    live = np.max(greys, axis=0) - np.min(greys, axis=0) > _CHANGE_MIN if len(greys) > 1 else None
    for label in 1 + np.argsort(-stats[1:, cv2.CC_STAT_AREA]):
        area = stats[label, cv2.CC_STAT_AREA]
        if area < _PASTED_AREA_MIN * width * height:
            break
        blob = labels == label
        x, y, w, h = stats[label, :4]
        inside = x > 0 and y > 0 and x + w < width and y + h < height
        empty_image = (
            live is not None
            and inside
            and area >= _PASTED_BOX_FILL * w * h
            and live[blob].mean() >= _PASTED_LIVE_SHARE
        )
        # Menu bars and panels are large but flat apart from their text; speckle is textured.
        if texture[blob].mean() >= _PASTED_TEXTURED_SHARE or empty_image:
            # Thin attachments (a ruler or a line touching the image) go with a large opening;
            # the image's own corners are won back within reach of what remains.
            blob8 = blob.astype(np.uint8)
            radius = max(8, round(min(width, height) * 0.03))
            core = cv2.morphologyEx(blob8, cv2.MORPH_OPEN, _disc(radius))
            grown = cv2.dilate(core, _disc(radius // 2 + 2)) & blob8
            x, y, w, h = cv2.boundingRect(grown if grown.any() else blob8)
            return Roi(int(x), int(y), int(w), int(h))
    return None


def _screen_background(grey: np.ndarray, margin: float) -> np.ndarray:
    """The screen around the image: pixels reached from the frame's border through flat pixels
    (a 3x3 range within ``margin``), each within ``margin`` of the last. That takes a flat or
    graded background and bars at the edges; speckle, never flat, stops it (so does the step to
    an image's black border, unless the screen is that black: then it is screen to the
    levels test as well).

    Args:
        grey: uint8 HxW, a noise-free capture (``margin`` 1 grey level).
        margin: the largest step between neighbours within the background.
    """
    kernel = np.ones((3, 3), np.uint8)
    spread = cv2.dilate(grey, kernel).astype(np.int16) - cv2.erode(grey, kernel)
    height, width = grey.shape
    filled = np.zeros((height + 2, width + 2), np.uint8)
    filled[1:-1, 1:-1] = spread > margin  # not flat: never filled
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (2 << 8)
    edge = [(x, 0) for x in range(width)] + [(x, height - 1) for x in range(width)]
    edge += [(0, y) for y in range(height)] + [(width - 1, y) for y in range(height)]
    for x, y in edge:
        if filled[y + 1, x + 1] == 0:
            cv2.floodFill(grey, filled, (x, y), 0, margin, margin, flags)
    return filled[1:-1, 1:-1] == 2


def _local_std(grey: np.ndarray, radius: int = 3) -> np.ndarray:
    size = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.blur(grey, size)
    return np.sqrt(np.maximum(cv2.blur(grey * grey, size) - mean * mean, 0))


def _detect(images: list[np.ndarray], width: int, height: int, median: int) -> Roi | None:
    # Median of per-frame texture maps: robust to a frame with a transient overlay.
    textures = [texture_map(image, _TEXTURE_RADIUS, median) for image in images[:8]]
    texture = np.median(np.stack(textures), axis=0) if len(textures) > 1 else textures[0]
    mask = texture > _texture_threshold(texture)
    if len(images) > 1:
        change = change_map(images[:16])
        change_mask = cv2.morphologyEx(
            (change > _CHANGE_MIN).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)
        )
        mask |= change_mask.astype(bool)
    return _main_region(mask.astype(np.uint8), width, height, bleed=_TEXTURE_RADIUS)


def _texture_threshold(texture: np.ndarray) -> float:
    # Above the capture noise floor (estimated from the flattest pixels), never below a fixed level:
    # deep, attenuated speckle is faint, so the threshold stays low and thin UI is removed by shape.
    return max(_TEXTURE_MIN, 4.0 * float(np.percentile(texture, 5)))


def _main_region(mask: np.ndarray, width: int, height: int, bleed: int) -> Roi | None:
    # A small opening removes text strokes and ruler dots; a large one leaves only the image's core.
    # First undo the outward bleed of the texture window, which also separates nearby labels.
    mask = cv2.erode(mask, np.ones((2 * bleed + 1, 2 * bleed + 1), np.uint8))
    fine = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _disc(4))
    radius = max(8, round(min(width, height) * 0.03))
    core = cv2.morphologyEx(fine, cv2.MORPH_OPEN, _disc(radius))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[biggest, cv2.CC_STAT_AREA] < 0.01 * width * height:
        return None
    # The large opening rounds off corners (a fan's tips): win them back from the finely opened
    # mask, within reach of the core so that separate UI blobs are not swallowed.
    grown = cv2.dilate((labels == biggest).astype(np.uint8), _disc(radius // 2 + 2)) & fine
    # The small opening trims sharp corners by a pixel or two: take those back from the raw mask.
    grown = cv2.dilate(grown, _disc(3)) & mask
    x, y, w, h = cv2.boundingRect(grown)
    return Roi(int(x), int(y), int(w), int(h))


def _cut_ruler(images: list[np.ndarray], roi: Roi) -> Roi:
    """Cuts a depth ruler (and everything beyond it) off the region's edges.

    Args:
        images: the frames the region was found in.
        roi: the region found.

    Returns:
        The region without a ruler at its edges; ``roi`` itself when there is none.
    """
    height, width = images[0].shape[:2]
    # The mean over frames keeps the static ruler sharp and blurs moving speckle grains away.
    mean = np.mean([_grey(image) for image in images[:8]], axis=0)
    crop = mean[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w]
    radius = max(3, round(_RULER_DOT_MAX * min(width, height)))
    # Top-hat: what an opening wider than any dot removes: small bright marks on any background.
    tophat = crop - cv2.morphologyEx(crop, cv2.MORPH_OPEN, _disc(radius))
    marks = (tophat > _RULER_TOPHAT).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    boxes = stats[1:, :4].astype(np.float64)
    area = stats[1:, cv2.CC_STAT_AREA]
    w, h = boxes[:, 2], boxes[:, 3]
    # Dots are small, round and filled; text strokes, lines and speckle streaks are not.
    dots = boxes[
        (np.minimum(w, h) >= 2)
        & (np.maximum(w, h) <= 2 * radius + 1)
        & (np.maximum(w, h) <= 2 * np.minimum(w, h))
        & (area >= 0.5 * w * h)
    ]
    # Columns keep [left, right) of the region's width, rows [top, bottom) of its height.
    left, right = _ruler_cut(dots, roi.w, roi.h)
    top, bottom = _ruler_cut(dots[:, [1, 0, 3, 2]], roi.h, roi.w)
    if right - left < roi.w // 2 or bottom - top < roi.h // 2:
        return roi  # too much would go: more likely a misreading than a ruler
    return Roi(roi.x + left, roi.y + top, right - left, bottom - top)


def _ruler_cut(dots: np.ndarray, size: int, length: int) -> tuple[int, int]:
    """The span ``[start, end)`` across the region left after cutting rulers at both ends.

    Args:
        dots: dot boxes (across start, along start, across extent, along extent) in the region.
        size: the region's size across the ruler (its width for a vertical ruler).
        length: the region's size along the ruler.

    Returns:
        The kept span; ``(0, size)`` when there is no ruler.
    """
    start, end = 0, size
    centre = dots[:, 0] + dots[:, 2] / 2
    band = _RULER_BAND * size
    for k in np.flatnonzero((centre < band) | (centre > size - band)):
        group = dots[np.abs(centre - centre[k]) <= _RULER_ALIGN]
        if not _evenly_spaced(group[:, 1] + group[:, 3] / 2, length):
            continue
        # A dot merged with a neighbouring mark grows mostly one way: a round dot's half-width is
        # its box's smaller half-side, taken from its own centre.
        middle = group[:, 0] + group[:, 2] / 2
        half = np.minimum(group[:, 2], group[:, 3]) / 2
        if centre[k] > size - band:
            end = min(end, int(np.floor((middle - half).min())))
        else:
            start = max(start, int(np.ceil((middle + half).max())))
    return start, end


def _evenly_spaced(along: np.ndarray, length: int) -> bool:
    # A ruler's marks lie at whole multiples of one spacing (a mark may be missing, e.g. hidden by
    # a label); speckle grains that happen to share a column do not.
    if len(along) < _RULER_DOTS_MIN:
        return False
    along = np.sort(along)
    gaps = np.diff(along)
    spacing = float(np.median(gaps))
    if spacing < 4 or along[-1] - along[0] + spacing < _RULER_SPAN_MIN * length:
        return False
    steps = gaps / spacing
    on_grid = np.all((np.abs(steps - np.round(steps)) <= _RULER_PERIOD_TOL) & (steps > 0.5))
    # Few missing marks: random grains can land on a grid by chance only when most slots are empty.
    slots = float(np.round(steps).sum()) + 1
    return bool(on_grid and len(along) >= _RULER_FILLED * slots)


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
