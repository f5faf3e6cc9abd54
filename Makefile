# Strata — see README.md. Every target works on a fresh machine with Go and a
# C compiler; `make test` also needs Java 17 and Maven (for the Kafka broker).

GO        ?= go
TAGS      := duckdb_arrow,pgquery_cgo
GOFLAGS_  := -tags $(TAGS)
BIN       := bin/strata
QUICK     := examples/quickstart/strata.yaml
# Packages that start their own Kafka broker run one at a time.
TEST_P    ?= 2
STATICCHECK_VERSION := v0.8.2

.PHONY: build run test test-race bench lint fuzz rewrite clean

build: $(BIN)

$(BIN): $(shell find . -name '*.go' -not -path './.git/*' 2>/dev/null) go.mod go.sum
	@mkdir -p bin
	$(GO) build $(GOFLAGS_) -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o $(BIN) ./cmd/strata

# The quickstart: run the example deployment over its bundled data until
# idle, then query the views it keeps (see examples/quickstart/README.md).
run: build
	@rm -rf examples/quickstart/data/state
	$(BIN) validate -c $(QUICK)
	$(BIN) run -c $(QUICK) --until-idle
	@echo
	@echo '$$ strata query -c $(QUICK) "SELECT * FROM bids_per_auction ORDER BY auction"'
	@$(BIN) query -c $(QUICK) "SELECT * FROM bids_per_auction ORDER BY auction"
	@echo
	@echo '$$ strata query -c $(QUICK) "SELECT category, sum(bids) AS bids, sum(volume) AS volume FROM bids_per_auction JOIN auction_info USING (auction) GROUP BY 1 ORDER BY 1"'
	@$(BIN) query -c $(QUICK) "SELECT category, sum(bids) AS bids, sum(volume) AS volume FROM bids_per_auction JOIN auction_info USING (auction) GROUP BY 1 ORDER BY 1"
	@echo
	@echo '$$ strata query -c $(QUICK) "SELECT * FROM bids_per_minute ORDER BY window_start LIMIT 5"'
	@$(BIN) query -c $(QUICK) "SELECT * FROM bids_per_minute ORDER BY window_start LIMIT 5"
	@echo
	@echo '$$ strata query -c $(QUICK) "SELECT * FROM top_bids WHERE auction = 3 ORDER BY rank"'
	@$(BIN) query -c $(QUICK) "SELECT * FROM top_bids WHERE auction = 3 ORDER BY rank"
	@echo
	@echo '$$ strata get -c $(QUICK) bids_per_auction 3'
	@$(BIN) get -c $(QUICK) bids_per_auction 3
	@echo
	@echo '$$ strata query -c $(QUICK) "SELECT source, partition, \"offset\", reason FROM dead_letters"'
	@$(BIN) query -c $(QUICK) "SELECT source, partition, \"offset\", reason FROM dead_letters"
	@echo
	@echo 'Live: bin/strata run -c $(QUICK)   (serves http://127.0.0.1:7070; try curl -s 127.0.0.1:7070/v1/views/bids_per_auction/rows/3)'

test:
	./scripts/kafka.sh fetch
	$(GO) vet $(GOFLAGS_) ./...
	$(GO) test $(GOFLAGS_) -p $(TEST_P) -count=1 -timeout 20m ./...

test-race:
	$(GO) test $(GOFLAGS_) -race -count=1 ./engine/... ./connect/... ./backends/...

bench:
	$(GO) test $(GOFLAGS_) -run '^$$' -bench . -benchmem -count 3 ./engine/... ./connect/... ./backends/... ./plans/... ./udf/...

lint:
	$(GO) vet $(GOFLAGS_) ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) -tags $(TAGS) ./...

fuzz:
	$(GO) test ./plans -run '^$$' -fuzz FuzzPlan -fuzztime 60s
	$(GO) test ./connect/format -run '^$$' -fuzz FuzzJSONDecode -fuzztime 60s
	$(GO) test ./udf -run '^$$' -fuzz FuzzInstrument -fuzztime 60s
	$(GO) test ./udf -run '^$$' -fuzz FuzzManifest -fuzztime 60s

rewrite:
	$(GO) test $(GOFLAGS_) ./plans/... ./internal/config/... ./backends/... -rewrite

clean:
	rm -rf bin examples/quickstart/data/state
