package directory

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestApplySecondaryAddresses(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	u1 := src(1, UserMailbox)
	u1.Database = "MDB01"
	// The primary address and a duplicate in another case are not secondaries.
	u1.ProxyAddresses = []string{"u1@contoso.test", "Carol@Fabrikam.test",
		"carol@fabrikam.test", "c1@contoso.test"}
	only := User{ObjectID: "c9", UPN: "cloud@contoso.test", Mail: "cloud@contoso.test",
		DisplayName: "Cloud", Premises: Cloud, RecipientType: UserMailbox, Database: "DB"}
	if err := d.Put(ctx, only); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(apply(t, d, Batch{Upserts: []SourceUser{u1}}, syncOpts())),
		[5]int{1, 0, 0, 0, 0}; got != want {
		t.Fatalf("first sync: got %v, want %v", got, want)
	}
	got, err := d.Lookup(ctx, "CAROL@fabrikam.test")
	if err != nil || got.ImmutableID != "imm1" || got.Database != "MDB01" {
		t.Errorf("lookup by secondary address: got %+v, %v; want imm1 in MDB01", got, err)
	}
	addrs, err := d.ProxyAddresses(ctx, got.ObjectID)
	if diff := cmp.Diff([]string{"c1@contoso.test", "Carol@Fabrikam.test"}, addrs); diff != "" ||
		err != nil {
		t.Errorf("ProxyAddresses (-want +got), %v:\n%s", err, diff)
	}

	tests := []struct {
		name string
		user SourceUser
	}{
		{"secondary held as a secondary", withProxy(src(2, UserMailbox), "c1@contoso.test")},
		{"secondary held as a UPN", withProxy(src(3, UserMailbox), "cloud@contoso.test")},
		{"primary held as a secondary", withMail(src(4, UserMailbox), "carol@fabrikam.test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := apply(t, d, Batch{Upserts: []SourceUser{tt.user}}, syncOpts())
			if got, want := counts(s), [5]int{0, 0, 0, 0, 1}; got != want {
				t.Errorf("got %v, want %v (%+v)", got, want, s.Problems)
			}
			if _, err := d.Lookup(ctx, tt.user.UPN); !errors.Is(err, ErrNotFound) {
				t.Errorf("colliding user: got %v, want ErrNotFound", err)
			}
		})
	}

	// Dropping an address frees it; changing the set counts as an update.
	u1.ProxyAddresses = []string{"c1@contoso.test"}
	if got, want := counts(apply(t, d, Batch{Upserts: []SourceUser{u1}}, syncOpts())),
		[5]int{0, 1, 0, 0, 0}; got != want {
		t.Errorf("drop an address: got %v, want %v", got, want)
	}
	u5 := withProxy(src(5, UserMailbox), "carol@fabrikam.test")
	if got, want := counts(apply(t, d, Batch{Upserts: []SourceUser{u5}}, syncOpts())),
		[5]int{1, 0, 0, 0, 0}; got != want {
		t.Errorf("take a freed address: got %v, want %v", got, want)
	}
}

func withProxy(su SourceUser, addrs ...string) SourceUser {
	su.ProxyAddresses = addrs
	return su
}

func withMail(su SourceUser, mail string) SourceUser {
	su.Mail = mail
	return su
}

func TestApplyPresent(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, Cloud)
	var all []SourceUser
	for i := range 20 {
		all = append(all, withProxy(src(i, UserMailbox), fmt.Sprintf("alias%02d@contoso.test", i)))
	}
	apply(t, d, Batch{Upserts: all, Full: true}, syncOpts())
	// A present phase: one entry changed, eighteen unchanged, one gone.
	changed := all[0]
	changed.DisplayName = "Renamed"
	var present []string
	for _, u := range all[1:19] {
		present = append(present, u.ImmutableID)
	}
	b := Batch{Upserts: []SourceUser{changed}, Present: present, Full: true}
	if got, want := counts(apply(t, d, b, syncOpts())), [5]int{0, 1, 1, 0, 0}; got != want {
		t.Errorf("present phase: got %v, want %v", got, want)
	}
	if _, err := d.Lookup(ctx, "alias19@contoso.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("address of the deleted user: got %v, want ErrNotFound", err)
	}
	users, _ := d.All(ctx)
	if len(users) != 19 {
		t.Errorf("users left: got %d, want 19", len(users))
	}
}

func TestApplyFailsBadProxyAddress(t *testing.T) {
	d := openTest(t, Cloud)
	b := Batch{Upserts: []SourceUser{withProxy(src(1, UserMailbox), "no-at-sign"),
		src(2, UserMailbox)}}
	s := apply(t, d, b, syncOpts())
	if got, want := counts(s), [5]int{1, 0, 0, 0, 1}; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if len(s.Problems) != 1 || s.Problems[0].UPN != "u1@contoso.test" {
		t.Errorf("problems: got %+v, want one naming u1", s.Problems)
	}
}
