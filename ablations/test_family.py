"""The notebook's two networks: the MLP against the CNN"""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "family",
    question=__doc__,
    variants=[v("seed-mlp", base="seed-mlp"), v("seed-cnn")],
    effects=[
        Effect(
            "test_accuracy",
            low="seed-mlp",
            high="seed-cnn",
            claim="the CNN beats the MLP on test accuracy",
            min_effect=0.01,
        )
    ],
    evaluations=("errors",),  # the test images each gets wrong: the report's grid of mistakes
    reference="seed-cnn",  # the notebook's CNN: the report draws its mistakes
)
test_family, test_family_effects = AXIS.tests()
