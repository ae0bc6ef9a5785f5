"""The peer of benchmarks/gan.py: the TensorFlow DCGAN tutorial's training loop, re-implemented.

Source: "Deep Convolutional Generative Adversarial Network", TensorFlow tutorials,
https://www.tensorflow.org/tutorials/generative/dcgan (notebook
github.com/tensorflow/docs/blob/master/site/en/tutorials/generative/dcgan.ipynb), after
Radford, Metz and Chintala 2016, "Unsupervised representation learning with deep
convolutional generative adversarial networks", ICLR (arXiv:1511.06434).

What is kept from the tutorial, as it is written there:

* ``make_generator_model()``: a ``Sequential`` of Dense(7*7*256, use_bias=False),
  BatchNormalization(), LeakyReLU(), Reshape((7, 7, 256)), Conv2DTranspose(128, (5, 5),
  strides=(1, 1), padding="same", use_bias=False), BatchNormalization(), LeakyReLU(),
  Conv2DTranspose(64, (5, 5), strides=(2, 2), ...), BatchNormalization(), LeakyReLU(),
  Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False,
  activation="tanh"); every layer with Keras' defaults (Glorot-uniform kernels, batch-norm
  momentum 0.99 and epsilon 1e-3, leaky slope 0.3);
* ``make_discriminator_model()``: Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
  LeakyReLU(), Dropout(0.3), Conv2D(128, ...), LeakyReLU(), Dropout(0.3), Flatten(), Dense(1);
* ``BinaryCrossentropy(from_logits=True)`` losses (discriminator: ones on the real outputs plus
  zeros on the fake ones; generator: ones on the fake ones), two ``Adam(1e-4)``;
* ``@tf.function train_step(images)``: noise ``tf.random.normal([BATCH_SIZE, noise_dim])``, two
  ``tf.GradientTape`` s, the generator called once and the discriminator twice (real, then
  fake) with ``training=True``, both gradients, then ``apply_gradients`` for the generator and
  for the discriminator; no value is read back to Python inside the loop;
* data: ``tf.data.Dataset.from_tensor_slices(train_images).shuffle(BUFFER_SIZE).batch(256)``,
  the images scaled as ``(x - 127.5) / 127.5``, and a Python ``for image_batch in dataset``
  loop per epoch calling ``train_step``; it runs on Keras 3 with the tensorflow backend.

Deviations (each one either needed to time it or to give equal work):

* the timed unit is ``steps`` calls of ``train_step`` (the same number of updates as every
  coursekit row), not whole epochs; the epoch loop is a generator that restarts the
  ``for image_batch in dataset`` loop when an epoch ends, as ``train()`` does;
* ``batch(BATCH_SIZE, drop_remainder=True)``: every step has 256 images (the tutorial's last
  batch of an epoch has 60,000 mod 256 = 96, which would make some steps cheaper and retrace
  ``train_step`` once);
* the images come from coursekit's loader (``ck.data.load_mnist("train")``, the same digits as
  the coursekit rows; the 60,000 MNIST digits, or the 4,000-digit fallback without network)
  instead of ``tf.keras.datasets.mnist.load_data()``, and ``BUFFER_SIZE`` is their number
  (60,000 in the tutorial: a full shuffle either way);
* the layer widths, noise size and batch are arguments (defaults: the tutorial's), so that
  ``--quick`` can shrink them; the 7 x 7 first grid and 28 x 28 images are fixed;
* the first layer of each ``Sequential`` is ``keras.Input(...)`` instead of the
  ``input_shape=`` argument (Keras 3's form; the same model, without the warning);
* ``keras.utils.set_random_seed(seed)`` before building (the tutorial seeds nothing);
* no checkpoints, no image grids, no printing, no ``display`` (outside the training step);
* the first call (the untimed warm-up, which traces ``train_step``) runs inside coursekit's
  ``quiet_native_stderr``, which drops TensorFlow's known C++ notices, as for coursekit's own
  compiled functions;
* after the last step of a timed sample, one read of the generator optimiser's step counter,
  so that the time includes all the work (a microsecond; TensorFlow on the CPU runs a
  ``tf.function`` call synchronously anyway).

:func:`peer_row` is the worker factory of :mod:`series` (``"peer_gan:peer_row"``); it imports
TensorFlow and Keras inside, after ``import coursekit`` (which sets TensorFlow's thread pools
from ``COURSEKIT_THREADS``, as for every row).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

#: The tutorial's constants.
BATCH_SIZE = 256
NOISE_DIM = 100
GENERATOR_CHANNELS = (256, 128, 64)
DISCRIMINATOR_CHANNELS = (64, 128)
LEARNING_RATE = 1e-4


def make_generator_model(noise_dim: int = NOISE_DIM, channels=GENERATOR_CHANNELS) -> Any:
    """The tutorial's generator, ``[n, noise_dim] -> [n, 28, 28, 1]``."""
    import keras
    from keras import layers

    c0, c1, c2 = channels
    model = keras.Sequential()
    model.add(keras.Input(shape=(noise_dim,)))
    model.add(layers.Dense(7 * 7 * c0, use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, c0)))
    assert model.output_shape == (None, 7, 7, c0)

    model.add(layers.Conv2DTranspose(c1, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    assert model.output_shape == (None, 7, 7, c1)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(c2, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    assert model.output_shape == (None, 14, 14, c2)
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False,
                                     activation="tanh"))  # fmt: skip
    assert model.output_shape == (None, 28, 28, 1)
    return model


def make_discriminator_model(channels=DISCRIMINATOR_CHANNELS) -> Any:
    """The tutorial's discriminator, ``[n, 28, 28, 1] -> logits [n, 1]``."""
    import keras
    from keras import layers

    d1, d2 = channels
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(d1, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(d2, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model


def make_tutorial(
    train_images: Any,
    *,
    batch_size: int = BATCH_SIZE,
    noise_dim: int = NOISE_DIM,
    generator_channels=GENERATOR_CHANNELS,
    discriminator_channels=DISCRIMINATOR_CHANNELS,
) -> tuple[Callable[[Any], None], Iterator[Any], dict[str, Any]]:
    """The tutorial's ``train_step``, an endless iterator over its dataset's batches (epoch
    after epoch) and its objects, for ``train_images`` float32 ``[n, 28, 28, 1]`` in [-1, 1]."""
    import keras
    import tensorflow as tf

    buffer_size = len(train_images)
    train_dataset = (
        tf.data.Dataset.from_tensor_slices(train_images)
        .shuffle(buffer_size)
        .batch(batch_size, drop_remainder=True)
    )
    generator = make_generator_model(noise_dim, generator_channels)
    discriminator = make_discriminator_model(discriminator_channels)

    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
        total_loss = real_loss + fake_loss
        return total_loss

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    generator_optimizer = keras.optimizers.Adam(LEARNING_RATE)
    discriminator_optimizer = keras.optimizers.Adam(LEARNING_RATE)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([batch_size, noise_dim])

        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)

            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)

            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)

        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, discriminator.trainable_variables
        )

        generator_optimizer.apply_gradients(
            zip(gradients_of_generator, generator.trainable_variables, strict=False)
        )
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables, strict=False)
        )

    def epochs() -> Iterator[Any]:
        while True:  # train(): `for epoch in range(epochs): for image_batch in dataset: ...`
            yield from train_dataset

    objects = {"generator": generator, "discriminator": discriminator,
               "generator_optimizer": generator_optimizer,
               "discriminator_optimizer": discriminator_optimizer, "dataset": train_dataset}
    return train_step, epochs(), objects  # fmt: skip


def peer_row(
    batch: int = BATCH_SIZE,
    steps: int = 5,
    latent: int = NOISE_DIM,
    g: tuple[int, int, int] = GENERATOR_CHANNELS,
    d: tuple[int, int] = DISCRIMINATOR_CHANNELS,
    seed: int = 0,
) -> tuple[Callable[[], float], dict]:
    """Worker factory: ``run()`` times ``steps`` tutorial training steps, data loop included."""
    from gan_rows import framework_info, train_images_uint8

    import coursekit as ck  # before TensorFlow: it sets the thread pools

    images, origin = train_images_uint8(batch)
    train_images = images.reshape(images.shape[0], 28, 28, 1).astype("float32")
    train_images = (train_images - 127.5) / 127.5  # Normalize the images to [-1, 1]

    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("the DCGAN tutorial peer runs on Keras' tensorflow backend")
    keras.utils.set_random_seed(seed)
    train_step, batches, objects = make_tutorial(
        train_images, batch_size=batch, noise_dim=latent, generator_channels=tuple(g),
        discriminator_channels=tuple(d),
    )  # fmt: skip
    counter = objects["generator_optimizer"].iterations
    traced = []

    def run() -> float:
        # the first call (the untimed warm-up) traces train_step: drop grappler's C++ notices
        # ("remapper failed ..."), as coursekit's own compiled functions do
        quiet = contextlib.nullcontext() if traced else ck.config.quiet_native_stderr()
        with quiet:
            start = time.perf_counter()
            for image_batch in itertools.islice(batches, steps):  # the next `steps` batches
                train_step(image_batch)
            int(counter.numpy())
            seconds = time.perf_counter() - start
        traced.append(True)
        return seconds

    info = {"framework": f"TensorFlow {tf.__version__}, Keras {keras.__version__} "
                         f"(backend {keras.backend.backend()})",
            "data": origin, "images": len(train_images), "threads": ck.num_threads(),
            **framework_info()}  # fmt: skip
    return run, info
