# Entry points for tests and benchmarks; CI runs `make test` (see .ci/run).
#
# The conformance suite is its own Go module (it compiles the large Microsoft Graph SDK),
# so `./...` of the main module never includes it and it gets its own step.

GO ?= go

.PHONY: test bench

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	cd conformance && $(GO) vet ./... && $(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
