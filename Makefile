# Two commands for a fresh machine: `make ablations` (the main job) and `make test`.
# Each target creates .venv and installs the project into it first.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= smoke
NAME ?= $(PROFILE)

.PHONY: install test ablations train clean

install: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e .
	touch $(STAMP)

# Unit tests, then the smoke grid with its accuracy guard: what CI runs.
test: $(STAMP)
	$(PYTHON) -m pytest tests/
	$(PYTHON) -m pytest ablations/ --ablation-profile=smoke --benchmark-save=ci

# The main job: every ablation axis, timed, reported, guarded (PROFILE=smoke|standard|full).
ablations: $(STAMP)
	$(PYTHON) -m pytest ablations/ --ablation-profile=$(PROFILE) --benchmark-save=$(NAME)

# Train the notebook's CNN on the embedded digits and save it.
train: $(STAMP)
	$(VENV)/bin/cnn train --preset seed-cnn --save seed-cnn.keras

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
