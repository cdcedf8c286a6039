// Package dirsync carries directory sync from the on-prem directory to the
// cloud over HTTP. The on-prem side reads its directory into a batch
// (FromDirectory) and pushes it (Client); the cloud side's Handler checks
// the caller's app token and applies the batch to the cloud directory in
// one transaction (directory.Apply), answering with the run's summary.
// Sync is one run (read, push, commit the source's read state); the
// one-shot command runs it once, and the on-prem server's Loop runs it at
// start and then every DefaultInterval, never confirming held deletions.
//
// The intake takes an app token with the DirectorySync role rather than
// the server-to-server trust: S2S tokens are issued by the cloud for the
// on-prem server, the wrong direction for a push, while the on-prem sync
// agent is an application registered with the cloud, as a directory-sync
// service account is.
package dirsync
