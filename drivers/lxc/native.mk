# Builds berth-lxc-helper, the LXC driver's static supervisor and start gate (see the .c file).
# Called by scripts/build.js as: make -f native.mk OUT=<dist/drivers/lxc>
OUT ?= .
CC ?= cc
CFLAGS ?= -Os -Wall -Wextra -Werror

$(OUT)/berth-lxc-helper: native/berth-lxc-helper.c
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -static -o $@ $<
	strip $@
