// Package manifests embeds the evaluation manifests kept in the repository,
// one per folder of the shared evaluation data (see docs/evaluation.md).
package manifests

import (
	"embed"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/synthfm/synthfm/dataset"
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

// Open resolves one --data argument: a manifest file (.yaml, .yml)
// resolved against root, a folder of image/mask pairs (zero-configuration
// form, paths relative to the folder), or the name of a built-in manifest
// resolved against root.
func Open(spec, root string) (*dataset.Dataset, error) {
	if st, err := os.Stat(spec); err == nil {
		if st.IsDir() {
			m, err := dataset.FromFolder(spec)
			if err != nil {
				return nil, err
			}
			return dataset.New(m, spec)
		}
		return dataset.Open(spec, root)
	}
	if strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml") {
		return nil, fmt.Errorf("manifest %s not found", spec)
	}
	data, err := Read(spec)
	if err != nil {
		return nil, err
	}
	m, err := dataset.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("built-in manifest %s: %w", spec, err)
	}
	return dataset.New(m, root)
}
