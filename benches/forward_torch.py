"""PyTorch side of benches/forward.sh: forward throughput of a Hugging Face encoder on the CPU.

Same work as `ntk-lens bench-forward`: one batch of `--batch` sentences of `--len` tokens with
ids[b][t] = 1000 + (31 b + 7 t) mod (vocab - 1000), no padding; `--warmup` untimed passes, then
`--reps` timed passes of forward + attention-masked mean pooling, under torch.inference_mode,
float32. Prints one JSON object (sentences/s from the median pass).
"""

import argparse
import json
import os
import statistics
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--len", type=int, default=32)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, required=True)
    a = p.parse_args()

    import torch
    from transformers import AutoModel

    torch.set_num_threads(a.threads)
    model = AutoModel.from_pretrained(a.model, torch_dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    span = max(vocab - 1000, 1)
    ids = torch.tensor(
        [[1000 + (31 * b + 7 * t) % span for t in range(a.len)] for b in range(a.batch)],
        dtype=torch.long,
    )
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)

    def one_pass() -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            h = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            pooled.numpy()
        return time.perf_counter() - start

    for _ in range(a.warmup):
        one_pass()
    seconds = [one_pass() for _ in range(a.reps)]
    median = statistics.median(seconds)
    json.dump(
        {
            "backend": f"pytorch {torch.__version__}",
            "batch": a.batch,
            "len": a.len,
            "reps": a.reps,
            "threads": torch.get_num_threads(),
            "seconds": seconds,
            "sentences_per_s": a.batch / median,
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
