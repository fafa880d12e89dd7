# mlctl — build, test and install.
#
#   make deps            install the Debian packages the build and the tests need
#   make                 build/mlctl, build/libmlctl.a, build/libmlctl.so
#   make check           unit tests (Check) + end-to-end CLI tests + fuzz seed replay
#   make check SANITIZE=1  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan            the threaded unit tests under ThreadSanitizer (build-tsan/)
#   make layers          no lib/ include climbs a floor or closes a circle (lib/README.md)
#   make install PREFIX=/usr/local
#   make fuzz            libFuzzer binaries (clang) in build/fuzz/

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= gcc

ifeq ($(SANITIZE),1)
BUILD     ?= build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
BUILD     ?= build-tsan
SANFLAGS  := -fsanitize=thread -fno-omit-frame-pointer
else
BUILD     ?= build
SANFLAGS  :=
endif

PKGS      := sqlite3 yaml-0.1 zlib jansson libmicrohttpd libarchive libsodium
DEB_PKGS  := build-essential pkg-config libsvm-dev libsqlite3-dev libyaml-dev zlib1g-dev \
             check libjansson-dev libmicrohttpd-dev libarchive-dev libsodium-dev \
             libopenblas-dev libsvm-tools python3-sklearn python3-numpy python3-scipy python3-pandas python3-yaml python3-flask gunicorn minisign \
             mandoc sqlite3 valgrind hyperfine wrk curl clang time libxml2-utils prometheus chromium strace bc

OPT       ?= -O2
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Wno-format-truncation
CPPFLAGS  += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMLCTL_VERSION='"$(VERSION)"' \
             -Ilib -Ilib/include $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS    += -std=c11 $(OPT) -g -fPIC -ffp-contract=off $(WARN) $(SANFLAGS)
LDFLAGS   += $(SANFLAGS)
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsvm -lpthread -lm -ldl

LIB_SRC   := $(sort $(wildcard lib/*.c))
CLI_SRC   := $(sort $(wildcard cli/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/check_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_RUN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/%-replay)
HEADERS   := $(wildcard lib/*.h lib/include/*.h lib/include/mlctl/*.h cli/*.h)

.PHONY: all deps check unit clitest tsan purity layers fuzz-replay fuzz install uninstall clean headercheck manlint bench demo valgrind

all: $(BUILD)/mlctl $(BUILD)/libmlctl.a $(BUILD)/libmlctl.so

deps:
	@sh scripts/deps.sh $(BUILD)/deps.log $(DEB_PKGS)

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The scorer's kernels keep their small accumulator arrays in registers only when GCC
# unrolls the loops over them, which -O3 does (at -O2 they live on the stack: 3x slower).
$(BUILD)/lib/svkern.o: CFLAGS += -O3

$(BUILD)/libmlctl.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/libmlctl.so: $(LIB_OBJ)
	@echo "  LD      $@"
	@$(CC) -shared -Wl,-soname,libmlctl.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mlctl: $(CLI_OBJ) $(BUILD)/libmlctl.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libmlctl.a $(LDLIBS)

$(BUILD)/tests/check_%: tests/unit/check_%.c tests/unit/check_util.h $(BUILD)/libmlctl.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -Wno-missing-prototypes $(shell pkg-config --cflags check) \
		$(LDFLAGS) -o $@ $< $(BUILD)/libmlctl.a $(shell pkg-config --libs check) $(LDLIBS)

# Fuzz targets are also built with a plain main() that replays their seed corpus, so that
# `make check` exercises every parser on its seeds even where no fuzzer runs.
$(BUILD)/tests/fuzz_%-replay: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libmlctl.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< tests/fuzz/replay.c \
		$(BUILD)/libmlctl.a $(LDLIBS)

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		CK_FORK=yes ./$$t || fail=1; \
	done; exit $$fail

# The unit tests under valgrind (memcheck; definite leaks are errors). MLCTL_TEST_ROWS caps
# the rows the scorer suite compares with libsvm per file (every row would take hours).
VALGRIND_SKIP ?=
valgrind: $(UNIT_BIN)
	@pass=0; fail=0; for t in $(UNIT_BIN); do \
		case " $(VALGRIND_SKIP) " in *" $${t##*/} "*) echo "valgrind: $${t##*/} skipped"; continue ;; esac; \
		if CK_FORK=no MLCTL_TEST_ROWS=300 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
			./$$t >$$t.valgrind.log 2>&1; then echo "valgrind: $${t##*/} clean"; pass=$$((pass + 1)); \
		else echo "valgrind: $${t##*/} FAILED (see $$t.valgrind.log)"; tail -30 $$t.valgrind.log; fail=$$((fail + 1)); fi; \
	done; echo "valgrind: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# The suites whose tests run library calls on several threads at once, under
# ThreadSanitizer (a report is an error). check_tune runs the tuning pool (libsvm fits on
# threads, the shared kernel matrix built by them and read by every fit); check_monitor
# runs the scoring pipeline with batch profiles and the scored sample.
TSAN_SUITES := check_embed check_scorer check_predlog check_serve check_monitor check_bundle check_tune
tsan:
	@$(MAKE) --no-print-directory SANITIZE=thread $(TSAN_SUITES:%=build-tsan/tests/%)
	@fail=0; for t in $(TSAN_SUITES); do \
		if CK_FORK=no MLCTL_TEST_ROWS=300 TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./build-tsan/tests/$$t >build-tsan/tests/$$t.tsan.log 2>&1; \
		then echo "tsan: $$t clean"; else echo "tsan: $$t FAILED"; tail -40 build-tsan/tests/$$t.tsan.log; fail=1; fi; \
	done; exit $$fail

fuzz-replay: $(FUZZ_RUN)
	@fail=0; for t in $(FUZZ_RUN); do \
		n=$${t##*/}; n=$${n%-replay}; n=$${n#fuzz_}; \
		./$$t tests/fuzz/corpus/$$n || fail=1; \
	done; exit $$fail

clitest: $(BUILD)/mlctl
	@MLCTL=$(CURDIR)/$(BUILD)/mlctl SHARED_DATA=$(CURDIR)/examples/data sh tests/cli/run.sh

# lib/ never prints, handles signals, sets the locale or exits (tests/purity/): the check,
# and its self-test that injects each of those into a copy of lib/.
purity:
	@sh tests/purity/check.sh lib
	@sh tests/purity/selftest.sh

headercheck:
	@echo '#include "mlctl.h"' | $(CC) -std=c11 -pedantic -Werror -Wall -Wextra -Ilib/include -x c -fsyntax-only -
	@echo "headercheck: mlctl.h compiles alone with -std=c11 -pedantic"

# The floors of lib/ (lib/README.md): every file names its floor, and none includes the
# private header of a module on a higher one. The self-test proves the check still fails.
layers:
	@sh tests/layers/check.sh lib
	@sh tests/layers/selftest.sh

manlint:
	@if command -v mandoc >/dev/null; then \
		mandoc -T lint -W warning man/*.[0-9] && echo "manlint: clean"; \
	else echo "manlint: mandoc not installed, skipped"; fi

# The README's two commands: `make demo` (the main job on the example data) and
# `make check` (the tests). Each installs what it needs first.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory headercheck purity layers manlint unit fuzz-replay clitest

demo: deps
	@$(MAKE) --no-print-directory all
	sh examples/demo.sh

fuzz:
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$${f##*/}; n=$${n%.c}; \
		echo "clang $$f"; \
		clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzz/$$n $$f $(LIB_SRC) $(LDLIBS) || exit 1; \
	done

bench: all
	sh bench/registry.sh
	sh bench/serve.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/mlctl \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BUILD)/mlctl $(DESTDIR)$(PREFIX)/bin/mlctl
	install -m 644 $(BUILD)/libmlctl.a $(DESTDIR)$(PREFIX)/lib/libmlctl.a
	install -m 755 $(BUILD)/libmlctl.so $(DESTDIR)$(PREFIX)/lib/libmlctl.so.0
	ln -sf libmlctl.so.0 $(DESTDIR)$(PREFIX)/lib/libmlctl.so
	install -m 644 lib/include/mlctl.h $(DESTDIR)$(PREFIX)/include/mlctl.h
	install -m 644 lib/include/mlctl/*.h $(DESTDIR)$(PREFIX)/include/mlctl/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	-install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/ 2>/dev/null
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@PRIVATE@|$(shell pkg-config --libs $(PKGS)) -lsvm -lpthread -lm -ldl|' \
		mlctl.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mlctl.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mlctl $(DESTDIR)$(PREFIX)/lib/libmlctl.* \
		$(DESTDIR)$(PREFIX)/include/mlctl.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/mlctl.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/mlctl

clean:
	rm -rf build build-san build-tsan
