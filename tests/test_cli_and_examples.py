"""The user-facing entry points: the ``axonic`` command and the example scripts."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import axonic
from axonic.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_info_names_version_simd_and_cuda(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for field in ("version", "build_type", "openmp_threads", "simd_level", "cuda_available"):
        assert field in out


BAD_ARGUMENTS = [
    ["bench", "gemm", "--sizes", "0"],
    ["bench", "gemm", "--sizes", "2x3"],
    ["bench", "gemm", "--threads", "0"],
    ["bench", "peak", "--seconds", "0"],
    ["bench", "peak", "--seconds", "61"],
    ["demo", "--epochs", "-1"],
]


@pytest.mark.parametrize("bad", BAD_ARGUMENTS)
def test_cli_rejects_bad_arguments(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(bad)
    assert exit_info.value.code == 2
    assert "expected" in capsys.readouterr().err


def test_demo_trains_and_reports_accuracy(capsys):
    assert main(["demo", "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert "epoch   3/3" in out and accuracy > 85


def test_xor_example_learns_xor():
    out = run_example("xor.py")
    classes = re.findall(r"\(class (\d)\)", out)
    assert classes == ["0", "1", "1", "0"]


def test_digits_mlp_example_reaches_95_percent():
    out = run_example("digits_mlp.py")
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 95.0


def test_optimizers_example_trains_with_every_optimizer_and_batch_size():
    out = run_example("optimizers.py", "--epochs", "8", "--samples", "200")
    rows = {name: (float(loss), int(updates)) for name, loss, updates in re.findall(
        r"^(\w[\w -]*?)\s+([\d.]+)\s+[\d.]+%\s+(\d+)", out, re.MULTILINE)}
    optimizers = ["SGD", "SGD momentum", "SGD Nesterov", "Adagrad", "RMSprop", "Adadelta",
                  "Adam", "AdamW", "Adamax", "NAdam"]
    assert set(optimizers) | {"batch GD", "stochastic GD", "mini-batch GD"} == set(rows)
    assert all(rows[name][0] < 0.5 for name in optimizers)  # cross-entropy starts at ~0.69
    assert {name: rows[name][1] for name in ("batch GD", "stochastic GD", "mini-batch GD")} == {
        "batch GD": 8, "stochastic GD": 1600, "mini-batch GD": 56}


def test_regression_diabetes_example_reports_mae_rmse_r2(tmp_path):
    out = run_example("regression_diabetes.py", "--epochs", "60")
    values = dict(re.findall(r"(MAE|RMSE|R2) ([-\d.]+)", out))
    assert float(values["MAE"]) < 60 and float(values["RMSE"]) < 75 and float(values["R2"]) > 0.1


def test_breast_cancer_example_reports_classification_metrics():
    out = run_example("breast_cancer.py", "--epochs", "30")
    values = dict(re.findall(r"(precision|recall|F1|ROC-AUC) ([\d.]+)", out))
    assert float(values["F1"]) > 0.9 and float(values["ROC-AUC"]) > 0.95
    assert "confusion matrix" in out


def test_digits_tuning_example_ranks_trials_and_tests_the_best(tmp_path):
    plot = tmp_path / "best.png"
    with_plot = importlib.util.find_spec("matplotlib") is not None  # not installed in CI
    out = run_example("digits_tuning.py", "--trials", "3", "--epochs", "10",
                      *(["--plot", str(plot)] if with_plot else []))
    assert out.count("trial ") >= 3 and "val_accuracy" in out
    accuracy = float(re.search(r"test accuracy of the best setting: ([\d.]+)%", out).group(1))
    assert accuracy > 85
    assert plot.exists() == with_plot


def test_digits_cnn_example_reaches_95_percent_with_augmentation(tmp_path):
    plot = tmp_path / "curves.png"
    with_plot = importlib.util.find_spec("matplotlib") is not None
    out = run_example("digits_cnn.py", "--epochs", "6",
                      *(["--plot", str(plot)] if with_plot else []))
    assert "Epoch 6/6" in out and "val_accuracy" in out
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 95.0
    assert plot.exists() == with_plot


def test_resnet_cifar_like_example_reports_throughput_and_accuracy():
    out = run_example("resnet_cifar_like.py", "--epochs", "1", "--width", "4",
                      "--batch-size", "32", "--train-size", "128", "--test-size", "64")
    throughput = float(re.search(r"training throughput: ([\d.]+) images/s", out).group(1))
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert throughput > 0 and 0.0 <= accuracy <= 100.0
    assert "resnet18 width 4" in out and "epoch   1/1" in out


def test_cpu_vs_gpu_example_reports_images_per_second_per_device():
    out = run_example("cpu_vs_gpu.py", "--steps", "4", "--batch-size", "16", "--warmup", "1")
    rows = dict(re.findall(r"^(cpu|cuda)\s+(\d+)\s+[\d.]+$", out, flags=re.M))
    assert float(rows["cpu"]) > 0
    if axonic.cuda.is_available():
        assert float(rows["cuda"]) > 0 and "as many images per second" in out
    else:
        assert "CUDA skipped: " in out
