// Package original takes over a deployment of the Flask original: the rows of its MySQL database
// and the files of its image folder become imgcache images, and its newest cache setting the one in
// force. It is what `backend import-original` runs.
package original

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"imgcache/app"
	"imgcache/database"
	"imgcache/memcache/wire"
)

// DefaultProgressEvery is how often a long import reports how far it is.
const DefaultProgressEvery = 2 * time.Second

// workers is how many rows are imported at once: each waits mostly on two syncs to disk (the
// object's, the row's commit), which overlap.
const workers = 8

// Config says what to import and where to.
type Config struct {
	// App is the destination, as the backend is configured: DB, Storage, DataDir, and the image limits
	// each file is checked against, as an upload's is.
	App app.Config
	// Images is the original's image folder: a row's location names a file in it.
	Images string
	// From is the original's database. "" or App.DB upgrades that database in place: its tables are
	// taken over and its rows kept. Any other is only read; its rows are added to the destination, and
	// a key the destination has already is skipped, never overwritten.
	From string
	// Out receives the progress of a long run and a line for each skipped row; nil discards them.
	Out io.Writer
	// ProgressEvery is how often progress is written; zero means DefaultProgressEvery.
	ProgressEvery time.Duration
}

// Skip is a row of the original that was not imported, and why.
type Skip struct {
	Key, Location, Reason string
}

// Summary is what a run did.
type Summary struct {
	InPlace  bool
	Rows     int   // rows of the original's images table this run looked at
	Imported int   // rows brought in by this run
	Bytes    int64 // their bytes
	Earlier  int   // rows an earlier run imported (in place) or moved aside (SkippedTable)
	Skipped  []Skip
	// Properties says what became of the original's cache setting.
	Properties string
	Elapsed    time.Duration
}

// Reasons counts the skipped rows by reason, with the first words of each reason as its name.
func (s Summary) Reasons() map[string]int {
	m := map[string]int{}
	for _, k := range s.Skipped {
		m[reasonKind(k.Reason)]++
	}
	return m
}

// reasonKind is the fixed part of a reason, before any detail about the row.
func reasonKind(r string) string {
	if i := strings.IndexAny(r, ":("); i > 0 {
		return strings.TrimSpace(r[:i])
	}
	return r
}

// Write writes the summary for a person.
func (s Summary) Write(w io.Writer) {
	mode := "into the destination"
	if s.InPlace {
		mode = "in place"
	}
	fmt.Fprintf(w, "import-original (%s): %d rows looked at, %d imported (%s), %d skipped, %d done by an earlier run; %.1f s\n",
		mode, s.Rows, s.Imported, app.HumanSize(s.Bytes), len(s.Skipped), s.Earlier, s.Elapsed.Seconds())
	reasons := s.Reasons()
	kinds := make([]string, 0, len(reasons))
	for k := range reasons {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  skipped %d: %s\n", reasons[k], k)
	}
	if s.Properties != "" {
		fmt.Fprintf(w, "  cache setting: %s\n", s.Properties)
	}
}

// Run imports. It may be run again at any time, also after being killed: rows imported stay imported,
// the others are taken up again, and a run with nothing left to do changes nothing.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	if cfg.Images == "" {
		return Summary{}, errors.New("import-original: -images names no folder")
	}
	images, err := os.OpenRoot(cfg.Images)
	if err != nil {
		return Summary{}, fmt.Errorf("import-original: the image folder: %w", err)
	}
	defer images.Close()
	cfg.App = cfg.App.WithDefaults()
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = DefaultProgressEvery
	}
	im := &importer{cfg: cfg, images: images, sum: Summary{InPlace: cfg.From == "" || cfg.From == cfg.App.DB}}
	if im.sum.InPlace {
		err = im.inPlace(ctx)
	} else {
		err = im.from(ctx)
	}
	im.sum.Elapsed = time.Since(start)
	return im.sum, err
}

type importer struct {
	cfg     Config
	images  *os.Root
	db      *database.DB
	objects app.Objects

	mu   sync.Mutex // guards what follows, which the workers update
	sum  Summary
	done int       // rows handled
	last time.Time // of the last progress line
}

// each runs fn for rows 0..n-1 on the workers, stopping at the first error or when ctx ends.
func (im *importer) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			err := fn(gctx, i)
			im.progress(n)
			return err
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return ctx.Err() // stopped: what failed after that is the stop's doing
	}
	return err
}

// open opens the destination's database and store.
func (im *importer) open(ctx context.Context) (func(), error) {
	db, err := database.Open(ctx, im.cfg.App.DB)
	if err != nil {
		return nil, fmt.Errorf("import-original: the destination database: %w", err)
	}
	db.SetTimeout(im.cfg.App.DBTimeout)
	objects, closeObjects, err := app.OpenObjects(ctx, im.cfg.App)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("import-original: the destination store: %w", err)
	}
	im.db, im.objects = db, objects
	return func() { closeObjects(); db.Close() }, nil
}

// inPlace upgrades the original's database where it is: its over-long keys move aside and the key
// column becomes byte-exact, Open adds the columns imgcache needs, then each row not imported yet
// (no content type) gets its file stored and the row pointed at it, or moves aside with its reason.
func (im *importer) inPlace(ctx context.Context) error {
	moved, err := database.UpgradeOriginal(ctx, im.cfg.App.DB)
	if err != nil {
		return fmt.Errorf("import-original: upgrade the tables: %w", err)
	}
	for _, m := range moved {
		im.skip(m, fmt.Sprintf("key over %d bytes: %d bytes", database.MaxKeyBytes, len(m.Key)))
	}
	closeAll, err := im.open(ctx)
	if err != nil {
		return err
	}
	defer closeAll()
	all, err := im.db.CountImages(ctx)
	if err != nil {
		return err
	}
	pending, err := im.db.PendingImports(ctx)
	if err != nil {
		return err
	}
	aside, err := im.db.SkippedImports(ctx)
	if err != nil {
		return err
	}
	im.sum.Earlier = all - len(pending) + aside - len(moved)
	im.sum.Rows = len(pending) + len(moved)
	err = im.each(ctx, len(pending), func(ctx context.Context, i int) error {
		row := pending[i]
		img, reason, err := im.store(ctx, row)
		if err != nil {
			return err
		}
		if reason != "" {
			if err := im.db.SkipImport(ctx, row, reason); err != nil {
				return err
			}
			im.skip(row, reason)
			return nil
		}
		ok, err := im.db.CompleteImport(ctx, row, img)
		if err != nil {
			// The update may have committed all the same: the object stays, and the backend's sweep
			// removes it if no row names it.
			return err
		}
		if !ok {
			im.forget(ctx, img.Location)
			im.skip(row, "changed while importing: the row was replaced or deleted")
			return nil
		}
		im.imported(img)
		return nil
	})
	if err != nil {
		return err
	}
	return im.properties(ctx, nil)
}

// from reads the original's database at cfg.From and adds its rows to the destination.
func (im *importer) from(ctx context.Context) error {
	src, err := database.OpenOriginal(ctx, im.cfg.From)
	if err != nil {
		return fmt.Errorf("import-original: -from: %w", err)
	}
	defer src.Close()
	rows, err := src.Images(ctx)
	if err != nil {
		return fmt.Errorf("import-original: -from: %w", err)
	}
	closeAll, err := im.open(ctx)
	if err != nil {
		return err
	}
	defer closeAll()
	im.sum.Rows = len(rows)
	err = im.each(ctx, len(rows), func(ctx context.Context, i int) error {
		row := rows[i]
		reason, err := im.present(ctx, row.Key)
		if err != nil {
			return err
		}
		var img database.Image
		if reason == "" {
			if img, reason, err = im.store(ctx, row); err != nil {
				return err
			}
		}
		if reason == "" {
			ok, err := im.db.InsertImage(ctx, img)
			if err != nil {
				return err // the object stays: the insert may have committed (see inPlace)
			}
			if !ok {
				im.forget(ctx, img.Location)
				reason = "already in the destination: not overwritten"
			}
		}
		if reason != "" {
			im.skip(row, reason)
		} else {
			im.imported(img)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return im.properties(ctx, src)
}

// present says why key cannot be added to the destination: a bad key, or one it has already.
func (im *importer) present(ctx context.Context, key string) (string, error) {
	if err := app.CheckKey(key); err != nil {
		return "bad key: " + err.Error(), nil
	}
	_, err := im.db.GetImage(ctx, key)
	switch {
	case err == nil:
		return "already in the destination: not overwritten", nil
	case errors.Is(err, database.ErrNotFound):
		return "", nil
	}
	return "", err
}

// store reads a row's file, checks it as an upload's and stores it under a new name. A row that
// cannot be imported gives the reason instead; err is a failure worth stopping for (the store).
func (im *importer) store(ctx context.Context, row database.OriginalImage) (database.Image, string, error) {
	if err := app.CheckKey(row.Key); err != nil {
		return database.Image{}, "bad key: " + err.Error(), nil
	}
	data, reason := im.read(row.Location)
	if reason != "" {
		return database.Image{}, reason, nil
	}
	contentType, err := im.cfg.App.CheckImage(data)
	if err != nil {
		return database.Image{}, "not an image we accept: " + err.Error(), nil
	}
	name, err := im.objects.Put(ctx, data, contentType)
	if err != nil {
		return database.Image{}, "", fmt.Errorf("import-original: store %q: %w", row.Key, err)
	}
	return database.Image{Key: row.Key, Location: name, Size: int64(len(data)), ContentType: contentType, UpdatedAt: time.Now()}, "", nil
}

// read reads the file location of the image folder, through its root: no name leads outside it.
func (im *importer) read(location string) ([]byte, string) {
	if location == "" {
		return nil, "no file: the row's location is empty"
	}
	f, err := im.images.Open(location)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Sprintf("file missing: %q is not in the image folder", location)
	}
	if err != nil {
		return nil, fmt.Sprintf("file unreadable: %v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Sprintf("file unreadable: %q is not a regular file", location)
	}
	// One byte over the limit is enough for CheckImage to refuse it, without reading a huge file.
	data, err := io.ReadAll(io.LimitReader(f, int64(im.cfg.App.MaxUpload)+1))
	if err != nil {
		return nil, fmt.Sprintf("file unreadable: %v", err)
	}
	return data, ""
}

// forget removes an object no row names.
func (im *importer) forget(ctx context.Context, name string) {
	if name != "" {
		im.objects.Delete(ctx, name) // a failure leaves an orphan, which the backend's sweep removes
	}
}

func (im *importer) imported(img database.Image) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.sum.Imported++
	im.sum.Bytes += img.Size
}

func (im *importer) skip(row database.OriginalImage, reason string) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.sum.Skipped = append(im.sum.Skipped, Skip{Key: row.Key, Location: row.Location, Reason: reason})
	fmt.Fprintf(im.cfg.Out, "skip %q (%s): %s\n", app.ShownKey(row.Key), app.ShownKey(row.Location), reason)
}

// progress counts a row handled and, every ProgressEvery and at the end, says how far the run is.
func (im *importer) progress(total int) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.done++
	if now := time.Now(); im.done == total || now.Sub(im.last) >= im.cfg.ProgressEvery {
		if im.done < total || !im.last.IsZero() {
			fmt.Fprintf(im.cfg.Out, "import-original: %d/%d rows, %d imported (%s), %d skipped\n",
				im.done, total, im.sum.Imported, app.HumanSize(im.sum.Bytes), len(im.sum.Skipped))
		}
		im.last = now
	}
}

// properties makes the original's newest cache setting the one in force. In place it already is the
// newest row; a policy named as the original did ("LRU") is written again under its stored name.
// From another database it is added to the destination unless the destination's newest row says
// the same already.
func (im *importer) properties(ctx context.Context, src *database.Original) error {
	var p database.CacheProperties
	var err error
	if src != nil {
		p, err = src.LatestProperties(ctx)
	} else {
		p, err = im.db.LatestCacheProperties(ctx)
	}
	if errors.Is(err, database.ErrNotFound) {
		im.sum.Properties = "the original has none; the cache keeps its own"
		return nil
	}
	if err != nil {
		return fmt.Errorf("import-original: cache properties: %w", err)
	}
	policy, err := wire.ParsePolicy(p.Policy)
	if err != nil || p.MaxCapacityMB < 0 {
		im.sum.Properties = fmt.Sprintf("not taken: %d MB, policy %q is not a setting the cache accepts", p.MaxCapacityMB, p.Policy)
		return nil
	}
	want := database.CacheProperties{MaxCapacityMB: p.MaxCapacityMB, Policy: policy.Name}
	current, err := im.db.LatestCacheProperties(ctx)
	if err != nil && !errors.Is(err, database.ErrNotFound) {
		return fmt.Errorf("import-original: cache properties: %w", err)
	}
	im.sum.Properties = fmt.Sprintf("%d MB, %s", want.MaxCapacityMB, want.Policy)
	if err == nil && current.MaxCapacityMB == want.MaxCapacityMB && current.Policy == want.Policy {
		return nil
	}
	if _, err := im.db.InsertCacheProperties(ctx, want); err != nil {
		return fmt.Errorf("import-original: cache properties: %w", err)
	}
	im.sum.Properties += " (written; a running memcache applies it on its next refresh)"
	return nil
}
