# Testing the kernel's Linux 64-bit boot entry: linuxboot boots it on /dev/kvm
# as Firecracker would; the shim (a PVH guest for QEMU -kernel, the kernel as its
# -initrd) sets up the same machine state, so TCG runs exercise the entry too.
LINUXBOOT_BIN := $(BUILD)/tests/linuxboot/linuxboot $(BUILD)/tests/linuxboot/shim.elf

SHIM_CFLAGS := -std=gnu11 -O2 $(WARN) -m32 -ffreestanding -fno-builtin -nostdlib -fno-pic \
	-fno-pie -fno-stack-protector -mgeneral-regs-only -fcf-protection=none \
	-fno-asynchronous-unwind-tables -MMD -MP
SHIM_OBJS := $(BUILD)/tests/linuxboot/shim.o $(BUILD)/tests/linuxboot/shim_setup.o

$(BUILD)/tests/linuxboot/linuxboot: tests/linuxboot/linuxboot.c
	@mkdir -p $(dir $@)
	$(call msg,HOSTCC,$<)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -o $@ $<

$(BUILD)/tests/linuxboot/shim.o: tests/linuxboot/shim.S
	@mkdir -p $(dir $@)
	$(call msg,AS,$<)
	$(Q)$(CC) -m32 -MMD -MP -c $< -o $@

$(BUILD)/tests/linuxboot/shim_setup.o: tests/linuxboot/shim_setup.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(BUILD)/tests/linuxboot/shim.elf: $(SHIM_OBJS) tests/linuxboot/shim.ld
	$(call msg,LD,$@)
	$(Q)$(LD) -m elf_i386 -z noexecstack --no-warn-rwx-segments -T tests/linuxboot/shim.ld -o $@ $(SHIM_OBJS)
