# Everyday commands. `make demo` and `make test` install everything they need into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite runs on 3 pytest-xdist workers on 2 cores: much of a test's time is spent waiting on
# the child processes it starts (crawls, workers, redis, a browser), so a third worker fills the
# idle core time (measured: 4:52 on 2 workers, 4:17 on 3, 4:08 on 4, same CPU time). loadgroup:
# tests are spread one by one, except those marked xdist_group, which share one worker. A plain
# `pytest tests/test_x.py` runs in one process; `make test XDIST=` does the whole suite so.
XDIST ?= -n 3 --dist loadgroup

.PHONY: install demo test test-quick lint format bench bench-extraction bench-crawl bench-search bench-scale bench-distributed bench-warc serve clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install  ## crawl the bundled demo site into demo.db (never archive.db) and browse it
	$(BIN)/newsarchive demo --db demo.db

test: install lint  ## lint, then the whole test suite
	$(PY) -m pytest $(XDIST)

test-quick: install lint  ## lint, then the tests not marked slow (the quick loop)
	$(PY) -m pytest $(XDIST) -m 'not slow'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: install  ## browse the archive of your own crawls, archive.db
	$(BIN)/newsarchive serve

bench: bench-extraction bench-crawl bench-search

bench-extraction: install
	$(PY) -m bench.extraction

bench-crawl: install
	$(PY) -m bench.crawl

bench-search: install
	$(PY) -m bench.search

bench-scale: install
	$(PY) -m bench.scale

bench-warc: install
	$(PY) -m bench.warc

bench-distributed: install
	$(PY) -m bench.distributed

clean:  ## the tools and the demo's archive; never archive.db
	rm -rf $(VENV) .pytest_cache .ruff_cache demo.db demo.db-wal demo.db-shm demo.db.lock
