# imgcache: see README.md. Every target works on a fresh machine that has only Go.
GO     ?= go
BIN    := bin
CMDS   := ./memcache/cmd/memcache ./app/cmd/backend ./loadgen/cmd/loadgen

.PHONY: all build test vet run stop bench bench-quick clean

all: build

build:
	$(GO) build -o $(BIN)/ $(CMDS)

# vet: go vet, then ctxcheck (scripts/ctxcheck): no *fasthttp.RequestCtx may be passed on as a context.
vet:
	$(GO) vet ./...
	$(GO) build -o $(BIN)/ctxcheck ./scripts/ctxcheck
	$(GO) vet -vettool=$(abspath $(BIN)/ctxcheck) ./...

test: vet
	$(GO) test -race -count=1 ./...

# run: both services in the foreground on 127.0.0.1:5000 and :5001, embedded SQLite under ./data.
run: build
	scripts/run.sh

# stop: stops services started in the background by scripts/start.sh.
stop:
	scripts/shutdown.sh

# bench: the full matrix, every cell run 3 times, interleaved (about 12 minutes on 2 cores); the
# report lands in reports/out/. Compare two runs with bin/loadgen compare A/results.json B/results.json.
bench: build
	$(BIN)/loadgen -repeat 3

# bench-quick: a short run of the same harness, each cell once, for CI (under 90 s).
bench-quick: build
	$(BIN)/loadgen -quick -repeat 1

clean:
	rm -rf $(BIN)
