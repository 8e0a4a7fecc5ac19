package train

import (
	"slices"
	"strings"
	"testing"
)

// Issue 12 item 8: {"base":"tiny","model":{"depth":3}} failed with
// "embed_dim must be positive": the model block replaced the base's model
// instead of merging over it, as every other block does.
func TestParseConfigModelBlockMergesOverTheBase(t *testing.T) {
	tiny, _ := Preset("tiny")
	for _, doc := range []struct{ text, ext string }{
		{`{"base":"tiny","model":{"depth":3}}`, ".json"},
		{"base: tiny\nmodel:\n  depth: 3\n", ".yaml"},
	} {
		c, err := ParseConfig([]byte(doc.text), doc.ext)
		if err != nil {
			t.Fatalf("%s: %v", doc.text, err)
		}
		want := *tiny.Model
		want.Depth = 3
		if got := *c.Model; got.Depth != 3 || got.EmbedDim != want.EmbedDim || got.ImgSize != want.ImgSize ||
			got.DecoderMLPDim != want.DecoderMLPDim || !slices.Equal(got.GlobalAttnIndexes, want.GlobalAttnIndexes) {
			t.Errorf("%s: model %+v, want tiny's with depth 3", doc.text, got)
		}
	}
	// The base preset is left as it was (the merge copies its slices).
	c, err := ParseConfig([]byte(`{"base":"tiny","model":{"global_attn_indexes":[0]}}`), ".json")
	if err != nil || !slices.Equal(c.Model.GlobalAttnIndexes, []int{0}) {
		t.Fatalf("global_attn_indexes [0]: %v %+v", err, c.Model)
	}
	if again, _ := Preset("tiny"); !slices.Equal(again.Model.GlobalAttnIndexes, tiny.Model.GlobalAttnIndexes) {
		t.Errorf("tiny's global_attn_indexes became %v", again.Model.GlobalAttnIndexes)
	}
	// Over a preset architecture (the paper's vit_b), the block merges
	// over that preset.
	c, err = ParseConfig([]byte(`{"base":"paper","model":{"depth":3,"global_attn_indexes":[2]}}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := c.SAM(); m.Depth != 3 || m.EmbedDim != 768 || m.ImgSize != 1024 {
		t.Errorf("paper with depth 3: %+v", m)
	}
	// Unknown keys in the block are still an error.
	if _, err := ParseConfig([]byte(`{"base":"tiny","model":{"depht":3}}`), ".json"); err == nil {
		t.Error("unknown model key accepted")
	}
}

// Issue 12 item 7: no per-sample loop is unbounded in the number of
// clicks.
func TestParseConfigBoundsTheClicks(t *testing.T) {
	for _, doc := range []string{
		`{"base":"tiny","prompts":{"max_positive":1000000}}`,
		`{"base":"tiny","prompts":{"max_negative":21}}`,
		`{"base":"tiny","prompts":{"refine_rounds":1000}}`,
	} {
		if _, err := ParseConfig([]byte(doc), ".json"); err == nil || !strings.Contains(err.Error(), "at most 20") {
			t.Errorf("%s: %v", doc, err)
		}
	}
	if _, err := ParseConfig([]byte(`{"base":"tiny","prompts":{"max_positive":20,"max_negative":20,"refine_rounds":20}}`), ".json"); err != nil {
		t.Errorf("the limit itself: %v", err)
	}
}
