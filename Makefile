# imgcache: see README.md. Every target works on a fresh machine that has only Go.
GO     ?= go
export GOFLAGS ?= -mod=mod
BIN    := bin
CMDS   := ./memcache/cmd/memcache ./app/cmd/backend

.PHONY: all build test vet run clean

all: build

build:
	$(GO) build -o $(BIN)/ $(CMDS)

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 ./...

# run: both services in the foreground on 127.0.0.1:5000 and :5001, embedded SQLite under ./data.
run: build
	scripts/run.sh

clean:
	rm -rf $(BIN)
