"""The design brief's standard workloads W1-W4, W6 and W7 in TensorFlow on the CPU (W8 is
w8_tf.py). TF eager by default: plain tf.GradientTape and optimizer.apply_gradients, no
tf.function. With --tf-function the train steps (and W1) run as tf.function graphs instead;
W2 (one kernel either way) and W7 (eager op overhead) are then skipped.
Prints `RESULT <workload> <variant> <unit> <value>` lines, medians of 5 repetitions after a
warm-up; logs go to stderr."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter short

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

from peer_common import log, parse_args, result, seconds_per_call  # noqa: E402

W1_N = 16 * 2**20
W2_N = 2048
W7_CHAIN = 10_000


def maybe_graph(fn, graph):
    return tf.function(fn) if graph else fn


def w1(quick, graph):
    x = tf.random.normal([W1_N])
    bytes_moved = 2 * 4 * W1_N  # one read and one write of N f32
    step = maybe_graph(lambda: tf.nn.relu(x * 1.5 + 0.25), graph)
    variant = "graph_n16M" if graph else "n16M"
    result("W1", variant, "GB_per_s", bytes_moved / seconds_per_call(step, quick) / 1e9)
    # tf.identity may alias its input; DeepCopy always writes a new buffer.
    step = maybe_graph(lambda: tf.raw_ops.DeepCopy(x=x), graph)
    result("copy", "n16M", "GB_per_s", bytes_moved / seconds_per_call(step, quick) / 1e9)


def w2(quick, graph):
    a, b = tf.random.normal([W2_N, W2_N]), tf.random.normal([W2_N, W2_N])
    seconds = seconds_per_call(lambda: tf.linalg.matmul(a, b), quick)
    result("W2", "n2048", "GFLOP_per_s", 2 * W2_N**3 / seconds / 1e9)


def train_step_fn(model, x, y, graph):
    """One train step: forward, softmax cross-entropy, gradient, Adam."""
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return maybe_graph(step, graph)


def mlp():
    return keras.Sequential([keras.Input((784,)), layers.Dense(1024, activation="relu"),
                             layers.Dense(1024, activation="relu"), layers.Dense(10)])


def w4_cnn():
    # Channels last: TF's CPU convolutions support only NHWC.
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10)])


def random_labels(batch):
    return tf.random.uniform([batch], 0, 10, dtype=tf.int64)


def w3(quick, graph):
    for batch in (512, 32):
        x = tf.random.normal([batch, 784])
        step = train_step_fn(mlp(), x, random_labels(batch), graph)
        result("W3", f"batch{batch}", "samples_per_s", batch / seconds_per_call(step, quick))


def w4(quick, graph):
    batch = 256
    x = tf.random.uniform([batch, 28, 28, 1])
    step = train_step_fn(w4_cnn(), x, random_labels(batch), graph)
    result("W4", f"batch{batch}", "samples_per_s", batch / seconds_per_call(step, quick))


def encoder_layer(seq, d_model=768, heads=12, ff=3072):
    """Post-norm Transformer encoder layer, as torch's TransformerEncoderLayer (ReLU feed
    forward, no dropout, layer-norm epsilon 1e-5)."""
    x = keras.Input((seq, d_model))
    attended = layers.MultiHeadAttention(heads, d_model // heads)(x, x)
    x1 = layers.LayerNormalization(epsilon=1e-5)(x + attended)
    fed = layers.Dense(d_model)(layers.Dense(ff, activation="relu")(x1))
    return keras.Model(x, layers.LayerNormalization(epsilon=1e-5)(x1 + fed))


def w6(quick, graph):
    batch, seq = 2, 128
    model = encoder_layer(seq)
    x = tf.random.normal([batch, seq, 768])

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)
    seconds = seconds_per_call(maybe_graph(step, graph), quick)
    result("W6", f"b{batch}_s{seq}", "tokens_per_s", batch * seq / seconds)


def add_chain(record, backward):
    one = tf.ones([1])
    x = tf.zeros([1])
    if not record:
        for _ in range(W7_CHAIN):
            x = x + one
        return
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for _ in range(W7_CHAIN):
            y = y + one
    if backward:
        tape.gradient(y, x)


def w7(quick, graph):
    del graph  # eager only: see the module's docstring
    for variant, record, backward in [("no_tape", False, False), ("tape", True, False),
                                      ("tape_and_backward", True, True)]:
        seconds = seconds_per_call(lambda: add_chain(record, backward), quick)
        result("W7", variant, "us_per_op", seconds / W7_CHAIN * 1e6)


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W6": w6, "W7": w7}
EAGER_ONLY = {"W2", "W7"}


def add_options(parser):
    parser.add_argument("--tf-function", action="store_true",
                        help="run the steps as tf.function graphs instead of eagerly")


def main():
    args = parse_args(__doc__.splitlines()[0], add_options)
    # Must come before the first op runs.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(1)
    mode = "tf.function" if args.tf_function else "eager"
    log(f"tensorflow {tf.__version__} ({mode}), {args.threads} threads")
    for name, run in WORKLOADS.items():
        if name in args.only and not (args.tf_function and name in EAGER_ONLY):
            log(f"tensorflow {mode} {name}")
            run(args.quick, args.tf_function)


if __name__ == "__main__":
    main()
