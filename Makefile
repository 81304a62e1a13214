# maillage — map tiles and lookup for the French rare-disease care network.
#
#   make run     installs missing deps, builds, builds the dataset, serves on 127.0.0.1:8080
#   make test    installs missing deps, builds, runs every test suite (exit 0 = all passed)
#
# Other targets: all, dataset, bench, bench-build, soak, lint, format, clean.
# SAN=1 builds into build/san with AddressSanitizer + UndefinedBehaviorSanitizer.

SAN ?= 0
ifeq ($(SAN),1)
BUILD := build/san
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPTIMIZE := -O1
else
BUILD := build
SANITIZE :=
OPTIMIZE := -O2
endif

CC ?= cc
PACKAGES := sqlite3 spatialite proj geos libmicrohttpd zlib
LISTEN ?= 127.0.0.1:8080
PORT ?= $(lastword $(subst :, ,$(LISTEN)))

SOURCES := $(sort $(wildcard src/*/*.c))
OBJECTS := $(SOURCES:src/%.c=$(BUILD)/obj/%.o)
LIBRARY_OBJECTS := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJECTS))
UNIT_SOURCES := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINARIES := $(UNIT_SOURCES:tests/unit/%.c=$(BUILD)/tests/%)
BINARY := $(BUILD)/maillage
DATABASE := $(BUILD)/maillage.sqlite
GEODATA := $(wildcard geodata/*.csv geodata/*.geojson)

.PHONY: all run dataset test unit-tests bench bench-build bench-page soak lint format clean deps test-deps web

all: $(BINARY)

# Library flags come from pkg-config once the Debian packages are present.
ifeq ($(filter clean format,$(MAKECMDGOALS)),)
include $(BUILD)/config.mk
endif

$(BUILD)/config.mk: tools/debian-packages.txt tools/install-deps.sh
	@tools/install-deps.sh build
	@mkdir -p $(@D)
	@{ echo "PACKAGE_CFLAGS := $$(pkg-config --cflags $(PACKAGES))"; \
	   echo "PACKAGE_LIBS := $$(pkg-config --libs $(PACKAGES))"; } > $@.tmp && mv $@.tmp $@

CFLAGS := -std=c11 -D_GNU_SOURCE $(OPTIMIZE) -g -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers -Isrc $(SANITIZE)
LDFLAGS := $(SANITIZE)

$(BUILD)/obj/%.o: src/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PACKAGE_CFLAGS) -MMD -MP -c $< -o $@

$(BINARY): $(OBJECTS)
	$(CC) $(LDFLAGS) $^ $(PACKAGE_LIBS) -lpthread -lm -o $@

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBRARY_OBJECTS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PACKAGE_CFLAGS) -Isrc -Itests/unit $< $(LIBRARY_OBJECTS) \
		$(LDFLAGS) $(PACKAGE_LIBS) -lpthread -lm -o $@

# The SYNTHETIC network generator for tests and benchmarks (tools/synthetic_network.c).
SYNTHETIC_NETWORK := $(BUILD)/tools/synthetic-network
$(SYNTHETIC_NETWORK): tools/synthetic_network.c $(BUILD)/obj/base/csv.o $(BUILD)/obj/base/text.o \
		$(BUILD)/obj/base/array.o \
		$(BUILD)/obj/base/buffer.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Isrc $^ $(LDFLAGS) -lm -o $@

# The benchmark-only floor server (tools/bench_floor_api.c replaces api.o):
# built by `make bench` only, never by `make all` or `make test`.
FLOOR_BINARY := $(BUILD)/tools/maillage-floor
$(FLOOR_BINARY): tools/bench_floor_api.c $(filter-out $(BUILD)/obj/http/api.o,$(OBJECTS))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PACKAGE_CFLAGS) -Isrc $^ $(LDFLAGS) $(PACKAGE_LIBS) -lpthread -lm -o $@

-include $(OBJECTS:.o=.d)

# The dataset built from the shipped geodata.
dataset: $(DATABASE)
$(DATABASE): $(BINARY) $(GEODATA)
	$(BINARY) build --geodata geodata --out $@ --report $(BUILD)/build-report.json

# Web assets: npm packages pinned in web/package-lock.json, vendored into web/vendor.
web:
	@tools/build-web.sh

run: $(BINARY) $(DATABASE) web
	$(BINARY) serve --db $(DATABASE) --listen $(LISTEN) --web web

deps:
	@tools/install-deps.sh build

test-deps:
	@tools/install-deps.sh build test

test: test-deps $(BINARY) $(UNIT_BINARIES) $(SYNTHETIC_NETWORK) $(DATABASE) web
	@tools/install-npm.sh tests
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh $(UNIT_BINARIES)

unit-tests: $(UNIT_BINARIES)

bench-build: $(BINARY) $(SYNTHETIC_NETWORK)
	@tools/install-deps.sh build bench
	@BUILD=$(BUILD) tools/bench-build.sh

bench: $(BINARY) $(DATABASE) $(SYNTHETIC_NETWORK) $(FLOOR_BINARY)
	@tools/install-deps.sh build bench
	@BUILD=$(BUILD) tools/bench.sh

# A long mixed load with reloads, then a run under valgrind (tools/soak.sh);
# figures in $(BUILD)/evidence/soak.tsv.
soak: $(BINARY) $(DATABASE) $(SYNTHETIC_NETWORK) web
	@tools/install-deps.sh build bench
	@BUILD=$(BUILD) tools/soak.sh

# The page: first meaningful paint and bytes of the first view in headless Chromium.
bench-page: $(BINARY) $(DATABASE) web
	@tools/install-deps.sh build test
	@BUILD=$(BUILD) tools/bench-page.sh

lint: $(BUILD)/config.mk
	tools/check-layers.sh
	clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr --suppress=missingIncludeSystem -Isrc src tests/unit tools

tidy: $(BUILD)/config.mk
	@for file in src/*/*.c; do clang-tidy --quiet $$file -- -std=c11 -D_GNU_SOURCE $(PACKAGE_CFLAGS) -Isrc 2>/dev/null; done

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build
