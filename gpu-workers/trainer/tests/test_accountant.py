import math

import pytest

from provena_trainer.accountant import DEFAULT_ORDERS, RdpAccountant, compute_rdp, epsilon, get_privacy_spent
from provena_trainer.recipe import plan_epsilon
from synth import DP, recipe


def test_default_orders_are_opacus_grid_from_1_1_to_10_9_then_12_to_63():
    assert len(DEFAULT_ORDERS) == 99 + 52
    assert DEFAULT_ORDERS[0] == pytest.approx(1.1) and DEFAULT_ORDERS[98] == pytest.approx(10.9)
    assert DEFAULT_ORDERS[99:] == tuple(float(x) for x in range(12, 64))


def test_noise_1_5_rate_0_04_over_2250_steps_gives_epsilon_7_3291_at_delta_1e_5():
    assert round(epsilon(q=0.04, noise_multiplier=1.5, steps=2250, delta=1e-5), 4) == 7.3291


def test_mnist_setting_gives_2_5967_with_the_improved_conversion():
    assert round(epsilon(q=256 / 60000, noise_multiplier=1.1, steps=14063, delta=1e-5), 4) == 2.5967


def test_mnist_setting_gives_3_0084_with_the_classic_conversion():
    eps = epsilon(q=256 / 60000, noise_multiplier=1.1, steps=14063, delta=1e-5, conversion="classic")
    assert round(eps, 4) == 3.0084


def test_full_batch_rdp_is_alpha_over_two_sigma_squared_per_step():
    assert compute_rdp(q=1.0, noise_multiplier=2.0, steps=3, orders=[2.0, 5.5]) == [3 * 2.0 / 8, 3 * 5.5 / 8]


def test_epsilon_grows_with_steps_and_shrinks_with_noise():
    base = epsilon(q=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5)
    assert epsilon(q=0.01, noise_multiplier=1.0, steps=2000, delta=1e-5) > base
    assert epsilon(q=0.01, noise_multiplier=2.0, steps=1000, delta=1e-5) < base


def test_the_accountant_composes_steps_to_the_closed_form():
    acc = RdpAccountant()
    for _ in range(50):
        acc.step(noise_multiplier=1.2, q=0.02)
    assert acc.epsilon(1e-5) == pytest.approx(epsilon(q=0.02, noise_multiplier=1.2, steps=50, delta=1e-5), rel=1e-12)


def test_an_unknown_conversion_is_refused():
    with pytest.raises(ValueError):
        get_privacy_spent(orders=[2.0], rdp=[1.0], delta=1e-5, conversion="optimistic")


def test_plan_epsilon_accounts_every_epoch_at_the_recipe_sampling_rate():
    r = recipe("tabular-classifier", epochs=3, batchSize=50, validationFraction=0.2, dp=DP)
    # 1000 rows -> 800 training rows, q = 50/800, 16 steps per epoch
    assert plan_epsilon(r, 1000) == epsilon(q=50 / 800, noise_multiplier=DP["noiseMultiplier"], steps=48, delta=1e-5)


def test_plan_epsilon_is_infinite_without_dp():
    assert math.isinf(plan_epsilon(recipe("tabular-classifier"), 1000))
