from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from training.dataset import PatchBank, PatchStream


def test_patches_have_the_right_shapes_scales_and_ranges(small_data: Path) -> None:
    bank = PatchBank(small_data / "T91", scales=(2, 3, 4), patch_size=41)
    batch = bank.sample(64, np.random.default_rng(0))
    assert batch.lr.shape == batch.hr.shape == (64, 1, 41, 41)
    assert batch.lr.dtype == batch.hr.dtype == np.float32
    assert set(batch.scales) == {2, 3, 4}
    for arr in (batch.lr, batch.hr):
        # BT.601 studio-swing luma, with a little bicubic overshoot allowed on the input
        assert arr.min() >= 16 / 255 - 0.05 and arr.max() <= 235 / 255 + 0.05
    assert batch.hr.min() >= 16 / 255 - 1e-6 and batch.hr.max() <= 235 / 255 + 1e-6
    # The input is a blurred version of the target: close, but not equal, and worse at larger scales.
    err = np.abs(batch.lr - batch.hr).mean(axis=(1, 2, 3))
    assert 0 < err[batch.scales == 2].mean() < err[batch.scales == 4].mean() < 0.1


def test_sampling_is_deterministic_per_seed(small_data: Path) -> None:
    bank = PatchBank(small_data / "T91", scales=(2,), patch_size=24)
    a = bank.sample(8, np.random.default_rng([1, 2]))
    b = bank.sample(8, np.random.default_rng([1, 2]))
    c = bank.sample(8, np.random.default_rng([1, 3]))
    np.testing.assert_array_equal(a.lr, b.lr)
    assert not np.array_equal(a.lr, c.lr)


def test_stream_gives_each_step_the_same_batch_whatever_the_workers(small_data: Path) -> None:
    bank = PatchBank(small_data / "T91", scales=(2, 3), patch_size=24)

    def inputs(workers: int, start: int) -> list[torch.Tensor]:
        stream = PatchStream(bank, 4, seed=0, rank=0, start=start, stop=7)
        return [lr for lr, _, _ in DataLoader(stream, batch_size=None, num_workers=workers)]

    serial = inputs(0, 0)
    assert len(serial) == 7 and serial[0].shape == (4, 1, 24, 24)
    for got, want in ((inputs(2, 0), serial), (inputs(2, 3), serial[3:])):  # parallel; resumed at step 3
        assert len(got) == len(want)
        assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))


def test_degraded_pairs_match_the_evaluation_protocol(small_data: Path) -> None:
    from vdsr.color import rgb_to_y
    from vdsr.data import load_rgb_folder
    from vdsr.degrade import low_resolution, modcrop
    from vdsr.pipeline import to_float
    from vdsr.resize import imresize

    bank = PatchBank(
        small_data / "T91",
        scales=(3,),
        downsizes=(1.0,),
        patch_size=24,
        degradations={"clean": 1, "jpeg:30": 1, "h264:20-40": 2},
        variants=3,
        seed=5,
    )
    assert [len(v) for v in bank.lr[3][0]] == [1, 1, 3]  # deterministic specs need one version
    np.testing.assert_allclose(bank.shares, [0.25, 0.25, 0.5])
    _, img = load_rgb_folder(small_data / "T91")[0]
    hr = modcrop(to_float(img), 3)
    np.testing.assert_allclose(bank.hr[3][0], rgb_to_y(hr), atol=1e-6)
    for i, spec in enumerate(("clean", "jpeg:30")):
        want = imresize(rgb_to_y(to_float(low_resolution(hr, 3, spec))), hr.shape[:2])
        np.testing.assert_allclose(bank.lr[3][0][i][0], want, atol=1e-6)
    h264 = bank.lr[3][0][2]
    assert not np.array_equal(h264[0], h264[1])  # each version draws its own CRF
    # Patches come from every spec in about the configured shares: damaged inputs are further from the target.
    batch = bank.sample(400, np.random.default_rng(0))
    err = np.abs(batch.lr - batch.hr).mean(axis=(1, 2, 3))
    clean_err = np.abs(bank.lr[3][0][0][0] - bank.hr[3][0]).mean()
    assert 0.2 < (err > 1.3 * clean_err).mean() < 0.9


def test_a_bank_built_in_processes_equals_one_built_serially(small_data: Path) -> None:
    kwargs = {"scales": (2, 3), "patch_size": 24, "degradations": {"clean": 1, "jpeg:20-90": 1}, "variants": 2}
    serial, parallel = PatchBank(small_data / "T91", **kwargs), PatchBank(small_data / "T91", **kwargs, processes=2)
    for s in (2, 3):
        assert len(parallel.hr[s]) == len(serial.hr[s]) > 1
        for a, b in zip(serial.hr[s], parallel.hr[s], strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(serial.lr[s], parallel.lr[s], strict=True):
            for versions_a, versions_b in zip(a, b, strict=True):
                assert len(versions_a) == len(versions_b)
                for x, y in zip(versions_a, versions_b, strict=True):
                    np.testing.assert_array_equal(x, y)


def test_bad_degradation_shares_are_refused(small_data: Path) -> None:
    import pytest

    with pytest.raises(ValueError, match="shares"):
        PatchBank(small_data / "T91", scales=(2,), patch_size=24, degradations={"jpeg:50": 0})
