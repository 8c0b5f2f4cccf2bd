"""Are photographed digits read right? The seed CNN against photo-cnn (the seed CNN trained on
digits changed as pen and photo change them: stroke thickness, elastic distortion, rotation, zoom,
shift), both reading the 100 benchmark photos through the same MNIST-style preparation
(cnn.photos.read), at the profile's epochs."""

from cnn.ablate import Axis, v

AXIS = Axis(
    "photos", question=__doc__,
    variants=[v("seed-cnn"), v("photo-cnn", base="photo-cnn")],
    # No effect claimed: at the smoke profile's 2 epochs photo-cnn reads fewer photos than the seed
    # CNN (88 against 94 of 100): its augmentation needs the preset's 30 epochs to pay off (96).
    sections=("photos",),
    evaluations=("photos",),
)
test_photos, test_photos_effects = AXIS.tests()
