# Two commands set everything up on a fresh machine with Python >= 3.10 and make:
#   make demo   create .venv, install the project with every extra, run the main job
#   make test   the whole test suite, ruff check and ruff format --check
#   (make test-fast: the suite without the slow tests, for local work)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, from a range the local CPU wheel satisfies (an unpinned torch pulls a CUDA build).
TORCH_SPEC ?= torch>=2.8,<2.14
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-benchmarl test-rllib docs docs-check bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recsys-eq equilibrium --population uniform --n-users 10000 --dim 10 --n-producers 50
	$(BIN)/recsys-eq reproduce --quick

# The tests' outside oracles (Gambit, OpenSpiel) are test-only extras, each installed on its own:
# pygambit 16 ships no wheel for every Python, so pip may compile it (a C++ build, about 3.5 CPU
# minutes, once per venv); OpenSpiel has wheels for CPython 3.10-3.12 only. Where one fails to
# install, its tests skip and say why, and the rest still runs.
ORACLES := $(VENV)/.oracles
$(ORACLES): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[gametheory]" \
	  || echo "make: pygambit did not install; tests/test_gambit.py will skip its oracle tests"
	$(BIN)/python -m pip install --quiet -e ".[openspiel]" \
	  || echo "make: OpenSpiel did not install; tests/test_openspiel.py will skip"
	touch $(ORACLES)

test: $(STAMP) $(ORACLES)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Everything but the tests marked slow (grids, training, concurrency, real data): for local work.
test-fast: $(STAMP) $(ORACLES)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

# The libraries that pin what the main venv cannot hold, each in its own venv, with the tests
# that run there (they skip in the main venv and say why). BenchMARL 1.5.2 pins torchrl<0.12 and
# needs torchvision (torch 2.14.1 + torchvision 0.29.1); RLlib pins its own gymnasium.
BENCHMARL_VENV := .venv-benchmarl
RLLIB_VENV := .venv-rllib
$(BENCHMARL_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCHMARL_VENV)
	$(BENCHMARL_VENV)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BENCHMARL_VENV)/bin/python -m pip install --quiet -e ".[benchmarl]"
	touch $@
$(RLLIB_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RLLIB_VENV)
	$(RLLIB_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(RLLIB_VENV)/bin/python -m pip install --quiet -e ".[rllib,test]"
	touch $@

test-benchmarl: $(BENCHMARL_VENV)/.installed
	$(BENCHMARL_VENV)/bin/python -m pytest tests/test_benchmarl.py tests/test_library_metrics.py

test-rllib: $(RLLIB_VENV)/.installed
	$(RLLIB_VENV)/bin/python -m pytest tests/test_marl.py -k rllib

# The documentation site (tutorials executed; any warning fails the build), then a look at it
# in headless Chromium (broken images or error blocks fail; screenshots in docs/_build).
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

docs-check: docs
	$(BIN)/python docs/check_site.py docs/_build/html

bench: $(STAMP)
	$(BIN)/python -m benchmarks --write

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(BENCHMARL_VENV) $(RLLIB_VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis docs/_build docs/_generated
