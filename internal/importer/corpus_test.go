package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// sharedCorpus returns the folder of real mail shared by the team, beside
// the repository, or HYBRIDGRAPH_CORPUS when set; "" when absent.
func sharedCorpus() string {
	dir := os.Getenv("HYBRIDGRAPH_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "mail")); err != nil {
		return ""
	}
	return dir
}

// TestImportCorpus imports real mail through mime.Parse: the demo corpus
// in the repository always, and the shared corpus (single messages and
// four mbox files of different writers) when it is there.
func TestImportCorpus(t *testing.T) {
	tests := []struct {
		name string
		path string // relative to the corpus folder
		want int    // messages found
	}{
		{"mail folder", "mail", 64},
		{"mbox from list archive", "mbox/mime4j-rlug.mbox", 5},
		{"mbox with bare From - separators", "mbox/mimekit-content-length.mbox", 29},
		{"mbox with Gmail-style separators", "mbox/mimekit-issue1189.mbox", 4},
		{"mbox of a mail server's export", "mbox/mox-imaptest.mbox", 48},
	}
	t.Run("demo corpus", func(t *testing.T) {
		checkImport(t, filepath.Join("..", "demo", "corpus", "mail"), 44)
	})
	dir := sharedCorpus()
	if dir == "" {
		t.Log("shared corpus not found; set HYBRIDGRAPH_CORPUS to include it")
		return
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkImport(t, filepath.Join(dir, tt.path), tt.want)
		})
	}
}

func checkImport(t *testing.T, path string, want int) {
	t.Helper()
	sum, err := Run(context.Background(), parseDest, []string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.Imported + sum.Skipped; got != want {
		t.Errorf("messages found: got %d, want %d", got, want)
	}
	if sum.Skipped != len(sum.Reasons) {
		t.Errorf("got %d skipped and %d reasons, want one reason each", sum.Skipped, len(sum.Reasons))
	}
	for _, r := range sum.Reasons {
		if r.Reason == "" || r.Path == "" {
			t.Errorf("skip without a reason: %+v", r)
		}
		t.Logf("skipped %s", r)
	}
	t.Logf("%s: %d imported, %d skipped", filepath.Base(path), sum.Imported, sum.Skipped)
}
