"""One frozen dataclass describes a variant: its network and its training.

Variants are made with `dataclasses.replace(base, dropout=0.5)`; every field is validated when the
config is made, so nothing invalid reaches TensorFlow. Importing it does not import TensorFlow
or Keras (the names it checks live in cnn.parts).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
from dataclasses import dataclass

from cnn.errors import CnnError
from cnn.parts import ACTIVATIONS, AUGMENTATIONS, MODELS, OPTIMIZERS  # Keras-free: names, not parts
from cnn.registry import Registry

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "random_normal",
    "random_uniform",
    "zeros",
)
POOL_TYPES = ("max", "average")
PADDINGS = ("valid", "same")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
PIPELINES = ("numpy", "tf.data")
LR_SCALINGS = ("none", "sqrt", "linear")
REFERENCE_BATCH = 32  # the batch size the optimizers' default learning rates are tuned for


@dataclass(frozen=True)
class Config:
    """A network and its training. The defaults are the notebook's seed CNN."""

    model: str = "cnn"  # the builder (cnn.models.MODELS): "cnn" is the notebook's family below
    conv_filters: tuple[int, ...] = (32, 64, 64)  # one Conv2D per entry; empty = an MLP
    kernel_size: int = 3  # the notebook's 3x3 kernels
    conv_padding: str = "valid"  # the notebook's: each conv trims (kernel_size - 1) edge pixels; "same" keeps the size
    batch_norm: bool = False  # BatchNormalization after each conv, before its activation (the notebook has none)
    activation: str = "relu"  # for every conv and hidden dense layer; logits stay linear
    initializer: str = "glorot_uniform"  # Keras' default kernel initializer
    pool_size: int = 2  # pooling after each conv but the last; 0 = no pooling
    pool_type: str = "max"
    pool_padding: str = "valid"
    dropout: float = 0.0  # after each hidden dense layer
    dense_units: tuple[int, ...] = (5000,)  # hidden dense widths before the 10-way logits
    optimizer: str = "adam"
    learning_rate: float | None = None  # None = the optimizer's own default (cnn.optimizers)
    epochs: int = 9  # every seed of seed-cnn clears 96% test accuracy on mnist-5k by then
    batch_size: int = 32  # Keras' default, as in the notebook
    train_fraction: float = 1.0  # share of the training set used (stratified), for data-size ablations
    # Held out of the training set (stratified; the same images for every seed and variant) for what
    # is read during training: the learning curves and time-to-accuracy. The test set is then read
    # once, at the end. 0: validate on the test set, as the notebook does.
    validation_fraction: float = 0.1
    augmentation: tuple[
        str, ...
    ] = ()  # names in cnn.augment (shift, rotation, ...); training only, run in the registry's order
    seed: int = 0
    precision: str = "float32"  # or mixed_bfloat16 (CPU with AMX or AVX512-BF16) / mixed_float16 (GPU)
    # The fast path's levers; the defaults are the notebook's recipe, kept as the reference.
    pipeline: str = "numpy"  # numpy arrays into fit, or "tf.data": in memory, shuffled, prefetched
    lr_scaling: str = "none"  # learning rate x (batch_size / 32) ** 0.5 for "sqrt", ** 1 for "linear"
    steps_per_execution: int = 1  # training steps per call into the graph; more saves Python overhead
    jit_compile: bool = False  # XLA; slower on CPU in our measurements
    fused_update: bool = False  # Adam's update as one kernel per weight (cnn.optimizers.FusedAdam), same arithmetic;
    # other optimizers keep Keras' own

    def __post_init__(self):
        for name in ("conv_filters", "dense_units"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                object.__setattr__(self, name, tuple(value))
            _check(name, value, isinstance(value, (list, tuple)), "a tuple of positive integers")
            for width in value:
                _check(name, value, _is_int(width) and width > 0, "a tuple of positive integers")
        _check_name("model", self.model, MODELS.names())
        _check_augmentation(self)
        _check("kernel_size", self.kernel_size, _is_int(self.kernel_size) and self.kernel_size >= 1, "an integer >= 1")
        _check_name("conv_padding", self.conv_padding, PADDINGS)
        _check("batch_norm", self.batch_norm, isinstance(self.batch_norm, bool), "true or false")
        _check_name("activation", self.activation, ACTIVATIONS.names())
        _check_name("initializer", self.initializer, INITIALIZERS)
        _check(
            "pool_size",
            self.pool_size,
            _is_int(self.pool_size) and self.pool_size >= 0,
            "an integer >= 0 (0 = no pooling)",
        )
        _check_name("pool_type", self.pool_type, POOL_TYPES)
        _check_name("pool_padding", self.pool_padding, PADDINGS)
        _check("dropout", self.dropout, _is_number(self.dropout) and 0 <= self.dropout < 1, "a rate in [0, 1)")
        _check_name("optimizer", self.optimizer, OPTIMIZERS.names())
        lr = self.learning_rate
        _check(
            "learning_rate",
            lr,
            lr is None or (_is_number(lr) and lr > 0),
            "a number > 0, or None for the optimizer's default",
        )
        _check("epochs", self.epochs, _is_int(self.epochs) and self.epochs >= 1, "an integer >= 1")
        _check("batch_size", self.batch_size, _is_int(self.batch_size) and self.batch_size >= 1, "an integer >= 1")
        frac = self.train_fraction
        _check("train_fraction", frac, _is_number(frac) and 0 < frac <= 1, "a fraction in (0, 1]")
        held = self.validation_fraction
        _check("validation_fraction", held, _is_number(held) and 0 <= held < 1,
               "a fraction in [0, 1); 0 validates on the test set")
        _check("seed", self.seed, _is_int(self.seed) and self.seed >= 0, "an integer >= 0")
        _check_name("precision", self.precision, PRECISIONS)
        _check_name("pipeline", self.pipeline, PIPELINES)
        _check_name("lr_scaling", self.lr_scaling, LR_SCALINGS)
        spe = self.steps_per_execution
        _check("steps_per_execution", spe, _is_int(spe) and spe >= 1, "an integer >= 1")
        _check("jit_compile", self.jit_compile, isinstance(self.jit_compile, bool), "true or false")
        _check("fused_update", self.fused_update, isinstance(self.fused_update, bool), "true or false")
        # 1 and 1.0 make equal configs but different JSON, hence different keys; and an int
        # train_fraction would be read by Dataset.subset as a count of images.
        for name in ("dropout", "train_fraction", "validation_fraction", "learning_rate"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def effective_learning_rate(self) -> float:
        """The rate the optimizer gets: its default (or the given one) scaled for the batch size by
        `lr_scaling` from the reference batch of 32 (sqrt: Hoffer et al. 2017, linear: Goyal et al. 2017)."""
        rate = (
            OPTIMIZERS.get(self.optimizer).default_learning_rate if self.learning_rate is None else self.learning_rate
        )
        power = {"none": 0.0, "sqrt": 0.5, "linear": 1.0}[self.lr_scaling]
        return rate * (self.batch_size / REFERENCE_BATCH) ** power

    @property
    def is_mlp(self) -> bool:
        return not self.conv_filters

    def to_dict(self) -> dict:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            guesses = [(name, difflib.get_close_matches(name, sorted(known), n=1)) for name in unknown]
            meant = [f"{name!r} -> {guess[0]!r}" for name, guess in guesses if guess]
            hint = f"did you mean {', '.join(meant)}?" if meant else f"known: {', '.join(sorted(known))}"
            raise CnnError(f"unknown config field(s) {', '.join(unknown)} for {cls.__name__}; {hint}")
        return cls(**values)

    def key(self) -> str:
        """A stable hash of every field, for caching results: equal configs give equal keys."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        """Short and readable: the preset it equals, else the fields that differ from its class's
        defaults (the seed CNN's for Config itself; a subclass's own fields count too)."""
        for preset_name in PRESETS:
            if PRESETS.get(preset_name) == self:  # equal dataclasses are of one class
                return preset_name
        default = _defaults(type(self))
        changed = [
            f"{f.name}={_short(getattr(self, f.name))}"
            for f in dataclasses.fields(self)
            if f.name not in default or getattr(self, f.name) != default[f.name]
        ]
        return ",".join(changed)


def _defaults(cls: type) -> dict:
    """Field name -> default value of a Config class (validated and normalised as a config is);
    a subclass with fields that have no default gives only the defaults it declares."""
    try:
        return {f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)}
    except TypeError:  # required fields: compare with the declared defaults alone
        return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(field: str, value, ok: bool, allowed: str) -> None:
    if not ok:
        raise CnnError(f"config field {field}={value!r} is invalid: must be {allowed}")


def _check_augmentation(config: "Config") -> None:
    """Names from the augmentation registry, each once; stored in the registry's order (the
    order the layers run in), so that equal augmentations make equal configs and cache keys."""
    value = config.augmentation
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise CnnError(f"config field augmentation={value!r} is invalid: must be a tuple of names from: "
                       f"{', '.join(AUGMENTATIONS.names())}")
    for name in value:
        _check_name("augmentation", name, AUGMENTATIONS.names())
    if len(set(value)) != len(value):
        raise CnnError(f"config field augmentation={tuple(value)!r} is invalid: give each name once")
    object.__setattr__(config, "augmentation", tuple(n for n in AUGMENTATIONS.names() if n in value))


def _check_name(field: str, value, allowed) -> None:
    if value not in allowed:
        raise CnnError(f"config field {field}={value!r} is unknown; choose one of: {', '.join(allowed)}")


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def _short(value) -> str:
    if isinstance(value, tuple):
        return "-".join(map(str, value)) or "none"
    return str(value)


PRESETS: Registry[Config] = Registry("preset")
# The notebook's CNN: Conv32-Pool-Conv64-Pool-Conv64, Flatten, Dense 5000, Dense 10, Adam.
PRESETS.add("seed-cnn", Config())
# The notebook's MLP: Flatten, Dense 128, Dropout 0.2, Dense 10.
PRESETS.add("seed-mlp", Config(conv_filters=(), dense_units=(128,), dropout=0.2))
# The seed CNN on the fast path: bfloat16 compute (AMX / AVX512-BF16 on these CPUs) with float32
# logits, batch 512 with the learning rate scaled by sqrt(512 / 32) (Adam's rule; linear scaling
# measured worse), an in-memory tf.data pipeline that keeps one iterator for the whole run, and
# Adam's update fused into one kernel per weight (profiled: Keras' op-by-op update was a quarter of
# a step). The same network: only how it trains changes.
PRESETS.add("fast-cnn", Config(precision="mixed_bfloat16", batch_size=512, lr_scaling="sqrt", pipeline="tf.data",
                               fused_update=True))
# The fastest to 90% test accuracy on Fashion-MNIST here: the fast path on a smaller network (two
# convs, Dense 128: a fifth of the seed CNN's FLOPs and 1/14 of its weights) at batch 128, enough
# steps an epoch to get there in under two epochs (~17 s on 2 cores, the seed CNN ~180 s).
PRESETS.add(
    "speedrun-cnn",
    Config(
        conv_filters=(32, 64),
        dense_units=(128,),
        precision="mixed_bfloat16",
        batch_size=128,
        lr_scaling="sqrt",
        pipeline="tf.data",
        fused_update=True,
        epochs=3,
    ),
)
# For photographed digits (`cnn predict` after cnn.photos.read's preparation): the seed CNN trained on
# digits changed as pen and photo change them (stroke width, a hand's wobble, a slant, the
# centring's error), for 30 epochs since every epoch now shows new images; batch 128 with the
# sqrt rule and tf.data keep that to 3-4 minutes on 2 shared cores. 0.988 test accuracy on
# mnist-5k (seed-cnn 0.971) and 96 of the 100 benchmark photos (README, "Photos").
PRESETS.add("photo-cnn", Config(augmentation=("thickness", "elastic", "rotation", "zoom", "shift"), epochs=30,
                                batch_size=128, lr_scaling="sqrt", pipeline="tf.data"))


def preset(name: str) -> Config:
    """The preset config called `name`; raises CnnError listing the presets when unknown."""
    return PRESETS.get(name)
