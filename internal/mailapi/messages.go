package mailapi

import (
	"encoding/json"
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// newestFirst is the order of a message list without $orderby: Graph lists
// messages by receivedDateTime, newest first (graph-api.md §3.2).
var newestFirst = func() store.Order {
	col, _, _ := schema.Message.Resolve(schema.Graph, "receivedDateTime")
	return store.Order{Column: col.Name, Desc: true}
}()

func (f *Face) messageList(c *Call, res resource) error {
	if res.delta || f.tracksChanges(c) {
		return f.messageDelta(c, res)
	}
	switch c.R.Method {
	case http.MethodGet:
	case http.MethodPost:
		return f.createMessage(c, res)
	default:
		return methodNotAllowed(res)
	}

	q, _, err := f.parse(c, schema.Message)
	if err != nil {
		return err
	}
	searchOrder(q) // before the default, which it replaces
	q.DefaultOrder(newestFirst)

	ctx := c.R.Context()
	items, err := f.Engine.ListMessages(ctx, c.Mailbox, res.folder, q.Store)
	if err != nil {
		return engineError(err)
	}
	count := -1
	if q.Count {
		cq := q.Store
		cq.Top, cq.Skip = 0, 0
		if count, err = f.Engine.CountMessages(ctx, c.Mailbox, res.folder, cq); err != nil {
			return engineError(err)
		}
		count = searchCount(q, count)
	}

	page, more := odata.Page(items, q)
	convert := applyBodyPreference(c.W, c.R)
	shaped := make([][]byte, len(page))
	for i, it := range page {
		if shaped[i], err = shapeMessage(it.Doc, f.Dialect, q.Select, convert); err != nil {
			return err
		}
	}
	next := ""
	if more {
		next = odata.NextLink(c.RequestURL, q)
	}
	ctxURL := c.ContextBase + contextPath(res.path) + selectSuffix(q.Select, f.Dialect)
	return writeJSON(c.W, http.StatusOK, collection(ctxURL, count, shaped, next))
}

func selectSuffix(sel []*schema.Property, d schema.Dialect) string {
	if sel == nil {
		return ""
	}
	return "(" + odata.SelectList(sel, d) + ")"
}

func (f *Face) messageItem(c *Call, res resource) error {
	ctx := c.R.Context()
	switch c.R.Method {
	case http.MethodGet:
		q, _, err := f.parse(c, schema.Message)
		if err != nil {
			return err
		}
		it, err := f.Engine.Message(ctx, c.Mailbox, res.message)
		if err != nil {
			return engineError(err)
		}
		if err := f.inFolder(c, res, it); err != nil {
			return err
		}
		return f.writeMessage(c, res, http.StatusOK, it, q.Select)
	case http.MethodPatch:
		body, err := f.body(c, schema.Message)
		if err != nil {
			return err
		}
		it, err := f.Engine.UpdateMessage(ctx, c.Mailbox, res.message, body,
			c.R.Header.Get("If-Match"))
		if err != nil {
			return engineError(err)
		}
		return f.writeMessage(c, res, http.StatusOK, it, nil)
	case http.MethodDelete:
		err := f.Engine.DeleteMessage(ctx, c.Mailbox, res.message, c.R.Header.Get("If-Match"))
		if err != nil {
			return engineError(err)
		}
		c.W.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(res)
}

// inFolder answers 404 when a message is asked for under a folder that
// does not hold it (mailFolders/{a}/messages/{id} with id in folder b).
func (f *Face) inFolder(c *Call, res resource, it store.Item) error {
	if res.folder == "" {
		return nil
	}
	id, err := f.Engine.FolderID(c.R.Context(), c.Mailbox, res.folder)
	if err != nil {
		return engineError(err)
	}
	if id != it.FolderID {
		return engineError(store.ErrNotFound)
	}
	return nil
}

func (f *Face) createMessage(c *Call, res resource) error {
	body, err := f.body(c, schema.Message)
	if err != nil {
		return err
	}
	it, err := f.Engine.CreateDraft(c.R.Context(), c.Mailbox, res.folder, body)
	if err != nil {
		return engineError(err)
	}
	return f.writeMessage(c, res, http.StatusCreated, it, nil)
}

func (f *Face) writeMessage(c *Call, res resource, status int, it store.Item,
	sel []*schema.Property) error {
	shaped, err := shapeMessage(it.Doc, f.Dialect, sel, applyBodyPreference(c.W, c.R))
	if err != nil {
		return err
	}
	path := res.path
	if res.kind == messageList && len(path) > 0 {
		// A create answers with the entity of the collection it was posted to.
		path = path[:len(path)-1]
		path = append(path, Segment{Name: res.path[len(res.path)-1].Name})
	} else if len(path) > 0 {
		last := path[len(path)-1]
		path = append(path[:len(path)-1:len(path)-1], Segment{Name: last.Name})
	}
	ctxURL := c.ContextBase + contextPath(path) + selectSuffix(sel, f.Dialect) + "/$entity"
	if it.ChangeKey != "" {
		c.W.Header().Set("ETag", `W/"`+it.ChangeKey+`"`)
	}
	return writeJSON(c.W, status, entity(ctxURL, shaped))
}

func (f *Face) send(c *Call, res resource) error {
	if err := f.Engine.Send(c.R.Context(), c.Mailbox, res.message); err != nil {
		return engineError(err)
	}
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

func (f *Face) sendMail(c *Call) error {
	body, err := f.body(c, schema.SendMailParams)
	if err != nil {
		return err
	}
	var unknown string
	vals, err := schema.SendMailParams.Values(body, func(key string, _ []byte) {
		if unknown == "" {
			unknown = key
		}
	})
	if err != nil {
		return httpserver.Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body is not valid JSON.")
	}
	if unknown != "" {
		return httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
			"The parameter '%s' in the request payload is not a valid parameter for the "+
				"operation 'sendMail'.", unknown)
	}
	var params struct {
		Message         json.RawMessage
		SaveToSentItems *bool
	}
	// Values are indexed like SendMailParams.Props: message, saveToSentItems.
	params.Message = vals[0]
	if raw := vals[1]; raw != nil && string(raw) != "null" {
		var save bool
		if err := json.Unmarshal(raw, &save); err != nil {
			return httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
				"The parameter 'saveToSentItems' must be true or false.")
		}
		params.SaveToSentItems = &save
	}
	if len(params.Message) == 0 || string(params.Message) == "null" {
		return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidParameter",
			"The value of the parameter 'Message' is empty.")
	}
	save := params.SaveToSentItems == nil || *params.SaveToSentItems
	if err := f.Engine.SendMail(c.R.Context(), c.Mailbox, params.Message, save); err != nil {
		return engineError(err)
	}
	c.W.WriteHeader(http.StatusAccepted)
	return nil
}

// body reads a JSON request body of type t and returns it in Graph-canonical
// names (a REST body is translated first).
func (f *Face) body(c *Call, t *schema.StructType) ([]byte, error) {
	body, err := httpserver.ReadBody(c.R)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
			"The request body is empty; a JSON object is expected.")
	}
	if f.Dialect != schema.Graph {
		body, err = schema.Translate(body, t, f.Dialect, schema.Graph)
	} else {
		body, err = schema.Translate(body, t, schema.Graph, schema.Graph)
	}
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body is not valid JSON.")
	}
	return body, nil
}

// shapeMessage shapes a stored message for the answer, converting its body
// first when the client preferred another body type.
func shapeMessage(doc []byte, d schema.Dialect, sel []*schema.Property,
	convert func([]byte) ([]byte, error)) ([]byte, error) {
	if convert != nil {
		var err error
		if doc, err = convert(doc); err != nil {
			return nil, err
		}
	}
	return odata.Shape(doc, schema.Message, d, sel)
}
