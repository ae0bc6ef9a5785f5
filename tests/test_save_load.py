"""One save/load convention for every model: ``model.save(path)`` and ``Model.load(path)``.

The same checks for the RBM, the VAE and the DCGAN of both frameworks (Keras on either backend):
a file round trip gives the same model, the write is atomic, errors name the file, and the
names the package used before (``save_checkpoint``, ``from_checkpoint``, ``load_checkpoint``,
``from_file``, an instance's ``load``) still work for one release, with a DeprecationWarning.
"""

from __future__ import annotations

import numpy as np
import pytest
from gan_shared import LATENT, SMALL, bar_images

FRAMEWORKS = ["torch", pytest.param("keras", marks=pytest.mark.keras)]


def _module(framework: str):
    if framework == "torch":
        import coursekit.torch as module
    else:
        import coursekit.keras as module
    return module


def _images(n: int = 16) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.random((n, 784)).astype(np.float32) * 0.1
    x[: n // 2, 100:300] = 0.9
    return x


def _trained(kind: str, framework: str):
    """A small trained model of ``kind`` and a function of it that must survive a round trip."""
    module = _module(framework)
    if kind == "rbm":
        model = module.RBM(784, 8, seed=0)
        model.fit(_images(), epochs=1, batch_size=8, progress=False)
        return model, lambda m: m.reconstruct(_images(4))
    if kind == "vae":
        model = module.VAE(2, arch="mlp", hidden=8, seed=0)
        if framework == "torch":
            model.fit(_images(), epochs=1, batch_size=8, progress=False)
        else:
            model.fit(_images(), epochs=1, batch_size=8, verbose=0)
        return model, lambda m: m.embed(_images(4))
    model = module.DCGAN(LATENT, **SMALL, learning_rate=1e-3, seed=0)
    model.fit(bar_images(32), updates=2, batch_size=16, progress=False)
    z = np.random.default_rng(1).standard_normal((3, LATENT))
    return model, lambda m: m.generate(z)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
def test_save_then_load_gives_the_same_model(tmp_path, kind, framework):
    model, probe = _trained(kind, framework)
    path = model.save(tmp_path / f"{kind}.npz")
    assert path == tmp_path / f"{kind}.npz"
    assert [p.name for p in tmp_path.iterdir()] == [f"{kind}.npz"]  # no temporary file left
    back = type(model).load(path)
    assert type(back) is type(model)
    np.testing.assert_allclose(probe(back), probe(model), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
def test_load_errors_name_the_file(tmp_path, kind, framework):
    model, _ = _trained(kind, framework)
    cls = type(model)
    with pytest.raises(FileNotFoundError, match="no saved"):
        cls.load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="junk.npz"):
        cls.load(junk)
    with pytest.raises(IsADirectoryError, match="folder"):
        model.save(tmp_path)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
def test_a_file_with_nan_weights_is_refused_naming_the_array(tmp_path, kind, framework):
    model, _ = _trained(kind, framework)
    path = model.save(tmp_path / f"{kind}.npz")
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    name = next(n for n, v in arrays.items() if v.dtype.kind == "f" and v.size > 1)
    arrays[name] = arrays[name].copy()
    arrays[name].flat[1] = np.nan
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=rf"{kind}\.npz holds 1 NaN or infinite values in "
                       rf"'{name}': the model had diverged when it was saved"):
        type(model).load(path)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
def test_a_file_missing_an_array_is_refused_naming_the_file(tmp_path, kind, framework):
    model, _ = _trained(kind, framework)
    path = model.save(tmp_path / f"{kind}.npz")
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    # optional: the RBM's random-number states (files written before they were saved load, and
    # the generators are seeded afresh) and the torch VAE's learning rate (the default then)
    optional = {"format", "rng_state", "uniform_state", "config/learning_rate"}
    for name in sorted(arrays):  # each array in turn: never a KeyError or a framework's error
        if name in optional:
            continue
        np.savez(tmp_path / "damaged.npz", **{k: v for k, v in arrays.items() if k != name})
        with pytest.raises(ValueError, match="damaged.npz"):
            type(model).load(tmp_path / "damaged.npz")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_failed_save_names_the_target_not_a_temporary_file(tmp_path, framework):
    model, _ = _trained("dcgan", framework)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(OSError, match=r"cannot save the DCGAN to .*not_a_folder/gan\.npz") as err:
        model.save(blocker / "gan.npz")
    assert ".tmp" not in str(err.value)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_old_vae_names_still_work_and_warn(tmp_path, framework):
    model, probe = _trained("vae", framework)
    cls = type(model)
    with pytest.warns(DeprecationWarning, match="VAE.save"):
        path = model.save_checkpoint(tmp_path / "vae.npz")
    with pytest.warns(DeprecationWarning, match="VAE.load"):
        back = cls.from_checkpoint(path)
    np.testing.assert_allclose(probe(back), probe(model), rtol=1e-6, atol=1e-7)
    with pytest.warns(DeprecationWarning, match=r"VAE.load\(path\)"):
        into = cls(2, arch="mlp", hidden=8, seed=5).load_checkpoint(path)
    np.testing.assert_allclose(probe(into), probe(model), rtol=1e-6, atol=1e-7)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=r"latent_dim=2.*=3"):
        cls(3, arch="mlp", hidden=8).load_checkpoint(path)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_old_dcgan_names_still_work_and_warn(tmp_path, framework):
    model, probe = _trained("dcgan", framework)
    cls = type(model)
    path = model.save(tmp_path / "gan.npz")
    with pytest.warns(DeprecationWarning, match="DCGAN.load"):
        back = cls.from_file(path)
    np.testing.assert_allclose(probe(back), probe(model), rtol=1e-6, atol=1e-7)
    fresh = cls(LATENT, **SMALL, seed=3)
    with pytest.warns(DeprecationWarning, match="DCGAN.load"):
        assert fresh.load(path) is fresh  # the old instance method loads into the model
    np.testing.assert_allclose(probe(fresh), probe(model), rtol=1e-6, atol=1e-7)
    assert fresh.updates == 2
    other = cls(LATENT, generator_channels=(8, 8, 4), discriminator_channels=(4, 8))
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="generator_channels"):
        other.load(path)


def test_a_keras_vae_still_saves_in_keras_format_for_keras_callbacks(tmp_path):
    model, _ = _trained("vae", "keras")
    path = tmp_path / "vae.keras"
    model.save(path)
    import zipfile

    assert zipfile.is_zipfile(path) and "config.json" in zipfile.ZipFile(path).namelist()


# ---- every model's save names the destination the user gave, never the temporary file ------


def _untrained(kind: str, framework: str):
    module = _module(framework)
    if kind == "rbm":
        return module.RBM(784, 8, seed=0)
    if kind == "vae":
        return module.VAE(2, arch="mlp", hidden=8, seed=0)
    return module.DCGAN(LATENT, **SMALL, seed=0)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
def test_every_failed_save_names_the_destination_not_a_temporary_file(tmp_path, monkeypatch,
                                                                      kind, framework):
    """A read-only folder, a folder given as the file, a file where a folder belongs: each an
    OSError of the usual type whose message names the path given (issue 20: they named the
    hidden ``.vae.npz.etro3gmu.tmp``), and nothing is left behind."""
    import errno
    import tempfile

    model = _untrained(kind, framework)
    what = {"rbm": "RBM", "vae": "VAE", "dcgan": "DCGAN"}[kind]
    hidden = tmp_path / f".{kind}.npz.etro3gmu.tmp"

    def read_only(*args, **kwargs):  # what mkstemp does in a read-only folder (even as root)
        raise PermissionError(errno.EACCES, "Permission denied", str(hidden))

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", read_only)
        with pytest.raises(PermissionError) as err:
            model.save(tmp_path / f"{kind}.npz")
    assert str(err.value) == (f"[Errno 13] cannot save the {what} to {tmp_path / f'{kind}.npz'}: "
                              "Permission denied")  # fmt: skip
    with pytest.raises(IsADirectoryError) as err:
        model.save(tmp_path)
    assert str(err.value).startswith(f"cannot save the {what} to {tmp_path}: it is a folder")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError) as err:
        model.save(tmp_path / "a_file" / f"{kind}.npz")
    assert str(err.value) == (f"[Errno 20] cannot save the {what} to "
                              f"{tmp_path / 'a_file' / f'{kind}.npz'}: {tmp_path / 'a_file'} is a "
                              "file, not a folder")  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["rbm", "vae", "dcgan"])
@pytest.mark.parametrize("path", [None, 5, b"model.npz", ""])
def test_a_path_that_is_not_a_path_is_named(tmp_path, kind, framework, path):
    model = _untrained(kind, framework)
    with pytest.raises(ValueError, match=r"^path must be a path \(a str or pathlib.Path\), got"):
        model.save(path)
    with pytest.raises(ValueError, match=r"^path must be a path \(a str or pathlib.Path\), got"):
        type(model).load(path)
