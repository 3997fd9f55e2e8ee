# Build, run and test the kernel.
#
#   make              kernel (out/kernel), file system image (out/fs.img), its checker (out/fsck)
#   make qemu         boot (graphical if there is a display, else like qemu-nox)
#   make qemu-nox     boot with the console on this terminal (quit: Ctrl-A x)
#   make qemu-gdb     boot and wait for GDB; then `make gdb` in another terminal
#   make test         every in-guest suite (2 and 4 CPUs), fsck of their disks, 20 power cuts,
#                     and the host tests
#   make fuzz         longer random runs: mmapfuzz seeds, CRASH_KILLS=200 power cuts
#   make demo         boot, run the demo workload, capture its trace, render plots
#   make trace CMD="prog args"   the same for any command line: out/trace/PROG-TIME/index.html
#   make live         boot with the console here and watch memory live in a browser
#   make bench        benchmarks, compared with bench/baseline.json (BENCH_UPDATE=1 renews it)
#   CPUS=N            number of CPUs (default 2)
#   KALLOC_CHECK=1    debug page allocator (junk fill on free, checked on reuse); with OUT=dir

CPUS ?= 2
MEM ?= 512
OUT := out

TOOLPREFIX ?= i686-linux-gnu-
CC := $(TOOLPREFIX)gcc
LD := $(TOOLPREFIX)ld
OBJCOPY := $(TOOLPREFIX)objcopy
QEMU ?= qemu-system-i386

# A python3 that sees Debian's packages (matplotlib, numpy, pytest).
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import matplotlib, numpy' >/dev/null 2>&1 && { echo $$p; break; }; done)
ifeq ($(PYTHON),)
PYTHON := /usr/bin/python3
endif

CFLAGS := -m32 -O2 -Wall -Werror -MD -ggdb -fno-pic -fno-pie -fno-builtin \
	-fno-strict-aliasing -fno-omit-frame-pointer -fno-stack-protector \
	-ffreestanding -nostdinc -Ixv6/kernel -Ixv6/user
ASFLAGS := -m32 -ggdb -fno-pic -fno-pie -nostdinc -Ixv6/kernel -Ixv6/user -MD -Wa,--noexecstack
LDFLAGS := -m elf_i386

# make KALLOC_CHECK=1 OUT=out/kcheck: the debug kernel, whose kalloc.c fills freed pages with
# junk and panics when it hands out a page written after kfree (tests/test_kalloc_check.py).
ifeq ($(KALLOC_CHECK),1)
CFLAGS += -DKALLOC_CHECK
endif

KDIR := xv6/kernel
UDIR := xv6/user
KOBJ := $(OUT)/kobj
UOBJ := $(OUT)/uobj

# Every .c/.S in the kernel directory is part of the kernel, except the
# two pieces built as flat binaries and embedded by blobs.S.
KBLOBS := entryother.S initcode.S
KSRCS := $(filter-out $(addprefix $(KDIR)/,$(KBLOBS)),$(wildcard $(KDIR)/*.c $(KDIR)/*.S))
KOBJS := $(patsubst $(KDIR)/%,$(KOBJ)/%.o,$(KSRCS))

# Every .c in the user directory is a program, except the user library.
ULIB := ulib.c printf.c umalloc.c suite.c usys.S
ULIBOBJS := $(patsubst %,$(UOBJ)/%.o,$(ULIB))
UPROGS := $(filter-out $(ULIB),$(notdir $(wildcard $(UDIR)/*.c)))
UBINS := $(patsubst %.c,$(OUT)/user/_%,$(UPROGS))
# The file system gets copies without debug information (GDB reads out/user).
FSBINS := $(patsubst %.c,$(OUT)/fsroot/%,$(UPROGS))

all: $(OUT)/kernel $(OUT)/fs.img $(OUT)/fsck

$(KOBJ)/%.c.o: $(KDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(KOBJ)/%.S.o: $(KDIR)/%.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) $(ASFLAGS) -c -o $@ $<

# entryother runs at 0x7000; initcode at user address 0.
$(KOBJ)/entryother.bin: $(KDIR)/entryother.S
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $(KOBJ)/entryother.o $<
	$(LD) $(LDFLAGS) -N -e start -Ttext 0x7000 -o $(KOBJ)/entryother.elf $(KOBJ)/entryother.o
	$(OBJCOPY) -S -O binary -j .text $(KOBJ)/entryother.elf $@

$(KOBJ)/initcode.bin: $(KDIR)/initcode.S
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $(KOBJ)/initcode.o $<
	$(LD) $(LDFLAGS) -N -e start -Ttext 0 -o $(KOBJ)/initcode.elf $(KOBJ)/initcode.o
	$(OBJCOPY) -S -O binary $(KOBJ)/initcode.elf $@

$(KOBJ)/blobs.S.o: $(KDIR)/blobs.S $(KOBJ)/entryother.bin $(KOBJ)/initcode.bin
	$(CC) $(ASFLAGS) -Wa,-I,$(KOBJ) -c -o $@ $<

$(OUT)/kernel: $(KOBJS) $(KDIR)/kernel.ld
	$(LD) $(LDFLAGS) -T $(KDIR)/kernel.ld -o $@ $(KOBJS)
	$(TOOLPREFIX)objdump -S $@ > $(OUT)/kernel.asm
	$(TOOLPREFIX)nm -n $@ > $(OUT)/kernel.sym

$(UOBJ)/%.c.o: $(UDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

$(UOBJ)/%.S.o: $(UDIR)/%.S
	@mkdir -p $(@D)
	@echo "  AS      $<"
	@$(CC) $(ASFLAGS) -c -o $@ $<

$(OUT)/user/_%: $(UOBJ)/%.c.o $(ULIBOBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(LD) $(LDFLAGS) --no-warn-rwx-segments -N -e main -Ttext 0 -o $@ $^

$(OUT)/mkfs: xv6/mkfs/mkfs.c xv6/mkfs/le.h $(KDIR)/fs.h $(KDIR)/param.h
	@mkdir -p $(@D)
	gcc -Wall -Werror -O2 -I$(KDIR) -o $@ $<

# The checker reads the same headers, so the layout is defined once.
$(OUT)/fsck: xv6/mkfs/fsck.c xv6/mkfs/le.h $(KDIR)/fs.h $(KDIR)/param.h $(KDIR)/stat.h $(KDIR)/types.h
	@mkdir -p $(@D)
	gcc -Wall -Werror -O2 -I$(KDIR) -o $@ $<

$(OUT)/README: README.md
	@mkdir -p $(@D)
	cp $< $@

$(OUT)/fsroot/%: $(OUT)/user/_%
	@mkdir -p $(@D)
	@$(OBJCOPY) --strip-debug $< $@

$(OUT)/fs.img: $(OUT)/mkfs $(OUT)/README $(FSBINS)
	$(OUT)/mkfs $@ $(OUT)/README $(FSBINS)

-include $(KOBJ)/*.d $(UOBJ)/*.d

# ---- running ----------------------------------------------------------
QEMUOPTS := -kernel $(OUT)/kernel \
	-drive file=$(OUT)/fs.img,index=0,media=disk,format=raw \
	-smp $(CPUS),sockets=$(CPUS),cores=1,threads=1 -m $(MEM) -no-reboot -net none

qemu: all
	@if [ -n "$$DISPLAY" ]; then \
		$(QEMU) $(QEMUOPTS) -serial mon:stdio -serial file:$(OUT)/com2.bin; \
	else $(MAKE) --no-print-directory qemu-nox; fi

qemu-nox: all
	$(QEMU) $(QEMUOPTS) -nographic -serial mon:stdio -serial file:$(OUT)/com2.bin

# Like qemu-nox, with COM2 streamed to a host process that keeps the capture in
# out/live/com2.bin and serves the live view on 127.0.0.1 (it prints the URL).
LIVE_PORT ?= 0
live: all
	$(PYTHON) -B -m viz.web.live --port $(LIVE_PORT) -- $(QEMU) $(QEMUOPTS) -nographic -serial mon:stdio

GDBPORT = $(shell $(PYTHON) -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

.gdbinit: gdbscripts/gdbinit.tmpl FORCE
	sed "s/@GDBPORT@/$(GDBPORT)/" $< > $@

qemu-gdb: all .gdbinit
	@echo "*** Waiting for GDB: run 'make gdb' (or gdb-multiarch -x .gdbinit) in another terminal."
	$(QEMU) $(QEMUOPTS) -serial mon:stdio -serial file:$(OUT)/com2.bin -S -gdb tcp:127.0.0.1:$$(sed -n 's/^target remote 127.0.0.1://p' .gdbinit)

qemu-nox-gdb: all .gdbinit
	@echo "*** Waiting for GDB: run 'make gdb' (or gdb-multiarch -x .gdbinit) in another terminal."
	$(QEMU) $(QEMUOPTS) -nographic -serial mon:stdio -serial file:$(OUT)/com2.bin -S -gdb tcp:127.0.0.1:$$(sed -n 's/^target remote 127.0.0.1://p' .gdbinit)

# .gdbinit is loaded by -x; local-gdbinit off keeps GDB from also trying to auto-load it
# (and warning that its safe-path forbids that).
gdb:
	gdb-multiarch -q -iex "set auto-load local-gdbinit off" -x .gdbinit

# ---- tests, demo, benchmarks -----------------------------------------
setup:
	sh scripts/setup.sh

# make test and make demo install what they need first: scripts/setup.sh (with sudo when
# not root) when the cross compiler, QEMU, gdb-multiarch, python3's matplotlib, numpy,
# pytest or selenium, or chromium and its driver (the live view's browser tests) is missing.
tools:
	@if ! command -v $(CC) >/dev/null || ! command -v $(QEMU) >/dev/null || \
	    ! command -v gdb-multiarch >/dev/null || \
	    ! /usr/bin/python3 -c 'import matplotlib, numpy, pytest, selenium' 2>/dev/null || \
	    ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "*** a needed tool is missing: running scripts/setup.sh"; \
		sh scripts/setup.sh; \
	fi

ifeq ($(origin CPUS),command line)
TEST_CPUS := --cpus $(CPUS)
else
TEST_CPUS := --cpus 2 --cpus 4
endif

test: tools
	@$(MAKE) --no-print-directory all
	$(PYTHON) -B -m tests.run_tests $(TEST_CPUS)

demo: tools
	@$(MAKE) --no-print-directory all
	$(PYTHON) -B -m viz.demo

# CMD is typed at the xv6 shell as given (`;` and `&` work); quoted here for the host shell.
trace: tools
	@$(MAKE) --no-print-directory all
	@if [ -z '$(subst ','\'',$(CMD))' ]; then \
		echo 'usage: make trace CMD="prog args" [CPUS=N]' >&2; exit 2; fi
	$(PYTHON) -B -m viz.trace --cpus $(CPUS) -- '$(subst ','\'',$(CMD))'

# The guest figures and the host's callgrind count are compared with bench/baseline.json
# (bench/baseline.py): a figure more than 5% worse fails the target; BENCH_UPDATE=1 writes the
# figures measured as the new baseline instead.
bench: all
	$(MAKE) --no-print-directory -C bench kmalloc
	$(PYTHON) -B -m xvtrace bench
	@if [ -f $(OUT)/test/com2-cpus2.bin ]; then $(PYTHON) -B -m xvtrace bench $(OUT)/test/com2-cpus2.bin; \
	else echo "xvtrace bench: no $(OUT)/test/com2-cpus2.bin (make test leaves it): check not timed"; fi
	$(PYTHON) -B -m viz.bench
	@if [ -f $(OUT)/test/com2-cpus2.bin ]; then \
		$(PYTHON) -B -m viz.bench --capture $(OUT)/test/com2-cpus2.bin; fi
	$(PYTHON) -B -m viz.web.measure latency
	$(PYTHON) -B -m viz.web.measure throughput
	$(PYTHON) -B -m viz.web.measure large
	$(PYTHON) -B -m bench.baseline $(if $(BENCH_UPDATE),--update)

# The random mmap/munmap/mprotect/sbrk stream with more seeds than `make test` runs (1 and 2),
# the power-cut test with more kills than its 20 there, and the system-call storm with
# STORM_CALLS calls for each of STORM_SEEDS (1,000,000 in all; hours, not minutes).
FUZZ_SEEDS ?= 1 2 3 4 5 6 7 8
CRASH_KILLS ?= 200
CRASH_SEED ?= 1000
STORM_SEEDS ?= 1 2 3 4
STORM_CALLS ?= 250000
fuzz: all
	$(PYTHON) -B -m tests.run_tests --skip-host --suite "mmapfuzz $(addprefix seed=,$(FUZZ_SEEDS))" $(TEST_CPUS)
	$(PYTHON) -B -m tests.crashtest --kills $(CRASH_KILLS) --seed $(CRASH_SEED)
	for s in $(STORM_SEEDS); do \
		$(PYTHON) -B -m tests.run_tests --skip-host --suite-timeout 14400 \
			--suite "storm seed=$$s calls=$(STORM_CALLS)" $(TEST_CPUS) || exit 1; \
	done

clean:
	rm -rf $(OUT) .gdbinit

FORCE:
.PHONY: all qemu qemu-nox live qemu-gdb qemu-nox-gdb gdb setup tools test bench demo trace fuzz clean FORCE
.PRECIOUS: $(UOBJ)/%.c.o
.SECONDARY: $(UBINS)
