package train

import (
	"strings"

	"github.com/gomlx/gomlx/ml/model"
)

// StateDictKey maps a GoMLX store path ("/mask_decoder/iou_token/weight")
// to the official SAM state_dict key ("mask_decoder.iou_token.weight"): the
// sam package names every variable by its key with "/" as separator.
func StateDictKey(storePath string) string {
	return strings.ReplaceAll(strings.TrimPrefix(storePath, "/"), "/", ".")
}

// StorePath is the inverse of StateDictKey.
func StorePath(stateDictKey string) string {
	return "/" + strings.ReplaceAll(stateDictKey, ".", "/")
}

// modelVariables lists the store's model parameters (everything that is not
// optimiser state), in the store's order.
func modelVariables(store *model.Store) []*model.Variable {
	var vars []*model.Variable
	for v := range store.IterVariables() {
		if !IsOptimizerState(v.Path()) {
			vars = append(vars, v)
		}
	}
	return vars
}
