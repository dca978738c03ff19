# Builds berth-lxc-helper, the LXC driver's static supervisor and start gate (see the .c file).
# Called by scripts/build.js as: make -f native.mk OUT=<dist/drivers/lxc>
# musl-gcc (Debian's musl-tools) when present: a static musl binary starts in ~0.1 ms where a static
# glibc one takes ~0.5 ms (glibc's start-up probes the CPU with cpuid, slow under a hypervisor), and
# the helper is exec'd twice per container on the start path. Otherwise the system compiler.
OUT ?= .
CC := $(shell command -v musl-gcc 2>/dev/null || echo cc)
CFLAGS ?= -Os -Wall -Wextra -Werror

$(OUT)/berth-lxc-helper: native/berth-lxc-helper.c native.mk
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -static -o $@ $<
	strip $@
