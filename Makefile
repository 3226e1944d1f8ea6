# `make demo` and `make test` bootstrap .venv on first use (and again only when pyproject.toml or
# requirements.lock changes). The venv gets exactly the versions in requirements.lock (hashes checked);
# `make lock` regenerates the lock, `make test-latest` runs the suite against the newest releases.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LOCK := requirements.lock
EXTRAS := dev,video,ray
DEMO_DIR ?= runs/demo-$(shell date +%Y%m%d-%H%M%S)
# the newest releases, in a scratch venv; LATEST_PYTHON picks the interpreter (e.g. python3.12)
LATEST_VENV ?= .venv-latest
LATEST_PYTHON ?= $(PYTHON)
# the suite runs in this many pytest-xdist worker processes, each test file whole in one worker (so a
# module's fixtures are built once); the cores, at most 4 (each worker's JAX spreads over the cores too)
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST := -m pytest -n $(TEST_WORKERS) --dist loadfile

.PHONY: demo test install lock test-latest bench clean-venv

# Everything from the lock (pip refuses a package or a file whose hash is not in it), then the package
# itself without dependencies and with the locked setuptools (no build isolation), then `pip check`, then
# Meta-World's XML assets alone (its wheel, hash-checked; scripts/install_metaworld_assets.py says why).
$(STAMP): pyproject.toml $(LOCK) scripts/install_metaworld_assets.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(VENV)/bin/python -m pip check
	$(VENV)/bin/python scripts/install_metaworld_assets.py
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/promp train --env point-corner --algo promp --seed 1 --iterations 60 --out $(DEMO_DIR)

# PROMP_LOCK: tests/test_install.py checks that the venv holds exactly the locked versions
test: $(STAMP)
	PROMP_LOCK=$(LOCK) $(VENV)/bin/python $(PYTEST)

# The newest versions uv finds for every supported Python (one version of each package for all of
# them), with hashes; the build tools come from pyproject's `build` dependency group.
lock:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'uv>=0.9'
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --group build --extra dev --extra video --extra ray \
		--universal --fork-strategy fewest --python-version 3.11 --generate-hashes --upgrade \
		--custom-compile-command 'make lock' -o $(LOCK)

# A scratch venv with the newest releases pip resolves today (no lock), then the whole suite.
test-latest:
	rm -rf $(LATEST_VENV)
	$(LATEST_PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools
	$(LATEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade -e '.[$(EXTRAS)]'
	$(LATEST_VENV)/bin/python -m pip freeze --exclude-editable > $(LATEST_VENV)/versions.txt
	$(LATEST_VENV)/bin/python $(PYTEST)

bench: $(STAMP)
	$(VENV)/bin/python -m promp.bench.iteration

clean-venv:
	rm -rf $(VENV)
