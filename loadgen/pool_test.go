package loadgen

import (
	"reflect"
	"testing"
)

// The pool page's rows and sentence, as app/templates/pool.html writes them; the real page is read
// by TestStartServicesModes.
func TestParsePool(t *testing.T) {
	row := func(id, addr, state string) string {
		return `<tr><td>` + id + `</td><td>` + addr + `</td><td>` + state + `</td><td>1s ago</td>` + "\n"
	}
	for _, tc := range []struct {
		name    string
		page    string
		want    PoolView
		wantErr bool
	}{
		{"two routed, a standby", `<p>... 2 nodes are routed to now.</p>` + row("1", "http://127.0.0.1:1", "active") +
			row("2", "http://127.0.0.1:2", "active") + row("3", "http://127.0.0.1:3", "standby"),
			PoolView{Routed: 2, Nodes: []PoolNode{{1, "http://127.0.0.1:1", NodeActive, true}, {2, "http://127.0.0.1:2", NodeActive, true}, {3, "http://127.0.0.1:3", NodeStandby, true}}}, false},
		{"one routed, one down", `1 node is routed to now.` + row("1", "http://a", "active") + row("4", "http://b", "active (down)"),
			PoolView{Routed: 1, Nodes: []PoolNode{{1, "http://a", NodeActive, true}, {4, "http://b", NodeActive, false}}}, false},
		{"escaped address", `1 node is routed to now.` + row("7", "http://h/?a=1&amp;b=2", "active"),
			PoolView{Routed: 1, Nodes: []PoolNode{{7, "http://h/?a=1&b=2", NodeActive, true}}}, false},
		{"a plain cache, no pool", `<p>This backend runs over a single memcache, not a pool.</p>`, PoolView{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePool([]byte(tc.page))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
