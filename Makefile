# Builds and installs catpool. `make install PREFIX=/opt/catpool` puts
#   PREFIX/bin/catpool                  the release build
#   PREFIX/Pipelines/                   nightly.sh, live.sh, jq/ recipes, profiles/
# (the layout Pipelines/crontab.example expects; nightly.sh finds PREFIX/bin/catpool itself).
# DESTDIR is prefixed to every path, for packaging.
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
PIPELINES = $(DESTDIR)$(PREFIX)/Pipelines

.PHONY: all release test install uninstall

all: release

release:
	swift build -c release

test:
	swift test --disable-xctest

install: release
	install -D -m 755 "$$(swift build -c release --show-bin-path)/catpool" "$(BINDIR)/catpool"
	install -D -m 755 Pipelines/nightly.sh Pipelines/live.sh -t "$(PIPELINES)"
	install -D -m 644 Pipelines/find-catpool.sh -t "$(PIPELINES)"
	install -D -m 644 Pipelines/jq/*.jq -t "$(PIPELINES)/jq"
	install -D -m 644 Pipelines/profiles/*.profile -t "$(PIPELINES)/profiles"
	install -D -m 644 Pipelines/crontab.example -t "$(PIPELINES)"

uninstall:
	rm -f "$(BINDIR)/catpool"
	rm -rf "$(PIPELINES)"
