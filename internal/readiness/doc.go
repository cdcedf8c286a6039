// Package readiness checks, from outside and over HTTP and DNS only,
// whether a hybrid deployment meets the requirements of the Outlook REST
// hybrid path (exchange-hybrid.md §6.2, R1–R6 and OAuth).
//
// It works in two stages, as Exchange's HealthChecker does (§6.3):
// Collect observes the deployment and returns a Collection, a
// JSON-serialisable record of what was seen and when; Analyse is a pure
// function from a Collection to a Report. A saved Collection can therefore
// be analysed again, later and without a network.
//
// The topology (servers, builds, databases, mailbox locations) comes from
// the on-prem server's admin endpoint when it has one; against a real
// Exchange server only the version headers (X-FEServer, X-OWA-Version)
// are available, and the checks that need the topology say so.
package readiness
