//go:build amd64 && !amd64.v3

// Pinned on amd64 without fused multiply-add (GOAMD64 v1/v2), the only
// builds whose float arithmetic is specified bit for bit (see Sample).

package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// pinnedVersion is the GeneratorVersion the hashes below were made with.
const pinnedVersion = "2026-12-05 target-size rule (method.md §2b)"

// pinnedSamples are SHA-256 hashes of image and mask bytes (image first)
// of a few 64×64 samples per preset.
var pinnedSamples = []struct {
	preset string
	seed   uint64
	index  int
	sha256 string
}{
	{"default", 1, 0, "488e4e33ce2591ef959c9098410ddbad178769668280ec2112ec16719d4b04fc"},
	{"default", 1, 7, "a0eacd102515cb320cfeb187b16e3efcfcb94c89b9088737849f5a15d8c95765"},
	{"default", 42, 3, "f5380e01d445c1a9f84cb5d0dc453d91621cba7607a44b7815275f76c9abcf44"},
	{"shape-only", 1, 0, "375817b9b1599a6421f86f62224f1e1de77e54bdb657d173efa5b42c54c65983"},
	{"shape-only", 1, 7, "0910470f2520125ed021670ee72f5af5f2403c2abcc656e6dd5347fd99a33998"},
	{"shape-only", 42, 3, "f5380e01d445c1a9f84cb5d0dc453d91621cba7607a44b7815275f76c9abcf44"},
	{"boundary-only", 1, 0, "488e4e33ce2591ef959c9098410ddbad178769668280ec2112ec16719d4b04fc"},
	{"boundary-only", 1, 7, "a0eacd102515cb320cfeb187b16e3efcfcb94c89b9088737849f5a15d8c95765"},
	{"boundary-only", 42, 3, "99af3d50de660d9612cd86f34487b47663ae91a95cba64c23f70ab2399b8cc69"},
}

// TestPinnedSamples notices any change to the generator's output. When it
// fails on purpose (a new noise type, another draw order, a new default),
// follow the bump rule of GeneratorVersion: change the version, then set
// pinnedVersion and the hashes to the new ones the failure prints.
func TestPinnedSamples(t *testing.T) {
	if pinnedVersion != GeneratorVersion {
		t.Errorf("GeneratorVersion is %q but the pinned hashes are of %q: update pinnedVersion and the hashes together", GeneratorVersion, pinnedVersion)
	}
	gens := map[string]*Generator{}
	for _, p := range pinnedSamples {
		g := gens[p.preset]
		if g == nil {
			c, err := Resolve(p.preset, "", func(c *Config) { c.Size = 64 })
			if err != nil {
				t.Fatal(err)
			}
			if g, err = NewGenerator(c); err != nil {
				t.Fatal(err)
			}
			gens[p.preset] = g
		}
		s, err := g.Sample(p.seed, p.index)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		h.Write(s.Image.Pix)
		h.Write(s.Mask.Pix)
		if got := hex.EncodeToString(h.Sum(nil)); got != p.sha256 {
			t.Errorf("%s sample (seed %d, index %d) changed: sha256 %s, pinned %s; if intended, bump GeneratorVersion (synth/version.go) and re-pin",
				p.preset, p.seed, p.index, got, p.sha256)
		}
	}
}
