"""The meta-gradient the outer updates use (``MetaObjective.task_value_and_grad``: per task, the chain
rule through the inner steps run by hand, forward-over-reverse) against ``jax.grad`` of the
meta-objective (reverse mode through ``adapt``) and central finite differences, in float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from promp.algorithms.losses import task_clipped, task_likelihood_ratio
from promp.algorithms.meta_objective import meta_objective
from promp.algorithms.promp import promp_loss, promp_value_and_grad
from promp.config import resolve_config
from promp.learner import MetaLearner
from promp.task_map import map_tasks

import sampled_batches
from sampled_batches import to64

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

SMALL = dict(meta_batch_size=3, rollouts_per_task=3, horizon=10, hidden=(8, 8), seed=5)


def sampled64(algo: str, inner_steps: int, env: str = "point-nav"):
    """One meta-batch away from the symmetric start (tests/sampled_batches.py), as float64 copies."""
    cfg, _, params, batches = sampled_batches.sampled(env, algo, inner_steps, seed=5, rollouts_per_task=3)
    return cfg, to64(params), tuple(to64(b) for b in batches)


CASES = [("maml-trpo", 1), ("lvc-trpo", 1), ("promp", 1), ("promp", 2), ("promp", 3), ("emaml-trpo", 1),
         ("dice-vpg", 1), ("lvc-vpg", 2)]


@pytest.mark.parametrize("algo,k", CASES)
def test_per_task_gradient_equals_reverse_mode_through_the_adaptation(algo, k):
    with jax.enable_x64(True):
        cfg, params, batches = sampled64(algo, k)
        objective = meta_objective(cfg, task_clipped(cfg.clip_eps) if algo == "promp" else task_likelihood_ratio)
        weights = jnp.asarray(np.linspace(0.5, 2.0, k))
        flat, unravel = ravel_pytree(params)

        def reference(x):
            loss, aux = objective(unravel(x), batches)
            return loss + jnp.mean(weights * aux["kl_pre"]) * k, aux

        (ref_loss, ref_aux), ref_grad = jax.value_and_grad(reference, has_aux=True)(flat)
        (loss, aux), grad = objective.value_and_grad(params, batches, weights)
        grad = ravel_pytree(grad)[0]
        assert float(jnp.linalg.norm(ref_grad)) > 0
        np.testing.assert_allclose(float(loss), float(ref_loss), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(np.asarray(aux["kl_pre"]), np.asarray(ref_aux["kl_pre"]), rtol=1e-12)
        assert float(jnp.linalg.norm(grad - ref_grad)) <= 1e-10 * float(jnp.linalg.norm(ref_grad))
        if algo not in ("dice-vpg", "promp"):  # DiCE's and the clipped surrogates' autodiff are estimators
            v = jnp.asarray(np.random.default_rng(0).normal(size=flat.shape))
            eps = 1e-6
            fd = (reference(flat + eps * v)[0] - reference(flat - eps * v)[0]) / (2 * eps)
            np.testing.assert_allclose(float(grad @ v), float(fd), rtol=1e-5)


def test_adapted_parameters_and_kls_are_those_of_adapt():
    """The pullback's forward pass is ``adapt``'s: same adapted parameters and KLs, bit for bit in float32."""
    cfg = resolve_config("point-nav", "promp", dict(SMALL, inner_steps=2))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
    batches = tuple(learner.sample_adapted(state.params, tasks, state.rng).batches)
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps))
    _, out, _, theta = map_tasks(lambda tb: objective.task_value_and_grad(state.params, tb), batches)
    ref_theta, ref_out = map_tasks(lambda tb: objective.task_outputs(state.params, tb), batches)
    for a, b in zip(jax.tree_util.tree_leaves(theta), jax.tree_util.tree_leaves(ref_theta)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(out["kl_pre"]), np.asarray(ref_out["kl_pre"]))


def test_promp_value_and_grad_equals_the_gradient_of_promp_loss():
    """ProMP eq. 13's loss (surrogate + mean_k kl_coef_k KL_k) and its gradient, with per-step coefficients."""
    with jax.enable_x64(True):
        cfg, params, batches = sampled64("promp", 2)
        objective = meta_objective(cfg, task_clipped(cfg.clip_eps))
        kl_coef = jnp.asarray([0.3, 3.0])
        (ref, ref_aux), ref_grad = jax.value_and_grad(
            lambda p: promp_loss(objective, p, batches, kl_coef), has_aux=True)(params)
        (loss, aux), grad = promp_value_and_grad(objective, params, batches, kl_coef)
        np.testing.assert_allclose(float(loss), float(ref), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(float(aux["surrogate"]), float(ref_aux["surrogate"]), rtol=1e-10, atol=1e-14)
        g, r = ravel_pytree(grad)[0], ravel_pytree(ref_grad)[0]
        assert float(jnp.linalg.norm(g - r)) <= 1e-10 * float(jnp.linalg.norm(r))


def test_vmapped_tasks_as_on_an_accelerator_give_the_same_gradient_and_curvature(monkeypatch):
    """``map_tasks`` vmaps on GPUs/TPUs: that path gives the sequential path's numbers (float64)."""
    from promp import task_map
    from promp.algorithms import trpo

    with jax.enable_x64(True):
        cfg, params, batches = sampled64("promp", 2)
        objective = meta_objective(cfg, task_clipped(cfg.clip_eps))
        weights = jnp.asarray([0.5, 1.5])
        v = jnp.asarray(np.random.default_rng(3).normal(size=ravel_pytree(params)[0].shape))
        results = []
        for sequential in (True, False):
            monkeypatch.setattr(task_map, "one_at_a_time", lambda s=sequential: s)
            (loss, _), grad = jax.jit(lambda p: objective.value_and_grad(p, batches, weights))(params)
            product = jax.jit(lambda p: trpo.kl_curvature(p, batches, cfg.inner_lr, objective.inner_loss)(v))(params)
            results.append((float(loss), ravel_pytree(grad)[0], product))
        (l0, g0, h0), (l1, g1, h1) = results
        np.testing.assert_allclose(l1, l0, rtol=1e-10, atol=1e-14)  # the loss is near 0 here
        assert float(jnp.linalg.norm(g1 - g0)) <= 1e-10 * float(jnp.linalg.norm(g0))
        assert float(jnp.linalg.norm(h1 - h0)) <= 1e-10 * float(jnp.linalg.norm(h0))


def _load_script(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_meta_gradient_noise_script(tmp_path, monkeypatch, capsys):
    """scripts/meta_gradient_noise.py (docs/results.md, humanoid): its signal-to-noise ratio on hand-made
    gradients, and on a run: with inner step size 0 the two estimators' meta-gradients are both the plain
    policy gradient (LVC's pre-update term is alpha times a product), with 0.5 they differ."""
    import io
    import re

    from rich.console import Console

    from promp.trainer import train

    script = _load_script("meta_gradient_noise")
    grads = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 2.0], [2.0, -2.0]])
    # mean (2, 0); per-coordinate variances 2/3 and 8/3 (B - 1 = 3); squared norms 1, 9, 8, 8
    norm, rms, snr = script.signal_to_noise(grads)
    np.testing.assert_allclose([norm, rms, snr], [2.0, np.sqrt(6.5), 2.0 / np.sqrt(10.0 / 3.0)])

    for alpha in (0.0, 0.5):
        run = tmp_path / f"alpha{alpha}"
        cfg = resolve_config("point-nav", "lvc-vpg", dict(SMALL, iterations=1, inner_lr=alpha))
        train(cfg, run, console=Console(file=io.StringIO()), progress=False)
        monkeypatch.setattr("sys.argv", ["meta_gradient_noise.py", str(run), "--batches", "3"])
        script.main()
        out = capsys.readouterr().out
        pre_term = float(re.search(r"pre-update term ([0-9.e+-]+)", out).group(1))
        cosine = float(re.search(r"mean gradients: ([0-9.-]+)", out).group(1))
        assert "log-likelihood" in out and "likelihood-ratio" in out and "3 meta-batches of 3 x 3" in out
        if alpha == 0.0:
            assert pre_term < 1e-6 and cosine == 1.0
        else:
            assert pre_term > 1e-4 and cosine < 1.0
