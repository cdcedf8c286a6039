package readiness

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// complete is healthy() with every probe's time, as Collect records it.
func complete() *Collection {
	c := healthy()
	for _, p := range []*Probe{&c.TopologyProbe, &c.Autodiscover, &c.Challenge, &c.OAuth,
		&c.CloudProbe} {
		p.At = c.Started
	}
	c.CloudProbe.Skipped = "no cloud URL and admin token given"
	return c
}

func TestParseCollection(t *testing.T) {
	good, err := json.Marshal(complete())
	if err != nil {
		t.Fatal(err)
	}
	without := func(edit func(c *Collection)) string {
		c := complete()
		edit(c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	tests := []struct {
		name, in, wantErr string
	}{
		{"complete", string(good), ""},
		{"empty object", `{}`, "missing autodiscoverHost, autodiscoverUrl"},
		{"null", `null`, "not a saved collection: null"},
		{"array", `[]`, "not a saved collection"},
		{"trailing data", string(good) + ` {}`, "data after the JSON object"},
		{"unknown field", `{"URL ":"x"}`, `unknown field "URL "`},
		{"empty url", without(func(c *Collection) { c.URL = "" }), "missing url"},
		{"relative url", without(func(c *Collection) { c.URL = "mail.contoso.com" }),
			"missing url"},
		{"no challenge", without(func(c *Collection) { c.Challenge = Probe{} }),
			"missing challenge.at"},
		{"no samples or dns", without(func(c *Collection) { c.DNS = nil }), "missing dns"},
		{"finished before started", without(func(c *Collection) {
			c.Finished = c.Started.Add(-1)
		}), "finished (not before started)"},
		{"most samples", without(func(c *Collection) {
			c.Samples = make([]Sample, MaxSamples)
		}), ""},
		{"too many samples", without(func(c *Collection) {
			c.Samples = make([]Sample, MaxSamples+1)
		}), "1001 samples (at most 1000)"},
		{"too many lookups", without(func(c *Collection) {
			c.DNS = append(c.DNS, c.DNS...)
		}), "4 DNS lookups (at most 2)"},
		{"largest body", without(func(c *Collection) {
			c.Autodiscover.Body = strings.Repeat("x", MaxProbeBody)
		}), ""},
		{"body too long", without(func(c *Collection) {
			c.Autodiscover.Body = strings.Repeat("x", MaxProbeBody+1)
		}), "autodiscover.body of 4097 bytes (at most 4096)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCollection([]byte(tt.in))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.wantErr == "" && c == nil:
				t.Fatal("got no collection")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestNoEvidenceIsNoPass checks that a requirement without evidence never
// passes: R4 with neither topology nor samples is a warning.
func TestNoEvidenceIsNoPass(t *testing.T) {
	c := complete()
	c.Topology, c.Samples = nil, nil
	c.TopologyProbe = Probe{At: c.Started, Status: 404}
	for _, res := range Analyse(c).Results {
		if res.Status == Pass && len(res.Evidence) == 0 {
			t.Errorf("%s passed without evidence", res.ID)
		}
		if res.ID == "R4" && res.Status != Warn {
			t.Errorf("R4 without topology or samples: got %s, want WARN", res.Status)
		}
	}
}

// TestWriteJSONVerdict checks the overall verdict and exit status of the
// JSON report against ExitCode.
func TestWriteJSONVerdict(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(c *Collection)
		verdict Status
		exit    int
	}{
		{"warnings", func(*Collection) {}, Warn, 1},
		{"failure", func(c *Collection) { c.OAuth = Probe{At: c.Started, Status: 401} },
			Fail, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := complete()
			tc.edit(c)
			rep := Analyse(c)
			var buf bytes.Buffer
			if err := rep.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Verdict    Status   `json:"verdict"`
				ExitStatus int      `json:"exitStatus"`
				Results    []Result `json:"results"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Verdict != tc.verdict || got.ExitStatus != tc.exit ||
				got.ExitStatus != rep.ExitCode() || len(got.Results) != 7 {
				t.Errorf("got verdict %s, exit status %d, %d results; want %s, %d, 7",
					got.Verdict, got.ExitStatus, len(got.Results), tc.verdict, tc.exit)
			}
		})
	}
}

// FuzzParseCollection feeds any bytes to ParseCollection: it refuses or
// returns a collection that Analyse reports on in full.
func FuzzParseCollection(f *testing.F) {
	b, err := json.Marshal(complete())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCollection(data)
		if err != nil {
			return
		}
		if got := len(Analyse(c).Results); got != 7 {
			t.Errorf("got %d results, want 7", got)
		}
	})
}

// TestLoadCollectionSize checks the bound on the file --from reads: a
// collection padded to MaxCollectionSize loads, one byte more is refused.
func TestLoadCollectionSize(t *testing.T) {
	b, err := json.Marshal(complete())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		size    int
		wantErr string
	}{
		{"at the limit", MaxCollectionSize, ""},
		{"one byte below", MaxCollectionSize - 1, ""},
		{"one byte over", MaxCollectionSize + 1, "larger than 16 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Trailing white space is valid JSON after the object.
			padded := append(bytes.Clone(b), bytes.Repeat([]byte(" "), tc.size-len(b))...)
			path := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(path, padded, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCollection(path)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
