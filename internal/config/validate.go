package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Validate checks every field and names each failing one by its path.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.Data.Directory == "" {
		add("data.directory", "required")
	}
	if err := absoluteURL(c.PublicURL); err != nil {
		add("publicURL", "%v", err)
	}
	if err := hostPort(c.Listen, true); err != nil {
		add("listen", "%v", err)
	}
	c.validateDatabases(add)
	c.validateConnectors(add)
	if c.Limits.ProxyTimeout < 0 || c.Limits.ProxyTimeout > 10*time.Minute {
		add("limits.proxyTimeout", "want above 0 and at most 10m, got %v", c.Limits.ProxyTimeout)
	}
	if c.Limits.MaxTop < 1 {
		add("limits.maxTop", "want at least 1, got %d", c.Limits.MaxTop)
	}
	if c.SMTP.Listen != "" {
		if err := hostPort(c.SMTP.Listen, true); err != nil {
			add("smtp.listen", "%v", err)
		}
	}
	if c.SMTP.SmartHost != "" {
		if err := hostPort(c.SMTP.SmartHost, false); err != nil {
			add("smtp.smartHost", "%v", err)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateDatabases(add func(field, format string, args ...any)) {
	if len(c.Databases) == 0 {
		add("databases", "list at least one mailbox database")
	}
	seen := map[string]int{}
	for i, db := range c.Databases {
		at := fmt.Sprintf("databases[%d]", i)
		if db.Name == "" {
			add(at+".name", "required")
		} else if j, dup := seen[strings.ToUpper(db.Name)]; dup {
			// Exchange's database names ignore case; so does the directory.
			add(at+".name", "%q already names databases[%d] (names ignore case)", db.Name, j)
		} else {
			seen[strings.ToUpper(db.Name)] = i
		}
		switch db.Driver {
		case Postgres:
			if db.DSN == "" {
				add(at+".dsn", "required by the postgres driver")
			}
			if db.Path != "" {
				add(at+".path", "only for the sqlite driver; postgres uses dsn")
			}
		case SQLite:
			if db.DSN != "" {
				add(at+".dsn", "only for the postgres driver; sqlite uses path")
			}
		case "":
			add(at+".driver", "required: sqlite or postgres")
		default:
			add(at+".driver", "unknown driver %q: want sqlite or postgres", db.Driver)
		}
	}
}

func (c *Config) validateConnectors(add func(field, format string, args ...any)) {
	names := map[string]int{}
	routed := map[string]string{} // domain → the enabled connector field routing it
	for i, cn := range c.Connectors {
		at := fmt.Sprintf("connectors[%d]", i)
		if cn.Name == "" {
			add(at+".name", "required")
		} else if j, dup := names[strings.ToUpper(cn.Name)]; dup {
			add(at+".name", "%q already names connectors[%d] (names ignore case)", cn.Name, j)
		} else {
			names[strings.ToUpper(cn.Name)] = i
		}
		if len(cn.TargetAddressDomains) == 0 {
			add(at+".targetAddressDomains", "list at least one domain")
		}
		for j, d := range cn.TargetAddressDomains {
			field := fmt.Sprintf("%s.targetAddressDomains[%d]", at, j)
			if d == "" {
				add(field, "empty domain")
				continue
			}
			// Two enabled connectors for one domain would leave which one
			// routes it to chance.
			if other, dup := routed[strings.ToLower(d)]; dup && cn.On() {
				add(field, "%q is routed by %s already (domains ignore case)", d, other)
			} else if cn.On() {
				routed[strings.ToLower(d)] = field
			}
		}
		if err := absoluteURL(cn.DiscoveryEndpoint); err != nil {
			add(at+".discoveryEndpoint", "%v", err)
		}
	}
}

func absoluteURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want an absolute http or https URL, got %q", s)
	}
	return nil
}

// hostPort checks a host:port; a listen address may leave the host out.
func hostPort(s string, listen bool) error {
	if s == "" {
		return errors.New("required")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", s)
	}
	if port == "" || (host == "" && !listen) {
		return fmt.Errorf("want host:port, got %q", s)
	}
	return nil
}
