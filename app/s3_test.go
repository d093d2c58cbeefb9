package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"imgcache/app/apptest"

	"github.com/minio/minio-go/v7"

	"imgcache/app"
	"imgcache/app/s3store/s3test"
	"imgcache/database"
	"imgcache/database/dbtest"
)

// TestAPIWalkS3 is the API walk with the images in a bucket of a real S3 server (versitygw), on each
// database: after every step the bucket holds exactly the objects the rows name, with their bytes.
func TestAPIWalkS3(t *testing.T) {
	srv := s3test.Start(t)
	dbtest.Each(t, func(t *testing.T, dsn string) {
		bucket := s3test.NewBucket() // Start creates it
		st := apptest.StartStack(t, dsn, func(c *app.Config) {
			c.Storage = srv.Spec(bucket)
			c.S3AccessKey, c.S3SecretKey = s3test.AccessKey, s3test.SecretKey
		})
		base := st.Backend.URL()
		db, err := database.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		client := srv.Client(t)

		// checkBucket compares the bucket with the rows: one object per row, under the row's name,
		// with the bytes of want[key], and nothing else.
		checkBucket := func(t *testing.T, step string, want map[string][]byte) {
			t.Helper()
			rows, err := db.ListImages(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range rows {
				names = append(names, r.Location)
				o, err := client.GetObject(context.Background(), bucket, r.Location, minio.GetObjectOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				_, err = got.ReadFrom(o)
				o.Close()
				if err != nil || !bytes.Equal(got.Bytes(), want[r.Key]) {
					t.Errorf("%s: object %q of key %q: %d bytes, %v; want the %d bytes uploaded", step, r.Location, r.Key, got.Len(), err, len(want[r.Key]))
				}
			}
			sort.Strings(names)
			if keys := srv.Keys(t, bucket); !slices.Equal(keys, names) || len(rows) != len(want) {
				t.Errorf("%s: bucket holds %q; want exactly the %d rows' objects %q", step, keys, len(want), names)
			}
		}

		keys := []string{"cat", "a/b/../c", "ünïcødé"}
		want := map[string][]byte{}
		for i, k := range keys {
			want[k] = apptest.PNGImage(t, i)
			if status, a := apptest.Upload(t, base, k, want[k]); status != 200 || a.Key != k {
				t.Fatalf("upload %q = %d %+v, want 200 with the key echoed", k, status, a)
			}
		}
		checkBucket(t, "after uploads", want)
		if _, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil); !slices.Equal(a.Keys, slices.Sorted(slices.Values(keys))) {
			t.Errorf("list_keys = %q, want %q", a.Keys, keys)
		}
		for round := range 2 { // a miss read from the bucket, then a hit
			for _, k := range keys {
				status, a := apptest.ReadKey(t, base, k)
				got, _ := base64.StdEncoding.DecodeString(a.Content)
				if status != 200 || !bytes.Equal(got, want[k]) {
					t.Errorf("round %d: read %q = %d, %d bytes; want 200 and the image uploaded", round, k, status, len(got))
				}
			}
		}

		// Replacing writes a new object, then removes the old one.
		want["cat"] = apptest.PNGImage(t, 100)
		if status, _ := apptest.Upload(t, base, "cat", want["cat"]); status != 200 {
			t.Fatalf("re-upload = %d", status)
		}
		_, a := apptest.ReadKey(t, base, "cat")
		if got, _ := base64.StdEncoding.DecodeString(a.Content); !bytes.Equal(got, want["cat"]) {
			t.Errorf("read after re-upload returned another image")
		}
		checkBucket(t, "after a replace", want)

		if status, _ := apptest.Call(t, "POST", base+"/api/delete_all", "", nil); status != 200 {
			t.Fatalf("delete_all = %d", status)
		}
		checkBucket(t, "after delete_all", map[string][]byte{})
		if _, a := apptest.Call(t, "POST", base+"/api/list_keys", "", nil); len(a.Keys) != 0 {
			t.Errorf("keys after delete_all = %q, want none", a.Keys)
		}
		if status, _ := apptest.ReadKey(t, base, "cat"); status != 404 {
			t.Errorf("read after delete_all = %d, want 404", status)
		}
		// Nothing went to the folder.
		if files, _ := filepath.Glob(filepath.Join(st.DataDir, "images", "*")); len(files) != 0 {
			t.Errorf("files in the image folder with s3 storage: %v", files)
		}
	})
}

// TestStartStorageErrors: a storage that cannot be opened stops Start with an error that says so.
func TestStartStorageErrors(t *testing.T) {
	srv := s3test.Start(t)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mutate  func(*app.Config)
		wantErr string
	}{
		{"bad spec", func(c *app.Config) { c.Storage = "s3://images" }, "endpoint is missing"},
		{"folder under a file", func(c *app.Config) { c.Storage = "file:" + blocker + "/images" }, "image folder"},
		{"wrong credentials", func(c *app.Config) {
			c.Storage = srv.Spec(s3test.NewBucket())
			c.S3AccessKey, c.S3SecretKey = s3test.AccessKey, "wrong"
		}, "Access Denied"},
		{"no credentials", func(c *app.Config) { c.Storage = srv.Spec(s3test.NewBucket()) }, "no credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Config{Addr: "127.0.0.1:0", DB: dbtest.DSN(t, database.SQLite), DataDir: t.TempDir(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			tt.mutate(&cfg)
			s, err := app.Start(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Start with storage %q succeeded, want an error", cfg.Storage)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start with storage %q = %v, want an error mentioning %q", cfg.Storage, err, tt.wantErr)
			}
		})
	}
}
