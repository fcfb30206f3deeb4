"""Writes small PyTorch-format checkpoints without PyTorch, for FishOps' reader tests.

The layout follows torch.save: a pickle (protocol 2) of an OrderedDict whose tensors reduce to
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks), with each
storage replaced by a persistent id ('storage', <torch.FloatStorage>, key, 'cpu', numel).

usage: torch_checkpoints.py legacy|zip|nested|bomb OUTPUT
The state dict holds:
  "a.weight": float32 [2, 3] = 0..5, stored transposed (stride (1, 2)) like the pretrained file
  "a.bias":   float32 [3] = [0.5, -1.5, 2.25], a view at offset 1 of a 4-element storage
  "a.num_batches_tracked": int64 scalar = 7
Hostile files: "nested" is a zip whose data.pkl is 50,000 nested lists (about 100 KB);
"bomb" a zip whose data.pkl deflates from about 200 KB to 200 MB.
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils


class FloatStorage:
    pass


class LongStorage:
    pass


FloatStorage.__module__ = LongStorage.__module__ = "torch"
torch.FloatStorage, torch.LongStorage = FloatStorage, LongStorage


def _rebuild_tensor_v2(*args):
    raise RuntimeError("never called: only pickled")


_rebuild_tensor_v2.__module__ = "torch._utils"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, kind, values):
        self.key, self.kind, self.values = key, kind, values

    def raw(self):
        code = "<%df" % len(self.values) if self.kind is FloatStorage else "<%dq" % len(self.values)
        return struct.pack(code, *self.values)


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, self.args)


# [2, 3] weight 0..5 stored column-major: storage holds w[0,0], w[1,0], w[0,1], w[1,1], ...
weight = Storage("0", FloatStorage, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0])
bias = Storage("1", FloatStorage, [99.0, 0.5, -1.5, 2.25])
steps = Storage("2", LongStorage, [7])
STORAGES = [weight, bias, steps]
STATE = collections.OrderedDict([
    ("a.weight", Tensor(weight, 0, (2, 3), (1, 2))),
    ("a.bias", Tensor(bias, 1, (3,), (1,))),
    ("a.num_batches_tracked", Tensor(steps, 0, (), ())),
])


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", obj.kind, obj.key, "cpu", len(obj.values))
        return None


def pickled(obj):
    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_legacy(path):
    with open(path, "wb") as out:
        for header in (0x1950A86A20F9469CFC6C, 1001,
                       {"protocol_version": 1001, "little_endian": True,
                        "type_sizes": {"short": 2, "int": 4, "long": 4}}):
            pickle.dump(header, out, protocol=2)
        out.write(pickled(STATE))
        pickle.dump([s.key for s in STORAGES], out, protocol=2)
        for storage in STORAGES:
            out.write(struct.pack("<q", len(storage.values)))
            out.write(storage.raw())


def write_zip(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("checkpoint/data.pkl", pickled(STATE))
        archive.writestr("checkpoint/byteorder", "little")
        for storage in STORAGES:
            archive.writestr("checkpoint/data/" + storage.key, storage.raw())
        archive.writestr("checkpoint/version", "3\n")


def write_nested(path):
    # Built opcode by opcode: Python's own pickler recurses and would hit its recursion limit.
    depth = 50_000
    data = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."  # EMPTY_LIST x n, APPEND x n-1, STOP
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("checkpoint/data.pkl", data)
        archive.writestr("checkpoint/byteorder", "little")


def write_bomb(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("checkpoint/data.pkl", "w", force_zip64=True) as entry:
            entry.write(b"\x80\x02")
            chunk = b"N0" * (1 << 19)  # NONE, POP: a valid but endless pickle
            for _ in range(200):
                entry.write(chunk)
        archive.writestr("checkpoint/byteorder", "little")


if __name__ == "__main__":
    {"legacy": write_legacy, "zip": write_zip, "nested": write_nested, "bomb": write_bomb}[sys.argv[1]](sys.argv[2])
