"""cnn.photos.benchmark: seeded photo-like images of held-out test digits."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from cnn.errors import CnnError
from cnn.photos.benchmark import make_photos, write_photos


@pytest.fixture(scope="module")
def photos(mnist5k):
    return make_photos(mnist5k.x_test, mnist5k.y_test, n=12, seed=3, sizes=(200, 500))


def test_same_seed_same_photos(mnist5k, photos):
    again = make_photos(mnist5k.x_test, mnist5k.y_test, n=12, seed=3, sizes=(200, 500))
    assert [p.data for p in again] == [p.data for p in photos]
    other = make_photos(mnist5k.x_test, mnist5k.y_test, n=12, seed=4, sizes=(200, 500))
    assert [p.data for p in other] != [p.data for p in photos]


def test_photos_are_test_digits_never_trained_on(mnist5k, photos):
    labels = [p.label for p in photos]
    assert sorted(set(labels)) == list(range(10))  # every class, as evenly as 12 allows
    assert labels == [int(mnist5k.y_test[p.source_index]) for p in photos]
    assert len({p.source_index for p in photos}) == len(photos)  # each digit once
    train = {image.tobytes() for image in mnist5k.x_train}
    assert not any(mnist5k.x_test[p.source_index].tobytes() in train for p in photos)


def test_sizes_span_the_range_and_files_decode(photos):
    sides = []
    for photo in photos:
        image = Image.open(io.BytesIO(photo.data))
        image.load()
        assert image.format == ("JPEG" if photo.name.endswith(".jpg") else "PNG")
        assert list(image.size) == photo.recipe["size"]
        sides.append(max(image.size))
    assert min(sides) == 200 and max(sides) == 500


def test_the_recipe_says_what_was_done(photos):
    for photo in photos:
        for key in ("paper", "lines", "ink", "rotation_deg", "blur_px", "shadow", "digit_box", "pen_px"):
            assert key in photo.recipe
        json.dumps(photo.recipe)
        width, height = photo.recipe["size"]
        left, top, right, bottom = photo.recipe["digit_box"]
        assert 0 <= left < right <= width and 0 <= top < bottom <= height  # the whole digit is in the photo


def test_write_photos_writes_files_and_labels(photos, tmp_path):
    folder = write_photos(photos, tmp_path / "bench")
    with open(folder / "labels.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["file"] for row in rows] == [p.name for p in photos]
    assert all((folder / row["file"]).read_bytes() == p.data for row, p in zip(rows, photos))
    assert [int(row["label"]) for row in rows] == [p.label for p in photos]


def test_too_few_digits_of_a_class_is_an_error():
    digits, labels = np.zeros((20, 28, 28), np.float32), np.arange(20) % 10
    digits[:, 10:18, 12:16] = 1
    with pytest.raises(CnnError, match="only 2 test digits of class 0"):
        make_photos(digits, labels, n=40)
