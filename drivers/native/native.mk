# Builds berth-native (the native driver's C part) into $(OUT). Called by scripts/build.js as
#   make -s -f drivers/native/native.mk OUT=dist/drivers/native   (cwd: drivers/native)
# Static, so the per-container monitor maps no shared libraries (RSS well under 1 MiB).
OUT ?= ../../dist/drivers/native
SRC := $(wildcard runtime/*.c)
HDR := $(wildcard runtime/*.h)
CFLAGS ?= -Os -Wall -Wextra -Werror -fno-asynchronous-unwind-tables -fno-stack-protector
LDFLAGS ?= -static -Wl,--gc-sections -s

$(OUT)/berth-native: $(SRC) $(HDR)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -ffunction-sections -fdata-sections -o $@ $(SRC) $(LDFLAGS)
