"""Interop oracle for tests/io/safetensors_test.cpp, using the safetensors package.

Given the test's folder, it checks the metadata of the files the C++ side wrote against
expected_metadata.json, then writes back the same tensors (py_same*.safetensors) and the negated
tensors (py_negated*.safetensors) with metadata {"format": "np"}. numpy has no bfloat16, so the
BF16 file goes through the package's framework-free deserialize/serialize_file, negating by
flipping the sign bit.
"""
import json
import sys
from pathlib import Path

import numpy as np
from safetensors import TensorSpec, deserialize, safe_open, serialize_file
from safetensors.numpy import load_file, save_file

WRITE_METADATA = {"format": "np"}


def check_metadata(path, expected):
    with safe_open(str(path), framework="np") as f:
        found = f.metadata()
    if found != expected:
        sys.exit(f"{path}: metadata {found!r}, expected {expected!r}")


def negate(array):
    # asarray: NumPy returns a scalar, not a 0-d array, for 0-d inputs.
    return np.asarray(np.logical_not(array) if array.dtype == bool else np.negative(array))


def write_bf16(entries, path):
    arrays = {name: np.frombuffer(bytes(data), dtype=np.uint16).copy() for name, data, _ in entries}
    specs = {
        name: TensorSpec(dtype="bfloat16", shape=shape, data_ptr=arrays[name].ctypes.data,
                         data_len=arrays[name].nbytes)
        for name, _, shape in entries
    }
    serialize_file(specs, str(path), metadata=WRITE_METADATA)


def main(folder):
    folder = Path(folder)
    expected = json.loads((folder / "expected_metadata.json").read_text(encoding="utf-8"))

    check_metadata(folder / "cpp.safetensors", expected)
    tensors = load_file(str(folder / "cpp.safetensors"))
    save_file(tensors, str(folder / "py_same.safetensors"), metadata=WRITE_METADATA)
    save_file({name: negate(a) for name, a in tensors.items()},
              str(folder / "py_negated.safetensors"), metadata=WRITE_METADATA)

    check_metadata(folder / "cpp_bf16.safetensors", expected)
    entries = []
    for name, info in deserialize((folder / "cpp_bf16.safetensors").read_bytes()):
        if info["dtype"] != "BF16":
            sys.exit(f"{name}: dtype {info['dtype']}, expected BF16")
        entries.append((name, info["data"], info["shape"]))
    write_bf16(entries, folder / "py_same_bf16.safetensors")
    negated = [(name, (np.frombuffer(bytes(data), dtype=np.uint16) ^ 0x8000).tobytes(), shape)
               for name, data, shape in entries]
    write_bf16(negated, folder / "py_negated_bf16.safetensors")


if __name__ == "__main__":
    main(sys.argv[1])
