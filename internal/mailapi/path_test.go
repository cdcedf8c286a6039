package mailapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitPath(t *testing.T) {
	tests := []struct {
		in   string
		want []Segment
	}{
		{"/v1.0/me/messages", []Segment{{Name: "v1.0"}, {Name: "me"}, {Name: "messages"}}},
		{"/v1.0/users('o''brien%40contoso.test')/messages",
			[]Segment{{Name: "v1.0"}, {Name: "users", Key: "o'brien@contoso.test", HasKey: true},
				{Name: "messages"}}},
		{"/me/messages/AAMk%2FAD%3D%3D", []Segment{{Name: "me"}, {Name: "messages"},
			{Name: "AAMk/AD=="}}},
		{"/me/mailFolders('inbox')/messages", []Segment{{Name: "me"},
			{Name: "mailFolders", Key: "inbox", HasKey: true}, {Name: "messages"}}},
		{"/users(abc)//x/", []Segment{{Name: "users", Key: "abc", HasKey: true}, {Name: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SplitPath(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("SplitPath(%q) mismatch (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestSplitPathRejects(t *testing.T) {
	for _, in := range []string{"/users('abc", "/users('abc)", "/users(%zz)", "/a%zz",
		"/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17"} {
		if _, err := SplitPath(in); err == nil {
			t.Errorf("SplitPath(%q): got no error", in)
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		path          string
		kind          kind
		folder, msgID string
	}{
		{"/messages", messageList, "", ""},
		{"/messages/AAMk", messageItem, "", "AAMk"},
		{"/messages('AAMk')", messageItem, "", "AAMk"},
		{"/Messages/AAMk/send", messageSend, "", "AAMk"},
		{"/messages/AAMk/microsoft.graph.send", messageSend, "", "AAMk"},
		{"/sendMail", sendMail, "", ""},
		{"/microsoft.graph.sendMail", sendMail, "", ""},
		{"/mailFolders", folderList, "", ""},
		{"/mailFolders/inbox", folderItem, "inbox", ""},
		{"/MailFolders('Inbox')/messages", messageList, "Inbox", ""},
		{"/mailFolders/inbox/messages/AAMk", messageItem, "inbox", "AAMk"},
		{"/mailFolders/inbox/childFolders", childFolderList, "inbox", ""},
		{"/mailFolders/inbox/childFolders/F1/messages", messageList, "F1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			segs, err := SplitPath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := resolve(segs)
			if err != nil {
				t.Fatal(err)
			}
			if got.kind != tt.kind || got.folder != tt.folder || got.message != tt.msgID {
				t.Errorf("resolve(%s) = kind %d folder %q message %q; want %d %q %q", tt.path,
					got.kind, got.folder, got.message, tt.kind, tt.folder, tt.msgID)
			}
		})
	}
	for _, bad := range []string{"/events", "/messages/a/b/c", "/mailFolders/x/bogus",
		"/sendMail/x", "/mailFolders/inbox/childFolders/x/y/z"} {
		segs, _ := SplitPath(bad)
		if _, err := resolve(segs); err == nil {
			t.Errorf("resolve(%s): got no error", bad)
		}
	}
}

func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{"/v1.0/users('a''b')/messages", "/me/messages/AAMk%2F", "/x(y)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		segs, err := SplitPath(in)
		if err != nil {
			return
		}
		if len(segs) > MaxSegments {
			t.Fatalf("got %d segments, above the limit", len(segs))
		}
		resolve(segs)
	})
}
