# Networking: lwIP from Debian's `lwip` source package, compiled into the
# kernel with our kernel/net/lwip/lwipopts.h and port headers. The source is
# unpacked into build/lwip-src by scripts/fetch-lwip (scripts/setup runs it;
# make runs it too when the tree is missing). No lwIP file is in the repository.

LWIP_DIR := $(BUILD)/lwip-src
LWIP_STAMP := $(LWIP_DIR)/.osprey-fetched

# Only what the raw API needs: core, IPv4, TCP, UDP, ICMP, IGMP, DHCP, ARP.
LWIP_SRCS := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c core/tcp_out.c \
	core/timeouts.c core/udp.c \
	core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/igmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c \
	netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(BUILD)/lwip/%.o,$(LWIP_SRCS))
LWIP_INCLUDES := -Ikernel/net/lwip -isystem $(LWIP_DIR)/src/include

# Third-party code: the kernel's code-generation flags (no SSE, kernel code
# model, no red zone) but not our -Werror, and its own warnings quietened.
LWIP_CFLAGS := $(filter-out -Werror,$(KERNEL_CFLAGS)) -Ikernel/net/lwip/compat -Ikernel/net/lwip \
	-I$(LWIP_DIR)/src/include \
	-Wno-unused-parameter -Wno-sign-compare -Wno-address -Wno-type-limits \
	-Wno-implicit-fallthrough -Wno-missing-field-initializers -Wno-unused-but-set-variable

$(LWIP_STAMP):
	@if ! scripts/fetch-lwip $(LWIP_DIR); then \
		echo "error: the lwIP source is missing from $(LWIP_DIR) and could not be fetched." >&2; \
		echo "error: run scripts/setup (it enables deb-src entries and installs dpkg-dev), then make again." >&2; \
		exit 1; fi

# The sources appear when the stamp's rule has run (explicit names: a
# pattern here would let make chain built-in rules onto any name).
$(addprefix $(LWIP_DIR)/src/,$(LWIP_SRCS)): | $(LWIP_STAMP) ;

$(BUILD)/lwip/%.o: $(LWIP_DIR)/src/%.c kernel/net/lwip/lwipopts.h kernel/net/lwip/arch/cc.h | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	$(call msg,CC,lwip/$*.c)
	$(Q)$(CC) $(LWIP_CFLAGS) -c $< -o $@

# Our own networking code sees lwIP's headers (as system headers) and the
# port headers; it keeps -Werror.
NET_OBJS := $(filter $(BUILD)/kernel/net/%,$(KERNEL_OBJS)) \
	$(filter $(BUILD)/kernel/drivers/virtio/virtio_net%,$(KERNEL_OBJS))
$(NET_OBJS): KERNEL_CFLAGS += $(LWIP_INCLUDES)
$(NET_OBJS): kernel/net/lwip/lwipopts.h kernel/net/lwip/arch/cc.h | $(LWIP_STAMP)

KERNEL_OBJS += $(LWIP_OBJS)
$(BUILD)/kernel.pass1.elf: $(LWIP_OBJS)

# Host unit tests of the pure parts (tests/unit/test_net_parse.c).
UNIT_SRCS_net_parse := kernel/net/net_parse.c kernel/lib/printf.c kernel/lib/strutil.c
