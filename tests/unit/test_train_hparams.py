"""The hyperparameter schema: SageMaker strings in, typed values out, clear one-line errors."""

from __future__ import annotations

import argparse

import pytest

from fairmot.train.hparams import (
    HyperparameterError,
    TrainConfig,
    add_hyperparameter_flags,
    flag_values,
)


def test_defaults_are_the_papers() -> None:
    c = TrainConfig()
    assert (c.arch, c.input_w, c.input_h, c.lr, c.num_epochs, c.lr_step, c.batch_size) == (
        "dla34",
        1088,
        608,
        1e-4,
        30,
        [20],
        12,
    )
    assert (c.reid_dim, c.conf_thres, c.wh_weight, c.id_loss, c.multi_loss) == (
        128,
        0.4,
        0.1,
        "ce",
        "uncertainty",
    )


def test_from_strings_parses_types_quotes_and_skips_sagemaker_keys() -> None:
    c = TrainConfig.from_strings(
        {
            "lr": '"0.001"',
            "lr_step": "20,27",
            "half_val": "1",
            "id_loss": "focal",
            "sagemaker_program": "train",
            "_tuning_objective_metric": "val_idf1",
        }
    )
    assert (c.lr, c.lr_step, c.half_val, c.id_loss) == (0.001, [20, 27], 1, "focal")
    assert TrainConfig.from_strings(c.as_strings()) == c


def test_unknown_key_lists_the_valid_ones() -> None:
    with pytest.raises(HyperparameterError) as info:
        TrainConfig.from_strings({"learning_rate": "0.1"})
    message = str(info.value)
    assert "learning_rate" in message and "lr_step" in message and "\n" not in message


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("lr", "fast", "valid number"),
        ("id_loss", "triplet", "'ce' or 'focal'"),
        ("input_w", "100", "multiple of 32"),
        ("lr_step", "twenty", "epoch numbers"),
        ("half_val", "2", "less than or equal to 1"),
        ("device", "gpu", "'auto', 'cpu' or 'cuda'"),
    ],
)
def test_malformed_values_fail_with_one_line(key: str, value: str, hint: str) -> None:
    with pytest.raises(HyperparameterError) as info:
        TrainConfig.from_strings({key: value})
    message = str(info.value)
    assert key in message and hint in message and "\n" not in message


def test_cli_flags_cover_every_hyperparameter() -> None:
    parser = argparse.ArgumentParser()
    add_hyperparameter_flags(parser)
    args = parser.parse_args(["--lr", "0.01", "--arch", "lite"])
    assert flag_values(args) == {"lr": "0.01", "arch": "lite"}
    for name in TrainConfig.model_fields:
        assert f"--{name.replace('_', '-')}" in parser.format_help()


def test_augmentation_defaults_are_the_references_and_reach_the_dataset_config() -> None:
    cfg = TrainConfig().augment_config()
    assert (cfg.degrees, cfg.scale, cfg.translate, cfg.shear, cfg.hsv_fraction, cfg.flip) == (
        5.0,
        (0.5, 1.2),
        0.1,
        2.0,
        0.5,
        0.5,
    )
    mine = TrainConfig.from_strings({"aug_degrees": "1", "aug_scale_min": "0.8"}).augment_config()
    assert (mine.degrees, mine.scale) == (1.0, (0.8, 1.2))


def test_an_inverted_scale_range_is_one_line_naming_both() -> None:
    with pytest.raises(HyperparameterError) as error:
        TrainConfig.from_strings({"aug_scale_min": "1.5", "aug_scale_max": "1.0"})
    assert str(error.value) == "hyperparameters: aug_scale_min=1.5 exceeds aug_scale_max=1.0"
