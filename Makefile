# Two commands set everything up on a fresh machine:
#   make demo   builds the shipped routine into build/
#   make test   runs the test suite
#   make fuzz   runs the front end's fuzzer long (100,000 inputs; FUZZ_INPUTS=N for another count)
# Each creates the virtual environment (.venv) itself.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
QIDSL := $(VENV)/bin/qidsl
STAMP := $(VENV)/.installed
ROUTINE := routines/rolling-the-hands-backwards.qi
# The VS Code extension's npm packages (vscode-tmgrammar-test tests its grammar).
NODE_STAMP := editors/vscode/node_modules/.installed

.PHONY: demo test venv bench fuzz clean editors

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

$(NODE_STAMP): editors/vscode/package.json editors/vscode/package-lock.json
	.ci/system-deps
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

editors: $(NODE_STAMP)

demo: $(STAMP)
	$(QIDSL) check $(ROUTINE)
	$(QIDSL) plan $(ROUTINE)
	$(QIDSL) build $(ROUTINE)

test: $(STAMP) $(NODE_STAMP)
	@.ci/system-deps
	$(PY) -m pytest -q

FUZZ_INPUTS ?= 100000

fuzz: $(STAMP)
	$(PY) tests/fuzz.py $(FUZZ_INPUTS)

bench: $(STAMP)
	$(PY) benchmarks/check_speed.py
	$(PY) benchmarks/front_end_scaling.py
	$(PY) benchmarks/narration_speed.py
	$(PY) benchmarks/render_speed.py
	$(PY) benchmarks/incremental_build.py
	$(PY) benchmarks/watch_speed.py
	$(PY) benchmarks/lsp_latency.py
	$(PY) benchmarks/voices.py
	-$(PY) benchmarks/estimate_error.py  # exits 1 when a routine's estimate is more than 2 % off

clean:
	rm -rf build
