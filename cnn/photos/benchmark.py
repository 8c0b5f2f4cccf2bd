"""A photo benchmark: held-out MNIST test digits rendered as phone-style photos, seeded.

Each photo is one test digit of the dataset (never a training image) written in ink on a page
and "photographed": paper colour and grain, ruled or squared lines, an ink colour and pen width,
specks of dirt, a shadow and uneven light, rotation and perspective, sometimes the page's edge
and the desk beyond it, blur, sensor noise and JPEG, at sizes from 200 to 3000 px.

What it is not: real camera photos. The degradations are rendered, so the benchmark measures
the path from a photo-like image to 28x28 against the failures we thought of, not against every
camera, pen and hand. The same `seed` gives the same photos, byte for byte, on one machine
(OpenCV and libjpeg versions may change a few pixels elsewhere).

    photos = make_photos(dataset.x_test, dataset.y_test, n=100, seed=0)
    write_photos(photos, "bench/")          # bench/000-7.jpg ... and bench/labels.csv
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from cnn.errors import CnnError

MIN_SIDE, MAX_SIDE = 200, 3000  # the photos' longer side, spread evenly on a log scale
RENDER_SIDE = 1200  # pages are drawn at most this size, then enlarged
PAPERS = {  # RGB in [0, 1]
    "white": (0.96, 0.96, 0.95),
    "cream": (0.97, 0.94, 0.85),
    "grey": (0.88, 0.88, 0.87),
    "recycled": (0.90, 0.87, 0.80),
}
INKS = {  # RGB of the ink where it is laid on fully, and how often it is drawn
    "black ballpoint": ((0.10, 0.10, 0.13), 0.3),
    "blue ballpoint": ((0.12, 0.20, 0.60), 0.35),
    "dark blue gel": ((0.08, 0.10, 0.35), 0.15),
    "red ballpoint": ((0.70, 0.10, 0.12), 0.1),
    "pencil": ((0.30, 0.30, 0.32), 0.1),
}
LINE_COLOURS = {  # printed lines: light, as on real ruled and squared paper; one darker grid to test removal
    "light blue": (0.62, 0.76, 0.92),
    "light grey": (0.70, 0.70, 0.70),
    "light green": (0.68, 0.84, 0.70),
    "dark grey": (0.45, 0.45, 0.47),
}
DESKS = ((0.25, 0.18, 0.12), (0.15, 0.15, 0.16), (0.55, 0.50, 0.45))  # beyond the page's edge


@dataclass(frozen=True)
class Photo:
    """One benchmark photo: the encoded file and what went into it."""

    name: str  # file name, e.g. "017-7.jpg": index, label, format
    label: int
    data: bytes  # the encoded JPEG or PNG
    source_index: int  # the digit's index in the x_test it was made from
    recipe: dict = field(default_factory=dict)  # every choice made for this photo, JSON-ready


def make_photos(digits: np.ndarray, labels: np.ndarray, n: int = 100, seed: int = 0,
                sizes: tuple[int, int] = (MIN_SIDE, MAX_SIDE)) -> list[Photo]:
    """`n` photos of digits drawn from `digits` (test images, (N, 28, 28[, 1]) light on dark in
    [0, 1]) with their `labels`: the same number of each class (as near as `n` allows), each
    digit used once. Raises CnnError when there are too few digits of a class."""
    digits = np.asarray(digits, dtype=np.float32).reshape(len(digits), 28, 28)
    labels = np.asarray(labels).astype(int)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    picked = []
    for i, label in enumerate(classes):
        count = n // len(classes) + (i < n % len(classes))
        pool = np.flatnonzero(labels == label)
        if len(pool) < count:
            raise CnnError(f"only {len(pool)} test digits of class {label}; {count} are needed for {n} photos")
        picked += list(rng.choice(pool, count, replace=False))
    picked = rng.permutation(picked)
    # Sizes spread evenly on a log scale, so both ends (200 and 3000 px) are always in the set.
    low, high = sizes
    sides = np.round(np.exp(np.linspace(np.log(low), np.log(high), n))).astype(int)
    sides = rng.permutation(sides)
    photos = []
    for index, (source, side) in enumerate(zip(picked, sides)):
        photo_rng = np.random.default_rng([seed, index])  # each photo its own stream: one change stays local
        image, recipe = render_photo(digits[source], int(side), photo_rng)
        label = int(labels[source])
        fmt = "png" if photo_rng.random() < 0.15 else "jpg"
        buffer = io.BytesIO()
        if fmt == "jpg":
            quality = int(photo_rng.integers(40, 96))
            recipe["jpeg_quality"] = quality
            Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        else:
            Image.fromarray(image).save(buffer, "PNG")
        photos.append(Photo(f"{index:03d}-{label}.{fmt}", label, buffer.getvalue(), int(source), recipe))
    return photos


def write_photos(photos: list[Photo], folder: str | Path) -> Path:
    """Write each photo's file and `labels.csv` (file, label, source index, recipe) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        (folder / photo.name).write_bytes(photo.data)
    with open(folder / "labels.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["file", "label", "source_index", "recipe"])
        for photo in photos:
            writer.writerow([photo.name, photo.label, photo.source_index, json.dumps(photo.recipe, sort_keys=True)])
    return folder


def render_photo(digit: np.ndarray, side: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """One 28x28 digit (light on dark, [0, 1]) as an RGB uint8 photo whose longer side is `side`."""
    aspect = float(rng.choice([4 / 3, 3 / 4, 1.0, 16 / 9, 9 / 16]))  # width / height
    final = (side, round(side / aspect)) if aspect >= 1 else (round(side * aspect), side)
    recipe: dict = {"size": list(final)}
    # The page is drawn at most RENDER_SIDE px and enlarged at the end: 5x faster for the largest
    # photos, and a phone's 3000 px photo is no sharper than that anyway.
    shrink = min(1.0, RENDER_SIDE / side)
    width, height = round(final[0] * shrink), round(final[1] * shrink)
    short = min(height, width)

    # The page -> photo map: rotation, a little perspective, and the page shifted so that its
    # edge shows in some photos. Everything is drawn in photo pixels through its inverse.
    angle = float(rng.uniform(-12, 12))
    recipe["rotation_deg"] = round(angle, 1)
    page_edge = rng.random() < 0.2
    homography = _page_to_photo(width, height, angle, float(rng.uniform(0.0, 0.06)), page_edge, rng)
    recipe["perspective"] = True
    u, v = _page_coordinates(homography, width, height)  # page position of every photo pixel

    # Paper: a colour, slow unevenness and grain.
    paper_name = str(rng.choice(list(PAPERS)))
    paper = np.asarray(PAPERS[paper_name], np.float32)
    recipe["paper"] = paper_name
    image = np.empty((height, width, 3), np.float32)
    image[:] = paper
    image *= 1 + 0.03 * _smooth_noise(rng, height, width, 6)[..., None]

    # Lines: ruled, squared or none. Spacing is set from the digit height: digits are written
    # about one to two line spacings tall.
    digit_height = short * float(rng.uniform(0.15, 0.6))
    ruling = str(rng.choice(["none", "ruled", "squared"], p=[0.3, 0.35, 0.35]))
    recipe["lines"] = ruling
    if ruling != "none":
        spacing = digit_height / float(rng.uniform(0.8, 2.2))
        colour_name = str(rng.choice(list(LINE_COLOURS), p=[0.4, 0.25, 0.2, 0.15]))
        recipe["line_colour"] = colour_name
        thickness = max(0.8, spacing * float(rng.uniform(0.03, 0.07)))
        strength = _lines(u, v, spacing, thickness, ruling == "squared", rng)
        if ruling == "ruled" and rng.random() < 0.4:  # the red margin
            margin_u = float(rng.uniform(0.05, 0.3)) * width
            strength = np.maximum(strength, _band(np.abs(u - margin_u), thickness * 1.3))
            recipe["margin"] = True
        line = np.asarray(LINE_COLOURS[colour_name], np.float32)
        image = image * (1 - strength[..., None]) + image * line / 0.96 * strength[..., None]

    # The digit: its ink, enlarged to its height on the page and placed off centre.
    ink_alpha, box = _digit_ink(digit, digit_height, homography, width, height, rng, recipe)
    ink_name = str(rng.choice(list(INKS), p=[p for _, p in INKS.values()]))
    recipe["ink"] = ink_name
    ink = np.asarray(INKS[ink_name][0], np.float32)
    opacity = float(rng.uniform(0.55, 0.8) if ink_name == "pencil" else rng.uniform(0.8, 1.0))
    streaks = 1 - 0.15 * np.clip(_smooth_noise(rng, height, width, max(8, short // 40)), -1, 1)
    alpha = np.clip(ink_alpha * opacity * streaks, 0, 1)[..., None]
    image = image * (1 - alpha) + ink * alpha
    recipe["digit_box"] = [int(round(b / shrink)) for b in box]

    # Specks of dirt, small beside the digit.
    specks = int(rng.integers(0, 7))
    recipe["specks"] = specks
    for _ in range(specks):
        radius = max(1, int(digit_height * rng.uniform(0.005, 0.02)))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        grey = float(rng.uniform(0.1, 0.5))
        cv2.circle(image, centre, radius, (grey, grey, grey), -1, lineType=cv2.LINE_AA)

    # Beyond the page's edge: the desk.
    outside = (u < 0) | (u > width) | (v < 0) | (v > height)
    if outside.any():
        desk = np.asarray(DESKS[int(rng.integers(len(DESKS)))], np.float32)
        image[outside] = desk * (1 + 0.05 * rng.standard_normal((int(outside.sum()), 1))).astype(np.float32)
    recipe["page_edge"] = bool(outside.any())

    # Light: a gradient across the photo, a soft shadow, a colour cast.
    light = _light(rng, height, width, recipe)
    image *= light[..., None]
    image *= np.asarray(1 + rng.uniform(-0.04, 0.04, 3), np.float32)

    # Camera: blur, noise, 8 bits.
    if shrink < 1:
        image = cv2.resize(image, final, interpolation=cv2.INTER_CUBIC)
    sigma = float(rng.uniform(0.0, 1.2)) * max(0.6, side / 1000)
    recipe["blur_px"] = round(sigma, 2)
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    noise = float(rng.uniform(0.005, 0.025))
    recipe["noise"] = round(noise, 3)
    image += noise * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8), recipe


def _page_to_photo(width: int, height: int, angle: float, skew: float, page_edge: bool,
                   rng: np.random.Generator) -> np.ndarray:
    """A 3x3 homography from page to photo pixels. The page is the photo's size, turned by
    `angle` degrees about the centre, enlarged to cover the frame (or, with `page_edge`, shifted
    so that one edge is in view), with each corner moved by up to `skew` of the size."""
    centre = np.array([width / 2, height / 2])
    theta = np.deg2rad(angle)
    cover = abs(np.cos(theta)) + abs(np.sin(theta)) * max(width / height, height / width)
    scale = cover * (1 + 2 * skew) * 1.02
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = (corners - centre) @ rotation.T * scale + centre
    moved += rng.uniform(-skew, skew, (4, 2)) * [width, height]
    if page_edge:  # slide the page so one side shows the desk beyond it, 5-15% of the frame
        direction = rng.integers(4)
        shift = float(rng.uniform(0.05, 0.15))
        lo = moved.min(axis=0)
        hi = moved.max(axis=0)
        if direction == 0:
            moved[:, 0] += shift * width - lo[0]
        elif direction == 1:
            moved[:, 0] -= hi[0] - (1 - shift) * width
        elif direction == 2:
            moved[:, 1] += shift * height - lo[1]
        else:
            moved[:, 1] -= hi[1] - (1 - shift) * height
    return cv2.getPerspectiveTransform(corners.astype(np.float32), moved.astype(np.float32))


def _page_coordinates(homography: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(u, v): the page position under each photo pixel, float32 (height, width) each."""
    inverse = np.linalg.inv(homography)
    xs = np.arange(width, dtype=np.float32) + 0.5
    ys = np.arange(height, dtype=np.float32) + 0.5
    grid_x, grid_y = np.meshgrid(xs, ys)
    w = inverse[2, 0] * grid_x + inverse[2, 1] * grid_y + inverse[2, 2]
    u = (inverse[0, 0] * grid_x + inverse[0, 1] * grid_y + inverse[0, 2]) / w
    v = (inverse[1, 0] * grid_x + inverse[1, 1] * grid_y + inverse[1, 2]) / w
    return u.astype(np.float32), v.astype(np.float32)


def _band(distance: np.ndarray, thickness: float) -> np.ndarray:
    """An anti-aliased line's coverage from each pixel's distance to its centre line."""
    return np.clip(thickness / 2 + 0.5 - distance, 0, 1)


def _lines(u: np.ndarray, v: np.ndarray, spacing: float, thickness: float, squared: bool,
           rng: np.random.Generator) -> np.ndarray:
    """Line coverage in [0, 1]: horizontal lines every `spacing` page pixels, vertical ones too when `squared`."""
    offset = float(rng.uniform(0, spacing))
    strength = _band(np.abs((v - offset + spacing / 2) % spacing - spacing / 2), thickness)
    if squared:
        offset = float(rng.uniform(0, spacing))
        strength = np.maximum(strength, _band(np.abs((u - offset + spacing / 2) % spacing - spacing / 2), thickness))
    return strength * float(rng.uniform(0.7, 1.0))


def _digit_ink(digit: np.ndarray, digit_height: float, homography: np.ndarray, width: int, height: int,
               rng: np.random.Generator, recipe: dict) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The digit's ink coverage in photo pixels (height, width) and its box (left, top, right, bottom).

    The MNIST digit is cropped to its ink, enlarged with a cubic filter, and given a pen's crisp
    edge; its stroke is thinned (ballpoint) or thickened (marker) by up to a few % of its height."""
    rows, cols = np.nonzero(digit > 0.1)
    crop = digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    scale = digit_height / crop.shape[0]
    inverse = np.linalg.inv(homography)
    for attempt in range(400):  # a place on the page where the whole digit lands inside the photo
        if attempt and attempt % 40 == 0:
            scale *= 0.9  # none found: a smaller digit (a wide digit in a narrow photo)
        top_left = np.array([rng.uniform(0.05, 0.95) * width, rng.uniform(0.05, 0.95) * height])
        page_top_left = cv2.perspectiveTransform(top_left.reshape(1, 1, 2), inverse).reshape(2)
        patch_to_page = np.array([[scale, 0, page_top_left[0]], [0, scale, page_top_left[1]], [0, 0, 1]])
        to_photo = homography @ patch_to_page
        h, w = crop.shape
        corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), to_photo)[0]
        margin = 0.02 * min(width, height)
        page_bottom_right = page_top_left + scale * np.array([w, h])
        on_page = page_top_left.min() > 0 and page_bottom_right[0] < width and page_bottom_right[1] < height
        if on_page and corners[:, 0].min() > margin and corners[:, 1].min() > margin and \
                corners[:, 0].max() < width - margin and corners[:, 1].max() < height - margin:
            break
    else:
        raise RuntimeError("no place for the digit in the photo")  # cannot happen: the digit shrinks until it fits
    digit_height = scale * crop.shape[0]
    box = (
        int(corners[:, 0].min()),
        int(corners[:, 1].min()),
        int(np.ceil(corners[:, 0].max())),
        int(np.ceil(corners[:, 1].max())),
    )
    # Warp into a padded region around the box only: a whole-photo warp of a 3000 px photo is slow.
    pad = int(0.1 * digit_height) + 4
    left, top = max(0, box[0] - pad), max(0, box[1] - pad)
    right, bottom = min(width, box[2] + pad), min(height, box[3] + pad)
    shift = np.array([[1, 0, -left], [0, 1, -top], [0, 0, 1]], np.float64)
    source = np.pad(crop, 2)  # zero border, so the cubic filter sees the digit end
    from_source = shift @ to_photo @ np.array([[1, 0, -2], [0, 1, -2], [0, 0, 1]], np.float64)
    region = cv2.warpPerspective(source, from_source, (right - left, bottom - top), flags=cv2.INTER_CUBIC,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    # A pen's edge: the soft MNIST grey levels become ink or not, over about a pixel.
    pen = float(rng.uniform(-0.035, 0.02)) * digit_height  # < 0: thinner stroke (ballpoint), > 0: thicker
    recipe["pen_px"] = round(pen, 1)
    recipe["digit_height_px"] = round(digit_height, 1)
    coverage = np.clip((region - 0.5) * 4 + 0.5, 0, 1)
    radius = int(round(abs(pen)))
    if radius >= 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        coverage = (cv2.erode if pen < 0 else cv2.dilate)(coverage, kernel)
    coverage = cv2.GaussianBlur(coverage, (0, 0), 0.7)
    alpha = np.zeros((height, width), np.float32)
    alpha[top:bottom, left:right] = coverage
    return alpha, box


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Smooth random values in about [-1, 1], `cells` bumps across the longer side."""
    small = rng.standard_normal(
        (max(2, cells * height // max(height, width)), max(2, cells * width // max(height, width)))
    )
    return cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)


def _light(rng: np.random.Generator, height: int, width: int, recipe: dict) -> np.ndarray:
    """Brightness over the photo: a gradient from one side, and often a soft shadow (a hand, a phone)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs /= width
    ys /= height
    direction = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(direction) * (xs - 0.5) + np.sin(direction) * (ys - 0.5)
    light = 1 + float(rng.uniform(0.05, 0.3)) * ramp
    recipe["shadow"] = False
    if rng.random() < 0.6:
        # A shadow: a half-plane through a point of the photo, its edge softened.
        angle = rng.uniform(0, 2 * np.pi)
        point = rng.uniform(0.2, 0.8, 2)
        signed = np.cos(angle) * (xs - point[0]) + np.sin(angle) * (ys - point[1])
        softness = float(rng.uniform(0.02, 0.12))
        depth = float(rng.uniform(0.3, 0.6))
        light *= 1 - depth / (1 + np.exp(-signed / softness))
        recipe["shadow"] = True
        recipe["shadow_depth"] = round(depth, 2)
    return light.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    """`python -m cnn.photos.benchmark OUT_DIR`: write the benchmark's photos and labels.csv."""
    import argparse

    from cnn.data import DEFAULT_DATASET, load_dataset

    parser = argparse.ArgumentParser(prog="python -m cnn.photos.benchmark", description=main.__doc__.split(": ")[1])
    parser.add_argument("out", metavar="OUT_DIR", help="folder to write into (created)")
    parser.add_argument("-n", type=int, default=100, help="number of photos (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument("--dataset", default=DEFAULT_DATASET, metavar="SPEC",
                        help="whose test digits to draw (default: %(default)s; never its training digits)")
    parser.add_argument(
        "--max-side", type=int, default=MAX_SIDE, help="longest photo side in px (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.dataset)
        photos = make_photos(dataset.x_test, dataset.y_test, args.n, args.seed, (MIN_SIDE, args.max_side))
    except CnnError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    folder = write_photos(photos, args.out)
    print(f"wrote {len(photos)} photos of {dataset.name}'s test digits and labels.csv to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
