// Package manifests embeds the evaluation manifests kept in the repository,
// one per folder of the shared evaluation data (see docs/evaluation.md).
package manifests

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names returns the embedded manifest names (file names without .yaml).
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Read returns the YAML of the named manifest.
func Read(name string) ([]byte, error) {
	data, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in manifest %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return data, nil
}
