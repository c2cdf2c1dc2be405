# SPDX-License-Identifier: GPL-2.0
#
# make          build mmapdemo.ko and the test programs (in the trixie chroot)
# make check    boot the kernel under QEMU and run the test suite
# make demo     boot the kernel under QEMU and print the twins side by side
# make lint     checkpatch --strict on the driver
#
# Variables: CACHE (default /var/cache/mmapdemo), KVER (default: newest 7.x
# in trixie-backports), KDIR (kernel build tree inside the chroot),
# KERNEL_IMAGE (default: the Debian image for KVER), VMRUN_FLAGS.

CACHE ?= /var/cache/mmapdemo
BUILD := $(CURDIR)/build

# scripts/setup is quick when everything is cached; it writes ROOT, KVER,
# SETUP_KERNEL_IMAGE and KSRC to build/setup.mk.
ifneq ($(filter-out clean help,$(or $(MAKECMDGOALS),all)),)
$(shell CACHE='$(CACHE)' KVER='$(KVER)' scripts/setup --env $(BUILD)/setup.mk >&2)
ifneq ($(.SHELLSTATUS),0)
$(error scripts/setup failed)
endif
include $(BUILD)/setup.mk
endif

KDIR ?= /usr/lib/modules/$(KVER)/build
KERNEL_IMAGE ?= $(SETUP_KERNEL_IMAGE)
CHROOT := scripts/in-chroot $(ROOT) --bind $(CURDIR) --bind $(KSRC) --cd $(CURDIR) --

TEST_CFLAGS := -static -O2 -g -Wall -Wextra -Wno-sign-compare -Werror -D_GNU_SOURCE \
	-I driver/uapi -I $(KSRC)/tools/testing/selftests
TEST_LIB := userspace-tests/vma.c
TEST_PROGS := $(filter-out $(TEST_LIB),$(wildcard userspace-tests/*.c))
TEST_BINS := $(patsubst userspace-tests/%.c,$(BUILD)/tests/%,$(TEST_PROGS))
SOURCES := $(wildcard driver/*.c driver/*.h driver/uapi/*.h) Kbuild

.PHONY: all module tests check demo lint clean help
all: module tests

module: mmapdemo.ko
mmapdemo.ko: $(SOURCES)
	$(CHROOT) make -C $(KDIR) M=$(CURDIR) W=1 modules

tests: $(TEST_BINS) $(BUILD)/tests/run-all
$(BUILD)/tests/%: userspace-tests/%.c $(TEST_LIB) userspace-tests/vma.h driver/uapi/mmapdemo.h
	@mkdir -p $(@D)
	$(CHROOT) gcc-14 $(TEST_CFLAGS) -o $@ $< $(TEST_LIB)
$(BUILD)/tests/run-all: userspace-tests/run-all
	@mkdir -p $(@D)
	install -m 755 $< $@

check: all
	@scripts/vm-run --kernel $(KERNEL_IMAGE) --out $(BUILD)/vm $(VMRUN_FLAGS) \
		-- /tests/run-all; \
	scripts/ktap-summary $(BUILD)/vm/output.log $(BUILD)/vm/checks $$?

demo: all
	@scripts/vm-run --kernel $(KERNEL_IMAGE) --out $(BUILD)/demo $(VMRUN_FLAGS) \
		-- /tests/demo
	@tr -d '\r' <$(BUILD)/demo/output.log >$(BUILD)/demo.txt
	@echo "demo: table saved in $(BUILD)/demo.txt"

lint:
	$(CHROOT) perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree \
		-f $(filter driver/%,$(SOURCES))

clean:
	rm -rf $(BUILD) *.ko *.o *.mod *.mod.c *.mod.o .*.cmd modules.order \
		Module.symvers .module-common.o driver/*.o driver/.*.cmd .tmp_versions

help:
	@sed -n 's/^# \{0,1\}//;3,11p' Makefile
