package sam

import (
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// TestLoadErrors checks that a checkpoint that does not fit the model is
// refused with a message naming the first offending tensor.
func TestLoadErrors(t *testing.T) {
	f := loadFixture(t, "tiny-a")
	copySD := func(skip string, edit func(name string, tn checkpoint.Tensor) checkpoint.Tensor) *checkpoint.StateDict {
		src := f.stateDict(t, ".safetensors")
		out := checkpoint.NewStateDict()
		for _, n := range src.Names() {
			if n == skip {
				continue
			}
			tn, _ := src.Get(n)
			if edit != nil {
				tn = edit(n, tn)
			}
			if err := out.Set(n, tn); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	missing := copySD("mask_decoder.iou_token.weight", nil)
	wrongShape := copySD("", func(n string, tn checkpoint.Tensor) checkpoint.Tensor {
		if n == "image_encoder.blocks.2.attn.rel_pos_h" {
			return checkpoint.Tensor{Shape: []int{tn.Shape[1], tn.Shape[0]}, Data: tn.Data}
		}
		return tn
	})
	unexpected := copySD("", nil)
	if err := unexpected.Set("image_encoder.blocks.9.norm1.weight", checkpoint.Tensor{Shape: []int{2}, Data: []float32{1, 2}}); err != nil {
		t.Fatal(err)
	}
	// A checkpoint of another architecture: vit_b's keys against tiny-a.
	for _, tc := range []struct {
		name string
		sd   *checkpoint.StateDict
		want []string
	}{
		{"missing", missing, []string{"mask_decoder.iou_token.weight", "missing"}},
		{"wrong shape", wrongShape, []string{"image_encoder.blocks.2.attn.rel_pos_h", "[16 7]", "[7 16]"}},
		{"unexpected", unexpected, []string{"image_encoder.blocks.9.norm1.weight", "unexpected"}},
	} {
		store := model.NewStore()
		err := LoadStateDict(store.RootScope(), f.cfg, tc.sd)
		if err == nil {
			t.Errorf("%s: load succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
		if store.NumVariables() != 0 {
			t.Errorf("%s: %d variables created by a failed load", tc.name, store.NumVariables())
		}
	}
	// LoadComponents ignores other components but checks its own.
	store := model.NewStore()
	if err := LoadComponents(store.RootScope(), f.cfg, missing, ComponentImageEncoder, ComponentPromptEncoder); err != nil {
		t.Errorf("LoadComponents(image_encoder, prompt_encoder) with a decoder tensor missing: %v", err)
	}
	if err := LoadComponents(store.RootScope(), f.cfg, missing, ComponentMaskDecoder); err == nil || !strings.Contains(err.Error(), "iou_token") {
		t.Errorf("LoadComponents(mask_decoder) with iou_token missing: error %v", err)
	}
	if err := LoadComponents(store.RootScope(), f.cfg, missing, "decoder"); err == nil {
		t.Error("LoadComponents with an unknown component must fail")
	}
}

// TestExportRoundTrip exports loaded weights, writes them as safetensors,
// reads them back and checks that names, order, shapes and values survive
// and that the reloaded model reproduces the official embedding.
func TestExportRoundTrip(t *testing.T) {
	f := loadFixture(t, "tiny-a")
	orig := f.stateDict(t, ".pth")
	store := f.loadedStore(t, ".pth")
	sd, err := ExportStateDict(store.RootScope(), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sd.Names(), orig.Names()) {
		t.Fatalf("exported names differ from the official state_dict order")
	}
	for _, n := range orig.Names() {
		a, _ := orig.Get(n)
		b, _ := sd.Get(n)
		if !reflect.DeepEqual(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) {
			t.Fatalf("tensor %s changed in export", n)
		}
	}
	path := filepath.Join(t.TempDir(), "roundtrip.safetensors")
	if err := checkpoint.WriteSafetensors(path, sd, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	back, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	store2 := model.NewStore()
	if err := LoadStateDict(store2.RootScope(), f.cfg, back); err != nil {
		t.Fatal(err)
	}
	emb, err := model.ExecOnce(newBackend(t), store2, func(scope *model.Scope, x *Node) *Node {
		return ImageEncoder(scope, f.cfg, x)
	}, tensorOf(f.npy(t, "input_preprocessed.npy")))
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "reloaded image_embedding", flat(t, emb), emb.Shape().Dimensions, f.npy(t, "image_embedding.npy"), parityTol)
}

// TestGraphUsesExactlyTheSpecs builds every graph function on an empty store
// (points, box and mask prompt, so that every branch runs) and checks that
// the variables they create are exactly ParamSpecs, with the from-scratch
// initialisation of sam-reference.md §4.7.
func TestGraphUsesExactlyTheSpecs(t *testing.T) {
	f := loadFixture(t, "tiny-pad")
	cfg := f.cfg
	backend := newBackend(t)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(42); err != nil {
		t.Fatal(err)
	}
	n := f.npy(t, "case2_point_coords.npy").shape[0]
	_, err := model.ExecOnceN(backend, store, func(scope *model.Scope, x, pts, labs, box, mask *Node) []*Node {
		emb := ImageEncoder(scope, cfg, x)
		sparse, dense := PromptEncoder(scope, cfg, pts, labs, box, mask)
		masks, iou := MaskDecoder(scope, cfg, emb, DensePositionalEncoding(scope, cfg, x.Graph()), sparse, dense)
		return []*Node{masks, iou}
	}, tensorOf(f.npy(t, "input_preprocessed.npy")),
		tensors.FromFlatDataAndDimensions(f.npy(t, "case2_point_coords.npy").data, 1, n, 2),
		tensors.FromFlatDataAndDimensions(f.npy(t, "case2_point_labels.npy").data, 1, n),
		tensors.FromFlatDataAndDimensions(f.npy(t, "case3_box.npy").data, 1, 4),
		tensorOf(f.npy(t, "case4_mask_input.npy")))
	if err != nil {
		t.Fatal(err)
	}
	var created, want []string
	for v := range store.IterVariables() {
		if !strings.HasPrefix(v.Path(), "/#") { // the store's RNG state
			created = append(created, v.Path())
		}
	}
	specs := ParamSpecs(cfg)
	for _, s := range specs {
		want = append(want, VariablePath(store.RootScope(), s.Name))
	}
	sort.Strings(created)
	sort.Strings(want)
	if !slices.Equal(created, want) {
		t.Fatalf("graph variables differ from ParamSpecs:\n got %v\nwant %v", created, want)
	}
	sd, err := ExportStateDict(store.RootScope(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkInit(t, specs, sd)
}

// checkInit tests the statistics of freshly initialised parameters.
func checkInit(t *testing.T, specs []ParamSpec, sd *checkpoint.StateDict) {
	t.Helper()
	var normal []float32
	for _, s := range specs {
		tn, _ := sd.Get(s.Name)
		switch s.Init {
		case InitZeros, InitOnes:
			want := float32(s.Init) // 0 or 1
			for _, v := range tn.Data {
				if v != want {
					t.Fatalf("%s: value %g, want all %g", s.Name, v, want)
				}
			}
		case InitNormal:
			normal = append(normal, tn.Data...)
		case InitUniformFanIn:
			bound := 1 / math.Sqrt(float64(s.FanIn))
			sum, sq := 0.0, 0.0
			for _, v := range tn.Data {
				if math.Abs(float64(v)) > bound {
					t.Fatalf("%s: value %g outside ±%g", s.Name, v, bound)
				}
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
			// For large tensors, the variance must be bound²/3 (uniform).
			if n := float64(len(tn.Data)); n >= 1000 {
				if v := sq/n - (sum/n)*(sum/n); math.Abs(v/(bound*bound/3)-1) > 0.1 {
					t.Errorf("%s: variance %g, want %g for U(±%g)", s.Name, v, bound*bound/3, bound)
				}
			}
		}
	}
	sum, sq := 0.0, 0.0
	for _, v := range normal {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(normal))
	if mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n)); math.Abs(mean) > 0.15 || math.Abs(std-1) > 0.1 {
		t.Errorf("N(0,1) parameters: mean %g, std %g over %d values", mean, std, len(normal))
	}
}

// TestInitializeVariables creates a fresh model without building a graph.
func TestInitializeVariables(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"img_size": 64, "embed_dim": 32, "depth": 2, "num_heads": 2, "window_size": 2,
		"global_attn_indexes": [1], "out_chans": 32, "prompt_embed_dim": 32, "mask_in_chans": 8, "decoder_mlp_dim": 64,
		"decoder_num_heads": 2, "iou_head_hidden_dim": 32}`))
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(seed int64) *checkpoint.StateDict {
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(seed); err != nil {
			t.Fatal(err)
		}
		if err := InitializeVariables(newBackend(t), store.RootScope(), cfg); err != nil {
			t.Fatal(err)
		}
		sd, err := ExportStateDict(store.RootScope(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return sd
	}
	a, b, c := fresh(1), fresh(1), fresh(2)
	checkInit(t, ParamSpecs(cfg), a)
	name := "mask_decoder.transformer.layers.0.self_attn.q_proj.weight"
	ta, _ := a.Get(name)
	tb, _ := b.Get(name)
	tc, _ := c.Get(name)
	if !slices.Equal(ta.Data, tb.Data) || slices.Equal(ta.Data, tc.Data) {
		t.Error("initialisation must be reproducible for a seed and differ between seeds")
	}
}
