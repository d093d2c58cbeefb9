package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"imgcache/app/api"
	"imgcache/app/apptest"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// TestPoolPage: the pool page lists the nodes with their figures, stands a node by and activates it
// by hand (recorded among the decisions), refuses to stand by the last active node, saves the
// auto-scaler's settings and names every wrong field, and draws its two charts.
func TestPoolPage(t *testing.T) {
	ps := apptest.StartPool(t, dbtest.DSN(t, database.SQLite), 2, withPages)
	ps.WaitMembers(t, 2)
	base := ps.Backend.URL()
	if status, _ := apptest.Upload(t, base, "k", apptest.PNGImage(t, 1)); status != 200 {
		t.Fatal("upload failed")
	}
	apptest.ReadKey(t, base, "k")
	r := apptest.Request(t, "GET", base+"/pool", "", nil)
	wantPage(t, "pool", r, 200, "Memcache pool", ps.Nodes[0].URL(), ps.Nodes[1].URL(), "Stand by", "Auto-scaler", "/pool/chart/size.png")
	nodes, _ := ps.DB.Nodes(context.Background())
	apptest.WantPoolAPI(t, base, api.Pool{Success: api.True, Routed: 2, Nodes: []api.PoolNode{
		{ID: nodes[0].ID, Address: ps.Nodes[0].URL(), State: api.NodeActive, Alive: true, Routed: true},
		{ID: nodes[1].ID, Address: ps.Nodes[1].URL(), State: api.NodeActive, Alive: true, Routed: true},
	}})

	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[1].ID)}, "state": {"standby"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("stand by = %d: %s", r.Status, r.Body)
	}
	ps.WaitMembers(t, 1)
	apptest.WantPoolAPI(t, base, api.Pool{Success: api.True, Routed: 1, Nodes: []api.PoolNode{
		{ID: nodes[0].ID, Address: ps.Nodes[0].URL(), State: api.NodeActive, Alive: true, Routed: true},
		{ID: nodes[1].ID, Address: ps.Nodes[1].URL(), State: api.NodeStandby, Alive: true, Routed: false},
	}})
	r = apptest.Request(t, "GET", base+"/pool?changed=1", "", nil)
	wantPage(t, "after stand by", r, 200, "The node&#39;s state was changed", "by hand on the pool page", "Activate")
	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[0].ID)}, "state": {"standby"}})
	wantPage(t, "last node", r, http.StatusUnprocessableEntity, "the last active node")
	r = postForm(t, base+"/pool/node", url.Values{"node": {fmt.Sprint(nodes[1].ID)}, "state": {"active"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("activate = %d", r.Status)
	}
	ps.WaitMembers(t, 2)

	bad := url.Values{"enabled": {"on"}, "interval": {"soon"}, "grow_above": {"0.2"}, "shrink_below": {"0.5"}, "grow_ratio": {"2"},
		"shrink_ratio": {"0.5"}, "cool_down": {"5m"}, "min_nodes": {"3"}, "max_nodes": {"2"}}
	r = postForm(t, base+"/pool/autoscaler", bad)
	wantPage(t, "bad settings", r, 400, "Interval: &#34;soon&#34; is not a duration")
	bad.Set("interval", "1m")
	r = postForm(t, base+"/pool/autoscaler", bad)
	wantPage(t, "bad settings", r, 400, "shrink_below", "max_nodes")
	good := url.Values{"enabled": {"on"}, "interval": {"1m"}, "grow_above": {"0.5"}, "shrink_below": {"0.1"}, "grow_ratio": {"2"},
		"shrink_ratio": {"0.75"}, "cool_down": {"5m"}, "min_nodes": {"1"}, "max_nodes": {"8"}}
	if r = postForm(t, base+"/pool/autoscaler", good); r.Status != http.StatusSeeOther {
		t.Fatalf("save settings = %d: %s", r.Status, r.Body)
	}
	if got, err := ps.DB.LatestPoolSettings(context.Background()); err != nil || !got.Enabled || got.ShrinkRatio != 0.75 {
		t.Errorf("saved settings = %+v, %v", got, err)
	}
	for _, chart := range []string{"size", "miss-rate"} {
		r := apptest.Request(t, "GET", base+"/pool/chart/"+chart+".png", "", nil)
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
			t.Errorf("chart %s = %d %s", chart, r.Status, r.Header.Get("Content-Type"))
		}
	}
	if r := apptest.Request(t, "GET", base+"/pool/chart/nope.png", "", nil); r.Status != 404 {
		t.Errorf("unknown chart = %d, want 404", r.Status)
	}
	// The statistics page shows the whole pool, and one node on request.
	r = apptest.Request(t, "GET", base+"/cache_stats", "", nil)
	wantPage(t, "stats of the pool", r, 200, "those of the whole pool", "Whole pool", fmt.Sprintf("node=%d", nodes[1].ID))
	r = apptest.Request(t, "GET", base+fmt.Sprintf("/cache_stats?node=%d", nodes[1].ID), "", nil)
	wantPage(t, "stats of a node", r, 200, fmt.Sprintf("those of node %d", nodes[1].ID))
}
