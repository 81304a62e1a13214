# maillage — map tiles and lookup for the French rare-disease care network.
#
#   make run     installs missing deps, builds, builds the dataset, serves on 127.0.0.1:8080
#   make test    installs missing deps, builds, runs every test suite (exit 0 = all passed)
#
# Other targets: all, dataset, bench, bench-build, fuzz, soak, lint, format, clean, install,
# uninstall, man, security-report.
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
PACKAGES := sqlite3 spatialite proj geos libmicrohttpd zlib libsystemd
LISTEN ?= 127.0.0.1:8080
PORT ?= $(lastword $(subst :, ,$(LISTEN)))

SOURCES := $(sort $(wildcard src/*/*.c))
# docs/openapi.json, embedded (src/http/openapi_route.h says why).
GENERATED_OBJECTS := $(BUILD)/obj/gen/openapi_document.o
OBJECTS := $(SOURCES:src/%.c=$(BUILD)/obj/%.o) $(GENERATED_OBJECTS)
LIBRARY_OBJECTS := $(filter-out $(BUILD)/obj/cli/main.o,$(OBJECTS))
UNIT_SOURCES := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINARIES := $(UNIT_SOURCES:tests/unit/%.c=$(BUILD)/tests/%)
BINARY := $(BUILD)/maillage
DATABASE := $(BUILD)/maillage.sqlite
GEODATA := $(wildcard geodata/*.csv geodata/*.geojson)

.PHONY: all run dataset test unit-tests fuzz fuzz-build bench bench-build bench-page soak lint format \
	clean deps test-deps web install uninstall man security-report

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

$(BUILD)/gen/openapi_document.c: docs/openapi.json tools/embed-file.sh
	@mkdir -p $(@D)
	tools/embed-file.sh openapi_document http/openapi_route.h $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

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

# ---- libFuzzer targets (tests/fuzz/fuzz_<target>.c, seed corpora in tests/fuzz/<target>/) ----
# Library objects are compiled again with clang into build/fuzz/ with
# -fsanitize=fuzzer-no-link,address,undefined; each target links with
# -fsanitize=fuzzer,address,undefined. `make fuzz` runs each target for
# FUZZ_SECONDS and writes build/evidence/fuzz.tsv; `make test` runs each a
# few seconds (tests/fuzz/smoke.sh, plain build only).
FUZZ_SECONDS ?= 300
FUZZ_CC := clang
FUZZ_BUILD := build/fuzz
FUZZ_SANITIZE := address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(filter-out -O2 $(SANITIZE),$(CFLAGS)) -O1 -Itests/unit -Itests/fuzz
FUZZ_OBJECTS := $(filter-out $(FUZZ_BUILD)/obj/cli/main.o,$(SOURCES:src/%.c=$(FUZZ_BUILD)/obj/%.o)) \
	$(FUZZ_BUILD)/obj/gen/openapi_document.o
FUZZ_SOURCES := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINARIES := $(FUZZ_SOURCES:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/obj/%.o: src/%.c $(BUILD)/config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZE) $(PACKAGE_CFLAGS) \
		-MMD -MP -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h tests/unit/*.h) $(FUZZ_OBJECTS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SANITIZE) $(PACKAGE_CFLAGS) $< \
		$(FUZZ_OBJECTS) $(PACKAGE_LIBS) -lpthread -lm -o $@

-include $(FUZZ_OBJECTS:.o=.d)
# Not intermediate files: kept between runs (make would delete them after a link).
.SECONDARY: $(FUZZ_OBJECTS)

fuzz-build: $(FUZZ_BINARIES)

fuzz: test-deps $(FUZZ_BINARIES) $(DATABASE)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BINARIES)
# ---- end of the libFuzzer targets ----

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

test: test-deps $(BINARY) $(UNIT_BINARIES) $(SYNTHETIC_NETWORK) $(DATABASE) web \
		$(if $(filter 0,$(SAN)),$(FUZZ_BINARIES))
	@tools/install-npm.sh tests
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh $(UNIT_BINARIES)

unit-tests: $(UNIT_BINARIES)

bench-build: $(BINARY) $(SYNTHETIC_NETWORK)
	@tools/install-deps.sh build bench
	@BUILD=$(BUILD) tools/bench-build.sh

# N=10000,100000,1000000: one run per size, then BENCHMARKS.md (tools/bench-growth.sh).
bench: $(BINARY) $(DATABASE) $(SYNTHETIC_NETWORK) $(FLOOR_BINARY)
	@tools/install-deps.sh build bench
	@if [ -n "$(N)" ]; then BUILD=$(BUILD) tools/bench-growth.sh "$(N)"; else BUILD=$(BUILD) tools/bench.sh; fi

# A long mixed load with reloads, then a run under valgrind (tools/soak.sh);
# figures in $(BUILD)/evidence/soak.tsv.
soak: $(BINARY) $(DATABASE) $(SYNTHETIC_NETWORK) web
	@tools/install-deps.sh build bench
	@BUILD=$(BUILD) tools/soak.sh

# The page: first meaningful paint and bytes of the first view in headless Chromium.
bench-page: $(BINARY) $(DATABASE) web
	@tools/install-deps.sh build test
	@BUILD=$(BUILD) tools/bench-page.sh

# SECURITY.md from tools/security-template.md and the last runs' build/evidence/*.tsv.
security-report:
	@tools/security-report.sh

lint: $(BUILD)/config.mk
	tools/check-layers.sh
	clang-format --dry-run --Werror src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h \
		tests/fuzz/*.c tests/fuzz/*.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr --suppress=missingIncludeSystem -Isrc -Itests/unit src \
		tests/unit tests/fuzz/*.c tools

tidy: $(BUILD)/config.mk
	@for file in src/*/*.c; do clang-tidy --quiet $$file -- -std=c11 -D_GNU_SOURCE $(PACKAGE_CFLAGS) -Isrc 2>/dev/null; done

format:
	clang-format -i src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h

clean:
	rm -rf build

# --- install, uninstall, man page (issue 15) ---------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the page (web/ with
# its vendored files), the geodata with its README and sources, a prebuilt
# database and the man page. The installed binary is linked apart, in
# $(BUILD)/install/, with install_paths.c compiled again with the data
# directory, so $(BINARY) is never rebuilt for a PREFIX; its `serve`,
# `nearest` and `coverage` default --db (and serve --web) to DATADIR.
VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
DATADIR := $(PREFIX)/share/maillage
MANDIR := $(PREFIX)/share/man/man1
WEB_FILES := index.html embed.html README.md css icons js vendor

$(BUILD)/obj/cli/version_command.o: VERSION
$(BUILD)/obj/cli/version_command.o: CFLAGS += -DMAILLAGE_VERSION='"$(VERSION)"'

INSTALLED_BINARY := $(BUILD)/install/maillage
$(INSTALLED_BINARY): $(filter-out $(BUILD)/obj/cli/install_paths.o,$(OBJECTS)) FORCE
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PACKAGE_CFLAGS) -DMAILLAGE_DATADIR='"$(DATADIR)"' \
		-c src/cli/install_paths.c -o $(BUILD)/install/install_paths.o
	$(CC) $(LDFLAGS) $(filter %.o,$^) $(BUILD)/install/install_paths.o $(PACKAGE_LIBS) \
		-lpthread -lm -o $@

install: $(INSTALLED_BINARY) $(DATABASE) web docs/maillage.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DATADIR)/geodata \
		$(DESTDIR)$(MANDIR)
	install -m 755 $(INSTALLED_BINARY) $(DESTDIR)$(BINDIR)/maillage
	install -m 644 $(DATABASE) $(DESTDIR)$(DATADIR)/maillage.sqlite
	cd web && cp -R $(WEB_FILES) $(abspath $(DESTDIR)$(DATADIR))/web/
	rm -f $(DESTDIR)$(DATADIR)/web/vendor/.stamp
	cp -R geodata/. $(DESTDIR)$(DATADIR)/geodata/
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)
	install -m 644 docs/maillage.1 $(DESTDIR)$(MANDIR)/maillage.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/maillage $(DESTDIR)$(MANDIR)/maillage.1
	rm -rf $(DESTDIR)$(DATADIR)

# docs/maillage.1 is generated from the commands' --help (tools/make-man.mjs);
# tests/cli/help.sh fails when the committed page differs from it.
man: $(BINARY)
	node tools/make-man.mjs $(BINARY) > docs/maillage.1.tmp && mv docs/maillage.1.tmp docs/maillage.1

FORCE:
# --- end of install, uninstall, man page ---------------------------------------
