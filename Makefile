# mevops: two commands do all set-up on a fresh machine.
#   make demo   installs mevops into .venv and runs `mevops demo`
#   make test   installs mevops + dev tools into .venv and runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mevops demo

test: $(STAMP)
	PYTHON=$(BIN)/python scripts/install-test-tools
	PATH="$(CURDIR)/.tools/bin:$(PATH)" $(BIN)/python -m pytest -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .tools build *.egg-info
