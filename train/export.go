package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"
	gomlxcheckpoint "github.com/gomlx/gomlx/ml/model/checkpoint"

	"github.com/synthfm/synthfm/internal/atomicfile"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

// modelStore gathers the model's SAM parameters from its stores (the
// trained one and the frozen encoder's) into one store holding only them,
// sharing their values: the form sam.ExportStateDict and GoMLX's
// checkpoint writer read.
func (m *Model) modelStore() (*model.Store, error) {
	out := model.NewStore()
	for _, s := range []*model.Store{m.Store, m.Encoder} {
		if s == nil {
			continue
		}
		for v := range s.IterVariables() {
			if IsOptimizerState(v.Path()) || len(v.Name()) > 0 && v.Name()[0] == '#' {
				continue
			}
			value, err := v.Value()
			if err != nil {
				return nil, fmt.Errorf("export: variable %s: %w", v.Path(), err)
			}
			if _, err := out.CreateVariable(v.Path(), value); err != nil {
				return nil, fmt.Errorf("export: %w", err)
			}
		}
	}
	return out, nil
}

// ExportSafetensors writes the model's weights with the official SAM
// state_dict names and PyTorch layouts (loadable by segment-anything's
// sam.load_state_dict after safetensors.torch.load_file), and its
// architecture as JSON next to it (<name>.json, sam.LoadConfig's format).
func (m *Model) ExportSafetensors(path string, metadata map[string]string) error {
	store, err := m.modelStore()
	if err != nil {
		return err
	}
	sd, err := sam.ExportStateDict(store.RootScope(), m.Config)
	if err != nil {
		return err
	}
	if err := checkpoint.WriteSafetensors(path, sd, metadata); err != nil {
		return err
	}
	return m.writeModelConfig(path[:len(path)-len(filepath.Ext(path))] + ".json")
}

// ExportGoMLX writes the model's weights (no optimiser state) in GoMLX's
// checkpoint format into dir, loadable with checkpoint.Load(store).Dir(dir),
// with the architecture in dir/model.json. The directory is written under
// a temporary name and then swapped in, because GoMLX's checkpoint handler
// would first load any checkpoint already in dir into the store.
func (m *Model) ExportGoMLX(dir string) error {
	store, err := m.modelStore()
	if err != nil {
		return err
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	h, err := gomlxcheckpoint.Build(store).Dir(tmp).Keep(1).Done()
	if err != nil {
		return fmt.Errorf("export GoMLX checkpoint: %w", err)
	}
	if err := h.Save(); err != nil {
		return fmt.Errorf("export GoMLX checkpoint: %w", err)
	}
	if err := m.writeModelConfig(filepath.Join(tmp, ModelConfig)); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func (m *Model) writeModelConfig(path string) error {
	data, err := json.MarshalIndent(m.Config, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, atomicfile.Durable, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// export writes the current weights to path (SAM names); final also writes
// the GoMLX checkpoint.
func (r *run) export(path string, final bool) error {
	meta := map[string]string{
		"synthfm_recipe": r.cfg.Name,
		"synthfm_step":   fmt.Sprint(r.progress.Step),
	}
	if err := r.model.ExportSafetensors(path, meta); err != nil {
		return err
	}
	if final {
		return r.model.ExportGoMLX(filepath.Join(r.opts.OutDir, GoMLXDir))
	}
	return nil
}
