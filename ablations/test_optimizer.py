"""Which optimizer, each at its best of three learning rates? (its default x1/3, x1 and x3, chosen on
the validation split before the measured seeds train; SGD at the notebook's 0.01 against other
rates is the learning_rate axis' question)"""

from cnn.ablate import Axis, Effect, v
from cnn.parts import OPTIMIZERS

RATE_FACTORS = (1 / 3, 1, 3)  # half a decade either side of the default: where the usual rates of these optimizers lie


def rates(optimizer: str) -> tuple[float, ...]:
    """The candidate rates of `optimizer`: its default rate times RATE_FACTORS."""
    return tuple(float(f"{OPTIMIZERS.get(optimizer).default_learning_rate * factor:.2g}") for factor in RATE_FACTORS)


AXIS = Axis(
    "optimizer",
    question=__doc__,
    variants=[
        v(name, optimizer=name, choose={"learning_rate": rates(name)})
        for name in ("sgd", "momentum", "adam", "adagrad", "adamax", "rmsprop")
    ],
    effects=[
        Effect("test_accuracy", low="sgd", high="adam", claim="Adam beats plain SGD, each at its chosen rate",
               min_effect=0.01),
        Effect("test_accuracy", low="sgd", high="momentum", claim="momentum beats plain SGD, each at its chosen rate",
               min_effect=0.01),
        # The adaptive ones may be level: the verdict says so where the interval lies within 0.005.
        Effect("test_accuracy", low="rmsprop", high="adam", claim="Adam beats RMSprop, each at its chosen rate",
               min_effect=0.005),
    ],
)
test_optimizer, test_optimizer_effects = AXIS.tests()
