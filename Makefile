# Entry points for tests and benchmarks; CI runs `make test` (see .ci/run).
#
# The conformance suite is its own Go module (it compiles the large Microsoft Graph SDK),
# so `./...` of the main module never includes it and it gets its own step.

GO ?= go

.PHONY: test bench bench-100k

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	cd conformance && $(GO) vet ./... && $(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# bench-100k loads 100,000 corpus messages into a SQLite and a PostgreSQL mailbox database and
# measures the cloud gateway over HTTP on both (BenchmarkGateway100k in internal/gateway). It takes
# minutes and a few GB of disk, so it is not part of `bench` or `test`.
bench-100k:
	@test -n "$$HYBRIDGRAPH_TEST_POSTGRES" || { echo "bench-100k: set HYBRIDGRAPH_TEST_POSTGRES" \
		"to a PostgreSQL DSN whose user may create databases," \
		"e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" >&2; exit 2; }
	HYBRIDGRAPH_BENCH_100K=1 $(GO) test -run '^$$' -bench '^BenchmarkGateway100k$$' \
		-benchtime 2s -timeout 90m ./internal/gateway
