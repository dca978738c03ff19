# Builds berth-nspawn-init, the static helper systemd-nspawn runs as the container's payload.
# Called by scripts/build.js as: make -f native.mk OUT=<dist/drivers/nspawn>
OUT ?= .
CC ?= cc
CFLAGS ?= -Os -Wall -Wextra -Werror

$(OUT)/berth-nspawn-init: native/berth-nspawn-init.c
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -static -o $@ $<
	strip $@
