import torch
from torch import nn

from training.consistency import consistency_losses, ensemble_targets, step_transform


def test_consistency_is_zero_only_for_an_equivariant_network(tiny_model) -> None:
    lr, hr = torch.rand(3, 1, 12, 12), torch.rand(3, 1, 12, 12)
    fit, cons = consistency_losses(nn.Identity(), lr, hr, quarter_turns=1, mirrored=True)
    assert cons.item() == 0.0 and torch.isclose(fit, nn.functional.mse_loss(lr, hr))
    fit, cons = consistency_losses(tiny_model().train(), lr, hr, quarter_turns=3, mirrored=False)
    assert cons.item() > 0.0
    cons.backward()  # the term trains the network


def test_the_fit_term_uses_the_given_loss() -> None:
    lr, hr = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    fit, _ = consistency_losses(nn.Identity(), lr, hr, 2, True, nn.functional.l1_loss)
    assert torch.isclose(fit, nn.functional.l1_loss(lr, hr))


def test_each_step_has_a_fixed_non_identity_transform() -> None:
    drawn = [step_transform(0, 0, step) for step in range(200)]
    assert drawn == [step_transform(0, 0, step) for step in range(200)]  # resuming repeats them
    assert set(drawn) == {(q, m) for q in (1, 2, 3) for m in (False, True)}  # all 6, never the identity
    assert drawn != [step_transform(1, 0, step) for step in range(200)]


def test_ensemble_targets_average_the_eight_turned_back_passes(tiny_model) -> None:
    teacher, lr = tiny_model(), torch.rand(2, 1, 10, 10)
    assert torch.allclose(ensemble_targets(nn.Identity(), lr), lr)
    by_hand = torch.zeros_like(lr)
    for q in range(4):
        for mirrored in (False, True):
            view = torch.rot90(lr, q, dims=(2, 3))
            view = torch.flip(view, dims=(3,)) if mirrored else view
            out = teacher(view)
            out = torch.flip(out, dims=(3,)) if mirrored else out
            by_hand += torch.rot90(out, -q, dims=(2, 3)) / 8
    assert torch.allclose(ensemble_targets(teacher, lr), by_hand, atol=1e-6)
