package database_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestGetImages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		var all []string
		for i := range 300 {
			key := fmt.Sprintf("k%03d", i)
			all = append(all, key)
			if i%3 == 0 {
				continue // every third key has no row
			}
			if _, err := db.PutImage(ctx, database.Image{Key: key, Location: "loc-" + key, Size: int64(i), ContentType: "image/png"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []int{1, 2, 3, 5, 16, 17, 100, 255, 256} {
			keys := all[:n]
			got, err := db.GetImages(ctx, keys)
			if err != nil {
				t.Fatalf("GetImages(%d keys): %v", n, err)
			}
			var gotKeys, want []string
			for _, img := range got {
				gotKeys = append(gotKeys, img.Key)
				if img.Location != "loc-"+img.Key || img.ContentType != "image/png" {
					t.Errorf("GetImages(%d keys): row %+v, want location loc-%s", n, img, img.Key)
				}
			}
			for i, k := range keys {
				if i%3 != 0 {
					want = append(want, k)
				}
			}
			slices.Sort(gotKeys)
			if !slices.Equal(gotKeys, want) {
				t.Errorf("GetImages(%d keys) = %v, want %v", n, gotKeys, want)
			}
		}
		got, err := db.GetImages(ctx, []string{"k001", "k001", "k002", "k001"})
		if err != nil || len(got) != 2 {
			t.Errorf("GetImages(repeated keys) = %d rows, %v; want 2 rows", len(got), err)
		}
		if got, err := db.GetImages(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("GetImages(none) = %v, %v; want nothing", got, err)
		}
		if _, err := db.GetImages(ctx, all[:database.MaxLookupBatch+1]); err == nil {
			t.Errorf("GetImages(%d keys) succeeded; want an error", database.MaxLookupBatch+1)
		}
	})
}

func TestPutImagesGroup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		if _, err := db.PutImage(ctx, database.Image{Key: "b", Location: "b0"}); err != nil {
			t.Fatal(err)
		}
		res := db.PutImages(ctx, []database.Image{
			{Key: "b", Location: "b1"},
			{Key: "a", Location: "a1"},
			{Key: "c", Location: "c1", ContentType: strings.Repeat("x", database.MaxContentTypeBytes+1)}, // its own error
			{Key: "b", Location: "b2"},
			{Key: "n", Location: "n1"},
			{Key: "n", Location: "n2"},
		})
		want := []struct {
			previous string
			fails    bool
		}{{"b0", false}, {"", false}, {"", true}, {"b1", false}, {"", false}, {"n1", false}}
		for i, w := range want {
			if res[i].Previous != w.previous || (res[i].Err != nil) != w.fails {
				t.Errorf("row %d: got previous %q, error %v; want previous %q, failing %v", i, res[i].Previous, res[i].Err, w.previous, w.fails)
			}
		}
		for key, loc := range map[string]string{"a": "a1", "b": "b2", "n": "n2"} {
			if got, err := db.GetImage(ctx, key); err != nil || got.Location != loc {
				t.Errorf("GetImage(%q) = %q, %v; want %q", key, got.Location, err, loc)
			}
		}
		if _, err := db.GetImage(ctx, "c"); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage(c) = %v, want ErrNotFound", err)
		}
	})
}

// TestPutImagesStatementErrorFailsOneRow: a row the database itself refuses (here a trigger) fails
// alone; the group's other rows are committed.
func TestPutImagesStatementErrorFailsOneRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		trigger := "CREATE TRIGGER refuse_bad BEFORE INSERT ON images FOR EACH ROW " +
			"WHEN NEW.`key` = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END"
		if db.Dialect() == database.MySQL {
			trigger = "CREATE TRIGGER refuse_bad BEFORE INSERT ON images FOR EACH ROW " +
				"BEGIN IF NEW.`key` = 'bad' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF; END"
		}
		if _, err := db.SQL().ExecContext(ctx, trigger); err != nil {
			t.Fatal(err)
		}
		res := db.PutImages(ctx, []database.Image{{Key: "a", Location: "a1"}, {Key: "bad", Location: "x"}, {Key: "c", Location: "c1"}})
		if res[0].Err != nil || res[2].Err != nil || res[1].Err == nil || errors.Is(res[1].Err, database.ErrCommitUnknown) {
			t.Fatalf("PutImages = %+v; want only the row of bad to fail, not as a commit failure", res)
		}
		for _, key := range []string{"a", "c"} {
			if _, err := db.GetImage(ctx, key); err != nil {
				t.Errorf("GetImage(%q): %v", key, err)
			}
		}
		if _, err := db.GetImage(ctx, "bad"); !errors.Is(err, database.ErrNotFound) {
			t.Errorf("GetImage(bad) = %v, want ErrNotFound", err)
		}
	})
}

func TestFlushLogAtTrxCommit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		db := open(t, dsn)
		v, err := db.FlushLogAtTrxCommit(context.Background())
		switch {
		case err != nil:
			t.Fatal(err)
		case db.Dialect() == database.SQLite && v != "":
			t.Errorf("SQLite: %q, want \"\"", v)
		case db.Dialect() == database.MySQL && (v == "" || strings.Trim(v, "0123456789") != ""):
			t.Errorf("MySQL: %q, want a number", v)
		}
	})
}
