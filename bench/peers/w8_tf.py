"""W8 for TensorFlow: the W4 CNN trained 5 epochs on Fashion-MNIST (batch 128, Adam 1e-3) with
Keras's compile and fit (TF's usual way, which runs the step as a graph). Prints `RESULT W8 ...`
lines: the median seconds per epoch, the test accuracy after the last epoch and the process's
peak resident memory; logs go to stderr."""
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's start-up chatter short

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from peer_common import fashion_mnist, log, parse_w8_args, peak_rss_mib, result  # noqa: E402
from tf_workloads import w4_cnn  # noqa: E402

BATCH = 128


class EpochTimer(keras.callbacks.Callback):
    """Seconds of each epoch's training (fit's own bookkeeping included)."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        log(f"tensorflow {tf.__version__} epoch {epoch + 1}: {self.seconds[-1]:.1f} s")


def load(split, limit=None):
    images, labels = fashion_mnist(split)
    return images[:limit, :, :, None], labels[:limit]  # NHWC: TF's CPU convolutions


def main():
    args = parse_w8_args(__doc__.splitlines()[0])
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(1)
    x_train, y_train = load("train", 6000 if args.quick else None)
    x_test, y_test = load("t10k")
    model = w4_cnn()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["sparse_categorical_accuracy"])
    timer = EpochTimer()
    model.fit(x_train, y_train, batch_size=BATCH, epochs=1 if args.quick else args.epochs,
              shuffle=True, verbose=0, callbacks=[timer])
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    result("W8", "epoch", "s_per_epoch", statistics.median(timer.seconds))
    result("W8", "test", "accuracy", test_accuracy)
    result("W8", "peak_rss", "MiB", peak_rss_mib())


if __name__ == "__main__":
    main()
