package readiness

import (
	"fmt"

	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// release is one Exchange release: its first build and its name.
type release struct {
	build onprem.Build
	name  string
}

// releases is the one table of Exchange builds hybridgraph knows, oldest
// first within each version (exchange-hybrid.md §4; the build numbers are
// those of CSS-Exchange's build dictionary). Exchange SE shares 15.2 with
// 2019 and is told apart by its build (≥ 15.2.2562).
var releases = []release{
	{onprem.Build{15, 0, 516, 32}, "Exchange 2013 RTM"},
	{onprem.Build{15, 0, 1497, 2}, "Exchange 2013 CU23"},
	{onprem.Build{15, 1, 225, 42}, "Exchange 2016 RTM"},
	{onprem.Build{15, 1, 396, 30}, "Exchange 2016 CU1"},
	{onprem.Build{15, 1, 466, 34}, "Exchange 2016 CU2"},
	{onprem.Build{15, 1, 544, 27}, "Exchange 2016 CU3"},
	{onprem.Build{15, 1, 669, 32}, "Exchange 2016 CU4"},
	{onprem.Build{15, 1, 845, 34}, "Exchange 2016 CU5"},
	{onprem.Build{15, 1, 1034, 26}, "Exchange 2016 CU6"},
	{onprem.Build{15, 1, 1261, 35}, "Exchange 2016 CU7"},
	{onprem.Build{15, 1, 1415, 2}, "Exchange 2016 CU8"},
	{onprem.Build{15, 1, 1466, 3}, "Exchange 2016 CU9"},
	{onprem.Build{15, 1, 1531, 3}, "Exchange 2016 CU10"},
	{onprem.Build{15, 1, 1591, 10}, "Exchange 2016 CU11"},
	{onprem.Build{15, 1, 1713, 5}, "Exchange 2016 CU12"},
	{onprem.Build{15, 1, 1779, 2}, "Exchange 2016 CU13"},
	{onprem.Build{15, 1, 1847, 3}, "Exchange 2016 CU14"},
	{onprem.Build{15, 1, 1913, 5}, "Exchange 2016 CU15"},
	{onprem.Build{15, 1, 1979, 3}, "Exchange 2016 CU16"},
	{onprem.Build{15, 1, 2044, 4}, "Exchange 2016 CU17"},
	{onprem.Build{15, 1, 2106, 2}, "Exchange 2016 CU18"},
	{onprem.Build{15, 1, 2176, 2}, "Exchange 2016 CU19"},
	{onprem.Build{15, 1, 2242, 4}, "Exchange 2016 CU20"},
	{onprem.Build{15, 1, 2308, 8}, "Exchange 2016 CU21"},
	{onprem.Build{15, 1, 2375, 7}, "Exchange 2016 CU22"},
	{onprem.Build{15, 1, 2507, 6}, "Exchange 2016 CU23"},
	{onprem.Build{15, 2, 221, 12}, "Exchange 2019 RTM"},
	{onprem.Build{15, 2, 330, 5}, "Exchange 2019 CU1"},
	{onprem.Build{15, 2, 397, 3}, "Exchange 2019 CU2"},
	{onprem.Build{15, 2, 464, 5}, "Exchange 2019 CU3"},
	{onprem.Build{15, 2, 529, 5}, "Exchange 2019 CU4"},
	{onprem.Build{15, 2, 595, 3}, "Exchange 2019 CU5"},
	{onprem.Build{15, 2, 659, 4}, "Exchange 2019 CU6"},
	{onprem.Build{15, 2, 721, 2}, "Exchange 2019 CU7"},
	{onprem.Build{15, 2, 792, 3}, "Exchange 2019 CU8"},
	{onprem.Build{15, 2, 858, 5}, "Exchange 2019 CU9"},
	{onprem.Build{15, 2, 922, 7}, "Exchange 2019 CU10"},
	{onprem.Build{15, 2, 986, 5}, "Exchange 2019 CU11"},
	{onprem.Build{15, 2, 1118, 7}, "Exchange 2019 CU12"},
	{onprem.Build{15, 2, 1258, 12}, "Exchange 2019 CU13"},
	{onprem.Build{15, 2, 1544, 4}, "Exchange 2019 CU14"},
	{onprem.Build{15, 2, 1748, 10}, "Exchange 2019 CU15"},
	{onprem.Build{15, 2, 2562, 17}, "Exchange Server SE RTM"},
}

// versionNames names the versions by major.minor, for builds before the
// first release in the table.
var versionNames = map[[2]int]string{
	{15, 0}: "Exchange 2013", {15, 1}: "Exchange 2016", {15, 2}: "Exchange 2019",
}

// BuildName names build b: the release it is, or the latest release of
// the same version it follows ("Exchange 2016 CU23 or a later update").
func BuildName(b onprem.Build) string {
	var best *release
	for i := range releases {
		r := &releases[i]
		if r.build[0] != b[0] || r.build[1] != b[1] || b.Less(r.build) {
			continue
		}
		best = r
	}
	switch {
	case best != nil && best.build == b:
		return best.name
	case best != nil:
		return best.name + " or a later update"
	}
	if v, ok := versionNames[[2]int{b[0], b[1]}]; ok {
		return fmt.Sprintf("%s (before %s)", v, firstOf(b))
	}
	return fmt.Sprintf("unknown Exchange version %d.%d", b[0], b[1])
}

// firstOf names the first known release of b's version.
func firstOf(b onprem.Build) string {
	for _, r := range releases {
		if r.build[0] == b[0] && r.build[1] == b[1] {
			return r.name
		}
	}
	return "its first release"
}

// IsExchange2013 reports whether b is Exchange 2013 (15.0).
func IsExchange2013(b onprem.Build) bool { return b[0] == 15 && b[1] == 0 }

// is2016OrLater reports whether b is 15.1 or later.
func is2016OrLater(b onprem.Build) bool { return b[0] > 15 || (b[0] == 15 && b[1] >= 1) }
