# The two commands of the README, and a few more. Each installs what is missing
# (Debian packages), builds, and runs.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
EPOCHS ?= 5
THREADS ?= 0

.PHONY: all deps build run test test-slow bench bench-deps clean format lint

all: build

deps:
	@scripts/install-deps.sh
	@scripts/install-python.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DBDL_PYTHON=ON -DPython_EXECUTABLE=$(CURDIR)/.venv/bin/python $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: LeNet-5 on Fashion-MNIST, test accuracy after every epoch.
run: build
	$(BUILD)/bdl train --model lenet5 --data fashion-mnist --epochs $(EPOCHS) --threads $(THREADS)

# Every test, through CTest, but the "slow" label (every torchvision model
# through PyTorch 2's exporters, about an hour on two cores): make test-slow.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

test-slow: build
	cd $(BUILD) && ctest --output-on-failure -L slow

bench-deps:
	@scripts/install-deps.sh --bench

# Side-by-side with PyTorch; see BENCHMARKS.md.
bench: bench-deps build
	bench/compare_train.sh
	/usr/bin/python3 bench/compare_zoo.py

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

# clang-format check, the parts' layering and clang-tidy (tools/lint/run.sh).
lint: build
	tools/lint/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
