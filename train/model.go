package train

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// Model is the network being trained and the GoMLX stores that hold it.
// Every variable is named by its SAM state_dict key (see StateDictKey).
type Model struct {
	Config sam.Config
	// Store holds the trained parameters and the optimiser state, and the
	// image encoder too when it is trained.
	Store *model.Store
	// Encoder holds the frozen image encoder, or is nil when the encoder
	// trains with the rest. A separate store lets the encoder run in a
	// background goroutine while the decoder step updates Store.
	Encoder *model.Store
}

// newModel prepares the stores of a recipe: the frozen encoder's weights are
// read from cfg.EncoderCheckpoint (when given); every other parameter is
// created with SAM's PyTorch-like initialiser, drawn from seed, the first
// time a graph uses it.
func newModel(cfg Config) (*Model, error) {
	samCfg, err := cfg.SAM()
	if err != nil {
		return nil, err
	}
	m := &Model{Config: samCfg, Store: model.NewStore()}
	if err := m.Store.SetRNGStateFromSeed(int64(cfg.Data.Seed)); err != nil {
		return nil, err
	}
	if cfg.FreezeEncoder {
		m.Encoder = model.NewStore()
		if err := m.Encoder.SetRNGStateFromSeed(int64(cfg.Data.Seed) + 1); err != nil {
			return nil, err
		}
	}
	if cfg.EncoderCheckpoint != "" {
		sd, err := checkpoint.Read(cfg.EncoderCheckpoint)
		if err != nil {
			return nil, fmt.Errorf("encoder checkpoint: %w", err)
		}
		target := m.Store
		if m.Encoder != nil {
			target = m.Encoder
		}
		if err := sam.LoadComponents(target.RootScope(), samCfg, sd, sam.ComponentImageEncoder); err != nil {
			return nil, fmt.Errorf("encoder checkpoint %s: %w", cfg.EncoderCheckpoint, err)
		}
	}
	return m, nil
}

// trainable reports whether the variable at a store path is optimised: the
// SAM parameters, except the frozen encoder's (which live in another
// store) and the prompt encoder's Fourier matrix, a fixed buffer in SAM.
func trainable(path string) bool {
	key := StateDictKey(path)
	switch {
	case IsOptimizerState(path), strings.HasPrefix(key, "#"):
		return false
	case key == "prompt_encoder.pe_layer.positional_encoding_gaussian_matrix":
		return false
	}
	return true
}

// decodeGraph runs the prompt encoder and mask decoder on image embeddings
// [B, C, E, E] with points [B, N, 2], labels [B, N] and an optional
// low-resolution mask prompt [B, 1, 4E, 4E]; it returns all mask tokens'
// logits [B, M, 4E, 4E] and IoU predictions [B, M].
func decodeGraph(scope *model.Scope, cfg sam.Config, emb, points, labels, maskInput *Node) (lowRes, iou *Node) {
	sparse, dense := sam.PromptEncoder(scope, cfg, points, labels, nil, maskInput)
	pe := sam.DensePositionalEncoding(scope, cfg, emb.Graph())
	return sam.MaskDecoder(scope, cfg, emb, pe, sparse, dense)
}

// selectForClicks picks, per sample, the mask SAM's predictor returns: for
// one click (ambiguous) the multimask token (1..M−1) with the highest
// predicted IoU, otherwise token 0. multimask [B] is 1 for one click.
// It returns the chosen logits [B, h, w].
func selectForClicks(lowRes, iou, multimask *Node) *Node {
	g := lowRes.Graph()
	m := lowRes.Shape().Dim(1)
	multiIoU := Slice(iou, AxisRange(), AxisRange(1, m))
	best := AddScalar(ArgMax(multiIoU, 1, dtypes.Int32), 1) // [B]
	multi := GreaterThan(multimask, ZerosLike(multimask))
	idx := Where(multi, best, Zeros(g, best.Shape()))
	oneHot := OneHot(idx, m, lowRes.DType()) // [B, M]
	return Einsum("bm,bmhw->bhw", oneHot, lowRes)
}

// variablesInUse lists the trainable variables of store that graph g reads.
func variablesInUse(store *model.Store, g *Graph) []*model.Variable {
	var vars []*model.Variable
	for v := range store.IterVariables() {
		if trainable(v.Path()) && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	return vars
}
