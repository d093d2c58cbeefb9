package web_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"imgcache/app/apptest"
	"imgcache/app/web/runs"

	"imgcache/app"
	"imgcache/database"
	"imgcache/database/dbtest"
	"imgcache/reports/bench"
	"imgcache/reports/results"
)

// reportsStack is a stack whose backend lists dir, with sample as its sample.
func reportsStack(t *testing.T, dir, sample string) *apptest.Stack {
	t.Helper()
	return startStack(t, dbtest.DSN(t, database.SQLite), reportsConfig(dir, sample))
}

// runLink is how the list links a run.
func runLink(id string) string { return `<a href="/reports/run/` + id + `">` + id + `</a>` }

func TestReportsList(t *testing.T) {
	f := newReportsFixture(t)
	// A folder whose sub-folder is the sample: listed once, as the sample.
	withSample := t.TempDir()
	if err := bench.WriteReport(filepath.Join(withSample, "s"), synthResults(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC), "eeeeeeeeeeee", 1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		dir, sample  string
		want, absent []string
	}{
		{"runs of the folder, no sample", f.Dir, app.NoSample,
			[]string{runLink(runAfter), runLink(runBefore), runLink(runBroken), runLink(runFuture),
				"2026-12-02 09:30 UTC, ran 9m33s", "Test CPU, 2 CPUs, linux/amd64, go1.26.8", "bbbbbbbbbbbb",
				"80:20, 50:50 (reads:writes)", "LRU, Random; 3 run(s) of each cell",
				`<th scope="row">80:20</th><td class="num">1500/s<span class="hits">44.0% hits</span></td>`,
				"The results.json of run &#34;broken&#34; cannot be read: it is not valid JSON (line 4, column 21): invalid character &#39;,&#39; looking for beginning of object key string.",
				"The results.json of run &#34;future&#34; cannot be read: version 9, want 1 or 2.",
				"Not found: the sample lives in the repository",
				`<option value="2026-12-02-after" selected>`, `<option value="2026-12-01-before" selected>`},
			// Symlinked and hidden folders, folders without results.json, and what is outside.
			[]string{"linked-run", "hidden-run", "notes", "readme", "cccccccccccc", "dddddddddddd", secretText,
				`<option value="broken"`}},
		{"the repository's sample", f.Dir, repoSample,
			[]string{runLink(runBefore), `<a href="/reports/run/sample">sample</a> <span class="badge sample">sample</span>`,
				"reports/sample (committed with the code)", `<option value="sample">sample · `},
			[]string{"Not found: the sample"}},
		{"a missing folder", filepath.Join(t.TempDir(), "none"), app.NoSample,
			[]string{"No runs yet: the folder does not exist."}, []string{`<article class="run">`, `<form class="compare"`}},
		{"a folder that is itself a run", f.Before, app.NoSample,
			[]string{runLink(runBefore), "aaaaaaaaaaaa"}, []string{"No runs yet", "bbbbbbbbbbbb"}},
		{"a sample inside the folder is listed once", withSample, filepath.Join(withSample, "s"),
			[]string{runLink("sample"), "eeeeeeeeeeee"}, []string{`/reports/run/s"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := reportsStack(t, tt.dir, tt.sample)
			r := get(t, st.Backend.URL()+"/reports")
			wantPage(t, tt.name, r, http.StatusOK, append(tt.want, `aria-current="page">Benchmarks`, "<h1>Benchmarks</h1>")...)
			for _, a := range tt.absent {
				if strings.Contains(r.Body, a) {
					t.Errorf("the list shows %q", a)
				}
			}
		})
	}
	t.Run("a folder larger than a listing reads", func(t *testing.T) {
		entries, runs := t.TempDir(), t.TempDir()
		for i := range 1001 {
			if err := os.Mkdir(filepath.Join(entries, fmt.Sprintf("empty-%04d", i)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 101 {
			writeFile(t, filepath.Join(runs, fmt.Sprintf("run-%03d", i), bench.ResultsJSON), `{"version": 2}`)
		}
		for _, tt := range []struct {
			name, dir string
			runs      int
		}{{"1001 entries", entries, 0}, {"101 runs", runs, 100}} {
			st := reportsStack(t, tt.dir, app.NoSample)
			body := get(t, st.Backend.URL()+"/reports").Body
			if got := strings.Count(body, `<article class="run">`); got != tt.runs {
				t.Errorf("%s: %d runs listed, want %d", tt.name, got, tt.runs)
			}
			if !strings.Contains(body, "The folder holds more than this page reads") {
				t.Errorf("%s: the page does not say the listing was cut short", tt.name)
			}
		}
	})
	t.Run("newest first", func(t *testing.T) {
		st := reportsStack(t, f.Dir, app.NoSample)
		body := get(t, st.Backend.URL()+"/reports").Body
		if a, b := strings.Index(body, runLink(runAfter)), strings.Index(body, runLink(runBefore)); a < 0 || b < 0 || a > b {
			t.Errorf("%s at %d, %s at %d: want the newer first", runAfter, a, runBefore, b)
		}
	})
	t.Run("a form preselected by the query", func(t *testing.T) {
		st := reportsStack(t, f.Dir, app.NoSample)
		body := get(t, st.Backend.URL()+"/reports?a=2026-12-02-after&b=2026-12-01-before").Body
		for _, want := range []string{`<select id="a" name="a">
<option value="2026-12-02-after" selected>`, `<select id="b" name="b" aria-describedby="compare-hint">
<option value="2026-12-02-after">2026-12-02-after · 2026-12-02 09:30 UTC</option>
<option value="2026-12-01-before" selected>`} {
			if !strings.Contains(body, want) {
				t.Errorf("the form lacks %q", want)
			}
		}
	})
}

func TestReportRunPage(t *testing.T) {
	f := newReportsFixture(t)
	// Runs too large to read, in a folder of their own.
	big := t.TempDir()
	bigResults := filepath.Join(big, "big", bench.ResultsJSON)
	writeFile(t, bigResults, "")
	if err := os.Truncate(bigResults, runs.MaxFile+1); err != nil {
		t.Fatal(err)
	}
	many := &results.Results{Version: results.Version}
	for i := range 65 {
		many.Series = append(many.Series, results.Series{Mix: results.Mix{Reads: i + 1, Writes: 1}, Policy: results.PolicyLRU})
	}
	if err := os.MkdirAll(filepath.Join(big, "many"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := many.WriteFile(filepath.Join(big, "many", bench.ResultsJSON)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, dir, path string
		status          int
		want, absent    []string
	}{
		{"a run", f.Dir, "/reports/run/" + runBefore, 200,
			[]string{"<title>Benchmark run 2026-12-01-before · imgcache</title>", `aria-current="page">Benchmarks`,
				"<dt>Machine</dt><dd>Test CPU, 2 CPUs, linux/amd64, go1.26.8</dd>", "<dt>Commit</dt><dd>aaaaaaaaaaaa</dd>",
				"git checkout aaaaaaaaaaaa &amp;&amp; make build &amp;&amp; bin/loadgen -repeat 3",
				`<tr><th scope="row">80:20<span class="policy">LRU</span></th><td class="num">1500<span class="ci">[`,
				`<span class="outcome pass">pass</span> <strong>LRU hit rate above Random&#39;s at 80:20</strong>`,
				"<h2>Reads:writes 80:20</h2>", "<h2>Reads:writes 50:50</h2>",
				`<img src="/reports/run/2026-12-01-before/latency-80-20.png" width="800" height="500" alt="Latency at reads:writes 80:20`,
				`<img src="/reports/run/2026-12-01-before/throughput-50-50.png" width="800" height="500"`,
				`<a href="/reports/run/2026-12-01-before/index.html">index.html</a>`,
				`<a href="/reports/run/2026-12-01-before/results.json">results.json</a>`,
				`<a href="/reports/run/2026-12-01-before/notes.md">notes.md</a>`,
				"huge.png (16 MB: over the size this server sends)"},
			[]string{"notes.txt", "run.sh", "escape", "alias.json", ".secret.json", "data.json.bak", "step-1.json", secretText,
				`<img src="/reports/run/2026-12-01-before/huge.png"`}},
		{"the trailing slash", f.Dir, "/reports/run/" + runBefore + "/", 200, []string{"<h1>Benchmark run 2026-12-01-before</h1>"}, nil},
		{"a malformed results.json", f.Dir, "/reports/run/" + runBroken, 422,
			[]string{`<p class="notice err" role="alert">The results.json of run &#34;broken&#34; cannot be read: it is not valid JSON (line 4, column 21)`,
				`<a href="/reports/run/broken/results.json">results.json</a>`},
			[]string{"<h2>Cells</h2>"}},
		{"a results.json of an unknown version", f.Dir, "/reports/run/" + runFuture, 422,
			[]string{"cannot be read: version 9, want 1 or 2."}, nil},
		{"a results.json over the size bound", big, "/reports/run/big", 422,
			[]string{"The results.json of run &#34;big&#34; cannot be read: results.json is 16 MB: over the size limit of 16 MB."}, nil},
		{"a results.json of too many cells", big, "/reports/run/many", 422,
			[]string{"it holds 65 cells (mix and policy); these pages read at most 64."}, nil},
		{"an unknown run", f.Dir, "/reports/run/nope", 404, []string{"There is no benchmark run &#34;nope&#34;."}, nil},
		{"a symlinked run", f.Dir, "/reports/run/linked-run", 404, []string{"There is no benchmark run"}, []string{"cccccccccccc"}},
		{"a hidden run", f.Dir, "/reports/run/.hidden-run", 404, nil, []string{"dddddddddddd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := reportsStack(t, tt.dir, app.NoSample)
			r := get(t, st.Backend.URL()+tt.path)
			wantPage(t, tt.name, r, tt.status, tt.want...)
			for _, a := range tt.absent {
				if strings.Contains(r.Body, a) {
					t.Errorf("the page shows %q", a)
				}
			}
		})
	}
}

func TestReportFiles(t *testing.T) {
	f := newReportsFixture(t)
	st := reportsStack(t, f.Dir, repoSample)
	run := "/reports/run/" + runBefore + "/"
	results, err := os.ReadFile(filepath.Join(f.Before, bench.ResultsJSON))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path  string
		status      int
		contentType string
		csp         string // a part of the Content-Security-Policy
		body        string // a part of the body
	}{
		{"results", run + "results.json", 200, "application/json", "default-src 'none'; sandbox", `"commit": "aaaaaaaaaaaa"`},
		{"csv", run + "results.csv", 200, "text/csv; charset=utf-8", "sandbox", "mix,policy,run,phase"},
		{"markdown as text", run + "summary.md", 200, "text/plain; charset=utf-8", "sandbox", "#"},
		{"the run's own report, sandboxed", run + "index.html", 200, "text/html; charset=utf-8", "img-src 'self'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; sandbox", "<style>"},
		{"a graph", run + "latency-80-20.png", 200, "image/png", "sandbox", "\x89PNG"},
		{"a file of the sample", "/reports/run/sample/throughput-80-20.png", 200, "image/png", "sandbox", "\x89PNG"},
		{"a text file", run + "notes.txt", 404, "text/html; charset=utf-8", "", "Run &#34;2026-12-01-before&#34; has no file &#34;notes.txt&#34;."},
		{"a script", run + "run.sh", 404, "", "", ""},
		{"an extension inside the name", run + "data.json.bak", 404, "", "", ""},
		{"a hidden file", run + ".secret.json", 404, "", "", ""},
		{"a file of a sub-folder", run + "vegeta/step-1.json", 404, "", "", ""},
		{"a symlink out of the folder", run + "escape.png", 404, "", "", ""},
		{"a relative symlink out of the folder", run + "escape-relative.json", 404, "", "", ""},
		{"a symlink within the folder", run + "alias.json", 404, "", "", ""},
		{"a file over the size bound", run + "huge.png", 404, "", "", "File &#34;huge.png&#34; of run &#34;2026-12-01-before&#34; is 16 MB, over the 16 MB this server sends."},
		{"a file of a symlinked run", "/reports/run/linked-run/results.json", 404, "", "", ""},
		{"a file of a hidden run", "/reports/run/.hidden-run/results.json", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+tt.path)
			if r.Status != tt.status {
				t.Fatalf("GET %s = %d, want %d; body:\n%.300s", tt.path, r.Status, tt.status, r.Body)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if got := r.Header.Get("Content-Type"); tt.contentType != "" && got != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
			}
			if got := r.Header.Get("Content-Security-Policy"); !strings.Contains(got, tt.csp) {
				t.Errorf("Content-Security-Policy = %q, want it to contain %q", got, tt.csp)
			}
			if !strings.Contains(r.Body, tt.body) {
				t.Errorf("body lacks %q:\n%.300s", tt.body, r.Body)
			}
			if strings.Contains(r.Body, secretText) {
				t.Errorf("the answer carries a file it must not serve")
			}
		})
	}
	t.Run("the whole file", func(t *testing.T) {
		if got := get(t, st.Backend.URL()+run+"results.json").Body; got != string(results) {
			t.Errorf("results.json served is %d bytes, want the file's %d", len(got), len(results))
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		r := apptest.Request(t, http.MethodHead, st.Backend.URL()+run+"results.json", "", nil)
		if r.Status != 200 || r.Body != "" || r.Header.Get("Content-Length") != fmt.Sprint(len(results)) {
			t.Errorf("HEAD = %d, %d bytes, Content-Length %q; want 200, none, %d", r.Status, len(r.Body), r.Header.Get("Content-Length"), len(results))
		}
	})
	t.Run("unchanged since the browser's copy", func(t *testing.T) {
		etag := get(t, st.Backend.URL()+run+"results.json").Header.Get("ETag")
		req, err := http.NewRequest(http.MethodGet, st.Backend.URL()+run+"results.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", etag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Errorf("with If-None-Match %q: status %d, want 304", etag, resp.StatusCode)
		}
	})
	t.Run("POST", func(t *testing.T) {
		if r := apptest.Request(t, http.MethodPost, st.Backend.URL()+run+"results.json", "", nil); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("POST = %d, want 405", r.Status)
		}
	})
}

// rawGet sends target as the request line's target, exactly: the Go client would clean or escape it.
func rawGet(t *testing.T, base, target string) apptest.Response {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	return apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// TestReportTraversal asks for files outside the reports folder in every spelling a path can take on
// the wire: none is answered.
func TestReportTraversal(t *testing.T) {
	f := newReportsFixture(t)
	st := reportsStack(t, f.Dir, app.NoSample)
	run := "/reports/run/" + runBefore + "/"
	secret := filepath.Join(f.Outside, "secret.json")
	tests := []struct {
		name, target string
		status       int
	}{
		{"dot-dot", run + "../../../outside/secret.json", 404},
		{"dot-dot from the run's ID", "/reports/run/../../outside/run/results.json", 404},
		{"encoded dots", run + "%2e%2e/%2e%2e/outside/secret.json", 404},
		{"encoded dots and slashes", run + "%2E%2E%2F%2E%2E%2Foutside%2Fsecret.json", 404},
		{"encoded slashes", run + "..%2f..%2foutside%2fsecret.json", 404},
		{"an encoded run ID", "/reports/run/..%2foutside%2frun/secret.json", 404},
		{"double-encoded", run + "%252e%252e%252f%252e%252e%252foutside%252fsecret.json", 404},
		{"an absolute path", run + secret, 404},
		{"an encoded absolute path", run + url.PathEscape(secret), 404},
		{"an absolute path as the ID", "/reports/run/" + url.PathEscape(filepath.Dir(secret)) + "/secret.json", 404},
		{"backslashes", run + `..\..\outside\secret.json`, 404},
		{"a NUL", run + "results.json%00/../../../outside/secret.json", 404},
		{"an absolute URL", "http://" + strings.TrimPrefix(st.Backend.URL(), "http://") + run + "../../outside/secret.json", 404},
		{"a symlink out", run + "escape.png", 404},
		{"a symlinked run", "/reports/run/linked-run/secret.json", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawGet(t, st.Backend.URL(), tt.target)
			if r.Status != tt.status {
				t.Errorf("GET %s = %d, want %d", tt.target, r.Status, tt.status)
			}
			if strings.Contains(r.Body, secretText) {
				t.Errorf("GET %s answered a file outside the reports folder", tt.target)
			}
		})
	}
}

func TestReportCompare(t *testing.T) {
	f := newReportsFixture(t)
	st := reportsStack(t, f.Dir, repoSample)
	verdicts := regexp.MustCompile(`<td class="verdict ([a-z]*)">`)
	tests := []struct {
		name, query string
		status      int
		want        []string
		verdicts    map[string]int // class -> rows
	}{
		{"a slower run", "a=" + runBefore + "&b=" + runAfter, 200,
			[]string{"<title>Comparison of two benchmark runs · imgcache</title>", `aria-current="page">Benchmarks`,
				`<dt>A (baseline)</dt><dd><a href="/reports/run/2026-12-01-before">2026-12-01-before</a>: 2026-12-01 09:30 UTC, commit aaaaaaaaaaaa`,
				`<dt>B</dt><dd><a href="/reports/run/2026-12-02-after">2026-12-02-after</a>`,
				`<p class="summary regression">12 regression(s) beyond 10%.</p>`,
				`<tr class="regression-row"><th scope="row">80:20<span class="policy">LRU</span></th><td>sustained throughput (/s)</td><td class="verdict regression">regression</td><td class="num">-40.0%</td><td class="num">1500<span class="ci">[`,
				`<a href="/reports?a=2026-12-01-before&amp;b=2026-12-02-after#compare">Choose other runs</a>`},
			// Hit rates do not change; the sustained throughput and the latency at a load both served do.
			map[string]int{"regression": 12, "worse": 3, "": 1}},
		{"a faster run", "a=" + runAfter + "&b=" + runBefore, 200,
			[]string{`<p class="summary better">No regression beyond 10%.</p>`, `<td class="verdict better">better</td>`},
			map[string]int{"better": 15, "": 1}},
		{"a run with itself", "a=" + runBefore + "&b=" + runBefore, 200,
			[]string{"A and B are the same run: every difference is zero.", `<p class="summary better">No regression beyond 10%.</p>`,
				`<td class="verdict ">no difference</td><td class="num">&#43;0.0%</td>`},
			map[string]int{"": 16}},
		{"runs of different cells", "a=sample&b=" + runBefore, 200,
			[]string{"<p>Only in A: 20:80 LRU, 20:80 Random, 20:80 cache off, 50:50 cache off, 80:20 cache off.</p>"}, nil},
		{"no run chosen", "", 400, []string{"Choose two runs to compare: a (the baseline) and b."}, nil},
		{"one run chosen", "a=" + runBefore, 400, []string{"Choose two runs to compare"}, nil},
		{"an unknown run", "a=" + runBefore + "&b=nope", 404, []string{"There is no benchmark run &#34;nope&#34;."}, nil},
		{"a symlinked run", "a=linked-run&b=" + runBefore, 404, []string{"There is no benchmark run &#34;linked-run&#34;."}, nil},
		{"a malformed run", "a=" + runBefore + "&b=" + runBroken, 422,
			[]string{"The results.json of run &#34;broken&#34; cannot be read: it is not valid JSON (line 4, column 21)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+"/reports/compare?"+tt.query)
			wantPage(t, tt.name, r, tt.status, tt.want...)
			if tt.verdicts == nil {
				return
			}
			got := map[string]int{}
			for _, m := range verdicts.FindAllStringSubmatch(r.Body, -1) {
				got[m[1]]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.verdicts) {
				t.Errorf("verdict classes = %v, want %v", got, tt.verdicts)
			}
		})
	}
}

// TestReportsGolden compares the list and a comparison of the fixture's runs with
// testdata/*.golden; -update rewrites them.
func TestReportsGolden(t *testing.T) {
	f := newReportsFixture(t)
	st := reportsStack(t, f.Dir, app.NoSample)
	version := regexp.MustCompile(`\?v=[0-9a-f]+`)
	for _, tt := range []struct{ name, path string }{
		{"reports", "/reports"},
		{"reports_compare", "/reports/compare?a=" + runBefore + "&b=" + runAfter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, st.Backend.URL()+tt.path)
			got := version.ReplaceAllString(strings.ReplaceAll(r.Body, f.Dir, "REPORTS"), "?v=VERSION")
			golden(t, filepath.Join("testdata", "page_"+tt.name+".golden"), got)
		})
	}
}

// golden compares got with file, or rewrites the file under -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing: run go test -run %s -update", file, t.Name())
	}
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the page differs from %s (run with -update if the change is intended):\n%s", file, got)
	}
}
