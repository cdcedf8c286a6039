// Package move moves a mailbox from one mailbox database to another while
// its owner keeps using it: between two cloud databases (SQLite and
// PostgreSQL alike), between two on-prem databases, and between the
// premises (on premises to the cloud and back). It is Exchange's online
// mailbox move (a move request run by the Mailbox Replication Service,
// exchange-hybrid.md §3.1) for hybridgraph's own stores.
//
// A move is a job recorded in the cloud directory (directory.MoveJob) that
// goes through these phases, saving its progress after each step:
//
//	created   the job is recorded with the source's change number (the
//	          watermark): every change after it will be replayed
//	prepared  the mailbox and its folders exist in the target, same ids
//	copying   items copied in id order, in batches (PutItems keeps ids,
//	          change keys and MIME); the cursor is the last id copied
//	copied    every item that existed is in the target
//	caught-up the changes made meanwhile (Changes after the watermark)
//	          are replayed, round after round, until a round is small
//	locked    the source refuses writes (LockMailbox): clients get a
//	          503 with Retry-After, mail delivery waits
//	synced    the last changes are replayed and the counts agree
//	switching the directory entries are being switched
//	switched  both directories say the mailbox lives in the target
//	done      after a grace period the source copy is deleted
//
// The lock is a lease (Mover.LockLease, 30 seconds by default) that the
// move renews until the switch: when its process dies, the lock lapses and
// clients write to the source again, so the 503s of a dead move last one
// lease, not until an admin acts. Before the final catch-up and before
// each switch the move checks that its lock held; one that lapsed is taken
// again and what changed meanwhile is replayed, so nothing is lost.
//
// The directory entry changes last, so the router follows the data (DESIGN
// principle "Mailbox move"): until the switch every request is served from
// the source, after it from the target. After the switch the source is
// locked for good until it is deleted, so a request that looked the directory up just before the
// switch cannot write to the copy being left behind; the grace period lets
// such requests that only read finish before the copy goes.
//
// Ids do not change: items and folders keep theirs and the mailbox keeps
// its GUID, so the ids clients hold (Graph's immutable ids) keep working.
//
// Every step is idempotent, so a move that stopped (a killed process, a
// failed database) is finished by Resume from the phase it recorded.
// Rollback, allowed until the switch starts, unlocks the source and
// deletes the target copy; after the switch a move is undone by moving the
// mailbox back.
//
// One process carries a job at a time. Each save is a compare-and-swap on
// the job's last save time (directory.SaveMove), so a process whose job
// was taken over stops at its next save; Resume and Rollback do not take a
// job saved in the last 15 seconds without a recorded error, which is what
// a move still running elsewhere looks like (a killed one records
// nothing, so it is taken after that wait). A rollback claims the job
// before it unlocks anything, and a move that locked the source just as
// its job was rolled back unlocks it again.
package move
