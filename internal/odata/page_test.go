package odata

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

func TestPage(t *testing.T) {
	q := &Query{Top: 3}
	tests := []struct {
		in   []int
		want []int
		more bool
	}{
		{nil, nil, false},
		{[]int{1, 2}, []int{1, 2}, false},
		{[]int{1, 2, 3}, []int{1, 2, 3}, false},
		{[]int{1, 2, 3, 4}, []int{1, 2, 3}, true},
	}
	for _, tt := range tests {
		got, more := Page(tt.in, q)
		if diff := cmp.Diff(tt.want, got); diff != "" || more != tt.more {
			t.Errorf("Page(%v): got %v, %v, want %v, %v", tt.in, got, more, tt.want, tt.more)
		}
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct {
		req  string
		want string
	}{
		{"https://h/v1.0/me/messages",
			"https://h/v1.0/me/messages?$top=10&$skip=10"},
		{"https://h/v1.0/me/messages?$top=5&$skip=5",
			"https://h/v1.0/me/messages?$top=5&$skip=10"},
		{"https://h/v1.0/me/messages?%24filter=subject%20eq%20%27a%26b%27&%24SKIP=5&%24Top=5",
			"https://h/v1.0/me/messages?%24filter=subject%20eq%20%27a%26b%27&$top=5&$skip=10"},
		{"https://h/api/v2.0/me/messages?$select=Subject&startDateTime=x",
			"https://h/api/v2.0/me/messages?$select=Subject&startDateTime=x&$top=10&$skip=10"},
	}
	for _, tt := range tests {
		t.Run(tt.req, func(t *testing.T) {
			u, err := url.Parse(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(u.Query(), schema.Message, schema.Graph, DefaultLimits)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := NextLink(u, q); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPagingWalk follows next links over a simulated store (a sorted slice
// with offset and limit, as store.Query describes) and checks that every
// item comes exactly once, in order, whatever the page size and start.
func TestPagingWalk(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 25, 100} {
		for _, top := range []int{1, 3, 10, 1000} {
			t.Run(fmt.Sprintf("%d items, top %d", n, top), func(t *testing.T) {
				walk(t, n, fmt.Sprintf("https://h/v1.0/me/messages?$top=%d&$filter=isRead%%20eq%%20false", top))
			})
		}
	}
	t.Run("default page, start at 7", func(t *testing.T) {
		walk(t, 33, "https://h/v1.0/me/messages?$skip=7&$filter=isRead")
	})
}

func walk(t *testing.T, n int, first string) {
	t.Helper()
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	start, err := url.Parse(first)
	if err != nil {
		t.Fatal(err)
	}
	skip0, _ := Parse(start.Query(), schema.Message, schema.Graph, DefaultLimits)

	var got []int
	link := first
	for pages := 0; link != ""; pages++ {
		if pages > n+2 {
			t.Fatalf("more than %d pages: the walk does not end", pages)
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatalf("next link %q: %v", link, err)
		}
		q, err := Parse(u.Query(), schema.Message, schema.Graph, DefaultLimits)
		if err != nil {
			t.Fatalf("Parse(%s): %v", link, err)
		}
		if q.Store.Where == "" {
			t.Fatalf("next link %s lost $filter", link)
		}
		lo := min(q.Store.Skip, n)
		hi := min(lo+q.Store.Top, n)
		page, more := Page(all[lo:hi], q)
		got = append(got, page...)
		link = ""
		if more {
			link = NextLink(u, q)
		}
	}
	if diff := cmp.Diff(all[min(skip0.Skip, n):], got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("walked items (-want +got):\n%s", diff)
	}
}
