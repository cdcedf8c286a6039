package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const valid = `
data:
  directory: /var/lib/hybridgraph
publicURL: https://graph.contoso.test
listen: 127.0.0.1:5080
databases:
  - name: CLOUD-DB01
    driver: sqlite
  - name: CLOUD-DB02
    driver: postgres
    dsn: postgres://hg@db.contoso.test/mail
connectors:
  - name: OnPremisesConnector
    targetAddressDomains: [contoso.test]
    discoveryEndpoint: https://mail.contoso.test/autodiscover/autodiscover.svc
    enabled: true
limits:
  proxyTimeout: 15s
smtp:
  listen: 127.0.0.1:5025
  smartHost: mail.contoso.test:25
`

func TestParseValid(t *testing.T) {
	got, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Data:      Data{Directory: "/var/lib/hybridgraph"},
		PublicURL: "https://graph.contoso.test",
		Listen:    "127.0.0.1:5080",
		Databases: []Database{
			{Name: "CLOUD-DB01", Driver: SQLite},
			{Name: "CLOUD-DB02", Driver: Postgres, DSN: "postgres://hg@db.contoso.test/mail"},
		},
		Connectors: []Connector{{
			Name: "OnPremisesConnector", TargetAddressDomains: []string{"contoso.test"},
			DiscoveryEndpoint: "https://mail.contoso.test/autodiscover/autodiscover.svc",
			Enabled:           new(true),
		}},
		Limits: Limits{ProxyTimeout: 15 * time.Second, MaxTop: DefaultMaxTop},
		SMTP:   SMTP{Listen: "127.0.0.1:5025", SmartHost: "mail.contoso.test:25"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// TestParseErrors changes one thing in the valid file and checks the error
// names the failing field.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown field", "listen:", "listne:", "listne: unknown field (line 5)"},
		{"unknown nested field", "    dsn:", "    dns:", "databases[1].dns: unknown field (line 11)"},
		{"wrong type", "proxyTimeout: 15s", "proxyTimeout: [1]",
			"limits.proxyTimeout: want a duration such as 30s or 2m, got a list (line 18)"},
		{"bad duration", "proxyTimeout: 15s", "proxyTimeout: soon",
			`limits.proxyTimeout: want a duration such as 30s or 2m, got "soon"`},
		{"wrong type enabled", "enabled: true", "enabled: maybe",
			`connectors[0].enabled: want true or false, got "maybe"`},
		{"bare number duration", "proxyTimeout: 15s", "proxyTimeout: 5",
			`limits.proxyTimeout: want a duration such as 30s or 2m, got "5"`},
		{"word for max top", "  proxyTimeout: 15s\n", "  maxTop: lots\n",
			`limits.maxTop: want an integer, got "lots"`},
		{"list for listen", "listen: 127.0.0.1:5080", "listen: [1, 2]",
			"listen: want a string, got a list (line 5)"},
		{"block list item", "    targetAddressDomains: [contoso.test]",
			"    targetAddressDomains:\n      - {a: b}", "connectors[0].targetAddressDomains"},
		{"connector domain twice", "targetAddressDomains: [contoso.test]",
			"targetAddressDomains: [contoso.test, CONTOSO.test]",
			`connectors[0].targetAddressDomains[1]: "CONTOSO.test" is routed by ` +
				`connectors[0].targetAddressDomains[0] already`},
		{"fraction for max top", "  proxyTimeout: 15s\n", "  maxTop: 1.5\n",
			"limits.maxTop: want an integer, got 1.5"},
		{"zero max top", "  proxyTimeout: 15s\n", "  maxTop: 0\n",
			"limits.maxTop: want at least 1 (leave it out for the default, 1000)"},
		{"quoted yes for enabled", "enabled: true", `enabled: "yes"`,
			`connectors[0].enabled: want true or false, got "yes"`},
		{"database names differ in case", "CLOUD-DB02", "cloud-db01",
			`databases[1].name: "cloud-db01" already names databases[0]`},
		{"missing dsn", "    dsn: postgres://hg@db.contoso.test/mail\n", "",
			"databases[1].dsn: required"},
		{"unknown driver", "driver: postgres", "driver: mysql",
			`databases[1].driver: unknown driver "mysql"`},
		{"missing driver", "    driver: sqlite\n", "", "databases[0].driver: required"},
		{"duplicate database", "CLOUD-DB02", "CLOUD-DB01",
			`databases[1].name: "CLOUD-DB01" already names databases[0]`},
		{"dsn on sqlite", "    driver: sqlite\n", "    driver: sqlite\n    dsn: x\n",
			"databases[0].dsn: only for the postgres driver"},
		{"missing data directory", "  directory: /var/lib/hybridgraph\n", "  keys: k\n",
			"data.directory: required"},
		{"relative public URL", "https://graph.contoso.test", "graph.contoso.test",
			"publicURL: want an absolute"},
		{"bad listen", "listen: 127.0.0.1:5080", "listen: 5080", "listen: want host:port"},
		{"bad smart host", "smartHost: mail.contoso.test:25", "smartHost: :25",
			"smtp.smartHost: want host:port"},
		{"connector without domains", "[contoso.test]", "[]",
			"connectors[0].targetAddressDomains: list at least one"},
		{"negative proxy timeout", "15s", "-1s", "limits.proxyTimeout: want above 0"},
		{"negative max top", "  proxyTimeout: 15s\n", "  maxTop: -5\n",
			"limits.maxTop: want at least 1"},
		{"two documents", "listen:", "listen: 127.0.0.1:1\n---\nlisten:", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(valid, tt.old) {
				t.Fatalf("the valid file has no %q", tt.old)
			}
			in := strings.Replace(valid, tt.old, tt.new, 1)
			_, err := Parse([]byte(in))
			if err == nil {
				t.Fatalf("got no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "config.") {
				t.Errorf("got error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("got %v, want an empty config error", err)
	}
}

// TestExampleFile keeps the documented example valid and complete: it must
// parse and set every field, so that each one is documented there.
func TestExampleFile(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "serve.example.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, field := range []string{"data:", "directory:", "keys:", "publicURL:", "listen:",
		"databases:", "name:", "driver:", "dsn:", "path:", "connectors:",
		"targetAddressDomains:", "discoveryEndpoint:", "enabled:", "limits:",
		"proxyTimeout:", "maxTop:", "smtp:", "smartHost:"} {
		if !strings.Contains(string(b), field) {
			t.Errorf("%s does not document %s", path, field)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("databases: [{name: a, driver: sqlite}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must validate again unchanged.
		if err := c.Validate(); err != nil {
			t.Errorf("Parse accepted a config Validate refuses: %v", err)
		}
	})
}

// TestConnectorEnabledByDefault: a connector without enabled routes, as an
// Exchange connector is enabled when made; enabled: false turns it off.
func TestConnectorEnabledByDefault(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{{"", true}, {"    enabled: true\n", true}, {"    enabled: false\n", false}} {
		in := strings.Replace(valid, "    enabled: true\n", tc.line, 1)
		c, err := Parse([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Connectors[0].On(); got != tc.want {
			t.Errorf("enabled line %q: On() = %v, want %v", tc.line, got, tc.want)
		}
	}
}
