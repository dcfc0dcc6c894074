# omov — the README's two commands are `make demo` and `make test`; each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.omov-installed
OUT    ?= out/demo
RULE   ?= ers97

.PHONY: setup demo test test-fast bench bench-small lint clean sample-data

# A private virtual environment: PyPI has unrelated `dedupe` and `issue` packages, so omov never
# shares an environment with them. Re-installs when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	@$(PY) -m omov.demo --sample sample_data --out $(OUT) --rule $(RULE)

test: setup
	@$(PY) -m pytest -q

test-fast: setup
	@$(PY) -m pytest -q -m "not slow"

bench: setup
	@$(PY) bench/run_all.py

sample-data: setup
	@$(PY) bench/generate.py --rows 3000 --seed 2026 --out sample_data

lint: setup
	@$(VENV)/bin/ruff check omov dedupe issue vote count tests bench
	@$(VENV)/bin/ruff format --check omov dedupe issue vote count tests bench
	@$(VENV)/bin/mypy omov dedupe issue vote count

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
