package schema

// The mail types of Graph v1.0 and their Outlook REST v2.0 spellings.
// Property lists: reference graph-api.md §2.1 (from the v1.0 CSDL) and
// exchange-hybrid.md §1.3 (the 2016 v2.0 resource reference). The v2.0 name
// is the Graph name in Pascal case unless REST is given.

// Enumerations.
var (
	Importance = &EnumType{Name: "importance", Members: []string{"low", "normal", "high"}}
	BodyType   = &EnumType{Name: "bodyType", Members: []string{"text", "html"},
		REST: map[string]string{"text": "Text", "html": "HTML"}}
	InferenceClassificationType = &EnumType{Name: "inferenceClassificationType",
		Members: []string{"focused", "other"}}
	FollowupFlagStatus = &EnumType{Name: "followupFlagStatus",
		Members: []string{"notFlagged", "complete", "flagged"}}
)

// Complex types.
var (
	EmailAddress = (&StructType{Graph: "emailAddress", Props: []*Property{
		{Graph: "name", Kind: String},
		{Graph: "address", Kind: String},
	}}).finish()

	Recipient = (&StructType{Graph: "recipient", Props: []*Property{
		{Graph: "emailAddress", Kind: Struct, Type: EmailAddress},
	}}).finish()

	ItemBody = (&StructType{Graph: "itemBody", Props: []*Property{
		{Graph: "contentType", Kind: Enum, Enum: BodyType},
		{Graph: "content", Kind: String},
	}}).finish()

	DateTimeTimeZone = (&StructType{Graph: "dateTimeTimeZone", Props: []*Property{
		{Graph: "dateTime", Kind: String},
		{Graph: "timeZone", Kind: String},
	}}).finish()

	FollowupFlag = (&StructType{Graph: "followupFlag", Props: []*Property{
		{Graph: "flagStatus", Kind: Enum, Enum: FollowupFlagStatus},
		{Graph: "startDateTime", Kind: Struct, Type: DateTimeTimeZone},
		{Graph: "dueDateTime", Kind: Struct, Type: DateTimeTimeZone},
		{Graph: "completedDateTime", Kind: Struct, Type: DateTimeTimeZone},
	}}).finish()

	InternetMessageHeader = (&StructType{Graph: "internetMessageHeader", Props: []*Property{
		{Graph: "name", Kind: String},
		{Graph: "value", Kind: String},
	}}).finish()
)

// Message is the message entity (microsoft.graph.message,
// Microsoft.OutlookServices.Message).
var Message = (&StructType{
	Graph: "message", Table: "messages", ODataType: false,
	Props: []*Property{
		{Graph: "id", Kind: String, ReadOnly: true},
		{Graph: "createdDateTime", Kind: DateTimeOffset, ReadOnly: true},
		{Graph: "lastModifiedDateTime", Kind: DateTimeOffset, ReadOnly: true},
		{Graph: "changeKey", Kind: String, ReadOnly: true},
		{Graph: "categories", Kind: String, Collection: true},
		{Graph: "receivedDateTime", Kind: DateTimeOffset, ReadOnly: true},
		{Graph: "sentDateTime", Kind: DateTimeOffset, ReadOnly: true},
		{Graph: "hasAttachments", Kind: Bool, ReadOnly: true},
		{Graph: "internetMessageId", Kind: String, DraftOnly: true},
		{Graph: "internetMessageHeaders", Kind: Struct, Type: InternetMessageHeader,
			Collection: true, SelectOnly: true, DraftOnly: true},
		{Graph: "subject", Kind: String, DraftOnly: true},
		{Graph: "bodyPreview", Kind: String, ReadOnly: true},
		{Graph: "importance", Kind: Enum, Enum: Importance},
		{Graph: "parentFolderId", Kind: String, ReadOnly: true},
		{Graph: "conversationId", Kind: String, ReadOnly: true},
		{Graph: "conversationIndex", Kind: Binary, ReadOnly: true},
		{Graph: "isDeliveryReceiptRequested", Kind: Bool},
		{Graph: "isReadReceiptRequested", Kind: Bool},
		{Graph: "isRead", Kind: Bool},
		{Graph: "isDraft", Kind: Bool, ReadOnly: true},
		{Graph: "webLink", Kind: String, ReadOnly: true},
		{Graph: "inferenceClassification", Kind: Enum, Enum: InferenceClassificationType},
		{Graph: "body", Kind: Struct, Type: ItemBody, DraftOnly: true},
		{Graph: "uniqueBody", Kind: Struct, Type: ItemBody, ReadOnly: true, SelectOnly: true},
		// from and sender say who sent the message: fixed once it is sent
		// (graph-api.md §2.2).
		{Graph: "sender", Kind: Struct, Type: Recipient, DraftOnly: true},
		{Graph: "from", Kind: Struct, Type: Recipient, DraftOnly: true},
		{Graph: "toRecipients", Kind: Struct, Type: Recipient, Collection: true, DraftOnly: true},
		{Graph: "ccRecipients", Kind: Struct, Type: Recipient, Collection: true, DraftOnly: true},
		{Graph: "bccRecipients", Kind: Struct, Type: Recipient, Collection: true, DraftOnly: true},
		{Graph: "replyTo", Kind: Struct, Type: Recipient, Collection: true, DraftOnly: true},
		{Graph: "flag", Kind: Struct, Type: FollowupFlag},
	},
	Columns: []*Column{
		{Path: "id", Name: "id", Kind: String, Sortable: true},
		{Path: "parentFolderId", Name: "folder_id", Kind: String},
		{Path: "createdDateTime", Name: "created", Kind: DateTimeOffset, Sortable: true},
		{Path: "lastModifiedDateTime", Name: "modified", Kind: DateTimeOffset, Sortable: true},
		{Path: "receivedDateTime", Name: "received", Kind: DateTimeOffset, Sortable: true},
		{Path: "sentDateTime", Name: "sent", Kind: DateTimeOffset, Sortable: true},
		{Path: "subject", Name: "subject", Kind: String, Sortable: true},
		{Path: "from/emailAddress/address", Name: "from_address", Kind: String, Sortable: true},
		{Path: "from/emailAddress/name", Name: "from_name", Kind: String, Sortable: true},
		{Path: "sender/emailAddress/address", Name: "sender_address", Kind: String, Sortable: true},
		{Path: "sender/emailAddress/name", Name: "sender_name", Kind: String, Sortable: true},
		{Path: "isRead", Name: "is_read", Kind: Bool, Sortable: true},
		{Path: "isDraft", Name: "is_draft", Kind: Bool, Sortable: true},
		{Path: "hasAttachments", Name: "has_attachments", Kind: Bool, Sortable: true},
		{Path: "importance", Name: "importance", Kind: Enum, Enum: Importance, Sortable: true},
		{Path: "inferenceClassification", Name: "inference", Kind: Enum,
			Enum: InferenceClassificationType, Sortable: true},
		{Path: "flag/flagStatus", Name: "flag_status", Kind: Enum, Enum: FollowupFlagStatus,
			Sortable: true},
		{Path: "internetMessageId", Name: "internet_message_id", Kind: String},
		{Path: "conversationId", Name: "conversation_id", Kind: String},
	},
}).finish()

// MailFolder is the mail folder entity. Its counts are computed when read.
var MailFolder = (&StructType{
	Graph: "mailFolder", Table: "folders",
	Props: []*Property{
		{Graph: "id", Kind: String, ReadOnly: true},
		{Graph: "displayName", Kind: String},
		{Graph: "parentFolderId", Kind: String, ReadOnly: true},
		{Graph: "childFolderCount", Kind: Int32, ReadOnly: true},
		{Graph: "unreadItemCount", Kind: Int32, ReadOnly: true},
		{Graph: "totalItemCount", Kind: Int32, ReadOnly: true},
		{Graph: "isHidden", Kind: Bool},
	},
	Columns: []*Column{
		{Path: "id", Name: "id", Kind: String, Sortable: true},
		{Path: "displayName", Name: "display_name", Kind: String, Sortable: true},
		{Path: "parentFolderId", Name: "parent_id", Kind: String},
		{Path: "isHidden", Name: "is_hidden", Kind: Bool},
	},
}).finish()

// Action parameter sets (bodies of POST actions).
var (
	// SendMailParams is the body of user: sendMail.
	SendMailParams = (&StructType{Graph: "sendMail", Props: []*Property{
		{Graph: "message", Kind: Struct, Type: Message},
		{Graph: "saveToSentItems", Kind: Bool},
	}}).finish()

	// MoveParams is the body of move and copy.
	MoveParams = (&StructType{Graph: "move", Props: []*Property{
		{Graph: "destinationId", Kind: String},
	}}).finish()

	// ReplyParams is the body of reply, replyAll, forward and their create* forms.
	ReplyParams = (&StructType{Graph: "reply", Props: []*Property{
		{Graph: "comment", Kind: String},
		{Graph: "message", Kind: Struct, Type: Message},
		{Graph: "toRecipients", Kind: Struct, Type: Recipient, Collection: true},
	}}).finish()
)

// Entities lists the entity types by their Graph collection segment.
var Entities = map[string]*StructType{
	"messages":     Message,
	"mailfolders":  MailFolder,
	"childfolders": MailFolder,
}
