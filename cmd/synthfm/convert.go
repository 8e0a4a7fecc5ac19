package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/synthfm/synthfm/models"
	"github.com/synthfm/synthfm/sam"
	"github.com/synthfm/synthfm/sam/checkpoint"
)

const convertHelp = `
Converts model weights: reads a .pth (as torch.save wrote it) or .safetensors
file and writes .safetensors with the same state_dict names, in float32 or
half precision (f16 halves the file; values beyond its range are refused).
The architecture is checked first (--model-config, else the .json beside the
input, else vit_b/l/h recognised), so a converted file always loads, and the
architecture JSON is written beside the output.

Examples:
  synthfm convert --in sam_vit_b_01ec64.pth --out sam_vit_b.safetensors
  synthfm convert --in runs/lite/best.safetensors --out lite-f16.safetensors --dtype f16`

func runConvert(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "convert", "--in F --out F.safetensors [--dtype f32|f16] [--model-config C]", convertHelp)
	in := fs.String("in", "", "weights to read: .pth or .safetensors (required)")
	out := fs.String("out", "", "safetensors file to write (required)")
	dtype := fs.String("dtype", "f32", "element type written: f32 or f16")
	modelConfig := fs.String("model-config", "", "architecture: vit_b, vit_l, vit_h or a JSON config (default: the .json beside --in, else recognised)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	switch {
	case *in == "":
		return usageError{"--in is required"}
	case *out == "":
		return usageError{"--out is required"}
	case !strings.HasSuffix(*out, ".safetensors"):
		return usageError{"--out must end in .safetensors"}
	}
	dt := checkpoint.DType(strings.ToUpper(*dtype))
	if dt != checkpoint.F32 && dt != checkpoint.F16 {
		return usageError{fmt.Sprintf("--dtype must be f32 or f16, got %q", *dtype)}
	}
	sd, err := checkpoint.Read(*in)
	if err != nil {
		return err
	}
	cfg, err := models.ResolveConfig(*modelConfig, *in, sd)
	if err != nil {
		return err
	}
	if err := checkpoint.Validate(sd, sam.CheckpointSpecs(sam.ParamSpecs(cfg))); err != nil {
		return fmt.Errorf("%s does not fit the %s architecture: %w", *in, cfg.Name, err)
	}
	meta := map[string]string{}
	for k, v := range sd.Metadata {
		meta[k] = v
	}
	if err := checkpoint.WriteSafetensorsAs(*out, sd, meta, dt); err != nil {
		return err
	}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	sidecar := models.SidecarConfigPath(*out)
	if err := os.WriteFile(sidecar, append(cfgJSON, '\n'), 0o644); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "wrote %s (%d tensors, %d values, %s, %.1f MB) and %s\n", *out, sd.Len(), sd.NumValues(), dt, float64(st.Size())/1e6, sidecar)
	return nil
}
