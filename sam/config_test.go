package sam

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/synthfm/synthfm/internal/shareddata"
)

// readKeyFile parses a sam-keys file: "name<TAB>[d0, d1]<TAB>dtype" lines.
func readKeyFile(t *testing.T, path string) []ParamSpec {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var specs []ParamSpec
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 || fields[2] != "float32" {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		var shape []int
		for _, d := range strings.Split(strings.Trim(fields[1], "[]"), ",") {
			n, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil {
				t.Fatalf("%s: bad shape %q", path, fields[1])
			}
			shape = append(shape, n)
		}
		specs = append(specs, ParamSpec{Name: fields[0], Shape: shape})
	}
	return specs
}

// TestPresetKeysMatchOfficial checks names, shapes and order of the vit_b/l/h
// presets against the official state_dict key lists, and the value counts
// stated in sam-reference.md.
func TestPresetKeysMatchOfficial(t *testing.T) {
	wantValues := map[string]int{"vit_b": 93_735_728, "vit_l": 312_343_088, "vit_h": 641_090_864}
	for _, name := range []string{"vit_b", "vit_l", "vit_h"} {
		t.Run(name, func(t *testing.T) {
			cfg, err := PresetConfig(name)
			if err != nil {
				t.Fatal(err)
			}
			want := readKeyFile(t, shareddata.Path(t, "fixtures", "sam-keys", "keys_"+name+".txt"))
			got := ParamSpecs(cfg)
			if len(got) != len(want) {
				t.Errorf("%d params, official %d", len(got), len(want))
			}
			total := 0
			for i := range min(len(got), len(want)) {
				if got[i].Name != want[i].Name || !reflect.DeepEqual(got[i].Shape, want[i].Shape) {
					t.Fatalf("param %d: %s %v, official %s %v", i, got[i].Name, got[i].Shape, want[i].Name, want[i].Shape)
				}
			}
			for _, s := range got {
				total += s.Size()
			}
			if total != wantValues[name] {
				t.Errorf("%d values, want %d", total, wantValues[name])
			}
		})
	}
}

// TestFixtureConfigs loads the fixtures' JSON configs and checks the numbers
// their READMEs state.
func TestFixtureConfigs(t *testing.T) {
	a := loadFixture(t, "tiny-a")
	if a.cfg.EmbedDim != 64 || a.cfg.Depth != 4 || a.cfg.WindowSize != 4 || a.cfg.EmbeddingSize() != 8 ||
		a.cfg.LowResSize() != 32 || !reflect.DeepEqual(a.cfg.GlobalAttnIndexes, []int{1, 3}) ||
		a.cfg.LayerNormEpsDecoderTransformer != 1e-5 || a.cfg.HeadDim() != 16 {
		t.Errorf("tiny-a config read wrongly: %+v", a.cfg)
	}
	if a.cfg.IsGlobalBlock(0) || !a.cfg.IsGlobalBlock(1) {
		t.Error("tiny-a: block 0 must be windowed and block 1 global")
	}
	p := loadFixture(t, "tiny-pad")
	if p.cfg.EmbeddingSize() != 7 || p.cfg.PromptEmbedDim != 16 || p.cfg.ImgSize != 112 {
		t.Errorf("tiny-pad config read wrongly: %+v", p.cfg)
	}
	// The tiny-a weights file has 202 tensors; so must the spec list.
	if n := len(ParamSpecs(a.cfg)); n != 202 {
		t.Errorf("tiny-a: %d param specs, the fixture has 202 tensors", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ json, wantErr string }{
		{`{"embed_dims": 64}`, `unknown field "embed_dims"`},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 3}`, "not divisible by num_heads"},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 4, "img_size": 100}`, "not a multiple of patch_size"},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 4, "global_attn_indexes": [2]}`, "outside 0..1"},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 4, "out_chans": 32}`, "must equal out_chans"},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 4, "image_embedding_size": [32, 32]}`, "does not match"},
		{`{"embed_dim": 64, "depth": 2, "num_heads": 4, "encoder_activation": "silu"}`, "not supported"},
		{`{"depth": 2, "num_heads": 4}`, "embed_dim must be positive"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseConfig(%s): error %v, want one containing %q", tc.json, err, tc.wantErr)
		}
	}
	if _, err := PresetConfig("vit_x"); err == nil {
		t.Error("PresetConfig(vit_x) must fail")
	}
	// A "lite" encoder needs only its sizes; the rest are SAM's values.
	c, err := ParseConfig([]byte(`{"img_size": 256, "embed_dim": 96, "depth": 2, "num_heads": 3, "window_size": 8, "global_attn_indexes": [1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.EmbeddingSize() != 16 || c.LowResSize() != 64 || c.PromptEmbedDim != 256 || c.relPosLen(0) != 15 || c.relPosLen(1) != 31 {
		t.Errorf("lite config derived sizes wrong: %+v", c)
	}
}

// TestPaddedPromptsChooseLikeUnpadded: the mask choice counts the clicks,
// not the padding points of a model with prompt_points (the bug where a
// padded model answered one click with token 0).
func TestPaddedPromptsChooseLikeUnpadded(t *testing.T) {
	iou := []float32{0.5, 0.9, 0.2, 0.3}
	if got := BestMask(iou, PromptTokens(1, false)); got != 1 {
		t.Errorf("one click: token %d, want the best multimask token 1", got)
	}
	for _, tc := range []struct {
		clicks int
		box    bool
	}{{2, false}, {11, false}, {1, true}} {
		if got := BestMask(iou, PromptTokens(tc.clicks, tc.box)); got != 0 {
			t.Errorf("%d clicks, box %v: token %d, want 0", tc.clicks, tc.box, got)
		}
	}
}
