// Package conformance checks hybridgraph against the official Microsoft Graph Go SDK
// (msgraph-sdk-go), the client most Go applications use against Microsoft Graph.
//
// The model: TestMain builds the hybridgraph binary from the parent module, starts
// `hybridgraph demo` on four free loopback ports (cloud gateway, on-prem server and
// their SMTP listeners) with a fresh data directory, and asks `hybridgraph token` for
// delegated tokens of a cloud user (alice) and an on-premises user (carol). The tests
// then drive the gateway only through the SDK's fluent API, and run the same helper code
// for both users: a client must not be able to tell from the API where a mailbox lives,
// except by the preview sentence that on-premises errors carry.
//
// This package lives in its own Go module because the SDK is very large to compile; the
// product's own `go build ./...` and `go test ./...` never pay for it.
package conformance
