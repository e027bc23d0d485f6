# ZStack system-global and ticket APIs as C services on a ZeroMQ bus.
# Plain GNU make. `make run` starts the local stack, `make test` runs every test.

CC      ?= cc
PKGS     = libczmq libzmq msgpack lmdb jansson libcurl libsodium
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Icommon -MMD -MP \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcivetweb -lpthread -lm
BUILD   ?= build
BIN      = $(BUILD)/bin

# Debian packages the build, the tests and the bench need.
DEB_PKGS = build-essential pkg-config libzmq3-dev libczmq-dev libmsgpack-dev liblmdb-dev \
           libcivetweb-dev libjansson-dev libcurl4-openssl-dev libsodium-dev check \
           python3 curl wrk sqlite3 clang libclang-rt-14-dev lmdb-utils iptables \
           libedit-dev chromium chromium-driver zsh \
           docker-compose python3-yaml nodejs util-linux iproute2 linux-perf

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBZS      = $(BUILD)/libzs.a

# Every program: name = folder. Each folder's .c files make one binary.
PROGRAMS = gateway:zs-gateway broker:zs-broker svc-core:zs-core svc-tags:zs-tags \
           svc-ticket:zs-ticket svc-longjob:zs-longjob svc-license:zs-license \
           svc-gc:zs-gc tools:zs tools/keys:zs-keys tools/license:zs-license-tool tools/bench/bare:zs-bench-bare
define program
$(2)_SRC := $$(wildcard $(1)/*.c)
$(2)_OBJ := $$($(2)_SRC:%.c=$$(BUILD)/%.o)
$$(BIN)/$(2): $$($(2)_OBJ) $$(LIBZS) | $$(BIN)
	$$(CC) $$(CFLAGS) -o $$@ $$($(2)_OBJ) $$(LIBZS) $$(LDLIBS)
BINARIES += $$(if $$($(2)_SRC),$$(BIN)/$(2))
endef
$(foreach p,$(PROGRAMS),$(eval $(call program,$(word 1,$(subst :, ,$(p))),$(word 2,$(subst :, ,$(p))))))

# Bench helpers: each tools/bench/<name>.c is one program, $(BIN)/zs-bench-<name>.
BENCH_SRC = $(wildcard tools/bench/*.c)
BENCH_BIN = $(BENCH_SRC:tools/bench/%.c=$(BIN)/zs-bench-%)
$(BIN)/zs-bench-%: $(BUILD)/tools/bench/%.o $(LIBZS) | $(BIN)
	$(CC) $(CFLAGS) -o $@ $< $(LIBZS) $(LDLIBS)
BINARIES += $(BENCH_BIN)
.SECONDARY: $(BENCH_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# The zs CLI's interactive shell uses libedit.
$(BIN)/zs: override LDLIBS += -ledit

.PHONY: all deps run test test-unit unit-bins build-asan-unit fuzz bench profile clean
all: deps-check $(BINARIES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBZS): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@   # ar keeps members whose source is gone (query.o after the split)
	$(AR) rcs $@ $^

$(BIN):
	@mkdir -p $@

$(BUILD)/tests/%: tests/unit/%.c $(LIBZS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBZS) $(LDLIBS) $(shell pkg-config --libs check)

# test_handlers checks the real service definitions: it links every service's objects but
# each main.o (the services' global symbols must therefore not clash).
SERVICE_DIRS = svc-core svc-tags svc-ticket svc-longjob svc-license svc-gc broker
SERVICE_MODULE_OBJ = $(filter-out %/main.o,$(patsubst %.c,$(BUILD)/%.o,$(foreach d,$(SERVICE_DIRS),$(wildcard $(d)/*.c))))
$(BUILD)/tests/test_handlers: tests/unit/test_handlers.c $(SERVICE_MODULE_OBJ) $(LIBZS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(SERVICE_MODULE_OBJ) $(LIBZS) $(LDLIBS) $(shell pkg-config --libs check)

# test_broker runs the broker's module in process: it links the broker's objects but main.o.
BROKER_MODULE_OBJ = $(filter $(BUILD)/broker/%,$(SERVICE_MODULE_OBJ))
$(BUILD)/tests/test_broker: tests/unit/test_broker.c $(BROKER_MODULE_OBJ) $(LIBZS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BROKER_MODULE_OBJ) $(LIBZS) $(LDLIBS) $(shell pkg-config --libs check)

# Installs whatever Debian package is missing (as root, or through sudo).
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi; \
	if ! command -v npm >/dev/null; then \
	  SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm; \
	fi
deps-check:
	@pkg-config --exists $(PKGS) && [ -f /usr/include/civetweb.h ] || $(MAKE) --no-print-directory deps

run: deps
	@$(MAKE) --no-print-directory all
	@exec deploy/zs-stack run

# The test build: AddressSanitizer + UndefinedBehaviorSanitizer, its own build folder.
# Before it, the whole tree (programs and unit tests) is compiled with clang as well, into
# build-clang/, so a warning either compiler finds fails `make test` (and CI). -O0: clang's
# warnings come from its front end, not the optimizer, and -O0 keeps the extra step short.
# Both builds use every core unless the caller chose a -j of its own.
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TEST_JOBS = $(if $(findstring j,$(filter-out --%,$(MAKEFLAGS))),,-j$(shell nproc))
test: deps
	@$(MAKE) --no-print-directory $(TEST_JOBS) BUILD=build-clang CC=clang CFLAGS="-O0 -g" all unit-bins
	@echo "clang build: ok (build-clang/)"
	@$(MAKE) --no-print-directory $(TEST_JOBS) BUILD=build-asan CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
	  all build-asan-unit
	@ZS_BIN=build-asan/bin tests/run-all $(UNIT_SRC:tests/unit/%.c=build-asan/tests/%)

# The unit test programs of $(BUILD), built but not run.
unit-bins: $(UNIT_BIN)
build-asan-unit: unit-bins

test-unit: $(UNIT_BIN)
	@tests/unit/run $(UNIT_BIN)

fuzz: deps
	@tests/fuzz/run

bench: deps
	@$(MAKE) --no-print-directory all
	@tools/bench/run

# Where one bench load's time goes, per process: make profile PART=get|ticket|webhook
profile: deps
	@$(MAKE) --no-print-directory all
	@tools/bench/profile $(or $(PART),get)

clean:
	rm -rf build build-asan build-clang build-fuzz

-include $(COMMON_OBJ:.o=.d) $(UNIT_BIN:=.d) $(BENCH_SRC:%.c=$(BUILD)/%.d) $(foreach p,$(PROGRAMS),$($(word 2,$(subst :, ,$(p)))_OBJ:.o=.d))
