# libFuzzer targets for the kernel's parsers (clang only; not part of make check):
#   make fuzz-cpio [FUZZ_SECONDS=60]
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -Itests/unit/shim -Ikernel/include \
	-DUNIT_TEST_BUILD -include tests/unit/host_rename.h

$(BUILD)/tests/fuzz/cpio_fuzz: tests/fuzz/cpio_fuzz.c kernel/fs/cpio.c kernel/lib/printf.c tests/unit/host_rename.h
	@mkdir -p $(dir $@)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/cpio_fuzz.c kernel/fs/cpio.c kernel/lib/printf.c

.PHONY: fuzz-cpio
fuzz-cpio: $(BUILD)/tests/fuzz/cpio_fuzz
	@mkdir -p $(BUILD)/tests/fuzz/cpio-corpus
	$(PYTHON) tests/fuzz/cpio_seeds.py $(BUILD)/tests/fuzz/cpio-corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(BUILD)/tests/fuzz/cpio-corpus

# The ELF validator, seeded with real executables of this machine.
$(BUILD)/tests/fuzz/elf_fuzz: tests/fuzz/elf_fuzz.c kernel/exec/elf.c
	@mkdir -p $(dir $@)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/elf_fuzz.c kernel/exec/elf.c

.PHONY: fuzz-elf
fuzz-elf: $(BUILD)/tests/fuzz/elf_fuzz
	@mkdir -p $(BUILD)/tests/fuzz/elf-corpus
	@cp /bin/true /bin/busybox $(BUILD)/vdso/vdso.so $(BUILD)/tests/fuzz/elf-corpus/ 2>/dev/null || true
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/tests/fuzz/elf-corpus

# ext4: mount, read everything, change a copy; seeded with tiny images from mkfs.ext4.
EXT4_FUZZ_SRCS := $(filter-out kernel/fs/ext4/vfs_% kernel/fs/ext4/blk_%,$(wildcard kernel/fs/ext4/*.c)) \
	kernel/lib/printf.c kernel/lib/strutil.c
$(BUILD)/tests/fuzz/ext4_fuzz: tests/fuzz/ext4_fuzz.c $(EXT4_FUZZ_SRCS) tests/unit/host_rename.h
	@mkdir -p $(dir $@)
	$(call msg,FUZZCC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/ext4_fuzz.c $(EXT4_FUZZ_SRCS)

.PHONY: fuzz-ext4
fuzz-ext4: $(BUILD)/tests/fuzz/ext4_fuzz
	@mkdir -p $(BUILD)/tests/fuzz/ext4-corpus
	tests/fuzz/ext4_seeds.sh $(BUILD)/tests/fuzz/ext4-corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=262144 $(BUILD)/tests/fuzz/ext4-corpus
