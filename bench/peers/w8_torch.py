"""W8 for PyTorch: the W4 CNN trained 5 epochs on Fashion-MNIST (batch 128, Adam 1e-3), the
same model, initialization family and data order rules as tenflowers-train. Prints
`RESULT W8 ...` lines: the median seconds per epoch, the test accuracy after the last epoch and
the process's peak resident memory; logs go to stderr."""
import statistics
import time

import torch
from torch import nn

from peer_common import fashion_mnist, log, parse_w8_args, peak_rss_mib, result
from torch_workloads import w4_cnn

BATCH = 128


def load(split, limit=None):
    images, labels = fashion_mnist(split)
    images, labels = images[:limit], labels[:limit]
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def train_epoch(model, optimizer, loss_fn, x, y):
    model.train()
    order = torch.randperm(len(x))
    for first in range(0, len(order), BATCH):
        batch = order[first:first + BATCH]
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x[batch]), y[batch]).backward()
        optimizer.step()


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                      for i in range(0, len(x), 1000))
    return correct / len(x)


def main():
    args = parse_w8_args(__doc__.splitlines()[0])
    epochs = 1 if args.quick else args.epochs
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x_train, y_train = load("train", 6000 if args.quick else None)
    x_test, y_test = load("t10k")
    model = w4_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    epoch_seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        train_epoch(model, optimizer, loss_fn, x_train, y_train)
        epoch_seconds.append(time.perf_counter() - start)
        log(f"torch {torch.__version__} epoch {epoch + 1}: {epoch_seconds[-1]:.1f} s")
    result("W8", "epoch", "s_per_epoch", statistics.median(epoch_seconds))
    result("W8", "test", "accuracy", accuracy(model, x_test, y_test))
    result("W8", "peak_rss", "MiB", peak_rss_mib())


if __name__ == "__main__":
    main()
