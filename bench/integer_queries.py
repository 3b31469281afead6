"""The packaged model's query path on integer arithmetic: what it would save, and what it would cost in recall.

The packaged all-MiniLM-L6-v2 "int8" export stores each weight matrix as int8 values with a scale
per column (Cast, Mul, then MatMul); ONNX Runtime folds them into fp32 weights when it loads the
model, so a query runs 42 fp32 MatMuls (3.1 of its 4.4 ms). Here those weights become
com.microsoft MatMulNBits nodes (8 bits, the same int8 values and scales, zero point 128) with
accuracy_level 4, which also quantises the activations and multiplies in int8 (VNNI on this CPU).
The query vectors then differ a little from the stored memories' (cosine 0.999 on the development
questions), so bench/retrieval.py --integer-queries measures recall with them as well as latency.
Benchmark only: it needs the `onnx` package (the `bench` extra) and changes nothing in search.
"""

import tempfile

import numpy as np

from memory.providers.embedding_interface import normalize_rows
from memory.providers.onnx_minilm import OnnxSentenceEmbedder, packaged_model_path

BLOCK = 128  # MatMulNBits' block along K; divides the model's 384 and 1536


def integer_query_model(model_path):
    """The model at model_path with its Cast/Mul-scaled int8 weights as MatMulNBits nodes, serialised."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    producer = {output: node for node in graph.node for output in node.output}
    replaced, unused = [], set()
    for node in graph.node:
        scaled = producer.get(node.input[1]) if node.op_type == "MatMul" else None
        cast = producer.get(scaled.input[0]) if scaled is not None and scaled.op_type == "Mul" else None
        if cast is None or cast.op_type != "Cast" or cast.input[0] not in initializers \
                or scaled.input[1] not in initializers:
            continue
        weights = numpy_helper.to_array(initializers[cast.input[0]])  # int8, [K, N]
        scales = numpy_helper.to_array(initializers[scaled.input[1]]).reshape(-1).astype(np.float32)  # [N]
        k, n = weights.shape
        if weights.dtype != np.int8 or scales.shape != (n,) or k % BLOCK:
            continue
        blocks = k // BLOCK
        name = node.name + "_nbits"
        graph.initializer.extend([
            numpy_helper.from_array((weights.astype(np.int16) + 128).astype(np.uint8).T.reshape(n, blocks, BLOCK),
                                    name + "_weights"),
            numpy_helper.from_array(np.repeat(scales, blocks), name + "_scales"),
            numpy_helper.from_array(np.full((n, blocks), 128, dtype=np.uint8), name + "_zero_points"),
        ])
        replaced.append((node, helper.make_node(
            "MatMulNBits", [node.input[0], name + "_weights", name + "_scales", name + "_zero_points"],
            list(node.output), name=name, domain="com.microsoft", K=k, N=n, bits=8, block_size=BLOCK,
            accuracy_level=4)))
        unused.update([scaled.name, cast.name])
    for old, new in replaced:
        position = list(graph.node).index(old)
        graph.node.remove(old)
        graph.node.insert(position, new)
    for node in [node for node in graph.node if node.name in unused]:
        graph.node.remove(node)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model.SerializeToString(), len(replaced)


class IntegerQueries:
    """The local provider, a single text (a query) embedded through integer_query_model; batches as before."""

    def __init__(self, provider):
        import onnxruntime as ort

        if not isinstance(provider, OnnxSentenceEmbedder):
            raise SystemExit("--integer-queries needs the local embedding provider")
        self.provider, self.model_id, self.dimensions = provider, provider.model_id, provider.dimensions
        model, self.replaced = integer_query_model(packaged_model_path())
        with tempfile.NamedTemporaryFile(suffix=".onnx") as file:  # the session reads it whole when built
            file.write(model)
            file.flush()
            self.session = provider._session(ort, file.name, threads=1)

    def embed(self, texts):
        if len(texts) != 1:
            return self.provider.embed(texts)
        provider = self.provider
        encoding = provider.tokenizer.encode_batch(list(texts))[0]
        ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in provider.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (output,) = self.session.run([provider.output.name], feeds)
        # One text: every token is in the attention mask, so mean pooling is the plain mean.
        return normalize_rows(output if provider.output_pooled else output.mean(axis=1))
