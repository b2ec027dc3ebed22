# Sightline: `make run` serves with demo keys; `make test` runs every test against a real PostgreSQL.
# Both install what is missing and keep a private PostgreSQL cluster under .data/.

RUN_PORT  ?= 54330
TEST_PORT ?= 54331
BENCH_PORT ?= 54332
CONFORMANCE_PORT ?= 54333
CONFORMANCE_HTTP_PORT ?= 8093
SWIFT_BUILD_FLAGS ?=

.PHONY: run test bench stop deps build clean-data format conformance

deps: .build/migrations.stamp
	@scripts/install-deps.sh

# SwiftPM runs build-tool plugins (EmbedFilesPlugin embeds db/migrations into the binary) only when it plans the
# build again, which a changed manifest makes it do and a new .sql file alone does not: an incremental build would
# carry a binary without the new migration. So a migration newer than this stamp makes the next build plan again.
.build/migrations.stamp: $(wildcard db/migrations/*.sql)
	@mkdir -p .build && touch Package.swift && touch $@

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

run: deps
	@url=$$(scripts/pg.sh start run $(RUN_PORT)) && \
	swift build $(SWIFT_BUILD_FLAGS) && \
	bin=$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/sightline && \
	SIGHTLINE_DATABASE_URL="$$url" $$bin migrate && \
	SIGHTLINE_DATABASE_URL="$$url" $$bin seed demo && \
	server_url=$$(scripts/pg.sh url run $(RUN_PORT) sightline_server) && \
	echo "Database (server role): $$server_url" && \
	allow=$${SIGHTLINE_WEBHOOK_ALLOW_CIDRS-127.0.0.0/8} && \
	echo "Webhooks may reach $${allow:-public addresses only} (the walk-through's receiver; set SIGHTLINE_WEBHOOK_ALLOW_CIDRS= to refuse)" && \
	SIGHTLINE_DATABASE_URL="$$server_url" SIGHTLINE_WEBHOOK_ALLOW_CIDRS="$$allow" SIGHTLINE_LOG_FORMAT=$${SIGHTLINE_LOG_FORMAT:-text} \
	exec $$bin serve

# The test cluster is stopped afterwards, pass or fail; a failing run ends by repeating what failed.
test: deps
	@scripts/test.sh $(TEST_PORT) $(SWIFT_BUILD_FLAGS)

# The contract against the server: schemathesis from a fresh database; 0 failures or it fails.
conformance: deps
	@scripts/conformance.sh $(CONFORMANCE_PORT) $(CONFORMANCE_HTTP_PORT)

bench: deps
	@scripts/bench.sh $(BENCH_PORT)

# Rewrites every Swift file in the configured format (.swift-format); make test fails on any line out of place.
format:
	swift format format --in-place --recursive Sources Tests Benchmarks Plugins Package.swift

stop:
	@scripts/pg.sh stop run; scripts/pg.sh stop test; scripts/pg.sh stop bench; scripts/pg.sh stop conformance

clean-data: stop
	rm -rf .data
