package web_test

import (
	"strings"
	"testing"

	"imgcache/app/apptest"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// TestBrowserPoolFits: at a laptop's width the pool page's nodes table fits its box, its last column
// (Change, the Stand by button) inside the table's edge; on a phone the table may scroll in its own
// box, never the page.
func TestBrowserPoolFits(t *testing.T) {
	dsn := dbtest.DSN(t, database.SQLite)
	b, st := newBrowser(t, dsn)
	db := apptest.OpenDB(t, dsn)
	// A second node, registered by hand under a long address, as a real deployment's host names are.
	if _, err := db.RegisterNode(t.Context(), "http://memcache-node-2.cache.internal.example.net:5001", 64, database.NodeActive); err != nil {
		t.Fatal(err)
	}
	apptest.ReadKey(t, st.Backend.URL(), "nothing") // a lookup, so the hit-rate column has figures
	for _, w := range browserWidths {
		t.Run(w.name, func(t *testing.T) {
			b.resize(t, w)
			b.visit(t, "/pool", 200)
			b.loadImages(t)
			b.checkNoSidewaysScroll(t, "/pool at "+w.name+" width")
			b.screenshot(t, "pool-"+w.name)
			if w.w < 1000 {
				return
			}
			// Each table's box shows the whole table, and each row's last cell ends within it.
			got := browserEval[[]string](t, b, `Array.from(document.querySelectorAll(".table-scroll")).flatMap(box => {
				const edge = box.getBoundingClientRect().right + 0.5, out = [];
				if (box.scrollWidth > box.clientWidth + 1) out.push("a table scrolls in its box: " + box.scrollWidth + " px in " + box.clientWidth);
				box.querySelectorAll("tr > :last-child, tr > :last-child button").forEach(c => {
					if (c.getBoundingClientRect().right > edge) out.push(c.tagName + " " + JSON.stringify(c.innerText) + " ends at " + Math.round(c.getBoundingClientRect().right) + " px, the table at " + Math.round(edge));
				});
				return out;
			})`)
			if len(got) > 0 {
				t.Errorf("/pool at %d px: %s", w.w, strings.Join(got, "; "))
			}
		})
	}
}
