"""What does the learning rate do, for SGD and for Adam? SGD at 0.001, 0.01 (the notebook's) and 0.1;
Adam at 1e-4, 1e-3 (its default, the notebook's) and 1e-2."""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "learning_rate", question=__doc__,
    # The default rates are left unset: those runs are the optimizer axis' sgd and the seed CNN,
    # shared through the cache.
    variants=[v("sgd-0.001", optimizer="sgd", learning_rate=0.001), v("sgd-0.01", optimizer="sgd"),
              v("sgd-0.1", optimizer="sgd", learning_rate=0.1),
              v("adam-1e-4", learning_rate=1e-4), v("adam-1e-3"), v("adam-1e-2", learning_rate=1e-2)],
    effects=[Effect("test_accuracy", low="sgd-0.001", high="sgd-0.1",
                    claim="SGD at 0.1 beats SGD at 0.001 in the same epochs", min_effect=0.01),
             Effect("test_accuracy", low="sgd-0.01", high="sgd-0.1",
                    claim="SGD's usual 0.01 is too small for so few epochs: 0.1 beats it", min_effect=0.01),
             Effect("test_accuracy", low="adam-1e-4", high="adam-1e-3",
                    claim="Adam at 1e-4 is too slow: its default 1e-3 beats it", min_effect=0.01),
             Effect("test_accuracy", low="adam-1e-2", high="adam-1e-3",
                    claim="Adam at 1e-2 overshoots: its default 1e-3 beats it", min_effect=0.01)],
    # The rates as written, unscaled, at whatever batch a profile's recipe trains with.
    base_changes={"lr_scaling": "none"},
)
test_learning_rate, test_learning_rate_effects = AXIS.tests()
