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

.PHONY: demo test venv bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(QIDSL) check $(ROUTINE)
	$(QIDSL) plan $(ROUTINE)
	$(QIDSL) build $(ROUTINE)

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/check_speed.py
	$(PY) benchmarks/narration_speed.py
	$(PY) benchmarks/render_speed.py
	$(PY) benchmarks/voices.py
	-$(PY) benchmarks/estimate_error.py  # exits 1 when a routine's estimate is more than 2 % off

clean:
	rm -rf build
