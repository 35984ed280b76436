# Host unit tests: one binary per tests/unit/test_<name>.c, linked with the pure
# kernel sources listed in UNIT_SRCS_<name>. Headers in tests/unit/shim/ stand in
# for the few arch headers pure code uses (spinlocks, CPU id); kernel sources get
# host_rename.h so their libc-named functions do not clash with the host's.
UNIT_CFLAGS := -std=gnu11 -O1 -g $(WARN) -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer -DUNIT_TEST_BUILD \
	-Itests/unit/shim -Ikernel/include -Itests/unit -MMD -MP

UNIT_SRCS_lib := kernel/lib/printf.c kernel/lib/rbtree.c kernel/lib/parse.c kernel/lib/errno.c
UNIT_SRCS_memmap := kernel/mm/memmap.c
UNIT_SRCS_bootopts := kernel/core/bootopts.c kernel/lib/printf.c kernel/lib/parse.c kernel/lib/strutil.c
UNIT_SRCS_buddy := kernel/mm/buddy.c
UNIT_SRCS_elf := kernel/exec/elf.c
UNIT_SRCS_stack := kernel/exec/stack.c
UNIT_SRCS_kmalloc := kernel/mm/kmalloc.c kernel/mm/buddy.c kernel/mm/phys.c
UNIT_SRCS_acpi := kernel/drivers/acpi/tables.c kernel/drivers/acpi/madt.c kernel/drivers/acpi/fadt.c \
	kernel/drivers/acpi/aml.c kernel/drivers/acpi/acpi.c
UNIT_SRCS_mptable := kernel/drivers/acpi/mptable.c kernel/drivers/acpi/tables.c
UNIT_SRCS_vma := kernel/mm/vma.c kernel/lib/rbtree.c
UNIT_SRCS_cpio := kernel/fs/cpio.c kernel/lib/printf.c
UNIT_SRCS_radix := kernel/fs/ramfs_radix.c
UNIT_SRCS_virtq := kernel/drivers/virtio/virtq.c
UNIT_SRCS_pci := kernel/drivers/pci/pci_caps.c kernel/drivers/virtio/virtio_pci_caps.c
UNIT_SRCS_virtio_parse := kernel/drivers/virtio/virtio_mmio_desc.c kernel/drivers/virtio/virtio_acpi.c \
	kernel/lib/parse.c kernel/lib/strutil.c
# ext4: the core (everything but the VFS and block-device glue, vfs_*.c and blk_*.c)
EXT4_CORE_SRCS := $(filter-out kernel/fs/ext4/vfs_% kernel/fs/ext4/blk_%,$(wildcard kernel/fs/ext4/*.c))
UNIT_SRCS_ext4 := $(EXT4_CORE_SRCS) kernel/lib/printf.c kernel/lib/strutil.c
UNIT_SRCS_ext4_write := $(UNIT_SRCS_ext4)
UNIT_SRCS_ext4_corrupt := $(UNIT_SRCS_ext4)
UNIT_SRCS_ext4_journal := $(UNIT_SRCS_ext4)

UNIT_NAMES := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit/test_%,$(UNIT_NAMES))
unit_kobjs = $(patsubst kernel/%.c,$(BUILD)/tests/unit/kernel/%.o,$(UNIT_SRCS_$(1)))

$(BUILD)/tests/unit/kernel/%.o: kernel/%.c tests/unit/host_rename.h
	@mkdir -p $(dir $@)
	$(call msg,HOSTCC,$<)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -include tests/unit/host_rename.h -c $< -o $@

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(call msg,HOSTCC,$<)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -c $< -o $@

$(BUILD)/tests/unit/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/tests/unit/unit_main.o $$(call unit_kobjs,$$*)
	$(call msg,LINK,$@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -o $@ $^ -lpthread

unit-tests: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do $$t; done
