package readiness

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// resolvConf is where the system names its DNS servers.
const resolvConf = "/etc/resolv.conf"

// resolver returns the DNS server to ask: the configured one, or the
// first of the system's.
func (p prober) resolver() (string, error) {
	if p.t.Resolver != "" {
		return p.t.Resolver, nil
	}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(cc.Servers) == 0 {
		return "", errNoResolver
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port), nil
}

// lookup asks the resolver for host's A and AAAA records (a CNAME chain is
// followed by the recursive resolver and its targets' addresses kept).
// DNSTimeout bounds one DNS query: a resolver that does not answer is a
// finding, not a reason to wait.
const DNSTimeout = 3 * time.Second

func (p prober) lookup(ctx context.Context, host string) Lookup {
	l := Lookup{Host: host, At: p.t.Now().UTC()}
	if isIP(host) {
		l.IPLiteral = true
		return l
	}
	server, err := p.resolver()
	if err != nil {
		l.Error = err.Error()
		return l
	}
	l.Resolver = server
	c := &dns.Client{Timeout: DNSTimeout}
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(host), qt)
		m.RecursionDesired = true
		r, _, err := c.ExchangeContext(ctx, m, server)
		if err != nil {
			l.Error = fmt.Sprintf("%s query: %v", dns.TypeToString[qt], err)
			return l
		}
		if l.Rcode == "" || r.Rcode != dns.RcodeSuccess {
			l.Rcode = dns.RcodeToString[r.Rcode]
		}
		for _, rr := range r.Answer {
			switch a := rr.(type) {
			case *dns.A:
				l.Addresses = append(l.Addresses, a.A.String())
			case *dns.AAAA:
				l.Addresses = append(l.Addresses, a.AAAA.String())
			}
		}
	}
	return l
}
