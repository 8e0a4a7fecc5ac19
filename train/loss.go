package train

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads like maths
)

// LossConfig chooses the segmentation loss and its constants.
type LossConfig struct {
	// Kind is "dice" (the paper's loss), "dice_focal" (Dice +
	// FocalWeight·focal, as SAM) or "dice_bce" (Dice + BCEWeight·binary
	// cross-entropy, as MedSAM).
	Kind string `json:"kind"`
	// DiceSmooth is added to numerator and denominator of the Dice ratio.
	DiceSmooth float64 `json:"dice_smooth"`
	// FocalWeight, FocalAlpha and FocalGamma shape the focal term (dice_focal only).
	FocalWeight float64 `json:"focal_weight"`
	FocalAlpha  float64 `json:"focal_alpha"`
	FocalGamma  float64 `json:"focal_gamma"`
	// BCEWeight weighs the pixel-wise binary cross-entropy (dice_bce only).
	BCEWeight float64 `json:"bce_weight"`
	// IoUWeight weighs the mean squared error between the IoU head's prediction
	// and the IoU each mask actually reaches (0 leaves the IoU head untrained).
	IoUWeight float64 `json:"iou_weight"`
	// Resolution is where the loss compares masks: "low" on the decoder's
	// low-resolution grid (img_size/4, the ground truth averaged over each
	// cell, as MedSAM), or "input" after upsampling the logits bilinearly to
	// the input size (as SAM), which gives small objects more weight.
	Resolution string `json:"resolution"`
}

// Loss resolutions.
const (
	LossAtLowRes = "low"
	LossAtInput  = "input"
)

// Validate reports the first meaningless setting.
func (c LossConfig) Validate() error {
	switch c.Kind {
	case "dice", "dice_focal", "dice_bce":
	default:
		return fmt.Errorf("loss kind %q: want dice, dice_focal or dice_bce", c.Kind)
	}
	if c.Kind == "dice_bce" && c.BCEWeight < 0 {
		return fmt.Errorf("loss bce_weight %g must be >= 0", c.BCEWeight)
	}
	if c.Resolution != LossAtLowRes && c.Resolution != LossAtInput {
		return fmt.Errorf("loss resolution %q: want %s or %s", c.Resolution, LossAtLowRes, LossAtInput)
	}
	if c.DiceSmooth < 0 {
		return fmt.Errorf("loss dice_smooth %g must be >= 0", c.DiceSmooth)
	}
	if c.Kind == "dice_focal" && (c.FocalWeight < 0 || c.FocalAlpha < 0 || c.FocalAlpha > 1 || c.FocalGamma < 0) {
		return fmt.Errorf("loss focal settings (weight %g, alpha %g, gamma %g) out of range", c.FocalWeight, c.FocalAlpha, c.FocalGamma)
	}
	if c.IoUWeight < 0 {
		return fmt.Errorf("loss iou_weight %g must be >= 0", c.IoUWeight)
	}
	return nil
}

// DiceLoss is 1 − (2·Σ p·t + s)/(Σ p + Σ t + s) with p = sigmoid(logits),
// summed over the last two axes (the mask's rows and columns): one loss per
// leading index. target holds probabilities in [0, 1] (soft targets allowed).
func DiceLoss(logits, target *Node, smooth float64) *Node {
	p := Sigmoid(logits)
	inter := ReduceSum(Mul(p, target), -2, -1)
	denom := Add(ReduceSum(p, -2, -1), ReduceSum(target, -2, -1))
	s := Scalar(logits.Graph(), logits.DType(), smooth)
	ratio := Div(Add(MulScalar(inter, 2), s), Add(denom, s))
	return OneMinus(ratio)
}

// binaryCrossEntropyWithLogits is max(x,0) − x·t − log σ(|x|), the
// overflow-free form of −t·log σ(x) − (1−t)·log(1−σ(x)) (log σ(|x|) =
// −log(1+exp(−|x|))). Like GoMLX's Exp, its Logistic op is a scalar math.Exp
// loop, many times slower in GOEXPERIMENT=simd builds: keep the number of
// elements a loss sees small (LossConfig.Resolution "low").
func binaryCrossEntropyWithLogits(logits, target *Node) *Node {
	zero := ZerosLike(logits)
	return Sub(Sub(Max(logits, zero), Mul(logits, target)), Log(Sigmoid(Abs(logits))))
}

// FocalLoss is the sigmoid focal loss of Lin et al. (as in SAM), averaged
// over the last two axes: mean of α_t·(1−p_t)^γ·BCE(logits, t), with
// p_t = p·t + (1−p)(1−t) and α_t = α·t + (1−α)(1−t).
func FocalLoss(logits, target *Node, alpha, gamma float64) *Node {
	ce := binaryCrossEntropyWithLogits(logits, target)
	p := Sigmoid(logits)
	pt := Add(Mul(p, target), Mul(OneMinus(p), OneMinus(target)))
	var modulator *Node
	switch gamma {
	case 0:
		modulator = OnesLike(pt)
	case 2:
		modulator = Square(OneMinus(pt))
	default:
		modulator = Pow(OneMinus(pt), Scalar(logits.Graph(), logits.DType(), gamma))
	}
	alphaT := AddScalar(MulScalar(target, 2*alpha-1), 1-alpha)
	return ReduceMean(Mul(Mul(alphaT, modulator), ce), -2, -1)
}

// BCELoss is the binary cross-entropy of sigmoid(logits) against target,
// averaged over the last two axes.
func BCELoss(logits, target *Node) *Node {
	return ReduceMean(binaryCrossEntropyWithLogits(logits, target), -2, -1)
}

// SegmentationLoss is the configured per-mask loss over the last two axes.
func SegmentationLoss(cfg LossConfig, logits, target *Node) *Node {
	loss := DiceLoss(logits, target, cfg.DiceSmooth)
	switch {
	case cfg.Kind == "dice_focal" && cfg.FocalWeight > 0:
		loss = Add(loss, MulScalar(FocalLoss(logits, target, cfg.FocalAlpha, cfg.FocalGamma), cfg.FocalWeight))
	case cfg.Kind == "dice_bce" && cfg.BCEWeight > 0:
		loss = Add(loss, MulScalar(BCELoss(logits, target), cfg.BCEWeight))
	}
	return loss
}

// MaskIoU is the intersection over union of the binarised prediction
// (logits > 0) and target (> 0.5), over the last two axes; 1 when both are
// empty. It carries no gradient: it is the IoU head's regression target.
func MaskIoU(logits, target *Node) *Node {
	g := logits.Graph()
	dtype := logits.DType()
	pred := ConvertDType(GreaterThan(logits, ZerosLike(logits)), dtype)
	gt := ConvertDType(GreaterThan(target, Scalar(g, dtype, 0.5)), dtype)
	inter := ReduceSum(Mul(pred, gt), -2, -1)
	union := Sub(Add(ReduceSum(pred, -2, -1), ReduceSum(gt, -2, -1)), inter)
	one := OnesLike(inter)
	iou := Where(GreaterThan(union, ZerosLike(union)), Div(inter, Max(union, one)), one)
	return StopGradient(iou)
}

// PromptLoss is the training objective for one round of prompts, averaged
// over the batch. lowRes holds the decoder's four mask logits [B,4,h,w],
// iouPred its IoU predictions [B,4], target the ground truth [B,h,w] in
// [0,1] and multimask [B] is 1 where the prompt is ambiguous (one click).
// As in SAM, an ambiguous prompt back-propagates only the best of masks
// 1–3 (the lowest loss), any other prompt mask 0; the IoU head regresses the
// actual IoU of the masks that could have been chosen.
func PromptLoss(cfg LossConfig, lowRes, iouPred, target, multimask *Node) (total, segLoss *Node) {
	g := lowRes.Graph()
	dtype := lowRes.DType()
	batch, masks := lowRes.Shape().Dim(0), lowRes.Shape().Dim(1)
	h, w := lowRes.Shape().Dim(2), lowRes.Shape().Dim(3)
	target4 := BroadcastToDims(Reshape(target, batch, 1, h, w), batch, masks, h, w)
	perMask := SegmentationLoss(cfg, lowRes, target4) // [B,4]

	// allowed[b,m] is 1 for the masks sample b may choose from.
	singleRow := make([]float32, masks)
	multiRow := make([]float32, masks)
	singleRow[0] = 1
	for m := 1; m < masks; m++ {
		multiRow[m] = 1
	}
	multi := Reshape(ConvertDType(multimask, dtype), batch, 1)
	allowed := Add(Mul(multi, ConvertDType(Const(g, [][]float32{multiRow}), dtype)),
		Mul(OneMinus(multi), ConvertDType(Const(g, [][]float32{singleRow}), dtype)))
	allowed = StopGradient(allowed)

	penalised := Add(StopGradient(perMask), MulScalar(OneMinus(allowed), 1e9))
	best := ReduceAndKeep(penalised, ReduceMin, 1)
	chosen := StopGradient(ConvertDType(Equal(penalised, best), dtype))
	chosen = Div(chosen, ReduceAndKeep(chosen, ReduceSum, 1))
	segLoss = ReduceAllMean(ReduceSum(Mul(chosen, perMask), 1))
	total = segLoss
	if cfg.IoUWeight > 0 {
		iouErr := Square(Sub(iouPred, MaskIoU(lowRes, target4)))
		iouLoss := ReduceAllMean(Div(ReduceSum(Mul(allowed, iouErr), 1), ReduceSum(allowed, 1)))
		total = Add(total, MulScalar(iouLoss, cfg.IoUWeight))
	}
	return total, segLoss
}
