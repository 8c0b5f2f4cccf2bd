"""Datasets: the embedded digits, stratified subsets, and every way a user's arrays can be wrong."""

from __future__ import annotations

import gzip

import keras
import numpy as np
import pytest

import cnn.data
from cnn.data import DATASETS, DIGITS, Dataset, load_dataset, load_npz, read_idx
from cnn.errors import CnnError


def one_line_error(excinfo, *fragments: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


# --- the embedded mnist-5k ----------------------------------------------------------------------


def test_mnist_5k_is_4000_train_and_1000_test_digits(mnist5k):
    assert mnist5k.x_train.shape == (4000, 28, 28, 1)
    assert mnist5k.x_test.shape == (1000, 28, 28, 1)
    assert mnist5k.input_shape == (28, 28, 1)
    assert mnist5k.num_classes == 10 and mnist5k.class_names == DIGITS


def test_mnist_5k_pixels_are_float32_in_unit_range(mnist5k):
    for x in (mnist5k.x_train, mnist5k.x_test):
        assert x.dtype == np.float32
        assert x.min() == 0.0 and x.max() == 1.0


def test_mnist_5k_split_is_stratified(mnist5k):
    assert np.bincount(mnist5k.y_train).tolist() == [400] * 10
    assert np.bincount(mnist5k.y_test).tolist() == [100] * 10


def test_mnist_5k_is_the_same_on_every_load(mnist5k):
    # Bypasses load_dataset's cache: the split itself must be fixed, not just remembered.
    assert DATASETS.get("mnist-5k").load().fingerprint == mnist5k.fingerprint


# --- subsets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, per_class", [(0.1, 40), (300, 30), (0.5, 200)])
def test_subset_is_stratified(mnist5k, size, per_class):
    part = mnist5k.subset(size, seed=0)
    assert np.bincount(part.y_train, minlength=10).tolist() == [per_class] * 10
    assert part.x_test is mnist5k.x_test  # the test set is never cut


def test_subset_is_deterministic_per_seed(mnist5k):
    first, again, other = mnist5k.subset(300, seed=1), mnist5k.subset(300, seed=1), mnist5k.subset(300, seed=2)
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != other.fingerprint


def test_subset_of_everything_is_the_dataset(mnist5k):
    assert mnist5k.subset(1.0) is mnist5k
    assert mnist5k.subset(4000) is mnist5k


def test_subset_leaving_out_fewer_images_than_classes(mnist5k):
    # 0.999 leaves out 4 images, too few for sklearn to stratify; each class still loses at most one.
    part = mnist5k.subset(0.999, seed=0)
    counts = np.bincount(part.y_train, minlength=10)
    assert counts.sum() == 3996
    assert counts.min() >= 399
    assert part.fingerprint == mnist5k.subset(0.999, seed=0).fingerprint


@pytest.mark.parametrize("size", [5, 0, 4001, 0.0, 1.5, 0.001])
def test_impossible_subset_is_refused(mnist5k, size):
    with pytest.raises(CnnError, match="subset"):
        mnist5k.subset(size)


def test_subset_with_a_single_image_class_is_refused():
    x, y = np.zeros((21, 4, 4), np.float32), np.array([0] * 10 + [1] * 10 + [2])
    data = Dataset.from_arrays("rare", x, y, x, y)
    with pytest.raises(CnnError, match="class 2 has a single training image"):
        data.subset(10)


# --- Dataset.from_arrays: normalising good input -------------------------------------------------


def arrays(n_train=20, n_test=10, shape=(8, 8), classes=10, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.random((n_train, *shape), dtype=np.float32),
        "y_train": np.arange(n_train) % classes,
        "x_test": rng.random((n_test, *shape), dtype=np.float32),
        "y_test": np.arange(n_test) % classes,
    }


def test_uint8_pixels_are_scaled_to_unit_range():
    raw = arrays()
    raw["x_train"] = np.full((20, 8, 8), 255, np.uint8)
    raw["x_train"][0] = 0
    data = Dataset.from_arrays("u8", **raw)
    assert data.x_train.dtype == np.float32
    assert data.x_train.max() == 1.0 and data.x_train.min() == 0.0


def test_grayscale_images_get_a_channel_axis():
    data = Dataset.from_arrays("gray", **arrays())
    assert data.x_train.shape == (20, 8, 8, 1) and data.input_shape == (8, 8, 1)


def test_colour_32x32_images_are_accepted():
    data = Dataset.from_arrays("rgb", **arrays(shape=(32, 32, 3)))
    assert data.input_shape == (32, 32, 3)


def test_column_labels_are_flattened_and_classes_inferred():
    raw = arrays(classes=3)
    raw["y_train"] = raw["y_train"].reshape(-1, 1)
    data = Dataset.from_arrays("col", **raw)
    assert data.y_train.shape == (20,) and data.y_train.dtype == np.int32
    assert data.class_names == ("0", "1", "2")


def test_whole_float_labels_are_accepted():
    raw = arrays()
    raw["y_train"] = raw["y_train"].astype(np.float64)
    assert Dataset.from_arrays("floats", **raw).y_train.dtype == np.int32


# --- Dataset.from_arrays: refusing bad input ----------------------------------------------------


def bad_pixels(value):
    x = np.random.default_rng(0).random((20, 8, 8)).astype(np.float32)
    x[3, 4, 5] = value
    return x


@pytest.mark.parametrize(
    "key, value, fragment",
    [
        ("x_train", np.zeros((0, 8, 8), np.float32), "empty"),
        ("y_test", np.zeros(0, int), "empty"),
        ("x_train", [[0.0] * 8] * 8, "not a numpy array"),
        ("y_train", np.arange(19) % 10, "20 images but y_train has 19 labels"),
        ("y_test", np.arange(11) % 10, "10 images but y_test has 11 labels"),
        ("x_test", np.zeros((10, 9, 9), np.float32), "must have the same shape"),
        ("x_train", np.zeros((20, 64), np.float32), "(20, 64)"),
        ("x_train", np.zeros((20, 8, 8, 1, 1), np.float32), "(N, height, width)"),
        ("x_train", np.zeros((20, 8, 8), bool), "dtype bool"),
        ("x_train", bad_pixels(np.nan), "1 NaN/inf"),
        ("x_train", bad_pixels(np.inf), "1 NaN/inf"),
        ("x_train", bad_pixels(200.0), "divide by 255"),
        ("x_train", bad_pixels(-1.0), "rescale them to [0, 1]"),
        ("x_train", np.full((20, 8, 8), 300, np.int32), "0..255"),
        ("y_train", np.arange(20) % 10 - 1, "label -1"),
        ("y_train", np.arange(20) % 10 + 0.5, "non-integer"),
        ("y_train", np.array(["cat"] * 20), "dtype <U3"),
        ("y_train", np.zeros((20, 2), int), "one integer class per image"),
    ],
)
def test_bad_array_is_refused_naming_it(key, value, fragment):
    raw = arrays()
    raw[key] = value
    with pytest.raises(CnnError) as error:
        Dataset.from_arrays("mine", **raw)
    one_line_error(error, "mine", key, fragment)


def test_labels_beyond_the_class_names_are_refused():
    raw = arrays()
    raw["y_test"] = np.full(10, 10)
    with pytest.raises(CnnError) as error:
        Dataset.from_arrays("mine", **raw, class_names=DIGITS)
    one_line_error(error, "y_test has label 10", "10 classes")


# --- fingerprints -------------------------------------------------------------------------------


def test_fingerprint_depends_on_the_arrays_not_the_name():
    a = Dataset.from_arrays("a", **arrays())
    assert Dataset.from_arrays("b", **arrays()).fingerprint == a.fingerprint
    changed_pixel = arrays()
    changed_pixel["x_test"][0, 0, 0] += 0.01
    assert Dataset.from_arrays("a", **changed_pixel).fingerprint != a.fingerprint
    changed_label = arrays()
    changed_label["y_train"][0] = 9
    assert Dataset.from_arrays("a", **changed_label).fingerprint != a.fingerprint


# --- npz files ----------------------------------------------------------------------------------


def test_npz_round_trip_through_a_spec(tmp_path):
    raw = arrays(shape=(6, 6))
    raw["x_train"] = np.uint8(raw["x_train"] * 255)
    path = tmp_path / "mine.npz"
    np.savez(path, **raw, class_names=np.array(list("abcdefghij")))
    data = load_dataset(f"npz:{path}")
    assert data.name == f"npz:{path}"
    assert data.input_shape == (6, 6, 1) and data.x_train.dtype == np.float32
    assert data.class_names == tuple("abcdefghij")
    np.testing.assert_array_equal(data.y_test, raw["y_test"])


def test_npz_missing_file(tmp_path):
    with pytest.raises(CnnError) as error:
        load_npz(tmp_path / "nowhere.npz")
    one_line_error(error, "nowhere.npz", "not found")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(np.random.default_rng(0).bytes(2000), id="random-bytes"),
        pytest.param(b"PK\x03\x04 a zip header and then nothing", id="cut-zip"),
    ],
)
def test_npz_corrupt_file(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(CnnError) as error:
        load_npz(path)
    one_line_error(error, "broken.npz", "not a readable .npz")


def test_npz_that_is_really_one_npy_array(tmp_path):
    path = tmp_path / "one.npz"
    with open(path, "wb") as stream:
        np.save(stream, arrays()["x_train"])
    with pytest.raises(CnnError) as error:
        load_npz(path)
    one_line_error(error, "one.npz", "single array")


def test_npz_with_object_arrays_is_not_unpickled(tmp_path):
    raw = arrays()
    raw["y_train"] = np.array([1, "a"] * 10, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **raw)
    with pytest.raises(CnnError) as error:
        load_npz(path)
    one_line_error(error, "pickled.npz", "not a readable .npz")


def test_npz_missing_keys_are_named(tmp_path):
    path = tmp_path / "partial.npz"
    raw = arrays()
    np.savez(path, x_train=raw["x_train"], y_train=raw["y_train"], images=raw["x_test"])
    with pytest.raises(CnnError) as error:
        load_npz(path)
    one_line_error(error, "missing key(s) x_test, y_test", "it has")


def test_npz_bad_array_inside_is_named(tmp_path):
    raw = arrays()
    raw["x_test"] = raw["x_test"] * 255
    path = tmp_path / "scaled.npz"
    np.savez(path, **raw)
    with pytest.raises(CnnError) as error:
        load_npz(path)
    one_line_error(error, "scaled.npz", "x_test", "divide by 255")


# --- IDX files (the MNIST format) ---------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_read_idx_gzipped_and_plain(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "images.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "images.idx").write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(read_idx(tmp_path / "images.gz"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "images.idx"), images)


@pytest.mark.parametrize(
    "content, fragment",
    [
        pytest.param(gzip.compress(idx_bytes(np.zeros((5, 3, 3)))[:-4]), "truncated", id="short-data"),
        pytest.param(gzip.compress(bytes([0, 0, 8, 3, 0, 0, 0])), "truncated", id="short-header"),
        pytest.param(gzip.compress(b"\x1f\x8b not idx"), "not an unsigned-byte IDX", id="not-idx"),
        pytest.param(gzip.compress(idx_bytes(np.zeros((50, 3, 3))))[:-12], "cannot be read", id="cut-gzip"),
        pytest.param(b"plain text, not gzip", "cannot be read", id="not-gzip"),
    ],
)
def test_read_idx_bad_file(tmp_path, content, fragment):
    path = tmp_path / "images.gz"
    path.write_bytes(content)
    with pytest.raises(CnnError) as error:
        read_idx(path)
    one_line_error(error, "images.gz", fragment)


def test_fashion_mnist_reads_installed_idx_files(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    parts = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(20) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(10),
    }
    for filename, array in parts.items():
        (tmp_path / filename).write_bytes(gzip.compress(idx_bytes(array)))
    monkeypatch.setattr(cnn.data, "FASHION_MNIST_DIRS", (tmp_path,))
    # The loader itself, not load_dataset: its cache must not keep this fake for later tests.
    data = DATASETS.get("fashion-mnist").load()
    assert data.x_train.shape == (20, 28, 28, 1) and data.x_train.max() <= 1.0
    assert data.class_names[9] == "Ankle boot"


# --- downloads (no internet here, nor in CI) ----------------------------------------------------


def refuse_download(*args, **kwargs):
    # What Keras raises when the download fails, without waiting on the network.
    raise Exception(
        "URL fetch failure on https://storage.googleapis.com/mnist.npz: None -- [Errno -2] Name or service not known"
    )


def test_mnist_offline_points_to_the_embedded_set(monkeypatch):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", refuse_download)
    with pytest.raises(CnnError) as error:
        load_dataset("mnist")
    one_line_error(error, "'mnist' could not be downloaded", "URL fetch failure", "mnist-5k")


def test_fashion_mnist_offline_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(cnn.data, "FASHION_MNIST_DIRS", (tmp_path,))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", refuse_download)
    with pytest.raises(CnnError) as error:
        DATASETS.get("fashion-mnist").load()
    one_line_error(error, "apt-get install dataset-fashion-mnist", "mnist-5k")


def test_mnist_download_is_normalised(monkeypatch):
    rng = np.random.default_rng(0)
    fake = (
        (rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), np.arange(30, dtype=np.uint8) % 10),
        (rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), np.arange(10, dtype=np.uint8)),
    )
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    data = DATASETS.get("mnist").load()
    assert data.name == "mnist" and data.class_names == DIGITS
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    np.testing.assert_allclose(data.x_test[..., 0], fake[1][0] / 255, rtol=1e-6)


def test_unknown_spec_lists_the_known_ones():
    with pytest.raises(CnnError) as error:
        load_dataset("cifar-10")
    one_line_error(error, "cifar-10", "mnist-5k", "mnist", "fashion-mnist", "npz:PATH")


@pytest.mark.parametrize("path", ["/tmp/x.npz", "data/mine.npz", "mine.npz"])
def test_a_bare_npz_path_suggests_the_npz_prefix(path):
    with pytest.raises(CnnError) as error:
        load_dataset(path)
    one_line_error(error, f"unknown dataset {path!r}", f"npz:{path}")


def test_an_existing_file_without_the_prefix_suggests_it(tmp_path):
    path = tmp_path / "digits.data"
    path.write_bytes(b"")
    with pytest.raises(CnnError) as error:
        load_dataset(str(path))
    one_line_error(error, f"npz:{path}")


# --- classes the training set never shows -------------------------------------------------------


def test_test_classes_missing_from_training_are_named_in_one_warning():
    # Labels 5-14 in train and 0-9 in test: a 15-class model that can never predict 0-4.
    x = np.zeros((20, 8, 8), np.uint8)
    with pytest.warns(cnn.data.DatasetWarning) as record:
        data = Dataset.from_arrays("shifted", x, np.arange(20) % 10 + 5, x, np.arange(20) % 10)
    [warning] = record
    message = str(warning.message)
    assert "\n" not in message
    assert "shifted" in message and "classes 0, 1, 2, 3, 4" in message and "training set" in message
    assert data.num_classes == 15


def test_test_classes_all_seen_in_training_give_no_warning(recwarn):
    Dataset.from_arrays("fine", **arrays())
    assert not [w for w in recwarn if issubclass(w.category, cnn.data.DatasetWarning)]


def test_mnist_through_keras_own_loader_from_a_local_idx_fixture(tmp_path, monkeypatch):
    """The 'mnist' path as a machine with internet runs it, offline: MNIST's own IDX files (a small
    fixture in their format) are packed as Keras' mnist.npz and served to Keras' real downloader
    from a file:// address, so load_data's download, hash check, cache and unpacking all run, then
    ours (normalising, channel axis, digit names)."""
    import hashlib

    from keras.src.datasets import mnist as keras_mnist
    from keras.src.utils import file_utils

    rng = np.random.default_rng(1)
    idx = {"x_train": ("train-images-idx3-ubyte.gz", rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)),
           "y_train": ("train-labels-idx1-ubyte.gz", (np.arange(40) % 10).astype(np.uint8)),
           "x_test": ("t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)),
           "y_test": ("t10k-labels-idx1-ubyte.gz", np.arange(10, dtype=np.uint8))}
    for filename, array in idx.values():
        (tmp_path / filename).write_bytes(gzip.compress(idx_bytes(array)))
    served = tmp_path / "served" / "mnist.npz"
    served.parent.mkdir()
    np.savez(served, **{key: read_idx(tmp_path / filename) for key, (filename, _) in idx.items()})
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras for a cache folder it cannot write
    fetched = []

    def get_file(fname, origin, file_hash, **kwargs):  # Keras' own, from the fixture and into tmp_path
        fetched.append(origin)
        return file_utils.get_file(fname, origin=served.as_uri(), file_hash=digest, cache_dir=str(tmp_path / "keras"))

    monkeypatch.setattr(keras_mnist, "get_file", get_file)
    data = DATASETS.get("mnist").load()  # the loader, not load_dataset's cache
    assert fetched == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert (tmp_path / "keras" / "datasets" / "mnist.npz").exists()  # downloaded into Keras' cache
    assert data.name == "mnist" and data.class_names == DIGITS
    assert data.x_train.shape == (40, 28, 28, 1) and data.x_test.shape == (10, 28, 28, 1)
    np.testing.assert_allclose(data.x_train[..., 0], idx["x_train"][1] / 255, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, idx["y_test"][1])


def test_a_registered_dataset_is_a_spec(tiny):
    from cnn import register_dataset

    @register_dataset("tiny-registered-for-tests", "the tiny set, registered as a project registers its own")
    def tiny_set() -> Dataset:
        return tiny

    assert load_dataset("tiny-registered-for-tests") is tiny
    assert DATASETS.get("tiny-registered-for-tests").description.startswith("the tiny set")
    with pytest.raises(CnnError, match="dataset 'tiny-registered-for-tests' is already registered"):
        register_dataset("tiny-registered-for-tests", "again")(tiny_set)
