"""The VAE benchmark's two peers: the tutorials the course's VAEs are measured against.

Both are re-implemented from their public code, one training epoch per timed sample, on the same
images, batch and number of Adam updates as the coursekit rows they are compared with.

**MLP, 784-400-20** (:func:`mlp_peer`): the PyTorch examples' VAE, ``vae/main.py`` of
https://github.com/pytorch/examples (https://github.com/pytorch/examples/blob/main/vae/main.py),
after D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014
(arXiv:1312.6114). Its ``VAE(nn.Module)``: ``fc1`` Linear(784, 400), ``fc21`` and ``fc22``
Linear(400, 20) (mean and log-variance), ``fc3`` Linear(20, 400), ``fc4`` Linear(400, 784);
ReLU after ``fc1`` and ``fc3``, ``torch.sigmoid`` on the output; torch's default
initialisation; ``reparameterize`` draws ``torch.randn_like(std)``. ``loss_function``:
``F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')`` plus the closed-form KL
``-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())``. ``optim.Adam(lr=1e-3)`` with
torch's defaults (on a CPU, the per-tensor loop: no ``foreach``, no ``fused``). Its ``train``
loop per batch: ``data.to(device)``, ``optimizer.zero_grad()``, forward, loss,
``loss.backward()``, ``train_loss += loss.item()`` (a host sync every batch),
``optimizer.step()``. ``torch.manual_seed(1)``; batch 128; the MNIST grey values of a
``DataLoader(shuffle=True)`` (``ToTensor``: [B, 1, 28, 28] floats in [0, 1], not binarised).

**Convolutional, latent 2** (:func:`conv_peer`): F. Chollet, "Variational AutoEncoder",
https://keras.io/examples/generative/vae/ (``examples/generative/vae.py`` of
github.com/keras-team/keras-io, the Keras 3 version, last modified 2024/04/24), a Keras program
on the tensorflow backend (``os.environ["KERAS_BACKEND"] = "tensorflow"``). The ``Sampling``
layer (``keras.random.normal`` with its own ``SeedGenerator(1337)``); the functional encoder
(Input (28, 28, 1), Conv2D 32 and 64, kernel 3, stride 2, ``same``, ReLU; Flatten; Dense 16
ReLU; Dense ``z_mean`` and ``z_log_var`` of 2; ``Sampling``) and decoder (Dense 7*7*64 ReLU,
Reshape, Conv2DTranspose 64 and 32, stride 2, ReLU, Conv2DTranspose 1 with a sigmoid), Keras'
default (Glorot-uniform) initialisers; the ``VAE(keras.Model)`` with its three
``keras.metrics.Mean`` trackers and the custom ``train_step`` under ``tf.GradientTape``
(``keras.losses.binary_crossentropy`` summed over the image and averaged over the batch, plus
the KL term, ``optimizer.apply_gradients``, the trackers updated and their results returned);
``vae.compile(optimizer=keras.optimizers.Adam())`` (learning rate 1e-3) and
``vae.fit(mnist_digits, epochs=..., batch_size=128)`` on [N, 28, 28, 1] grey values in [0, 1].

Deviations from the originals, all of them:

* data: the images are the benchmark's own (``coursekit.data.load_mnist``, tiled where this
  machine has fewer; the same rows as the coursekit rows, read from the ``.npy`` file the
  benchmark writes), loaded once before timing; no torchvision, no ``keras.datasets``. The
  MLP peer keeps them in one [N, 1, 28, 28] tensor and takes each epoch's batches in
  ``torch.randperm`` order in place of the ``DataLoader`` (the same shuffled batches, the last
  one partial, without the per-image ``ToTensor`` and collation); the conv peer fits N images
  per epoch instead of the 70,000 of MNIST's train and test sets;
* one timed sample is one epoch (the MLP's ``train(epoch)`` loop, the conv model's
  ``fit(epochs=1)``): no test pass, no sample or reconstruction images, no plots;
* no printing: the MLP's log line every 10 batches (and the ``loss.item()`` inside it), its
  epoch summary, both models' ``summary()`` and the conv model's progress bar
  (``fit(verbose=0)``) are left out; the MLP's per-batch ``loss.item()`` is kept;
* CPU only (the MLP keeps its ``.to(device)`` calls, which move nothing), and
  ``import coursekit`` first, as every row does, so the peer runs on the same thread pools
  (``COURSEKIT_THREADS``);
* the networks and step are built inside a function (the benchmark starts them in a worker
  process) instead of at a script's top level.
"""

from __future__ import annotations

import time
from typing import Any

#: Labels and one-line sources for the benchmark's tables, by architecture.
PEERS = {
    "mlp": {
        "label": "peer: pytorch/examples vae",
        "source": "pytorch/examples vae/main.py, "
        "https://github.com/pytorch/examples/blob/main/vae/main.py (after Kingma & Welling, "
        "ICLR 2014), a torch program",
        "framework": "torch",
    },
    "conv": {
        "label": "peer: keras.io VAE",
        "source": "F. Chollet's keras.io example, https://keras.io/examples/generative/vae/ "
        "(its Keras 3 version, on tensorflow)",
        "framework": "keras[tensorflow]",
    },
}

#: The deviations in one sentence, for the benchmark's notes.
DEVIATIONS = (
    "data preloaded in memory (the MLP's batches in torch.randperm order instead of a "
    "DataLoader; no torchvision or keras.datasets; the conv model fits N images per epoch, "
    "not 70,000), one epoch per sample with no test pass, images or printing (the conv "
    "model's fit(verbose=0); the MLP's per-batch loss.item() kept), CPU only on the "
    "COURSEKIT_THREADS pools"
)


def mlp_peer(data: str, n: int, batch: int = 128) -> tuple[Any, dict]:
    """The pytorch/examples VAE: ``run()`` is one ``train(epoch)`` over the first ``n`` rows of
    the ``.npy`` file ``data``."""
    from vae_rows import load_rows

    import coursekit as ck  # the thread pools first, as for every row

    rows = load_rows(data, n)

    import torch
    from torch import nn, optim
    from torch.nn import functional as F

    torch.manual_seed(1)  # args.seed
    device = torch.device("cpu")
    images = torch.from_numpy(rows).view(-1, 1, 28, 28)  # what ToTensor gives, preloaded

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return torch.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
        KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD

    def train() -> tuple[float, int]:
        model.train()
        train_loss = 0
        order = torch.randperm(len(images))  # the DataLoader's shuffle
        updates = 0
        for start in range(0, len(images), batch):
            data = images[order[start : start + batch]]
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            updates += 1
        return train_loss / len(images), updates

    def run() -> tuple[float, dict]:
        start = time.perf_counter()
        loss, updates = train()
        seconds = time.perf_counter() - start
        return seconds, {"updates": updates, "loss": loss}

    info = {"threads": ck.num_threads(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "images": n}  # fmt: skip
    return run, info


def conv_peer(data: str, n: int, batch: int = 128) -> tuple[Any, dict]:
    """The keras.io convolutional VAE: ``run()`` is one ``vae.fit(epochs=1)`` over the first
    ``n`` rows of the ``.npy`` file ``data``, on the tensorflow backend."""
    import os

    import coursekit as ck  # the thread pools first, as for every row

    os.environ["KERAS_BACKEND"] = "tensorflow"

    import keras
    import numpy as np
    import tensorflow as tf
    from keras import layers, ops
    from vae_rows import load_rows

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"the keras.io peer runs on tensorflow, not {keras.backend.backend()}")
    rows = load_rows(data, n)

    class Sampling(layers.Layer):
        """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = ops.shape(z_mean)[0]
            dim = ops.shape(z_mean)[1]
            epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    latent_dim = 2
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder
            self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [
                self.total_loss_tracker,
                self.reconstruction_loss_tracker,
                self.kl_loss_tracker,
            ]

        def train_step(self, data):
            with tf.GradientTape() as tape:
                z_mean, z_log_var, z = self.encoder(data)
                reconstruction = self.decoder(z)
                reconstruction_loss = ops.mean(
                    ops.sum(
                        keras.losses.binary_crossentropy(data, reconstruction),
                        axis=(1, 2),
                    )
                )
                kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
                kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
                total_loss = reconstruction_loss + kl_loss
            grads = tape.gradient(total_loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))  # noqa: B905
            self.total_loss_tracker.update_state(total_loss)
            self.reconstruction_loss_tracker.update_state(reconstruction_loss)
            self.kl_loss_tracker.update_state(kl_loss)
            return {
                "loss": self.total_loss_tracker.result(),
                "reconstruction_loss": self.reconstruction_loss_tracker.result(),
                "kl_loss": self.kl_loss_tracker.result(),
            }

    mnist_digits = np.expand_dims(rows.reshape(-1, 28, 28), -1).astype("float32")  # in [0, 1]
    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())

    def run() -> tuple[float, dict]:
        before = int(vae.optimizer.iterations.numpy())
        start = time.perf_counter()
        history = vae.fit(mnist_digits, epochs=1, batch_size=batch, verbose=0)
        seconds = time.perf_counter() - start
        updates = int(vae.optimizer.iterations.numpy()) - before
        return seconds, {"updates": updates, "loss": float(history.history["loss"][-1])}

    info = {"threads": ck.num_threads(), "keras": keras.__version__,
            "tensorflow": tf.__version__, "backend": keras.backend.backend(),
            "images": n}  # fmt: skip
    return run, info
