package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"imgcache/app"
	"imgcache/app/apptest"
	"imgcache/database"
)

// TestConcurrentReadsShareLookups: reads that arrive while a row lookup is in flight share the next
// one. synctest.Wait returns once the first read is inside its lookup and the others wait for theirs;
// without the batching each read would make a lookup of its own.
func TestConcurrentReadsShareLookups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p := newAllFakeServer(t)
		ctx := context.Background()
		const readers = 16
		for i := range readers {
			if err := s.Upload(ctx, fmt.Sprintf("k%d", i%4), apptest.PNGImage(t, i%4+1)); err != nil {
				t.Fatal(err)
			}
		}
		before, _ := p.store.calls()
		gate := make(chan struct{})
		p.store.lookupGate = gate
		var wg sync.WaitGroup
		read := func(i int) {
			wg.Go(func() {
				if v, _ := readVersion(t, s, fmt.Sprintf("k%d", i%4)); v != i%4+1 {
					t.Errorf("read of k%d = v%d, want v%d", i%4, v, i%4+1)
				}
			})
		}
		read(0)
		synctest.Wait() // the first read is inside its lookup
		for i := 1; i < readers; i++ {
			read(i)
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		if after, _ := p.store.calls(); after-before != 2 {
			t.Errorf("%d concurrent reads made %d row lookups, want 2 (the first alone, then the rest together)", readers, after-before)
		}
	})
}

// TestReadAfterUploadNotInEarlierBatch: a read that begins after an upload was acknowledged does not
// join a lookup that was already under way when it arrived, which could return the row the upload
// replaced.
func TestReadAfterUploadNotInEarlierBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p := newAllFakeServer(t)
		ctx := context.Background()
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, 1)); err != nil {
			t.Fatal(err)
		}
		readVersion(t, s, "k") // v1 cached
		gate := make(chan struct{})
		p.store.lookupGate = gate
		var wg sync.WaitGroup
		wg.Go(func() {
			img, err := s.Read(ctx, "k", nil)
			if err != nil {
				t.Errorf("read begun before the upload: %v", err)
			} else if img.Size == 0 {
				t.Errorf("read begun before the upload: empty image")
			}
		})
		synctest.Wait() // its lookup read the v1 row and waits at the gate
		if err := s.Upload(ctx, "k", apptest.PNGImage(t, 2)); err != nil {
			t.Fatal(err)
		}
		var got int
		wg.Go(func() { got, _ = readVersion(t, s, "k") })
		synctest.Wait()
		close(gate)
		wg.Wait()
		if got != 2 {
			t.Errorf("a read begun after the upload of v2 was acknowledged returned v%d", got)
		}
	})
}

// TestConcurrentUploadsShareCommits: uploads that arrive while a group commits form the next group,
// each still answered only once its row is written.
func TestConcurrentUploadsShareCommits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, p := newAllFakeServer(t)
		ctx := context.Background()
		gate := make(chan struct{})
		p.store.commitGate = gate
		const uploads = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		done := 0
		up := func(i int) {
			wg.Go(func() {
				if err := s.Upload(ctx, fmt.Sprintf("k%d", i), apptest.PNGImage(t, i+1)); err != nil {
					t.Errorf("upload %d: %v", i, err)
				}
				mu.Lock()
				done++
				mu.Unlock()
			})
		}
		up(0)
		synctest.Wait() // the first upload's group waits to commit
		for i := 1; i < uploads; i++ {
			up(i)
		}
		synctest.Wait()
		mu.Lock()
		if done != 0 {
			t.Errorf("%d uploads answered before their rows were written", done)
		}
		mu.Unlock()
		close(gate)
		wg.Wait()
		if _, groups := p.store.calls(); groups != 2 {
			t.Errorf("%d concurrent uploads made %d commits, want 2 (the first alone, then the rest together)", uploads, groups)
		}
		for i := range uploads {
			if v, _ := readVersion(t, s, fmt.Sprintf("k%d", i)); v != i+1 {
				t.Errorf("k%d = v%d, want v%d", i, v, i+1)
			}
		}
	})
}

// TestGroupCommitErrors: in one group, a row's own error fails only its upload (its object removed);
// a failed COMMIT fails every upload of the group, each keeping its object for the sweep, as a lone
// upload would.
func TestGroupCommitErrors(t *testing.T) {
	for _, tt := range []struct {
		name       string
		refuse     bool // the row of "bad" fails alone
		commitLost bool // the group's COMMIT fails after it may have committed
		wantOK     int
		wantKept   int
	}{
		{"own error", true, false, 3, 3},
		{"commit lost", false, true, 0, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, p := newAllFakeServer(t)
				ctx := context.Background()
				if tt.refuse {
					p.store.refuse = map[string]error{"bad": errors.New("refused")}
				}
				if tt.commitLost {
					p.store.putErr, p.store.commits = errors.New("connection lost"), true
				}
				gate := make(chan struct{})
				p.store.commitGate = gate
				var wg sync.WaitGroup
				errs := make([]error, 5)
				wg.Go(func() { errs[0] = s.Upload(ctx, "first", apptest.PNGImage(t, 1)) })
				synctest.Wait()
				for i, key := range []string{"a", "bad", "c", "d"} {
					wg.Go(func() { errs[i+1] = s.Upload(ctx, key, apptest.PNGImage(t, i+2)) })
				}
				synctest.Wait()
				close(gate)
				wg.Wait()
				ok := 0
				for i, err := range errs[1:] {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, app.ErrUnavailable):
						t.Errorf("upload %d = %v, want ErrUnavailable", i+1, err)
					}
				}
				if ok != tt.wantOK {
					t.Errorf("%d uploads of the group succeeded, want %d (errors %v)", ok, tt.wantOK, errs[1:])
				}
				if tt.refuse && errs[2] == nil {
					t.Errorf("the refused upload succeeded")
				}
				p.files.mu.Lock()
				kept := len(p.files.data) - 1 // without the first upload's
				p.files.mu.Unlock()
				if kept != tt.wantKept {
					t.Errorf("objects kept = %d, want %d", kept, tt.wantKept)
				}
			})
		})
	}
}

// panickyLookups panics in its lookups.
type panickyLookups struct{ *fakeStore }

func (panickyLookups) GetImages(context.Context, []string) ([]database.Image, error) { panic("boom") }

// TestLookupPanicFailsItsBatch: a panic in a batch's query fails that batch's reads, and the next
// read runs a batch of its own rather than waiting for ever behind a batcher left busy.
func TestLookupPanicFailsItsBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fakeParts{newFakeCache(), newFakeStore(), newFakeFiles()}
		s := app.New(app.Config{Logger: slog.New(slog.DiscardHandler)}, p.cache, panickyLookups{p.store}, p.files)
		for range 2 {
			if _, err := s.Read(context.Background(), "k", nil); err == nil || !strings.Contains(err.Error(), "panic") {
				t.Errorf("Read = %v, want the batch's panic as an error", err)
			}
		}
	})
}
