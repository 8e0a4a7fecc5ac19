"""PyTorch CPU baseline for SynthFM's SAM benchmarks.

Times, with a fixed number of threads (default 2):
  * the vit_b image encoder on one 1024x1024 input,
  * the prompt encoder + mask decoder per prompt (one click) on a cached embedding,
  * a decoder training step (batch 1, one click): forward, Dice loss on the
    low-res masks, backward and an AdamW update of the prompt encoder and
    mask decoder, image encoder frozen (method.md section 5).
Before timing it checks the model against the official parity fixtures
(--check-fixture), so that the numbers are for the right architecture.
Prints one JSON object.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sam_torch  # noqa: E402


def timed(fn, warmup, repeats):
    """Wall and process CPU seconds per call (CPU time, summed over threads,
    varies less than wall time on a shared machine)."""
    for _ in range(warmup):
        fn()
    runs, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"median_s": statistics.median(runs), "min_s": min(runs), "runs_s": runs,
            "median_cpu_s": statistics.median(cpu)}


def check_fixture(folder):
    """Loads a parity fixture's weights and compares encoder and decoder outputs."""
    import numpy as np

    name = os.path.basename(folder.rstrip("/")).removeprefix("sam-")
    cfg = json.load(open(os.path.join(folder, f"config_{name}.json")))
    model = sam_torch.Sam(cfg).eval()
    sd = torch.load(os.path.join(folder, f"sam_{name}.pth"), map_location="cpu")
    model.load_state_dict(sd, strict=True)
    load = lambda f: torch.from_numpy(np.load(os.path.join(folder, f)))
    worst = {}
    with torch.no_grad():
        emb = model.image_encoder(load("input_preprocessed.npy"))
        worst["image_embedding"] = (emb - load("image_embedding.npy")).abs().max().item()
        pe = model.prompt_encoder.dense_pe()
        worst["image_pe"] = (pe - load("image_pe.npy")).abs().max().item()
        for k in (1, 2, 3):
            pts = load(f"case{k}_point_coords.npy")[None]
            labels = load(f"case{k}_point_labels.npy")[None]
            box = load("case3_box.npy")[None] if k == 3 else None
            sparse, dense = model.prompt_encoder(pts, labels, box)
            worst[f"case{k}_sparse"] = (sparse - load(f"case{k}_sparse_embeddings.npy")).abs().max().item()
            masks, iou = model.mask_decoder(load("image_embedding.npy"), load("image_pe.npy"), sparse, dense)
            worst[f"case{k}_low_res"] = (masks - load(f"case{k}_all_low_res_logits.npy")).abs().max().item()
            worst[f"case{k}_iou"] = (iou - load(f"case{k}_all_iou_predictions.npy")).abs().max().item()
        mask_in = load("case4_mask_input.npy")
        sparse, dense = model.prompt_encoder(load("case4_point_coords.npy")[None], load("case4_point_labels.npy")[None], None, mask_in)
        worst["case4_dense"] = (dense - load("case4_dense_embeddings.npy")).abs().max().item()
    bad = {k: v for k, v in worst.items() if not v <= 1e-4}
    if bad:
        raise SystemExit(f"fixture {folder}: outputs differ from the official ones: {bad}")
    return {"fixture": folder, "max_abs_error": max(worst.values())}


def dice_loss(logits, target):
    p = torch.sigmoid(logits)
    return 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="vit_b", choices=["vit_b", "vit_l", "vit_h"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--encoder-runs", type=int, default=3)
    ap.add_argument("--decoder-runs", type=int, default=30)
    ap.add_argument("--train-runs", type=int, default=10)
    ap.add_argument("--check-fixture", action="append", default=[], help="parity fixture folder (repeatable)")
    ap.add_argument("--go-bench-output", help="output of the Go benchmarks of package sam, to compare with")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "threads": args.threads, "variant": args.variant,
              "python": platform.python_version(), "machine": platform.machine(),
              "cpu": cpu_name(), "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
              "matmul_1024_gflops": matmul_gflops(), "load_average_before": os.getloadavg(), "checks": [check_fixture(f) for f in args.check_fixture]}

    cfg = sam_torch.official_config(args.variant)
    model = sam_torch.Sam(cfg)
    model.eval()
    image = torch.randn(1, 3, 1024, 1024)
    with torch.no_grad():
        enc = timed(lambda: model.image_encoder(image), 1, args.encoder_runs)
        embedding = model.image_encoder(image)
        image_pe = model.prompt_encoder.dense_pe()
    result["encoder_1024"] = enc

    point = torch.tensor([[[512.0, 384.0]]])
    label = torch.tensor([[1]])

    def decode():
        sparse, dense = model.prompt_encoder(point, label)
        return model.mask_decoder(embedding, image_pe, sparse, dense)

    with torch.no_grad():
        result["decoder_per_prompt"] = timed(decode, 3, args.decoder_runs)

    model.train()
    params = list(model.prompt_encoder.parameters()) + list(model.mask_decoder.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    target = (torch.rand(1, 1, 256, 256) > 0.5).float()

    def train_step():
        opt.zero_grad(set_to_none=True)
        masks, _ = decode()
        loss = dice_loss(masks[:, :1], target)
        loss.backward()
        opt.step()

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        masks, _ = decode()
        dice_loss(masks[:, :1], target).backward()

    result["decoder_forward_backward"] = timed(forward_backward, 2, args.train_runs)
    result["decoder_train_step"] = timed(train_step, 2, args.train_runs)
    result["decoder_trainable_params"] = sum(p.numel() for p in params)
    result["load_average_after"] = os.getloadavg()
    if args.go_bench_output:
        result["go"] = compare_go(open(args.go_bench_output).read(), result)
    print(json.dumps(result, indent=1))


def compare_go(text, result):
    """Parses `go test -bench` lines (ns/op, cpu-ms/op) and adds Go/PyTorch ratios."""
    pairs = {"EncoderViTB": "encoder_1024", "DecoderClickViTB": "decoder_per_prompt"}
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields or not fields[0].startswith("Benchmark"):
            continue
        name = fields[0][len("Benchmark"):].rsplit("-", 1)[0]
        values = {unit: float(v) for v, unit in zip(fields[2::2], fields[3::2])}
        entry = {"wall_s": values.get("ns/op", float("nan")) / 1e9}
        if "cpu-ms/op" in values:
            entry["cpu_s"] = values["cpu-ms/op"] / 1e3
        if name in pairs:
            ref = result[pairs[name]]
            entry["ratio_wall_go_over_pytorch"] = entry["wall_s"] / ref["median_s"]
            if "cpu_s" in entry:
                entry["ratio_cpu_go_over_pytorch"] = entry["cpu_s"] / ref["median_cpu_s"]
        out[name] = entry
    return out


def matmul_gflops():
    """A 1024x1024x1024 float32 matmul rate, to see what the BLAS delivers."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    t = timed(lambda: a @ b, 2, 10)
    return 2 * 1024 ** 3 / t["median_s"] / 1e9


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
