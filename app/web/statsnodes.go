package web

import (
	"slices"
	"time"

	"imgcache/database"
	"imgcache/reports/statschart"
)

const (
	// poolSlot is the width of the time slots in which the rows of a pool's nodes, each written at
	// the node's own moments, are added up: the memcache's statistics interval.
	poolSlot = 5 * time.Second
	// gaugeLife is how long a node's last gauges (items, bytes) count towards the pool's after its
	// last row: three of its rows, so one late row does not make the pool look smaller, and a node
	// that stopped drops out.
	gaugeLife = 3 * poolSlot
)

// poolPoints turns the statistics rows of a pool's nodes into one series for the pool: per slot, the
// counts of every node added up, and the gauges of every node still writing (its newest, at most
// gaugeLife old) added up. Rows of a single node map one to one. rows are in time order.
func poolPoints(rows []database.StatsRow) []statschart.Point {
	single := true
	for _, r := range rows {
		single = single && r.NodeID == rows[0].NodeID
	}
	if single {
		points := make([]statschart.Point, len(rows))
		for i, r := range rows {
			points[i] = pointOf(r)
		}
		return points
	}
	type gauge struct {
		at           time.Time
		items, bytes int64
	}
	last := map[int64]gauge{}
	var points []statschart.Point
	for i := 0; i < len(rows); {
		end := rows[i].CreatedAt.Truncate(poolSlot).Add(poolSlot)
		p := statschart.Point{At: end}
		for ; i < len(rows) && rows[i].CreatedAt.Before(end); i++ {
			r := rows[i]
			p.Requests += r.RequestCount
			p.Hits += r.HitCount
			p.Misses += r.MissCount
			last[r.NodeID] = gauge{r.CreatedAt, r.KeyCount, r.CacheSize}
		}
		for id, g := range last {
			if end.Sub(g.at) > gaugeLife {
				delete(last, id)
				continue
			}
			p.Items += g.items
			p.Bytes += g.bytes
		}
		points = append(points, p)
	}
	return points
}

func pointOf(r database.StatsRow) statschart.Point {
	return statschart.Point{At: r.CreatedAt, Items: r.KeyCount, Bytes: r.CacheSize,
		Requests: r.RequestCount, Hits: r.HitCount, Misses: r.MissCount}
}

// nodeRows keeps the rows of one node.
func nodeRows(rows []database.StatsRow, node int64) []database.StatsRow {
	return slices.DeleteFunc(rows, func(r database.StatsRow) bool { return r.NodeID != node })
}
