# SPDX-License-Identifier: GPL-2.0
# dm-seal: build the kernel target and the userspace tools, install what they need, test.
#   make deps      install build/test dependencies from Debian (idempotent, quiet when done)
#   make           build dm-seal.ko for KVER (default: the pinned 6.1 kernel) and userspace
#   make kernels   build dm-seal.ko for both pinned kernels, warning-free at W=1
#   make check     deps + kernels + userspace + every test (native and in guests)
#   make lint      checkpatch --strict on the kernel code
#   make install   DESTDIR/PREFIX-aware install
include mk/kernels.env

BUILD   ?= $(CURDIR)/build
KVER    ?= $(KVER_6_1)
KDIR    ?= /usr/src/linux-headers-$(KVER)
KERNELS_ALL := $(KVER_6_1) $(KVER_6_12)
MAKEFLAGS += --no-print-directory

export SEAL_BUILD := $(BUILD)
# Test files run two at a time: most of a guest test is one busy vCPU, and there are two cores.
export JOBS ?= 2

.PHONY: all deps module kernels userspace check lint install clean

all: module userspace

deps:
	@mk/deps.sh

module:
	$(MAKE) -C kernel KDIR=$(KDIR) O=$(BUILD)/kernel/$(KVER)

kernels:
	@set -e; for k in $(KERNELS_ALL); do \
		$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$$k O=$(BUILD)/kernel/$$k W=1; \
	done

userspace:
	$(MAKE) -C userspace O=$(BUILD)/userspace

# Ordered steps, not prerequisites: deps must finish before anything compiles.
check:
	@mk/deps.sh
	@mkdir -p $(BUILD)
	@$(MAKE) kernels userspace >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@$(MAKE) -C tests/kernel >>$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@tests/run-tests

lint:
	$(MAKE) -C kernel lint

install: all
	$(MAKE) -C kernel install KDIR=$(KDIR) KVER=$(KVER) O=$(BUILD)/kernel/$(KVER)
	$(MAKE) -C userspace install O=$(BUILD)/userspace

clean:
	rm -rf $(BUILD)
