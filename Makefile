# Convenience targets; the scripts are the source of truth.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go

.PHONY: build dev test bench fuzz generate fmt vet clean dashboards

## build: compile bin/changemaker
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/changemaker ./cmd/changemaker

## dev: install what is missing, start services, migrate, run `changemaker all`
dev:
	./scripts/dev.sh

## test: gofmt, go vet and the race-enabled test suite against real Postgres and Redis
test:
	./scripts/test.sh

## bench: the benchmarks recorded in docs/benchmarks.md (wrk; the kill -9 run; email throughput; the login flood; fleet scaling)
bench:
	./scripts/bench.sh
	./scripts/bench-killnine.sh
	./scripts/bench-email.sh
	./scripts/bench-loginflood.sh
	./scripts/bench-scaling.sh

## fuzz: run every Go fuzz target for FUZZTIME each (scripts/fuzz.sh; JOBS at a time)
FUZZTIME ?= 1m
JOBS     ?= 2
fuzz:
	FUZZTIME=$(FUZZTIME) JOBS=$(JOBS) ./scripts/fuzz.sh

## generate: compile storage/queries/*.sql into storage/internal/db with sqlc
generate:
	./scripts/sqlc.sh generate

## dashboards: regenerate deploy/grafana/dashboards/*.json from deploy/grafana/generator
dashboards:
	$(GO) generate ./deploy/grafana

fmt:
	gofmt -w $$(find . -name "*.go" -not -path "./.git/*" -not -path "*/testdata/*")

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
