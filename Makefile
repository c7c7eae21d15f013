# pysandbox - Python sandbox service.  `make run` and `make test` are the
# two commands (see README.md); everything they need is installed from here.

PYODIDE_VERSION := 0.29.5
# sha256 of the npm tarball pyodide-0.29.5.tgz (npm integrity
# sha512-TkYrUv9m8QmfImADKRmpwZulL48E0uUaBSO+dvRQKyAJc0qh9gu7jn8btyHPh3NZm1r2IH2YrJhIr7Q2B9urAw==)
PYODIDE_SHA256 := 6749b10ee515a1458ecea36d860c8ce2a48366e85b3f92d749ad1840e4aff181
PYODIDE_DIR := pyodide/dist/$(PYODIDE_VERSION)

SHELL := /bin/bash
# `make V=1` prints full compiler command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif
CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
PKGS := libcjson fcgi libcurl sqlite3 libseccomp libpq
PY_CFLAGS = $(shell pkg-config --cflags python-3.11-embed | sed 's/-I/-isystem /g')
PY_LIBS = $(shell pkg-config --libs python-3.11-embed)

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
        -Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla -Wundef
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection -fPIE
LDHARDEN := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -DPYODIDE_VERSION='"$(PYODIDE_VERSION)"' $(WARN) \
               -MMD -MP

# VARIANT=rel (default) or VARIANT=san (ASan+UBSan); each builds into build/$(VARIANT).
VARIANT ?= rel
ifeq ($(VARIANT),san)
VCFLAGS := -O1 $(SANFLAGS)
VLDFLAGS := $(SANFLAGS)
else
VCFLAGS := -O2 $(HARDEN)
VLDFLAGS := $(LDHARDEN)
endif
B := build/$(VARIANT)
CFLAGS_ALL = $(BASE_CFLAGS) $(VCFLAGS) $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) -lm

# The source tree: one folder per program over the layers they share.  A
# layer may include only its own headers and those of the layers below it
# (LAYER_INC); each folder is compiled with just those include paths, so a
# header reached from the wrong layer does not build.
#   core     errors, buffers, UTF-8, base64, JSON scanning and writing, forms, settings
#   proto    what crosses a process boundary: executor frames, zygote messages,
#            the one result schema and its reader
#   jail     the jail the zygote applies and the executor describes
#   store    the SQLite history: all SQL
#   engines  requirements, packages, router, native client, Judge0 client and engine,
#            execution with fallback
#   front    pysandbox-fcgi: FastCGI main, HTTP, pages, reports, benchmarks, background tasks;
#            front/judge0: the Judge0-compatible API
#   executor pysandbox-executor: the supervisor and its cgroups
#   zygote   pysandbox-zygote: the warm interpreter that clones jails
#   dbbroker pysandbox-dbbroker: the read-only database connections queries from jails go through
layer_srcs = $(sort $(wildcard $(1:%=cgi/%/*.c)))
LAYER_INC.core     := core
LAYER_INC.proto    := core proto
LAYER_INC.jail     := core proto jail
LAYER_INC.store    := core store
LAYER_INC.engines  := core proto store engines
LAYER_INC.front    := core proto store engines front front/judge0
LAYER_INC.front/judge0 := $(LAYER_INC.front)
LAYER_INC.executor := core proto jail executor
LAYER_INC.zygote   := core proto jail zygote
LAYER_INC.dbbroker := core proto store dbbroker
ALL_INC := $(sort $(foreach l,core proto jail store engines front executor zygote dbbroker,$(LAYER_INC.$(l))))
inc_of = $(addprefix -Icgi/,$(LAYER_INC.$(patsubst %/,%,$(dir $(1)))))

FRONT_MAIN := front/fcgi_main.c
EXECUTOR_MAIN := executor/executor_main.c
ZYGOTE_MAIN := zygote/zygote_main.c
# The library the front and every test links: no FastCGI main, no Python.
LIB_SRCS := $(patsubst cgi/%,%,$(filter-out cgi/$(FRONT_MAIN),\
              $(call layer_srcs,core proto store engines front front/judge0)))
LIB_OBJS = $(LIB_SRCS:%.c=$(B)/obj/%.o)
EXECUTOR_SRCS := $(patsubst cgi/%,%,$(call layer_srcs,core proto jail executor))
DBBROKER_MAIN := dbbroker/dbbroker_main.c
# The broker's database layer (dbq), without its main: the broker and its tests link it.
DBQ_SRCS := $(patsubst cgi/%,%,$(filter-out cgi/$(DBBROKER_MAIN),$(call layer_srcs,dbbroker)))
DBQ_OBJS = $(DBQ_SRCS:%.c=$(B)/obj/%.o)

# The zygote embeds CPython and jails its children with RLIMIT_DATA, which
# ASan's terabytes of shadow mappings would exceed: it gets its own objects,
# built with UBSan only in the sanitizer variant.
ZYGOTE_SRCS := $(patsubst cgi/%,%,$(call layer_srcs,zygote jail)) \
               proto/xproto.c proto/zygote.c core/app.c
ifeq ($(VARIANT),san)
ZYGOTE_VFLAGS := -O1 -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ZYGOTE_VLDFLAGS := -fsanitize=undefined
else
ZYGOTE_VFLAGS := -O2 $(HARDEN)
ZYGOTE_VLDFLAGS := $(LDHARDEN)
endif

UNIT_TESTS := test_utf8 test_mcp test_hist_db test_dbwire test_dbq test_xproto test_b64 test_jscan test_form test_conf test_http test_tmpl test_body test_router \
              test_service test_judge0 test_j0api test_result test_precopy test_status
FUZZ_TARGETS := fuzz_json fuzz_mcp fuzz_dbwire fuzz_b64 fuzz_result fuzz_form fuzz_body fuzz_service fuzz_judge0 fuzz_j0api

.PHONY: all build run stop test unit unit-san http-test browser-test bench-browser fuzz-smoke fuzz \
        deps pyodide node-deps web-vendor checksrc format clean distclean

all: build pyodide web-vendor

build: $(B)/pysandbox-fcgi $(B)/pysandbox-executor $(B)/pysandbox-zygote $(B)/pysandbox-dbbroker $(B)/tests/dbq_run \
       $(B)/agent-help.json $(B)/_pysandbox_trace.so

deps:
	@tools/install-deps

pyodide: $(PYODIDE_DIR)/.complete $(PYODIDE_DIR)/.snapshot
$(PYODIDE_DIR)/.complete: Makefile tools/fetch-pyodide
	tools/fetch-pyodide $(PYODIDE_VERSION) $(PYODIDE_SHA256) $(PYODIDE_DIR)

# The browser engine's memory snapshot, made at build time by the real
# worker in Debian's headless Chromium (tools/make-snapshot.mjs), so that a
# first visit restores Python instead of starting it.  Its file name holds
# the harness's hash and the worker's snapshot layout, so it is remade (and
# renamed) when either changes.
$(PYODIDE_DIR)/.snapshot: $(PYODIDE_DIR)/.complete web/harness.py web/worker.js tools/make-snapshot.mjs \
                          tests/browser/node_modules/.package-lock.json
	node tools/make-snapshot.mjs $(PYODIDE_DIR) web/harness.py web/worker.js
	touch $@

node-deps: tests/browser/node_modules/.package-lock.json
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent

# Browser libraries of the pages (Chart.js for /stats and the reports;
# CodeMirror, Papa Parse and esbuild for the sandbox panel), pinned with
# integrity hashes in tools/web-vendor/package-lock.json and installed with
# npm ci at build time (install scripts off: esbuild runs from its platform
# package without its postinstall).  Chart.js's browser build is copied
# into web/vendor/ (git-ignored); the panel's sources, web/panel/*.js, are
# bundled with the npm packages into one minified web/vendor/panel.js.  Both
# are served from our own origin under /static/vendor/; nothing is fetched
# at run time.
WEB_VENDOR := web/vendor/chart.umd.min.js web/vendor/panel.js
WEB_VENDOR_STAMP := tools/web-vendor/node_modules/.package-lock.json
web-vendor: $(WEB_VENDOR)
$(WEB_VENDOR_STAMP): tools/web-vendor/package.json tools/web-vendor/package-lock.json
	cd tools/web-vendor && npm ci --no-audit --no-fund --silent --ignore-scripts
web/vendor/chart.umd.min.js: $(WEB_VENDOR_STAMP)
	@mkdir -p $(@D)
	cp tools/web-vendor/node_modules/chart.js/dist/chart.umd.min.js $@
web/vendor/panel.js: $(wildcard web/panel/*.js) $(WEB_VENDOR_STAMP)
	@mkdir -p $(@D)
	NODE_PATH=tools/web-vendor/node_modules tools/web-vendor/node_modules/.bin/esbuild \
	    web/panel/main.js --bundle --minify --format=iife --target=es2020 \
	    --log-level=warning --outfile=$@

$(B)/obj/%.o: cgi/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(call inc_of,$*) -c $< -o $@

$(B)/libpysandbox.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/pysandbox-fcgi: $(B)/obj/$(FRONT_MAIN:.c=.o) $(B)/libpysandbox.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(VLDFLAGS) -o $@ $^ $(LIBS)

$(B)/pysandbox-executor: $(EXECUTOR_SRCS:%.c=$(B)/obj/%.o)
	@echo "  LINK    $@"
	$(Q)$(CC) $(VLDFLAGS) -o $@ $^ $(LIBS)

$(B)/pysandbox-dbbroker: $(B)/obj/$(DBBROKER_MAIN:.c=.o) $(DBQ_OBJS) $(B)/libpysandbox.a
	@echo "  LINK    $@"
	$(Q)$(CC) $(VLDFLAGS) -o $@ $^ $(LIBS) -lpthread

# The helpers a run finds, written from the harness itself for
# GET /sandbox/{id}/help/functions (agent.h): it cannot drift from it.
$(B)/agent-help.json: web/harness.py tools/harness-help
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)/usr/bin/python3 tools/harness-help $@

# The step tracer as an extension module for the host's python3, so
# tools/bench-debug measures the tracer the native engine runs (the
# zygote links the same file in as a built-in module).
$(B)/_pysandbox_trace.so: cgi/zygote/ctrace.c cgi/zygote/ctrace.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) -Icgi/zygote -O2 -fPIC -shared $(PY_CFLAGS) -o $@ $<

$(B)/zobj/%.o: cgi/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(call inc_of,$*) $(ZYGOTE_VFLAGS) $(PY_CFLAGS) -c $< -o $@

$(B)/pysandbox-zygote: $(ZYGOTE_SRCS:%.c=$(B)/zobj/%.o)
	@echo "  LINK    $@"
	$(Q)$(CC) $(ZYGOTE_VLDFLAGS) -o $@ $^ $(PY_LIBS) -lseccomp

# --- tests -------------------------------------------------------------------

CMOCKA := $(shell pkg-config --cflags --libs cmocka)

$(B)/tests/%: tests/unit/%.c $(B)/libpysandbox.a tests/unit/unit.h
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(ALL_INC:%=-Icgi/%) -Itests/unit -o $@ $< $(B)/libpysandbox.a $(CMOCKA) $(LIBS) $(VLDFLAGS)

# The pre-copy module belongs to the zygote, not the library: linked in here.
$(B)/tests/test_precopy: tests/unit/test_precopy.c cgi/zygote/precopy.c $(B)/libpysandbox.a tests/unit/unit.h
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(ALL_INC:%=-Icgi/%) -Itests/unit -o $@ $< cgi/zygote/precopy.c $(B)/libpysandbox.a $(CMOCKA) $(LIBS) $(VLDFLAGS)

# The executor's health report: status.c over the jail's syscall lists, with
# the cgroup layer stubbed in the test (opening one needs root).
$(B)/tests/test_status: tests/unit/test_status.c cgi/executor/status.c cgi/jail/jail.c cgi/jail/sysfilter.c $(B)/libpysandbox.a tests/unit/unit.h
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LAYER_INC.executor:%=-Icgi/%) -Itests/unit -o $@ $< cgi/executor/status.c cgi/jail/jail.c cgi/jail/sysfilter.c $(B)/libpysandbox.a $(CMOCKA) $(LIBS) $(VLDFLAGS)

# The database layer: a unit test, and dbq_run (one request against a
# database, for tests/http/test_dbq.py).
$(B)/tests/test_dbq $(B)/tests/dbq_run: $(B)/tests/%: tests/unit/%.c $(DBQ_OBJS) $(B)/libpysandbox.a tests/unit/unit.h
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LAYER_INC.dbbroker:%=-Icgi/%) -Itests/unit -o $@ $< $(DBQ_OBJS) $(B)/libpysandbox.a $(CMOCKA) $(LIBS) $(VLDFLAGS)

unit: $(UNIT_TESTS:%=$(B)/tests/%)
	@set -e; for t in $^; do echo "== $$t"; PYSANDBOX_ROOT=$(CURDIR) $$t; done

unit-san:
	$(MAKE) VARIANT=san unit

# libFuzzer targets (clang), with ASan+UBSan.  `make fuzz-smoke` runs each
# briefly on its committed corpus; `make fuzz FUZZ_SECONDS=600` runs longer.
FUZZ_SECONDS ?= 15
FUZZ_CC := clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 -DPYODIDE_VERSION='"$(PYODIDE_VERSION)"' \
               -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
               $(shell pkg-config --cflags $(PKGS))
# The library is built once for every target (instrumented for the fuzzer,
# without its main); each target is one file linked against it.
build/fuzz/obj/%.o: cgi/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(call inc_of,$*) -MMD -MP -c $< -o $@

build/fuzz/libpysandbox.a: $(LIB_SRCS:%.c=build/fuzz/obj/%.o)
	@rm -f $@
	$(Q)ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libpysandbox.a
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(ALL_INC:%=-Icgi/%) -o $@ $^ $(LIBS)

fuzz-smoke: FUZZ_SECONDS = 10
fuzz-smoke fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== $$t ($(FUZZ_SECONDS)s)"; \
	  mkdir -p tests/fuzz/corpus-work/$$t; \
	  PYSANDBOX_ROOT=$(CURDIR) build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
	    -dict=tests/fuzz/json.dict tests/fuzz/corpus-work/$$t tests/fuzz/corpus/$$t 2>&1 | \
	    grep -E 'Done|ERROR|SUMMARY|crash' || true; \
	  test $${PIPESTATUS[0]} -eq 0; \
	done

http-test: build pyodide
	/usr/bin/python3 -m unittest discover -s tests/http -t . -v

browser-test: build pyodide web-vendor node-deps
	cd tests/browser && node --test --test-concurrency=1 *.test.mjs

# Browser-engine load and run times in headless Chromium (a benchmark, not
# a test); records them in docs/PERFORMANCE.md.  BENCH_ARGS overrides the
# run counts, e.g. BENCH_ARGS="--cold 3 --warm 3 --runs 10".
BENCH_ARGS ?= --cold 7 --warm 7 --runs 50
bench-browser: build pyodide web-vendor node-deps
	tools/bench-browser $(BENCH_ARGS) --write

checksrc:
	@tools/checksrc $$(find cgi -name '*.[ch]' | sort) tests/unit/*.c tests/fuzz/*.c

format:
	clang-format -i $$(find cgi -name '*.[ch]') tests/unit/*.c tests/unit/*.h tests/fuzz/*.c

# --- the two commands ----------------------------------------------------------

run: deps
	@$(MAKE) --no-print-directory all
	@tools/service run

stop:
	@tools/service stop

test: deps
	@$(MAKE) --no-print-directory all node-deps
	@$(MAKE) --no-print-directory checksrc
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-san
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory http-test
	@$(MAKE) --no-print-directory http-test-san
	@$(MAKE) --no-print-directory browser-test
	@echo "make test: all suites passed"

# The HTTP suite again, against the service built with ASan+UBSan.
http-test-san:
	$(MAKE) VARIANT=san build
	PYSANDBOX_BUILD_DIR=$(CURDIR)/build/san /usr/bin/python3 -m unittest discover -s tests/http -t . -v

clean:
	rm -rf build

distclean: clean
	rm -rf pyodide/dist pyodide/cache tests/browser/node_modules tools/web-vendor/node_modules web/vendor run

-include $(shell find build -name '*.d' 2>/dev/null)
