package synth

// GeneratorVersion names the generator's output: sample (seed, index) of a
// configuration is the same image and mask under one version, on any
// machine and with any worker count. synth/store records it in each run it
// writes, and a resumed run refuses a store written by another version, so
// that no run mixes the samples of two generators.
//
// Bump rule: change this string in the same commit as any change that
// alters a sample for an existing configuration — a new noise type or
// module step, another order or number of random draws, a changed default
// or preset, a rounding change — and update the pinned hashes of
// TestPinnedSamples (synth/pinned_test.go), which fails until both are
// done. Changes that leave every sample as it was (speed, refactoring,
// new fields whose zero value keeps old behaviour) keep the version. The
// form is the date of the change and a short name.
const GeneratorVersion = "2026-12-05 target-size rule (method.md §2b)"
