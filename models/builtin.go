package models

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"

	"github.com/synthfm/synthfm/clicknet"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// The built-in model: clicknet weights in half precision, their
// architecture, and the provenance (command, recipe, seed, commit, training
// log) that reproduces them, in builtin/README.md.
//
//go:embed builtin
var builtinFS embed.FS

const (
	builtinWeightsFile = "builtin/clicknet.safetensors"
	builtinConfigFile  = "builtin/clicknet.json"
)

// ErrNoBuiltin is returned when this build carries no built-in model.
var ErrNoBuiltin = errors.New("this build has no built-in model: give a weights file (--model FILE)")

// HasBuiltin reports whether this build carries a built-in model.
func HasBuiltin() bool {
	_, err := fs.Stat(builtinFS, builtinWeightsFile)
	return err == nil
}

// BuiltinProvenance returns builtin/README.md: how the built-in weights were
// produced.
func BuiltinProvenance() string {
	b, _ := builtinFS.ReadFile("builtin/README.md")
	return string(b)
}

// loadBuiltin loads the embedded clicknet model.
func loadBuiltin() (*Loaded, error) {
	raw, err := builtinFS.ReadFile(builtinWeightsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoBuiltin
	}
	if err != nil {
		return nil, err
	}
	cfgJSON, err := builtinFS.ReadFile(builtinConfigFile)
	if err != nil {
		return nil, err
	}
	cfg, err := clicknet.ParseConfig(cfgJSON)
	if err != nil {
		return nil, err
	}
	sd, err := checkpoint.ReadFrom(bytes.NewReader(raw), int64(len(raw)), builtinWeightsFile)
	if err != nil {
		return nil, err
	}
	l, err := loadClicknet(sd, cfg, "synthfm-"+cfg.Name, "built-in "+cfg.Name+" model")
	if err != nil {
		return nil, err
	}
	return l, nil
}
