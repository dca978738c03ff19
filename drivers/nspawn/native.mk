# Builds the nspawn driver's static helpers: berth-nspawn-init (the payload systemd-nspawn runs)
# and berth-nspawn-supervisor (the per-container supervisor, and exec's cgroup join).
# Called by scripts/build.js as: make -f native.mk OUT=<dist/drivers/nspawn>
OUT ?= .
CC ?= cc
CFLAGS ?= -Os -Wall -Wextra -Werror

all: $(OUT)/berth-nspawn-init $(OUT)/berth-nspawn-supervisor

$(OUT)/%: native/%.c
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -static -o $@ $<
	strip $@

.PHONY: all
