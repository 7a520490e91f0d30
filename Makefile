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

.PHONY: demo test venv bench fuzz clean

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

FUZZ_INPUTS ?= 100000

fuzz: $(STAMP)
	$(PY) tests/fuzz.py $(FUZZ_INPUTS)

bench: $(STAMP)
	$(PY) benchmarks/check_speed.py
	$(PY) benchmarks/front_end_scaling.py
	$(PY) benchmarks/narration_speed.py
	$(PY) benchmarks/render_speed.py

clean:
	rm -rf build
