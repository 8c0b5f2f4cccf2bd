"""Profiles: the same grid at another size (data, epochs, seeds), never another code path.
Register your own in a conftest.py: `PROFILES.add("tiny", Profile("tiny", "npz:tiny.npz", 1, 1, "..."))`."""

from __future__ import annotations

from dataclasses import dataclass

from cnn.registry import Registry


@dataclass(frozen=True)
class Profile:
    name: str
    dataset: str  # a dataset spec (`cnn datasets`)
    epochs: int  # every axis' base trains this many epochs (an axis can set its own, e.g. the epochs axis)
    seeds: int
    description: str


PROFILES: Registry[Profile] = Registry("profile")
PROFILES.add("smoke", Profile("smoke", "mnist-5k", 2, 1, "embedded digits, 2 epochs, 1 seed: minutes on 2 cores (CI)"))
PROFILES.add("standard", Profile("standard", "mnist-5k", 5, 3, "embedded digits, 5 epochs, 3 seeds: the committed study"))
PROFILES.add("full", Profile("full", "fashion-mnist", 5, 3, "full-size data (60,000 images), 5 epochs, 3 seeds: hours on a CPU"))
