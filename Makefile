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

.PHONY: demo test test-fast bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recsys-eq equilibrium --population uniform --n-users 10000 --dim 10 --n-producers 50
	$(BIN)/recsys-eq reproduce --quick

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Everything but the tests marked slow (grids, training, concurrency, real data): for local work.
test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
