package dirsync

import (
	"context"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
)

// AgentName names the app registration the sync agent acts as.
const AgentName = "hybridgraph directory sync"

// agentTokenTTL is the lifetime of one agent token: a token is minted per
// push, so it only needs to outlive one run.
const agentTokenTTL = 10 * time.Minute

// Agent finds (or registers once) the sync agent's app in the token
// service's key folder keyDir, holding only the DirectorySync role. The
// one-shot command and the on-prem server's loop act as the same app, so
// the cloud's access log names one sync agent whichever ran.
func Agent(keyDir string) (auth.App, error) {
	apps, err := auth.LoadApps(keyDir)
	if err != nil {
		return auth.App{}, err
	}
	for _, a := range apps {
		if a.DisplayName == AgentName {
			return a, nil
		}
	}
	roles := auth.DirectorySync.Application
	id, _, err := auth.RegisterApp(keyDir, AgentName, roles)
	if err != nil {
		return auth.App{}, err
	}
	return auth.App{ClientID: id, DisplayName: AgentName, Roles: roles}, nil
}

// AgentToken is a Client.Token that signs app's token with iss. The sync
// agent runs beside the token service's key here, so it signs its own app
// token; a remote agent would use the client credentials grant instead.
func AgentToken(iss *auth.Issuer, app auth.App) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		return iss.AppToken(app, agentTokenTTL)
	}
}
