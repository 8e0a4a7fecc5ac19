package clicknet

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/synthfm/synthfm/sam/checkpoint"
)

// checkpointSpecs are the tensors a state dict of cfg must hold.
func checkpointSpecs(cfg Config) []checkpoint.Spec {
	ps := Params(cfg)
	out := make([]checkpoint.Spec, len(ps))
	for i, p := range ps {
		out[i] = checkpoint.Spec{Name: p.Name, Shape: p.Shape}
	}
	return out
}

// LoadStateDict puts every tensor of sd into the variables under scope. sd
// must hold exactly Params(cfg) (names and shapes); otherwise nothing is
// loaded and the error names the first difference.
func LoadStateDict(scope *model.Scope, cfg Config, sd *checkpoint.StateDict) error {
	if err := checkpoint.Validate(sd, checkpointSpecs(cfg)); err != nil {
		return err
	}
	store := scope.Store()
	for _, p := range Params(cfg) {
		t, _ := sd.Get(p.Name)
		value := tensors.FromFlatDataAndDimensions(append([]float32(nil), t.Data...), p.Shape...)
		path := VariablePath(scope, p.Name)
		if v := store.GetVariable(path); v != nil {
			if err := v.SetValue(value); err != nil {
				return fmt.Errorf("clicknet: variable %s: %w", path, err)
			}
			continue
		}
		if _, err := store.CreateVariable(path, value); err != nil {
			return fmt.Errorf("clicknet: %w", err)
		}
	}
	return nil
}

// ExportStateDict copies the network's variables under scope into a state
// dict (float32, names of Params).
func ExportStateDict(scope *model.Scope, cfg Config) (*checkpoint.StateDict, error) {
	sd := checkpoint.NewStateDict()
	store := scope.Store()
	for _, p := range Params(cfg) {
		v := store.GetVariable(VariablePath(scope, p.Name))
		if v == nil {
			return nil, fmt.Errorf("clicknet: no variable for %s", p.Name)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("clicknet: %s: %w", p.Name, err)
		}
		data := tensors.MustCopyFlatData[float32](value)
		if err := sd.Set(p.Name, checkpoint.Tensor{Shape: append([]int(nil), p.Shape...), Data: data, DType: checkpoint.F32}); err != nil {
			return nil, err
		}
	}
	return sd, nil
}

// InitStateDict returns freshly initialised weights of cfg (He-normal
// weights, zero biases, drawn from seed): a model that has not learned
// anything, for tests and benchmarks of the machinery around it.
func InitStateDict(backend compute.Backend, cfg Config, seed int64) (*checkpoint.StateDict, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		return nil, err
	}
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *Node) *Node { return Logits(scope, cfg, x) })
	if err != nil {
		return nil, err
	}
	s := cfg.InputSize
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(make([]float32, s*s*Channels), 1, s, s, Channels))
	if err != nil {
		return nil, err
	}
	for _, o := range out {
		o.FinalizeAll()
	}
	return ExportStateDict(store.RootScope(), cfg)
}
