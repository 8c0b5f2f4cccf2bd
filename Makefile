# Two commands for a fresh machine: `make ablations` (the main job) and `make test`.
# Each target creates .venv and installs the project into it first.
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The versions the baseline was measured with; `make lock` refreshes it (then re-measure the baseline).
CONSTRAINTS := constraints.txt
PROFILE ?= smoke
NAME ?= $(PROFILE)

.PHONY: install lock test ablations train clean

# Extras: dev (ruff, import-linter: what `make test` needs); ray, the cluster engine (a 3 GB install,
# only when asked: `make install EXTRAS=dev,ray`); gpu. `make install` always reinstalls with EXTRAS;
# the other targets install only when .venv is missing or older than pyproject.toml or the pins.
EXTRAS ?= dev

install:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install -c $(CONSTRAINTS) -e '.[$(EXTRAS)]'
	touch $(STAMP)
	@echo "installed into $(VENV) (extras: $(EXTRAS)); now \`. $(VENV)/bin/activate\` for cnn and pytest, or use $(VENV)/bin/cnn"

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(MAKE) install

# Pin what `pip install -e '.[ray,dev]'` takes today (the ray pins too: CI and clusters install them):
# the newest releases pyproject.toml allows, installed into a fresh temporary venv (so nothing
# already in .venv leaks in), frozen without the project.
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	python3 -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip && \
	"$$tmp/venv/bin/python" -m pip install --quiet -e '.[ray,dev]' && \
	{ echo "# Written by \`make lock\` ($$("$$tmp/venv/bin/python" --version), $$(uname -sm)): pip freeze of a fresh"; \
	  echo "# venv after \`pip install -e .\`. \`make install\` installs with it: pip install -c $(CONSTRAINTS) -e ."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > "$$tmp/$(CONSTRAINTS)" && \
	mv "$$tmp/$(CONSTRAINTS)" $(CONSTRAINTS) && \
	echo "$(CONSTRAINTS): $$(grep -vc '^#' $(CONSTRAINTS)) packages pinned; re-measure the baseline if tensorflow, keras or numpy moved"

# The code's own checks (ruff; the layers' import contracts), the unit tests, the smoke grid with
# its accuracy guard, then the own-model example as a user's project (the plugin from the
# installed package): what CI runs. The unit tests and the grid run in WORKERS pytest-xdist
# processes: one training here keeps about one of 2 cores busy. The grid goes an axis file to a
# worker (--dist loadscope), so each axis' effects test runs after its variants and judges them.
# The speed axis runs alone afterwards, as its timings need, and is the part saved to .benchmarks/
# (pytest-benchmark turns itself off under xdist).
WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PYTHON) -m pytest tests/ -n $(WORKERS)
	$(PYTHON) -m pytest ablations/ --ablation-profile=smoke -n $(WORKERS) --dist loadscope --ignore=ablations/test_speed.py
	$(PYTHON) -m pytest ablations/test_speed.py --ablation-profile=smoke --benchmark-save=ci
	cd examples/own-model && ../../$(PYTHON) -m pytest

# The main job: every ablation axis, timed, reported, guarded (PROFILE=smoke|standard|full).
ablations: $(STAMP)
	$(PYTHON) -m pytest ablations/ --ablation-profile=$(PROFILE) --benchmark-save=$(NAME) $(PYTEST_ARGS)

# Train the notebook's CNN on the embedded digits and save it.
train: $(STAMP)
	$(VENV)/bin/cnn train --preset seed-cnn --save seed-cnn.keras

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
