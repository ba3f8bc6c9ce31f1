"""The design brief's GPU workloads in PyTorch eager on CUDA device 0 (bench/gpu_workloads.cpp
runs the same in tenflowers): W1 over 512M f32 (eager, torch.compile, and a copy), host-to-device
copies of 256 MiB from pageable and from pinned memory, W2 GEMM 8192^3 in fp32, tf32 and bf16,
W3/W4 train steps (eager, and captured with torch.cuda.graph and replayed), W5 ResNet-18 train
steps, W6 batch 16 x seq
512, W7. Prints
`RESULT <workload> <variant> <unit> <value>` lines, medians of 5 repetitions of CUDA-event
timings after a warm-up."""
import statistics
import sys

import torch
from torch import nn

W1_N = 512 * 2**20
H2D_N = 64 * 2**20  # 256 MiB of f32
W2_N = 8192
W7_CHAIN = 10_000
REPEATS = 5


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def result(workload, variant, unit, value):
    print(f"RESULT {workload} {variant} {unit} {value:.6g}", flush=True)


def timed(fn, calls):
    """Seconds of `calls` back-to-back calls of fn, by CUDA events."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3


def seconds_per_call(fn, min_seconds=0.5):
    """Median over REPEATS repetitions of the mean time of one call, by CUDA events."""
    fn()
    torch.cuda.synchronize()
    calls = 1  # calls per repetition: enough for min_seconds
    while timed(fn, calls) < min_seconds / REPEATS and calls < 1 << 16:
        calls *= 2
    return statistics.median(timed(fn, calls) / calls for _ in range(REPEATS))


def w1():
    x = torch.rand(W1_N, device="cuda") * 2 - 1
    out = torch.empty_like(x)
    moved = 2 * 4 * W1_N
    result("W1", "n512M", "GB_per_s", moved / seconds_per_call(lambda: torch.relu(x * 1.5 + 0.25)) / 1e9)
    compiled = torch.compile(lambda t: torch.relu(t * 1.5 + 0.25))
    result("W1", "graph_n512M", "GB_per_s", moved / seconds_per_call(lambda: compiled(x)) / 1e9)
    result("copy", "n512M", "GB_per_s", moved / seconds_per_call(lambda: out.copy_(x)) / 1e9)


def h2d():
    """x.to('cuda') of 256 MiB of f32 from pageable memory, and from pinned memory with
    non_blocking=True; each call synchronizes, as tenflowers' H2D benchmarks do."""
    n = H2D_N
    pageable = torch.rand(n)
    pinned = pageable.pin_memory()

    def copy(src, non_blocking):
        out = src.to("cuda", non_blocking=non_blocking)
        torch.cuda.synchronize()
        return out
    result("H2D", "pageable_256M", "GB_per_s", 4 * n / seconds_per_call(lambda: copy(pageable, False)) / 1e9)
    result("H2D", "pinned_256M", "GB_per_s", 4 * n / seconds_per_call(lambda: copy(pinned, True)) / 1e9)


def w2():
    for variant, dtype, tf32 in [("fp32", torch.float32, False), ("tf32", torch.float32, True),
                                 ("bf16", torch.bfloat16, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.rand(W2_N, W2_N, device="cuda", dtype=dtype) * 2 - 1
        b = torch.rand(W2_N, W2_N, device="cuda", dtype=dtype) * 2 - 1
        result("W2", variant, "TFLOP_per_s", 2 * W2_N**3 / seconds_per_call(lambda: a @ b) / 1e12)
    torch.backends.cuda.matmul.allow_tf32 = False


def train_step_fn(model, x, y, make_optimizer=lambda params: torch.optim.Adam(params, lr=1e-3)):
    """One eager train step, as tenflowers' train_step: forward, softmax cross-entropy,
    backward, the optimizer's step (torch's default, non-fused implementation; Adam unless
    given), and the loss read back."""
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def graph_train_step_fn(model, x, y):
    """The same train step captured once with torch.cuda.graph and replayed, as the torch docs
    show for a whole network: Adam with capturable=True, warm-up iterations on a side stream,
    grads set to None before the capture; the loss read back each step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=True)
    loss_fn = nn.CrossEntropyLoss()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        static_loss = loss_fn(model(x), y)
        static_loss.backward()
        optimizer.step()

    def step():
        graph.replay()
        return static_loss.item()
    return step


def w3_w4():
    mlp = lambda: nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                                nn.Linear(1024, 10)).cuda()
    for batch in (512, 32):
        x = torch.rand(batch, 784, device="cuda")
        y = torch.randint(0, 10, (batch,), device="cuda")
        result("W3", f"batch{batch}", "samples_per_s",
               batch / seconds_per_call(train_step_fn(mlp(), x, y)))
        result("W3", f"graph_batch{batch}", "samples_per_s",
               batch / seconds_per_call(graph_train_step_fn(mlp(), x, y)))
    cnn = lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)).cuda()
    x = torch.rand(256, 1, 28, 28, device="cuda")
    y = torch.randint(0, 10, (256,), device="cuda")
    result("W4", "batch256", "samples_per_s", 256 / seconds_per_call(train_step_fn(cnn(), x, y)))
    result("W4", "graph_batch256", "samples_per_s",
           256 / seconds_per_call(graph_train_step_fn(cnn(), x, y)))


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock (torchvision may be missing on the GPU machine)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + self.shortcut(x))


def resnet18(classes):
    """The CIFAR ResNet-18 of tenflowers' nn::models::resnet18: a 3x3 stride-1 stem, no max-pool."""
    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    cin = 64
    for stage, width in enumerate((64, 128, 256, 512)):
        layers += [BasicBlock(cin, width, 1 if stage == 0 else 2), BasicBlock(width, width, 1)]
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, classes)]
    return nn.Sequential(*layers)


def w5():
    x = torch.rand(256, 3, 32, 32, device="cuda")
    y = torch.randint(0, 10, (256,), device="cuda")
    sgd = lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)
    result("W5", "batch256", "samples_per_s",
           256 / seconds_per_call(train_step_fn(resnet18(10).cuda(), x, y, sgd)))


def w6():
    batch, seq = 16, 512
    layer = nn.TransformerEncoderLayer(d_model=768, nhead=12, dim_feedforward=3072, dropout=0.0,
                                       batch_first=True).cuda()
    x = torch.randn(batch, seq, 768, device="cuda")

    def step():
        layer.zero_grad(set_to_none=True)
        layer(x).mean().backward()
    result("W6", f"b{batch}_s{seq}", "tokens_per_s", batch * seq / seconds_per_call(step))


def w7():
    one = torch.ones(1, device="cuda")

    def chain():
        y = torch.zeros(1, device="cuda")
        for _ in range(W7_CHAIN):
            y = y + one
        return y
    result("W7", "no_tape", "us_per_op", seconds_per_call(chain, 0.2) / W7_CHAIN * 1e6)


def main():
    torch.manual_seed(1)
    log(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    # Convolutions in full fp32 (cuDNN's TF32 default off) with each one's algorithm picked by
    # measurement (cudnn.benchmark), as tenflowers runs them.
    torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark = False, True
    for run in (w1, h2d, w2, w3_w4, w5, w6, w7):
        log(f"torch {run.__name__}")
        run()


if __name__ == "__main__":
    main()
