package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// csvTime is the form of a row's time in the CSV: UTC to the microsecond, as stored, in a form every
// spreadsheet and date parser reads.
const csvTime = "2006-01-02T15:04:05.000000Z"

// csvHeader names the CSV's columns after the cache_stats table's.
var csvHeader = []string{"created_at", "cache_size_bytes", "key_count", "request_count", "hit_count", "miss_count", "node_id"}

// statsCSV answers the rows of the window the query asks for, oldest first, as an RFC 4180 CSV file
// (CRLF line ends, a header row) for a browser to save.
func (s *Server) statsCSV(ctx context.Context, rc *fasthttp.RequestCtx) error {
	q, err := parseStatsQuery(rc.QueryArgs())
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	rows, err := s.store.StatsSince(ctx, now.Add(-q.Window.Span))
	if err != nil {
		return s.DBError("read cache statistics", err)
	}
	if q.Node != 0 {
		rows = nodeRows(rows, q.Node)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	w.Write(csvHeader)
	for _, r := range rows {
		w.Write([]string{r.CreatedAt.UTC().Format(csvTime), strconv.FormatInt(r.CacheSize, 10), strconv.FormatInt(r.KeyCount, 10),
			strconv.FormatInt(r.RequestCount, 10), strconv.FormatInt(r.HitCount, 10), strconv.FormatInt(r.MissCount, 10),
			strconv.FormatInt(r.NodeID, 10)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write statistics csv: %w", err)
	}
	h := &rc.Response.Header
	rc.SetContentType("text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="cache_stats-%s-%s.csv"`, q.Window.Param, now.Format("20060102T150405Z")))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rc.SetBody(buf.Bytes())
	return nil
}
