# The two front-door commands: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test check install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

## demo: install and start the demo (API on http://127.0.0.1:8000, sample data in ./var/demo)
demo: install
	$(BIN)/invoicebridge demo

## check: ruff, mypy --strict, import-linter
check: install-dev
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/check

## test: install everything, run the checks, then every test — two at a time (pytest-xdist; a test file stays on
## one worker, so a file's fixtures and its Redis database are its own). `make test PYTEST_ARGS=` runs them one by one.
PYTEST_ARGS ?= -n 2 --dist loadfile
test: install-dev
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache .hypothesis
