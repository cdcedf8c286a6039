package mailapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// folderDoc renders a folder as a Graph-canonical mailFolder document.
func folderDoc(fl store.Folder) ([]byte, error) {
	doc := struct {
		ID               string `json:"id"`
		DisplayName      string `json:"displayName"`
		ParentFolderID   string `json:"parentFolderId"`
		ChildFolderCount int    `json:"childFolderCount"`
		UnreadItemCount  int    `json:"unreadItemCount"`
		TotalItemCount   int    `json:"totalItemCount"`
		IsHidden         bool   `json:"isHidden"`
	}{fl.ID, fl.DisplayName, fl.ParentID, fl.ChildFolderCount, fl.UnreadItemCount,
		fl.TotalItemCount, fl.IsHidden}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode folder: %w", err)
	}
	return b, nil
}

// folderQuery parses the query options of a folder list. Folders are few
// per parent, so paging is done on the listed slice; $filter and $orderby
// are refused rather than ignored.
func (f *Face) folderQuery(c *Call) (*odata.Query, url.Values, error) {
	q, v, err := f.parse(c, schema.MailFolder)
	if err != nil {
		return nil, nil, err
	}
	if q.Store.Where != "" || len(q.Store.OrderBy) > 0 {
		// TODO: $filter and $orderby on mailFolders; clients that use them get a 400.
		return nil, nil, httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidUrlQuery",
			"$filter and $orderby are not supported on mail folders.")
	}
	return q, v, nil
}

func (f *Face) folderList(c *Call, res resource) error {
	if c.R.Method != http.MethodGet {
		return methodNotAllowed(res)
	}
	q, v, err := f.folderQuery(c)
	if err != nil {
		return err
	}
	folders, err := f.Engine.Folders(c.R.Context(), c.Mailbox, res.folder)
	if err != nil {
		return engineError(err)
	}
	visible := folders[:0]
	includeHidden := v.Get("includeHiddenFolders") == "true"
	for _, fl := range folders {
		if !fl.IsHidden || includeHidden {
			visible = append(visible, fl)
		}
	}
	count := -1
	if q.Count {
		count = len(visible)
	}
	if q.Skip >= len(visible) {
		visible = nil
	} else {
		visible = visible[q.Skip:]
	}
	page, more := odata.Page(visible, q)

	shaped := make([][]byte, len(page))
	for i, fl := range page {
		doc, err := folderDoc(fl)
		if err != nil {
			return err
		}
		if shaped[i], err = odata.Shape(doc, schema.MailFolder, f.Dialect, q.Select); err != nil {
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

func (f *Face) folderItem(c *Call, res resource) error {
	if c.R.Method != http.MethodGet {
		return methodNotAllowed(res)
	}
	q, _, err := f.parse(c, schema.MailFolder)
	if err != nil {
		return err
	}
	fl, err := f.Engine.Folder(c.R.Context(), c.Mailbox, res.folder)
	if err != nil {
		return engineError(err)
	}
	doc, err := folderDoc(fl)
	if err != nil {
		return err
	}
	shaped, err := odata.Shape(doc, schema.MailFolder, f.Dialect, q.Select)
	if err != nil {
		return err
	}
	path := append(res.path[:len(res.path)-1:len(res.path)-1],
		Segment{Name: res.path[len(res.path)-1].Name})
	ctxURL := c.ContextBase + contextPath(path) + selectSuffix(q.Select, f.Dialect) + "/$entity"
	return writeJSON(c.W, http.StatusOK, entity(ctxURL, shaped))
}
