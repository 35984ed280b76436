# Helper programs for the pytest suites (not self-checking guest tests):
# tests/programs/NAME.c becomes $(BUILD)/tests/programs/NAME (static, musl).
TEST_PROGRAMS := $(patsubst tests/programs/%.c,$(BUILD)/tests/programs/%,$(wildcard tests/programs/*.c))

$(BUILD)/tests/programs/%: tests/programs/%.c
	@mkdir -p $(dir $@)
	$(call msg,MUSLCC,$<)
	$(Q)musl-gcc -static -O2 -g -Wall -Wextra -Werror -pthread -o $@ $<
