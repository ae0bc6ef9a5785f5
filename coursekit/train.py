"""Train a course model from the command line: one process, several (``torchrun``), a cluster job.

::

    python -m coursekit.train gan --updates 3000 --batch 256 --out runs/gan
    torchrun --nproc_per_node=2 -m coursekit.train vae --epochs 10 --out runs/vae
    python -m coursekit.train gan --updates 3000 --out runs/gan --resume   # after a stop

The same ``fit`` runs in every case: under ``torchrun`` each process takes its share of every
batch and PyTorch's ``DistributedDataParallel`` averages the gradients
(:mod:`coursekit.torch.distributed`), so the run takes the same updates as one process with
the same ``--batch``. Process 0 alone writes into ``--out``:

* ``checkpoint.npz``: the whole training state, every ``--checkpoint-every`` updates, at the
  end, and when the run is stopped (Ctrl-C, or SIGTERM, which a cluster sends before its time
  limit); ``--resume`` continues from it and ends as an uninterrupted run would;
* ``model.npz``: the trained model (``coursekit.torch.DCGAN.load`` / ``VAE.load``);
* ``history.json``: the training history (one row per epoch or per ``--log-every`` updates).

The PyTorch models train on the GPU when there is one (each ``torchrun`` process on its own,
``LOCAL_RANK``; NCCL then averages the gradients), else on the CPU.

Models: ``gan`` (the DCGAN of week 4) and ``vae`` (the VAE of week 3), in PyTorch or, with
``--framework keras``, in Keras (:mod:`coursekit.keras`; under ``torchrun`` on Keras' torch
backend, ``KERAS_BACKEND=torch``, through DDP as well: :mod:`coursekit.keras.distributed`),
on the MNIST or Fashion-MNIST training images (``--data``; the first ``--rows`` of them).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from coursekit.data import load, to_float
from coursekit.io import atomic_write_text

__all__ = ["main"]


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m coursekit.train", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["gan", "vae"], help="the DCGAN (week 4) or the VAE (week 3)")
    p.add_argument("--out", type=Path, required=True, help="folder for the checkpoint, model "
                   "and history (created)")
    p.add_argument("--framework", default="torch", choices=["torch", "keras"],
                   help="coursekit.torch (default) or coursekit.keras (its backend from "
                   "KERAS_BACKEND; torch under torchrun)")
    p.add_argument("--data", default="mnist", choices=["mnist", "fashion_mnist"])
    p.add_argument("--rows", type=int, default=None, help="train on the first ROWS images")
    p.add_argument("--batch", type=int, default=None,
                   help="global batch (all processes together); gan 256, vae 128")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=None, metavar="K",
                   help="updates between checkpoints (default: at the end and on a stop)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("gan")
    g.add_argument("--updates", type=int, default=3000)
    g.add_argument("--log-every", type=int, default=None, help="updates per history row")
    g.add_argument("--latent", type=int, default=None, help="noise (gan, 100) or latent (vae, "
                   "20) dimension")
    g.add_argument("--generator-channels", type=_ints, default=(256, 128, 64))
    g.add_argument("--discriminator-channels", type=_ints, default=(64, 128))
    v = p.add_argument_group("vae")
    v.add_argument("--epochs", type=int, default=10)
    v.add_argument("--arch", default="mlp", choices=["mlp", "conv"])
    v.add_argument("--hidden", type=int, default=400)
    return p


def _stop_on_sigterm() -> None:
    """SIGTERM (a cluster's warning before its time limit) stops the run as Ctrl-C does: after
    the update under way, with a checkpoint."""
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from coursekit import parallel
    from coursekit.config import seed_everything

    if args.framework == "keras":
        import keras  # noqa: F401  (before seeding, so that it is seeded too)

        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and keras.backend.backend() != "torch":
            raise SystemExit(f"--framework keras under torchrun needs KERAS_BACKEND=torch (DDP); "
                             f"got the {keras.backend.backend()} backend, whose data "
                             "parallelism is a tf.distribute strategy in one process")
    seed_everything(args.seed)  # the global generators too: Keras' dropout seeds from them
    shard = parallel.current()
    images, _ = load(args.data, "train")
    if args.rows is not None:
        if not 1 <= args.rows <= len(images):
            raise SystemExit(f"--rows must be in [1, {len(images)}], got {args.rows}")
        images = images[: args.rows]
    x = to_float(images)  # [n, 28, 28] in [0, 1]
    out = args.out
    if shard.main:
        out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.npz"
    if args.resume and not ckpt.is_file():
        raise SystemExit(f"--resume: there is no checkpoint at {ckpt}")
    saving: dict[str, Any] = {"checkpoint": ckpt, "checkpoint_every": args.checkpoint_every,
                              "resume": ckpt if args.resume else None,
                              "progress": shard.main and not args.quiet}
    _stop_on_sigterm()
    try:
        model, history = _fit(args, x, saving)
    except KeyboardInterrupt as stop:
        if shard.main:
            print(f"{stop}; continue with the same command and --resume", file=sys.stderr)
        return 130
    finally:
        parallel.close()
    if shard.main:
        model.save(out / "model.npz")
        rows = {k: [float(v) for v in vs] for k, vs in history.items()}
        atomic_write_text(out / "history.json", json.dumps(rows, indent=1))
        last = {k: round(v[-1], 4) for k, v in rows.items()} if rows else {}
        print(f"{args.model}: {shard.world} process(es), {model.updates} updates; last row "
              f"{last}; wrote {out}", file=sys.stderr)
    return 0


def _fit(args: argparse.Namespace, x: Any, saving: dict[str, Any]) -> tuple[Any, dict]:
    """The model the arguments describe, trained; and its history."""
    if args.framework == "keras":
        from coursekit.keras import DCGAN, VAE
    else:
        from coursekit.torch import DCGAN, VAE

    model: Any
    if args.model == "gan":
        model = DCGAN(args.latent or 100, generator_channels=args.generator_channels,
                      discriminator_channels=args.discriminator_channels, seed=args.seed)
        if args.framework == "torch":
            model.to(_torch_device())
        history = model.fit(2 * x - 1, updates=args.updates, batch_size=args.batch or 256,
                            log_every=args.log_every, **saving)
        history.pop("grid")
    else:
        model = VAE(args.latent or 20, arch=args.arch, hidden=args.hidden, seed=args.seed)
        if args.framework == "torch":
            model.to(_torch_device())
        if args.framework == "keras":  # Keras' fit: verbose, and a History
            saving["verbose"] = int(saving.pop("progress"))
            return model, model.fit(x, epochs=args.epochs, batch_size=args.batch or 128,
                                    **saving).history
        history = model.fit(x, epochs=args.epochs, batch_size=args.batch or 128, **saving)
    return model, history


def _torch_device() -> str:
    """The device the notebooks choose (``coursekit.torch.device()``); with CUDA under
    ``torchrun``, this process's GPU (``LOCAL_RANK``). Keras picks its own (every backend uses
    a GPU it sees)."""
    from coursekit.torch import device

    name = device()
    if name != "cuda":
        return name
    import torch

    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    return f"cuda:{local}"


if __name__ == "__main__":
    sys.exit(main())
