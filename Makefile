# Every target creates the virtualenv itself, so `make demo` / `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo bench lab eval heldout fuzz mutate e2e screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check lasso_notebook tests benchmarks tools
	$(PY) -m ruff format --check lasso_notebook tests benchmarks tools

demo: $(STAMP)
	$(PY) -m lasso_notebook.demo

bench: $(STAMP)
	$(PY) benchmarks/run.py

eval: $(STAMP)
	$(PY) -m lasso_notebook.server.eval

# Regenerates the held-out corpus (benchmarks/heldout/corpus/) from its seed; byte-identical runs.
heldout: $(STAMP)
	$(PY) -m benchmarks.heldout.generate

fuzz: $(STAMP)
	LASSO_HYPOTHESIS_PROFILE=fuzz LASSO_FUZZ_EXAMPLES=$${LASSO_FUZZ_EXAMPLES:-500} $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz_api.py tests/test_fuzz_magic.py tests/test_fuzz_requests.py

# Plants bugs in the reliability-critical code (tools/mutate.py lists it and the tests that
# must catch them) and prints the kill rate; about 35 min on 2 loaded cores (one group: --group).
mutate: $(STAMP)
	$(PY) tools/mutate.py

lab: $(STAMP)
	LASSO_ENGINE_PACE=$${LASSO_ENGINE_PACE:-0.2} $(VENV)/bin/jupyter lab notebooks/

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e -q

screenshots: $(STAMP)
	LASSO_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -q -k "magic_progress or file_input"

clean:
	rm -rf $(VENV) build dist .pytest_cache mutants
