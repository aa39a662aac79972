# SPDX-License-Identifier: GPL-2.0
# dm-seal: build the kernel target and the userspace tools, install what they need, test.
#   make deps      install build/test dependencies from Debian (idempotent, quiet when done)
#   make           build dm-seal.ko for KVER (default: the pinned 6.1 kernel) and userspace
#   make kernels   build dm-seal.ko for both pinned kernels, warning-free at W=1
#   make check     deps + kernels + userspace + every test (native and in guests)
#   make stress    the long runs beyond make check's budget (tests/stress, tests/README.md)
#   make lint      checkpatch --strict on the kernel code
#   make install   DESTDIR/PREFIX-aware install (the module for the running kernel, or KVER=)
#   make deb       Debian packages dm-seal-dkms and sealctl into build/deb/ (mk/deb.sh)
#   make dkms-check   dkms.conf builds the module for both pinned kernels (scratch DKMS tree)
#   make demo      the whole story in guests with an emulated TPM, narrated (demo/run)
include mk/kernels.env

BUILD   ?= $(CURDIR)/build
KVER    ?= $(KVER_6_1)
KDIR    ?= /usr/src/linux-headers-$(KVER)
KERNELS_ALL := $(KVER_6_1) $(KVER_6_12)
MAKEFLAGS += --no-print-directory

export SEAL_BUILD := $(BUILD)
# Test files run two at a time: most of a guest test is one busy vCPU, and there are two cores.
export JOBS ?= 2

.PHONY: all deps module kernels userspace test-build check stress lint install \
	install-userspace install-dkms deb clean dkms-check

all: module userspace

deps:
	@mk/deps.sh

module:
	$(MAKE) -C kernel KDIR=$(KDIR) O=$(BUILD)/kernel/$(KVER)

# Also the test build whose cipher completes asynchronously (tests/kernel/seal-async-cipher.sh)
# and the bench-only build without a cipher, so that their W=1 checks run too.
kernels:
	@set -e; for k in $(KERNELS_ALL); do \
		$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$$k O=$(BUILD)/kernel/$$k W=1; \
		$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$$k O=$(BUILD)/test-async/kernel/$$k W=1 \
			SEAL_TEST_CIPHER=async; \
		$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$$k O=$(BUILD)/bench-null/kernel/$$k W=1 \
			SEAL_TEST_CIPHER=null; \
	done

userspace:
	$(MAKE) -C userspace O=$(BUILD)/userspace

# Ordered steps, not prerequisites: deps must finish before anything compiles.
test-build:
	@mk/deps.sh
	@mkdir -p $(BUILD)
	@$(MAKE) kernels userspace >$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@$(MAKE) -C tests/kernel >>$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }

check: test-build
	@tests/run-tests

# tests/stress (STRESS_PHASES, STRESS_REPEAT, STRESS_HOG): see tests/README.md.
stress: test-build
	@tests/stress

lint:
	$(MAKE) -C kernel lint

# make bench: seal against dm-crypt and the raw cipher in one guest, ratio tables, targets,
# build/bench/results.csv and Documentation/performance.md (bench/run has the knobs:
# BENCH_KERNEL=6.1|6.12 (6.12), BENCH_REPS (3), BENCH_RUNTIME, BENCH_QUICK=1 for a smoke run).
BENCH_KERNEL ?= 6.12
BENCH_KVER = $(if $(filter 6.1,$(BENCH_KERNEL)),$(KVER_6_1),$(KVER_6_12))
.PHONY: bench profile bench-module
bench: bench-module
	@BENCH_KERNEL=$(BENCH_KERNEL) bench/run

# Where the time goes (Documentation/performance-analysis.md); not part of make bench.
profile: bench-module
	@BENCH_KERNEL=$(BENCH_KERNEL) bench/profile

# The dependencies, and dm-seal.ko for the guest kernel of bench and profile (and the
# bench-only build without a cipher, for the overhead rows).
bench-module:
	@mk/deps.sh
	@mkdir -p $(BUILD)
	@$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$(BENCH_KVER) O=$(BUILD)/kernel/$(BENCH_KVER) \
		>$(BUILD)/bench-build.log 2>&1 || { cat $(BUILD)/bench-build.log; exit 1; }
	@$(MAKE) -C kernel KDIR=/usr/src/linux-headers-$(BENCH_KVER) SEAL_TEST_CIPHER=null \
		O=$(BUILD)/bench-null/kernel/$(BENCH_KVER) \
		>>$(BUILD)/bench-build.log 2>&1 || { cat $(BUILD)/bench-build.log; exit 1; }

# The module for the running kernel (or KVER=) into /lib/modules/KVER/updates, then
# install-userspace: sealctl and sealctl(8) under PREFIX (/usr), the token plugin into
# libcryptsetup's plugin directory and the dracut module into dracut's (both fixed paths: those
# programs look nowhere else), the documents into PREFIX/share/doc/dm-seal.
# install-dkms: the module's source as DKMS wants it, /usr/src/dm-seal-VERSION.
# debian/rules installs through install-userspace and install-dkms too.
PREFIX  ?= /usr
DOCDIR  ?= $(PREFIX)/share/doc/dm-seal
DOCS    := README.md Documentation/admin-guide.md Documentation/threat-model.md \
	Documentation/format.md Documentation/device-mapper/seal.rst \
	Documentation/sealctl-json.schema.json
VERSION := $(shell mk/version)
DKMSSRC := /usr/src/dm-seal-$(VERSION)
# `make install` without KVER= is for this machine: the running kernel, if its headers are here.
INSTALL_KVER := $(if $(filter file,$(origin KVER)),$(shell uname -r),$(KVER))
INSTALL_KDIR := $(firstword $(wildcard /usr/src/linux-headers-$(INSTALL_KVER) \
	/lib/modules/$(INSTALL_KVER)/build))

install:
	@test -n "$(INSTALL_KDIR)" || { echo "make install: no headers for kernel $(INSTALL_KVER):" \
		"apt install linux-headers-$(INSTALL_KVER), or pass KVER=<a kernel whose headers are" \
		"in /usr/src>, or use make deb (DKMS)" >&2; exit 1; }
	$(MAKE) module userspace KVER=$(INSTALL_KVER) KDIR=$(INSTALL_KDIR)
	$(MAKE) -C kernel install KDIR=$(INSTALL_KDIR) KVER=$(INSTALL_KVER) \
		O=$(BUILD)/kernel/$(INSTALL_KVER)
	$(MAKE) install-userspace

install-userspace:
	$(MAKE) -C userspace install O=$(BUILD)/userspace PREFIX=$(PREFIX)
	$(MAKE) -C dracut install
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/

install-dkms:
	install -d $(DESTDIR)$(DKMSSRC)/kernel
	install -m 0644 kernel/Kbuild kernel/Makefile kernel/*.c kernel/*.h $(DESTDIR)$(DKMSSRC)/kernel/
	sed '/^PACKAGE_VERSION=/s/#MODULE_VERSION#/$(VERSION)/' dkms.conf > $(DESTDIR)$(DKMSSRC)/dkms.conf

deb:
	@BUILD=$(BUILD) mk/deb.sh

dkms-check:
	@SEAL_ROOT=$(CURDIR) tests/build/dkms-build.sh

# make demo: the story in guests, narrated (demo/run installs the deps and builds first)
.PHONY: demo
demo:
	@demo/run

clean:
	rm -rf $(BUILD)
