"""Prediction: a photographed digit is read like an MNIST one, the photo benchmark clears its
floor, `--show` draws what the model saw, and bad image files fail cleanly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnn.cli import main
from cnn.errors import CnnError
from cnn.photos.benchmark import make_photos, write_photos
from cnn.photos.read import find_digit
from cnn.predict import load_image, predict_images, probabilities, show

# The shared small CNN on 30 benchmark photos reads 28 (29 of their clean 28x28 digits); with
# the preparation before cnn.photos.read (the notebook's: invert, crop, centre) it read 3.
BENCHMARK_FLOOR = 0.8


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    gray = np.squeeze(image)
    rows, cols = np.indices(gray.shape)
    return (rows * gray).sum() / gray.sum(), (cols * gray).sum() / gray.sum()


def test_photo_becomes_an_mnist_style_image(photo_digit):
    path, _ = photo_digit
    image = load_image(path)
    assert image.shape == (28, 28, 1) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    # Light ink on black, as MNIST: the grey paper became 0 and the dark ink bright.
    assert image.max() > 0.9
    assert np.abs(np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])).max() < 0.05
    assert image.mean() < 0.3
    # The digit was off centre in the photo; MNIST centres by centre of mass.
    row, col = centre_of_mass(image)
    assert abs(row - 14) < 1.5 and abs(col - 14) < 1.5


def test_photo_is_read_as_the_right_digit(photo_digit, trained):
    path, label = photo_digit
    [prediction] = predict_images(trained.model, [path])
    assert prediction.label == label and prediction.class_name == str(label)
    assert prediction.confidence > 0.5
    assert prediction.source == str(path)
    assert prediction.digit.digits == 1 and prediction.notes == []


def test_predictions_use_the_given_class_names(photo_digit, trained):
    path, label = photo_digit
    names = [f"digit {d}" for d in range(10)]
    [prediction] = predict_images(trained.model, [path], names)
    assert prediction.class_name == f"digit {label}"


def test_mnist_digit_passes_through_almost_unchanged(mnist5k, trained):
    # The preparation is meant for photos; a digit that is already MNIST-like must keep its label.
    digits = mnist5k.x_test[:50]
    prepared = np.stack([find_digit(d[..., 0]).image[..., np.newaxis] for d in digits])
    same = probabilities(trained.model, prepared).argmax(1) == probabilities(trained.model, digits).argmax(1)
    assert same.mean() >= 0.9


def test_probabilities_are_a_distribution(mnist5k, trained):
    probs = probabilities(trained.model, mnist5k.x_test[:20])
    assert probs.shape == (20, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


@pytest.fixture(scope="module")
def photo_bench(mnist5k, tmp_path_factory):
    """30 photos of held-out test digits, smaller than the full benchmark's (200-600 px) for speed."""
    photos = make_photos(mnist5k.x_test, mnist5k.y_test, n=30, seed=0, sizes=(200, 600))
    folder = write_photos(photos, tmp_path_factory.mktemp("photos"))
    return [folder / p.name for p in photos], np.array([p.label for p in photos])


def test_photo_benchmark_clears_its_floor(photo_bench, trained):
    paths, labels = photo_bench
    predicted = np.array([p.label for p in predict_images(trained.model, paths)])
    accuracy = float((predicted == labels).mean())
    assert accuracy >= BENCHMARK_FLOOR, f"{accuracy:.2f} of the photo benchmark read right"


def test_show_draws_each_prediction(photo_bench, trained, tmp_path):
    paths, _ = photo_bench
    predictions = predict_images(trained.model, paths[:3] + paths[:1])  # the same name twice
    written = show(predictions, tmp_path / "pictures")
    assert [p.name for p in written] == [paths[0].stem + ".png", paths[1].stem + ".png", paths[2].stem + ".png",
                                         paths[0].stem + "-2.png"]
    for path in written:
        with Image.open(path) as picture:
            assert picture.format == "PNG" and picture.size[0] > 600


def test_cli_show_and_several_digits_note(mnist5k, trained_path, tmp_path, capsys):
    # Two digits side by side: read, and said in one line rather than guessed silently.
    three, seven = (mnist5k.x_test[np.flatnonzero(mnist5k.y_test == d)[0], ..., 0] for d in (3, 7))
    pair = np.full((200, 400), 230, np.uint8)
    for digit, left in ((three, 30), (seven, 230)):
        pair[25:175, left : left + 150] -= np.uint8(
            np.asarray(Image.fromarray(np.uint8(digit * 200)).resize((150, 150)))
        )
    Image.fromarray(pair).save(tmp_path / "pair.jpg", quality=90)
    code = main(["predict", str(trained_path), str(tmp_path / "pair.jpg"), "--show", str(tmp_path / "shown")])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 2
    assert "[2 digits in the photo: read the largest" in out[0]
    assert out[1] == f"wrote 1 picture to {tmp_path / 'shown'}" and (tmp_path / "shown" / "pair.png").is_file()
    code = main(["predict", str(trained_path), str(tmp_path / "pair.jpg"), "--json"])
    [row] = json.loads(capsys.readouterr().out)
    assert row["digits_found"] == 2 and row["notes"][0].startswith("2 digits")


def test_other_files_among_the_photos_are_skipped_a_line_each(photo_digit, trained_path, tmp_path, capsys):
    # `cnn predict m.keras examples/photos/* --show DIR`: the folder's labels.csv used to end the
    # run (exit 2) with nothing predicted and DIR empty.
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "labels.csv").write_text("file,label\nthree.jpg,3\n")
    (folder / "three.jpg").write_bytes(photo_digit[0].read_bytes())
    shown = tmp_path / "shown"
    code = main(["predict", str(trained_path), str(folder / "labels.csv"), str(folder / "three.jpg"),
                 "--show", str(shown)])
    out, err = capsys.readouterr()
    assert code == 0
    assert err.strip().splitlines() == [
        f"cnn: skipped: {folder / 'labels.csv'} is not an image file PIL can read; give a PNG or JPEG"
    ]
    assert out.startswith(f"{folder / 'three.jpg'}: 3  (p=")
    assert [p.name for p in shown.iterdir()] == ["three.png"]


def test_skipping_leaves_the_order_and_an_error_when_nothing_is_left(photo_digit, trained, tmp_path):
    notes, empty = tmp_path / "notes.txt", tmp_path / "empty.png"
    notes.write_text("not a picture")
    empty.write_bytes(b"")
    skipped = []
    predictions = predict_images(trained.model, [notes, photo_digit[0], empty, photo_digit[0]],
                                 skip=lambda path, reason: skipped.append((path, reason)))
    assert [p.source for p in predictions] == [str(photo_digit[0])] * 2
    assert [path for path, _ in skipped] == [notes, empty] and "empty (0 bytes)" in skipped[1][1]
    with pytest.raises(CnnError, match=r"notes.txt is not an image .* \(and 1 more files that cannot be read\)"):
        predict_images(trained.model, [notes, empty], skip=lambda path, reason: None)
    with pytest.raises(CnnError, match="not an image"):  # without skip: the first bad file stops the batch
        predict_images(trained.model, [photo_digit[0], notes])


def test_show_into_a_file_is_refused_before_predicting(photo_digit, trained_path, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    code = main(["predict", str(trained_path), str(photo_digit[0]), "--show", str(taken)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--show" in err[0] and "is a file" in err[0]


def test_colour_model_gets_resized_rgb(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (255, 0, 0)).save(path)
    image = load_image(path, (32, 32, 3))
    assert image.shape == (32, 32, 3)
    np.testing.assert_allclose(image[..., 0], 1.0)
    np.testing.assert_allclose(image[..., 1:], 0.0)


def write_truncated_jpeg(photo_digit, tmp_path):
    data = photo_digit[0].read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_jpeg_is_refused(photo_digit, tmp_path):
    path = write_truncated_jpeg(photo_digit, tmp_path)
    with pytest.raises(CnnError) as error:
        load_image(path)
    assert "truncated or corrupt" in str(error.value) and path.name in str(error.value)
    assert "\n" not in str(error.value)


def test_unsupported_channel_count_is_refused(photo_digit):
    with pytest.raises(CnnError, match="2-channel") as error:
        load_image(photo_digit[0], (28, 28, 2))
    assert "corrupt" not in str(error.value)  # the file is fine; the model is what cannot be fed
