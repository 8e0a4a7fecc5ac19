package sam

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// Component names, the first element of every state_dict key.
const (
	ComponentImageEncoder  = "image_encoder"
	ComponentPromptEncoder = "prompt_encoder"
	ComponentMaskDecoder   = "mask_decoder"
)

// CheckpointSpecs converts ParamSpecs to the checkpoint package's name/shape
// list (for checkpoint.Validate).
func CheckpointSpecs(specs []ParamSpec) []checkpoint.Spec {
	out := make([]checkpoint.Spec, len(specs))
	for i, s := range specs {
		out[i] = checkpoint.Spec{Name: s.Name, Shape: s.Shape}
	}
	return out
}

// LoadStateDict puts every tensor of sd into variables under scope (see
// VariablePath), in PyTorch's layout. sd must hold exactly ParamSpecs(cfg):
// otherwise the error names the first missing, wrongly shaped or unexpected
// tensor and nothing is loaded.
func LoadStateDict(scope *model.Scope, cfg Config, sd *checkpoint.StateDict) error {
	specs := ParamSpecs(cfg)
	if err := checkpoint.Validate(sd, CheckpointSpecs(specs)); err != nil {
		return err
	}
	return setVariables(scope, specs, sd)
}

// LoadComponents loads only the tensors of the named components
// (ComponentImageEncoder, …) from sd, ignoring the others, for example a
// pretrained image encoder under a decoder trained from scratch. Those
// components must match exactly, as in LoadStateDict.
func LoadComponents(scope *model.Scope, cfg Config, sd *checkpoint.StateDict, components ...string) error {
	if len(components) == 0 {
		return errors.New("sam.LoadComponents: no component named")
	}
	inComponents := func(name string) bool {
		for _, c := range components {
			if strings.HasPrefix(name, c+".") {
				return true
			}
		}
		return false
	}
	var specs []ParamSpec
	for _, s := range ParamSpecs(cfg) {
		if inComponents(s.Name) {
			specs = append(specs, s)
		}
	}
	if len(specs) == 0 {
		return fmt.Errorf("sam.LoadComponents: unknown components %v (want %s, %s or %s)",
			components, ComponentImageEncoder, ComponentPromptEncoder, ComponentMaskDecoder)
	}
	sub := checkpoint.NewStateDict()
	for _, name := range sd.Names() {
		if inComponents(name) {
			t, _ := sd.Get(name)
			if err := sub.Set(name, t); err != nil {
				return err
			}
		}
	}
	if err := checkpoint.Validate(sub, CheckpointSpecs(specs)); err != nil {
		return err
	}
	return setVariables(scope, specs, sub)
}

// setVariables creates or overwrites the variables of specs from sd, whose
// names and shapes have been validated.
func setVariables(scope *model.Scope, specs []ParamSpec, sd *checkpoint.StateDict) error {
	store := scope.Store()
	for _, s := range specs {
		t, _ := sd.Get(s.Name)
		value := tensors.FromFlatDataAndDimensions(t.Data, s.Shape...)
		path := VariablePath(scope, s.Name)
		if v := store.GetVariable(path); v != nil {
			if !v.Shape().Equal(value.Shape()) {
				return fmt.Errorf("variable %s exists with shape %s, checkpoint tensor %q has %v", path, v.Shape(), s.Name, s.Shape)
			}
			if err := v.SetValue(value); err != nil {
				return fmt.Errorf("variable %s: %w", path, err)
			}
			continue
		}
		if _, err := store.CreateVariable(path, value); err != nil {
			return fmt.Errorf("variable %s: %w", path, err)
		}
	}
	return nil
}

// ExportStateDict copies the model's variables under scope into a state dict
// with the official names, order and PyTorch shapes, ready for
// checkpoint.WriteSafetensors (PyTorch's load_state_dict accepts it). Every
// variable of ParamSpecs(cfg) must exist and hold a value.
func ExportStateDict(scope *model.Scope, cfg Config) (*checkpoint.StateDict, error) {
	sd := checkpoint.NewStateDict()
	store := scope.Store()
	for _, s := range ParamSpecs(cfg) {
		path := VariablePath(scope, s.Name)
		v := store.GetVariable(path)
		if v == nil {
			return nil, fmt.Errorf("sam.ExportStateDict: variable %s (tensor %q) does not exist", path, s.Name)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("sam.ExportStateDict: variable %s: %w", path, err)
		}
		if value.DType() != dtypes.Float32 {
			return nil, fmt.Errorf("sam.ExportStateDict: variable %s has dtype %s, want float32", path, value.DType())
		}
		if !value.Shape().Equal(shapeF32(s.Shape...)) {
			return nil, fmt.Errorf("sam.ExportStateDict: variable %s has shape %s, want %v", path, value.Shape(), s.Shape)
		}
		data, err := tensors.CopyFlatData[float32](value)
		if err != nil {
			return nil, fmt.Errorf("sam.ExportStateDict: variable %s: %w", path, err)
		}
		if err := sd.Set(s.Name, checkpoint.Tensor{Shape: append([]int(nil), s.Shape...), Data: data, DType: checkpoint.F32}); err != nil {
			return nil, err
		}
	}
	return sd, nil
}
