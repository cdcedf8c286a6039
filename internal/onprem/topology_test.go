package onprem

import "testing"

func TestBuildServesREST(t *testing.T) {
	tests := []struct {
		build string
		want  bool
	}{
		{"15.1.2507.6", true},  // 2016 CU23
		{"15.1.544.27", true},  // 2016 CU3
		{"15.1.466.34", false}, // 2016 CU2
		{"15.0.1497.2", false}, // 2013 CU23
		{"15.2.1748.10", true}, // 2019 CU15
		{"14.3.123.4", false},  // 2010
		{"15.01.0544.027", true},
	}
	for _, tt := range tests {
		b, err := ParseBuild(tt.build)
		if err != nil {
			t.Fatalf("ParseBuild(%q): %v", tt.build, err)
		}
		if got := b.ServesREST(); got != tt.want {
			t.Errorf("%s ServesREST() = %v, want %v", tt.build, got, tt.want)
		}
	}
	for _, bad := range []string{"", "15.1", "15.1.x.2", "15.1.-1.2", "1.2.3.4.5"} {
		if _, err := ParseBuild(bad); err == nil {
			t.Errorf("ParseBuild(%q): got no error", bad)
		}
	}
}

func TestTopologyValidate(t *testing.T) {
	good := Topology{Servers: []Server{{Name: "EX1", Build: "15.1.2507.6"}},
		Databases: []Database{{Name: "DB1", Server: "ex1"}}, FrontEnd: "EX1"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid topology: %v", err)
	}
	bad := good
	bad.Databases = []Database{{Name: "DB1", Server: "EX9"}}
	if err := bad.Validate(); err == nil {
		t.Error("database on an unknown server: got no error")
	}
	bad = good
	bad.FrontEnd = "EX9"
	if err := bad.Validate(); err == nil {
		t.Error("unknown front end: got no error")
	}
}
