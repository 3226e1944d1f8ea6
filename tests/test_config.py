"""``TrainConfig``'s documented fields are the one source of the config.

The ``promp train`` flags, their help, the preset-dependent defaults, the checks and the accepted
``config.json`` keys are derived from the dataclass; ``ppo_steps`` became ``outer_steps`` and stays
accepted as a deprecated flag and ``config.json`` key (old run directories still resume).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings
from pathlib import Path

import pytest
import tyro

import promp.commands.train as train_module
import promp.config as config_module
from promp.cli import main
from promp.commands.train import TrainArgs, make_train_args
from promp.config import ConfigError, TrainConfig, above, field_help, preset_fields, resolve_config, setting
from promp.rundir import RunDir

ROOT = Path(__file__).resolve().parents[1]
OLD_RUN = ROOT / "docs" / "results" / "runs" / "hc-promp-s2"  # written before the rename: "ppo_steps" in config.json
TINY = ["--env", "point-corner", "--meta-batch-size", "2", "--rollouts-per-task", "2", "--horizon", "10", "--hidden", "8"]


@dataclasses.dataclass(frozen=True)
class WithNewField(TrainConfig):
    """``TrainConfig`` plus one field declared in this one place."""

    new_knob: float = setting(0.25, "a knob declared only on the dataclass", check=above(0))


@pytest.fixture
def help_of(monkeypatch, capsys):
    """``help_of(args_cls)``: the ``--help`` text of a derived arguments class, frame and whitespace collapsed."""
    monkeypatch.setenv("COLUMNS", "400")

    def text(args_cls: type) -> str:
        with pytest.raises(SystemExit) as exc:
            tyro.cli(args_cls, args=["--help"])
        assert exc.value.code == 0
        return " ".join(capsys.readouterr().out.replace("│", " ").split())
    return text


def test_a_field_added_only_on_the_dataclass_is_a_flag_with_its_help_and_check(help_of):
    args_cls = make_train_args(WithNewField)
    assert "--new-knob FLOAT a knob declared only on the dataclass (default: 0.25)" in help_of(args_cls)
    assert "--new-knob" not in help_of(TrainArgs)
    assert tyro.cli(args_cls, args=["--new-knob", "0.5"]).new_knob == 0.5
    assert tyro.cli(args_cls, args=[]).new_knob is None  # unset: the preset (here the default) decides
    assert train_module.given_settings(tyro.cli(args_cls, args=["--new-knob", "0.5"]), WithNewField) == {"new_knob": 0.5}
    with pytest.raises(ConfigError, match="--new-knob must be > 0, got -1.0"):
        WithNewField(new_knob=-1.0)
    assert WithNewField.from_dict({"new_knob": 2.0}).new_knob == 2.0


def test_every_field_is_documented_once_and_is_a_flag(help_of):
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    assert all(field_help(f).strip() for f in dataclasses.fields(TrainConfig)), "a field without help"
    assert [f.name for f in dataclasses.fields(TrainArgs)] == ["out", "resume", "workers", "ray_address", *_with_aliases(names)]
    text = help_of(TrainArgs)
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text
        assert " ".join(field_help(f).split()) in text


def _with_aliases(names: list[str]) -> list[str]:
    out = []
    for name in names:
        out += [name, *(["ppo_steps"] if name == "outer_steps" else [])]
    return out


def test_the_four_places_are_gone():
    assert not hasattr(config_module, "FIELD_HELP") and not hasattr(train_module, "PRESET_FIELDS")
    for path in (ROOT / "promp").rglob("*.py"):
        text = path.read_text()
        assert "FIELD_HELP" not in text and "PRESET_FIELDS" not in text, path


def test_preset_fields_are_exactly_what_the_preset_tables_set(help_of):
    from promp import presets

    assert preset_fields() == {
        "meta_batch_size", "rollouts_per_task", "horizon", "hidden", "inner_steps", "inner_lr", "outer_steps",
        "kl_coef", "adaptive_kl", "kl_target", "inner_estimator", "outer", "emaml"}
    rows = [*presets.ENV_PRESETS.values(), *presets.FAMILY_PRESETS.values()]
    assert set().union(*rows) <= {f.name for f in dataclasses.fields(TrainConfig)}  # current names only
    text = help_of(TrainArgs)
    assert "--horizon INT time steps per trajectory (default: from the preset)" in text
    assert "--outer-lr FLOAT outer Adam learning rate beta (default: 0.001)" in text


def test_outer_steps_replaces_ppo_steps_everywhere_with_a_deprecated_alias():
    assert resolve_config("walker-rand-params", "promp").outer_steps == 3
    assert resolve_config("point-corner", "promp", {"ppo_steps": 2}).outer_steps == 2  # Python API, old name
    assert TrainConfig.from_dict({"ppo_steps": 7}).outer_steps == 7
    with pytest.raises(ConfigError, match="outer_steps and its deprecated name ppo_steps are both given"):
        TrainConfig.from_dict({"ppo_steps": 7, "outer_steps": 3})
    with pytest.warns(DeprecationWarning, match="use outer_steps"):
        assert TrainConfig(outer_steps=4).ppo_steps == 4
    with pytest.raises(AttributeError):
        TrainConfig().no_such_field  # noqa: B018
    assert "ppo_steps" not in TrainConfig().to_json()


def test_the_committed_run_written_with_ppo_steps_loads_and_resumes(tmp_path, capsys):
    saved = json.loads((OLD_RUN / "config.json").read_text())
    assert saved["ppo_steps"] == 5 and "outer_steps" not in saved
    cfg = RunDir(OLD_RUN).read_config()
    assert cfg.outer_steps == 5 and cfg.kl_coef == 5e-4 and cfg.env == "halfcheetah-fwd-back"
    run = tmp_path / "old"
    shutil.copytree(OLD_RUN, run)
    progress = (run / "progress.csv").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # nothing in promp reads the old name
        main(["train", "--resume", str(run)])  # finished run: restores the checkpoint, trains nothing
    assert "iteration 1000" in capsys.readouterr().out
    resaved = json.loads((run / "config.json").read_text())
    assert resaved["outer_steps"] == 5 and "ppo_steps" not in resaved
    assert {k: v for k, v in resaved.items() if k != "outer_steps"} == {k: v for k, v in saved.items() if k != "ppo_steps"}
    assert (run / "progress.csv").read_text() == progress


def test_deprecated_flag_still_works_and_warns(tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", "--out", str(out), "--iterations", "1", "--ppo-steps", "2", *TINY])
    assert "warning: --ppo-steps is deprecated; use --outer-steps" in capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["outer_steps"] == 2
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "b"), "--ppo-steps", "2", "--outer-steps", "3", *TINY])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["promp: error: give --outer-steps or its deprecated name --ppo-steps, not both"]
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("flags, expected", [
    (["--outer-steps", "0"], "--outer-steps must be >= 1, got 0"),
    (["--ppo-steps", "0"], "--outer-steps must be >= 1, got 0"),
    (["--kl-coef", "-1"], "--kl-coef must be >= 0, got -1.0"),
    (["--hidden", "0"], "--hidden must be positive layer sizes, got [0]"),
    (["--gae-lambda", "2"], "--gae-lambda must be in [0, 1], got 2.0"),
    (["--hvp-subsample", "0"], "--hvp-subsample must be in (0, 1], got 0.0"),
    (["--inner-estimator", "nope"], "unknown --inner-estimator 'nope'; known: "),
    (["--env-kwargs", "[1]"], "--env-kwargs must be a JSON object"),
])
def test_declared_checks_give_one_line(tmp_path, capsys, flags, expected):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "r"), *TINY, *flags])
    assert exc.value.code == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("warning:")]
    assert len(err) == 1 and err[0].startswith("promp: error: ") and expected in err[0], err
    assert not (tmp_path / "r").exists()


def test_an_old_run_groups_with_a_new_run_of_the_same_config():
    from promp.compare import group_runs

    old = RunDir(OLD_RUN).read_config_dict()
    assert old["outer_steps"] == 5 and "ppo_steps" not in old
    new = json.loads(TrainConfig.from_dict({**old, "seed": 3}).to_json())
    assert len(group_runs([("old", old), ("new", new)])) == 1
