# jaxrnn: `make sweep` (all experiments -> results/), `make test`, `make bench`.
# Each target creates and reuses a local .venv; a fresh machine needs only python3.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
QUICK  ?=
ONLY   ?=

.PHONY: sweep test bench report clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

sweep: $(STAMP)
	$(PY) -m experiments.sweep $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m experiments.bench

report: $(STAMP)
	$(PY) -m jaxrnn.io.report results

clean-venv:
	rm -rf $(VENV)
