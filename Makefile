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

# On a GPU machine (after `pip install -e '.[cuda12]'`), within BUDGET seconds, most valuable first: the full
# sweep (results/gpu/), the paper presets (results/gpu/paper/<study>/), the gradient, decoding and training
# benchmarks (results/bench/*_gpu.json), the device tests; results/bench/gpu_check_gpu.json after every step.
# DRY=1, or no GPU: print the plan, write nothing. COPY_TO=DIR: also copy the files there after every step.
BUDGET  ?= 720
COPY_TO ?=
gpu-check: $(STAMP)
	$(PY) -m experiments.gpu_check --budget $(BUDGET) $(if $(DRY),--dry-run) $(if $(COPY_TO),--copy-to $(COPY_TO))

# Mutation testing (mutmut; config in pyproject's [tool.mutmut]); not part of `make test`. CPU-heavy:
# MUTANTS picks mutant names by glob (default: stats.py and the claim functions), e.g.
# `make mutants MUTANTS='jaxrnn.models.train*'`; '' runs every configured module.
# MUTANT_JOBS mutants run at once (default: one a core).
MUTANTS ?= jaxrnn.stats.* jaxrnn.studies.*.claims.*
MUTANT_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
mutants: $(STAMP)
	nice -n 15 $(PY) -m mutmut run --max-children $(MUTANT_JOBS) $(MUTANTS); $(PY) -m mutmut results

report: $(STAMP)
	$(PY) -m jaxrnn.io.report results

clean-venv:
	rm -rf $(VENV)
