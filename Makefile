# Richiamo — make help lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
STATICCHECK_VERSION ?= v0.7.0-0.dev

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/richiamo
	$(GO) build -o bin/richiamo ./cmd/richiamo

.PHONY: demo
demo: ## run the reminders, recall, offers and survey end to end on synthetic data (nothing to set up)
	$(GO) run ./cmd/richiamo demo

.PHONY: test
test: ## run every test, starting a throwaway PostgreSQL (installs it if missing)
	scripts/test.sh

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

.PHONY: fuzz
fuzz: ## fuzz every parser of outside input for 30 s each
	$(GO) test -run '^$$' -fuzz '^FuzzExtractReader$$' -fuzztime 30s ./internal/cup/
	$(GO) test -run '^$$' -fuzz '^FuzzReadAthletes$$' -fuzztime 30s ./internal/group/
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime 30s ./internal/phone/
	$(GO) test -run '^$$' -fuzz '^FuzzParseReply$$' -fuzztime 30s -fuzzminimizetime 50x ./internal/sms/
	$(GO) test -run '^$$' -fuzz '^FuzzTransliterate$$' -fuzztime 30s -fuzzminimizetime 50x ./internal/sms/
	$(GO) test -run '^$$' -fuzz '^FuzzRequestParsers$$' -fuzztime 30s ./internal/cup/mssql/tdstest/
	$(GO) test -run '^$$' -fuzz '^FuzzParseEvent$$' -fuzztime 30s ./internal/voice/media/
	$(GO) test -run '^$$' -fuzz '^FuzzReceiver$$' -fuzztime 30s -fuzzminimizetime 50x ./internal/voice/media/
	$(GO) test -run '^$$' -fuzz '^FuzzReadWAV$$' -fuzztime 30s -fuzzminimizetime 50x ./internal/voice/media/
	$(GO) test -run '^$$' -fuzz '^FuzzParseAnswer$$' -fuzztime 30s ./internal/voice/
	$(GO) test -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime 30s ./internal/sms/
	$(GO) test -run '^$$' -fuzz '^FuzzReadBookings$$' -fuzztime 30s ./internal/job/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 30s ./internal/yamlfile/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime 30s ./internal/calllog/
	$(GO) test -run '^$$' -fuzz '^FuzzEvent$$' -fuzztime 30s ./internal/calllog/

.PHONY: bench-remind
bench-remind: ## plan and import 1,000,000 rows beside sqlite3 .import and COPY, growth to 4,000,000, 20,000 SMS; prints the ratios
	scripts/bench-remind.sh

.PHONY: bench-sla
bench-sla: ## compute the service levels of a 1,000,000-attempt log; prints the time
	scripts/bench-sla.sh

.PHONY: bench-offers
bench-offers: ## rank a slot among 1,000,000 bookings and take 100 slots with 1,000 acceptances; prints the figures
	scripts/bench-offers.sh

.PHONY: bench-calls
bench-calls: ## hold 1,000 concurrent calls with G.711 both ways, then SIPp the same; prints the CPU ratio
	scripts/bench-calls.sh

.PHONY: bench-survey
bench-survey: ## sample a year of inbound calls (750,000) for the survey; prints the figures
	scripts/bench-survey.sh

.PHONY: probe-web
probe-web: ## send the web server oversized, slow and flooding requests; prints the figures
	scripts/probe-web.sh

.PHONY: prompts
prompts: ## regenerate the Italian voice prompts in campaigns/prompts/it (espeak-ng, sox)
	scripts/gen-prompts.sh

.PHONY: docs-report
docs-report: ## render the demo's monthly service-level report into docs/ (PDF, HTML, PNG)
	scripts/docs-report.sh

.PHONY: clean
clean: ## remove build output
	rm -rf bin
