"""Photographed digits: `cnn.photos.read` prepares a photo as MNIST's digits were prepared (what
`cnn predict` reads), `cnn.photos.benchmark` renders seeded photo-like images of held-out test
digits to measure that path (`python -m cnn.photos.benchmark OUT_DIR`).

Nothing is imported here, so `import cnn.photos.read` does not load the benchmark nor OpenCV twice.
"""
