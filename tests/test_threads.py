"""COURSEKIT_THREADS reaches torch and TensorFlow; seeding imports no framework not in use.

Thread pools are process state that can be set only once (TensorFlow before its runtime starts,
torch's inter-op pool before parallel work), so every check runs in a fresh subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

from coursekit import threads


def run_python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter with this checkout's coursekit; return its last line
    of stdout parsed as JSON."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COURSEKIT_THREADS",)}
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    environ.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=REPO,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"stderr": proc.stderr}


TORCH_THREADS = """
    import json, torch
    print(json.dumps({"intra": torch.get_num_threads(), "inter": torch.get_num_interop_threads()}))
"""




def test_threads_reach_torch_imported_before_coursekit():
    code = "import torch\nimport coursekit\n" + textwrap.dedent(TORCH_THREADS)
    out = run_python(code, COURSEKIT_THREADS="1")
    assert (out["intra"], out["inter"]) == (1, 1)


TF_THREADS = """
    import json, sys
    import tensorflow as tf
    tf.constant(1.0) + 1.0  # starts the runtime: the pools are fixed from here on
    threading = tf.config.threading
    print(json.dumps({"intra": threading.get_intra_op_parallelism_threads(),
                      "inter": threading.get_inter_op_parallelism_threads(),
                      "torch": "torch" in sys.modules}))
"""


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
@pytest.mark.slow
def test_threads_reach_a_framework_imported_after_coursekit(framework):
    code = TORCH_THREADS if framework == "torch" else TF_THREADS
    out = run_python("import coursekit\n" + textwrap.dedent(code), COURSEKIT_THREADS="1")
    assert (out["intra"], out["inter"]) == (1, 1)


@pytest.mark.slow
def test_keras_on_tensorflow_gets_the_threads_and_no_torch():
    code = "import coursekit.keras\n" + textwrap.dedent(TF_THREADS)
    out = run_python(code, COURSEKIT_THREADS="1", KERAS_BACKEND="tensorflow")
    assert (out["intra"], out["inter"]) == (1, 1)
    assert not out["torch"]


@pytest.mark.slow
def test_tensorflow_started_before_coursekit_is_reported_not_hidden():
    out = run_python(
        """
        import json
        import tensorflow as tf
        tf.constant(1.0) + 1.0
        from coursekit import threads
        print(json.dumps({"line": threads.effective("tensorflow").describe()}))
        """,
        COURSEKIT_THREADS="1",
    )
    assert "started before coursekit could set 1 thread" in out["line"]


@pytest.mark.slow
def test_keras_on_torch_seeds_without_importing_tensorflow():
    out = run_python(
        """
        import json, sys
        import coursekit as ck
        from coursekit.keras import RBM  # noqa: F401
        import keras, torch
        ck.seed_everything(11)
        a = keras.ops.convert_to_numpy(keras.random.normal((5,))).tolist()
        t = torch.rand(3).tolist()
        ck.seed_everything(11)
        b = keras.ops.convert_to_numpy(keras.random.normal((5,))).tolist()
        same_torch = t == torch.rand(3).tolist()
        print(json.dumps({"backend": keras.backend.backend(), "same": a == b,
                          "same_torch": same_torch,
                          "tf": "tensorflow" in sys.modules,
                          "threads": [torch.get_num_threads(), torch.get_num_interop_threads()]}))
        """,
        KERAS_BACKEND="torch",
        COURSEKIT_THREADS="1",
    )
    assert out["backend"] == "torch"
    assert out["same"] and out["same_torch"]
    assert not out["tf"], "seeding Keras on torch imported TensorFlow"
    assert out["threads"] == [1, 1]
    assert "oneDNN" not in out["stderr"] and "absl" not in out["stderr"]


def test_bad_thread_setting_warns_once(monkeypatch):
    monkeypatch.setenv("COURSEKIT_THREADS", "lots")
    monkeypatch.setattr(threads, "_warned", set())
    with pytest.warns(UserWarning, match="'lots' is not a positive integer") as record:
        assert threads.apply(strict=False) is None
        assert threads.apply(strict=False) is None
    assert len([w for w in record if "COURSEKIT_THREADS" in str(w.message)]) == 1


def test_apply_is_strict_when_asked(monkeypatch):
    monkeypatch.setenv("COURSEKIT_THREADS", "0")
    with pytest.raises(ValueError, match="COURSEKIT_THREADS='0'"):
        threads.apply()
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        threads.apply(("jax",))
    with pytest.raises(ValueError, match="unknown framework"):
        threads.effective("jax")


def test_effective_does_not_import_a_framework():
    out = run_python(
        """
        import json, sys
        from coursekit import threads
        rows = {f: threads.effective(f).describe() for f in threads.FRAMEWORKS}
        print(json.dumps({"rows": rows, "loaded": [f for f in threads.FRAMEWORKS
                                                    if f in sys.modules]}))
        """
    )
    assert out["loaded"] == []
    assert set(out["rows"].values()) == {"not imported in this process"}
