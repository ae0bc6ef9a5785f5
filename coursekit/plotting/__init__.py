"""Figures for the course notebooks: image mosaics, training curves and pixel statistics.

Every function returns a :class:`matplotlib.figure.Figure` (or the figure that owns the ``ax``
it was given), so a notebook can show it, tweak it, or hand it to :func:`save_figure`::

    import coursekit.plotting as ckp
    ckp.use_style()
    fig = ckp.image_grid(x_batch[:64])            # torch [64,1,28,28] or tf [64,28,28,1]
    fig = ckp.plot_curves(history)                 # dict of lists or a Keras History
    ckp.save_figure(fig, "figures/week2/samples.png")

What is where (this module re-exports the public names of the first four):

* :mod:`~coursekit.plotting.style`: the one figure style -- :data:`PALETTE`,
  :data:`COURSE_STYLE`, :data:`MIN_FONT_PT`, :func:`use_style`, :func:`save_figure`, and
  ``figure_and_axes``, which every function with an ``ax=`` argument draws through;
* :mod:`~coursekit.plotting.batches`: any image batch layout -> ``[n, H, W, C]`` in ``[0, 1]``;
* :mod:`~coursekit.plotting.images`: mosaics -- :func:`image_grid`, :func:`class_grid`,
  :func:`filter_grid`;
* :mod:`~coursekit.plotting.charts`: :func:`plot_curves`, :func:`plot_distributions`,
  :func:`pixel_histogram`, :func:`class_histogram`;
* per family, imported on their own (``from coursekit.plotting import ebm, vae, gan``):
  :mod:`~coursekit.plotting.ebm` (week 2), :mod:`~coursekit.plotting.vae` (week 3),
  :mod:`~coursekit.plotting.gan` (week 4).

The package is framework-free: it never imports torch, TensorFlow or Keras. Tensors are
converted by :func:`to_numpy` (that of :mod:`coursekit.checks`, re-exported here).

Image layout conventions accepted by :func:`image_grid` and :func:`class_grid` (``n`` images of
``H`` x ``W`` pixels):

* ``[n, H, W]``                     grey-scale batch
* ``[n, 1, H, W]`` / ``[n, 3, H, W]`` channels first (PyTorch, NCHW)
* ``[n, H, W, 1]`` / ``[n, H, W, 3]`` channels last (TensorFlow/Keras, NHWC)
* ``[n, H*W]``                      flattened batch; ``H = W`` is inferred when ``H*W`` is a perfect
  square, otherwise pass ``image_shape=(H, W)``
* ``[H, W]`` with ``H == W``        one square image (a non-square one: pass ``image[None]``)
* ``[H*W]``                         one flattened square image

A 2-D array is read as a *single* image only when it is square; any other 2-D array is read as a
flattened batch ``[n, H*W]``. Pass ``image_shape`` to override the inference.
"""

from __future__ import annotations

from coursekit.checks import to_numpy
from coursekit.plotting.charts import (
    class_histogram,
    pixel_histogram,
    plot_curves,
    plot_distributions,
)
from coursekit.plotting.images import (
    FRAME_COLOUR,
    FRAME_MAX_SIDE,
    GAP_COLOUR,
    MOSAIC_MAX_HEIGHT,
    class_grid,
    filter_grid,
    image_grid,
)
from coursekit.plotting.style import COURSE_STYLE, MIN_FONT_PT, PALETTE, save_figure, use_style

__all__ = [
    "COURSE_STYLE",
    "FRAME_COLOUR",
    "FRAME_MAX_SIDE",
    "GAP_COLOUR",
    "MIN_FONT_PT",
    "MOSAIC_MAX_HEIGHT",
    "PALETTE",
    "class_grid",
    "class_histogram",
    "filter_grid",
    "image_grid",
    "pixel_histogram",
    "plot_curves",
    "plot_distributions",
    "save_figure",
    "to_numpy",
    "use_style",
]
