package database_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"imgcache/database"
	"imgcache/database/dbtest"
)

func TestCacheProperties(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		if _, err := db.LatestCacheProperties(ctx); !errors.Is(err, database.ErrNotFound) {
			t.Fatalf("LatestCacheProperties(empty) error = %v, want ErrNotFound", err)
		}

		before := time.Now().UTC().Truncate(time.Microsecond)
		p1, err := db.InsertCacheProperties(ctx, database.CacheProperties{ID: 999, MaxCapacityMB: 10, Policy: "Least Recently Used"})
		after := time.Now().UTC()
		if err != nil {
			t.Fatalf("InsertCacheProperties: %v", err)
		}
		if p1.ID <= 0 || p1.ID == 999 {
			t.Errorf("InsertCacheProperties ID = %d, want a new positive ID", p1.ID)
		}
		if p1.CreatedAt.Location() != time.UTC || p1.CreatedAt.Before(before) || p1.CreatedAt.After(after) {
			t.Errorf("CreatedAt = %v, want now in UTC, in [%v, %v]", p1.CreatedAt, before, after)
		}
		got, err := db.LatestCacheProperties(ctx)
		if err != nil {
			t.Fatalf("LatestCacheProperties: %v", err)
		}
		if got != p1 {
			t.Errorf("LatestCacheProperties = %+v, want %+v", got, p1)
		}

		// An explicit time, in another zone, to the nanosecond: stored as
		// UTC to the microsecond. Older than p1, yet the newest row: the
		// configuration in force is the last one written.
		at := time.Date(2020, 2, 29, 1, 2, 3, 456789999, time.FixedZone("UTC-5", -5*3600))
		p2, err := db.InsertCacheProperties(ctx, database.CacheProperties{MaxCapacityMB: 2000, Policy: "Random Replacement", CreatedAt: at})
		if err != nil {
			t.Fatalf("InsertCacheProperties: %v", err)
		}
		want := database.CacheProperties{
			ID: p2.ID, MaxCapacityMB: 2000, Policy: "Random Replacement",
			CreatedAt: time.Date(2020, 2, 29, 6, 2, 3, 456789000, time.UTC),
		}
		if p2 != want {
			t.Errorf("InsertCacheProperties = %+v, want %+v", p2, want)
		}
		if p2.ID <= p1.ID {
			t.Errorf("second ID %d not after first %d", p2.ID, p1.ID)
		}
		got, err = db.LatestCacheProperties(ctx)
		if err != nil {
			t.Fatalf("LatestCacheProperties: %v", err)
		}
		if got != want {
			t.Errorf("LatestCacheProperties = %+v, want %+v", got, want)
		}
	})
}

func TestStatsSince(t *testing.T) {
	// since is 10:00 at UTC+1, i.e. 09:00 UTC: comparing wall clocks
	// instead of instants would get the rows around it wrong.
	since := time.Date(2030, 12, 31, 10, 0, 0, 500, time.FixedZone("UTC+1", 3600))
	base := since.UTC().Truncate(time.Microsecond)
	offsets := []struct {
		d    time.Duration
		want bool
	}{
		{-25 * time.Hour, false},
		{-61 * time.Minute, false}, // 07:59 UTC: wall clock 08:59 at UTC+1
		{-30 * time.Minute, false},
		{-time.Microsecond, false},
		{0, true},
		{time.Microsecond, true},
		{time.Millisecond, true},
		{30 * time.Minute, true}, // 09:30 UTC: 10:30 at UTC+1
		{15 * time.Hour, true},   // next day, next year
	}
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)

		var want []database.StatsRow
		for i, o := range offsets {
			r := database.StatsRow{
				CacheSize: 3<<30 + int64(i), KeyCount: int64(i), RequestCount: 100 + int64(i),
				HitCount: 60 + int64(i), MissCount: 40, CreatedAt: base.Add(o.d),
			}
			if o.want {
				want = append(want, r)
			}
		}
		// Insert in a random order: the result is ordered by time, not id.
		for _, i := range rand.Perm(len(offsets)) {
			r := database.StatsRow{
				CacheSize: 3<<30 + int64(i), KeyCount: int64(i), RequestCount: 100 + int64(i),
				HitCount: 60 + int64(i), MissCount: 40, CreatedAt: base.Add(offsets[i].d).In(since.Location()),
			}
			if err := db.InsertStats(ctx, r); err != nil {
				t.Fatalf("InsertStats: %v", err)
			}
		}

		got, err := db.StatsSince(ctx, since)
		if err != nil {
			t.Fatalf("StatsSince: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("StatsSince returned %d rows, want %d: %+v", len(got), len(want), got)
		}
		for i := range got {
			if got[i].ID <= 0 {
				t.Errorf("row %d: ID = %d, want positive", i, got[i].ID)
			}
			got[i].ID = 0
			if got[i] != want[i] {
				t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
			}
		}

		all, err := db.StatsSince(ctx, time.Time{})
		if err != nil {
			t.Fatalf("StatsSince(zero): %v", err)
		}
		if len(all) != len(offsets) {
			t.Errorf("StatsSince(zero) returned %d rows, want %d", len(all), len(offsets))
		}
		none, err := db.StatsSince(ctx, base.Add(16*time.Hour))
		if err != nil || len(none) != 0 {
			t.Errorf("StatsSince(after all) = %d rows, %v; want 0, nil", len(none), err)
		}
	})
}

func TestInsertStatsNow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		before := time.Now().UTC().Truncate(time.Microsecond)
		if err := db.InsertStats(ctx, database.StatsRow{KeyCount: 7}); err != nil {
			t.Fatalf("InsertStats: %v", err)
		}
		after := time.Now().UTC()
		rows, err := db.StatsSince(ctx, before)
		if err != nil {
			t.Fatalf("StatsSince: %v", err)
		}
		if len(rows) != 1 {
			t.Fatalf("StatsSince(before insert) returned %d rows, want 1", len(rows))
		}
		if c := rows[0].CreatedAt; c.Location() != time.UTC || c.Before(before) || c.After(after) {
			t.Errorf("CreatedAt = %v, want now in UTC, in [%v, %v]", c, before, after)
		}
		if rows[0].KeyCount != 7 {
			t.Errorf("KeyCount = %d, want 7", rows[0].KeyCount)
		}
	})
}

func TestPruneStats(t *testing.T) {
	cut := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := open(t, dsn)
		for i, d := range []time.Duration{-48 * time.Hour, -time.Hour, -time.Microsecond, 0, time.Hour} {
			if err := db.InsertStats(ctx, database.StatsRow{CreatedAt: cut.Add(d), KeyCount: int64(i)}); err != nil {
				t.Fatalf("InsertStats: %v", err)
			}
		}
		n, err := db.PruneStats(ctx, cut)
		if err != nil {
			t.Fatalf("PruneStats: %v", err)
		}
		if n != 3 {
			t.Errorf("PruneStats(cut) = %d, want 3", n)
		}
		rest, err := db.StatsSince(ctx, time.Time{})
		if err != nil {
			t.Fatalf("StatsSince: %v", err)
		}
		var got []time.Time
		for _, r := range rest {
			got = append(got, r.CreatedAt)
		}
		want := []time.Time{cut, cut.Add(time.Hour)}
		if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
			t.Errorf("rows left after PruneStats = %v, want %v", got, want)
		}
		if n, err := db.PruneStats(ctx, cut); err != nil || n != 0 {
			t.Errorf("PruneStats(cut) again = %d, %v; want 0, nil", n, err)
		}
	})
}
