# Guest test programs: every tests/guest/NAME.c is built twice, static with
# musl (NAME.musl) and dynamic with glibc (NAME.glibc); tests/test_guest.py
# runs both inside Osprey and natively.
GUEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-unused-function -pthread
GUEST_NAMES := $(patsubst tests/guest/%.c,%,$(wildcard tests/guest/*.c))
GUEST_BINS := $(foreach n,$(GUEST_NAMES),$(BUILD)/tests/guest/$(n).musl $(BUILD)/tests/guest/$(n).glibc)
GUEST_HEADERS := $(wildcard tests/guest/*.h)

$(BUILD)/tests/guest/%.musl: tests/guest/%.c $(GUEST_HEADERS)
	@mkdir -p $(dir $@)
	$(call msg,MUSLCC,$<)
	$(Q)musl-gcc -static $(GUEST_CFLAGS) -o $@ $<

$(BUILD)/tests/guest/%.glibc: tests/guest/%.c $(GUEST_HEADERS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$<)
	$(Q)$(HOSTCC) $(GUEST_CFLAGS) -o $@ $<

guest-tests: $(GUEST_BINS)
