# The portal's everyday commands. `make help` lists them.
GO        ?= go
PORT      ?= 8080
# A count, not a duration: duration-based -fuzztime races Go 1.26's fuzz
# coordinator at the deadline (golang/go#75804, fixed in 1.27).
FUZZTIME  ?= 50000x
STATICCHECK_VERSION ?= v0.8.2
# axe-core, the accessibility engine the browser tests run on every page:
# fetched with npm into a git-ignored folder on first use.
AXE_CORE_VERSION ?= 4.14.1
AXE_CORE_DIR     ?= .cache/axe-core-$(AXE_CORE_VERSION)
AXE_CORE_JS      ?= $(CURDIR)/$(AXE_CORE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: help generate build run sandbox test lint fuzz bench loadtest browser-test postgres-test clean

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-14s %s\n", $$1, $$2}'

generate: ## regenerate templ code (committed; CI checks it is up to date)
	$(GO) tool templ generate

build: ## build bin/portal and bin/coreplus-sandbox
	$(GO) build -o bin/portal ./cmd/portal
	$(GO) build -o bin/coreplus-sandbox ./cmd/coreplus-sandbox

run: ## the portal on a demo clinic (in-process coreplus sandbox) at http://127.0.0.1:8080 (PORT overrides)
	PORT=$(PORT) $(GO) run ./cmd/portal -demo

sandbox: ## the coreplus sandbox alone, on 127.0.0.1:8081, with demo credentials
	$(GO) run ./cmd/coreplus-sandbox --addr 127.0.0.1:8081

# The race detector needs cgo and a C compiler. Where either is missing,
# make test runs without it and says why; RACE=1 (CI) makes that a failure.
test: ## every test that needs only Go, with the race detector where cgo works (RACE=1 insists on it)
	@cc=$$($(GO) env CC); why=; race=-race; \
	if ! command -v "$${cc%% *}" >/dev/null 2>&1; then why="no C compiler (go env CC: $$cc)"; \
	elif [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then why="cgo is off (go env CGO_ENABLED: 0)"; fi; \
	if [ -z "$$why" ]; then echo "make test: race detector on"; \
	elif [ "$(RACE)" = 1 ]; then echo "make test: RACE=1 but the race detector cannot run: $$why" >&2; exit 1; \
	else echo "make test: race detector off: $$why (CI runs with -race)"; race=; fi; \
	echo $(GO) test $$race -count=1 ./...; $(GO) test $$race -count=1 ./...

lint: ## gofmt, go vet, staticcheck, and generated code up to date
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GO) vet -tags browser ./web/browsertest/
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck -tags browser ./web/browsertest/
	@sum() { cat $$(git ls-files -co --exclude-standard '*_templ.go') | sha256sum; }; \
	before=$$(sum); $(GO) tool templ generate >/dev/null 2>&1; after=$$(sum); \
	if [ "$$before" != "$$after" ]; then echo "generated templ code was out of date: run make generate and commit"; git status --short -- '*_templ.go'; exit 1; fi

fuzz: ## run each fuzz target for $(FUZZTIME) inputs
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: ## benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

# LOADTEST_FLAGS passes options, e.g. LOADTEST_FLAGS='-patients 50 -duration 20s -check';
# `go run ./cmd/loadtest -h` lists them. DATABASE_URL (PostgreSQL) with
# -replicas 2 starts two portals on one database.
loadtest: ## 200 simulated patients for 60 s against the portal and a sandbox with 100 ms latency, plus the cached time page benchmark (LOADTEST_FLAGS)
	$(GO) run ./cmd/loadtest -bench $(LOADTEST_FLAGS)

browser-test: $(AXE_CORE_JS) ## browser tests in Debian's chromium (apt-get install chromium), axe-core on every page
	AXE_CORE_JS=$(AXE_CORE_JS) $(GO) test -count=1 -tags browser ./web/browsertest/

$(AXE_CORE_JS):
	@command -v npm >/dev/null || { echo "make browser-test needs npm to fetch axe-core (apt-get install nodejs npm)" >&2; exit 1; }
	npm install --prefix $(AXE_CORE_DIR) --no-save --no-audit --no-fund axe-core@$(AXE_CORE_VERSION)
	@test -s $@ || { echo "npm did not install $@" >&2; exit 1; }

postgres-test: ## store, clinic, funnel, staff and two-replica tests against PostgreSQL at $$TEST_DATABASE_URL
	$(GO) test -count=1 $(GOTESTFLAGS) ./internal/store/... ./internal/booking/bookingstore/... ./internal/clinics/... ./internal/funnel/... ./internal/staff/... ./cmd/portal/...

clean:
	rm -rf bin
