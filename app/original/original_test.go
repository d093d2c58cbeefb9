package original_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"imgcache/app"
	"imgcache/app/imagestore"
	"imgcache/app/original"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// flaskSchema is the original's memcache.sql: keys in a case-insensitive collation, location a file
// name of its image folder, the policy column under the name its committed schema gives it.
var flaskSchema = []string{
	"CREATE TABLE images (`key` VARCHAR(255) NOT NULL PRIMARY KEY, location VARCHAR(255)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
	"CREATE TABLE cache_properties (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, max_capacity INT, replacement_policy VARCHAR(255), created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	"CREATE TABLE cache_stats (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, cache_size INT, key_count INT, request_count INT, hit_count INT, miss_count INT, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
}

// originalDB makes a MariaDB database in the original's form and returns its DSN and a raw pool on it.
func originalDB(t *testing.T) (string, *sql.DB) { return originalDBFor(t) }

func originalDBFor(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := dbtest.DSNFor(t, database.MySQL)
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.DBName
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE `" + name + "` DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	cfg.ParseTime = true
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, stmt := range flaskSchema {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return dsn, db
}

func pngBytes(t *testing.T, shade uint8) []byte { return pngBytesFor(t, shade) }

func pngBytesFor(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sample writes the original's image folder and rows: two good images, and one row for each reason
// to skip. It returns the folder and the good rows' bytes by key.
func sample(t *testing.T, db *sql.DB) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	images := filepath.Join(dir, "static")
	if err := os.Mkdir(images, 0o755); err != nil {
		t.Fatal(err)
	}
	good := map[string][]byte{"cat": pngBytes(t, 10), "Dog Photo": jpegBytes(t)}
	files := map[string][]byte{"cat.png": good["cat"], "dog.jpeg": good["Dog Photo"], "notes.txt": []byte("not an image\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(images, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.png"), pngBytes(t, 99), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := [][2]any{
		{"cat", "cat.png"},
		{"Dog Photo", "dog.jpeg"},
		{"gone", "gone.png"},                  // file missing
		{"text", "notes.txt"},                 // not an image
		{strings.Repeat("é", 150), "cat.png"}, // 300 bytes: over our key limit, within VARCHAR(255) characters
		{"escape", "../secret.png"},           // a name out of the folder
		{"nowhere", nil},                      // NULL location
		{"bell\a", "cat.png"},                 // a control character
	}
	for _, r := range rows {
		if _, err := db.Exec("INSERT INTO images (`key`, location) VALUES (?, ?)", r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range [][2]any{{5, "LRU"}, {7, "Random Replacement"}} {
		if _, err := db.Exec("INSERT INTO cache_properties (max_capacity, replacement_policy) VALUES (?, ?)", p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO cache_stats (cache_size, key_count, request_count, hit_count, miss_count) VALUES (100, 1, 4, 3, 1)"); err != nil {
		t.Fatal(err)
	}
	return images, good
}

// wantSkips are the sample's rows that no import takes, by the kind of their reason.
var wantSkips = map[string]int{"file missing": 1, "not an image we accept": 1, "key over 255 bytes": 1, "file unreadable": 1, "no file": 1, "bad key": 1}

// tableDump is every row of images and the newest cache_properties row, to tell "nothing changed".
func tableDump(t *testing.T, db *database.DB) []string {
	t.Helper()
	ctx := context.Background()
	imgs, err := db.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range imgs {
		out = append(out, strings.Join([]string{i.Key, i.Location, i.ContentType, i.UpdatedAt.String()}, "|"))
	}
	var props int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM cache_properties").Scan(&props); err != nil {
		t.Fatal(err)
	}
	return append(out, "props:"+string(rune('0'+props)))
}

func checkImported(t *testing.T, db *database.DB, store *imagestore.Store, good map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	for key, want := range good {
		row, err := db.GetImage(ctx, key)
		if err != nil {
			t.Errorf("GetImage(%q): %v", key, err)
			continue
		}
		got, err := store.Get(ctx, row.Location)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("object of %q: %d bytes, %v; want the original's %d bytes", key, len(got), err, len(want))
		}
		if ct, _ := imagestore.Sniff(want); row.ContentType != ct || row.Size != int64(len(want)) || !imagestore.ValidName(row.Location) {
			t.Errorf("row of %q = %+v, want size %d, type %s, a server-chosen name", key, row, len(want), ct)
		}
	}
}

// TestImportInPlace: a MariaDB database in the original's form is taken over where it is: good rows
// point at their stored objects, the others move aside with their reasons, keys become byte-exact,
// the newest cache setting is the one in force; a second run changes nothing.
func TestImportInPlace(t *testing.T) {
	dsn, raw := originalDB(t)
	images, good := sample(t, raw)
	data := t.TempDir()
	cfg := original.Config{App: app.Config{DB: dsn, DataDir: data}, Images: images}
	ctx := context.Background()

	sum, err := original.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if !sum.InPlace || sum.Imported != 2 || sum.Rows != 8 || !reflect.DeepEqual(sum.Reasons(), wantSkips) {
		t.Errorf("summary = %+v, reasons %v; want in place, 8 rows, 2 imported, skips %v", sum, sum.Reasons(), wantSkips)
	}
	db, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open the imported database as a backend does: %v", err)
	}
	defer db.Close()
	store, err := imagestore.Open(filepath.Join(data, "images"))
	if err != nil {
		t.Fatal(err)
	}
	checkImported(t, db, store, good)
	// Byte-exact keys: "CAT" is another key now, which the case-insensitive column refused.
	if _, err := db.GetImage(ctx, "CAT"); !errors.Is(err, database.ErrNotFound) {
		t.Errorf("GetImage(CAT) = %v, want not found", err)
	}
	if _, err := db.PutImage(ctx, database.Image{Key: "CAT", Location: "x.png", Size: 1, ContentType: "image/png"}); err != nil {
		t.Errorf("a key differing in case only: %v", err)
	}
	if _, err := db.DeleteImage(ctx, "CAT"); err != nil {
		t.Fatal(err)
	}
	if p, err := db.LatestCacheProperties(ctx); err != nil || p.MaxCapacityMB != 7 || p.Policy != "Random Replacement" {
		t.Errorf("cache setting = %+v, %v; want the original's newest: 7 MB, Random Replacement", p, err)
	}
	var aside int
	if err := raw.QueryRow("SELECT COUNT(*) FROM " + database.SkippedTable).Scan(&aside); err != nil || aside != 6 {
		t.Errorf("rows moved aside = %d (%v), want 6", aside, err)
	}
	if n, err := db.CountImages(ctx); err != nil || n != 2 {
		t.Errorf("images rows = %d (%v), want the 2 imported", n, err)
	}

	before := tableDump(t, db)
	again, err := original.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("second import: %v", err)
	}
	if again.Imported != 0 || len(again.Skipped) != 0 || again.Earlier != 8 {
		t.Errorf("second run = %+v, want nothing imported or skipped, 8 done earlier", again)
	}
	if after := tableDump(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("the second run changed the tables:\n%v\n%v", before, after)
	}
}

// cancelAfter cancels a context on the n-th progress line: a run killed part-way.
type cancelAfter struct {
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(" rows, ")) {
		if c.n--; c.n == 0 {
			c.cancel()
		}
	}
	return len(p), nil
}

// TestImportInterrupted: a run stopped part-way, run again, finishes with every good row imported
// once.
func TestImportInterrupted(t *testing.T) {
	dsn, raw := originalDB(t)
	images, good := sample(t, raw)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := original.Config{App: app.Config{DB: dsn, DataDir: data}, Images: images, ProgressEvery: time.Nanosecond,
		Out: &cancelAfter{n: 1, cancel: cancel}}
	first, err := original.Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run = %v, want it stopped", err)
	}
	cfg.Out = nil
	second, err := original.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	// A row whose commit was under way at the stop may have committed unseen: the second run counts it
	// among the earlier ones. Every row is accounted for once.
	if got := second.Earlier + second.Imported + len(second.Skipped); got != 8 || first.Imported+second.Imported > 2 {
		t.Errorf("first run %+v, second %+v: want the 8 rows accounted for once", first, second)
	}
	var aside int
	if err := raw.QueryRow("SELECT COUNT(*) FROM " + database.SkippedTable).Scan(&aside); err != nil || aside != 6 {
		t.Errorf("rows moved aside = %d (%v), want 6", aside, err)
	}
	db, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := imagestore.Open(filepath.Join(data, "images"))
	if err != nil {
		t.Fatal(err)
	}
	checkImported(t, db, store, good)
}

// TestImportFrom: with -from, the original is only read; its rows join a destination that has data
// of its own, whose existing key is skipped and kept; a second run changes nothing.
func TestImportFrom(t *testing.T) {
	src, raw := originalDB(t)
	images, good := sample(t, raw)
	data := t.TempDir()
	dest := dbtest.DSN(t, database.SQLite)
	ctx := context.Background()
	db, err := database.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := imagestore.Open(filepath.Join(data, "images"))
	if err != nil {
		t.Fatal(err)
	}
	mine := pngBytes(t, 200)
	name, err := store.Put(ctx, mine, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutImage(ctx, database.Image{Key: "cat", Location: name, Size: int64(len(mine)), ContentType: "image/png"}); err != nil {
		t.Fatal(err)
	}

	cfg := original.Config{App: app.Config{DB: dest, DataDir: data}, Images: images, From: src}
	sum, err := original.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	want := map[string]int{"already in the destination": 1, "file missing": 1, "not an image we accept": 1, "bad key": 2, "file unreadable": 1, "no file": 1}
	if sum.InPlace || sum.Imported != 1 || !reflect.DeepEqual(sum.Reasons(), want) {
		t.Errorf("summary = %+v, reasons %v; want 1 imported, skips %v", sum, sum.Reasons(), want)
	}
	delete(good, "cat")
	checkImported(t, db, store, good)
	if row, err := db.GetImage(ctx, "cat"); err != nil || row.Location != name {
		t.Errorf("the destination's own cat = %+v, %v; want it kept", row, err)
	}
	if p, err := db.LatestCacheProperties(ctx); err != nil || p.MaxCapacityMB != 7 || p.Policy != "Random Replacement" {
		t.Errorf("cache setting = %+v, %v; want the original's newest", p, err)
	}
	var tables int
	if err := raw.QueryRow("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'images'").Scan(&tables); err != nil || tables != 2 {
		t.Errorf("the original's images table has %d columns (%v), want its 2 untouched", tables, err)
	}

	before := tableDump(t, db)
	again, err := original.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("second import: %v", err)
	}
	if again.Imported != 0 || again.Reasons()["already in the destination"] != 2 {
		t.Errorf("second run = %+v, want nothing imported, both images already there", again)
	}
	if after := tableDump(t, db); !reflect.DeepEqual(before, after) {
		t.Errorf("the second run changed the destination:\n%v\n%v", before, after)
	}
}
