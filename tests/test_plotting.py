"""Tests for coursekit.plotting: mosaic pixel values, input layouts, curves, saving, style."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before anything can import TensorFlow

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from coursekit.plotting import (  # noqa: E402
    COURSE_STYLE,
    class_grid,
    image_grid,
    pixel_histogram,
    plot_curves,
    save_figure,
    to_numpy,
    use_style,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def mosaic(fig) -> np.ma.MaskedArray:
    """The array drawn by the (single) image of the figure's first axes."""
    images = fig.axes[0].images
    assert len(images) == 1
    return np.ma.asarray(images[0].get_array())


def constant_images(values, h: int = 2, w: int = 2) -> np.ndarray:
    """``[n, h, w]`` float32 images, image i filled with values[i]."""
    v = np.asarray(values, dtype=np.float32)
    return np.broadcast_to(v[:, None, None], (v.size, h, w)).copy()


def random_batch(n: int = 6, h: int = 4, w: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, h, w), dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# image_grid: mosaic values
# ----------------------------------------------------------------------------------------------


def test_mosaic_values_and_padding():
    fig = image_grid(constant_images([0.0, 0.25, 0.5, 1.0]), pad=1)
    arr = mosaic(fig)
    assert arr.shape == (5, 5)  # 2x2 grid of 2x2 images, one pad row/column between

    expected_mask = np.zeros((5, 5), dtype=bool)
    expected_mask[2, :] = True
    expected_mask[:, 2] = True
    np.testing.assert_array_equal(np.ma.getmaskarray(arr), expected_mask)

    data = np.ma.getdata(arr)
    np.testing.assert_allclose(data[0:2, 0:2], 0.0)
    np.testing.assert_allclose(data[0:2, 3:5], 0.25)
    np.testing.assert_allclose(data[3:5, 0:2], 0.5)
    np.testing.assert_allclose(data[3:5, 3:5], 1.0)
    # the image is drawn on a fixed 0..1 scale, so constant images are not stretched
    assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)


def test_default_ncols_leaves_empty_cells_masked():
    arr = mosaic(image_grid(constant_images([0.1] * 5, 3, 3)))  # ncols = ceil(sqrt(5)) = 3
    assert arr.shape == (2 * 4 - 1, 3 * 4 - 1)
    mask = np.ma.getmaskarray(arr)
    assert mask[4:7, 8:11].all()  # sixth cell: no image
    assert not mask[4:7, 4:7].any()  # fifth cell: an image
    np.testing.assert_allclose(np.ma.getdata(arr)[4:7, 4:7], 0.1)


def test_ncols_and_pad_zero():
    arr = mosaic(image_grid(constant_images([0.0, 1.0, 0.5]), ncols=3, pad=0))
    assert arr.shape == (2, 6)
    assert not np.ma.getmaskarray(arr).any()
    np.testing.assert_allclose(arr, [[0, 0, 1, 1, 0.5, 0.5]] * 2)
    # more columns than images: clamped to n
    assert mosaic(image_grid(constant_images([0.0, 1.0]), ncols=10)).shape == (2, 5)


def test_minus_one_to_one_maps_to_unit_interval():
    arr = mosaic(image_grid(constant_images([-1.0, 0.0, 1.0, 3.0]), pad=0))
    np.testing.assert_allclose(arr[:2, :2], 0.0)
    np.testing.assert_allclose(arr[:2, 2:], 0.5)
    np.testing.assert_allclose(arr[2:, :2], 1.0)
    np.testing.assert_allclose(arr[2:, 2:], 1.0)  # 3.0 clipped


def test_explicit_value_range_clips():
    arr = mosaic(image_grid(constant_images([-0.5, 0.5]), value_range=(0, 1), pad=0))
    np.testing.assert_allclose(arr, [[0, 0, 0.5, 0.5]] * 2)


def test_uint8_input():
    images = constant_images([0, 51, 255, 102]).astype(np.uint8)
    arr = mosaic(image_grid(images, pad=0))
    np.testing.assert_allclose(arr, [[0, 0, 0.2, 0.2]] * 2 + [[1, 1, 0.4, 0.4]] * 2, atol=1e-6)


@pytest.mark.parametrize(
    "layout",
    ["nhw", "nchw", "nhwc", "flat", "list", "nchw_flat_shape"],
)
def test_layouts_give_identical_mosaics(layout):
    base = random_batch()
    reference = mosaic(image_grid(base))
    variants = {
        "nhw": lambda: image_grid(base),
        "nchw": lambda: image_grid(base[:, None]),
        "nhwc": lambda: image_grid(base[..., None]),
        "flat": lambda: image_grid(base.reshape(6, 16)),
        "list": lambda: image_grid(list(base)),
        "nchw_flat_shape": lambda: image_grid(base.reshape(6, 16), image_shape=(1, 4, 4)),
    }
    arr = mosaic(variants[layout]())
    np.testing.assert_array_equal(np.ma.getmaskarray(arr), np.ma.getmaskarray(reference))
    np.testing.assert_allclose(arr.filled(-1), reference.filled(-1))


def test_non_square_flat_needs_image_shape():
    base = random_batch(4, 2, 3)
    arr = mosaic(image_grid(base.reshape(4, 6), image_shape=(2, 3)))
    np.testing.assert_allclose(arr.filled(-1), mosaic(image_grid(base)).filled(-1))
    with pytest.raises(ValueError, match="image_shape"):
        image_grid(base.reshape(4, 6))


def test_single_image():
    img = np.arange(9, dtype=np.float32).reshape(3, 3) / 8
    arr = mosaic(image_grid(img))
    assert arr.shape == (3, 3)
    assert not np.ma.getmaskarray(arr).any()
    np.testing.assert_allclose(arr, img)


def test_colour_images_nchw_and_nhwc():
    rgb = np.zeros((2, 2, 2, 3), dtype=np.float32)  # NHWC
    rgb[0, ..., 0] = 1.0  # red
    rgb[1, ..., 2] = 0.5  # half blue
    a = np.asarray(mosaic(image_grid(rgb, pad=1)))
    b = np.asarray(mosaic(image_grid(rgb.transpose(0, 3, 1, 2), pad=1)))
    assert a.shape == (2, 5, 4)  # RGBA
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a[:, :2], np.broadcast_to([1, 0, 0, 1], (2, 2, 4)))
    np.testing.assert_allclose(a[:, 3:], np.broadcast_to([0, 0, 0.5, 1], (2, 2, 4)))
    np.testing.assert_allclose(a[:, 2, 3], 0.0)  # padding is transparent


def test_draws_into_given_axes():
    fig, (ax0, ax1) = plt.subplots(1, 2)
    out = image_grid(random_batch(), ax=ax1, title="samples")
    assert out is fig
    assert len(ax1.images) == 1 and len(ax0.images) == 0
    assert ax1.get_title() == "samples"


def test_titles_use_one_subplot_per_image():
    fig = image_grid(constant_images([0.0, 0.5, 1.0]), titles=["a", "b", "c"], title="top")
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["a", "b", "c"]
    np.testing.assert_allclose(np.asarray(shown[1].images[0].get_array()), 0.5)
    assert fig.get_suptitle() == "top"


def test_many_images_one_imshow():
    fig = image_grid(np.random.default_rng(1).random((256, 28, 28)))
    assert len(fig.axes) == 1
    assert mosaic(fig).shape == (16 * 29 - 1, 16 * 29 - 1)


# ----------------------------------------------------------------------------------------------
# image_grid: tensors and errors
# ----------------------------------------------------------------------------------------------


def test_torch_tensor_with_grad():
    import torch
    base = random_batch()
    t = torch.tensor(base[:, None], requires_grad=True) * 2 - 1  # NCHW in [-1, 1]
    assert t.requires_grad
    arr = mosaic(image_grid(t))
    np.testing.assert_allclose(arr.filled(-1), mosaic(image_grid(base)).filled(-1), atol=1e-6)


def test_tensorflow_tensor():
    import tensorflow as tf
    base = random_batch()
    arr = mosaic(image_grid(tf.constant(base[..., None])))  # NHWC
    np.testing.assert_allclose(arr.filled(-1), mosaic(image_grid(base)).filled(-1))
    np.testing.assert_array_equal(to_numpy(tf.Variable([1.0, 2.0])), [1.0, 2.0])


def test_to_numpy():
    a = np.arange(3)
    assert to_numpy(a) is a
    np.testing.assert_array_equal(to_numpy([1, 2]), [1, 2])
    import torch
    t = torch.ones(2, requires_grad=True)
    out = to_numpy(t * 3)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [3.0, 3.0])
    np.testing.assert_array_equal(to_numpy(torch.ones(2, dtype=torch.bfloat16)), [1.0, 1.0])


@pytest.mark.parametrize(
    ("images", "kwargs", "argument"),
    [
        (np.zeros((3, 2, 4, 4)), {}, "images"),  # 4-D with 2 channels
        (np.zeros((5, 10)), {}, "image_shape"),  # flat, 10 is not a square
        (np.zeros((0, 4, 4)), {}, "images"),  # empty
        ([], {}, "images"),  # empty list
        (np.zeros((2, 1, 1, 4, 4)), {}, "images"),  # 5-D
        (np.zeros(7), {}, "image_shape"),  # 1-D, not a square
        (np.array(["a", "b"]), {}, "images"),  # not numbers
        (np.zeros((4, 16)), {"image_shape": (3, 3)}, "image_shape"),
        (np.zeros((4, 4, 4)), {"ncols": 0}, "ncols"),
        (np.zeros((4, 4, 4)), {"pad": -1}, "pad"),
        (np.zeros((4, 4, 4)), {"titles": ["a"]}, "titles"),
        (np.zeros((4, 4, 4)), {"value_range": (1, 0)}, "value_range"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(images, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        image_grid(images, **kwargs)


def test_titles_with_ax_is_rejected():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="titles"):
        image_grid(np.zeros((2, 3, 3)), titles=["a", "b"], ax=ax)


# ----------------------------------------------------------------------------------------------
# class_grid
# ----------------------------------------------------------------------------------------------


def test_class_grid_rows_are_classes():
    labels = np.array([2, 0, 1, 0, 1, 0, 1])
    # image value = label / 2 + 0.1 * (order within class), so position checks are exact
    values = [0.0] * labels.size
    seen: dict[int, int] = {}
    for i, c in enumerate(labels):
        values[i] = c / 2 + 0.1 * seen.get(c, 0)
        seen[c] = seen.get(c, 0) + 1
    images = constant_images(values, 3, 3)

    fig = class_grid(images, list(labels), n_per_class=2, class_names=["zero", "one", "two"])
    arr = mosaic(fig)
    assert arr.shape == (3 * 4 - 1, 2 * 4 - 1)  # 3 classes x 2 per class, pad 1
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["zero", "one", "two"]
    np.testing.assert_allclose(ax.get_yticks(), [1.0, 5.0, 9.0])  # row centres

    for row, c in enumerate([0, 1, 2]):
        r0 = row * 4
        np.testing.assert_allclose(arr[r0 : r0 + 3, 0:3], c / 2)
    np.testing.assert_allclose(arr[0:3, 4:7], 0.1)  # second image of class 0
    np.testing.assert_allclose(arr[4:7, 4:7], 0.6)  # second image of class 1
    assert np.ma.getmaskarray(arr)[8:11, 4:7].all()  # class 2 has one image only


def test_class_grid_names_mapping_and_bad_labels():
    images = np.zeros((4, 1, 5, 5), dtype=np.uint8)
    fig = class_grid(images, np.array([3, 7, 3, 7]), class_names={7: "seven"})
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["3", "seven"]
    with pytest.raises(ValueError, match="labels"):
        class_grid(images, [0, 1, 2])


# ----------------------------------------------------------------------------------------------
# plot_curves
# ----------------------------------------------------------------------------------------------


def test_plot_curves_two_keys():
    history = {"train loss": [3.0, 2.0, np.nan, 1.0], "test loss": [3.5, 2.5, 2.0, 1.5]}
    fig = plot_curves(history, ylabel="loss", logy=True, title="VAE")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_ydata(), history["train loss"])
    np.testing.assert_array_equal(lines[1].get_ydata(), history["test loss"])
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "test loss"]
    assert ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "loss", "VAE")


def test_plot_curves_keras_history_like_and_empty_key_skipped():
    class FakeHistory:  # what keras.Model.fit returns: .history is a dict of lists
        def __init__(self):
            self.history = {"loss": [0.9, 0.5], "val_loss": [], "accuracy": [0.6, 0.8]}

    _, ax = plt.subplots()
    fig = plot_curves(FakeHistory(), ax=ax)
    assert fig is ax.figure
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "accuracy"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0.6, 0.8])


def test_plot_curves_accepts_tensors_and_none():
    import torch
    w = torch.ones((), requires_grad=True)
    fig = plot_curves({"loss": [w * 2, w * 1.5, None], "kl": torch.tensor([0.5, 0.25])})
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [2.0, 1.5, np.nan])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.5, 0.25])


@pytest.mark.parametrize("history", [{}, {"loss": []}, {"loss": [], "val_loss": ()}])
def test_plot_curves_nothing_to_plot(history):
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_curves(history)


def test_plot_curves_rejects_non_mapping():
    with pytest.raises(TypeError, match="history"):
        plot_curves([1.0, 2.0])


# ----------------------------------------------------------------------------------------------
# pixel_histogram
# ----------------------------------------------------------------------------------------------


def test_pixel_histogram_counts_all_finite_pixels():
    images = np.random.default_rng(2).normal(size=(10, 1, 8, 8)).astype(np.float32)
    images[0, 0, 0, 0] = np.nan
    fig = pixel_histogram(images, bins=20)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 20
    assert sum(heights) == images.size - 1
    assert ax.get_yscale() == "log"
    assert pixel_histogram(images, log=False).axes[0].get_yscale() == "linear"


def test_pixel_histogram_uint8_bins_align_with_integers():
    images = np.array([[0, 1, 1, 2, 255]], dtype=np.uint8)
    ax = pixel_histogram(images, bins=300, log=False).axes[0]  # more bins than values
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == 5
    assert heights.size == 256  # one bin per integer 0..255
    np.testing.assert_array_equal(heights[:3], [1, 2, 1])


def test_pixel_histogram_empty_raises():
    with pytest.raises(ValueError, match="images"):
        pixel_histogram(np.full((2, 2), np.nan))


# ----------------------------------------------------------------------------------------------
# save_figure and style
# ----------------------------------------------------------------------------------------------


def test_save_figure_png_atomic(tmp_path):
    fig = image_grid(random_batch())
    target = tmp_path / "figures" / "week1" / "grid.png"
    out = save_figure(fig, target)
    assert out == target
    data = target.read_bytes()
    assert len(data) > 100
    assert data[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in target.parent.iterdir()) == ["grid.png"]

    # overwriting works too, and the suffix picks the format
    save_figure(fig, target)
    pdf = save_figure(fig, str(tmp_path / "figures" / "grid.PDF"))
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_save_figure_failure_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    fig = plot_curves({"loss": [1.0, 0.5]})
    target = tmp_path / "curve.png"
    target.write_bytes(b"old")

    def broken_savefig(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]


def test_save_figure_unknown_suffix(tmp_path):
    fig = plot_curves({"loss": [1.0]})
    with pytest.raises(ValueError, match="path"):
        save_figure(fig, tmp_path / "sub" / "figure.xyz")
    assert not (tmp_path / "sub").exists()


def test_use_style_sets_rcparams_idempotently():
    with mpl.rc_context():
        use_style()
        first = {k: mpl.rcParams[k] for k in COURSE_STYLE}
        use_style()
        assert {k: mpl.rcParams[k] for k in COURSE_STYLE} == first
        assert mpl.rcParams["figure.dpi"] == 100
        assert mpl.rcParams["savefig.dpi"] == 200
        assert mpl.rcParams["image.cmap"] == "gray"
        assert mpl.rcParams["axes.spines.top"] is False
        assert mpl.rcParams["axes.spines.right"] is False
        assert mpl.rcParams["axes.grid"] is True
        assert mpl.rcParams["font.size"] >= 12
        colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
        assert len(colours) >= 6
        assert colours == COURSE_STYLE["axes.prop_cycle"].by_key()["color"]
        assert mpl.rcParams["figure.constrained_layout.use"] is True


def test_plot_distributions_draws_each_pmf_and_highlights():
    from coursekit.plotting import plot_distributions

    p = np.array([0.5, 0.0, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    fig = plot_distributions({"data": p, "model": q}, highlight=[0, 2])
    ax = fig.axes[0]
    stems = [c for c in ax.containers if hasattr(c, "markerline")]
    assert len(stems) == 2
    np.testing.assert_allclose(stems[0].markerline.get_ydata(), p)
    np.testing.assert_allclose(stems[1].markerline.get_ydata(), q)
    assert len(ax.patches) == 2  # two shaded states
    with pytest.raises(ValueError, match="same length"):
        plot_distributions({"a": p, "b": q[:3]})
    with pytest.raises(ValueError, match="at least one"):
        plot_distributions({})


def test_filter_grid_scales_each_filter_to_its_own_range():
    from coursekit.plotting import filter_grid

    W = np.zeros((4, 3))
    W[:, 0] = [1.0, -1.0, 0.5, 0.0]
    W[:, 1] = [10.0, 0.0, 0.0, -10.0]  # ten times stronger, same display range
    fig = filter_grid(W, n=2, ncols=2)
    mosaic = np.ma.filled(fig.axes[0].images[0].get_array(), np.nan)
    first = mosaic[0:2, 0:2]
    np.testing.assert_allclose(first, [[1.0, 0.0], [0.75, 0.5]])
    second = mosaic[0:2, 3:5]
    np.testing.assert_allclose(second, [[1.0, 0.5], [0.5, 0.0]])
    assert fig.axes[0].images[0].get_cmap().name == "RdBu_r"
    with pytest.raises(ValueError, match="W must be 2-D"):
        filter_grid(np.zeros(5))


def test_plot_curves_against_given_x():
    fig = plot_curves({"pll": [-120.0, -100.0, -95.0]}, x=[5, 10, 15])
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_xdata(), [5, 10, 15])
    np.testing.assert_allclose(line.get_ydata(), [-120.0, -100.0, -95.0])
    with pytest.raises(ValueError, match="x has 2 values"):
        plot_curves({"pll": [1.0, 2.0, 3.0]}, x=[1, 2])


def test_class_histogram_draws_one_bar_group_per_entry():
    from coursekit import plotting

    fig = plotting.class_histogram({"a": np.full(10, 0.1), "b": np.eye(10)[3]})
    ax = fig.axes[0]
    assert len(ax.patches) == 20
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(10)]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "share of samples"
    with pytest.raises(ValueError, match="same number of classes"):
        plotting.class_histogram({"a": np.ones(10) / 10, "b": np.ones(3) / 3})
    with pytest.raises(ValueError, match="empty"):
        plotting.class_histogram({})
    plt.close("all")


@pytest.mark.parametrize("tallest", [0.11, 0.17, 0.96])
def test_class_histogram_legend_stays_clear_of_the_bars(tallest):
    from coursekit import plotting

    rng = np.random.default_rng(0)
    shares = {}
    for name in ("Gibbs", "parallel tempering", "real training digits"):
        y = rng.uniform(0.07, 0.11, 10)
        shares[name] = y
    shares["parallel tempering"][9] = tallest  # the tallest bar sits under the legend's corner
    fig = plotting.class_histogram(shares, title="predicted class of the samples")
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent().transformed(ax.transData.inverted())
    for bar in ax.patches:
        x0, x1, height = bar.get_x(), bar.get_x() + bar.get_width(), bar.get_height()
        if x1 > box.x0 and x0 < box.x1:  # under the legend: it must clear the bar
            assert height < box.y0, (bar.get_x(), height, box.y0)
    plt.close("all")


# ----------------------------------------------------------------------------------------------
# readable on a slide: frames around small patterns, labelled curves, font sizes
# ----------------------------------------------------------------------------------------------


def test_small_patterns_get_a_frame_each_and_a_contrasting_margin():
    from matplotlib.collections import PatchCollection

    from coursekit.plotting import FRAME_COLOUR, GAP_COLOUR

    patterns = np.ones((5, 3, 3))  # all-white patterns: the case that merged with the page
    ax = image_grid(patterns, ncols=5, pad=1).axes[0]
    frames = [c for c in ax.collections if isinstance(c, PatchCollection)]
    assert len(frames) == 1 and len(frames[0].get_paths()) == 5
    assert mpl.colors.same_color(frames[0].get_edgecolor()[0], FRAME_COLOUR)
    # the first frame hugs the first 3x3 image: pixel centres 0..2, so edges at -0.5 and 2.5
    x0, y0 = frames[0].get_paths()[0].vertices.min(axis=0)
    x1, y1 = frames[0].get_paths()[0].vertices.max(axis=0)
    assert (x0, y0, x1, y1) == (-0.5, -0.5, 2.5, 2.5)
    # the mosaic (3 rows, 5*4-1 = 19 columns) sits inside a margin of the gap colour
    left, right = ax.get_xlim()
    bottom, top = ax.get_ylim()
    assert left < -0.5 and right > 18.5 and top < -0.5 and bottom > 2.5
    assert mpl.colors.same_color(ax.get_facecolor(), GAP_COLOUR)
    # MNIST-sized images get no frame unless asked; asking works for any size
    assert not image_grid(np.ones((4, 28, 28))).axes[0].collections
    assert image_grid(np.ones((4, 28, 28)), frame=True).axes[0].collections
    assert not image_grid(patterns, frame=False).axes[0].collections


def test_plot_curves_always_labels_the_y_axis():
    one = plot_curves({"reconstruction error": [0.3, 0.2]}).axes[0]
    assert one.get_ylabel() == "reconstruction error" and one.get_legend() is None
    two = plot_curves({"train": [1.0, 0.5], "test": [1.2, 0.7]}).axes[0]
    assert two.get_ylabel() == "train, test" and two.get_legend() is not None
    given = plot_curves({"CD-1": [1.0, 0.5]}, ylabel="KL [nats]").axes[0]
    assert given.get_ylabel() == "KL [nats]" and given.get_legend() is not None


def test_course_style_text_is_large_enough_for_slides():
    from coursekit.plotting import MIN_FONT_PT

    px = MIN_FONT_PT * COURSE_STYLE["figure.dpi"] / 72  # at the figure's own size
    assert px >= 18 / 0.9  # still 18 px when a slide shows the figure at 90 % of its size
    for key in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        assert COURSE_STYLE[key] >= MIN_FONT_PT
    for key in ("font.size", "axes.labelsize", "axes.titlesize"):
        assert COURSE_STYLE[key] > MIN_FONT_PT


@pytest.mark.parametrize("last", [600, 6400, 60_000])
def test_update_axis_tick_labels_do_not_overlap_in_a_half_width_panel(last):
    """Two curves side by side at the course style (the labs' loss/KL panels), x in updates:
    the x tick labels must stay apart, however many updates the run had."""
    with mpl.rc_context(COURSE_STYLE):  # the course style, without leaking it to other tests
        x = np.linspace(0, last, 200)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
        for ax in axes:
            plot_curves({"loss": np.exp(-x / last)}, x=x, ax=ax, xlabel="updates")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in axes:
            lo, hi = ax.get_xlim()
            boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels()
                     if t.get_text() and lo <= t.get_position()[0] <= hi]
            assert len(boxes) >= 3
            for left, right in zip(boxes, boxes[1:], strict=False):
                assert right.x0 - left.x1 > 2, [t.get_text() for t in ax.get_xticklabels()]
        plt.close(fig)


def test_gan_quality_curves_label_the_log_axis_with_plain_numbers():
    from types import SimpleNamespace

    from coursekit.plotting import gan as gan_plots

    reports = [SimpleNamespace(fid=f, coverage=SimpleNamespace(n_classes=c))
               for f, c in [(17.2, 6), (7.0, 9), (3.6, 10)]]
    fig = gan_plots.quality_curves([300, 600, 900], reports)
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert labels and all("times" not in s and "^" not in s for s in labels), labels
    assert {"5", "10"} <= set(labels)
    with pytest.raises(ValueError, match="same length"):
        gan_plots.quality_curves([1, 2], reports)


def test_gan_grid_animation_has_one_frame_per_grid():
    from coursekit.plotting import gan as gan_plots

    grids = [np.full((16, 28, 28), v, dtype=np.float32) for v in (-1.0, 0.0, 1.0)]
    html = gan_plots.grid_animation(grids, [100, 200, 300]).data
    assert html.count("data:image/png;base64") == 3  # one inline frame per grid, no network
    with pytest.raises(ValueError, match="same length"):
        gan_plots.grid_animation(grids, [100])


def test_gan_animation_frames_are_mosaics_with_white_gaps():
    """The animation has no axes background to show through, so its gaps are white (1.0)."""
    from coursekit.plotting import gan as gan_plots

    images = np.stack([np.zeros((2, 2)), np.full((2, 2), 0.5), np.full((2, 2), 2.0)])
    frame = gan_plots._white_gap_mosaic(images, 2)
    assert frame.dtype == np.float32 and frame.shape == (5, 5)
    np.testing.assert_array_equal(frame[:2, :2], 0.0)
    np.testing.assert_array_equal(frame[:2, 3:], 0.5)
    np.testing.assert_array_equal(frame[3:, :2], 1.0)  # clipped to [0, 1]
    np.testing.assert_array_equal(frame[2, :], 1.0)  # the gap row
    np.testing.assert_array_equal(frame[:, 2], 1.0)  # the gap column
    np.testing.assert_array_equal(frame[3:, 3:], 1.0)  # the empty cell


def test_the_package_names_are_the_modules_names():
    """``ck.plotting.X`` is the function of the module that defines it (one object, not a copy),
    and ``to_numpy`` is the one of :mod:`coursekit.checks`."""
    from coursekit import checks, plotting
    from coursekit.plotting import charts, images, style

    for module in (charts, images, style):
        for name in module.__all__:
            if name in plotting.__all__:
                assert getattr(plotting, name) is getattr(module, name), name
    assert plotting.to_numpy is checks.to_numpy
    public = set(charts.__all__) | set(images.__all__) | set(style.__all__)
    assert set(plotting.__all__) - public == {"to_numpy"}


def test_family_figures_drawn_into_a_subfigure_return_the_whole_figure():
    """Every ``ax=`` goes through ``style.figure_and_axes``: the figure returned is the one a
    notebook can save, also for an axes in a sub-figure."""
    from coursekit.plotting import charts, ebm, vae

    fig = plt.figure()
    left, right = fig.subfigures(1, 2)
    assert ebm.energy_histograms({"a": np.arange(10.0)}, ax=left.subplots()) is fig
    assert vae.latent_scatter(np.zeros((3, 2)), [0, 1, 2], ax=right.subplots()) is fig
    assert charts.class_histogram({"a": np.full(10, 0.1)}, ax=fig.add_subplot()) is fig


def test_no_figure_code_shrinks_text_below_the_style():
    """The style's sizes are the readable minimum (MIN_FONT_PT): no plotting function and no
    notebook asks for smaller text (fontsize=8, "small", ...) on a legend, title or label."""
    import re

    from conftest import REPO

    from coursekit.plotting import MIN_FONT_PT

    pattern = re.compile(
        r"""fontsize\s*=\s*(?:(\d+(?:\.\d+)?)|["'](small|x-small|xx-small|smaller)["'])""")
    files = sorted((REPO / "coursekit" / "plotting").glob("*.py"))
    files += sorted((REPO / "notebooks").rglob("*.py"))
    small = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in pattern.finditer(line):
                if m.group(2) or float(m.group(1)) < MIN_FONT_PT:
                    small.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert small == [], "text smaller than the course style:\n" + "\n".join(small)


def test_chain_frames_labels_each_column_with_its_langevin_step():
    """Week 2's chain from noise: one chain per row, one step per column, numbered under it."""
    from coursekit.plotting import ebm

    steps = [0, 1, 5, 20]
    frames = np.random.default_rng(0).uniform(-1, 1, (len(steps), 3, 28, 28))
    fig = ebm.chain_frames(frames, steps, title="chains")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "5", "20"]
    assert ax.get_xlabel() and ax.images[0].get_array().shape == (3 * 29 - 1, 4 * 29 - 1)
    with pytest.raises(ValueError, match="len\\(steps\\)"):
        ebm.chain_frames(frames, steps[:2])
    plt.close(fig)


def test_energy_histograms_keep_one_colour_per_set_and_roc_curves_overlay_a_baseline():
    from matplotlib.colors import to_hex

    from coursekit.plotting import ebm

    rng = np.random.default_rng(0)
    fig, (ax1, ax2) = plt.subplots(1, 2)
    ebm.energy_histograms({"a": rng.normal(size=50), "b": rng.normal(3, 1, 50)}, ax=ax1,
                          colors={"a": "C2", "b": "C3"})
    assert to_hex(ax1.patches[0].get_facecolor()) == to_hex("C2")
    _, aucs = ebm.roc_curves(rng.normal(1, 1, 50), {"out": rng.normal(size=50)}, ax=ax2,
                             label="energy, ")
    _, base = ebm.roc_curves(rng.normal(size=50), {"out": rng.normal(size=50)}, ax=ax2,
                             label="ink, ", linestyle="--", colors=["C1"])
    labels = ax2.get_legend_handles_labels()[1]
    assert any(t.startswith("energy, out") for t in labels)
    assert any(t.startswith("ink, out") for t in labels)
    assert ax1.get_xlabel() and ax2.get_xlabel() and ax2.get_ylabel()
    ebm.energy_histograms({"one value": np.zeros(5)}, ax=ax1)  # no range: still one bin
    plt.close(fig)


def test_toy_density_panels_label_both_axes():
    from coursekit.plotting import ebm
    from coursekit.reference import langevin as ref

    fig = ebm.density_and_chains(ref.ring(), samples=np.zeros((3, 2)))
    assert fig.axes[0].get_xlabel() == "$x_1$" and fig.axes[0].get_ylabel() == "$x_2$"
    plt.close(fig)


def test_vae_elbo_curves_plot_one_quantity_for_both_sets():
    """Week 3's training curves: -ELBO on the training batches and on the test images, from a
    Keras history (``loss``, ``val_loss``) or coursekit.torch's (``loss``, ``val_elbo``)."""
    from coursekit.plotting import vae as vae_plots

    keras_like = {"updates": [32, 64, 96], "loss": [200.0, 150.0, 140.0],
                  "val_loss": [190.0, 145.0, 136.0]}
    torch_like = {"updates": [32, 64, 96], "loss": [200.0, 150.0, 140.0],
                  "val_elbo": [-190.0, -145.0, -136.0]}
    for history in (keras_like, torch_like):
        fig = vae_plots.elbo_curves(history)
        (ax,) = fig.axes
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"training batches: -ELBO", "test images: -ELBO"}
        np.testing.assert_allclose(lines["training batches: -ELBO"].get_ydata(), [200, 150, 140])
        np.testing.assert_allclose(lines["test images: -ELBO"].get_ydata(), [190, 145, 136])
        np.testing.assert_allclose(lines["test images: -ELBO"].get_xdata(), [32, 64, 96])
        assert ax.get_xlabel() == "updates" and "ELBO" in ax.get_ylabel()
        plt.close(fig)
    with pytest.raises(ValueError, match="validation"):
        vae_plots.elbo_curves({"loss": [1.0, 2.0]})
