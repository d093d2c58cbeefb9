package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"imgcache/database"
	"imgcache/database/dbtest"
)

// keysOf returns the keys of a page's images, in order.
func keysOf(imgs []database.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Key
	}
	return out
}

func TestFindImages(t *testing.T) {
	// Stored in an order that is neither natural nor byte order.
	stored := []string{"img10", "img2", "img1", "cat", "img/a", "img20", "Img3", "imgx", "im", "é2", "é10", "ébc"}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for i, k := range stored {
			if _, err := db.PutImage(ctx, database.Image{Key: k, Location: fmt.Sprintf("loc-%d", i), Size: int64(10 * (i + 1))}); err != nil {
				t.Fatalf("PutImage(%q): %v", k, err)
			}
		}
		tests := []struct {
			name  string
			q     database.ImageQuery
			want  []string
			total int
		}{
			{"all, natural order", database.ImageQuery{Limit: 100},
				[]string{"Img3", "cat", "im", "img/a", "img1", "img2", "img10", "img20", "imgx", "é2", "é10", "ébc"}, 12},
			{"prefix", database.ImageQuery{Prefix: "img", Limit: 100}, []string{"img/a", "img1", "img2", "img10", "img20", "imgx"}, 6},
			{"prefix is case-sensitive", database.ImageQuery{Prefix: "Img", Limit: 100}, []string{"Img3"}, 1},
			{"prefix is the whole key", database.ImageQuery{Prefix: "cat", Limit: 100}, []string{"cat"}, 1},
			{"prefix longer than keys", database.ImageQuery{Prefix: "img10x", Limit: 100}, nil, 0},
			{"no match", database.ImageQuery{Prefix: "zzz", Limit: 100}, nil, 0},
			{"multi-byte prefix", database.ImageQuery{Prefix: "é", Limit: 100}, []string{"é2", "é10", "ébc"}, 3},
			{"first page", database.ImageQuery{Prefix: "img", Limit: 4}, []string{"img/a", "img1", "img2", "img10"}, 6},
			{"second page", database.ImageQuery{Prefix: "img", Offset: 4, Limit: 4}, []string{"img20", "imgx"}, 6},
			{"past the end", database.ImageQuery{Prefix: "img", Offset: 6, Limit: 4}, nil, 6},
			{"page of the whole table", database.ImageQuery{Offset: 5, Limit: 3}, []string{"img2", "img10", "img20"}, 12},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := db.FindImages(ctx, tt.q)
				if err != nil {
					t.Fatalf("FindImages(%+v): %v", tt.q, err)
				}
				if got := keysOf(page.Images); !slices.Equal(got, tt.want) {
					t.Errorf("FindImages(%+v) keys = %q, want %q", tt.q, got, tt.want)
				}
				if page.Total != tt.total {
					t.Errorf("FindImages(%+v) total = %d, want %d", tt.q, page.Total, tt.total)
				}
				var bytes int64
				for i, k := range stored {
					if len(k) >= len(tt.q.Prefix) && k[:len(tt.q.Prefix)] == tt.q.Prefix {
						bytes += int64(10 * (i + 1))
					}
				}
				if page.TotalBytes != bytes {
					t.Errorf("FindImages(%+v) total bytes = %d, want %d", tt.q, page.TotalBytes, bytes)
				}
			})
		}
		for _, bad := range []database.ImageQuery{{Limit: 0}, {Limit: database.MaxPageLimit + 1}, {Offset: -1, Limit: 1}} {
			if _, err := db.FindImages(ctx, bad); err == nil {
				t.Errorf("FindImages(%+v) = nil error, want one", bad)
			}
		}
	})
}

// TestFindImagesThousands pages through thousands of keys and finds each once, in natural order.
func TestFindImagesThousands(t *testing.T) {
	const n, limit = 2500, 100
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		// Multi-row inserts rather than PutImage's commit per key: thousands of commits take seconds on MySQL.
		for from := 1; from <= n; from += 500 {
			q, args := "INSERT INTO images (`key`, location, sort_key) VALUES ", []any{}
			for i := from; i < from+500 && i <= n; i++ {
				k := fmt.Sprintf("img%d", n+1-i) // stored in reverse
				if i > from {
					q += ", "
				}
				q += "(?, ?, ?)"
				args = append(args, k, "l"+k, database.SortKey(k))
			}
			if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for off := 0; ; off += limit {
			page, err := db.FindImages(ctx, database.ImageQuery{Prefix: "img", Offset: off, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != n {
				t.Fatalf("total = %d, want %d", page.Total, n)
			}
			if len(page.Images) == 0 {
				break
			}
			got = append(got, keysOf(page.Images)...)
		}
		if len(got) != n {
			t.Fatalf("paged through %d keys, want %d", len(got), n)
		}
		for i, k := range got {
			if want := fmt.Sprintf("img%d", i+1); k != want {
				t.Fatalf("key %d = %q, want %q", i, k, want)
			}
		}
	})
}

func TestDeleteImage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for _, k := range []string{"a", "b"} {
			if _, err := db.PutImage(ctx, database.Image{Key: k, Location: "loc-" + k}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name, key, wantLoc string
			wantErr            error
		}{
			{"existing", "a", "loc-a", nil},
			{"again", "a", "", database.ErrNotFound},
			{"never stored", "zzz", "", database.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				loc, err := db.DeleteImage(ctx, tt.key)
				if loc != tt.wantLoc || !errors.Is(err, tt.wantErr) {
					t.Errorf("DeleteImage(%q) = %q, %v; want %q, %v", tt.key, loc, err, tt.wantLoc, tt.wantErr)
				}
			})
		}
		if _, err := db.GetImage(ctx, "a"); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage(a) after delete: %v, want ErrNotFound", err)
		}
		if img, err := db.GetImage(ctx, "b"); err != nil || img.Location != "loc-b" {
			t.Errorf("GetImage(b) = %+v, %v; want it untouched", img, err)
		}
	})
}

// TestSortKeyUpgrade opens a database whose images table predates sort_key, with rows in it: Open adds
// the column and its index and fills every row's sort key, so the old rows list naturally.
func TestSortKeyUpgrade(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := database.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		drop := []string{"DROP INDEX images_sort_key", "ALTER TABLE images DROP COLUMN sort_key"}
		if db.Dialect() == database.MySQL {
			drop = []string{"ALTER TABLE images DROP INDEX images_sort_key, DROP COLUMN sort_key"}
		}
		for _, q := range drop {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, k := range []string{"v10", "v9", "v1"} {
			if _, err := db.SQL().ExecContext(ctx, "INSERT INTO images (`key`, location) VALUES (?, ?)", k, "loc-"+k); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()

		db = open(t, dsn)
		if got := columns(t, db, "images"); !slices.Contains(got, "sort_key") {
			t.Fatalf("images columns after the upgrade = %q, want sort_key", got)
		}
		if got := indexedColumns(t, db, "images"); !slices.Contains(got, "sort_key") {
			t.Errorf("images indexes after the upgrade start with %q, want one on sort_key", got)
		}
		page, err := db.FindImages(ctx, database.ImageQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := keysOf(page.Images), []string{"v1", "v9", "v10"}; !slices.Equal(got, want) {
			t.Errorf("keys after the upgrade = %q, want %q", got, want)
		}
		open(t, dsn) // a second open finds nothing to do
	})
}
