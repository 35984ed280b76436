# Go test programs (tests/go/NAME/), built static with Debian's golang-go
# (CGO_ENABLED=0); skipped when Go is not installed.
GO ?= $(shell command -v go 2>/dev/null)
GO_PROGRAMS := $(patsubst tests/go/%/main.go,$(BUILD)/tests/go/%,$(wildcard tests/go/*/main.go))

$(BUILD)/tests/go/%: tests/go/%/main.go tests/go/%/go.mod
	@mkdir -p $(dir $@)
	$(call msg,GO,$@)
	$(Q)if [ -n "$(GO)" ]; then cd tests/go/$* && CGO_ENABLED=0 GOCACHE=$(abspath $(BUILD))/go-cache \
		GOFLAGS=-mod=mod GO111MODULE=on $(GO) build -trimpath -o $(abspath $@) . ; \
		else echo "go not installed: skipping $@"; fi

go-programs: $(GO_PROGRAMS)
