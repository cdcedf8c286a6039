// Package hybrid is the gateway's route to mailboxes on premises: a Graph
// v1.0 request for a user whose mailbox lives on an Exchange-2016-like
// server is answered by that server's Outlook REST v2.0 endpoint, and the
// client never sees the difference beyond the documented preview limits.
//
// One request goes through five steps (reference exchange-hybrid.md §3.5,
// the sequence Exchange Online followed while the preview ran):
//
//  1. Gate. Only v1.0 Mail, Calendar and Contacts paths were proxied; all
//     else is refused with ErrorInvalidRequest and the preview sentence
//     (Allowed, UnsupportedError).
//  2. Discovery. The IntraOrganizationConnector whose TargetAddressDomains
//     holds the domain of the user's target address names an Autodiscover
//     endpoint; Autodiscover v2 with Protocol=Rest gives the REST root
//     (…/api). No connector: 404 MailboxNotEnabledForRESTAPI.
//  3. Token. A server-to-server token for the user, audience the on-prem
//     host, cached per user and audience until five minutes before it ends.
//  4. Translation of the request: path segments, $select, $filter, $orderby
//     and $expand names, enum literals and the JSON body go from Graph's
//     camelCase to v2.0's PascalCase, all through package schema. Graph's
//     message delta becomes v2.0's track-changes query (delta.go).
//  5. Proxy and translation of the answer: names back to Graph,
//     @odata.context and @odata.nextLink rebuilt on the gateway's own URL
//     (the client must never be sent to the on-prem host), on-prem links
//     dropped, and errors re-enveloped for Graph with the preview sentence
//     appended as Graph did (reference §5).
//
// The router speaks only HTTP to the other premises (DESIGN principle 3),
// so it works the same against a real Exchange server as against the
// project's own on-prem server.
package hybrid
