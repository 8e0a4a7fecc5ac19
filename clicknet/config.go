// Package clicknet is the click-conditioned segmentation network that
// learns on a CPU: a small UNet whose input channels carry the image, the
// positive and negative clicks, an optional box and the previous prediction
// (early fusion, as RITM, ScribblePrompt and nnInteractive do), so one
// forward pass answers one prompt.
package clicknet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Family names this model family in config files and sidecars.
const Family = "clicknet"

// Input channels, in order (channels-last).
const (
	ChImage    = iota // image, standardised over the valid region
	ChPositive        // positive click disks
	ChNegative        // negative click disks
	ChPrevious        // previous prediction, 0/1 (all 0 when none)
	ChBox             // 1 inside the box prompt (all 0 without one)
	ChValid           // 1 on the image, 0 on the padding
	Channels
)

// Config is the architecture of a clicknet model.
type Config struct {
	Family string `json:"family"` // always "clicknet"
	Name   string `json:"name"`
	// InputSize is the side of the square input: the image's longest side
	// is resized to it and the rest padded.
	InputSize int `json:"input_size"`
	// Patch is the stem's space-to-depth factor: the UNet works on
	// (InputSize/Patch)² cells of Patch×Patch pixels, and the head predicts
	// each cell's Patch² pixel logits (pixel shuffle). Fewer, wider cells
	// keep the matmuls large and the memory traffic small on a CPU.
	Patch int `json:"patch"`
	// Widths are the channels of each UNet level, finest first; each level
	// halves the resolution. InputSize must divide by Patch·2^(len(Widths)-1).
	Widths []int `json:"widths"`
	// ClickRadius is the radius of a click's disk, in input pixels.
	ClickRadius float64 `json:"click_radius"`
}

// Presets are the named architectures.
func Presets() map[string]Config {
	return map[string]Config{
		"clicknet-xs": {Family: Family, Name: "clicknet-xs", InputSize: 128, Patch: 4, Widths: []int{32, 64, 96}, ClickRadius: 3},
		"clicknet-s":  {Family: Family, Name: "clicknet-s", InputSize: 128, Patch: 4, Widths: []int{64, 96, 128}, ClickRadius: 3},
		"clicknet-m":  {Family: Family, Name: "clicknet-m", InputSize: 128, Patch: 4, Widths: []int{64, 128, 192, 256}, ClickRadius: 3},
		"clicknet-p2": {Family: Family, Name: "clicknet-p2", InputSize: 128, Patch: 2, Widths: []int{32, 64, 96, 128}, ClickRadius: 3},
	}
}

// Preset returns a named architecture.
func Preset(name string) (Config, error) {
	c, ok := Presets()[name]
	if !ok {
		return Config{}, fmt.Errorf("clicknet: no preset %q (have clicknet-xs, clicknet-s, clicknet-m, clicknet-p2)", name)
	}
	return c, nil
}

// Validate reports the first inconsistent setting.
func (c Config) Validate() error {
	if c.Family != Family {
		return fmt.Errorf("clicknet: family %q, want %q", c.Family, Family)
	}
	if len(c.Widths) < 1 || len(c.Widths) > 6 {
		return fmt.Errorf("clicknet: %d levels, want 1..6", len(c.Widths))
	}
	for _, w := range c.Widths {
		if w < 1 || w > 1024 {
			return fmt.Errorf("clicknet: level width %d out of 1..1024", w)
		}
	}
	if c.Patch < 1 || c.Patch > 16 {
		return fmt.Errorf("clicknet: patch %d out of 1..16", c.Patch)
	}
	step := c.Patch << (len(c.Widths) - 1)
	if c.InputSize < step || c.InputSize > 1024 || c.InputSize%step != 0 {
		return fmt.Errorf("clicknet: input size %d must be in %d..1024 and divide by %d", c.InputSize, step, step)
	}
	if c.ClickRadius <= 0 || c.ClickRadius > float64(c.InputSize)/4 {
		return fmt.Errorf("clicknet: click radius %g out of (0, %d]", c.ClickRadius, c.InputSize/4)
	}
	return nil
}

// LoadConfig reads a config JSON file (a model's sidecar) and validates it.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(b)
}

// ParseConfig decodes and validates a config JSON document.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("clicknet config: %w", err)
	}
	if c.Family == "" {
		return Config{}, errors.New("clicknet config: no \"family\" field")
	}
	return c, c.Validate()
}

// IsConfig reports whether a config JSON document is of this family.
func IsConfig(b []byte) bool {
	var probe struct {
		Family string `json:"family"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Family == Family
}
