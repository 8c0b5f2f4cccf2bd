"""A photo of one handwritten digit -> the 28x28 image a model trained on MNIST expects.

MNIST's digits were written in ink on forms, scanned, separated from the paper, cropped, scaled
so that the longer side fills a 20x20 box (keeping the aspect ratio, anti-aliased), and placed in
28x28 so that their centre of mass is at the centre. A phone photo needs more before that, and
the steps below do it in order:

1. read: EXIF orientation applied, the first frame of an animation, any pixel format (CMYK,
   16-bit, palette, transparency on white) as RGB; large photos shrunk to WORK_SIDE at once
   (JPEGs are decoded at reduced scale, so a 10,000 x 10,000 photo never sits in memory whole);
2. light: the paper's brightness is estimated (a closing, which removes ink but keeps shadows'
   edges) and divided out, so a shadow or a gradient leaves the paper evenly white: "darkness" is
   then 0 on paper and about 0.5-0.9 on ink, wherever it is;
3. ink: a threshold at half the ink's darkness (so printed lines, fainter than pen ink, fall
   below it), never below the paper's own noise;
4. lines: ruled and squared lines dark enough to pass the threshold are found as straight runs
   of ink across the photo (a Hough transform, then each refined and checked); across a line,
   a short run of ink is the line and is erased, a long one is a stroke crossing it and stays;
5. the digit: connected components of ink; specks (small beside the largest) and components
   that touch the photo's edge (the page edge, the desk, lines) are left out; the largest and
   the pieces near it (a 5's detached bar) are the digit; other digit-sized ink is counted;
6. MNIST's own box: the digit's darkness (not the thresholded mask: it keeps the anti-aliased
   edge) is cropped, its pen width brought near MNIST's (a ballpoint is far thinner than the
   strokes MNIST was written with), its longer side scaled to 20 px keeping the aspect ratio
   (area averaging: anti-aliased), and placed by centre of mass in 28x28.

Only numpy, Pillow and OpenCV: no TensorFlow, so this module imports fast and tests run in seconds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnn.errors import CnnError

WORK_SIDE = 1000  # photos are processed at most this size: a digit a sixth of the photo keeps ~100 px
MIN_WORK_SIDE = 280  # smaller pictures (an MNIST-sized 28x28) are enlarged to about this first
MIN_PIXELS = 8  # a side shorter than this cannot hold a readable digit
DIGIT_BOX = 20 / 28  # MNIST fits each digit in a 20x20 box inside the 28x28 image
MNIST_STROKE = 0.114  # MNIST's median pen width / longer side of the digit (measured on mnist-5k)
PAPER_KERNEL = 0.2  # the paper estimate removes dark marks narrower than this share of the short side
SPECK = 0.03  # ink components smaller than this share of the largest one are specks
NEAR = 0.25  # pieces within this share of the digit's size belong to it (a 5's detached bar)
MAX_ASPECT = 1.4  # width / height of one digit at most; wider groups are several digits
OTHER_DIGIT = 0.15  # other ink this share of the digit's area (a 1 beside an 8) and half its height: another digit
LINE_WIDTH = 0.05  # printed lines are at most this share of the short side wide; pen strokes of a close-up are more
MAX_HOUGH = 300  # strongest Hough candidates judged: a squared page gives a few per line


@dataclass(frozen=True)
class Digit:
    """What `read_digit` found in a photo."""

    image: np.ndarray  # (28, 28) float32 in [0, 1]: light ink on black, as MNIST
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the digit in the photo's pixels (upright)
    digits: int  # digit-sized groups of ink found; > 1 means several digits, the largest was read
    notes: tuple[str, ...]  # what was done that a user may want to know (an animation, inverted colours, lines)
    photo: np.ndarray  # the photo as read, upright, RGB uint8, at most WORK_SIDE px: for pictures of the result
    scale: float  # photo pixels per pixel of `photo`


def read_digit(path: str | Path, size: tuple[int, int] = (28, 28)) -> Digit:
    """The digit in the image file at `path`, prepared as MNIST's were, in an image of `size`.

    Raises CnnError when the file is missing, empty, not an image, truncated, too large or too
    small, or holds no digit (a blank page, one flat colour).
    """
    rgb, scale, notes = read_photo(path)
    return find_digit(rgb, size, name=Path(path).name, notes=notes, scale=scale)


def read_photo(path: str | Path) -> tuple[np.ndarray, float, list[str]]:
    """The image at `path` as RGB float32 in [0, 1], upright, at most WORK_SIDE px; with the
    photo pixels per returned pixel, and notes. Raises CnnError as `read_digit` does."""
    path = Path(path)
    if not path.is_file():
        raise CnnError(f"image {path} not found; give the path of a PNG or JPEG file")
    if path.stat().st_size == 0:
        raise CnnError(f"image {path} is empty (0 bytes); give a PNG or JPEG file")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 megapixels; we shrink at once, and its error at twice that stays.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if min(width, height) < MIN_PIXELS:
                    raise CnnError(
                        f"{path} is {width}x{height} pixels, too small to hold a digit; "
                        f"give a photo at least {MIN_PIXELS}x{MIN_PIXELS} (28x28 or more is best)"
                    )
                frames = getattr(image, "n_frames", 1)
                if frames > 1:
                    notes.append(f"{frames} frames: read the first")
                if image.format == "JPEG" and max(width, height) > 2 * WORK_SIDE:
                    # Decode at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling): memory stays bounded.
                    image.draft(image.mode, (width * WORK_SIDE // max(width, height),
                                             height * WORK_SIDE // max(width, height)))
                image.load()
                orientation = image.getexif().get(0x0112, 1)
                upright = ImageOps.exif_transpose(image)
                if orientation not in (None, 1):
                    notes.append(f"turned upright (EXIF orientation {orientation})")
                rgb = _as_rgb(upright)
    except CnnError:
        raise
    except UnidentifiedImageError:
        raise CnnError(f"{path} is not an image file PIL can read; give a PNG or JPEG") from None
    except Image.DecompressionBombError:
        raise CnnError(
            f"{path} has more than the {2 * Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels this reads "
            f"(a decompression bomb?); scale it down: a digit needs no more than {WORK_SIDE} px"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise CnnError(f"{path} is truncated or corrupt ({error}); export the image again") from None
    longer = max(rgb.shape[:2])
    shrink = min(1.0, WORK_SIDE / longer)
    if shrink < 1:
        rgb = cv2.resize(rgb, (max(1, round(rgb.shape[1] * shrink)), max(1, round(rgb.shape[0] * shrink))),
                         interpolation=cv2.INTER_AREA)
    return rgb, max(width, height) / max(rgb.shape[:2]), notes


def _as_rgb(image: Image.Image) -> np.ndarray:
    """Any Pillow image as RGB float32 in [0, 1]: 16-bit and float pixels scaled by their own
    range (Pillow's convert clips them to white), transparency laid on white paper."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image).astype(np.float32)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        gray = np.clip(values / top, 0, 1)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float32)
        gray = np.clip(values / (255.0 if values.max() > 1 else 1.0), 0, 1)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        # Drawing apps export ink on a transparent background: lay it on white paper,
        # or dropping the alpha channel leaves black ink on black.
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def find_digit(rgb: np.ndarray, size: tuple[int, int] = (28, 28), name: str = "the image",
               notes: list[str] | None = None, scale: float = 1.0) -> Digit:
    """The digit in a picture (RGB (H, W, 3) or grayscale (H, W), float in [0, 1], either
    polarity), prepared as MNIST's were, in an image of `size`. Raises CnnError when the picture
    is one flat colour or holds no ink that could be a digit."""
    notes = list(notes or [])
    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    low, high = np.percentile(gray, [0.1, 99.9])
    if high - low < 0.04:
        colour = "black" if high < 0.15 else "white" if low > 0.85 else "grey"
        raise CnnError(
            f"{name} is all {colour}, one flat colour: no digit to read; photograph a digit in dark ink on light paper"
        )
    if _light_on_dark(gray, low, high):
        gray = 1.0 - gray  # chalk on a board, or an MNIST-style picture: make it ink on paper
        notes.append("light ink on a dark background: colours inverted")
    photo = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)

    # Work on at least MIN_WORK_SIDE px so that morphology has pixels to work with.
    enlarge = max(1, math.ceil(MIN_WORK_SIDE / max(gray.shape)))
    if enlarge > 1:
        gray = cv2.resize(gray, (gray.shape[1] * enlarge, gray.shape[0] * enlarge), interpolation=cv2.INTER_CUBIC)
    darkness = _darkness(gray)
    floor = _noise_floor(darkness)
    ink_level = float(np.percentile(darkness[darkness > floor], 99)) if (darkness > floor).sum() >= 20 else 0.0
    threshold = max(floor, 0.5 * ink_level)
    ink = (darkness > threshold).astype(np.uint8)
    removed = _remove_lines(ink)
    if removed:
        notes.append(f"{removed} ruled or squared line{'s' if removed > 1 else ''} removed")

    group, others, box = _digit_components(ink)
    if group is None:
        raise CnnError(
            f"{name}: no digit found, the page looks blank; "
            "photograph one digit in dark ink, about a third of the picture high"
        )
    image = _mnist_box(darkness, group, box, size)
    left, top, right, bottom = box
    factor = scale / enlarge
    found = (int(left * factor), int(top * factor), int(math.ceil(right * factor)), int(math.ceil(bottom * factor)))
    return Digit(image, found, 1 + others, tuple(notes), photo, scale)


def _light_on_dark(gray: np.ndarray, low: float, high: float) -> bool:
    """True when the ink is lighter than the paper around it: a picture mostly dark, edges
    included (MNIST's own), or ink that stands out lighter from a local median. Ink is the
    minority of its neighbourhood; a median, unlike a mean, keeps a shadow's edge, whose light
    and dark sides then count alike."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(gray) < 0.35 and np.median(border) < 0.35:
        return True
    height, width = gray.shape
    factor = min(1.0, 160 / min(height, width))
    small = cv2.resize(
        gray, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
    )
    small = np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8)
    side = max(3, int(PAPER_KERNEL * min(small.shape)) | 1)
    deviation = small.astype(np.int16) - cv2.medianBlur(small, side).astype(np.int16)
    margin = max(20.0, 0.3 * 255 * (high - low))
    darker, lighter = int((deviation < -margin).sum()), int((deviation > margin).sum())
    return lighter > 2 * darker


def _darkness(gray: np.ndarray) -> np.ndarray:
    """How much darker than the paper under it each pixel is, in [0, 1]: 1 - gray / paper.

    The paper is a closing of a shrunken copy (dark marks narrower than PAPER_KERNEL of the short
    side vanish; a shadow's edge, wider than that, stays sharp), smoothed and enlarged back."""
    height, width = gray.shape
    factor = min(1.0, 160 / min(height, width))
    small = cv2.resize(
        gray, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
    )
    side = max(3, int(PAPER_KERNEL * min(small.shape)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    paper = cv2.GaussianBlur(paper, (0, 0), side / 6)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(1.0 - gray / np.maximum(paper, 0.02), 0.0, 1.0)


def _noise_floor(darkness: np.ndarray) -> float:
    """The darkness that paper alone reaches: grain, JPEG and sensor noise (5 robust sigmas), at least 0.08."""
    median = float(np.median(darkness))
    spread = 1.4826 * float(np.median(np.abs(darkness - median)))
    return max(0.08, median + 5 * spread)


def _remove_lines(ink: np.ndarray) -> int:
    """Erase printed lines from the ink mask in place; returns how many were removed.

    A line is a straight run of ink across at least 3/4 of the photo (Hough's candidates, then
    checked). Across it, at each point along it, the ink is a short run (the line's width) or a
    long one (a pen stroke crossing the line or running along it): the short runs are erased,
    the long ones kept, so a digit stays whole where a line passes through it. Lines are erased
    only when there are two or more (ruled or squared paper), so a 1 alone on plain paper, one
    long straight stroke, is never taken for one."""
    height, width = ink.shape
    short = min(height, width)
    # Hough on the thin ink only: through a blob of thick strokes every angle has many votes.
    factor = min(1.0, 250 / short)
    small = cv2.resize(
        ink, (max(1, round(width * factor)), max(1, round(height * factor))), interpolation=cv2.INTER_AREA
    )
    side = max(3, int(LINE_WIDTH * short * factor) | 1)
    blobs = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    blobs = cv2.resize(cv2.dilate(blobs, np.ones((3, 3), np.uint8)), (width, height), interpolation=cv2.INTER_NEAREST)
    found = cv2.HoughLines(ink * (blobs == 0).astype(np.uint8), 1, np.pi / 360, int(0.5 * short))
    if found is None:
        return 0
    reach = int(LINE_WIDTH * short) + 4
    margin = reach + 2  # a frame of paper, so that lines along the photo's edge can be cut across too
    cleaned = np.pad(ink, margin)
    lines = []
    for rho, theta in found[:MAX_HOUGH, 0]:  # strongest first; a line erased fails the check again
        rho = float(rho) + margin * (math.cos(theta) + math.sin(theta))
        coverage = _erase_line(cleaned, rho, float(theta), reach, margin)
        if coverage:
            lines.append(coverage)
    # One line alone must run nearly edge to edge: a digit's stroke could be 3/4 of a close-up.
    if len(lines) >= 2 or (lines and lines[0] >= 0.9):
        ink[:] = cleaned[margin:-margin, margin:-margin]
        return len(lines)
    return 0


def _erase_line(ink: np.ndarray, rho: float, theta: float, reach: int, margin: int) -> float:
    """Erase the line (rho, theta) from `ink` where it is thin, if ink lies along 3/4 of it;
    returns the share of it that is ink, or 0 when it is not a line."""
    # Hough's answer is a line within a few pixels (its angle is quantised to half a degree):
    # find the centre of the ink across it all along, fit a straight line, and cut again on it.
    cut = _cut_across(ink, rho, theta, reach, margin, window=6)
    if cut is None:
        return 0.0
    steps, centres, thin = cut[0], cut[1], cut[2]
    if thin.sum() < 10:
        return 0.0
    slope, intercept = np.polyfit(steps[thin], centres[thin], 1)
    good = thin & (np.abs(centres - (intercept + slope * steps)) < 2)
    if good.sum() >= 10:
        slope, intercept = np.polyfit(steps[good], centres[good], 1)
    rho, theta = (rho + intercept) / math.hypot(1, slope), theta - math.atan(slope)
    cut = _cut_across(ink, rho, theta, reach, margin, window=2, erase=True)
    return 0.0 if cut is None else cut[3]


def _cut_across(ink: np.ndarray, rho: float, theta: float, reach: int, margin: int, window: float,
                erase: bool = False):
    """Sample `ink` (the photo's mask in a frame of `margin` empty pixels) across the line
    (rho, theta), `reach` px either side, at every point of it inside the photo.

    Returns None when ink lies along less than 3/4 of the line (within `window` px of it), else
    (steps, run centres (px from the line), thin: whether the run there is narrower than `reach`,
    share of the line that is ink). With `erase`, the thin runs (the printed line itself) are
    set to 0 in `ink`; the wide ones (a stroke crossing it or running along it) are kept."""
    height, width = ink.shape
    normal = np.array([math.cos(theta), math.sin(theta)])
    direction = np.array([-normal[1], normal[0]])
    steps = np.arange(-(height + width), height + width, 0.7)  # under a pixel: no gaps on diagonals
    points = normal * rho + steps[:, None] * direction
    inside = (points[:, 0] >= margin) & (points[:, 0] < width - margin) & \
        (points[:, 1] >= margin) & (points[:, 1] < height - margin)
    points, steps = points[inside], steps[inside]
    if len(points) < 10:
        return None
    offsets = np.arange(-reach, reach + 0.01, 0.7)
    centre = int(np.argmin(np.abs(offsets)))
    samples = np.round(points[None] + offsets[:, None, None] * normal).astype(int)  # (offset, point, xy)
    across = ink[samples[..., 1], samples[..., 0]] > 0
    span = int(math.ceil(window / 0.7))
    near = across[centre - span: centre + span + 1]
    found = near.any(axis=0)
    if found.mean() < 0.75:
        return None
    # The run of ink across the line at each point, from the ink nearest the line outwards.
    nearest = np.abs(np.arange(-span, span + 1))[:, None] + np.where(near, 0, 10 * span)
    start = centre - span + np.argmin(nearest, axis=0)
    index = np.arange(len(offsets))[:, None]
    gaps = ~across
    below = np.where(gaps & (index < start), index, -1).max(axis=0) + 1  # first ink of the run
    above = np.where(gaps & (index > start), index, len(offsets)).min(axis=0) - 1  # last ink of the run
    thin = found & (below > 0) & (above < len(offsets) - 1)
    if thin.mean() < 0.5:
        return None  # mostly wider than LINE_WIDTH: a blot or a shadow's edge, not a printed line
    if erase:
        run = (above - below + 1).astype(float)
        limit = 1.5 * float(np.median(run[thin])) + 2
        rows = (index >= below) & (index <= above) & (thin & (run <= limit))[None, :]
        ink[samples[..., 1][rows], samples[..., 0][rows]] = 0
    return steps, (offsets[below] + offsets[above]) / 2, thin, float(found.mean())


def _digit_components(ink: np.ndarray):
    """(mask of the digit's components, how many other digit-sized groups, box (l, t, r, b)),
    or (None, 0, None) when there is no ink but specks."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count <= 1:
        return None, 0, None
    height, width = ink.shape
    areas = stats[1:, cv2.CC_STAT_AREA].astype(float)
    left, top = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    right, bottom = left + stats[1:, cv2.CC_STAT_WIDTH], top + stats[1:, cv2.CC_STAT_HEIGHT]
    touches = (left <= 0) | (top <= 0) | (right >= width) | (bottom >= height)
    minimum = max(12.0, (min(height, width) * 0.01) ** 2)  # a blot of 1% of the short side
    # Ink touching the photo's edge is the page's edge, the desk or a line, unless it is compact:
    # a digit cut by a tight crop.
    compact = (right - left < 0.9 * width) & (bottom - top < 0.9 * height)
    candidates = [i for i in range(count - 1) if areas[i] >= minimum and (compact[i] or not touches[i])]
    if not candidates:
        return None, 0, None
    main = max(candidates, key=lambda i: areas[i] * (0.5 if touches[i] else 1.0))
    candidates = [i for i in candidates if areas[i] >= SPECK * areas[main]]
    members = [main]
    box = [left[main], top[main], right[main], bottom[main]]
    grew = True
    while grew:  # add pieces near the digit that keep it one digit's shape
        grew = False
        reach = NEAR * max(box[2] - box[0], box[3] - box[1])
        for i in candidates:
            if i in members or touches[i]:  # edge ink joins nothing: a line's or the page's end
                continue
            gap_x = max(0, max(box[0], left[i]) - min(box[2], right[i]))
            gap_y = max(0, max(box[1], top[i]) - min(box[3], bottom[i]))
            merged = [min(box[0], left[i]), min(box[1], top[i]), max(box[2], right[i]), max(box[3], bottom[i])]
            if max(gap_x, gap_y) <= reach and merged[2] - merged[0] <= MAX_ASPECT * (merged[3] - merged[1]):
                members.append(i)
                box = merged
                grew = True
    digit_area = sum(areas[i] for i in members)
    digit_height = box[3] - box[1]
    # Another digit: as much ink, as tall, not wider than a digit, not a thin diagonal (a line's end).
    heights, widths = bottom - top, right - left
    others = sum(1 for i in candidates if i not in members and not touches[i]
                 and areas[i] >= OTHER_DIGIT * digit_area and heights[i] >= 0.5 * digit_height
                 and widths[i] <= MAX_ASPECT * heights[i] and areas[i] >= 0.1 * widths[i] * heights[i])
    mask = np.isin(labels, np.array(members) + 1)
    return mask, others, tuple(int(b) for b in box)


def _mnist_box(darkness: np.ndarray, mask: np.ndarray, box, size: tuple[int, int]) -> np.ndarray:
    """The digit's darkness, cropped, pen width matched to MNIST's, longer side scaled to 20/28 of
    `size` (area averaging, so anti-aliased) and placed by centre of mass, as MNIST's were."""
    left, top, right, bottom = box
    pad = max(4, (right - left + bottom - top) // 8)
    top, left = max(0, top - pad), max(0, left - pad)
    bottom, right = min(mask.shape[0], bottom + pad), min(mask.shape[1], right + pad)
    inside = mask[top:bottom, left:right].astype(np.uint8)
    dark = darkness[top:bottom, left:right]
    stroke = _stroke_width(inside)
    # Keep the anti-aliased edge just outside the thresholded mask, and nothing else in the box.
    fringe = max(1, int(round(0.25 * stroke)))
    keep = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * fringe + 1, 2 * fringe + 1)))
    level = float(np.percentile(dark[inside > 0], 75))
    digit = np.clip(dark / max(level, 1e-3), 0, 1) * keep

    # Pen width: MNIST's strokes are ~11% of the digit's longer side; a ballpoint's can be 3%.
    longer = max(box[2] - box[0], box[3] - box[1])
    target = MNIST_STROKE * longer
    if stroke < 0.85 * target:
        radius = int(round((target - stroke) / 2))
        if radius >= 1:
            digit = cv2.dilate(digit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    elif stroke > 1.4 * target:
        radius = int(round((stroke - target) / 2))
        if radius >= 1:
            thinner = cv2.erode(digit, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
            if (thinner > 0.5).sum() > 0.3 * (digit > 0.5).sum():  # never erode a digit away
                digit = thinner

    rows, cols = np.nonzero(digit > 0.05)
    digit = digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    height, width = size
    box_side = max(1, round(min(height, width) * DIGIT_BOX))
    factor = box_side / max(digit.shape)
    new_h, new_w = max(1, round(digit.shape[0] * factor)), max(1, round(digit.shape[1] * factor))
    small = np.clip(cv2.resize(digit, (new_w, new_h), interpolation=cv2.INTER_AREA), 0, 1)
    # Centre of mass to the centre (pixel 14 of 28, where MNIST's average lies), whole pixels as MNIST.
    total = float(small.sum())
    yy, xx = np.indices(small.shape)
    com_y, com_x = (yy * small).sum() / total, (xx * small).sum() / total
    out_top = int(np.clip(round(height / 2 - com_y), 0, height - new_h))
    out_left = int(np.clip(round(width / 2 - com_x), 0, width - new_w))
    out = np.zeros(size, dtype=np.float32)
    out[out_top: out_top + new_h, out_left: out_left + new_w] = small
    return out


def _stroke_width(mask: np.ndarray) -> float:
    """A mask's mean pen width: twice its area over its outline's length (holes' outlines included)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(perimeter, 1.0)
