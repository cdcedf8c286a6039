// Package httpserver holds what every HTTP surface of hybridgraph shares:
// the error type that leaves as a Graph (or Outlook REST v2.0) error body
// with the client-safe message while its cause goes to the log (Error,
// Handle, WriteError), and the middleware that gives each request its
// request-id, echoes client-request-id, recovers panics, undoes gzip
// request bodies, enforces the body size limit and writes one structured
// access record per request (Middleware).
package httpserver
