package models

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"

	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// The built-in model: weights in half precision with SAM's state_dict names,
// their architecture, and the provenance (command, config, seed, commit)
// that reproduces them, in builtin/README.md.
//
//go:embed builtin
var builtinFS embed.FS

const (
	builtinWeightsFile = "builtin/synthfm-lite.safetensors"
	builtinConfigFile  = "builtin/synthfm-lite.json"
)

// ErrNoBuiltin is returned when this build carries no built-in model.
var ErrNoBuiltin = errors.New("this build has no built-in model: give a checkpoint (SAM weights, .pth or .safetensors)")

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

func builtinWeights() (*checkpoint.StateDict, sam.Config, error) {
	raw, err := builtinFS.ReadFile(builtinWeightsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sam.Config{}, ErrNoBuiltin
	}
	if err != nil {
		return nil, sam.Config{}, err
	}
	cfgJSON, err := builtinFS.ReadFile(builtinConfigFile)
	if err != nil {
		return nil, sam.Config{}, err
	}
	cfg, err := sam.ParseConfig(cfgJSON)
	if err != nil {
		return nil, sam.Config{}, err
	}
	sd, err := checkpoint.ReadFrom(bytes.NewReader(raw), int64(len(raw)), builtinWeightsFile)
	if err != nil {
		return nil, sam.Config{}, err
	}
	return sd, cfg, nil
}
