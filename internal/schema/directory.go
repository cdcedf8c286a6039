package schema

// User is the directory's user entity (Graph v1.0 user resource). The
// default set is what Graph returns without $select that the directory
// holds; the onPremises* properties, like Graph's, come only when $select
// names them. Only the columns below may be filtered and sorted on: Graph
// filters users by userPrincipalName, mail and displayName (eq,
// startswith), and its id.
var User = (&StructType{
	Graph: "user", Table: "users",
	Props: []*Property{
		{Graph: "id", Kind: String, ReadOnly: true},
		// Graph's default set, in its order. The directory keeps no phones,
		// names apart from displayName, titles, offices or languages: they
		// are null (businessPhones empty), as Graph answers for a user
		// whose directory entry lacks them.
		{Graph: "businessPhones", Kind: String, Collection: true, ReadOnly: true},
		{Graph: "displayName", Kind: String},
		{Graph: "givenName", Kind: String, ReadOnly: true},
		{Graph: "jobTitle", Kind: String, ReadOnly: true},
		{Graph: "mail", Kind: String},
		{Graph: "mobilePhone", Kind: String, ReadOnly: true},
		{Graph: "officeLocation", Kind: String, ReadOnly: true},
		{Graph: "preferredLanguage", Kind: String, ReadOnly: true},
		{Graph: "surname", Kind: String, ReadOnly: true},
		{Graph: "userPrincipalName", Kind: String},
		// accountEnabled (every entry here signs in), mailNickname (the
		// Exchange alias: the primary address's local part) and userType
		// (Member) come only with $select, as in Graph.
		{Graph: "accountEnabled", Kind: Bool, ReadOnly: true, SelectOnly: true},
		{Graph: "mailNickname", Kind: String, ReadOnly: true, SelectOnly: true},
		{Graph: "userType", Kind: String, ReadOnly: true, SelectOnly: true},
		{Graph: "onPremisesSyncEnabled", Kind: Bool, ReadOnly: true, SelectOnly: true},
		{Graph: "onPremisesImmutableId", Kind: String, SelectOnly: true},
		{Graph: "onPremisesLastSyncDateTime", Kind: DateTimeOffset, ReadOnly: true,
			SelectOnly: true},
		// proxyAddresses: "SMTP:" and the primary address, "smtp:" and each
		// secondary one, as Exchange keeps them (user resource).
		{Graph: "proxyAddresses", Kind: String, Collection: true, ReadOnly: true,
			SelectOnly: true},
	},
	Columns: []*Column{
		{Path: "id", Name: "object_id", Kind: String, Sortable: true},
		{Path: "displayName", Name: "display_name", Kind: String, Sortable: true},
		{Path: "mail", Name: "mail", Kind: String, Sortable: true},
		{Path: "userPrincipalName", Name: "upn", Kind: String, Sortable: true},
	},
}).finish()

// VerifiedDomain is one domain of an organisation.
var VerifiedDomain = (&StructType{
	Graph: "verifiedDomain",
	Props: []*Property{
		{Graph: "name", Kind: String},
		{Graph: "isDefault", Kind: Bool},
		{Graph: "isInitial", Kind: Bool},
		{Graph: "type", Kind: String},
	},
}).finish()

// Organization is the tenant (Graph v1.0 organization resource), with its
// directory-sync state: onPremisesSyncEnabled is null until a first sync,
// and onPremisesLastSyncDateTime is the last successful one.
var Organization = (&StructType{
	Graph: "organization",
	Props: []*Property{
		{Graph: "id", Kind: String, ReadOnly: true},
		{Graph: "displayName", Kind: String},
		{Graph: "verifiedDomains", Kind: Struct, Type: VerifiedDomain, Collection: true},
		{Graph: "onPremisesSyncEnabled", Kind: Bool},
		{Graph: "onPremisesLastSyncDateTime", Kind: DateTimeOffset, ReadOnly: true},
	},
}).finish()
