# Loupe -- `make run` starts the server with a demo project, `make test` runs
# every test.  Both install the Debian packages they need first.

PKGS    := libmicrohttpd jansson sqlite3 libsodium libcurl libpq libarchive expat yaml-0.1 libpng liblzf
CC      ?= gcc
OPT     ?= -O2
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-format-truncation -g $(OPT) -Isrc
LDLIBS  += -lcsv -lpthread -lm
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(wildcard src/*.c)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
UNIT_SRC := tests/unit.c $(wildcard tests/test_*.c)

# build/ holds the normal objects, build/san/ the sanitizer ones.
OBJ      := $(SRC:src/%.c=build/%.o)
SAN_OBJ  := $(SRC:src/%.c=build/san/%.o)
UNIT_OBJ := $(UNIT_SRC:tests/%.c=build/tests/%.o)
SAN_UNIT_OBJ := $(UNIT_SRC:tests/%.c=build/san/tests/%.o)

.PHONY: all run test deps test-deps unit san clean format bench bench-export fuzz fuzzers soak

all: loupe

loupe: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

build/%.o: src/%.c $(wildcard src/*.h) | build
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<
build/tests/%.o: tests/%.c $(wildcard src/*.h tests/*.h) | build
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests -c -o $@ $<
build/san/%.o: src/%.c $(wildcard src/*.h) | build
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -c -o $@ $<
build/san/tests/%.o: tests/%.c $(wildcard src/*.h tests/*.h) | build
	$(CC) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -Itests -c -o $@ $<

build:
	@mkdir -p build/tests build/san/tests

build/unit: $(UNIT_OBJ) $(filter-out build/main.o,$(OBJ))
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)
build/san/unit: $(SAN_UNIT_OBJ) $(filter-out build/san/main.o,$(SAN_OBJ))
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDLIBS)
build/san/loupe: $(SAN_OBJ)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDLIBS)
# A fault injector for the API tests (LD_PRELOAD): failing flushes.
build/failsync.so: tests/faults/failsync.c | build
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

deps:
	@scripts/install-deps run

test-deps:
	@scripts/install-deps test

run: deps
	@$(MAKE) --no-print-directory loupe
	./loupe serve --demo

unit: build/unit
	./build/unit

test: test-deps
	@$(MAKE) --no-print-directory loupe build/unit build/san/unit build/san/loupe build/failsync.so fuzzers
	@scripts/run-tests

bench: loupe
	@bench/run

# Export and import of a 1,000,000-task project (writes bench/export.md).
bench-export: loupe
	@bench/export-run

# The soak test (tests/api/soak.test.mjs) for SOAK_SECONDS (`make test`
# runs it for 120 s): its figures (RSS and open descriptors every 2 s,
# the load, the deliveries) are printed.  LOUPE_TEST_DB_URL=postgres://...
# runs it on PostgreSQL.
SOAK_SECONDS ?= 1800
soak: loupe
	SOAK_SECONDS=$(SOAK_SECONDS) LOUPE_BIN=./loupe node --test --test-reporter=spec tests/api/soak.test.mjs

format:
	clang-format -i src/*.c src/*.h tests/*.c tests/*.h

clean:
	rm -rf build loupe

# libFuzzer drivers (clang): `make fuzz` fuzzes each for FUZZ_SECONDS;
# `make test` fuzzes each for 30 s, two at a time (scripts/fuzz-run).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined
FUZZ_LIB   := $(filter-out src/main.c,$(SRC))
build/fuzz/%: fuzz/%.c $(FUZZ_LIB) $(wildcard src/*.h)
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) $(LDLIBS)
FUZZERS := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
fuzzers: $(FUZZERS)
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus-$$n; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build/fuzz/corpus-$$n fuzz/corpus/$$n || exit 1; done
