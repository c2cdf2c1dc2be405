# SPDX-License-Identifier: GPL-2.0
#
# The module, its tests, and the test matrix under QEMU.  `make help` lists
# the targets and variables: it prints the "## " comments of this file.

CACHE ?= /var/cache/mmapdemo
# The users' loop: Debian's own kernels.  The debug kernel (below) is a
# lane of its own, make check-debug: compiling it takes some 13 minutes of
# both cores on a cold cache, and its suite and fail-nth sweep as long again.
DEFAULT_MATRIX := 6.12 6.16 6.17 6.18 6.19 7.0 7.1 previous newest
MATRIX ?= $(DEFAULT_MATRIX)
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
PLAIN_GOALS := all modules clean help diagram

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
# acpi=noirq: there ACPI's PCI interrupt routing (the _PRT method, which
# examples/mmio_bar's probe of edu runs) is interpreted so slowly under TCG
# with KASAN that its While loop hits ACPICA's 30 s AE_AML_LOOP_TIMEOUT at
# every probe; the BIOS's $PIR table routes instead (edu needs no IRQ).
ifneq ($(filter KERNEL_PATCHES,$(.VARIABLES)),)
VMRUN_KMODS += --memory 1024 --timeout 3000 --append acpi=noirq $(if $(filter \
	kernels/0001-localversion-mmapdemo.patch,$(KERNEL_PATCHES)),--expect-version $(DEBUG_VERSION_MARK))
endif
# The example drivers' modules (examples/*), built by the same Kbuild run,
# go to OUT/example with examples.txt, the list of those built and not
# built (scripts/examples-built); vm-run puts that directory at
# /extra/example, where examples/*/test.c find them.
# QEMU's edu PCI device is the one whose BAR examples/mmio_bar maps.
# The busybox is this set-up's chroot's: vm-run's own default reads
# build/setup-newest.mk, which a tree that only ever ran KERNEL=debug has not.
VMRUN := scripts/vm-run --kernel $(KERNEL_IMAGE) --module $(OUT)/mmapdemo.ko \
	--busybox $(ROOT)/usr/bin/busybox $(VMRUN_KMODS) --add $(OUT)/example --device edu
# ccache in front of the compiler where scripts/build-kernel installed it
# in the chroot (/usr/lib/ccache holds its gcc-14 link, which PATH finds
# first), its cache keyed on what each compile reads: a fresh clone does
# not compile again what it did not change.  CCACHE_BASEDIR and
# CCACHE_NOHASHDIR: where the clone is does not count.
KBUILD_CCACHE := $(if $(and $(wildcard $(ROOT)/usr/bin/ccache),$(wildcard $(CACHE)/ccache)),env \
	PATH=/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin CCACHE_DIR=$(CACHE)/ccache \
	CCACHE_BASEDIR=$(CURDIR) CCACHE_NOHASHDIR=1)
# The compile probes' answers, kept by what decides them (Kbuild,
# driver/conftest.sh --cache): a build whose kernel and probes the cache
# has seen runs no probe.
PROBE_CACHE := $(CACHE)/probes
ifneq ($(ROOT),)
$(shell mkdir -p $(PROBE_CACHE))
endif
CHROOT := scripts/in-chroot $(ROOT) --bind $(CURDIR) --bind $(KSRC) \
	$(if $(wildcard $(KDIR)/Makefile),--bind $(KDIR)) \
	$(if $(KBUILD_CCACHE),--bind $(CACHE)/ccache) --bind $(PROBE_CACHE) --cd $(CURDIR) --

TEST_CFLAGS := -static -O2 -g -Wall -Wextra -Wno-sign-compare -Werror -D_GNU_SOURCE \
	-I driver/uapi -I $(KSRC)/tools/testing/selftests
TEST_LIB := userspace-tests/vma.c userspace-tests/scenario.c userspace-tests/fuse_server.c \
	userspace-tests/kbugs.c userspace-tests/ledger.c
TEST_PROGS := $(filter-out $(TEST_LIB),$(wildcard userspace-tests/*.c))
TEST_BINS := $(patsubst userspace-tests/%.c,$(BUILD)/tests/%,$(TEST_PROGS))
# Each example's own test, examples/NAME/test.c, as /tests/example-NAME: it
# stands alone (the kselftest harness only, no kit helper).
EXAMPLE_TESTS := $(wildcard examples/*/test.c)
EXAMPLE_CFLAGS := -static -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I $(KSRC)/tools/testing/selftests
TEST_BINS += $(patsubst examples/%/test.c,$(BUILD)/tests/example-%,$(EXAMPLE_TESTS))

.PHONY: all modules kit module tests check check-kernels check-debug check-locked check-run check-tests check-lint check-lint-run check-bug-table \
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
module_sources = $(shell cd $(1) 2>/dev/null && find Kbuild driver examples -type f \
	\( -name Kbuild -o -name Kbuild.inc -o -name Makefile -o -name '*.[ch]' -o -name '*.sh' \) \
	! -name '*.mod.c' ! -path driver/conftest.h ! -path 'examples/*/test.c' ! -path examples/example_test.h 2>/dev/null | LC_ALL=C sort)
MODULE_SRCS := $(call module_sources,.)
KOBJ := $(OUT)/src
KBUILD := $(KBUILD_CCACHE) make -C $(KDIR) M=$(KOBJ) W=1 MMAPDEMO_PROBE_CACHE=$(PROBE_CACHE)
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
		find $(KOBJ)/examples -name '*.ko' 2>/dev/null | \
		xargs -r cp -t $(OUT)/example/
	scripts/examples-built $(KOBJ) >$(OUT)/example/examples.txt
	cp $(KOBJ)/mmapdemo.ko $@

tests: $(TEST_BINS) $(BUILD)/tests/run-all ## the test programs alone
$(BUILD)/tests/%: userspace-tests/%.c $(TEST_LIB) $(wildcard userspace-tests/*.h) driver/uapi/mmapdemo.h
	@mkdir -p $(@D)
	$(CHROOT) gcc-14 $(TEST_CFLAGS) -o $@ $(filter %.c,$^)
$(BUILD)/tests/bench: examples/example_test.h
$(BUILD)/tests/example-%: examples/%/test.c $(wildcard examples/*.h)
	@mkdir -p $(@D)
	$(CHROOT) gcc-14 $(EXAMPLE_CFLAGS) -o $@ $<
$(BUILD)/tests/run-all: userspace-tests/run-all
	@mkdir -p $(@D)
	install -m 755 $< $@

# The example drivers: each one built alone, as a new user who copied its
# file would (scripts/examples-alone), against KVER; and the diagram of
# the order of a mapping, drawn from its text.
.PHONY: examples-alone diagram
examples-alone: $(OUT)/mmapdemo.ko ## build each example of KVER alone, W=1 and sparse, with a two-line Kbuild
	@scripts/examples-alone --root $(ROOT) --kver $(SETUP_KVER) --list $(OUT)/example/examples.txt
diagram: ## docs/mapping-order.svg from docs/mapping-order.txt
	@scripts/mapping-order docs/mapping-order.txt docs/mapping-order.svg

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
	$(LINT_GIT) $(BUILD)/lint/scripts/lint --root $(ROOT) --ksrc $(KSRC) --kdir $(KDIR) \
		--probe-cache $(PROBE_CACHE) $(if $(KBUILD_CCACHE),--ccache $(CACHE)/ccache)

lint: ## checkpatch --strict, sparse (C=2), W=1, shellcheck
	@$(LINT)

# make check reuses the log of a lint that passed (a failure always runs
# again) while nothing lint reads has changed: the files of the tree, the
# driver files git tracks (those checkpatch reads) and what it runs with
# (chroot, KSRC, kernel).  The log is kept in CACHE/lint under a hash of
# those, so a fresh clone of a tree that passed reuses it too; a tree
# that differs in one byte runs lint.
ifneq ($(filter check-lint-run,$(MAKECMDGOALS)),)
LINT_KEY := $(shell { echo $(ROOT) $(KSRC) $(KDIR); git ls-files 'driver/*.[ch]' 2>/dev/null; \
	sha256sum $(LINT_FILES); } | sha256sum | cut -c1-32)
endif
LINT_PASSED = $(CACHE)/lint/$(LINT_KEY).log

# make check, in four steps:
# 1. check-setup-ALIAS for each kernel of MATRIX and KVER (lint's kernel;
#    default newest): the Debian kernels one at a time (scripts/setup
#    takes CACHE/.lock anyway) and beside them the kernels build-kernel
#    builds (debug), so that a cold cache downloads the Debian kernels
#    while the debug kernel compiles.  Each kernel
#    to run gets a line "NAME ALIAS" in RESULTS/kernels (NAME: its ABI, or
#    own-kernel) and counts as one failure until it has run.  A kernel whose
#    set-up fails gets "ALIAS -" and its count at once: a skip if set-up
#    says it is not available (status 3), else a failure.
# 2. check-run: lint and each kernel's build and boot, CHECK_JOBS at a time
#    (a guest under TCG keeps one CPU busy); each prints its output as one
#    block when done, with its time.  A kernel of build-kernel's (the
#    debug kernel) runs its suite in lanes, CHECK_LANES, each a guest of
#    its own side by side: the fail-nth sweep with the other program of
#    error unwinding, CHECK_SWEEP (sweep), and the rest (suite), about
#    even on the debug kernel; they take longest, so they start first.
# 3. scripts/cache-prune (CACHE_PRUNE=no: not; dry: only says what it
#    would do): what a new key of this run replaced goes from CACHE, and
#    it says how much the cache keeps.  Steps 1 and 2 hold CACHE/.in-use
#    shared, so that no prune of another make check runs meanwhile.
# 4. every failed result line again (check: what failed:), the times of
#    the steps, a line per kernel with its times, the totals last.
# One make check at a time in a tree: a second one waits for the first.
CHECK_SETUPS := $(MATRIX) $(filter-out $(MATRIX),$(K))
# Where step 4 writes the run's times, for make readme: build/timing-KIND.md
# (KIND cold or warm) for the default MATRIX, build/timing-debug-KIND.md for
# make check-debug's lane, build/timing-matrix-KIND.md for any other.
CHECK_TIMING := $(if $(filter-out $(DEFAULT_MATRIX),$(MATRIX))$(filter-out $(MATRIX),$(DEFAULT_MATRIX)),$(if \
	$(filter-out debug,$(MATRIX))$(SERIES)$(PATCHES),matrix-,debug-))
CHECK_BUILT := $(filter debug,$(CHECK_SETUPS))
check_setups = $(if $(1),$(MAKE) --no-print-directory -j1 $(addprefix check-setup-,$(1)) 8>&-,:)
CHECK_JOBS ?= 2
CHECK_LANES ?= sweep suite
CHECK_SWEEP ?= failnth unwind
CACHE_PRUNE ?= yes
now = $$(date +%s)
comma := ,
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
check-kernels: ## make check on the point releases of KERNELS_LANE (opt-in)
	@$(MAKE) --no-print-directory check MATRIX='$(KERNELS_LANE)'

# make check-debug, an opt-in lane (not in MATRIX): make check on the debug
# kernel, the fail-nth sweep and the suite under KASAN, kmemleak, lockdep
# and DEBUG_VM (SERIES and PATCHES as for KERNEL=debug).
check-debug: ## make check on the debug kernel (opt-in): fail-nth, KASAN, kmemleak
	@$(MAKE) --no-print-directory check MATRIX=debug
check-locked:
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS) $(CACHE) && : >$(RESULTS)/kernels
	@echo "0 1 0 lint" >$(RESULTS)/lint.counts
	@{ echo $(now); if ls -d $(CACHE)/trixie-* >/dev/null 2>&1; then echo warm; else echo cold; fi; \
	  cut -d' ' -f1 /proc/loadavg; } >$(RESULTS)/start
	@exec 8>>$(CACHE)/.in-use && flock -s 8 && t0=$(now) && \
	{ $(call check_setups,$(CHECK_BUILT)) & \
	  $(call check_setups,$(filter-out $(CHECK_BUILT),$(CHECK_SETUPS))); \
	  rc=$$?; wait $$! && [ $$rc = 0 ]; } && \
	t1=$(now) && { $(MAKE) --no-print-directory -k -j$(CHECK_JOBS) -Otarget check-run 8>&- || true; } && \
	$(MAKE) --no-print-directory check-bug-table 8>&- && \
	echo "set-up $$((t1 - t0)) s, builds and guests $$(($(now) - t1)) s ($(CHECK_JOBS) at a time)" \
		>$(RESULTS)/steps.time
	@$(if $(filter no,$(CACHE_PRUNE)),:,t=$(now); CACHE='$(CACHE)' scripts/cache-prune --checkout $(CURDIR) \
		$(if $(filter dry,$(CACHE_PRUNE)),--dry-run) \
		$(addprefix $(BUILD)/setup-,$(addsuffix .mk,$(CHECK_SETUPS))) || true; \
		sed -i "s/\$$/, cache-prune $$(($(now) - t)) s/" $(RESULTS)/steps.time)
	@echo "check: $$(cat $(RESULTS)/steps.time)"; \
	scripts/ktap-summary --total $(RESULTS)/lint.counts \
		$$(awk '{ print "$(RESULTS)/" $$1 ".counts" }' $(RESULTS)/kernels) >$(RESULTS)/total; \
	rc=$$?; { read -r t0; read -r kind; read -r load; } <$(RESULTS)/start; t=$$(($(now) - t0)); \
	sed -e '$$d' -e 's/^/  - /' $(RESULTS)/total >$(RESULTS)/lanes; \
	{ echo "- $$kind — \`make check\` of $$(date -u +%F), MATRIX \`$(MATRIX)\`, load average $$load at the start:" \
	       "$$((t / 60)) min $$((t % 60)) s in all ($$(cat $(RESULTS)/steps.time)); per kernel:"; \
	  cat $(RESULTS)/lanes; } >$(BUILD)/timing-$(CHECK_TIMING)$$kind.md; \
	for f in $(RESULTS)/lint.log $(RESULTS)/*.out $(RESULTS)/*.checks; do \
		n=$${f##*/}; n=$${n%.*}; \
		case $$f in *.checks) [ ! -f "$(RESULTS)/$$n.out" ] || continue ;; esac; \
		[ -f "$$f" ] && tr -d '\r' <"$$f" | grep -E '^not ok' | grep -vE '# *SKIP' | sed "s|^|$$n: |"; \
	done >$(RESULTS)/failures; \
	if [ -s $(RESULTS)/failures ]; then echo "check: what failed:"; cat $(RESULTS)/failures; fi; \
	echo "check: $$((t / 60)) min $$((t % 60)) s in all ($$kind cache)"; cat $(RESULTS)/total; \
	echo $$rc >$(BUILD)/.check.status

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
# in build/kernel-bugs.md for make readme; a kernel run in lanes has its
# lanes' logs joined, suite first (build/KVER/lanes.log).
check-bug-table:
	@logs=$$(awk '$$2 != "-" { print $$1 }' $(RESULTS)/kernels | \
		while read -r k; do \
			if [ -f "$(BUILD)/$$k/vm-suite/output.log" ]; then \
				cat "$(BUILD)/$$k/vm-suite/output.log" $$(ls "$(BUILD)/$$k"/vm-*/output.log | \
					grep -v /vm-suite/) >"$(BUILD)/$$k/lanes.log"; \
				echo "$(BUILD)/$$k/lanes.log"; \
			elif [ -f "$(BUILD)/$$k/vm/output.log" ]; then echo "$(BUILD)/$$k/vm/output.log"; fi; \
		done); \
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
# build-kernel's kernels (KERNEL_PATCHES in their set-up) run in lanes
CHECK_SPLIT := $(foreach a,$(CHECK_KERNELS),$(if $(filter KERNEL_PATCHES,$(word \
	1,$(shell grep -s '^KERNEL_PATCHES' $(BUILD)/setup-$(a).mk))),$(a)))
endif
# The longest jobs first, so that no long guest starts last beside an idle
# job slot: the lanes, then the kernels newest first (the newest series run
# the most tests), lint last (half a minute, none when CACHE/lint has it).
CHECK_REVERSED = $(if $(1),$(call CHECK_REVERSED,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
check-run: $(addprefix check-kernel-,$(CHECK_SPLIT)) \
	$(addprefix check-kernel-,$(call CHECK_REVERSED,$(filter-out $(CHECK_SPLIT),$(CHECK_KERNELS)))) \
	check-lint
check-tests:
	@$(MAKE) --no-print-directory tests SETUP_MK=$(BUILD)/setup-$(CHECK_BASE).mk \
		>$(RESULTS)/tests.log 2>&1 || \
		{ tail -n 30 $(RESULTS)/tests.log; echo "check: building the tests failed"; exit 1; }
# A kernel without lanes (and lint) waits for the modules of those with
# lanes: make fills a free job slot with the next target it can run, so a
# Debian guest started while the debug module builds would make the
# lanes, the longest jobs, start last.
check-kernel-%: check-tests $(addprefix check-build-,$(CHECK_SPLIT))
	@$(MAKE) --no-print-directory check-kernel SETUP_MK=$(BUILD)/setup-$*.mk

# A kernel in lanes: its module first (no need to wait for the tests),
# then a guest a lane, then its counts and times added up.
check-build-%:
	@$(MAKE) --no-print-directory check-build SETUP_MK=$(BUILD)/setup-$*.mk
define check_lanes
check-kernel-$(1): $(addprefix check-lane-$(1)-,$(CHECK_LANES))
	@$$(MAKE) --no-print-directory check-lanes-total SETUP_MK=$(BUILD)/setup-$(1).mk
$(addprefix check-lane-$(1)-,$(CHECK_LANES)): check-lane-$(1)-%: check-build-$(1) check-tests
	@$$(MAKE) --no-print-directory check-kernel SETUP_MK=$(BUILD)/setup-$(1).mk LANE=$$*
endef
$(foreach a,$(CHECK_SPLIT),$(eval $(call check_lanes,$(a))))

check-lint: $(addprefix check-build-,$(CHECK_SPLIT))
	@if [ -f $(RESULTS)/lint.checks ]; then \
		scripts/ktap-summary --label lint --save $(RESULTS)/lint.counts \
			$(RESULTS)/lint.checks; \
	else \
		$(MAKE) --no-print-directory check-lint-run SETUP_MK=$(BUILD)/setup-$(K).mk; \
	fi || true
check-lint-run:
	@t0=$(now); if [ -f $(LINT_PASSED) ]; then \
		echo "lint: passed before with everything it reads as it is now" \
			"($(LINT_PASSED)); its result:"; \
		grep -E '^(not )?ok ' $(LINT_PASSED); \
		cp $(LINT_PASSED) $(RESULTS)/lint.log; rc=0; \
	else \
		$(LINT) >$(RESULTS)/lint.log 2>&1; rc=$$?; \
		if [ $$rc = 0 ]; then mkdir -p $(CACHE)/lint && \
			cp $(RESULTS)/lint.log $(LINT_PASSED).tmp && \
			mv -f $(LINT_PASSED).tmp $(LINT_PASSED); fi; \
	fi; \
	scripts/ktap-summary --label lint --save $(RESULTS)/lint.counts \
		--time "$$(($(now) - t0)) s" --status $$rc $(RESULTS)/lint.log || true

# One kernel: build (a failure counts as one failed test), boot, count.
# With LANE (sweep, suite) one lane of it: its guest runs the programs of
# CHECK_SWEEP only, or all but them, in OUT/vm-LANE; check-build built the module,
# and a build that failed counts once, in the first lane.
LANE_ARGS := $(if $(filter sweep,$(LANE)),--only $(CHECK_SWEEP),$(if $(filter suite,$(LANE)),--skip $(CHECK_SWEEP)))
LANE_NAME := $(KNAME)$(if $(LANE),.$(LANE))
LANE_VM := $(OUT)/vm$(if $(LANE),-$(LANE))
check-kernel:
	@{ echo "# $(KNAME)$(if $(LANE), (lane $(LANE): $(LANE_ARGS)))"; t0=$(now); \
	if $(if $(LANE),[ "$$(cat $(RESULTS)/$(KNAME).build.rc)" = 0 ],$(MAKE) --no-print-directory \
		$(OUT)/mmapdemo.ko >$(RESULTS)/$(KNAME).build.log 2>&1); then \
		t1=$(now); \
		$(if $(filter sweep,$(LANE)),,scripts/examples-built --line $(OUT)/example/examples.txt;) \
		$(VMRUN) --out $(LANE_VM) $(VMRUN_FLAGS) -- /tests/run-all $(LANE_ARGS); \
		rc=$$?; \
		$(if $(filter sweep,$(LANE)),,scripts/bug-table --check $(LANE_VM)/output.log >>$(LANE_VM)/checks;) \
		took="$(if $(LANE),$(LANE),build $$((t1 - t0)) s$(comma) guest) $$(($(now) - t1)) s"; \
		scripts/ktap-summary --label $(KNAME) --save $(RESULTS)/$(LANE_NAME).counts \
			--time "$$took" --status $$rc $(LANE_VM)/output.log $(LANE_VM)/checks; \
	elif [ -z "$(LANE)" ] || [ "$(LANE)" = "$(firstword $(CHECK_LANES))" ]; then \
		tail -n 30 $(RESULTS)/$(KNAME).build.log; \
		echo "not ok - $(KNAME): module build failed" >$(RESULTS)/$(LANE_NAME).checks; \
		scripts/ktap-summary --label $(KNAME) --save $(RESULTS)/$(LANE_NAME).counts \
			$(RESULTS)/$(LANE_NAME).checks; \
	else \
		echo "0 0 0 $(KNAME)" >$(RESULTS)/$(LANE_NAME).counts; \
	fi; } >$(RESULTS)/$(LANE_NAME).out 2>&1; \
	cat $(RESULTS)/$(LANE_NAME).out
check-build:
	@t0=$(now); $(MAKE) --no-print-directory $(OUT)/mmapdemo.ko \
		>$(RESULTS)/$(KNAME).build.log 2>&1; \
	echo $$? >$(RESULTS)/$(KNAME).build.rc; \
	echo "build $$(($(now) - t0)) s" >$(RESULTS)/$(KNAME).build.time
check-lanes-total:
	@cat $(foreach l,$(CHECK_LANES),$(RESULTS)/$(KNAME).$(l).counts) | \
	awk -v name=$(KNAME) -v build="$$(cat $(RESULTS)/$(KNAME).build.time)" \
		'{ p += $$1; f += $$2; s += $$3; $$1 = $$2 = $$3 = $$4 = ""; \
		   sub(/^ +/, ""); if ($$0 != "") t = t ", " $$0 } \
		 END { printf "%d %d %d %s %s%s\n", p, f, s, name, build, t }' \
		>$(RESULTS)/$(KNAME).counts

demo: kit ## boot the kernel under QEMU and print the twins side by side
	@$(VMRUN) --out $(OUT)/demo $(VMRUN_FLAGS) -- /tests/demo
	@{ echo "_Generated by \`make demo\` on $$(date -u +%F), kernel $(KNAME) under QEMU, mmapdemo $$(git describe --always --dirty 2>/dev/null)._"; \
	  echo; tr -d '\r' <$(OUT)/demo/output.log; } >$(BUILD)/demo.txt
	@echo "demo: tables saved in $(BUILD)/demo.txt"

# make readme: the README keeps a short form of each generated table, and
# docs/ the whole of it.  From the last real demo run (make demo, which
# readme runs first): the twins' table into docs/behaviour.md, its
# character device FAULT and FLAGS rows into README.md, the error-unwind
# table into docs/behaviour.md.  From the logs of the last make check: the
# per-generation API, as a matrix of marks and in full, into
# docs/kernels-api.md.  From the last make bench (build/bench, if there):
# its goals as one table of verdicts (scripts/bench-report --goals-summary)
# into README.md, every figure into docs/bench.md, the plot of VMAs held
# into docs/bench-vmas.svg.  And the fail-nth sweep of
# FAILNTH_LOG, the guest log of a kernel that has CONFIG_FAULT_INJECTION
# (a make check of the debug kernel), if it has one: totals per backend and
# the table of every call in docs/failnth.md.  And the times of the last
# make check with a cold cache and of the last with a warm one
# (build/timing-cold.md, build/timing-warm.md), and of the last make
# check-debug with a warm one (build/timing-debug-warm.md), into
# docs/runner.md, and with the Debian kernels folded into one line into
# README.md.
FAILNTH_LOG ?= $(firstword $(wildcard $(addprefix $(BUILD)/*-mmapdemo-debug/,$(addsuffix \
	/output.log,vm-sweep vm-all vm)) $(BUILD)/own-kernel/vm/output.log))
API_LOGS = $(filter-out $(BUILD)/6.12.%,$(sort $(wildcard $(BUILD)/*+deb*/vm/output.log)))
API_ARGS = $(foreach l,$(API_LOGS),$(word 1,$(subst ., ,$(notdir $(l:/vm/output.log=)))).$(word \
	2,$(subst ., ,$(notdir $(l:/vm/output.log=))))=$(l))
VERSION_NOTE = mmapdemo $$(git describe --always --dirty 2>/dev/null)
# The README's copies name no commit: docs/ keeps which version made them.
NO_VERSION = sed -e 's/, mmapdemo [0-9a-zA-Z-]*//'
DEMO_README_COLUMNS := mode|twin|VmFlags|VMAs|hook|close|partial mprotect|scale
readme: demo ## make demo, then copy its tables, the last make check's API table,
##                 the last make bench's figures and the fail-nth sweep of
##                 FAILNTH_LOG (if it has one) into README.md and docs/
	awk '/^Error unwind:/ { exit } { print }' $(BUILD)/demo.txt >$(BUILD)/demo-twins.txt
	{ head -n 2 $(BUILD)/demo.txt; sed -n '/^Error unwind:/,$$p' $(BUILD)/demo.txt; } \
		>$(BUILD)/demo-unwind.txt
	scripts/readme-table demo $(BUILD)/demo-twins.txt docs/behaviour.md
	scripts/table-cut --columns '$(DEMO_README_COLUMNS)' --rows 'mode=FAULT|FLAGS' \
		--rows 'twin=prepare|legacy|prepare, no ->close|legacy, no ->close' $(BUILD)/demo-twins.txt | \
		$(NO_VERSION) | sed '/^fs_prepare, fs_legacy:/d' >$(BUILD)/demo-readme.txt
	scripts/readme-table demo $(BUILD)/demo-readme.txt
	scripts/readme-table demo-unwind $(BUILD)/demo-unwind.txt docs/behaviour.md
ifneq ($(API_LOGS),)
	@note="_Generated by \`make readme\` from the \`make check\` of $$(date -u -r $(firstword $(API_LOGS)) +%F), $(VERSION_NOTE)._"; \
	{ echo "$$note"; echo; scripts/api-table $(API_ARGS); } >$(BUILD)/api.txt && \
	{ echo "$$note"; echo; scripts/api-table --summary $(API_ARGS); } >$(BUILD)/api-summary.txt
	scripts/readme-table api $(BUILD)/api.txt docs/kernels-api.md
	scripts/readme-table api-summary $(BUILD)/api-summary.txt docs/kernels-api.md
else
	@echo "readme: no make check logs in $(BUILD); the API tables stay"
endif
	@if [ -f $(BUILD)/bench/readme.md ]; then \
		scripts/readme-table bench $(BUILD)/bench/readme.md docs/bench.md && \
		scripts/bench-report --goals-summary $(BUILD)/bench/readme.md | $(NO_VERSION) >$(BUILD)/bench/goals.md && \
		scripts/readme-table bench-goals $(BUILD)/bench/goals.md && \
		cp $$(ls $(BUILD)/bench/*-vmas.svg | sort -V | tail -n 1) docs/bench-vmas.svg; \
	else echo "readme: no make bench in $(BUILD)/bench; its figures stay"; fi
	@if [ -f $(BUILD)/kernel-bugs.md ]; then \
		$(NO_VERSION) $(BUILD)/kernel-bugs.md | sed '/^Ledger findings:/,$$d' >$(BUILD)/kernel-bugs-readme.md && \
		scripts/readme-table kernel-bugs $(BUILD)/kernel-bugs-readme.md; \
	else echo "readme: no $(BUILD)/kernel-bugs.md (make check writes it); the kernel-bug table stays"; fi
	@for kind in cold warm debug-warm; do \
		if [ -f $(BUILD)/timing-$$kind.md ]; then \
			scripts/readme-table timing-$$kind $(BUILD)/timing-$$kind.md docs/runner.md && \
			scripts/timing-summary $(BUILD)/timing-$$kind.md >$(BUILD)/timing-$$kind-readme.md && \
			scripts/readme-table timing-$$kind $(BUILD)/timing-$$kind-readme.md; \
		else echo "readme: no $(BUILD)/timing-$$kind.md (make check or make check-debug writes it); its timing stays"; fi; \
	done
	@$(MAKE) --no-print-directory failnth-md

failnth-md: ## only the fail-nth sweep of FAILNTH_LOG (totals and every call) into docs/failnth.md
	@if grep -qs '# failnth: ' $(FAILNTH_LOG); then \
		note="_Generated by \`make failnth-md\` from $(patsubst $(CURDIR)/%,%,$(FAILNTH_LOG)) of $$(date -u -r $(FAILNTH_LOG) +%F) (userspace-tests/failnth.c on the debug kernel), $(VERSION_NOTE)._"; \
		{ echo "$$note"; echo; scripts/failnth-table $(FAILNTH_LOG); } >$(BUILD)/failnth.txt && \
		{ echo "$$note"; echo; scripts/failnth-table --summary $(FAILNTH_LOG); } >$(BUILD)/failnth-summary.txt && \
		scripts/readme-table failnth $(BUILD)/failnth.txt docs/failnth.md && \
		scripts/readme-table failnth-summary $(BUILD)/failnth-summary.txt docs/failnth.md; \
	else echo "readme: no fail-nth sweep in $(FAILNTH_LOG) (a debug kernel's make check); its tables stay"; fi

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
# (-r ROUNDS, -s ops|examples|count|maps).  Then scripts/bench-report writes
# build/bench/KVER.md, the plots build/bench/KVER-*.svg (gnuplot, installed
# in the chroot when missing) and build/bench/readme.md, the first two
# kernels side by side, which make readme copies into docs/bench.md.
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
	scripts/bench-report --out $(BUILD)/bench --root $(ROOT) --version "$$v" $$(cat $(BUILD)/bench/logs)
bench-kernel: kit
	$(VMRUN) --out $(OUT)/bench --module-args pages=1024 $(VMRUN_FLAGS) -- \
		/tests/bench $(BENCH_ARGS)
	@echo $(OUT)/bench/output.log >>$(BUILD)/bench/logs

# modules_install runs in the chroot (the kernel's kbuild tools need it),
# into a staging tree; of that tree only mmapdemo.ko (compressed or signed
# as the kernel's configuration says) is installed, not the docs/example
# modules the same Kbuild run builds: into INSTALL_MOD_PATH (default /)
# /lib/modules/KVER/updates, and depmod runs if that tree has the kernel.
INSTALL_KMOD_DIR := $(INSTALL_MOD_PATH)/lib/modules/$(SETUP_KVER)
install: $(OUT)/mmapdemo.ko ## the module (honours INSTALL_MOD_PATH) and the udev rule
	rm -rf $(BUILD)/install && mkdir -p $(BUILD)/install
	$(CHROOT) $(KBUILD) INSTALL_MOD_PATH=$(BUILD)/install modules_install
	install -D -m 644 -t $(INSTALL_KMOD_DIR)/updates \
		$(BUILD)/install/lib/modules/$(SETUP_KVER)/updates/mmapdemo.ko*
	if [ -e $(INSTALL_KMOD_DIR)/modules.dep ]; then \
		depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(SETUP_KVER); \
	else echo "install: kernel $(SETUP_KVER) is not installed in $(or $(INSTALL_MOD_PATH),/);" \
		"run depmod $(SETUP_KVER) once it is"; fi
	install -D -m 644 udev/70-mmapdemo.rules \
		$(INSTALL_MOD_PATH)/usr/lib/udev/rules.d/70-mmapdemo.rules

# dkms for two kernels: the newest 7.x and the series before it.
dkms-check: ## dkms add/build/install in the chroot for two kernels
	@CACHE='$(CACHE)' KVER=previous scripts/setup --env $(BUILD)/setup-previous.mk
	@scripts/dkms-check --root $(ROOT) --kernels \
		"$(SETUP_KVER) $$(sed -n 's/^SETUP_KVER := //p' $(BUILD)/setup-previous.mk)"

# Coccinelle (docs/coccinelle.md): spatch from Debian's package, in the chroot.
cocci: ## FILE=x.c [SERIES=7.3]: print the patch porting FILE's .mmap to .mmap_prepare
	@test -n '$(FILE)' || { echo 'make cocci: FILE=path/to/driver.c is required' >&2; exit 2; }
	@CACHE='$(CACHE)' scripts/cocci --series '$(or $(SERIES),7.3)' '$(FILE)'
cocci-report: ## FILE=x.c: the .mmap_prepare traps in FILE (exit 1 when any)
	@test -n '$(FILE)' || { echo 'make cocci-report: FILE=path/to/driver.c is required' >&2; exit 2; }
	@CACHE='$(CACHE)' scripts/cocci --report '$(FILE)'
cocci-table: ## measure the patch against the kernel's conversions, into docs/coccinelle.md
	@CACHE='$(CACHE)' scripts/cocci-table --out docs/coccinelle.md
.PHONY: cocci cocci-report cocci-table

clean: ## remove build/ and what an in-tree Kbuild build leaves
	rm -rf $(BUILD) *.ko *.o *.mod *.mod.c .*.cmd modules.order \
		Module.symvers .module-common.o driver/*.o driver/.*.cmd \
		driver/conftest.h

## Variables: CACHE (default /var/cache/mmapdemo); MATRIX (default: 6.12 6.16
## 6.17 6.18 6.19 7.0 7.1 previous newest; debug: make check-debug); KVER or KERNEL (one kernel:
## an ABI such as 7.3.4+deb13-amd64 or an alias: newest, previous, a series
## such as 6.12, or debug: built from Debian's source by scripts/build-kernel
## with kernels/debug.config, of SERIES (default the newest) with PATCHES);
## KDIR and KERNEL_IMAGE (your own kernel: a prepared build tree and its
## bzImage); VMRUN_FLAGS (passed to vm-run); CHECK_JOBS (kernels that check
## builds and boots at a time, default 2); CHECK_LANES (the guests a debug
## kernel's suite is split into, default "sweep suite"; "all": one guest);
## CHECK_SWEEP (the programs of the sweep lane, default "failnth unwind");
## CACHE_PRUNE (yes: make check removes what a new cache key replaced; dry:
## only says so; no).
help: ## this text
	@awk '/^[a-z][a-z-]*:.* ## / { t = $$0; sub(/:.*/, "", t); \
		sub(/^[^#]* ## /, ""); printf "make %-15s %s\n", t, $$0; next } \
		/^##  +/ { sub(/^## +/, ""); printf "%21s%s\n", "", $$0; next } \
		/^## / { print substr($$0, 4) }' $(firstword $(MAKEFILE_LIST))
