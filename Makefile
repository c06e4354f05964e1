# SPDX-License-Identifier: GPL-2.0
#
# cohort: module, library, tools and tests.
#
#   make [KVER=x | KDIR=dir]   module + libcohort + cohortctl + selftests
#   make check                 everything, then the selftests in one VM per
#                              target kernel (KERNELS="6.1.0-... 6.12...")
#   make lint                  sparse and checkpatch --strict for every kernel
#   make demo                  the demo cluster in a VM
#   make bench                 throughput and RTT against TCP, UDP, TIPC in a VM
#   make install [DESTDIR= PREFIX=], make modules_install, make dkms-install

VERSION		:= 0.1.0
SOVERSION	:= 0

TOP		:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
O		:= $(TOP)/build

# Kernel to build for: KDIR wins, then KVER, then the running kernel if its
# build dir exists, else the newest installed headers.
newest_kver	= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | while read k; do \
		    [ -d /lib/modules/$$k/build ] && echo $$k; done | tail -n 1)
# Recursive (=) on purpose here and below: "make setup check" on a fresh
# machine must see what setup installs.
KVER		?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(newest_kver))
KDIR		?= /lib/modules/$(KVER)/build

# Target kernels for check, lint and demo: every installed kernel with headers
# and an image.
KERNELS		?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | while read k; do \
		    [ -d /lib/modules/$$k/build ] && [ -e /boot/vmlinuz-$$k ] && echo $$k; done)

PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
BINDIR		?= $(PREFIX)/sbin

CC		?= cc
CFLAGS		?= -O2 -g
WARN		:= -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Werror
NL_CFLAGS	= $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS		= $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
UCFLAGS		= $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(TOP)/uapi \
		   -I$(TOP)/libshim $(NL_CFLAGS)

LIB_SRCS	:= $(sort $(wildcard $(TOP)/libshim/*.c))
LIB_PIC_OBJS	:= $(patsubst $(TOP)/libshim/%.c,$(O)/libshim/%.pic.o,$(LIB_SRCS))
LIB_OBJS	:= $(patsubst $(TOP)/libshim/%.c,$(O)/libshim/%.o,$(LIB_SRCS))
LIB_A		:= $(O)/libcohort.a
LIB_SO		:= $(O)/libcohort.so.$(SOVERSION)

CTL_SRCS	:= $(sort $(wildcard $(TOP)/tools/cohortctl/*.c))
CTL		:= $(O)/cohortctl
DEMO		:= $(O)/cohort-clockdemo
NETBENCH	:= $(O)/cohort-netbench
QBENCH		:= $(O)/cohort-qbench

# Selftests: each selftests/*_test.c is one kselftest-harness program.
KSFT_TARBALL	?= /usr/src/linux-source-6.12.tar.xz
KSFT_INC	:= $(O)/kselftest
KSFT_HDRS	:= $(KSFT_INC)/kselftest_harness.h $(KSFT_INC)/kselftest.h
TEST_SRCS	:= $(sort $(wildcard $(TOP)/selftests/*_test.c))
TEST_BINS	:= $(patsubst $(TOP)/selftests/%.c,$(O)/selftests/%,$(TEST_SRCS))
TOOL_SRCS	:= $(sort $(wildcard $(TOP)/selftests/tools/*.c))
TOOL_BINS	:= $(patsubst $(TOP)/selftests/tools/%.c,$(O)/selftests/%,$(TOOL_SRCS))

KO		:= $(TOP)/kmod/cohort.ko

.PHONY: setup print-kernels all module user lib cohortctl selftests clean check lint demo bench \
	install modules_install dkms-install host-tests

all: module user

user: lib cohortctl selftests

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

lib: $(LIB_A) $(LIB_SO) $(O)/cohort.pc

cohortctl: $(CTL) $(DEMO) $(NETBENCH) $(QBENCH)

selftests: $(TEST_BINS) $(TOOL_BINS) $(O)/ynl/.stamp

$(O)/libshim/%.pic.o: $(TOP)/libshim/%.c $(wildcard $(TOP)/libshim/*.h) $(TOP)/uapi/linux/cohort.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(O)/libshim/%.o: $(TOP)/libshim/%.c $(wildcard $(TOP)/libshim/*.h) $(TOP)/uapi/linux/cohort.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -fvisibility=hidden -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_PIC_OBJS) $(TOP)/libshim/libcohort.map
	$(CC) -shared -Wl,-soname,libcohort.so.$(SOVERSION) \
		-Wl,--version-script=$(TOP)/libshim/libcohort.map -o $@ \
		$(LIB_PIC_OBJS) $(NL_LIBS)
	ln -sf libcohort.so.$(SOVERSION) $(O)/libcohort.so

$(O)/cohort.pc: $(TOP)/libshim/cohort.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $< >$@

$(CTL): $(CTL_SRCS) $(wildcard $(TOP)/tools/cohortctl/*.h) $(LIB_A)
	$(CC) $(UCFLAGS) -DCOHORT_VERSION='"$(VERSION)"' -o $@ $(CTL_SRCS) $(LIB_A) $(NL_LIBS)

$(DEMO): $(TOP)/tools/clockdemo.c $(LIB_A)
	$(CC) $(UCFLAGS) -o $@ $< $(LIB_A) $(NL_LIBS)

$(NETBENCH): $(TOP)/tools/bench/netbench.c $(LIB_A)
	$(CC) $(UCFLAGS) -o $@ $< $(LIB_A) $(NL_LIBS)

# Raw ioctls only: the queue bench measures the kernel, not libcohort.
$(QBENCH): $(TOP)/tools/bench/qbench.c $(TOP)/uapi/linux/cohort.h
	$(CC) $(UCFLAGS) -o $@ $< -lrt

# The kselftest harness comes from the installed kernel source; it is never
# copied into this repository.
$(KSFT_HDRS):
	@mkdir -p $(KSFT_INC)
	@test -r $(KSFT_TARBALL) || { echo "missing $(KSFT_TARBALL): run tools/setup-deps.sh" >&2; exit 1; }
	tar -xJf $(KSFT_TARBALL) -C $(KSFT_INC) --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	@touch $(KSFT_HDRS)

# The kernel's own YNL client, to drive cohort through uapi/cohort.yaml.
$(O)/ynl/.stamp:
	@mkdir -p $(O)/ynl
	tar -xJf $(KSFT_TARBALL) -C $(O)/ynl --strip-components=1 --wildcards \
		'*/tools/net/ynl/cli.py' '*/tools/net/ynl/lib/*' \
		'*/Documentation/netlink/genetlink-legacy.yaml'
	@touch $@

$(O)/selftests/%: $(TOP)/selftests/%.c $(KSFT_HDRS) $(LIB_A) $(wildcard $(TOP)/selftests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -Wno-missing-prototypes -Wno-clobbered -Wno-sign-compare -I$(KSFT_INC) -I$(TOP)/selftests \
		-o $@ $< $(LIB_A) $(NL_LIBS) -lpthread

$(O)/selftests/%: $(TOP)/selftests/tools/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LIB_A) $(NL_LIBS)

# Tests that need no module: the ABI header on its own, 32- and 64-bit.
host-tests: $(KSFT_HDRS)
	@$(TOP)/selftests/uapi_abi.sh $(O)

# These re-enter make so that "make setup check" on a fresh machine sees
# the kernels that setup has just installed.
check: user
	$(TOP)/tools/vm-check.sh check $(KERNELS)

demo: user
	$(TOP)/tools/vm-check.sh demo $(lastword $(KERNELS))

# Not a test: cohort against raw TCP/UDP and TIPC, printed as ratios.
bench: user
	$(TOP)/tools/vm-check.sh bench $(KERNELS)

setup:
	$(TOP)/tools/setup-deps.sh

print-kernels:
	@echo $(KERNELS)

lint:
	$(TOP)/tools/lint.sh $(KERNELS)

install: lib cohortctl
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libcohort.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libcohort.so
	install -m 0644 $(O)/cohort.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 $(TOP)/libshim/libcohort.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(TOP)/uapi/linux/cohort.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 0755 $(CTL) $(DESTDIR)$(BINDIR)/

modules_install: module
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates modules_install

dkms-install:
	rm -rf $(DESTDIR)/usr/src/cohort-$(VERSION)
	install -d $(DESTDIR)/usr/src/cohort-$(VERSION)
	cp -r $(TOP)/Kbuild $(TOP)/Makefile $(TOP)/dkms.conf $(TOP)/kmod $(TOP)/uapi \
		$(DESTDIR)/usr/src/cohort-$(VERSION)/
	$(MAKE) -C $(DESTDIR)/usr/src/cohort-$(VERSION) -f Makefile clean-kmod

clean-kmod:
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		.*.cmd Module.symvers modules.order kmod/modules.order

clean: clean-kmod
	rm -rf $(O)
