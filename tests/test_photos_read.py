"""cnn.photos.read: a photographed digit becomes an MNIST-style 28x28, and every odd file gets a clear
result or a one-line error. Synthetic photos of real MNIST test digits; no model needed."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnn.errors import CnnError
from cnn.photos.read import find_digit, read_digit

ROOT = Path(__file__).resolve().parents[1]


def mnist_prepared(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit run through the same preparation: what a perfect photo should give."""
    return find_digit(np.squeeze(digit)).image


def page(height=300, width=400, paper=0.9) -> np.ndarray:
    """Plain grey-white paper with a little grain, RGB float."""
    rng = np.random.default_rng(0)
    return np.clip(paper + 0.01 * rng.standard_normal((height, width, 1)), 0, 1).repeat(3, axis=2).astype(np.float32)


def write_digit(
    image: np.ndarray, digit: np.ndarray, top: int, left: int, side: int, ink=(0.1, 0.15, 0.5)
) -> np.ndarray:
    """Draw an MNIST digit (light on dark) as ink into the RGB `image`, in a `side` px square."""
    enlarged = (
        np.asarray(Image.fromarray(np.uint8(np.squeeze(digit) * 255)).resize((side, side), Image.BICUBIC)) / 255.0
    )
    alpha = np.clip((enlarged - 0.3) * 2.5, 0, 1)[..., None]
    region = image[top: top + side, left: left + side]
    image[top: top + side, left: left + side] = region * (1 - alpha) + np.asarray(ink) * alpha
    return image


def save(image: np.ndarray, path: Path, **options) -> Path:
    Image.fromarray(np.uint8(np.clip(image, 0, 1) * 255 + 0.5)).save(path, **options)
    return path


def close(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two 28x28 images."""
    return float(np.abs(a - b).mean())


@pytest.fixture(scope="module")
def three(mnist5k):
    return mnist5k.x_test[np.flatnonzero(mnist5k.y_test == 3)[0]]


def centre_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_photo_is_prepared_as_mnist_was(three):
    photo = write_digit(page(), three, top=40, left=220, side=150)  # small and off centre
    digit = find_digit(photo)
    image = digit.image
    assert image.shape == (28, 28) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert image.max() > 0.9 and image[0].max() == image[-1].max() == 0  # light ink on black, a clean border
    rows, cols = np.nonzero(image > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)  # the longer side fills MNIST's 20 px box
    com = centre_of_mass(image)
    assert abs(com[0] - 14) < 1 and abs(com[1] - 14) < 1  # placed by centre of mass
    left, top, right, bottom = digit.box
    assert 210 <= left and right <= 380 and 30 <= top and bottom <= 200  # found where it was written
    assert close(image, mnist_prepared(three)) < 0.06
    assert digit.digits == 1 and digit.notes == ()


def test_aspect_ratio_is_kept(mnist5k):
    one = mnist5k.x_test[np.flatnonzero(mnist5k.y_test == 1)[0]]
    image = find_digit(write_digit(page(), one, 60, 100, 200)).image
    rows, cols = np.nonzero(image > 0.05)
    assert np.ptp(rows) + 1 >= 19 and np.ptp(cols) + 1 < 14  # a 1 stays narrow: not stretched to a square


def test_shadow_and_uneven_light_are_evened_out(three):
    photo = write_digit(page(), three, 60, 120, 160)
    rows, cols = np.mgrid[0:300, 0:400]
    photo *= np.where(cols + 0.3 * rows > 200, 0.45, 1.0)[..., None]  # a hard shadow through the digit
    photo *= (0.8 + 0.2 * rows / 300)[..., None]  # and light falling off towards the top
    assert close(find_digit(photo).image, mnist_prepared(three)) < 0.06


def test_ruled_and_squared_lines_are_removed(three):
    clean = mnist_prepared(three)
    for colour, squared in ((0.75, False), (0.45, True)):  # light ruled lines; a dark squared grid
        photo = page()
        for y in range(20, 300, 45):
            photo[y: y + 3] *= colour / 0.9
        if squared:
            for x in range(10, 400, 45):
                photo[:, x: x + 3] *= colour / 0.9
        digit = find_digit(write_digit(photo, three, 70, 130, 150))
        assert close(digit.image, clean) < 0.06
    assert any("line" in note for note in digit.notes)  # the dark grid was found and said so


def test_specks_and_the_page_edge_are_ignored(three):
    photo = write_digit(page(), three, 80, 140, 140)
    for y, x in ((20, 30), (250, 60), (40, 370), (270, 330)):  # dirt
        photo[y: y + 4, x: x + 4] = 0.2
    photo[:, 380:] = (0.2, 0.15, 0.1)  # the desk beyond the page's edge
    digit = find_digit(photo)
    assert close(digit.image, mnist_prepared(three)) < 0.08 and digit.digits == 1


def test_several_digits_are_counted(mnist5k, three):
    seven = mnist5k.x_test[np.flatnonzero(mnist5k.y_test == 7)[0]]
    photo = write_digit(write_digit(page(width=500), three, 70, 40, 170), seven, 80, 280, 150)
    assert find_digit(photo).digits == 2


def test_light_ink_on_dark_is_read_too(three):
    digit = find_digit(three[..., 0])  # an MNIST image itself: light on black
    assert "inverted" in " ".join(digit.notes)
    assert close(digit.image, three[..., 0]) < 0.08


@pytest.mark.parametrize("fill, fragment", [(0.0, "all black"), (1.0, "all white"), (0.5, "all grey")])
def test_one_flat_colour_is_refused(fill, fragment):
    with pytest.raises(CnnError, match=fragment):
        find_digit(np.full((60, 80), fill, np.float32))


def test_a_blank_page_is_refused(tmp_path):
    photo = page()
    for y in range(20, 300, 40):
        photo[y: y + 2] *= 0.8  # ruled, but nothing written
    with pytest.raises(CnnError, match="no digit found") as error:
        read_digit(save(photo, tmp_path / "blank.jpg", quality=80))
    assert "blank.jpg" in str(error.value) and "\n" not in str(error.value)


def test_a_1x1_image_is_refused(tmp_path):
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    with pytest.raises(CnnError, match="1x1 pixels, too small"):
        read_digit(tmp_path / "dot.png")


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)  # claims 900 megapixels
    (tmp_path / "bomb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    with pytest.raises(CnnError, match="megapixels"):
        read_digit(tmp_path / "bomb.png")


def test_a_huge_jpeg_is_read_in_bounded_memory(tmp_path, three):
    # 10,000 x 10,000: decoded whole as RGB it would take 300 MB, as float 1.2 GB.
    big = Image.new("L", (10_000, 10_000), 225)
    enlarged = Image.fromarray(np.uint8(255 - np.squeeze(three) * 200)).resize((3000, 3000), Image.BICUBIC)
    big.paste(enlarged, (3000, 4000))
    big.save(tmp_path / "huge.jpg", quality=80)
    del big
    small = write_digit(page(1000, 1000, paper=225 / 255), three, 400, 300, 300, ink=(55 / 255,) * 3)
    # The peak in a fresh process (VmHWM: ru_maxrss would carry over this process' peak across exec).
    probe = (
        "import re, sys; from cnn.photos.read import read_digit; d = read_digit(sys.argv[1]); "
        "peak = int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1)) // 1024; "
        "print(peak, d.box[2] - d.box[0], d.box[3] - d.box[1])"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "huge.jpg")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    peak_mb, width, height = map(int, done.stdout.split())
    assert peak_mb < 250, f"peak memory {peak_mb} MB"
    assert 1500 < width < 3100 and 2000 < height < 3100  # the digit's box, in the photo's own pixels
    assert (
        close(read_digit(tmp_path / "huge.jpg").image, find_digit(small).image) < 0.1
    )  # the same digit, drawn another way


def test_exif_orientation_is_respected(tmp_path, three):
    photo = save(write_digit(page(), three, 50, 120, 170), tmp_path / "upright.png")
    upright = read_digit(photo).image
    stored = Image.open(photo).transpose(Image.Transpose.ROTATE_90)  # as a phone held sideways stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    stored.save(tmp_path / "phone.jpg", quality=92, exif=exif)
    digit = read_digit(tmp_path / "phone.jpg")
    assert close(digit.image, upright) < 0.05
    assert any("EXIF orientation 6" in note for note in digit.notes)


def test_animated_gif_reads_its_first_frame(tmp_path, three, mnist5k):
    seven = mnist5k.x_test[np.flatnonzero(mnist5k.y_test == 7)[0]]
    frames = [
        Image.fromarray(np.uint8(write_digit(page(), d, 60, 120, 160) * 255)).convert("P") for d in (three, seven)
    ]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    digit = read_digit(tmp_path / "moving.gif")
    assert "2 frames: read the first" in digit.notes
    assert close(digit.image, mnist_prepared(three)) < 0.06


def test_cmyk_jpeg_reads_as_its_rgb(tmp_path, three):
    photo = write_digit(page(), three, 60, 120, 160)
    rgb = read_digit(save(photo, tmp_path / "rgb.jpg", quality=92)).image
    Image.fromarray(np.uint8(photo * 255)).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=92)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    assert close(read_digit(tmp_path / "cmyk.jpg").image, rgb) < 0.03


def test_16_bit_png_reads_as_its_8_bit(tmp_path, three):
    gray = write_digit(page(), three, 60, 120, 160)[..., 1]
    eight = read_digit(save(gray, tmp_path / "eight.png")).image
    Image.fromarray(np.uint16(gray * 65535 + 0.5)).save(tmp_path / "sixteen.png")
    assert Image.open(tmp_path / "sixteen.png").mode.startswith("I")  # Pillow's convert("L") would clip it white
    assert close(read_digit(tmp_path / "sixteen.png").image, eight) < 0.02


def test_transparent_drawing_is_laid_on_white(tmp_path):
    drawing = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(50, 15), (50, 85)], fill=(0, 0, 0, 255), width=8)
    drawing.save(tmp_path / "one.png")
    image = read_digit(tmp_path / "one.png").image
    assert image.max() > 0.9
    rows, cols = centre_of_mass(image)
    assert abs(rows - 14) < 1.5 and abs(cols - 14) < 1.5


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, fragment",
    [
        pytest.param(lambda folder: folder / "missing.png", "not found", id="missing"),
        pytest.param(lambda folder: folder, "not found", id="a-folder"),
        pytest.param(lambda folder: write(folder / "empty.png", b""), "empty", id="empty"),
        pytest.param(lambda folder: write(folder / "notes.png", b"shopping: milk, eggs\n"), "not an image", id="text"),
    ],
)
def test_bad_image_file_is_refused(tmp_path, make, fragment):
    path = make(tmp_path)
    with pytest.raises(CnnError) as error:
        read_digit(path)
    assert fragment in str(error.value) and path.name in str(error.value) and "\n" not in str(error.value)
