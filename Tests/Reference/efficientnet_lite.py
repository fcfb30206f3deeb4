"""An independent float64 EfficientNet-Lite (members 0-2) in numpy, for the engine's reference tests.

Written from the published architecture (TensorFlow's efficientnet_lite_builder: block strings,
width/depth coefficients, round_filters/round_repeats, stem and head fixed, first and last stage
repeats fixed, ReLU6, no squeeze-excite, TF SAME padding) and PyTorch's legacy checkpoint format.
It shares no code with FishOps.

usage: efficientnet_lite.py CHECKPOINT MEMBER INPUT.f32 BATCH SIZE
INPUT.f32 holds BATCH*SIZE*SIZE*3 little-endian float32 values, NHWC, already normalised.
Prints JSON: {"logits": [[1000 values] per image], "embeddings": [[1280 values] per image]}.
"""
import json
import math
import pickle
import sys

import numpy as np

BLOCKS = ["r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24", "r2_k5_s22_e6_i24_o40", "r3_k3_s22_e6_i40_o80",
          "r3_k5_s11_e6_i80_o112", "r4_k5_s22_e6_i112_o192", "r1_k3_s11_e6_i192_o320"]
# member: (width coefficient, depth coefficient, resolution)
PARAMS = {0: (1.0, 1.0, 224), 1: (1.0, 1.1, 240), 2: (1.1, 1.2, 260)}
EPS = 1e-3


def round_filters(filters, width, divisor=8):
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:
        new += divisor
    return int(new)


def block_list(member):
    width, depth, _ = PARAMS[member]
    blocks = []
    for stage, text in enumerate(BLOCKS):
        fields = {part[0]: part[1:] for part in text.split("_")}
        repeats = int(fields["r"])
        if 0 < stage < len(BLOCKS) - 1:
            repeats = int(math.ceil(depth * repeats))
        inputs, outputs = round_filters(int(fields["i"]), width), round_filters(int(fields["o"]), width)
        for index in range(repeats):
            blocks.append(dict(kernel=int(fields["k"]), stride=int(fields["s"][0]) if index == 0 else 1,
                               expand=int(fields["e"]), inputs=inputs if index == 0 else outputs, outputs=outputs))
    return blocks


def load_legacy_checkpoint(path):
    """A torch.save (legacy, non-zip) state dict as numpy arrays, without torch."""
    storages = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "_rebuild_tensor_v2":
                return lambda storage, offset, size, stride, *rest: ("tensor", storage, offset, size, stride)
            if module == "collections" and name == "OrderedDict":
                import collections
                return collections.OrderedDict
            if name.endswith("Storage"):
                return name
            raise pickle.UnpicklingError(f"unexpected {module}.{name}")

        def persistent_load(self, pid):
            _, kind, key, _, count = pid[:5]
            storages.setdefault(key, (kind, count))
            return key

    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system info
            pickle.load(f)
        state = Unpickler(f).load()
        keys = pickle.load(f)
        data = {}
        for key in keys:
            kind, _ = storages[key]
            dtype = {"FloatStorage": np.float32, "LongStorage": np.int64}[kind]
            count = int.from_bytes(f.read(8), "little")
            data[key] = np.frombuffer(f.read(count * np.dtype(dtype).itemsize), dtype=dtype)
    tensors = {}
    for name, (_, key, offset, size, stride) in state.items():
        storage = data[key]
        item = storage.itemsize
        tensors[name] = np.lib.stride_tricks.as_strided(
            storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)).astype(np.float64)
    return tensors


def same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def padded(x, kernel, stride):
    """x padded as TF SAME padding does, and the output's height and width."""
    _, h, width, _ = x.shape
    top, bottom = same_pads(h, kernel, stride)
    left, right = same_pads(width, kernel, stride)
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))), -(-h // stride), -(-width // stride)


def taps(x, kernel, stride):
    """Each (dy, dx) tap's strided view of the padded input."""
    x, oh, ow = padded(x, kernel, stride)
    for dy in range(kernel):
        for dx in range(kernel):
            yield dy, dx, x[:, dy:dy + stride * oh:stride, dx:dx + stride * ow:stride, :]


def conv(x, w, stride):
    """Dense convolution, x NHWC, w [out, in, k, k] (PyTorch), TF SAME padding."""
    return sum(patch @ w[:, :, dy, dx].T for dy, dx, patch in taps(x, w.shape[2], stride))


def depthwise(x, w, stride):
    return sum(patch * w[:, 0, dy, dx] for dy, dx, patch in taps(x, w.shape[2], stride))


def batch_norm(x, t, prefix):
    scale = t[prefix + ".weight"] / np.sqrt(t[prefix + ".running_var"] + EPS)
    return (x - t[prefix + ".running_mean"]) * scale + t[prefix + ".bias"]


def relu6(x):
    return np.clip(x, 0, 6)


def forward(t, member, x):
    x = relu6(batch_norm(conv(x, t["_conv_stem.weight"], 2), t, "_bn0"))
    for index, block in enumerate(block_list(member)):
        p = f"_blocks.{index}."
        y = x
        if block["expand"] != 1:
            y = relu6(batch_norm(y @ t[p + "_expand_conv.weight"][:, :, 0, 0].T, t, p + "_bn0"))
        y = relu6(batch_norm(depthwise(y, t[p + "_depthwise_conv.weight"], block["stride"]), t, p + "_bn1"))
        y = batch_norm(y @ t[p + "_project_conv.weight"][:, :, 0, 0].T, t, p + "_bn2")
        if block["stride"] == 1 and block["inputs"] == block["outputs"]:
            y = y + x
        x = y
    x = relu6(batch_norm(x @ t["_conv_head.weight"][:, :, 0, 0].T, t, "_bn1"))
    embedding = x.mean(axis=(1, 2))
    return embedding @ t["_fc.weight"].T + t["_fc.bias"], embedding


def main():
    path, member, input_path, batch, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    tensors = load_legacy_checkpoint(path)
    x = np.fromfile(input_path, dtype="<f4").astype(np.float64).reshape(batch, size, size, 3)
    logits, embeddings = forward(tensors, member, x)
    print(json.dumps({"logits": logits.tolist(), "embeddings": embeddings.tolist()}))


if __name__ == "__main__":
    main()
