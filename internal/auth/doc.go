// Package auth is hybridgraph's identity layer: a small token service shaped
// like Azure AD (Microsoft identity platform v2.0), the validation of the
// tokens it issues, and the permission model Graph applies to mail,
// calendar and contacts.
//
// The model has three kinds of token, all RS256 JWTs signed by one RSA key
// (Key) whose public half is published as a JWK Set:
//
//   - Delegated tokens (Issuer.DelegatedToken) act for a signed-in user. They
//     carry the user's object id and UPN and a space-separated "scp" claim.
//     hybridgraph issues them itself (for the command line and tests); it
//     runs no interactive sign-in.
//   - Application tokens (Issuer.AppToken) come from the client credentials
//     grant at the token endpoint (Issuer.Handler). They carry a "roles"
//     array and no "scp"; the caller is an app registered in apps.json.
//   - Server-to-server tokens (Issuer.S2SToken) are what the Graph gateway
//     presents to an on-premises Exchange (or hybridgraph onprem) when it
//     proxies a request for an on-prem mailbox. The actor is Exchange
//     Online's first-party application and the audience names the on-prem
//     host and the tenant, as [MS-XOAUTH] 3.2.5.6 describes.
//
// The Graph front door checks tokens with Validator and the permission
// tables (Require, CanAccessMailbox); the on-prem side checks S2S tokens
// with S2SValidator, which fetches the cloud's JWK Set over HTTP and keeps
// it refreshed.
//
// Signing uses go-jose; validation uses golang-jwt with the keyfunc/jwkset
// libraries for remote key sets. None of their types leave this package.
package auth
