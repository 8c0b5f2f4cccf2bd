"""What does the batch size cost and buy, at Adam's default rate (1e-3)? 16, 32 (Keras' default, the
notebook's), 128 and 512, and 512 with the rate scaled by sqrt(512 / 32) = 4 (Hoffer et al. 2017):
a bigger batch takes fewer, larger steps per epoch."""

from cnn.ablate import Axis, Effect, v

AXIS = Axis(
    "batch_size",
    question=__doc__,
    variants=[
        v("16", batch_size=16),
        v("32"),
        v("128", batch_size=128),
        v("512", batch_size=512),
        v("512-sqrt", batch_size=512, lr_scaling="sqrt"),
    ],
    effects=[
        Effect(
            "steady_epoch_s",
            low="512",
            high="16",
            claim="batch 512 trains an epoch faster than batch 16",
            min_effect=1.1,
        ),
        Effect(
            "test_accuracy",
            low="512",
            high="32",
            claim="at the same rate and epochs batch 512 (16x fewer steps) ends below batch 32",
            min_effect=0.01,
        ),
        Effect(
            "test_accuracy",
            low="512",
            high="512-sqrt",
            claim="sqrt-scaling the rate wins back accuracy at batch 512",
            min_effect=0.01,
        ),
    ],
    # The batch and its rate are this axis' question, whatever a profile's recipe sets them to.
    base_changes={"batch_size": 32, "lr_scaling": "none"},
)
test_batch_size, test_batch_size_effects = AXIS.tests()
