// Package train trains SynthFM's promptable segmentation model on streamed synthetic data.
package train
