# jaxrnn: `make sweep` (all experiments -> results/), `make test`, `make bench`, `make gpu-check` (DRY=1: print only).
# Each target creates and reuses a local .venv; a fresh machine needs only python3.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
QUICK  ?=
ONLY   ?=
DRY    ?=

.PHONY: sweep test bench gpu-check report mutants clean-venv

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

# On a GPU machine (after `pip install -e '.[cuda12]'`): device tests, quick sweep, bench, paper presets;
# writes results/bench/gpu_check_gpu.json and *_gpu.json. Without a GPU, or with DRY=1, a checked dry run.
gpu-check: $(STAMP)
	$(PY) -m experiments.gpu_check $(if $(DRY),--dry-run)

# Mutation testing (mutmut; config in pyproject's [tool.mutmut]); not part of `make test`. CPU-heavy:
# MUTANTS picks mutant names by glob (default: stats.py and the claim functions), e.g.
# `make mutants MUTANTS='jaxrnn.models.train*'`; '' runs every configured module.
MUTANTS ?= jaxrnn.stats.* jaxrnn.studies.*.claims.*
mutants: $(STAMP)
	nice -n 15 $(PY) -m mutmut run --max-children 1 $(MUTANTS); $(PY) -m mutmut results

report: $(STAMP)
	$(PY) -m jaxrnn.io.report results

clean-venv:
	rm -rf $(VENV)
