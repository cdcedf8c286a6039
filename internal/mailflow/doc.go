// Package mailflow carries mail between the two premises of an
// organisation over SMTP (RFC 5321), as Exchange hybrid's
// intra-organisation mail flow does: a message sent from a mailbox on one
// side to a recipient on the other leaves through a queue and arrives
// through an SMTP receiver.
//
// The queue lives in the mailbox databases themselves (store.Outbound):
// the engine enqueues in the same database as the Sent Items copy, and
// Queue delivers from every database to one smart host, the receiver of
// the other premises. A message leaves the queue only when the receiver
// has accepted it (250 after DATA) or refused it for good (a 5yz reply);
// a refused connection, a timeout or a 4yz reply defers it with
// exponential backoff, so nothing is lost while the other side is down.
//
// Server is the receiving end. It accepts RCPT only for addresses the
// caller's accept function knows (550 5.1.1 otherwise, RFC 3463 "bad
// destination mailbox address"), bounds message size and recipient count,
// adds the Received trace field (RFC 5321 section 4.4) and hands the
// message to the deliver function once per recipient.
package mailflow
