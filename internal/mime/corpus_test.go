package mime

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedCorpus returns the folder of real messages shared by the team,
// beside the repository, or HYBRIDGRAPH_CORPUS when set; "" when absent.
func sharedCorpus(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HYBRIDGRAPH_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "mail")); err != nil {
		return ""
	}
	return dir
}

// corpusFiles lists the .eml files of the demo corpus (always in the
// repository) and of the shared corpus when present.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "demo", "corpus", "mail", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("demo corpus: %d files, %v", len(files), err)
	}
	if dir := sharedCorpus(t); dir != "" {
		shared, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
		files = append(files, shared...)
	} else {
		t.Log("shared corpus not found; set HYBRIDGRAPH_CORPUS to include it")
	}
	return files
}

// TestParseCorpus parses every real message: each must give a document,
// and the ones below must give what a reader of the file sees.
func TestParseCorpus(t *testing.T) {
	type want struct {
		subject, from, bodyType, previewStart string
		attachments                           bool
	}
	known := map[string]want{
		"enmime-qp-utf8-header.eml": {
			subject: "MIME UTF8 Test ¢ More Text",
			from:    "jamehi03@jamehi03lx.noa.com", bodyType: "html", previewStart: "Lorem ipsum",
			attachments: false,
		},
		"enmime-malformed-multi-address.eml": {
			subject: "Test",
			from:    "bob@extern", bodyType: "text", previewStart: "Simple text.",
			attachments: true,
		},
		"enmime-bad-header-wrap.eml": {
			subject: "Attachment",
			from:    "james@makita.skynet", bodyType: "text", previewStart: "A text section",
			attachments: true,
		},
		"enmime-mime-signed.eml": {
			subject: "Multipart Signed",
			from:    "jamehi03@jamehi03lx.noa.com", bodyType: "text", previewStart: "Section one",
			attachments: false,
		},
		"enmime-html-mime-inline.eml": {
			subject: "MIME test 1",
			from:    "james@makita.skynet", bodyType: "html", previewStart: "Test of HTML section",
			attachments: false,
		},
		"mailparser-tb-alt-related-attach.eml": {
			subject: "30 plaintext + (HTML + embedded image) + attachment",
			from:    "test@example.com", bodyType: "html", previewStart: "Search for höhö",
			attachments: true,
		},
		"mikel-iso-2022-jp.eml": {
			subject: "まみむめも",
			from:    "raasdnil@gmail.com", bodyType: "text", previewStart: "すみません。",
			attachments: false,
		},
		"mikel-shift-jis.eml": {
			subject: "test",
			from:    "xxxxxxx@docomo.ne.jp", bodyType: "text", previewStart: "あいうえお",
			attachments: false,
		},
		"mikel-ks-c-5601.eml": {
			subject: "test",
			from:    "from@example.com", bodyType: "text", previewStart: "스티해",
			attachments: false,
		},
		"mikel-utf8-headers.eml": {
			subject: "Säying Hello",
			from:    "jdöe@mächine.example", bodyType: "text", previewStart: "body",
			attachments: false,
		},
		"mimetools-german-eudora.eml": {
			subject: "Re: 34Mbit/s Netz",
			from:    "deuschle@mnh.telekom.de", bodyType: "text", previewStart: "Hallo Herr Specht",
			attachments: false,
		},
		"mailparser-utf16le-binary.eml": {
			subject: "",
			from:    "", bodyType: "text", previewStart: "Test message",
			attachments: false,
		},
		"mime4j-very-very-long-boundary.eml": {
			subject: "",
			from:    "", bodyType: "text", previewStart: "Text body",
			attachments: false,
		},
	}
	files := corpusFiles(t)
	parsed := 0
	for _, path := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(path))) + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := decode(t, string(raw))
			parsed++
			w, ok := known[filepath.Base(path)]
			if !ok {
				return
			}
			from := ""
			if m.From != nil {
				from = m.From.EmailAddress.Address
			}
			if m.Subject != w.subject || from != w.from || m.Body.ContentType != w.bodyType ||
				m.HasAttachments != w.attachments {
				t.Errorf("got subject %q from %q body %s attachments %v, want %q %q %s %v",
					m.Subject, from, m.Body.ContentType, m.HasAttachments,
					w.subject, w.from, w.bodyType, w.attachments)
			}
			if len(m.BodyPreview) < len(w.previewStart) ||
				m.BodyPreview[:len(w.previewStart)] != w.previewStart {
				t.Errorf("bodyPreview: got %q, want it to start with %q", m.BodyPreview, w.previewStart)
			}
		})
	}
	t.Logf("parsed %d of %d corpus files", parsed, len(files))
}
