# Two commands set everything up on a fresh machine:
#   make demo   builds the shipped routine into build/
#   make test   runs the test suite
# Both create the virtual environment (.venv) themselves.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
QIDSL := $(VENV)/bin/qidsl
STAMP := $(VENV)/.installed
ROUTINE := routines/rolling-the-hands-backwards.qi
# The VS Code extension's npm packages (vscode-tmgrammar-test tests its grammar).
NODE_STAMP := editors/vscode/node_modules/.installed

.PHONY: demo test venv bench clean editors

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

$(NODE_STAMP): editors/vscode/package.json editors/vscode/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed to test the VS Code grammar (apt-get install npm)" >&2; exit 1; }
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

editors: $(NODE_STAMP)

demo: $(STAMP)
	$(QIDSL) check $(ROUTINE)
	$(QIDSL) plan $(ROUTINE)
	$(QIDSL) build $(ROUTINE)

test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/check_speed.py
	$(PY) benchmarks/narration_speed.py
	$(PY) benchmarks/render_speed.py
	$(PY) benchmarks/lsp_latency.py
	$(PY) benchmarks/voices.py
	-$(PY) benchmarks/estimate_error.py  # exits 1 when a routine's estimate is more than 2 % off

clean:
	rm -rf build
