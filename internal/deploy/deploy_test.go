package deploy

import (
	"errors"
	"testing"
)

func TestLock(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	release, err := l.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(); !errors.Is(err, ErrInUse) {
		t.Errorf("second Lock: got %v, want ErrInUse", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	again, err := l.Lock()
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	again()
}

func TestSaveLoad(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	if _, err := l.Load(); !errors.Is(err, ErrNoDeployment) {
		t.Errorf("Load of an empty directory: got %v, want ErrNoDeployment", err)
	}
	d := &Deployment{TenantID: "t", Domain: "contoso.test", CloudURL: "http://a"}
	if err := l.Save(d); err != nil {
		t.Fatal(err)
	}
	got, err := l.Load()
	if err != nil || got.TenantID != "t" || got.CloudURL != "http://a" {
		t.Errorf("Load = %+v, %v", got, err)
	}
}
