# SPDX-License-Identifier: GPL-2.0
#
# The module, its tests, and the test matrix under QEMU.  `make help` lists
# the targets and variables: it prints the "## " comments of this file.

CACHE ?= /var/cache/mmapdemo
MATRIX ?= 6.12 6.16 6.17 6.18 6.19 7.0 7.1 previous newest debug
BUILD := $(CURDIR)/build
RESULTS := $(BUILD)/results
K := $(or $(KERNEL),$(KVER),newest)

# A kernel of your own (KDIR and/or KERNEL_IMAGE given) replaces the matrix.
OWN_KERNEL := $(filter command line environment,$(origin KDIR) $(origin KERNEL_IMAGE))
ifneq ($(KERNEL)$(KVER)$(OWN_KERNEL),)
MATRIX := $(K)
endif

# KERNEL=debug is not a Debian build but one from Debian's source:
# scripts/build-kernel with kernels/debug.config (KASAN, kmemleak, lockdep,
# DEBUG_VM, fault injection) on the newest series, or SERIES, and the
# patches: kernels/0001-localversion-mmapdemo.patch (the guest must show
# the "-mmapdemo" it adds), then PATCHES, yours, in order.
DEBUG_PATCHES := kernels/0001-localversion-mmapdemo.patch $(PATCHES)
DEBUG_VERSION_MARK := -mmapdemo
kernel_setup = $(if $(filter debug,$(1)),scripts/build-kernel --config kernels/debug.config \
	$(if $(SERIES),--series $(SERIES)) $(addprefix --patch ,$(DEBUG_PATCHES)),scripts/setup)

# Plain "make" (and "make modules", "make clean") is an ordinary out-of-tree
# Kbuild build against KDIR, by default the running kernel's build tree: no
# set-up, no chroot, no root.  Everything else uses the kit's set-up.
PLAIN_GOALS := all modules clean help

# The set-up this make works with: ROOT, SETUP_KVER, SETUP_KERNEL_IMAGE, KMODS
# and KSRC.  check runs scripts/setup itself, kernel by kernel, and gives its
# sub-makes the file of theirs in SETUP_MK; any other goal runs it here for
# KVER (default newest).  scripts/setup is quick when everything is cached.
ifneq ($(SETUP_MK),)
include $(SETUP_MK)
else ifneq ($(filter-out $(PLAIN_GOALS) check check-%,$(or $(MAKECMDGOALS),all)),)
$(shell CACHE='$(CACHE)' KVER='$(K)' $(call kernel_setup,$(K)) --env $(BUILD)/setup-$(K).mk >&2)
ifneq ($(.SHELLSTATUS),0)
$(error scripts/setup failed)
endif
include $(BUILD)/setup-$(K).mk
endif

ifneq ($(SETUP_KVER),)
KDIR ?= /usr/lib/modules/$(SETUP_KVER)/build
else
KDIR ?= /lib/modules/$(shell uname -r)/build
endif
KERNEL_IMAGE ?= $(SETUP_KERNEL_IMAGE)
KNAME := $(if $(OWN_KERNEL),own-kernel,$(SETUP_KVER))
OUT := $(BUILD)/$(KNAME)

# overlay.ko and the like fit only the Debian kernel they came with; the
# guest must run the kernel set-up named.  A kernel of build-kernel's
# (KERNEL_PATCHES set) has KASAN's shadow to fit and runs slower.
ifeq ($(KERNEL_IMAGE),$(SETUP_KERNEL_IMAGE))
VMRUN_KMODS := $(addprefix --kmod ,$(KMODS)) --expect-version $(SETUP_KVER)
endif
ifneq ($(filter KERNEL_PATCHES,$(.VARIABLES)),)
VMRUN_KMODS += --memory 1024 --timeout 3000 $(if $(filter \
	kernels/0001-localversion-mmapdemo.patch,$(KERNEL_PATCHES)),--expect-version $(DEBUG_VERSION_MARK))
endif
# docs/example's modules, built by the same Kbuild run, go to OUT/example;
# vm-run puts that directory at /extra/example (userspace-tests/example.c).
VMRUN := scripts/vm-run --kernel $(KERNEL_IMAGE) --module $(OUT)/mmapdemo.ko \
	$(VMRUN_KMODS) --add $(OUT)/example
CHROOT := scripts/in-chroot $(ROOT) --bind $(CURDIR) --bind $(KSRC) \
	$(if $(wildcard $(KDIR)/Makefile),--bind $(KDIR)) --cd $(CURDIR) --

TEST_CFLAGS := -static -O2 -g -Wall -Wextra -Wno-sign-compare -Werror -D_GNU_SOURCE \
	-I driver/uapi -I $(KSRC)/tools/testing/selftests
TEST_LIB := userspace-tests/vma.c userspace-tests/scenario.c userspace-tests/fuse_server.c \
	userspace-tests/kbugs.c userspace-tests/ledger.c
TEST_PROGS := $(filter-out $(TEST_LIB),$(wildcard userspace-tests/*.c))
TEST_BINS := $(patsubst userspace-tests/%.c,$(BUILD)/tests/%,$(TEST_PROGS))

.PHONY: all modules kit module tests check check-kernels check-locked check-run check-tests check-lint check-lint-run check-bug-table \
	check-kernel demo readme failnth-md lint install dkms-check clean help
all: modules ## build mmapdemo.ko against KDIR (default: the running kernel), plain Kbuild
modules: ## the same
	@test -f $(KDIR)/Makefile || { echo "make: no kernel build tree in KDIR=$(KDIR):" \
		"install its headers (linux-headers-$$(uname -r)) or pass KDIR=" >&2; exit 2; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
kit: module tests ## the module for KVER (default newest) and the tests, in the trixie chroot

# $(eval $(call stamp,FILE,TEXT)): FILE holds TEXT, and is rewritten (so
# newer than what depends on it) only when TEXT changes: a command, a list
# of files.
define stamp
ifneq ($$(file <$(1)),$(2))
$$(shell mkdir -p $(dir $(1)))
$$(file >$(1),$(2))
endif
endef

# The module of each kernel is built out of the source tree, in OUT/src: a
# copy of what Kbuild reads, mtimes kept, so that Kbuild sees what changed;
# driver/conftest.h, its compile probes' answers, is generated there too.
# Kbuild takes seconds even with nothing to do (the probes rerun), so make
# calls it only when a source, the kernel's build tree or the stamp of the
# command and the list of sources is newer than the module.
module_sources = $(shell cd $(1) 2>/dev/null && find Kbuild driver docs/example -type f \
	\( -name Kbuild -o -name Makefile -o -name '*.[ch]' -o -name '*.sh' \) \
	! -name '*.mod.c' ! -path driver/conftest.h 2>/dev/null | LC_ALL=C sort)
MODULE_SRCS := $(call module_sources,.)
KOBJ := $(OUT)/src
KBUILD := make -C $(KDIR) M=$(KOBJ) W=1
ifneq ($(ROOT),)
$(eval $(call stamp,$(OUT)/kbuild.stamp,$(ROOT) $(KBUILD) $(MODULE_SRCS)))
endif

module: $(OUT)/mmapdemo.ko ## the module alone, in build/KVER/
$(OUT)/mmapdemo.ko: $(MODULE_SRCS) $(OUT)/kbuild.stamp \
		$(wildcard $(KDIR)/.config $(KDIR)/Module.symvers)
	@mkdir -p $(KOBJ)
	@rm -f $(addprefix $(KOBJ)/,$(filter-out $(MODULE_SRCS),$(call module_sources,$(KOBJ))))
	@cp -a --parents $(MODULE_SRCS) $(KOBJ)/
	$(CHROOT) $(KBUILD) modules
	rm -rf $(OUT)/example && mkdir -p $(OUT)/example && \
		cp $(KOBJ)/docs/example/*.ko $(OUT)/example/
	cp $(KOBJ)/mmapdemo.ko $@

tests: $(TEST_BINS) $(BUILD)/tests/run-all ## the test programs alone
$(BUILD)/tests/%: userspace-tests/%.c $(TEST_LIB) $(wildcard userspace-tests/*.h) driver/uapi/mmapdemo.h
	@mkdir -p $(@D)
	$(CHROOT) gcc-14 $(TEST_CFLAGS) -o $@ $(filter %.c,$^)
$(BUILD)/tests/run-all: userspace-tests/run-all
	@mkdir -p $(@D)
	install -m 755 $< $@

# scripts/lint runs Kbuild's clean in the tree it lives in, and that clean
# deletes every object file below the tree, build/*/src included.  So lint
# runs in a copy, build/lint, of every file of the tree that git does not
# ignore; git, given the repository, still lists the files to check as it
# would in place.
LINT_FILES = $(wildcard $(shell git ls-files -co --exclude-standard 2>/dev/null || \
	find . -path ./build -prune -o -path ./.git -prune -o -type f -print | cut -c3-))
LINT_GIT = $(if $(GIT_TOP),GIT_DIR=$(GIT_TOP) GIT_WORK_TREE=$(BUILD)/lint,GIT_CEILING_DIRECTORIES=$(BUILD))
GIT_TOP = $(shell git rev-parse --absolute-git-dir 2>/dev/null)
LINT = rm -rf $(BUILD)/lint && mkdir -p $(BUILD)/lint && \
	cp -a --parents $(LINT_FILES) $(BUILD)/lint/ && \
	$(LINT_GIT) $(BUILD)/lint/scripts/lint --root $(ROOT) --ksrc $(KSRC) --kdir $(KDIR)

lint: ## checkpatch --strict, sparse (C=2), W=1, shellcheck
	@$(LINT)

# make check reuses the log of a lint that passed (a failure always runs
# again) while nothing lint reads has changed: the files of the tree, the
# command (chroot, kernel, KSRC) and the driver files git tracks.  Lint
# takes half a minute, the builds of the newest kernel twice over.
ifneq ($(filter check-lint-run,$(MAKECMDGOALS)),)
$(eval $(call stamp,$(BUILD)/lint.stamp,$(LINT) $(shell git ls-files 'driver/*.[ch]' 2>/dev/null)))
endif
$(BUILD)/lint.log: $(LINT_FILES) $(BUILD)/lint.stamp
	@$(LINT) >$@ 2>&1 || { rm -f $(BUILD)/lint.stamp; exit 1; }

# make check, in three steps:
# 1. check-setup-ALIAS, one at a time (they take a lock anyway), for each
#    kernel of MATRIX and KVER (lint's kernel; default newest).  Each kernel
#    to run gets a line "NAME ALIAS" in RESULTS/kernels (NAME: its ABI, or
#    own-kernel) and counts as one failure until it has run.  A kernel whose
#    set-up fails gets "ALIAS -" and its count at once: a skip if set-up
#    says it is not available (status 3), else a failure.
# 2. check-run: lint and each kernel's build and boot, CHECK_JOBS at a time
#    (a guest under TCG keeps one CPU busy); each prints its output as one
#    block when done.
# 3. a line per kernel, and the totals.
# One make check at a time in a tree: a second one waits for the first.
CHECK_SETUPS := $(MATRIX) $(filter-out $(MATRIX),$(K))
CHECK_JOBS ?= 2
check: ## lint, then for each kernel of MATRIX: build, boot under QEMU,
##                 run the test suite; a line per kernel, then the totals
	@mkdir -p $(BUILD) && exec 9>$(BUILD)/.check.lock && \
	{ flock -n 9 || { echo "check: waiting for the make check running in $(CURDIR)"; \
			  flock 9; }; } && \
	rm -f $(BUILD)/.check.status && \
	$(MAKE) --no-print-directory check-locked 9>&- && \
	exit "$$(cat $(BUILD)/.check.status)"

# make check-kernels, an opt-in lane (not in MATRIX): make check on
# Debian's older point releases that trixie-backports still lists (or
# scripts/kernels.lock pins), so that the kernel-bug detectors show each
# stable fix arriving in its update (scripts/setup: KVER=7.2.6 and such).
KERNELS_LANE ?= 7.0.4 7.1.3 7.2.6 7.2.9 7.2.11 7.2.12
check-kernels: ##  make check on the point releases of KERNELS_LANE (opt-in)
	@$(MAKE) --no-print-directory check MATRIX='$(KERNELS_LANE)'
check-locked:
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS) && : >$(RESULTS)/kernels
	@echo "0 1 0 lint" >$(RESULTS)/lint.counts
	@$(MAKE) --no-print-directory -j1 $(addprefix check-setup-,$(CHECK_SETUPS))
	@$(MAKE) --no-print-directory -k -j$(CHECK_JOBS) -Otarget check-run || true
	@$(MAKE) --no-print-directory check-bug-table
	@scripts/ktap-summary --total $(RESULTS)/lint.counts \
		$$(awk '{ print "$(RESULTS)/" $$1 ".counts" }' $(RESULTS)/kernels); \
	echo $$? >$(BUILD)/.check.status

check-setup-%:
	@{ CACHE='$(CACHE)' KVER='$*' $(call kernel_setup,$*) --env $(BUILD)/setup-$*.mk 2>&1; \
	  echo $$? >$(RESULTS)/setup-$*.rc; } | tee $(RESULTS)/setup-$*.log >&2
	@rc=$$(cat $(RESULTS)/setup-$*.rc); \
	if [ "$$rc" = 0 ]; then \
		name=$(if $(OWN_KERNEL),own-kernel,$$(sed -n 's/^SETUP_KVER := //p' $(BUILD)/setup-$*.mk)); \
		if [ -z "$(filter $*,$(MATRIX))" ]; then :; \
		elif grep -q "^$$name " $(RESULTS)/kernels; then \
			echo "check: $* is $$name, already in the matrix"; \
		else \
			echo "$$name $*" >>$(RESULTS)/kernels; \
			echo "0 1 0 $$name" >"$(RESULTS)/$$name.counts"; \
		fi; \
	else \
		if [ "$$rc" = 3 ]; then \
			why=$$(sed -n 's/^setup: not available: //p' $(RESULTS)/setup-$*.log | tail -n 1); \
			echo "not ok - $*: not available ($$why) # SKIP"; \
		else \
			echo "not ok - $*: set-up failed (status $$rc, log: $(RESULTS)/setup-$*.log)"; \
		fi >$(RESULTS)/$*.checks; \
		[ -z "$(filter $*,$(K))" ] || \
			echo "not ok - lint: no set-up for $*" >$(RESULTS)/lint.checks; \
		if [ -n "$(filter $*,$(MATRIX))" ]; then \
			echo "$* -" >>$(RESULTS)/kernels; \
			scripts/ktap-summary --label $* --save $(RESULTS)/$*.counts \
				$(RESULTS)/$*.checks || true; \
		fi; \
	fi

# The table kernel x bug of the kernels that ran (scripts/bug-table), kept
# in build/kernel-bugs.md for make readme.
check-bug-table:
	@logs=$$(awk '$$2 != "-" { print "$(BUILD)/" $$1 "/vm/output.log" }' $(RESULTS)/kernels | \
		while read -r l; do [ ! -f "$$l" ] || echo "$$l"; done); \
	if [ -n "$$logs" ]; then \
		{ echo "_Generated by \`make check\` on $$(date -u +%F), mmapdemo $$(git describe --always --dirty 2>/dev/null); kernels/kernel-bugs.tsv holds the expectations._"; \
		  echo; scripts/bug-table --findings $$logs; } >$(BUILD)/kernel-bugs.md; \
		echo; echo "Kernel bugs, measured (kernels/kernel-bugs.tsv: what a pinned release must show):"; \
		sed 1,2d $(BUILD)/kernel-bugs.md; echo; \
	fi

# The sub-make of step 2.  The tests are built once, with the set-up of
# lint's kernel if it has one, else that of the first kernel to run.
ifneq ($(filter check-run,$(MAKECMDGOALS)),)
CHECK_KERNELS := $(shell awk '$$2 != "-" { print $$2 }' $(RESULTS)/kernels)
CHECK_OK := $(foreach a,$(CHECK_SETUPS),$(if $(filter 0,$(file <$(RESULTS)/setup-$(a).rc)),$(a)))
CHECK_BASE := $(firstword $(filter $(K),$(CHECK_OK)) $(CHECK_KERNELS))
endif
check-run: check-lint $(addprefix check-kernel-,$(CHECK_KERNELS))
check-tests:
	@$(MAKE) --no-print-directory tests SETUP_MK=$(BUILD)/setup-$(CHECK_BASE).mk \
		>$(RESULTS)/tests.log 2>&1 || \
		{ tail -n 30 $(RESULTS)/tests.log; echo "check: building the tests failed"; exit 1; }
check-kernel-%: check-tests
	@$(MAKE) --no-print-directory check-kernel SETUP_MK=$(BUILD)/setup-$*.mk

check-lint:
	@if [ -f $(RESULTS)/lint.checks ]; then \
		scripts/ktap-summary --label lint --save $(RESULTS)/lint.counts \
			$(RESULTS)/lint.checks; \
	else \
		$(MAKE) --no-print-directory check-lint-run SETUP_MK=$(BUILD)/setup-$(K).mk; \
	fi || true
check-lint-run:
	@if $(MAKE) -q $(BUILD)/lint.log; then \
		echo "lint: nothing it reads has changed since it passed; its result:"; \
		grep -E '^(not )?ok ' $(BUILD)/lint.log; \
	fi; \
	$(MAKE) -s $(BUILD)/lint.log >/dev/null 2>&1; rc=$$?; \
	cp $(BUILD)/lint.log $(RESULTS)/lint.log; \
	scripts/ktap-summary --label lint --save $(RESULTS)/lint.counts \
		--status $$rc $(RESULTS)/lint.log || true

# One kernel: build (a failure counts as one failed test), boot, count.
check-kernel:
	@{ echo "# $(KNAME)"; \
	if $(MAKE) --no-print-directory $(OUT)/mmapdemo.ko \
		>$(RESULTS)/$(KNAME).build.log 2>&1; then \
		$(VMRUN) --out $(OUT)/vm $(VMRUN_FLAGS) -- /tests/run-all; rc=$$?; \
		scripts/bug-table --check $(OUT)/vm/output.log >>$(OUT)/vm/checks; \
		scripts/ktap-summary --label $(KNAME) --save $(RESULTS)/$(KNAME).counts \
			--status $$rc $(OUT)/vm/output.log $(OUT)/vm/checks; \
	else \
		tail -n 30 $(RESULTS)/$(KNAME).build.log; \
		echo "not ok - $(KNAME): module build failed" >$(RESULTS)/$(KNAME).checks; \
		scripts/ktap-summary --label $(KNAME) --save $(RESULTS)/$(KNAME).counts \
			$(RESULTS)/$(KNAME).checks; \
	fi; } >$(RESULTS)/$(KNAME).out 2>&1; \
	cat $(RESULTS)/$(KNAME).out

demo: kit ## boot the kernel under QEMU and print the twins side by side
	@$(VMRUN) --out $(OUT)/demo $(VMRUN_FLAGS) -- /tests/demo
	@{ echo "_Generated by \`make demo\` on $$(date -u +%F), kernel $(KNAME) under QEMU, mmapdemo $$(git describe --always --dirty 2>/dev/null)._"; \
	  echo; tr -d '\r' <$(OUT)/demo/output.log; } >$(BUILD)/demo.txt
	@echo "demo: tables saved in $(BUILD)/demo.txt"

# Copy the tables of the last real demo run into README.md, the
# per-generation table made from the logs of the last make check, and the
# fail-nth table from FAILNTH_LOG, the guest log of a kernel that has
# CONFIG_FAULT_INJECTION (a make check of the debug kernel), if it has one.
FAILNTH_LOG ?= $(firstword $(wildcard $(BUILD)/*-mmapdemo-debug/vm/output.log) $(BUILD)/own-kernel/vm/output.log)
API_LOGS = $(filter-out $(BUILD)/6.12.%,$(sort $(wildcard $(BUILD)/*+deb*/vm/output.log)))
readme: demo ## make demo, then copy its tables, the last make check's API table and
##                 the fail-nth table of FAILNTH_LOG (if it has one) into README.md
	scripts/readme-table demo $(BUILD)/demo.txt
	@{ echo "_Generated by \`make readme\` from the \`make check\` of $$(date -u -r $(firstword $(API_LOGS)) +%F), mmapdemo $$(git describe --always --dirty 2>/dev/null)._"; \
	  echo; scripts/api-table $(foreach l,$(API_LOGS),$(word 1,$(subst ., ,$(notdir $(l:/vm/output.log=)))).$(word 2,$(subst ., ,$(notdir $(l:/vm/output.log=))))=$(l)); \
	} >$(BUILD)/api.txt
	scripts/readme-table api $(BUILD)/api.txt
	if [ -f $(BUILD)/bench/readme.md ]; then scripts/readme-table bench $(BUILD)/bench/readme.md; fi
	if [ -f $(BUILD)/kernel-bugs.md ] && grep -q '^<!-- kernel-bugs:begin -->' README.md; then \
		scripts/readme-table kernel-bugs $(BUILD)/kernel-bugs.md; fi
	@$(MAKE) --no-print-directory failnth-md

failnth-md: ## only the fail-nth table of FAILNTH_LOG into README.md (no demo)
	@if grep -qs '# failnth: ' $(FAILNTH_LOG); then \
		{ echo "_Generated by \`make failnth-md\` from $(patsubst $(CURDIR)/%,%,$(FAILNTH_LOG)) of $$(date -u -r $(FAILNTH_LOG) +%F) (userspace-tests/failnth.c on the debug kernel), mmapdemo $$(git describe --always --dirty 2>/dev/null)._"; \
		  echo; scripts/failnth-table $(FAILNTH_LOG); } >$(BUILD)/failnth.txt && \
		scripts/readme-table failnth $(BUILD)/failnth.txt; \
	else echo "readme: no fail-nth sweep in $(FAILNTH_LOG) (a debug kernel's make check); its table stays"; fi

# make stress: userspace-tests/stress.c alone, far longer than in make
# check and with a new seed each time (STRESS_SEED to replay one; a failing
# step prints the whole command).  STRESS_VARIANT: chardev or fs only;
# STRESS_TRACE=1 prints every step.
.PHONY: stress
STRESS_STEPS ?= 50000
stress: kit ## differential stress of the twins: STRESS_STEPS (default 50000) per
##                 variant, a new seed unless STRESS_SEED; see userspace-tests/stress.c
	@seed='$(STRESS_SEED)'; \
	[ -n "$$seed" ] || seed=0x$$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n'); \
	echo "stress: seed $$seed, $(STRESS_STEPS) steps per variant, kernel $(KNAME)"; \
	$(VMRUN) --out $(OUT)/stress --timeout $$((600 + $(STRESS_STEPS) / 10)) $(VMRUN_FLAGS) -- \
		env STRESS_SEED=$$seed STRESS_STEPS=$(STRESS_STEPS) STRESS_TRACE=$(or $(STRESS_TRACE),0) \
		/tests/stress $(if $(STRESS_VARIANT),-r stress.$(STRESS_VARIANT).differential)

# make bench: userspace-tests/bench.c in the guest of each kernel of
# BENCH_KERNELS (default: the newest and 6.18; MATRIX= or KVER= choose
# others), one after the other - two guests at a time would time each
# other - with the module loaded with pages=1024; BENCH_ARGS go to bench
# (-r ROUNDS, -s ops|count|maps).  Then scripts/bench-report writes
# build/bench/KVER.md, the plots build/bench/KVER-*.svg (gnuplot, installed
# with apt when missing) and build/bench/readme.md, the first two kernels
# side by side, which make readme copies into README.md.
.PHONY: bench bench-kernel
BENCH_KERNELS := $(if $(filter command line environment,$(origin MATRIX)),$(MATRIX),$(if \
	$(KVER)$(OWN_KERNEL),$(K),newest 6.18))
bench: ## time the twins against each other and the kernel's floors on
##                 BENCH_KERNELS (default newest 6.18); tables and plots in build/bench/
	@mkdir -p $(BUILD)/bench && rm -f $(BUILD)/bench/logs
	@v=$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	for k in $(BENCH_KERNELS); do \
		$(MAKE) --no-print-directory bench-kernel KVER=$$k || exit 1; \
	done; \
	scripts/bench-report --out $(BUILD)/bench --version "$$v" $$(cat $(BUILD)/bench/logs)
bench-kernel: kit
	$(VMRUN) --out $(OUT)/bench --module-args pages=1024 $(VMRUN_FLAGS) -- \
		/tests/bench $(BENCH_ARGS)
	@echo $(OUT)/bench/output.log >>$(BUILD)/bench/logs

# modules_install runs in the chroot (the kernel's kbuild tools need it),
# into a staging tree.  With INSTALL_MOD_PATH that tree is copied there
# whole, as modules_install would do; without it only the module goes into
# this system's /lib/modules/KVER/updates, and depmod runs if this system
# has that kernel.
install: $(OUT)/mmapdemo.ko ## modules_install (honours INSTALL_MOD_PATH) and the udev rule
	rm -rf $(BUILD)/install && mkdir -p $(BUILD)/install
	$(CHROOT) $(KBUILD) INSTALL_MOD_PATH=$(BUILD)/install modules_install
ifneq ($(INSTALL_MOD_PATH),)
	mkdir -p $(INSTALL_MOD_PATH) && cp -a $(BUILD)/install/. $(INSTALL_MOD_PATH)/
else
	install -D -m 644 -t /lib/modules/$(SETUP_KVER)/updates \
		$(BUILD)/install/lib/modules/$(SETUP_KVER)/updates/mmapdemo.ko*
	if [ -e /lib/modules/$(SETUP_KVER)/modules.dep ]; then depmod $(SETUP_KVER); \
	else echo "install: kernel $(SETUP_KVER) is not installed here; run depmod $(SETUP_KVER) once it is"; fi
endif
	install -D -m 644 udev/70-mmapdemo.rules \
		$(INSTALL_MOD_PATH)/usr/lib/udev/rules.d/70-mmapdemo.rules

# dkms for two kernels: the newest 7.x and the series before it.
dkms-check: ## dkms add/build/install in the chroot for two kernels
	@CACHE='$(CACHE)' KVER=previous scripts/setup --env $(BUILD)/setup-previous.mk
	@scripts/dkms-check --root $(ROOT) --kernels \
		"$(SETUP_KVER) $$(sed -n 's/^SETUP_KVER := //p' $(BUILD)/setup-previous.mk)"

clean: ## remove build/ and what an in-tree Kbuild build leaves
	rm -rf $(BUILD) *.ko *.o *.mod *.mod.c .*.cmd modules.order \
		Module.symvers .module-common.o driver/*.o driver/.*.cmd \
		driver/conftest.h

## Variables: CACHE (default /var/cache/mmapdemo); MATRIX (default: 6.12 6.16
## 6.17 6.18 6.19 7.0 7.1 previous newest debug); KVER or KERNEL (one kernel:
## an ABI such as 7.3.4+deb13-amd64 or an alias: newest, previous, a series
## such as 6.12, or debug: built from Debian's source by scripts/build-kernel
## with kernels/debug.config, of SERIES (default the newest) with PATCHES);
## KDIR and KERNEL_IMAGE (your own kernel: a prepared build tree and its
## bzImage); VMRUN_FLAGS (passed to vm-run); CHECK_JOBS (kernels that check
## builds and boots at a time, default 2).
help: ## this text
	@awk '/^[a-z][a-z-]*:.* ## / { t = $$0; sub(/:.*/, "", t); \
		sub(/^[^#]* ## /, ""); printf "make %-11s%s\n", t, $$0; next } \
		/^## / { print substr($$0, 4) }' $(firstword $(MAKEFILE_LIST))
