"""Prediction: a photographed digit is read like an MNIST one, and bad image files fail cleanly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnn.errors import CnnError
from cnn.predict import digit_like_mnist, load_image, predict_images, probabilities


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


def test_predictions_use_the_given_class_names(photo_digit, trained):
    path, label = photo_digit
    names = [f"digit {d}" for d in range(10)]
    [prediction] = predict_images(trained.model, [path], names)
    assert prediction.class_name == f"digit {label}"


def test_mnist_digit_passes_through_almost_unchanged(mnist5k, trained):
    # The preparation is meant for photos; a digit that is already MNIST-like must keep its label.
    digits = mnist5k.x_test[:50]
    prepared = np.stack([digit_like_mnist(d[..., 0])[..., np.newaxis] for d in digits])
    same = probabilities(trained.model, prepared).argmax(1) == probabilities(trained.model, digits).argmax(1)
    assert same.mean() >= 0.9


def test_probabilities_are_a_distribution(mnist5k, trained):
    probs = probabilities(trained.model, mnist5k.x_test[:20])
    assert probs.shape == (20, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_drawing_on_a_transparent_background_is_read(tmp_path):
    # Drawing apps export black ink on transparent pixels that are black too once alpha is dropped.
    drawing = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(50, 15), (50, 85)], fill=(0, 0, 0, 255), width=8)
    path = tmp_path / "one.png"
    drawing.save(path)
    image = load_image(path)
    assert image.max() == pytest.approx(1.0)
    row, col = centre_of_mass(image)
    assert abs(row - 14) < 1.5 and abs(col - 14) < 1.5


def test_blank_picture_gives_a_blank_image():
    assert not digit_like_mnist(np.full((50, 40), 0.7, np.float32)).any()


def test_colour_model_gets_resized_rgb(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (255, 0, 0)).save(path)
    image = load_image(path, (32, 32, 3))
    assert image.shape == (32, 32, 3)
    np.testing.assert_allclose(image[..., 0], 1.0)
    np.testing.assert_allclose(image[..., 1:], 0.0)


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def write_truncated_jpeg(photo_digit, tmp_path):
    data = photo_digit[0].read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize(
    "make, fragment",
    [
        pytest.param(lambda photo, folder: folder / "missing.png", "not found", id="missing"),
        pytest.param(lambda photo, folder: folder, "not found", id="a-folder"),
        pytest.param(lambda photo, folder: write(folder / "empty.png", b""), "empty", id="empty"),
        pytest.param(lambda photo, folder: write(folder / "notes.png", b"shopping: milk, eggs\n"), "not an image", id="text"),
        pytest.param(write_truncated_jpeg, "truncated or corrupt", id="truncated-jpeg"),
    ],
)
def test_bad_image_file_is_refused(photo_digit, tmp_path, make, fragment):
    path = make(photo_digit, tmp_path)
    with pytest.raises(CnnError) as error:
        load_image(path)
    message = str(error.value)
    assert fragment in message and path.name in message
    assert "\n" not in message


def test_unsupported_channel_count_is_refused(photo_digit):
    with pytest.raises(CnnError, match="2-channel") as error:
        load_image(photo_digit[0], (28, 28, 2))
    assert "corrupt" not in str(error.value)  # the file is fine; the model is what cannot be fed
