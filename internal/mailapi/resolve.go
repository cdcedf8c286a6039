package mailapi

import (
	"net/http"
	"strings"
)

type kind int

const (
	unknown kind = iota
	messageList
	messageItem
	messageSend
	folderList
	childFolderList
	folderItem
	sendMail
)

// resource is what a path addresses.
type resource struct {
	kind    kind
	folder  string    // folder id or well-known name ("" = whole mailbox)
	message string    // message id
	path    []Segment // the path in keyed form, for @odata.context
	// delta marks messages/delta under a messageList: the delta function
	// of the collection (delta.go).
	delta bool
}

// op is the access that method needs on r, or -1 when the method is not
// allowed (the handler answers 405).
func (r resource) op(method string) Op {
	if r.delta {
		if method == http.MethodGet {
			return Read
		}
		return -1
	}
	switch r.kind {
	case messageSend, sendMail:
		if method == http.MethodPost {
			return Send
		}
	case messageList:
		switch method {
		case http.MethodGet:
			return Read
		case http.MethodPost:
			return Write
		}
	case messageItem:
		switch method {
		case http.MethodGet:
			return Read
		case http.MethodPatch, http.MethodDelete:
			return Write
		}
	case folderList, childFolderList, folderItem:
		if method == http.MethodGet {
			return Read
		}
	}
	return -1
}

// isAction reports whether name is the action a, bare or namespace
// qualified ("send", "microsoft.graph.send", "Microsoft.OutlookServices.Send").
func isAction(name, a string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return strings.EqualFold(name, a)
}

// Keyed pairs "collection/key" into one keyed segment, so that both URL
// forms Graph accepts (messages/{id} and messages('{id}')) resolve alike,
// and so that logs can hide keys.
func Keyed(segs []Segment) []Segment {
	out := make([]Segment, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		collection := s.Is("messages") || s.Is("mailFolders") || s.Is("childFolders")
		if collection && !s.HasKey && i+1 < len(segs) && !segs[i+1].HasKey &&
			!isNavigation(segs[i+1].Name) {
			s.Key, s.HasKey = segs[i+1].Name, true
			i++
		}
		out = append(out, s)
	}
	return out
}

func isNavigation(name string) bool {
	for _, n := range []string{"messages", "childFolders", "$count", "delta"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// resolve maps a path (after the user segment) to the resource it names.
func resolve(raw []Segment) (resource, error) {
	segs := Keyed(raw)
	res := resource{path: segs}
	if len(segs) == 0 {
		return res, notFound(raw)
	}
	first := segs[0]
	rest := segs[1:]
	switch {
	case isAction(first.Name, "sendMail") && len(rest) == 0 && !first.HasKey:
		res.kind = sendMail
		return res, nil
	case first.Is("messages"):
		return messagePath(res, first, rest)
	case first.Is("mailFolders"):
		return folderPath(res, first, rest)
	}
	return res, notFound(raw)
}

func messagePath(res resource, s Segment, rest []Segment) (resource, error) {
	if !s.HasKey {
		switch {
		case len(rest) == 1 && isAction(rest[0].Name, "delta") && !rest[0].HasKey:
			res.delta = true
		case len(rest) > 0:
			return res, notFound(res.path)
		}
		res.kind = messageList
		return res, nil
	}
	res.message = s.Key
	switch {
	case len(rest) == 0:
		res.kind = messageItem
	case len(rest) == 1 && isAction(rest[0].Name, "send") && !rest[0].HasKey:
		res.kind = messageSend
	default:
		return res, notFound(res.path)
	}
	return res, nil
}

func folderPath(res resource, s Segment, rest []Segment) (resource, error) {
	if !s.HasKey {
		if len(rest) > 0 {
			return res, notFound(res.path)
		}
		res.kind = folderList
		return res, nil
	}
	res.folder = s.Key
	// Walk down childFolders('x') to the folder the path ends on.
	for len(rest) > 0 && rest[0].Is("childFolders") {
		if !rest[0].HasKey {
			if len(rest) > 1 {
				return res, notFound(res.path)
			}
			res.kind = childFolderList
			return res, nil
		}
		res.folder = rest[0].Key
		rest = rest[1:]
	}
	switch {
	case len(rest) == 0:
		res.kind = folderItem
		return res, nil
	case rest[0].Is("messages"):
		folder := res.folder
		res, err := messagePath(res, rest[0], rest[1:])
		res.folder = folder
		return res, err
	}
	return res, notFound(res.path)
}
