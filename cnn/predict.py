"""Predictions as softmax probabilities, for arrays and for image files.

A photographed digit is turned into an MNIST-like image as the notebook does for its `8.jpg`:
grayscale, inverted when the background is light (MNIST digits are light ink on black), then
cropped to the ink, scaled to fit a 20x20 box and centred by its centre of mass in 28x28.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnn.errors import CnnError

INK_THRESHOLD = 0.25  # pixels brighter than this (after inversion) count as the digit's ink
DIGIT_BOX = 20 / 28  # MNIST fits each digit in a 20x20 box inside the 28x28 image


@dataclass(frozen=True)
class Prediction:
    source: str
    label: int
    class_name: str
    confidence: float
    probabilities: np.ndarray


def probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities (N, num_classes) for images `x` shaped like the model's input."""
    logits = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def load_image(path: str | Path, shape: tuple[int, int, int] = (28, 28, 1)) -> np.ndarray:
    """The image file at `path` as float32 in [0, 1] with `shape` (H, W, C).

    One channel: prepared like an MNIST digit (see the module doc). Three: resized RGB.
    Raises CnnError when the file is missing, empty, not an image, or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise CnnError(f"image {path} not found; give the path of a PNG or JPEG file")
    if path.stat().st_size == 0:
        raise CnnError(f"image {path} is empty (0 bytes); give a PNG or JPEG file")
    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)  # phone photos are often stored rotated
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # Drawing apps export ink on a transparent background: lay it on white paper,
                # or dropping the alpha channel leaves black ink on black.
                image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
            height, width, channels = shape
            if channels == 3:
                rgb = image.convert("RGB").resize((width, height), Image.BILINEAR)
                return np.asarray(rgb, dtype=np.float32) / 255.0
            if channels != 1:
                raise CnnError(f"the model takes {channels}-channel images; only 1 (grayscale) or 3 (RGB) can be read from files")
            gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except CnnError:  # a ValueError too: keep it from being reported as a corrupt file below
        raise
    except UnidentifiedImageError:
        raise CnnError(f"{path} is not an image file PIL can read; give a PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise CnnError(f"{path} is truncated or corrupt ({error}); export the image again") from None
    return digit_like_mnist(gray, (height, width))[..., np.newaxis]


def digit_like_mnist(gray: np.ndarray, size: tuple[int, int] = (28, 28)) -> np.ndarray:
    """A grayscale picture of one digit (any size, either polarity) as an MNIST-style image."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:  # light paper: invert so the ink is light on dark
        gray = 1.0 - gray
        border = 1.0 - border
    background = float(np.median(border))
    span = float(gray.max()) - background
    if span <= 1e-6:
        return np.zeros(size, dtype=np.float32)  # a blank picture: nothing to centre
    gray = np.clip((gray - background) / span, 0.0, 1.0)  # photos have grey paper, MNIST has black

    rows, cols = np.nonzero(gray > INK_THRESHOLD)
    if rows.size:
        gray = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    # Pad to a square so scaling keeps the digit's aspect ratio.
    side = max(gray.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - gray.shape[0]) // 2, (side - gray.shape[1]) // 2
    square[top : top + gray.shape[0], left : left + gray.shape[1]] = gray

    height, width = size
    box = max(1, round(min(height, width) * DIGIT_BOX))
    digit = np.asarray(Image.fromarray(square).resize((box, box), Image.LANCZOS), dtype=np.float32)
    digit = np.clip(digit, 0.0, 1.0)
    # Centre by centre of mass, as MNIST was made, keeping the box inside the image.
    total = digit.sum()
    yy, xx = np.indices(digit.shape)
    com_y, com_x = (yy * digit).sum() / total, (xx * digit).sum() / total
    top = int(np.clip(round(height / 2 - com_y), 0, height - box))
    left = int(np.clip(round(width / 2 - com_x), 0, width - box))
    out = np.zeros(size, dtype=np.float32)
    out[top : top + box, left : left + box] = digit
    return out


def predict_images(model: keras.Model, paths, class_names=None) -> list[Prediction]:
    """One Prediction per image file, prepared for the model's input shape. Raises CnnError on a bad file."""
    shape = tuple(model.inputs[0].shape[1:])
    images = np.stack([load_image(path, shape) for path in paths])
    probs = probabilities(model, images)
    names = class_names or [str(i) for i in range(probs.shape[1])]
    return [
        Prediction(str(path), int(p.argmax()), names[int(p.argmax())], float(p.max()), p)
        for path, p in zip(paths, probs)
    ]
