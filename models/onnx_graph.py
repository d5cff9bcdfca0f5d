"""The all-MiniLM-L6-v2 sentence encoder written as an ONNX graph from its weights, with numpy only.

:func:`build_encoder` reads the BERT weights (``model.safetensors``) and ``config.json`` of a
sentence-transformers folder and writes, node by node with ``onnx.helper``, what
sentence-transformers computes for ``encode(..., normalize_embeddings=True)``:

- embeddings: word + position (``0 .. sequence-1``) + token type, then LayerNorm;
- ``num_hidden_layers`` BERT layers: self-attention over ``num_attention_heads`` heads with the
  attention mask added as ``(1 - mask) * float32.min`` before the softmax (as transformers does),
  output projection, residual and LayerNorm; then the feed-forward block with the exact GELU
  (``0.5 x (1 + erf(x / sqrt 2))``, BERT's ``"gelu"``), residual and LayerNorm (eps from the config);
- mean pooling of the last layer's token vectors over the mask (the count clamped at 1e-9, as
  sentence-transformers' ``Pooling``) and L2 normalization (the norm clamped at 1e-12, as
  ``torch.nn.functional.normalize``).

Inputs ``input_ids``, ``attention_mask``, ``token_type_ids``: int64 ``(batch, sequence)``; output
``sentence_embedding``: float32 ``(batch, hidden_size)``. The same weights give the same bytes on
every run: names are fixed, nodes are written in one order, and the file carries no date or
library version (the manifest records those).

``weights="int8"`` writes every ``Linear`` of the layers (query, key, value, attention output and
the two feed-forward ones: 36 of the model's 48 matrix products, 94% of its multiply-adds on
short texts) as ONNX Runtime's ``MatMulNBits`` operator: 8-bit symmetric weights with one fp32
scale per block of :data:`INT8_BLOCK` inputs of each output (:func:`quantize_blocks`), and
``accuracy_level`` 4, under which ONNX Runtime quantizes the activations to int8 per block of each
token at run time (so one text's scales never depend on another's). The embeddings, attention
scores, LayerNorms and pooling stay fp32. The file then runs on ONNX Runtime only (a
``com.microsoft`` operator).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

from models.onnx_export import WEIGHT_FORMATS

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"
#: ONNX opset of the graph (LayerNormalization is a standard operator from 17 on).
OPSET = 17
WEIGHTS_FILE = "model.safetensors"
#: The producer written into the file: the recipe's name, so a reader knows where it came from.
PRODUCER = "youasked.models.onnx_graph"
#: Clamps of sentence-transformers' mean pooling and of ``torch.nn.functional.normalize``.
POOLING_MIN_COUNT = 1e-9
NORMALIZE_MIN_NORM = 1e-12
#: Inputs per quantization block of an int8 weight (a power of two, at least 16, as MatMulNBits needs).
INT8_BLOCK = 128
#: Accuracy level of MatMulNBits: 4 computes with int8 activations quantized per block of each row.
INT8_ACCURACY_LEVEL = 4
CONTRIB_DOMAIN = "com.microsoft"

Weights = dict[str, npt.NDArray[np.generic]]


class GraphError(ValueError):
    """The source folder is not a BERT model with mean pooling that this recipe can write."""


@dataclass(frozen=True, kw_only=True)
class BertConfig:
    """The fields of ``config.json`` the graph depends on."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    layer_norm_eps: float

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def read(cls, model_dir: Path) -> BertConfig:
        raw = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        expected = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
        for key, value in expected.items():
            if raw.get(key, value) != value:
                raise GraphError(f"{model_dir}/config.json: {key} is {raw.get(key)!r}, not {value!r}")
        config = cls(
            hidden_size=int(raw["hidden_size"]),
            num_hidden_layers=int(raw["num_hidden_layers"]),
            num_attention_heads=int(raw["num_attention_heads"]),
            intermediate_size=int(raw["intermediate_size"]),
            layer_norm_eps=float(raw["layer_norm_eps"]),
        )
        if config.hidden_size % config.num_attention_heads:
            raise GraphError(f"{model_dir}: hidden_size is not a multiple of num_attention_heads")
        return config


def check_mean_pooling(model_dir: Path) -> None:
    """Raise :class:`GraphError` unless the folder pools by mean alone and normalizes after."""
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = sorted(key for key, value in pooling.items() if key.startswith("pooling_mode") and value)
    if modes != ["pooling_mode_mean_tokens"]:
        raise GraphError(f"{model_dir}: pooling {modes}, this recipe writes mean pooling only")
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    if not any(str(module.get("type", "")).endswith(".Normalize") for module in modules):
        raise GraphError(f"{model_dir}: the model does not normalize its embeddings")


@dataclass
class _Graph:
    """Nodes and initializers in the order they are added; every name is made from a fixed prefix."""

    weights: Weights
    int8: bool = False
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    _count: int = 0

    def constant(self, name: str, value: npt.ArrayLike, dtype: type[np.generic] = np.float32) -> str:
        """An initializer named ``name`` (added once: later calls with the same name reuse it)."""
        if any(existing.name == name for existing in self.initializers):
            return name
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name=name))
        return name

    def weight(self, key: str, *, transpose: bool = False) -> str:
        """The source tensor ``key`` as an initializer (a Linear weight transposed for ``x @ W``)."""
        array = np.asarray(self.weights[key], dtype=np.float32)
        return self.constant(key, np.ascontiguousarray(array.T) if transpose else array)

    def op(self, op_type: str, *inputs: str, domain: str = "", **attributes: Any) -> str:
        self._count += 1
        output = f"{op_type.lower()}_{self._count}"
        if domain:  # written only when set: the standard nodes' bytes stay as they were
            attributes["domain"] = domain
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attributes))
        return output

    def linear(self, x: str, prefix: str) -> str:
        """``x @ W.T + b`` of the PyTorch ``Linear`` whose tensors start with ``prefix``."""
        if not self.int8:
            product = self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True))
            return self.op("Add", product, self.weight(f"{prefix}.bias"))
        weight = np.asarray(self.weights[f"{prefix}.weight"], dtype=np.float32)  # (outputs, inputs)
        blocks, scales = quantize_blocks(weight, INT8_BLOCK)
        product = self.op(
            "MatMulNBits",
            x,
            self.constant(f"{prefix}.weight.int8", blocks, np.uint8),
            self.constant(f"{prefix}.weight.scales", scales),
            domain=CONTRIB_DOMAIN,
            K=weight.shape[1],
            N=weight.shape[0],
            bits=8,
            block_size=INT8_BLOCK,
            accuracy_level=INT8_ACCURACY_LEVEL,
        )
        return self.op("Add", product, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        scale, bias = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def _embeddings(graph: _Graph, config: BertConfig) -> str:
    """Word + position + token type vectors, then LayerNorm: ``(batch, sequence, hidden)``."""
    words = graph.op("Gather", graph.weight("embeddings.word_embeddings.weight"), "input_ids", axis=0)
    type_table = graph.weight("embeddings.token_type_embeddings.weight")
    types = graph.op("Gather", type_table, "token_type_ids", axis=0)
    sequence = graph.op(
        "Slice",
        graph.op("Shape", "input_ids"),
        graph.constant("const_one", [1], np.int64),
        graph.constant("const_two", [2], np.int64),
    )
    positions = graph.op(
        "Slice",
        graph.weight("embeddings.position_embeddings.weight"),
        graph.constant("const_zero", [0], np.int64),
        sequence,
        graph.constant("const_axis_zero", [0], np.int64),
    )
    summed = graph.op("Add", graph.op("Add", words, positions), types)
    return graph.layer_norm(summed, "embeddings.LayerNorm", config.layer_norm_eps)


def _mask_bias(graph: _Graph) -> tuple[str, str]:
    """The float mask ``(batch, sequence)`` and the attention scores' bias ``(batch, 1, 1, sequence)``."""
    mask = graph.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    blocked = graph.op("Sub", graph.constant("const_float_one", 1.0), mask)
    bias = graph.op("Mul", blocked, graph.constant("const_float_min", np.finfo(np.float32).min))
    return mask, graph.op("Unsqueeze", bias, graph.constant("const_axes_one_two", [1, 2], np.int64))


def _heads(graph: _Graph, x: str, config: BertConfig, *, keys: bool = False) -> str:
    """``(batch, sequence, hidden)`` -> ``(batch, heads, sequence, head)`` (keys: ``head, sequence``)."""
    shape = graph.constant(
        "const_heads_shape", [0, 0, config.num_attention_heads, config.head_size], np.int64
    )
    split = graph.op("Reshape", x, shape)
    return graph.op("Transpose", split, perm=[0, 2, 3, 1] if keys else [0, 2, 1, 3])


def _attention(graph: _Graph, x: str, bias: str, prefix: str, config: BertConfig) -> str:
    """Multi-head self-attention of one layer, before its output projection: ``(batch, sequence, hidden)``."""
    query = _heads(graph, graph.linear(x, f"{prefix}.query"), config)
    key = _heads(graph, graph.linear(x, f"{prefix}.key"), config, keys=True)
    value = _heads(graph, graph.linear(x, f"{prefix}.value"), config)
    scale = graph.constant("const_attention_scale", math.sqrt(config.head_size))
    scores = graph.op("Div", graph.op("MatMul", query, key), scale)
    weights = graph.op("Softmax", graph.op("Add", scores, bias), axis=-1)
    context = graph.op("Transpose", graph.op("MatMul", weights, value), perm=[0, 2, 1, 3])
    flat = graph.constant("const_merge_shape", [0, 0, config.hidden_size], np.int64)
    return graph.op("Reshape", context, flat)


def _gelu(graph: _Graph, x: str) -> str:
    """BERT's exact GELU, ``x * 0.5 * (1 + erf(x / sqrt 2))`` (the pattern ONNX Runtime fuses)."""
    erf = graph.op("Erf", graph.op("Div", x, graph.constant("const_sqrt2", math.sqrt(2.0))))
    shifted = graph.op("Add", erf, graph.constant("const_float_one", 1.0))
    return graph.op("Mul", graph.op("Mul", x, shifted), graph.constant("const_half", 0.5))


def _layer(graph: _Graph, x: str, bias: str, index: int, config: BertConfig) -> str:
    """One BERT layer: attention, residual, LayerNorm, feed-forward, residual, LayerNorm."""
    prefix = f"encoder.layer.{index}"
    context = _attention(graph, x, bias, f"{prefix}.attention.self", config)
    attended = graph.op("Add", graph.linear(context, f"{prefix}.attention.output.dense"), x)
    attended = graph.layer_norm(attended, f"{prefix}.attention.output.LayerNorm", config.layer_norm_eps)
    inner = _gelu(graph, graph.linear(attended, f"{prefix}.intermediate.dense"))
    out = graph.op("Add", graph.linear(inner, f"{prefix}.output.dense"), attended)
    return graph.layer_norm(out, f"{prefix}.output.LayerNorm", config.layer_norm_eps)


def _mean_pool_normalize(graph: _Graph, tokens: str, mask: str) -> str:
    """Mean of the token vectors over the mask, then unit length: ``(batch, hidden)``."""
    weights = graph.op("Unsqueeze", mask, graph.constant("const_axis_two", [2], np.int64))
    axis = graph.constant("const_axis_one", [1], np.int64)
    summed = graph.op("ReduceSum", graph.op("Mul", tokens, weights), axis, keepdims=0)
    counts = graph.op("ReduceSum", weights, axis, keepdims=0)
    clamped = graph.op("Max", counts, graph.constant("const_min_count", POOLING_MIN_COUNT))
    mean = graph.op("Div", summed, clamped)
    norm = graph.op("ReduceL2", mean, axes=[1], keepdims=1)  # axes: an attribute until opset 18
    floor = graph.op("Max", norm, graph.constant("const_min_norm", NORMALIZE_MIN_NORM))
    graph.nodes.append(helper.make_node("Div", [mean, floor], [OUTPUT_NAME], name=OUTPUT_NAME))
    return OUTPUT_NAME


def quantize_blocks(
    weight: npt.NDArray[np.float32], block: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """``weight`` ``(outputs, inputs)`` as MatMulNBits' 8-bit blocks and scales.

    Each output's inputs are cut into blocks of ``block`` (the last padded with zeros); a block's
    scale is its largest absolute value / 127 and its values are ``round(w / scale)`` stored plus
    128 (the operator's default zero point), so ``w ~ (q - 128) * scale`` with ``|q - 128| <= 127``.
    Returns the ``(outputs, blocks, block)`` uint8 array and the ``(outputs * blocks,)`` scales.
    """
    outputs, inputs = weight.shape
    count = -(-inputs // block)
    padded = np.zeros((outputs, count * block), dtype=np.float32)
    padded[:, :inputs] = weight
    grouped = padded.reshape(outputs, count, block)
    scales = np.abs(grouped).max(axis=2) / 127.0
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)  # an all-zero block: any scale
    quantized = np.clip(np.rint(grouped / scales[:, :, None]), -127, 127) + 128
    return quantized.astype(np.uint8), scales.reshape(-1)


def build_encoder(model_dir: Path, *, weights_format: str = "fp32") -> onnx.ModelProto:
    """The ONNX model of the sentence-transformers folder ``model_dir`` (checked by ``onnx.checker``),
    its layers' weights in ``weights_format`` (one of :data:`WEIGHT_FORMATS`).
    """
    if weights_format not in WEIGHT_FORMATS:
        raise GraphError(f"weights {weights_format!r}: this recipe writes {', '.join(WEIGHT_FORMATS)}")
    config = BertConfig.read(model_dir)
    check_mean_pooling(model_dir)
    weights = read_weights(model_dir)
    graph = _Graph(weights=weights, int8=weights_format == "int8")
    hidden = _embeddings(graph, config)
    mask, bias = _mask_bias(graph)
    for index in range(config.num_hidden_layers):
        hidden = _layer(graph, hidden, bias, index, config)
    _mean_pool_normalize(graph, hidden, mask)
    axes = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, axes) for name in INPUT_NAMES]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", config.hidden_size])
    body = helper.make_graph(graph.nodes, "sentence_encoder", inputs, [output], graph.initializers)
    opsets = [helper.make_opsetid("", OPSET)]
    if graph.int8:
        opsets.append(helper.make_opsetid(CONTRIB_DOMAIN, 1))
    model = helper.make_model(body, opset_imports=opsets, producer_name=PRODUCER, ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def read_weights(model_dir: Path) -> Weights:
    """The tensors of ``model.safetensors`` by name (numpy arrays)."""
    path = model_dir / WEIGHTS_FILE
    if not path.is_file():
        raise GraphError(f"{model_dir} has no {WEIGHTS_FILE}")
    return dict(load_file(str(path)))


def write_encoder(model_dir: Path, out: Path, *, weights_format: str = "fp32") -> None:
    """Write :func:`build_encoder`'s model to ``out`` (the same bytes for the same weights)."""
    model = build_encoder(model_dir, weights_format=weights_format)
    out.write_bytes(model.SerializeToString(deterministic=True))
