package mailapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBodyPreference(t *testing.T) {
	tests := []struct {
		headers []string
		want    string
	}{
		{nil, ""},
		{[]string{`outlook.body-content-type="text"`}, "text"},
		{[]string{`odata.maxpagesize=5, outlook.body-content-type="HTML"`}, "html"},
		{[]string{`outlook.timezone="UTC"`, `outlook.body-content-type=text`}, "text"},
		{[]string{`outlook.body-content-type="rtf"`}, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.headers {
			h.Add("Prefer", v)
		}
		if got := bodyPreference(h); got != tt.want {
			t.Errorf("bodyPreference(%q) = %q, want %q", tt.headers, got, tt.want)
		}
	}
}

func TestConvertBodies(t *testing.T) {
	doc := []byte(`{"id":"1","body":{"contentType":"html","content":"<p>Hello <b>there</b></p>"}}`)
	out, err := convertBodies(doc, "text")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Body itemBody }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Body.ContentType != "text" || strings.Contains(m.Body.Content, "<") ||
		!strings.Contains(m.Body.Content, "Hello there") {
		t.Errorf("text body = %+v", m.Body)
	}
	out, err = convertBodies([]byte(`{"body":{"contentType":"text","content":"a<b\nc"}}`), "html")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Body.ContentType != "html" || !strings.Contains(m.Body.Content, "a&lt;b<br>") {
		t.Errorf("html body = %+v", m.Body)
	}
}
