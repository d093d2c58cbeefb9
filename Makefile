# imgcache: see README.md. Every target works on a fresh machine that has only Go.
GO     ?= go
BIN    := bin
CMDS   := ./memcache/cmd/memcache ./app/cmd/backend ./loadgen/cmd/loadgen

.PHONY: all build test vet run stop bench bench-quick bench-s3 bench-pool bench-resize clean

all: build

build:
	$(GO) build -o $(BIN)/ $(CMDS)

# vet: go vet, then ctxcheck (scripts/ctxcheck): no *fasthttp.RequestCtx may be passed on as a context.
vet:
	$(GO) vet ./...
	$(GO) build -o $(BIN)/ctxcheck ./scripts/ctxcheck
	$(GO) vet -vettool=$(abspath $(BIN)/ctxcheck) ./...

# test: -timeout 40m because app/web's browser tests take several minutes under -race on a busy 2-core machine.
test: vet
	$(GO) test -race -count=1 -timeout 40m ./...

# run: both services in the foreground on 127.0.0.1:5000 and :5001, embedded SQLite under ./data.
run: build
	scripts/run.sh

# stop: stops services started in the background by scripts/start.sh.
stop:
	scripts/shutdown.sh

# bench: the full matrix, every cell run 3 times, interleaved (about 10 minutes on 2 cores); the
# report lands in reports/out/. Compare two runs with bin/loadgen compare A/results.json B/results.json.
bench: build
	$(BIN)/loadgen -repeat 3

# bench-quick: a short run of the same harness, each cell once, for CI (under 90 s).
bench-quick: build
	$(BIN)/loadgen -quick -repeat 1

# bench-s3: the 80:20 and 95:5 mixes, LRU and the cache off, with the images in S3: loadgen starts a
# versitygw beside the services (installed first by scripts/versitygw.sh when missing) behind a proxy
# that delays each response's first byte by S3_LATENCY, a remote store's (20 ms: AWS puts the median
# latency of small S3 requests in the tens of milliseconds; see the README). Report in reports/out/s3/.
S3_LATENCY ?= 20ms
bench-s3: build
	vgw="$$(scripts/versitygw.sh)" && $(BIN)/loadgen -storage s3 -versitygw-bin "$$vgw" -s3-latency $(S3_LATENCY) -mixes 80:20,95:5 -policies LRU,off -out reports/out/s3

# bench-pool: the 80:20 mix with LRU on pools of 1, 2 and 4 memcache nodes, the same capacity a node;
# each run in reports/out/pool-nodes-N/, the table of all in reports/out/pool-summary.md.
bench-pool: build
	scripts/bench-pool.sh

# bench-resize: what resizing the pool costs: 2 active nodes and a standby, 300 requests/s for 40 s,
# a node activated at 15 s and stood by at 30 s; the hit rate per second in reports/out/resize/.
bench-resize: build
	$(BIN)/loadgen resize -out reports/out/resize

clean:
	rm -rf $(BIN)
