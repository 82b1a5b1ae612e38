# triaged: plain Makefile, libraries found with pkg-config.
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
STATEDIR ?= /var/lib/triaged
UNITDIR	?= $(PREFIX)/lib/systemd/system
DESTDIR	?=

CC	?= cc
PKGS	= libetpan libcurl libpcre2-8 sqlite3 gnutls inih
VERSION	= 0.1.0

WARN	= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	  -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	  -Wformat=2
CFLAGS	?= -O2 -g
# Hardening as Debian's dpkg-buildflags gives it (hardening=+all), with
# PIE and full RELRO below. FORTIFY needs the optimiser and fights ASan.
HARDEN	= -fstack-protector-strong -fstack-clash-protection
ifneq ($(SANITIZE),1)
HARDEN	+= -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
CFLAGS	+= -std=c17 -D_GNU_SOURCE -fPIE $(HARDEN) $(WARN) \
	   -DTRIAGED_VERSION='"$(VERSION)"' \
	   -DTRIAGED_SYSCONFDIR='"$(SYSCONFDIR)"' \
	   $(shell pkg-config --cflags $(PKGS))
# libetpan's .pc adds -specs=...no-pie-link.specs, which makes the binary
# non-PIE (LIBRARIES.md #11): drop it and link PIE ourselves.
# libstemmer (Snowball) ships no pkg-config file.
LIBS	= $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS))) -lstemmer -lm
LDFLAGS	+= -pie -Wl,-z,relro -Wl,-z,now

ifeq ($(SANITIZE),1)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
OBJDIR	= obj-san
# A sanitized binary is a few times slower: the accuracy test classifies
# every labelled message with it.
TEST_TIMEOUT = 900
else
OBJDIR	= obj
TEST_TIMEOUT = 300
endif

SRCS	= $(wildcard daemon/*.c)
OBJS	= $(SRCS:daemon/%.c=$(OBJDIR)/%.o)
LIBOBJS	= $(filter-out $(OBJDIR)/main.o,$(OBJS))

UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(OBJDIR)/tests/%)

ifeq ($(SANITIZE),1)
BIN	= $(OBJDIR)/triaged
else
BIN	= triaged
endif

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(OBJDIR)/%.o: daemon/%.c daemon/*.h | $(OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(OBJDIR):
	mkdir -p $(OBJDIR)/tests

# Each unit test links only the modules it tests plus the basics (isync
# tst_* style), so one module's test never waits on another's build.
BASE_MODS	= xmalloc buf log diag
test_conf_MODS	= config
test_json_MODS	= json
test_mime_MODS	= mime
test_guard_MODS	= guard mime config
test_rules_MODS	= rules words scope model sentence mime
test_template_MODS = template mime distfiles
test_store_MODS	= store
test_model_MODS	= model sentence mime
test_pipeline_MODS = pipeline folders imap smtp store rules words scope model sentence template mime guard distfiles alert digest \
		  config json signals

.SECONDEXPANSION:
$(OBJDIR)/tests/%: tests/unit/%.c tests/unit/testlib.h \
    $$(addprefix $(OBJDIR)/,$$(addsuffix .o,$(BASE_MODS) $$($$*_MODS))) \
    | $(OBJDIR)
	$(CC) $(CFLAGS) -Idaemon $(shell pkg-config --cflags cmocka) \
	    $(LDFLAGS) -o $@ $< \
	    $(addprefix $(OBJDIR)/,$(addsuffix .o,$(BASE_MODS) $($*_MODS))) \
	    $(LIBS) $(shell pkg-config --libs cmocka)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		echo "== $$t"; (cd tests/unit && ../../$$t); done

integration: $(BIN)
	@TRIAGED=$(CURDIR)/$(BIN) \
	    TB_TEST_TIMEOUT=$${TB_TEST_TIMEOUT:-$(TEST_TIMEOUT)} \
	    bash tests/integration/run.sh

# Everything, one line per test and a summary line (tests/check.sh); V=1
# shows what passing steps print too.
check: $(BIN) $(UNIT_BINS) $(OBJDIR)/bench_classify obj-fuzz/fuzz_mime \
    obj-fuzz/fuzz_rules
	@UNIT_BINS="$(UNIT_BINS)" TRIAGED=$(CURDIR)/$(BIN) \
	    BENCH_BIN=$(OBJDIR)/bench_classify MAKE="$(MAKE)" \
	    CHECK_LOGS=$(CURDIR)/$(OBJDIR)/check-logs \
	    TB_TEST_TIMEOUT=$${TB_TEST_TIMEOUT:-$(TEST_TIMEOUT)} \
	    sh tests/check.sh

demo:
	@bash tests/demo.sh

# The three figures of README.md's "Triage quality": the training corpus,
# the blind validation set and the fresh blind batch, with their tables.
accuracy: $(BIN)
	@TRIAGED=$(CURDIR)/$(BIN) bash tests/integration/score.sh --report

# libFuzzer targets (clang), never part of a long check: `make fuzz` runs
# each target for FUZZ_SECONDS with its seeds and dictionary in tests/fuzz;
# `make fuzz-smoke` is the 10 s run per target that `make check` affords.
FUZZ_CC		= clang
FUZZ_SECONDS	?= 60
FUZZ_CFLAGS	= -O1 -g -std=c17 -D_GNU_SOURCE $(WARN) \
		  -Wno-format-nonliteral \
		  -fsanitize=fuzzer-no-link,address,undefined \
		  -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		  $(shell pkg-config --cflags libetpan libpcre2-8)
FUZZ_LIBS	= $(filter-out -specs=%,$(shell pkg-config --libs libetpan \
		  libpcre2-8)) -lstemmer
FUZZ_BASE	= mime xmalloc buf log diag
obj-fuzz/fuzz_mime_MODS	= $(FUZZ_BASE)
obj-fuzz/fuzz_rules_MODS = rules words scope model sentence $(FUZZ_BASE)

obj-fuzz/%.o: daemon/%.c daemon/*.h
	@mkdir -p obj-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

obj-fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
    $$(addprefix obj-fuzz/,$$(addsuffix .o,$$(obj-fuzz/fuzz_$$*_MODS)))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Idaemon -o $@ $< \
	    $(addprefix obj-fuzz/,$(addsuffix .o,$($@_MODS))) $(FUZZ_LIBS)

fuzz: obj-fuzz/fuzz_mime obj-fuzz/fuzz_rules
	@mkdir -p obj-fuzz/corpus-mime obj-fuzz/corpus-rules
	obj-fuzz/fuzz_mime -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -max_len=65536 -dict=tests/fuzz/fuzz_mime.dict \
	    -artifact_prefix=obj-fuzz/ obj-fuzz/corpus-mime tests/fuzz/seeds
	obj-fuzz/fuzz_rules -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -dict=tests/fuzz/rules.dict -artifact_prefix=obj-fuzz/ \
	    obj-fuzz/corpus-rules tests/fuzz/seeds-rules

fuzz-smoke:
	@$(MAKE) -s fuzz FUZZ_SECONDS=10

# Keep the fuzz objects (no "rm obj-fuzz/..." line after each run).
.PRECIOUS: obj-fuzz/%.o

.PHONY: fuzz fuzz-smoke

# Files the practice may edit (rules, templates, the configuration) are
# never overwritten: a changed default goes beside them as FILE.dist and
# `triaged check` names it (dist/install-keep).
install: triaged
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/triaged/rules \
	    $(DESTDIR)$(SYSCONFDIR)/triaged/templates $(DESTDIR)$(UNITDIR)
	install -d -m 700 $(DESTDIR)$(STATEDIR)
	install -m 755 triaged $(DESTDIR)$(BINDIR)/triaged
	install -m 644 man/triaged.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 man/triaged.conf.5 man/triaged.rules.5 \
	    $(DESTDIR)$(MANDIR)/man5/
	@set -e; for f in rules/*.rules rules/triage.model; do \
	    dist/install-keep 644 $$f $(DESTDIR)$(SYSCONFDIR)/triaged/$$f; \
	done; for f in templates/*; do \
	    dist/install-keep 644 $$f $(DESTDIR)$(SYSCONFDIR)/triaged/$$f; \
	done; dist/install-keep 640 dist/triaged.conf \
	    $(DESTDIR)$(SYSCONFDIR)/triaged/triaged.conf
	@set -e; for u in triaged.service triaged@.service; do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' \
	        -e 's|@CONF@|$(SYSCONFDIR)/triaged/triaged.conf|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	        -e 's|@STATEDIR@|$(STATEDIR)|g' dist/$$u.in \
	        >$(DESTDIR)$(UNITDIR)/$$u.tmp; \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u.tmp; \
	    mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u; \
	done

# The system user the units run as, owning the state folder and able to
# read the configuration (root only, no DESTDIR: it changes this machine).
install-service: install
	@if [ -n "$(DESTDIR)" ]; then \
	    echo "install-service: not with DESTDIR (it creates a user)"; \
	    exit 1; fi
	getent passwd triaged >/dev/null || useradd --system --user-group \
	    --home-dir $(STATEDIR) --no-create-home \
	    --shell /usr/sbin/nologin triaged
	chown triaged:triaged $(STATEDIR)
	chmod 700 $(STATEDIR)
	chgrp triaged $(SYSCONFDIR)/triaged/triaged.conf
	-if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "now: edit $(SYSCONFDIR)/triaged/triaged.conf, write the" \
	    "secrets (owned by triaged, mode 600), then" \
	    "systemctl enable --now triaged"

clean:
	rm -rf obj obj-san obj-fuzz triaged

.PHONY: accuracy all unit integration check demo install install-service clean

# Unit tests, then the integration tests with the binary under valgrind
# (each bounded at 30 minutes: t_crash alone, with its 600-message signal
# case, takes about 16 under valgrind on two cores).
valgrind: $(BIN) $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
	    (cd tests/unit && valgrind -q --error-exitcode=99 \
	    --leak-check=full --child-silent-after-fork=yes \
	    --suppressions=../valgrind.supp ../../$$t \
	    >/dev/null); done
	@TRIAGED=$(CURDIR)/tests/valgrind-triaged.sh TB_TEST_TIMEOUT=1800 TB_SLOW=4 \
	    TB_CORPUS_TIMEOUT=60 TB_CORPUS_EVERY=10 ACCURACY_EVERY=20 \
	    bash tests/integration/run.sh

# Benchmarks: ratios against a baseline measured in the same run.
$(OBJDIR)/bench_classify: bench/bench_classify.c $(LIBOBJS)
	$(CC) $(CFLAGS) -Idaemon $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LIBS)

bench: $(OBJDIR)/bench_classify
	@BENCH_BIN=$(OBJDIR)/bench_classify sh bench/run.sh

bench-smoke: $(OBJDIR)/bench_classify
	@BENCH_ITER=1 BENCH_BIN=$(OBJDIR)/bench_classify sh bench/run.sh

.PHONY: valgrind bench bench-smoke
