package conformance

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
)

// graphClient is the SDK client of one user, pointed at the local gateway.
type graphClient struct {
	*msgraphsdk.GraphServiceClient
	host string // host:port the client talks to; nextLinks must stay on it
}

// staticToken is a kiota AccessTokenProvider that hands out one fixed delegated token.
// The SDK's own providers (azidentity) need HTTPS and a real Entra ID authority; the
// SDK's extension point for anything else is this interface.
type staticToken struct {
	token   string
	host    string // exact host:port the token may be sent to
	allowed *authentication.AllowedHostsValidator
}

// GetAuthorizationToken returns the token for requests to the gateway and refuses any
// other host:port. kiota's AllowedHostsValidator compares host names only, so the port
// check is ours: the on-prem server also listens on 127.0.0.1, and a nextLink leaking its
// address must fail loudly rather than carry a cloud token there.
func (s *staticToken) GetAuthorizationToken(
	_ context.Context, u *url.URL, _ map[string]any,
) (string, error) {
	if u == nil || u.Host != s.host {
		return "", fmt.Errorf("refusing to send a token to %v: only %s is allowed", u, s.host)
	}
	return s.token, nil
}

// GetAllowedHostsValidator returns the hosts the token is meant for.
func (s *staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	return s.allowed
}

// newGraphClient builds an SDK client that sends token to the gateway at host:port.
func newGraphClient(hostPort, token string) (*graphClient, error) {
	hostname, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil, fmt.Errorf("gateway address: %w", err)
	}
	allowed, err := authentication.NewAllowedHostsValidatorErrorCheck(
		[]string{hostPort, hostname})
	if err != nil {
		return nil, fmt.Errorf("allowed hosts: %w", err)
	}
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(
		&staticToken{token: token, host: hostPort, allowed: allowed})

	adapter, err := msgraphsdk.NewGraphRequestAdapter(auth)
	if err != nil {
		return nil, fmt.Errorf("request adapter: %w", err)
	}
	// The client copies the base URL into its path parameters when it is constructed,
	// so it must be set on the adapter first.
	adapter.SetBaseUrl("http://" + hostPort + "/v1.0")
	return &graphClient{
		GraphServiceClient: msgraphsdk.NewGraphServiceClient(adapter),
		host:               hostPort,
	}, nil
}
