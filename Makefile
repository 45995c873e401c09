# The two commands a newcomer needs:  `make run`  and  `make test`.
# Both create .venv in the project root and install what they need.

PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed
SSW_ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test lint venv conformance clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

## Start the whole switch on embedded defaults (SQLite and files under ./data).
run: $(STAMP)
	$(VENV)/bin/ssw run --data-dir ./data $(SSW_ARGS)

## Run the whole test suite (installs SIPp, baresip, SoftHSM, ... from Debian when missing).
## Two workers; --dist loadfile keeps a file on one worker (the QA lanes share one fixture).
test: $(STAMP)
	bash scripts/test-setup.sh
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2 --dist loadfile $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

## Run every group of Eltex's ECSS-10 QA suite and regenerate docs/CONFORMANCE.md (~30 min).
conformance: $(STAMP)
	bash scripts/test-setup.sh
	$(VENV)/bin/python -m ssw.qa --suite ../shared/conformance/ecss-qa --all --lanes 2 \
		--report docs/CONFORMANCE.md

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
