"""Does editing the training images help, and what does it cost? Each augmentation alone (shift
+/-2 px, rotation +/-10 degrees, zoom +/-10%, Gaussian noise of std 0.1), then all four together,
against none (the notebook's). Augmentation layers change the images in training only; the train
accuracy is measured on the unchanged images."""

from cnn.ablate import Axis, Effect, v

ALL = ("shift", "rotation", "zoom", "noise")

AXIS = Axis(
    "augmentation",
    question=__doc__,
    variants=[v("none"), *[v(name, augmentation=(name,)) for name in ALL], v("all", augmentation=ALL)],
    effects=[
        Effect(
            "accuracy_gap",
            low="all",
            high="none",
            claim="augmentation narrows the train-test accuracy gap",
            min_effect=0.005,
        ),
        Effect(
            "steady_epoch_s",
            low="none",
            high="all",
            claim="augmenting every batch costs time per epoch",
            min_effect=1.1,
        ),
    ],
)
test_augmentation, test_augmentation_effects = AXIS.tests()
