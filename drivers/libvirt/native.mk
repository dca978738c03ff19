# Builds berth-lxc-init (static) into $(OUT)/init/ ; run by scripts/build.js with OUT=dist/drivers/libvirt.
OUT ?= ../../dist/drivers/libvirt
CFLAGS ?= -Os -Wall -Wextra -Werror
$(OUT)/init/berth-lxc-init: native/berth-lxc-init.c
	@mkdir -p $(OUT)/init
	$(CC) $(CFLAGS) -static -o $@ $<
	@strip $@
