import torch
import torch.nn.functional as F

from provena_trainer.dp import clip_per_sample, dp_gradient_step, per_sample_grads
from provena_trainer.models import TabularMLP


def _model_and_batch(n=24):
    torch.manual_seed(0)
    model = TabularMLP(n_numeric=3, cardinalities=[5], embedding_dim=2, hidden=[8], n_out=3)
    x_num = torch.randn(n, 3) * torch.linspace(0.1, 30, n).unsqueeze(1)  # some samples with huge gradients
    x_cat = torch.randint(0, 6, (n, 1))
    y = torch.randint(0, 3, (n,))
    return model, (x_num, x_cat), y


def _norms(grads):
    return torch.stack([g.reshape(g.shape[0], -1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()


def test_per_sample_gradients_equal_each_sample_s_own_autograd_gradient():
    model, (x_num, x_cat), y = _model_and_batch(6)

    grads = per_sample_grads(model, F.cross_entropy, (x_num, x_cat), y)

    for i in range(6):
        model.zero_grad()
        F.cross_entropy(model(x_num[i:i + 1], x_cat[i:i + 1]), y[i:i + 1]).backward()
        for name, p in model.named_parameters():
            torch.testing.assert_close(grads[name][i], p.grad, rtol=1e-5, atol=1e-6)


def test_clipping_bounds_every_per_sample_gradient_norm_by_max_grad_norm():
    model, xs, y = _model_and_batch()
    grads = per_sample_grads(model, F.cross_entropy, xs, y)
    assert (_norms(grads) > 0.5).sum() > 5  # the bound is exercised

    clipped = clip_per_sample(grads, 0.5)

    assert bool((_norms(clipped) <= 0.5 + 1e-5).all())


def test_clipping_leaves_gradients_already_within_the_bound_unchanged():
    model, xs, y = _model_and_batch()
    grads = per_sample_grads(model, F.cross_entropy, xs, y)
    small = _norms(grads) < 10.0

    clipped = clip_per_sample(grads, 10.0)

    for k in grads:
        torch.testing.assert_close(clipped[k][small], grads[k][small], rtol=1e-5, atol=1e-7)


def test_without_noise_the_step_gradient_is_the_clipped_sum_over_the_expected_batch_size():
    model, xs, y = _model_and_batch()
    clipped = clip_per_sample(per_sample_grads(model, F.cross_entropy, xs, y), 1.0)

    dp_gradient_step(model, F.cross_entropy, xs, y, noise_multiplier=0.0, max_grad_norm=1.0, expected_batch_size=32,
                     noise_generator=torch.Generator().manual_seed(0))

    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, clipped[name].sum(0) / 32, rtol=1e-5, atol=1e-7)


def test_the_noise_has_standard_deviation_noise_multiplier_times_max_grad_norm_over_batch_size():
    model = torch.nn.Linear(200, 50)
    xs, y = (torch.zeros(0, 200),), torch.zeros(0, dtype=torch.int64)  # an empty Poisson batch: noise only

    dp_gradient_step(model, F.cross_entropy, xs, y, noise_multiplier=1.5, max_grad_norm=2.0, expected_batch_size=10,
                     noise_generator=torch.Generator().manual_seed(1))

    assert abs(float(model.weight.grad.std()) - 1.5 * 2.0 / 10) < 0.01
