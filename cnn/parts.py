"""The named parts a config chooses (models, activations, augmentations, optimizers), Keras-free.

Each registry holds its built-ins by where they live ("module:attribute", cnn.registry), so
`import cnn.config` checks names without starting TensorFlow; a part's Keras code is imported
when it is first used. Register your own with the decorators here (or their `cnn.*` re-exports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from cnn.errors import CnnError
from cnn.registry import Registry, load

if TYPE_CHECKING:
    import keras

# --- models: build(config, input_shape (H, W, C), num_classes) -> keras.Model whose output is logits

MODELS: Registry[Callable] = Registry("model")
MODELS.add_lazy("cnn", "cnn.models.sequential:build_sequential")  # the notebook's family (the default)
# The Config subclass a model reads its own fields from, where it has one (`cnn train --model NAME`
# then takes that class's fields as flags); a model without one reads cnn.config.Config.
MODEL_CONFIGS: Registry[type] = Registry("model config")


def register_model(name: str, config: type | None = None) -> Callable:
    """Decorator: `@register_model("resnet-tiny")` over `build(config, input_shape, num_classes)`.
    `config`: the model's own Config subclass, when it has fields of its own."""

    def add(build: Callable) -> Callable:
        if config is not None:
            from cnn.config import Config  # cnn.config imports this module: Config is only there once it has

            if not (isinstance(config, type) and issubclass(config, Config)):
                raise CnnError(f"model {name!r}: config={config!r} must be a subclass of cnn.config.Config")
        MODELS.add(name, build)
        if config is not None:
            MODEL_CONFIGS.add(name, config)
        return build

    return add


# --- activations: for every conv and hidden dense layer (register your own: cnn.activations) ------

ACTIVATIONS: Registry[Callable] = Registry("activation")
for _name, _target in {
    "none": "keras.activations:linear",  # no non-linearity: the notebook's "what if there is none"
    "linear": "keras.activations:linear",
    "relu": "keras.activations:relu",
    "sigmoid": "keras.activations:sigmoid",
    "tanh": "keras.activations:tanh",
    "scaled_tanh": "cnn.activations:scaled_tanh",  # LeCun's 1.7159 * tanh(2x/3): the notebook's custom one
}.items():
    ACTIVATIONS.add_lazy(_name, _target)

# --- augmentations: make() -> a list of Keras layers, run in the registry's order -----------------

AUGMENTATIONS: Registry[Callable[[], list]] = Registry("augmentation")
# The order they run in: the stroke, the shape, the pose, the position, the sensor (cnn.augment).
for _name in ("thickness", "elastic", "rotation", "zoom", "shift", "noise"):
    AUGMENTATIONS.add_lazy(_name, f"cnn.augment:{_name}")


def register_augmentation(name: str) -> Callable:
    """Decorator: register `make() -> list of Keras layers` under `name`; it runs after the built-ins."""
    return AUGMENTATIONS.register(name)


# --- optimizers: each with the learning rate it uses when the config gives none --------------------


@dataclass(frozen=True)
class OptimizerSpec:
    make: Callable[[float], keras.optimizers.Optimizer]  # make(learning_rate) -> a fresh optimizer
    default_learning_rate: float


def _keras(target: str, **options) -> Callable[[float], keras.optimizers.Optimizer]:
    return lambda learning_rate: load(target)(learning_rate, **options)


OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")
# The notebook's list. Default rates are Keras' own, except SGD's 0.01 as the notebook uses it.
OPTIMIZERS.add("sgd", OptimizerSpec(_keras("keras.optimizers:SGD"), 0.01))
OPTIMIZERS.add("momentum", OptimizerSpec(_keras("keras.optimizers:SGD", momentum=0.9), 0.01))
OPTIMIZERS.add("adam", OptimizerSpec(_keras("keras.optimizers:Adam"), 0.001))
OPTIMIZERS.add("adagrad", OptimizerSpec(_keras("keras.optimizers:Adagrad"), 0.001))
OPTIMIZERS.add("adamax", OptimizerSpec(_keras("keras.optimizers:Adamax"), 0.001))
OPTIMIZERS.add("rmsprop", OptimizerSpec(_keras("keras.optimizers:RMSprop"), 0.001))


def register_optimizer(name: str, default_learning_rate: float) -> Callable:
    """Decorator: `@register_optimizer("lion", 1e-4)` over `make(learning_rate) -> keras optimizer`."""

    def add(make: Callable[[float], keras.optimizers.Optimizer]) -> Callable:
        OPTIMIZERS.add(name, OptimizerSpec(make, float(default_learning_rate)))
        return make

    return add
