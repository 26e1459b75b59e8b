package cano

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEverySymbolIsWrapped checks that every symbol of the C ABI (abi/symbols.txt) is called
// as C.<symbol> somewhere in the package's own (non-test) Go files, so that the binding never
// falls behind the library.
func TestEverySymbolIsWrapped(t *testing.T) {
	path := os.Getenv("CANO_SYMBOLS_FILE")
	if path == "" {
		path = filepath.Join("..", "..", "abi", "symbols.txt")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no symbol list (%v); set CANO_SYMBOLS_FILE", err)
	}
	defer f.Close()
	var symbols []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		symbols = append(symbols, fields[0])
	}
	must(t, scanner.Err())
	if len(symbols) < 50 {
		t.Fatalf("only %d symbols read from %s", len(symbols), path)
	}

	files, err := filepath.Glob("*.go")
	must(t, err)
	var source strings.Builder
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		text, err := os.ReadFile(name)
		must(t, err)
		source.Write(text)
	}
	all := source.String()
	var missing []string
	for _, sym := range symbols {
		if !regexp.MustCompile(`\bC\.` + regexp.QuoteMeta(sym) + `\b`).MatchString(all) {
			missing = append(missing, sym)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d C symbols are not referenced as C.<symbol>: %s",
			len(missing), len(symbols), strings.Join(missing, ", "))
	}
	t.Logf("all %d symbols of %s are wrapped", len(symbols), path)
}
