package sam

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// parityTol is the tolerance relative to each output's scale (issue 3: max
// abs error ≤ 1e-4 × the output's scale).
const parityTol = 1e-4

func tensorOf(a array) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(a.data, a.shape...)
}

func flat(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEncoderParity runs the image encoder from the fixture's preprocessed
// input and compares every recorded stage, for both weight files; with the
// .safetensors weights the attention runs in one chunk per head (vit_b's
// global blocks use 3 chunks, the tiny models 1).
func TestEncoderParity(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		for _, ext := range []string{".pth", ".safetensors"} {
			chunkBytes := attentionChunkBytes
			if ext == ".safetensors" {
				chunkBytes = 1
			}
			t.Run(name+ext, func(t *testing.T) {
				f := loadFixture(t, name)
				store := f.loadedStore(t, ext)
				backend := newBackend(t)
				exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) []*Node {
					emb, st := imageEncoderChunked(scope, f.cfg, x, chunkBytes)
					outs := []*Node{nhwcToNCHW(emb), st.patchEmbed}
					outs = append(outs, st.blocks...)
					for _, n := range st.neck {
						outs = append(outs, nhwcToNCHW(n))
					}
					return outs
				})
				if err != nil {
					t.Fatal(err)
				}
				outs, err := exec.Exec(tensorOf(f.npy(t, "input_preprocessed.npy")))
				if err != nil {
					t.Fatal(err)
				}
				check := func(what string, out *tensors.Tensor, file string) {
					assertClose(t, what, flat(t, out), out.Shape().Dimensions, f.npy(t, file), parityTol)
				}
				check("image_embedding", outs[0], "image_embedding.npy")
				check("patch_embed", outs[1], "enc_patch_embed.npy")
				for i := range f.cfg.Depth {
					check(fmt.Sprintf("block %d", i), outs[2+i], fmt.Sprintf("enc_block_%d.npy", i))
				}
				for j := range 4 {
					check(fmt.Sprintf("neck %d", j), outs[2+f.cfg.Depth+j], fmt.Sprintf("enc_neck_%d.npy", j))
				}
			})
		}
	}
}

// promptInputs are one fixture case's prompts as graph inputs.
type promptInputs struct {
	points, labels, box, mask *tensors.Tensor
}

func (f fixture) caseInputs(t testing.TB, k int) promptInputs {
	var in promptInputs
	pre := fmt.Sprintf("case%d_", k)
	if f.has(pre + "point_coords.npy") {
		pts := f.npy(t, pre+"point_coords.npy")
		n := pts.shape[0]
		in.points = tensors.FromFlatDataAndDimensions(pts.data, 1, n, 2)
		in.labels = tensors.FromFlatDataAndDimensions(f.npy(t, pre+"point_labels.npy").data, 1, n)
	}
	if f.has(pre + "box.npy") {
		in.box = tensors.FromFlatDataAndDimensions(f.npy(t, pre+"box.npy").data, 1, 4)
	}
	if f.has(pre + "mask_input.npy") {
		in.mask = tensorOf(f.npy(t, pre+"mask_input.npy"))
	}
	return in
}

// args lists the non-nil inputs in order and a function that maps graph
// nodes back to (points, labels, box, mask) with nils where absent.
func (in promptInputs) args() ([]any, func([]*Node) (pts, labs, box, mask *Node)) {
	var args []any
	var present [4]bool
	for i, x := range []*tensors.Tensor{in.points, in.labels, in.box, in.mask} {
		if x != nil {
			args = append(args, x)
			present[i] = true
		}
	}
	return args, func(nodes []*Node) (pts, labs, box, mask *Node) {
		out := make([]*Node, 4)
		j := 0
		for i := range 4 {
			if present[i] {
				out[i] = nodes[j]
				j++
			}
		}
		return out[0], out[1], out[2], out[3]
	}
}

// TestPromptEncoderParity checks the sparse and dense prompt embeddings of
// every case, and the dense positional encoding.
func TestPromptEncoderParity(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			store := f.loadedStore(t, ".safetensors")
			backend := newBackend(t)
			pe, err := model.ExecOnce(backend, store, func(scope *model.Scope, g *Graph) *Node {
				return DensePositionalEncoding(scope, f.cfg, g)
			})
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "image_pe", flat(t, pe), pe.Shape().Dimensions, f.npy(t, "image_pe.npy"), parityTol)
			for k := 1; k <= 4; k++ {
				in := f.caseInputs(t, k)
				args, unpack := in.args()
				outs, err := model.ExecOnceN(backend, store, func(scope *model.Scope, nodes []*Node) []*Node {
					pts, labs, box, mask := unpack(nodes)
					sparse, dense := PromptEncoder(scope, f.cfg, pts, labs, box, mask)
					return []*Node{sparse, dense}
				}, args...)
				if err != nil {
					t.Fatal(err)
				}
				assertClose(t, fmt.Sprintf("case %d sparse", k), flat(t, outs[0]), outs[0].Shape().Dimensions, f.npy(t, fmt.Sprintf("case%d_sparse_embeddings.npy", k)), parityTol)
				assertClose(t, fmt.Sprintf("case %d dense", k), flat(t, outs[1]), outs[1].Shape().Dimensions, f.npy(t, fmt.Sprintf("case%d_dense_embeddings.npy", k)), parityTol)
			}
		})
	}
}

// TestMaskDecoderParity runs the mask decoder from the stored embeddings of
// each case and compares the transformer outputs, the upscaled embedding,
// the hypernetwork outputs, the logits of all mask tokens and the IoU
// predictions.
func TestMaskDecoderParity(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			store := f.loadedStore(t, ".pth")
			backend := newBackend(t)
			emb, pe := tensorOf(f.npy(t, "image_embedding.npy")), tensorOf(f.npy(t, "image_pe.npy"))
			exec, err := model.NewExec(backend, store, func(scope *model.Scope, emb, pe, sparse, dense *Node) []*Node {
				st := maskDecoderStages(scope, f.cfg, emb, pe, sparse, dense)
				return []*Node{st.hs, st.src, st.upscaled, st.hyperIn, st.masks, st.iou}
			})
			if err != nil {
				t.Fatal(err)
			}
			for k := 1; k <= 4; k++ {
				pre := fmt.Sprintf("case%d_", k)
				outs, err := exec.Exec(emb, pe, tensorOf(f.npy(t, pre+"sparse_embeddings.npy")), tensorOf(f.npy(t, pre+"dense_embeddings.npy")))
				if err != nil {
					t.Fatal(err)
				}
				for i, file := range []string{"dec_transformer_hs", "dec_transformer_src", "dec_upscaled_embedding", "dec_hyper_in", "all_low_res_logits", "all_iou_predictions"} {
					assertClose(t, pre+file, flat(t, outs[i]), outs[i].Shape().Dimensions, f.npy(t, pre+file+".npy"), parityTol)
				}
			}
		})
	}
}

// casesIndex is the part of cases_<name>.json the tests use.
type casesIndex struct {
	OriginalSizeHW []int `json:"original_size_hw"`
	InputSizeHW    []int `json:"input_size_hw"`
	Cases          []struct {
		ID                 int `json:"id"`
		MaskInputBestIndex int `json:"mask_input_best_index"`
	} `json:"cases"`
}

func (f fixture) index(t testing.TB) casesIndex {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.dir, "cases_"+f.name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx casesIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// TestPostprocessParity maps the stored low-res logits of all mask tokens to
// the original image size (SelectMasks + PostprocessMasks) and compares with
// SamPredictor.predict's outputs, single- and multimask; binary masks must
// agree except where |logit| < 1e-3.
func TestPostprocessParity(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		t.Run(name, func(t *testing.T) {
			f := loadFixture(t, name)
			idx := f.index(t)
			backend := newBackend(t)
			store := model.NewStore()
			for k := 1; k <= 4; k++ {
				pre := fmt.Sprintf("case%d_", k)
				all := tensorOf(f.npy(t, pre+"all_low_res_logits.npy"))
				iou := tensorOf(f.npy(t, pre+"all_iou_predictions.npy"))
				for _, multi := range []bool{true, false} {
					outs, err := model.ExecOnceN(backend, store, func(scope *model.Scope, lowRes, iou *Node) []*Node {
						lr, io := SelectMasks(lowRes, iou, multi)
						return []*Node{PostprocessMasks(f.cfg, lr, idx.InputSizeHW[0], idx.InputSizeHW[1], idx.OriginalSizeHW[0], idx.OriginalSizeHW[1]), lr, io}
					}, all, iou)
					if err != nil {
						t.Fatal(err)
					}
					kind := map[bool]string{true: "multi_", false: "single_"}[multi]
					want := f.npy(t, pre+kind+"masks_logits.npy")
					got := flat(t, outs[0])
					assertClose(t, pre+kind+"masks_logits", got, outs[0].Shape().Dimensions, want, parityTol)
					assertClose(t, pre+kind+"low_res_logits", flat(t, outs[1]), outs[1].Shape().Dimensions, f.npy(t, pre+kind+"low_res_logits.npy"), 0)
					assertClose(t, pre+kind+"iou_predictions", flat(t, outs[2]), outs[2].Shape().Dimensions, f.npy(t, pre+kind+"iou_predictions.npy"), 0)
					for i, w := range want.data {
						if (got[i] > 0) != (w > 0) && math.Abs(float64(w)) >= 1e-3 {
							t.Errorf("%s: binary mask differs at %d (logit %g, official %g)", pre+kind, i, got[i], w)
							break
						}
					}
				}
			}
		})
	}
}

// TestBestMask checks SAM's selection rule on the fixtures: case 4's mask
// prompt is case 1's multimask output at the recorded best index.
func TestBestMask(t *testing.T) {
	for _, name := range []string{"tiny-a", "tiny-pad"} {
		f := loadFixture(t, name)
		idx := f.index(t)
		iou := f.npy(t, "case1_all_iou_predictions.npy").data
		best := BestMask(iou, 2) // one click + padding point
		if want := idx.Cases[3].MaskInputBestIndex + 1; best != want {
			t.Errorf("%s: BestMask = token %d, the fixture used multimask index %d (token %d)", name, best, want-1, want)
		}
		// The fed-back mask is that token's low-res logits.
		all := f.npy(t, "case1_all_low_res_logits.npy")
		in := f.npy(t, "case4_mask_input.npy")
		l := f.cfg.LowResSize()
		assertClose(t, name+" case4 mask input", all.data[best*l*l:(best+1)*l*l], []int{l, l}, in, 0)
	}
	// Several prompt tokens: token 0 whatever the IoUs.
	if got := BestMask([]float32{-5, 1, 2, 3}, 3); got != 0 {
		t.Errorf("BestMask with 3 tokens = %d, want 0", got)
	}
	if got := BestMask([]float32{9, 0.1, 0.7, 0.2}, 2); got != 2 {
		t.Errorf("BestMask with 2 tokens = %d, want 2 (token 0 is never chosen for one click)", got)
	}
}
