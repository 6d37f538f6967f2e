# Everyday commands. `make demo` and `make test` install everything they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench bench-extraction bench-crawl bench-search bench-distributed serve clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## crawl the bundled demo site into archive.db and browse it in datasette
	$(BIN)/newsarchive demo

test: install lint  ## lint, then the whole test suite
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: install
	$(BIN)/newsarchive serve

bench: bench-extraction bench-crawl bench-search

bench-extraction: install
	$(PY) -m bench.extraction

bench-crawl: install
	$(PY) -m bench.crawl

bench-search: install
	$(PY) -m bench.search

bench-distributed: install
	$(PY) -m bench.distributed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
