#!/usr/bin/env python3
"""Writes the HuggingFace parity fixture used by Tests/InteropTests/HuggingFaceParityTests.swift.

Run by hand, never in CI (CI needs only the committed files). Needs torch, transformers and
safetensors, e.g. in a throw-away venv:

    python3 -m venv /tmp/hfvenv
    /tmp/hfvenv/bin/pip install torch transformers safetensors numpy
    /tmp/hfvenv/bin/python tools/make_hf_fixture.py [OUT_DIR]

OUT_DIR defaults to Tests/InteropTests/Fixtures/hf-tiny. It receives:

- config.json, model.safetensors: a small random `BertForMaskedLM` written by transformers'
  `save_pretrained(safe_serialization=True)` (float32, decoder tied to the word embeddings);
- vocab.txt: the five special tokens then filler pieces, one per id;
- reference.json: input batches and what transformers computes on them in eval mode (no dropout):
  per-sample mean cross-entropy over the sample's masked tokens (labels != -100; 0 for a sample
  without any, as sift's `SampleLoss.meanLoss`) at every exit layer 1...L, where the exit-layer loss
  is the model's own `cls` MLM head applied to `hidden_states[l]` (l = L is the ordinary output), and
  a few logits at the first masked positions.

The weights are drawn with a fixed torch seed and rescaled (std 0.2 matrices and embeddings, nonzero
biases, LayerNorm gammas near 1) so that logits are far from uniform and every parameter matters:
with HuggingFace's default init (std 0.02, zero biases) a wrong bias or a transposed matrix would
move the losses by little. The references are computed in float64 from the float32 weights that
are saved, so the comparison measures sift's float32 error alone.
"""
import json
import os
import sys

import torch
import transformers
from transformers import BertConfig, BertForMaskedLM

SEED = 20261125
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)


def build_model():
    config = BertConfig(
        vocab_size=120, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
        hidden_act="gelu", layer_norm_eps=1e-12, pad_token_id=PAD,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    torch.manual_seed(SEED)
    model = BertForMaskedLM(config)
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        # named_parameters() lists the tied decoder weight once (as the word embeddings).
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    return model.eval()


def make_batch(g, count, seq_len, lengths, with_segments, unmasked_sample=None):
    """Token ids with [CLS] ... [SEP] (and a second segment), padding to seq_len, ~20% masked."""
    ids, types, mask, labels = [], [], [], []
    for b in range(count):
        n = lengths[b]
        row = [CLS] + torch.randint(5, 120, (n - 2,), generator=g).tolist() + [SEP]
        seg = [0] * n
        if with_segments:
            cut = n // 2
            row[cut] = SEP
            seg = [0] * (cut + 1) + [1] * (n - cut - 1)
        lab = [-100] * n
        if b != unmasked_sample:
            candidates = [t for t in range(1, n - 1) if row[t] >= 5]
            k = max(1, round(0.2 * len(candidates)))
            picked = torch.randperm(len(candidates), generator=g)[:k].tolist()
            for j in sorted(picked):
                t = candidates[j]
                lab[t] = row[t]
                r = torch.rand((), generator=g).item()
                if r < 0.8:
                    row[t] = MASK
                elif r < 0.9:
                    row[t] = int(torch.randint(5, 120, (), generator=g))
        pad = seq_len - n
        ids += row + [PAD] * pad
        types += seg + [0] * pad
        mask += [1] * n + [0] * pad
        labels += lab + [-100] * pad
    return {"count": count, "seq_len": seq_len, "input_ids": ids, "token_type_ids": types,
            "attention_mask": mask, "labels": labels}


def reference(model, batch, logit_positions=3, logit_columns=8):
    B, T = batch["count"], batch["seq_len"]
    shape = lambda key: torch.tensor(batch[key]).view(B, T)
    ids, types, mask, labels = shape("input_ids"), shape("token_type_ids"), shape("attention_mask"), shape("labels")
    with torch.no_grad():
        out = model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True)
        # hidden_states[0] is the embeddings' output, hidden_states[l] that of encoder layer l.
        assert len(out.hidden_states) == model.config.num_hidden_layers + 1
        # The full model's own forward must agree with the head on the last hidden state.
        full = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
        assert torch.allclose(full, model.cls(out.hidden_states[-1]), rtol=0, atol=1e-12)
        result = {"losses": {}, "logits": {}}
        masked = (labels != -100).view(-1)
        flat_positions = masked.nonzero().view(-1)
        for layer in range(1, model.config.num_hidden_layers + 1):
            logits = model.cls(out.hidden_states[layer])                     # [B, T, V]
            ce = torch.nn.functional.cross_entropy(logits.view(B * T, -1), labels.view(-1),
                                                   ignore_index=-100, reduction="none").view(B, T)
            m = (labels != -100)
            counts = m.sum(1)
            per_sample = torch.where(counts > 0, (ce * m).sum(1) / counts.clamp(min=1), torch.zeros_like(ce[:, 0]))
            result["losses"][str(layer)] = per_sample.tolist()
            chosen = flat_positions[:logit_positions]
            result["logits"][str(layer)] = {
                "positions": chosen.tolist(),
                "values": logits.view(B * T, -1)[chosen, :logit_columns].tolist(),
            }
    return result


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Tests", "InteropTests", "Fixtures", "hf-tiny")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    model = build_model()
    model.save_pretrained(out_dir, safe_serialization=True)
    with open(os.path.join(out_dir, "vocab.txt"), "w") as f:
        for i in range(model.config.vocab_size):
            f.write((SPECIALS[i] if i < len(SPECIALS) else f"piece{i}") + "\n")

    # Reload what was written (float32 on disk) and evaluate in float64.
    reloaded = BertForMaskedLM.from_pretrained(out_dir, attn_implementation="eager").eval().double()

    g = torch.Generator().manual_seed(SEED + 2)
    batches = [
        make_batch(g, 4, 16, [16, 11, 7, 16], with_segments=False),
        make_batch(g, 3, 24, [24, 13, 20], with_segments=True, unmasked_sample=1),
        make_batch(g, 2, 64, [64, 37], with_segments=True),
    ]
    for batch in batches:
        batch["reference"] = reference(reloaded, batch)

    doc = {
        "generator": "tools/make_hf_fixture.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "seed": SEED,
        "precision": "float64 evaluation of the float32 weights in model.safetensors, eval mode (no dropout)",
        "loss": "per-sample mean cross-entropy over masked tokens (labels != -100), 0 without any; "
                "key = exit layer l, the cls head applied to hidden_states[l]",
        "logits": "logits[l].values[i] = first columns of the logits at flat position b*seq_len+t = positions[i]",
        "batches": batches,
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out_dir, n)) for n in os.listdir(out_dir))
    print(f"wrote {out_dir}: {sorted(os.listdir(out_dir))}, {total} bytes "
          f"(torch {torch.__version__}, transformers {transformers.__version__})")
    for i, batch in enumerate(batches):
        print(f"batch {i}: losses at exit layers", {k: [round(x, 3) for x in v] for k, v in batch["reference"]["losses"].items()})


if __name__ == "__main__":
    main()
