"""What the PyTorch and Keras twins of each model share, framework-free (NumPy only).

The course writes every model twice, in :mod:`coursekit.torch` and :mod:`coursekit.keras`, and
the twins must agree: the same arguments accepted, the same errors, the same weight layouts and
files. What makes them agree lives here, once, one module per family:

* :mod:`~coursekit.common.rbm`: the RBM's hyperparameter and data rules, step-size schedule,
  divergence limit; :mod:`~coursekit.common.uniforms`: the fast uniform stream of its
  Bernoulli draws;
* :mod:`~coursekit.common.langevin`: the Langevin samplers' arguments;
  :mod:`~coursekit.common.ebm`: the replay buffer of the EBMs and their divergence guard;
* :mod:`~coursekit.common.vae`: the VAEs' input checks;
* :mod:`~coursekit.common.gan`: the DCGANs' checks, weight layout, initial weights and file.
"""
