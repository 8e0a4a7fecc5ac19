package synth

import (
	"errors"
	"fmt"
)

// ErrUnknownPreset is wrapped by the error of Preset and Resolve for a name
// Preset does not know (a usage error in a command).
var ErrUnknownPreset = errors.New("unknown preset")

// Resolve builds a generator configuration the one way every command does
// (generate, bench, train, demo): the named preset ("" is "default"), then
// the YAML or JSON file at path over it (fields it leaves out keep the
// preset's; "" for no file), then override (nil for none: a size given on
// the command line, a model's input size), then one validation of the
// result. Errors for a file, or for a result from a file, name the file.
func Resolve(preset, path string, override func(*Config)) (Config, error) {
	if preset == "" {
		preset = "default"
	}
	c, err := Preset(preset)
	if err != nil {
		return Config{}, err
	}
	if path != "" {
		if c, err = decodeConfigFile(path, c); err != nil {
			return Config{}, err
		}
	}
	if override != nil {
		override(&c)
	}
	if err := c.Validate(); err != nil {
		if path != "" {
			return Config{}, fmt.Errorf("config %s: %w", path, err)
		}
		return Config{}, err
	}
	return c, nil
}
