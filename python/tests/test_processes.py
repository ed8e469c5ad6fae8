"""Whole processes: mpirun -np 2 python, Ctrl-C, the installed command."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import bdl
    sys.path.insert(0, {tests!r})
    from conftest import blobs, mlp
    x, y = blobs(n=800)
    model = mlp()
    model.compile(optimizer=bdl.optimizers.SGD(0.05, momentum=0.9), loss="cross_entropy",
                  metrics=["accuracy"])
    callbacks = [bdl.callbacks.BackupAndRestore({backup!r})] if {backup!r} else []
    if {slow}:
        callbacks.append(bdl.callbacks.LambdaCallback(
            on_train_batch_end=lambda b, logs: (print("batch", flush=True), __import__("time").sleep(0.05))))
    h = model.fit(x, y, batch_size=40, epochs={epochs}, verbose=2, validation_data=(x, y),
                  callbacks=callbacks, threads=1)
    rank, workers = bdl.world()
    np.save({out!r} + f"-{{rank}}.npy", np.concatenate([w.ravel() for w in model.get_weights()]))
    print(f"rank {{rank}} of {{workers}}: accuracy {{h.history['val_accuracy'][-1]:.3f}}", flush=True)
""")

HERE = os.path.dirname(os.path.abspath(__file__))


def script(tmp_path, epochs=2, backup="", slow=False):
    path = tmp_path / "train.py"
    path.write_text(SCRIPT.format(tests=HERE, backup=backup, slow=slow, epochs=epochs,
                                  out=str(tmp_path / "weights")))
    return str(path)


def env():
    e = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
             OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return e


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="no mpirun")
def test_mpirun_two_workers(tmp_path):
    import numpy as np
    e = env()
    e["OMPI_MCA_orte_tmpdir_base"] = str(tmp_path)
    r = subprocess.run(["mpirun", "--oversubscribe", "-np", "2", sys.executable,
                        script(tmp_path)], env=e, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # Every worker ends with the same weights; only rank 0 prints progress.
    a, b = np.load(tmp_path / "weights-0.npy"), np.load(tmp_path / "weights-1.npy")
    np.testing.assert_array_equal(a, b)
    assert "rank 0 of 2" in r.stdout and "rank 1 of 2" in r.stdout
    assert r.stdout.count("epoch 1/2 -") == 1 and r.stdout.count("epoch 2/2 -") == 1


def test_ctrl_c_stops_after_the_iteration_and_keeps_the_checkpoint(tmp_path):
    backup = str(tmp_path / "backup")
    p = subprocess.Popen([sys.executable, script(tmp_path, epochs=50, backup=backup, slow=True)],
                         env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt in the second epoch, after its first batch (a checkpoint of the
    # first epoch exists by then).
    batches, second_epoch = 0, False
    for line in p.stdout:
        batches += line.startswith("batch")
        second_epoch |= line.startswith("epoch 1/50 -")
        if second_epoch and line.startswith("batch"):
            break
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    stopped_in = time.monotonic() - sent
    batches += rest.count("batch")
    assert p.returncode != 0 and "KeyboardInterrupt" in err
    assert stopped_in < 5, f"took {stopped_in:.1f} s to stop"
    assert rest.count("batch") <= 1, "ran on after Ctrl-C"
    # The newest checkpoint is where training stopped: after the last batch run.
    iterations = [int(n.split("-")[1]) for n in os.listdir(backup) if n.startswith("checkpoint-")]
    assert max(iterations) == batches > 20, (iterations, batches)


def test_pip_script_runs_the_command():
    """The bdl command of a wheel (bdl/bin/bdl); a build tree's package has none."""
    import bdl._cli
    binary = os.path.join(os.path.dirname(bdl._cli.__file__), "bin", "bdl")
    r = subprocess.run([sys.executable, "-c", "import bdl._cli, sys; sys.argv=['bdl','--version']; "
                        "bdl._cli.main()"], capture_output=True, text=True)
    if os.path.exists(binary):
        assert r.returncode == 0 and "0.1.0" in r.stdout
    else:
        assert r.returncode != 0 and "not in this installation" in r.stderr
