"""The ablation grid: axes of variants around one base config, and the profiles that size it.

Each axis varies one field of the base config (the initializer axis two: the initializer, under
sigmoid and under relu). Each profile is the same grid at another size (data, epochs, seeds),
never another code path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from cnn.config import Config, preset
from cnn.errors import CnnError
from cnn.registry import Registry


@dataclass(frozen=True)
class Variant:
    """One point on an axis: its test id and the fields it changes in the base config."""

    id: str
    changes: dict = field(default_factory=dict, hash=False)
    base_preset: str = "seed-cnn"
    learns: bool = True  # False where the finding is that it does not learn (zero initialisation)

    def config(self, base: Config, seed: int) -> Config:
        """The variant's config on a base (the profile's, with the axis' changes), for one seed."""
        start = base if self.base_preset == "seed-cnn" else dataclasses.replace(preset(self.base_preset), epochs=base.epochs)
        return dataclasses.replace(start, seed=seed, **self.changes)


@dataclass(frozen=True)
class Effect:
    """A claim the report makes only where the seeds show it beyond their spread."""

    metric: str  # a results column, e.g. "accuracy_gap"
    low: str  # variant id expected to have the lower value
    high: str  # variant id expected to have the higher value
    claim: str  # the sentence, true when high > low beyond the spread


@dataclass(frozen=True)
class Axis:
    name: str
    question: str
    variants: tuple[Variant, ...]
    effects: tuple[Effect, ...] = ()
    base_changes: dict = field(default_factory=dict, hash=False)  # where the axis needs another base
    accuracy_checks: int = 0  # > 0: also measure test accuracy that many times per epoch (time-to-accuracy)

    def configs(self, variant: Variant, base: Config, seeds: int) -> dict[int, Config]:
        """The variant's config for each seed, on the profile's base with this axis' base changes."""
        axis_base = dataclasses.replace(base, **self.base_changes)
        return {seed: variant.config(axis_base, seed) for seed in range(seeds)}

    @property
    def ids(self) -> list[str]:
        return [v.id for v in self.variants]

    def variant(self, variant_id: str) -> Variant:
        for v in self.variants:
            if v.id == variant_id:
                return v
        raise CnnError(f"axis {self.name} has no variant {variant_id!r}; known: {', '.join(self.ids)}")


def _v(id: str, learns: bool = True, base: str = "seed-cnn", **changes) -> Variant:
    return Variant(id, changes, base, learns)


AXES: Registry[Axis] = Registry("axis")
for _axis in (
    Axis(
        "activation",
        "What does the non-linearity do? (none = a linear network, scaled_tanh = the custom one)",
        (_v("none", activation="none"), _v("relu"), _v("sigmoid", activation="sigmoid"), _v("tanh", activation="tanh"),
         _v("scaled_tanh", activation="scaled_tanh")),
        (Effect("test_accuracy", "none", "relu", "ReLU beats no activation on test accuracy"),),
    ),
    Axis(
        "dropout",
        "Does dropout after the dense layer narrow the overfitting gap, and at what cost?",
        (_v("0"), _v("0.2", dropout=0.2), _v("0.5", dropout=0.5)),
        (Effect("accuracy_gap", "0.5", "0", "dropout 0.5 narrows the train-test accuracy gap"),
         Effect("loss_gap", "0.5", "0", "dropout 0.5 narrows the train-test loss gap")),
    ),
    Axis(
        "pooling",
        "Pooling size, type and padding: what do they do to accuracy and speed? (on Dense 128: without"
        " pooling the notebook's Dense 5000 would hold 155M weights and train ~30x slower)",
        (_v("none", pool_size=0), _v("max2-valid"), _v("max2-same", pool_padding="same"), _v("max3-same", pool_size=3, pool_padding="same"),
         _v("avg2-valid", pool_type="average")),
        (Effect("steady_epoch_s", "max2-valid", "none", "no pooling makes an epoch slower than 2x2 max pooling"),),
        base_changes={"dense_units": (128,)},
    ),
    Axis(
        "dense",
        "How wide must the dense layer be? (5000 is the notebook's)",
        (_v("128", dense_units=(128,)), _v("512", dense_units=(512,)), _v("5000")),
        (Effect("steady_epoch_s", "128", "5000", "Dense 5000 makes an epoch slower than Dense 128"),),
    ),
    Axis(
        "epochs",
        "How many epochs until accuracy stops paying, and when does overfitting start?",
        (_v("1", epochs=1), _v("3", epochs=3), _v("10", epochs=10)),
        (Effect("train_accuracy", "1", "10", "10 epochs fit the training set better than 1"),
         Effect("test_accuracy", "1", "10", "10 epochs beat 1 on test accuracy")),
    ),
    Axis(
        "data",
        "How much does more training data buy? (share of the training set, stratified)",
        (_v("10%", train_fraction=0.1), _v("25%", train_fraction=0.25), _v("50%", train_fraction=0.5), _v("100%")),
        (Effect("test_accuracy", "10%", "100%", "the full training set beats 10% of it on test accuracy"),
         Effect("accuracy_gap", "100%", "10%", "10% of the data overfits more than the full set")),
    ),
    Axis(
        "optimizer",
        "Which optimizer, at its usual learning rate? (SGD at the notebook's 0.01)",
        (_v("sgd", optimizer="sgd"), _v("momentum", optimizer="momentum"), _v("adam"), _v("adagrad", optimizer="adagrad"),
         _v("adamax", optimizer="adamax"), _v("rmsprop", optimizer="rmsprop")),
        (Effect("test_accuracy", "sgd", "adam", "Adam beats plain SGD (lr 0.01) in the same epochs"),),
    ),
    Axis(
        "initializer",
        "Does the weight initialisation matter, with sigmoid and with ReLU? (zeros: every unit the same)",
        tuple(
            _v(f"{activation}-{init}", learns=init != "zeros", activation=activation, initializer=init)
            for activation in ("sigmoid", "relu")
            for init in ("glorot_uniform", "he_normal", "random_normal", "zeros")
        ),
        (Effect("test_accuracy", "relu-zeros", "relu-he_normal", "zero initialisation keeps ReLU from learning"),
         Effect("test_accuracy", "sigmoid-zeros", "sigmoid-glorot_uniform", "zero initialisation keeps sigmoid from learning")),
    ),
    Axis(
        "family",
        "The notebook's two networks: the MLP against the CNN",
        (_v("seed-mlp", base="seed-mlp"), _v("seed-cnn")),
        (Effect("test_accuracy", "seed-mlp", "seed-cnn", "the CNN beats the MLP on test accuracy"),),
    ),
    Axis(
        "speed",
        "The fast path's levers one at a time, then together: what each buys in samples/s and costs in accuracy",
        (_v("naive"), _v("tf.data", pipeline="tf.data"), _v("bfloat16", precision="mixed_bfloat16"),
         _v("batch256-sqrt", batch_size=256, lr_scaling="sqrt"),
         _v("fast", base="fast-cnn")),
        (Effect("samples_per_s", "naive", "fast", "the fast path trains more samples per second than the notebook's recipe"),
         Effect("samples_per_s", "naive", "batch256-sqrt", "batch 256 trains more samples per second than batch 32")),
        # Long enough for time-to-accuracy: the naive recipe's 3-epoch accuracy is the target,
        # checked every quarter epoch rather than only at epoch ends.
        base_changes={"epochs": 6},
        accuracy_checks=4,
    ),
):
    AXES.add(_axis.name, _axis)


@dataclass(frozen=True)
class Profile:
    name: str
    dataset: str
    epochs: int  # the base config's epochs (the epochs axis sets its own)
    seeds: int
    description: str

    def base(self) -> Config:
        return dataclasses.replace(preset("seed-cnn"), epochs=self.epochs)


PROFILES: Registry[Profile] = Registry("profile")
PROFILES.add("smoke", Profile("smoke", "mnist-5k", 2, 1, "embedded digits, 2 epochs, 1 seed: minutes on 2 cores (CI)"))
PROFILES.add("standard", Profile("standard", "mnist-5k", 5, 3, "embedded digits, 5 epochs, 3 seeds: the committed study"))
PROFILES.add("full", Profile("full", "fashion-mnist", 5, 3, "full-size data (60,000 images), 5 epochs, 3 seeds: hours on a CPU"))
