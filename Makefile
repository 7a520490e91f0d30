# Two commands set everything up on a fresh machine:
#   make demo   installs qidsl (what it needs to run, no more) and builds the shipped routine into build/
#   make test   adds the test tools and runs the test suite
#   make fuzz   runs the front end's fuzzer long (100,000 inputs; FUZZ_INPUTS=N for another count)
# Each creates the virtual environment (.venv) itself.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
QIDSL := $(VENV)/bin/qidsl
# Two stamps: the runtime (what `make demo` needs) and, on top of it, the test extra.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# setuptools announces every editable install with a banner; a new user needs none of it.
QUIET_PIP := PYTHONWARNINGS='ignore:Editable installation' $(PY) -m pip install --quiet --disable-pip-version-check
ROUTINE := routines/rolling-the-hands-backwards.qi
DEMO_OUT := build/$(basename $(notdir $(ROUTINE)))
# The VS Code extension's npm packages (vscode-tmgrammar-test tests its grammar).
NODE_STAMP := editors/vscode/node_modules/.installed

.PHONY: demo test lint venv bench fuzz clean editors

$(STAMP): pyproject.toml
	@echo "Installing qidsl into $(VENV) (a minute or two, once)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(QUIET_PIP) --upgrade pip
	@$(QUIET_PIP) -e .
	@# An editable install compiles no bytecode (a wheel's does): without it, and with
	@# PYTHONDONTWRITEBYTECODE set, every qidsl command would compile qidsl first (40 ms of a 0.13 s check).
	@$(PY) -m compileall -q qidsl
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(QUIET_PIP) -e '.[test]'
	touch $(TEST_STAMP)

venv: $(TEST_STAMP)

$(NODE_STAMP): editors/vscode/package.json editors/vscode/package-lock.json
	.ci/system-deps
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

editors: $(NODE_STAMP)

demo: $(STAMP)
	$(QIDSL) check $(ROUTINE)
	$(QIDSL) plan $(ROUTINE)
	$(QIDSL) build $(ROUTINE)
	@echo
	@echo "Done. Next:"
	@echo "  practise: open $(DEMO_OUT)/$(notdir $(DEMO_OUT)).html in a browser (it plays from the disk)"
	@echo "  publish:  upload $(DEMO_OUT)/$(notdir $(DEMO_OUT)).mp4 (the video) or .mp3 (the audio)"
	@echo "  your own: source $(VENV)/bin/activate, then qidsl check my-routine.qi and qidsl build my-routine.qi"

# ruff and mypy first: a lint or type error fails `make test` in seconds, not after the suite.
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check qidsl tests benchmarks
	$(VENV)/bin/mypy

test: lint $(TEST_STAMP) $(NODE_STAMP)
	@.ci/system-deps
	$(PY) -m pytest -q

FUZZ_INPUTS ?= 100000

fuzz: $(TEST_STAMP)
	$(PY) tests/fuzz.py $(FUZZ_INPUTS)

bench: $(TEST_STAMP)
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
