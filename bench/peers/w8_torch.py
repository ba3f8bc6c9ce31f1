"""W8 for PyTorch: the W4 CNN trained 5 epochs on Fashion-MNIST (batch 128, Adam 1e-3), the
same model, initialization family and data order rules as tenflowers-train. Prints seconds per
epoch and the test accuracy after the last epoch."""
import gzip
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

DATA = Path("/usr/share/datasets/fashion-mnist")


def read_idx(name):
    with gzip.open(DATA / f"{name}.gz", "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    images = read_idx(f"{split}-images-idx3-ubyte").astype(np.float32) / 255.0
    labels = read_idx(f"{split}-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def w4_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x_train, y_train = load("train")
    x_test, y_test = load("t10k")
    model = w4_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds = []
    for epoch in range(epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x_train))
        for first in range(0, len(order), 128):
            batch = order[first:first + 128]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
        print(f"epoch {epoch + 1}: {epoch_seconds[-1]:.1f} s", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
                      for i in range(0, len(x_test), 1000))
    print(f"torch {torch.__version__}: {statistics.median(epoch_seconds):.1f} s per epoch (median), "
          f"test accuracy {correct / len(x_test):.4f}")


if __name__ == "__main__":
    main()
