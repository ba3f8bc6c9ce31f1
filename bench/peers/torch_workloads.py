"""The design brief's standard workloads W1-W4, W6 and W7 in PyTorch eager on the CPU (W8 is
w8_torch.py); W1 also with torch.compile. Prints `RESULT <workload> <variant> <unit> <value>` lines, medians of 5
repetitions after a warm-up; logs go to stderr."""
import torch
from torch import nn

from peer_common import log, parse_args, result, seconds_per_call

W1_N = 16 * 2**20
W2_N = 2048
W7_CHAIN = 10_000


def w1(quick):
    x = torch.randn(W1_N)
    copy = torch.empty_like(x)
    bytes_moved = 2 * 4 * W1_N  # one read and one write of N f32
    seconds = seconds_per_call(lambda: torch.relu(x * 1.5 + 0.25), quick)
    result("W1", "n16M", "GB_per_s", bytes_moved / seconds / 1e9)
    # The graph variant: torch.compile (Inductor generates one fused C++ loop).
    compiled = torch.compile(lambda t: torch.relu(t * 1.5 + 0.25))
    compiled(x)  # compiles outside the timing
    seconds = seconds_per_call(lambda: compiled(x), quick)
    result("W1", "graph_n16M", "GB_per_s", bytes_moved / seconds / 1e9)
    seconds = seconds_per_call(lambda: copy.copy_(x), quick)
    result("copy", "n16M", "GB_per_s", bytes_moved / seconds / 1e9)


def w2(quick):
    a, b = torch.randn(W2_N, W2_N), torch.randn(W2_N, W2_N)
    c = torch.empty(W2_N, W2_N)
    seconds = seconds_per_call(lambda: torch.mm(a, b, out=c), quick)
    result("W2", "n2048", "GFLOP_per_s", 2 * W2_N**3 / seconds / 1e9)


def train_step_fn(model, x, y):
    """One eager train step: forward, softmax cross-entropy, backward, Adam."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()
    return step


def mlp():
    return nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 10))


def w4_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def w3(quick):
    for batch in (512, 32):
        x, y = torch.randn(batch, 784), torch.randint(0, 10, (batch,))
        seconds = seconds_per_call(train_step_fn(mlp(), x, y), quick)
        result("W3", f"batch{batch}", "samples_per_s", batch / seconds)


def w4(quick):
    batch = 256
    x, y = torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    seconds = seconds_per_call(train_step_fn(w4_cnn(), x, y), quick)
    result("W4", f"batch{batch}", "samples_per_s", batch / seconds)


def w6(quick):
    batch, seq = 2, 128
    layer = nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072,
                                       dropout=0.0, batch_first=True)
    x = torch.randn(batch, seq, 768)

    def step():
        layer.zero_grad(set_to_none=True)
        layer(x).sum().backward()
    seconds = seconds_per_call(step, quick)
    result("W6", f"b{batch}_s{seq}", "tokens_per_s", batch * seq / seconds)


def add_chain(requires_grad, backward):
    one = torch.ones(1)
    x = torch.zeros(1, requires_grad=requires_grad)
    y = x
    for _ in range(W7_CHAIN):
        y = y + one
    if backward:
        y.backward()


def w7(quick):
    for variant, grad, backward in [("no_tape", False, False), ("tape", True, False),
                                    ("tape_and_backward", True, True)]:
        seconds = seconds_per_call(lambda: add_chain(grad, backward), quick)
        result("W7", variant, "us_per_op", seconds / W7_CHAIN * 1e6)


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W6": w6, "W7": w7}


def main():
    args = parse_args(__doc__.splitlines()[0])
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    log(f"torch {torch.__version__}, {args.threads} threads")
    for name, run in WORKLOADS.items():
        if name in args.only:
            log(f"torch {name}")
            run(args.quick)


if __name__ == "__main__":
    main()
