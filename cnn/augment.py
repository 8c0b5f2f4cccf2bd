"""Data augmentation by name: each returns Keras layers that change the training images and do
nothing at inference (like Keras' own Random* layers), placed right after the model's input.

`Config(augmentation=("rotation", "shift"))` picks them; they run in the registry's order
(stroke, then shape, then position, then noise) whatever order the config lists them in.
The magnitudes are those of handwriting photographed and prepared as MNIST's digits were: a
prepared digit is off centre by a pixel or two, turned by up to ~10 degrees, written with a
pen thinner or thicker than MNIST's, and wobbly where a hand wobbles.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from cnn.parts import AUGMENTATIONS, register_augmentation  # noqa: F401  (re-exported)


def augmentation_layers(config) -> list:
    """The layers of `config.augmentation`, in the registry's order; [] when there is none.
    Neighbouring RandomWarp layers become one, so the image is resampled once. Layers are named
    by kind (augment_warp, ...), not by Keras' process-wide counters, as the model's other layers."""
    chosen = set(config.augmentation)
    stack: list = []
    for name in AUGMENTATIONS.names():
        if name not in chosen:
            continue
        for layer in AUGMENTATIONS.get(name)():
            if stack and isinstance(stack[-1], RandomWarp) and isinstance(layer, RandomWarp):
                stack[-1] = stack[-1].merged(layer)
            else:
                stack.append(layer)
    return stack


@keras.saving.register_keras_serializable(package="cnn")
class RandomThickness(layers.Layer):
    """Thinner or thicker strokes, per image: a blend toward a 3x3 grey-level dilation (thicker,
    by up to `thicken` of a pixel each side) or erosion (thinner, up to `thin`). Images are
    light ink on black, as MNIST's."""

    def __init__(self, thin: float = 0.6, thicken: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.thin, self.thicken, self.seed = float(thin), float(thicken), seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        amount = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), -self.thin, self.thicken, seed=self.generator)
        dilated = ops.max_pool(images, 3, strides=1, padding="same")
        eroded = -ops.max_pool(-images, 3, strides=1, padding="same")
        return images + ops.relu(amount) * (dilated - images) + ops.relu(-amount) * (eroded - images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "thin": self.thin, "thicken": self.thicken, "seed": self.seed}


@keras.saving.register_keras_serializable(package="cnn")
class RandomWarp(layers.Layer):
    """Random geometry per image, resampled once (bilinear): turned by up to `rotation` degrees,
    scaled by up to `zoom` (a fraction), moved by up to `shift` px on each axis, and warped by a
    smooth random field of up to `elastic` px (Simard et al. 2003's elastic distortion: the
    displacements are drawn on a `grid` x `grid` lattice and interpolated over the image).

    One layer for all of them because every resampling blurs: Keras' RandomRotation, RandomZoom
    and RandomTranslation in a row blur a 28x28 digit visibly (`augmentation_layers` merges)."""

    def __init__(self, rotation: float = 0.0, zoom: float = 0.0, shift: float = 0.0, elastic: float = 0.0,
                 grid: int = 4, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.zoom, self.shift, self.elastic = float(rotation), float(zoom), float(shift), float(elastic)
        self.grid, self.seed = int(grid), seed
        self.generator = keras.random.SeedGenerator(seed)

    def merged(self, other: "RandomWarp") -> "RandomWarp":
        """One warp doing both: the larger of each range (the registry gives each kind once)."""
        return RandomWarp(max(self.rotation, other.rotation), max(self.zoom, other.zoom), max(self.shift, other.shift),
                          max(self.elastic, other.elastic), self.grid, self.seed, name=self.name)

    def call(self, images, training=None):
        if not training:
            return images
        shape = ops.shape(images)
        batch, height, width = shape[0], shape[1], shape[2]
        dtype = images.dtype

        def uniform(limit, size=(batch, 1, 1, 1)):
            return keras.random.uniform(size, -limit, limit, seed=self.generator, dtype=dtype)

        angle = uniform(self.rotation * 3.141592653589793 / 180)
        scale = 1.0 + uniform(self.zoom)
        rows = ops.cast(ops.arange(height), dtype)[None, :, None, None] - (ops.cast(height, dtype) - 1) / 2
        cols = ops.cast(ops.arange(width), dtype)[None, None, :, None] - (ops.cast(width, dtype) - 1) / 2
        # Each output pixel reads the source where the inverse transform takes it.
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        source_rows = cos * rows - sin * cols + (ops.cast(height, dtype) - 1) / 2 + uniform(self.shift)
        source_cols = sin * rows + cos * cols + (ops.cast(width, dtype) - 1) / 2 + uniform(self.shift)
        if self.elastic:
            coarse = uniform(self.elastic, (batch, self.grid, self.grid, 2))
            field = ops.image.resize(coarse, (height, width), interpolation="bicubic")  # smooth (B, H, W, 2)
            source_rows = source_rows + field[..., :1]
            source_cols = source_cols + field[..., 1:]
        return _bilinear(images, source_rows, source_cols)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rotation": self.rotation, "zoom": self.zoom, "shift": self.shift,
                "elastic": self.elastic, "grid": self.grid, "seed": self.seed}


def _bilinear(images, rows, cols):
    """`images` (B, H, W, C) read at float positions `rows`, `cols` (B, H, W, 1), bilinearly;
    0 outside. Written with gathers because ops.image.map_coordinates needs a known batch size,
    which a tf.data pipeline does not give."""
    shape = ops.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    flat = ops.reshape(images, (-1, channels))
    first = ops.cast(ops.arange(batch), "int32")[:, None, None, None] * (height * width)
    top, left = ops.floor(rows), ops.floor(cols)
    down, right = rows - top, cols - left
    top, left = ops.cast(top, "int32"), ops.cast(left, "int32")

    def at(r, c):
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        index = first + ops.clip(r, 0, height - 1) * width + ops.clip(c, 0, width - 1)
        values = ops.take(flat, ops.reshape(index, (-1,)), axis=0)
        return ops.reshape(values, shape) * ops.cast(inside, images.dtype)

    return ((1 - down) * (1 - right) * at(top, left) + (1 - down) * right * at(top, left + 1)
            + down * (1 - right) * at(top + 1, left) + down * right * at(top + 1, left + 1))


# The built-ins, registered by name in cnn.parts (whose order is the order they run in: the stroke,
# the shape, the pose, the position, the sensor).
def thickness() -> list:
    # Ballpoint (thinner than MNIST's pens) to marker (thicker); cnn.photos.read matches widths only roughly.
    return [RandomThickness(thin=0.5, thicken=0.6, name="augment_thickness")]


def elastic() -> list:
    # A hand's wobble: up to 1.5 px on a 4x4 lattice keeps every digit readable.
    return [RandomWarp(elastic=1.5, name="augment_warp")]


def rotation() -> list:
    # +/-10 degrees: a page photographed a little askew, or a slanted hand.
    return [RandomWarp(rotation=10, name="augment_warp")]


def zoom() -> list:
    # +/-10%: the 20 px box is set by the longer side, so a digit's other side varies that much.
    return [RandomWarp(zoom=0.1, name="augment_warp")]


def shift() -> list:
    # +/-2 px: centring by centre of mass leaves a digit off by about that.
    return [RandomWarp(shift=2, name="augment_warp")]


def noise() -> list:
    # Sensor grain and JPEG blocks left after preparation: Gaussian, std 0.1 of the ink's range.
    return [layers.GaussianNoise(0.1, name="augment_noise")]
