"""Predictions as softmax probabilities, for arrays and for image files.

An image file for a one-channel model is read as a photographed digit and prepared as MNIST's
digits were (cnn.photos.read: lighting evened out, lines removed, the digit found, cropped, scaled to
20 px and centred by its centre of mass in 28x28). `show` draws what was found and predicted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

import cnn.augment  # noqa: F401  (registers the augmentation layers, so models trained with them reload)
from cnn.errors import CnnError
from cnn.photos.read import Digit, read_digit, read_photo


@dataclass(frozen=True)
class Prediction:
    source: str
    label: int
    class_name: str
    confidence: float
    probabilities: np.ndarray
    digit: Digit | None = None  # what the photo preparation found (one-channel models), for notes and pictures

    @property
    def notes(self) -> list[str]:
        """What a user should know about this answer, in words: several digits, an animation, ..."""
        if self.digit is None:
            return []
        several = [f"{self.digit.digits} digits in the photo: read the largest; crop to one digit for a sure answer"]
        return (several if self.digit.digits > 1 else []) + list(self.digit.notes)


def probabilities(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Softmax probabilities (N, num_classes) for images `x` shaped like the model's input."""
    logits = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def read_image(path: str | Path, shape: tuple[int, int, int] = (28, 28, 1)) -> tuple[np.ndarray, Digit | None]:
    """The image file at `path` as float32 in [0, 1] with `shape` (H, W, C), and for one channel
    what the photo preparation found. One channel: a photographed digit prepared as MNIST's
    were (cnn.photos.read). Three: the picture resized as RGB.

    Raises CnnError when the file is missing, empty, not an image, truncated, or (one channel)
    holds no digit; or when the model takes another channel count."""
    height, width, channels = shape
    if channels == 3:
        import cv2

        rgb, _, _ = read_photo(path)
        return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA), None
    if channels != 1:
        raise CnnError(
            f"the model takes {channels}-channel images; only 1 (grayscale) or 3 (RGB) can be read from files"
        )
    digit = read_digit(path, (height, width))
    return digit.image[..., np.newaxis], digit


def load_image(path: str | Path, shape: tuple[int, int, int] = (28, 28, 1)) -> np.ndarray:
    """The image file at `path` as the model's input (see `read_image`)."""
    return read_image(path, shape)[0]


def predict_images(model: keras.Model, paths, class_names=None, *, skip=None) -> list[Prediction]:
    """One Prediction per image file, prepared for the model's input shape, in the order given.

    Every file is read before any prediction. A file that cannot be read (not an image, as a
    labels.csv beside the photos; missing, truncated, no digit in it) raises CnnError, or, with
    `skip` (a function of the path and the one-line reason), is left out and passed to it once
    some file could be read. Raises CnnError when no file is left (naming the first reason), and
    when the model takes images no file can give (its channels)."""
    shape = tuple(model.inputs[0].shape[1:])
    if shape[-1] not in (1, 3):  # the model's problem, not a file's: never a skip
        read_image(paths[0] if paths else "", shape)
    kept, read, skipped = [], [], []
    for path in paths:
        try:
            read.append(read_image(path, shape))
        except CnnError as error:
            if skip is None:
                raise
            skipped.append((path, str(error)))
            continue
        kept.append(path)
    if not kept:  # one line: the reason, or the first of several
        more = f" (and {len(skipped) - 1} more files that cannot be read)" if len(skipped) > 1 else ""
        raise CnnError(f"{skipped[0][1]}{more}" if skipped else "no image file given; give PNG or JPEG photos")
    for path, reason in skipped:
        skip(path, reason)
    probs = probabilities(model, np.stack([image for image, _ in read]))
    names = class_names or [str(i) for i in range(probs.shape[1])]
    return [
        Prediction(str(path), int(p.argmax()), names[int(p.argmax())], float(p.max()), p, digit)
        for path, p, (_, digit) in zip(kept, probs, read)
    ]


def show(predictions: list[Prediction], folder: str | Path, class_names=None) -> list[Path]:
    """Write one PNG per prediction into `folder`: the photo with the digit's box, the 28x28 the
    model saw, and the top-3 probabilities. Returns the paths written (each atomically)."""
    from cnn.files import write_atomic

    folder = show_folder(folder)
    written, used = [], set()
    for prediction in predictions:
        stem = Path(prediction.source).stem or "image"
        name, count = f"{stem}.png", 1
        while name in used:  # two photos of one name from different folders
            count += 1
            name = f"{stem}-{count}.png"
        used.add(name)
        written.append(write_atomic(folder / name, _picture(prediction, class_names)))
    return written


def show_folder(folder: str | Path) -> Path:
    """`folder`, created if missing, for `show`; raises CnnError when it is a file or cannot be made.
    Call it before predicting, so a bad --show fails before the work is done."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CnnError(f"--show {folder} is a file; give a folder for the pictures")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CnnError(
            f"--show {folder} cannot be created ({error.strerror}); give a folder you can write to"
        ) from None
    return folder


def _picture(prediction: Prediction, class_names=None) -> bytes:
    """The PNG of one prediction: photo | 28x28 | top-3 bars, the notes under them."""
    import io

    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    names = class_names or [str(i) for i in range(len(prediction.probabilities))]
    fig = Figure(figsize=(9, 3.4), dpi=100)
    photo_ax, digit_ax, bars_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.4, 1, 1.2]})
    digit = prediction.digit
    if digit is not None:
        photo_ax.imshow(digit.photo)
        left, top, right, bottom = (v / digit.scale for v in digit.box)
        photo_ax.add_patch(
            Rectangle((left, top), right - left, bottom - top, fill=False, edgecolor="#e0301e", linewidth=1.5)
        )
        digit_ax.imshow(digit.image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    photo_ax.set_title(Path(prediction.source).name, fontsize=9)
    digit_ax.set_title("what the model saw (28x28)" if digit is not None else "", fontsize=9)
    for ax in (photo_ax, digit_ax):
        ax.set_xticks([])
        ax.set_yticks([])
    top3 = np.argsort(prediction.probabilities)[::-1][:3]
    values = prediction.probabilities[top3]
    bars = bars_ax.barh(range(3), values, color=["#4c72b0", "#a0a0a0", "#c8c8c8"])
    bars_ax.set_yticks(range(3), [names[i] for i in top3], fontsize=11)
    bars_ax.invert_yaxis()
    bars_ax.set_xlim(0, 1.15)
    bars_ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], padding=3, fontsize=9)
    bars_ax.set_title(f"predicted {prediction.class_name} (p={prediction.confidence:.3f})", fontsize=9)
    bars_ax.spines[["top", "right"]].set_visible(False)
    if prediction.notes:
        fig.text(0.01, 0.01, "; ".join(prediction.notes), fontsize=8, color="#a02010")
    fig.tight_layout(rect=(0, 0.05 if prediction.notes else 0, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
