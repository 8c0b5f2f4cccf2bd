"""How much does more training data buy? (share of the training set, stratified)"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "data",
    question=__doc__,
    variants=[v("10%", train_fraction=0.1), v("25%", train_fraction=0.25), v("50%", train_fraction=0.5), v("100%")],
    effects=[
        Effect(
            "test_accuracy",
            low="10%",
            high="100%",
            claim="the full training set beats 10% of it on test accuracy",
            min_effect=0.01,
        ),
        Effect(
            "accuracy_gap",
            low="100%",
            high="10%",
            claim="10% of the data overfits more than the full set",
            min_effect=0.005,
        ),
    ],
    sections=("data_size",),
)
test_data, test_data_effects = AXIS.tests()
