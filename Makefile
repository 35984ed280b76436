# Osprey: `make` builds the kernel and the host tool, `make check` runs every test.
.SECONDEXPANSION:
.SECONDARY:
BUILD ?= build
CC ?= gcc
HOSTCC ?= gcc
PYTHON ?= /usr/bin/python3

# `make V=1` shows full commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -Werror
KERNEL_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fcf-protection=none \
	-fno-strict-aliasing -fno-common -Ikernel/include -MMD -MP
KERNEL_ASFLAGS := -Ikernel/include -D__ASSEMBLER__ -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments -T kernel/kernel.ld
OSPREY_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -MMD -MP -D_GNU_SOURCE

# kernel/exec/vdso/ is user-space code (the vDSO), built separately below.
KERNEL_SRCS := $(shell find kernel -path kernel/exec/vdso -prune -o \( -name '*.c' -o -name '*.S' \) -print | sort)
KERNEL_OBJS := $(patsubst kernel/%,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))
OSPREY_SRCS := $(wildcard tools/osprey/*.c)
OSPREY_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(OSPREY_SRCS))

.PHONY: all kernel tools check unit-tests guest-tests go-programs run clean
all: kernel tools
kernel: $(BUILD)/kernel.elf
tools: $(BUILD)/osprey $(BUILD)/osprey-selftest

$(BUILD)/kernel/%.c.o: kernel/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/kernel/%.S.o: kernel/%.S
	@mkdir -p $(dir $@)
	$(call msg,AS,$<)
	$(Q)$(CC) $(KERNEL_ASFLAGS) -c $< -o $@

# Two-pass link: the first pass fixes every text address, the second adds the
# symbol table panic() uses for backtraces (placed after text, so nothing moves).
$(BUILD)/ksyms-empty.S: scripts/gen-ksyms
	@mkdir -p $(dir $@)
	$(Q)scripts/gen-ksyms /dev/null > $@
$(BUILD)/%.o: $(BUILD)/%.S
	$(Q)$(CC) -c $< -o $@
$(BUILD)/kernel.pass1.elf: $(KERNEL_OBJS) $(BUILD)/ksyms-empty.o kernel/kernel.ld
	$(call msg,LD,$@)
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms-empty.o
$(BUILD)/ksyms.S: $(BUILD)/kernel.pass1.elf scripts/gen-ksyms
	$(Q)scripts/gen-ksyms $< > $@
$(BUILD)/kernel.elf: $(BUILD)/kernel.pass1.elf $(BUILD)/ksyms.o
	$(call msg,LD,$@)
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms.o
	$(Q)scripts/gen-ksyms --check $(BUILD)/kernel.pass1.elf $@

# The vDSO: position-independent user code linked into a small shared object,
# checked to need no relocation, and embedded in the kernel image.
VDSO_CFLAGS := -std=gnu11 -O2 $(WARN) -fPIC -ffreestanding -fno-stack-protector -fno-builtin \
	-fno-asynchronous-unwind-tables -fcf-protection=none -mno-red-zone -Ikernel/include -MMD -MP
VDSO_LDFLAGS := -shared -nostdlib -soname=linux-vdso.so.1 --hash-style=both --no-undefined \
	-z max-page-size=4096 -z noexecstack --build-id=none -T kernel/exec/vdso/vdso.lds \
	--version-script=kernel/exec/vdso/vdso.map
$(BUILD)/vdso/vdso.o: kernel/exec/vdso/vdso.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(VDSO_CFLAGS) -c $< -o $@
$(BUILD)/vdso/vdso.so: $(BUILD)/vdso/vdso.o kernel/exec/vdso/vdso.lds kernel/exec/vdso/vdso.map
	$(call msg,LD,$@)
	$(Q)$(LD) $(VDSO_LDFLAGS) -o $@ $<
	$(Q)if readelf -r $@ | grep -q 'Relocation section'; then \
		echo "vdso: $@ needs relocations; it must be position independent" >&2; rm -f $@; exit 1; fi
$(BUILD)/kernel/exec/vdso_blob.S.o: $(BUILD)/vdso/vdso.so
$(BUILD)/kernel/exec/vdso_blob.S.o: KERNEL_ASFLAGS += -DVDSO_SO='"$(BUILD)/vdso/vdso.so"'

$(BUILD)/tools/osprey/main.o: HOST_CFLAGS += -DOSPREY_VERSION='"$(OSPREY_VERSION)"'
$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(call msg,HOSTCC,$<)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@
$(BUILD)/osprey: $(OSPREY_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(HOSTCC) -o $@ $^
# the host tool's unit tests (tests/test_osprey_selftest.py runs them)
OSPREY_TEST_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/osprey/selftest/*.c))
$(BUILD)/tools/osprey/selftest/%.o: HOST_CFLAGS += -Itools/osprey
$(BUILD)/osprey-selftest: $(OSPREY_TEST_OBJS) $(filter-out $(BUILD)/tools/osprey/main.o,$(OSPREY_OBJS))
	$(call msg,LINK,$@)
	$(Q)$(HOSTCC) -o $@ $^

include tests/unit/unit.mk
include tests/linuxboot/linuxboot.mk
include tests/fixtures/fixtures.mk
include tests/guest/guest.mk
include tests/fuzz/fuzz.mk
include tests/go/go.mk
include tests/programs/programs.mk
include kernel/net/net.mk

check: all unit-tests $(LINUXBOOT_BIN) $(FIXTURES) $(GUEST_BINS) $(GO_PROGRAMS) $(TEST_PROGRAMS)
	$(PYTHON) -m pytest -q tests

run: all
	$(BUILD)/osprey run -- --bootchart

# Benchmarks, never part of check: bench/run sets up, builds and measures
# (docs/performance.md); `make bench BENCH_ARGS=--quick` for a smoke run.
.PHONY: bench
bench:
	$(PYTHON) bench/run $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
