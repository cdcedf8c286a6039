package autodiscover

import "strings"

// Limits from RFC 5321 §4.5.3.1: local part 64 octets, domain 255, and a
// path of 256 octets including the angle brackets, so 254 for the address.
const (
	maxLocal   = 64
	maxDomain  = 255
	maxAddress = 254
	maxLabel   = 63 // RFC 1035 §2.3.4
)

// ValidAddress reports whether s is a plain addr-spec (RFC 5322 §3.4.1):
// a dot-atom local part (§3.2.3), "@", and a domain of letter-digit-hyphen
// labels (RFC 5321 §4.1.2). Quoted local parts, comments, folding white
// space, address literals, source routes and non-ASCII text are refused:
// Autodiscover routes on this value, and only the plain form is needed by
// Exchange's recipients.
func ValidAddress(s string) bool {
	if len(s) > maxAddress {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	return validLocal(s[:at]) && validDomain(s[at+1:])
}

// Domain returns the domain part of a valid address, lower-cased, or ""
// when addr is not a plain addr-spec.
func Domain(addr string) string {
	if !ValidAddress(addr) {
		return ""
	}
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

func validLocal(s string) bool {
	if s == "" || len(s) > maxLocal {
		return false
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" { // leading, trailing or doubled dot
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	return true
}

// isAtext reports the atext characters of RFC 5322 §3.2.3.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func validDomain(s string) bool {
	if s == "" || len(s) > maxDomain {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > maxLabel {
			return false
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}
