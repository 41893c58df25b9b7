"""Loaders (real formats written here), clear errors for missing/corrupt files, augmentation."""
import gzip
import os

import numpy as np
import pytest
import torch

from certprune.data import DatasetError, augment, dataset_info, load_dataset
from certprune.data.augment import random_crop, random_flip


# --- synthetic -----------------------------------------------------------------------

def test_synthetic_is_deterministic_balanced_and_in_range():
    first = load_dataset("synthetic", "train")
    again = load_dataset("synthetic", "train")
    assert first.images.shape == (2000, 1, 16, 16) and first.images.dtype == torch.float32
    assert first.labels.dtype == torch.int64 and first.labels.shape == (2000,)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert 0.0 <= float(first.images.min()) and float(first.images.max()) <= 1.0
    assert torch.equal(first.labels.bincount(), torch.full((10,), 200))
    test = load_dataset("synthetic", "test")
    assert len(test) == 500 and not torch.equal(test.images[:10], first.images[:10])
    assert len(load_dataset("synthetic", "test", size=37)) == 37


def test_synthetic_classes_are_separable_by_nearest_class_mean():
    # The learnability a tiny model relies on: class means of train classify test well.
    train, test = load_dataset("synthetic", "train"), load_dataset("synthetic", "test")
    means = torch.stack([train.images[train.labels == k].mean(0).flatten() for k in range(10)])
    predicted = torch.cdist(test.images.flatten(1), means).argmin(1)
    assert float((predicted == test.labels).float().mean()) > 0.9


def test_dataset_info_values():
    info = dataset_info("fashion-mnist")
    assert info.input_shape == (1, 28, 28) and info.num_classes == 10 and info.default_eps == 0.1 and info.flip
    assert dataset_info("synthetic").default_eps == 0.05
    with pytest.raises(ValueError, match="unknown dataset"):
        dataset_info("mnist-3d")


# --- FashionMNIST IDX ----------------------------------------------------------------

def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_fashion(root, split_prefix, images, labels, gz=True):
    for name, array in ((f"{split_prefix}-images-idx3-ubyte", images), (f"{split_prefix}-labels-idx1-ubyte", labels)):
        data = _idx_bytes(array)
        if gz:
            with gzip.open(os.path.join(root, name + ".gz"), "wb") as handle:
                handle.write(data)
        else:
            with open(os.path.join(root, name), "wb") as handle:
                handle.write(data)


@pytest.fixture
def fashion_root(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    _write_fashion(tmp_path, "t10k", images, labels)
    return tmp_path, images, labels


def test_fashion_mnist_reads_gzipped_idx(fashion_root):
    root, images, labels = fashion_root
    data = load_dataset("fashion-mnist", "test", root=str(root))
    assert data.images.shape == (6, 1, 28, 28) and data.images.dtype == torch.float32
    assert torch.allclose(data.images[:, 0], torch.from_numpy(images).float() / 255)
    assert data.labels.tolist() == labels.tolist()
    assert len(load_dataset("fashion-mnist", "test", root=str(root), size=2)) == 2


def test_fashion_mnist_reads_uncompressed_idx(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    _write_fashion(tmp_path, "train", images, np.array([7, 0]), gz=False)
    data = load_dataset("fashion-mnist", "train", root=str(tmp_path))
    assert data.labels.tolist() == [7, 0] and float(data.images[1, 0, 0, 0]) == pytest.approx((784 % 256) / 255)


def test_missing_fashion_file_names_it_and_how_to_fix(tmp_path):
    with pytest.raises(DatasetError) as error:
        load_dataset("fashion-mnist", "train", root=str(tmp_path))
    message = str(error.value)
    assert os.path.join(str(tmp_path), "train-images-idx3-ubyte.gz") in message
    assert "IDX" in message and "data.root" in message


@pytest.mark.parametrize("damage", ["not-gzip", "bad-magic", "truncated", "bad-label"])
def test_corrupt_fashion_file_is_a_dataset_error_naming_it(fashion_root, damage):
    root, images, labels = fashion_root
    target = os.path.join(root, "t10k-images-idx3-ubyte.gz")
    if damage == "not-gzip":
        with open(target, "wb") as handle:
            handle.write(b"this is not a gzip file at all")
    elif damage == "bad-magic":
        with gzip.open(target, "wb") as handle:
            handle.write(b"\x00\x00\x0d\x03" + _idx_bytes(images)[4:])
    elif damage == "truncated":
        with gzip.open(target, "wb") as handle:
            handle.write(_idx_bytes(images)[:-100])
    else:
        target = os.path.join(root, "t10k-labels-idx1-ubyte.gz")
        with gzip.open(target, "wb") as handle:
            handle.write(_idx_bytes(np.array([1, 2, 3, 4, 5, 10])))
    with pytest.raises(DatasetError, match="t10k-(images|labels)-idx"):
        load_dataset("fashion-mnist", "test", root=str(root))


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="FashionMNIST not installed")
def test_real_fashion_mnist_test_split():
    data = load_dataset("fashion-mnist", "test", size=10)
    # The published first labels of the FashionMNIST test set.
    assert data.labels.tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert data.images.shape == (10, 1, 28, 28)


# --- augmentation --------------------------------------------------------------------

def test_random_crop_is_a_window_of_the_padded_image():
    images = torch.rand(16, 2, 6, 5)
    out = random_crop(images, 2, torch.Generator().manual_seed(3))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    offsets = set()
    for b in range(16):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(out[b], padded[b, :, dy:dy + 6, dx:dx + 5])]
        assert matches, f"sample {b} is not a crop of its padded image"
        offsets.add(matches[0])
    assert len(offsets) > 3  # offsets really vary


def test_random_flip_mirrors_about_half():
    images = torch.rand(200, 1, 3, 4)
    out = random_flip(images, torch.Generator().manual_seed(0))
    same = torch.tensor([torch.equal(o, i) for o, i in zip(out, images)])
    mirrored = torch.tensor([torch.equal(o, i.flip(2)) for o, i in zip(out, images)])
    assert bool((same | mirrored).all()) and 60 < int(mirrored.sum()) < 140


def test_augment_is_reproducible_with_a_seed_and_noop_without_crop_or_flip():
    images = torch.rand(8, 1, 16, 16)
    one = augment(images, 2, True, torch.Generator().manual_seed(5))
    two = augment(images, 2, True, torch.Generator().manual_seed(5))
    assert torch.equal(one, two) and one.shape == images.shape
    assert torch.equal(augment(images, 0, False, torch.Generator()), images)


# --- CIFAR-10 pickle batches and the ERAN set -----------------------------------------

import pickle  # noqa: E402


def _write_cifar_batch(path, data, labels):
    with open(path, "wb") as handle:  # bytes keys, protocol 2: like the python2-made originals
        pickle.dump({b"batch_label": b"x", b"data": data, b"labels": list(labels)}, handle, protocol=2)


@pytest.fixture
def cifar_root(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=3)
        _write_cifar_batch(folder / name, data, labels)
        batches[name] = (data, labels)
    return tmp_path, batches


def test_cifar10_reads_pickle_batches_channel_major(cifar_root):
    root, batches = cifar_root
    train = load_dataset("cifar10", "train", root=str(root))
    assert train.images.shape == (15, 3, 32, 32)
    data, labels = batches["data_batch_2"]
    assert train.labels[3:6].tolist() == labels.tolist()
    # Channel-major: value k of a row is channel k // 1024, row (k % 1024) // 32, column k % 32.
    assert float(train.images[3, 1, 2, 5]) == pytest.approx(data[0, 1024 + 2 * 32 + 5] / 255)
    test = load_dataset("cifar10", "test", root=str(root / "cifar-10-batches-py"), size=2)
    assert test.labels.tolist() == batches["test_batch"][1][:2].tolist()
    assert test.info.mean == (0.4914, 0.4822, 0.4465) and test.info.flip


def test_cifar10_missing_batch_is_named(cifar_root):
    root, _ = cifar_root
    os.remove(root / "cifar-10-batches-py" / "data_batch_4")
    with pytest.raises(DatasetError, match="data_batch_4.*CIFAR-10 python pickle"):
        load_dataset("cifar10", "train", root=str(root))


@pytest.mark.parametrize("content", [b"garbage bytes", pickle.dumps({b"labels": [1]}),
                                     pickle.dumps([1, 2, 3]), pickle.dumps({b"data": b"x" * 99})[:30]])
def test_cifar10_corrupt_batch_is_named(cifar_root, content):
    root, _ = cifar_root
    with open(root / "cifar-10-batches-py" / "test_batch", "wb") as handle:
        handle.write(content)
    with pytest.raises(DatasetError, match="test_batch"):
        load_dataset("cifar10", "test", root=str(root))


def test_cifar10_unpickler_refuses_code(cifar_root):
    root, _ = cifar_root

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with open(root / "cifar-10-batches-py" / "test_batch", "wb") as handle:
        pickle.dump({b"data": Evil(), b"labels": []}, handle)
    with pytest.raises(DatasetError, match="refusing"):
        load_dataset("cifar10", "test", root=str(root))


def test_eran_set_from_csv_in_hwc_order(tmp_path):
    rng = np.random.default_rng(2)
    hwc = rng.integers(0, 256, size=(2, 32, 32, 3))
    with open(tmp_path / "cifar10_test.csv", "w") as handle:
        for label, image in zip([3, 8], hwc):
            handle.write(",".join(map(str, [label] + image.reshape(-1).tolist())) + "\n")
    data = load_dataset("eran-cifar10", "test", root=str(tmp_path))
    assert data.labels.tolist() == [3, 8] and data.images.shape == (2, 3, 32, 32)
    assert float(data.images[1, 2, 4, 7]) == pytest.approx(hwc[1, 4, 7, 2] / 255)
    assert data.info.std == (0.2023, 0.1994, 0.2010)


def test_eran_set_falls_back_to_first_test_images(cifar_root):
    root, batches = cifar_root
    data = load_dataset("eran-cifar10", "test", root=str(root))
    assert data.labels.tolist() == batches["test_batch"][1].tolist()


def test_eran_set_missing_everything_names_both_sources(tmp_path):
    with pytest.raises(DatasetError, match="cifar10_test.csv.*test_batch"):
        load_dataset("eran-cifar10", "test", root=str(tmp_path))


def test_eran_csv_with_short_rows_is_corrupt(tmp_path):
    (tmp_path / "cifar10_test.csv").write_text("1,2,3\n")
    with pytest.raises(DatasetError, match="cifar10_test.csv.*3073"):
        load_dataset("eran-cifar10", "test", root=str(tmp_path))


# --- SVHN .mat -----------------------------------------------------------------------

def test_svhn_reads_mat_and_maps_label_10_to_0(tmp_path):
    import scipy.io
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, size=(32, 32, 3, 4), dtype=np.uint8)
    scipy.io.savemat(tmp_path / "test_32x32.mat", {"X": x, "y": np.array([[10], [1], [5], [10]], dtype=np.uint8)})
    data = load_dataset("svhn", "test", root=str(tmp_path))
    assert data.labels.tolist() == [0, 1, 5, 0]
    assert float(data.images[2, 1, 3, 9]) == pytest.approx(x[3, 9, 1, 2] / 255)
    assert not data.info.flip


def test_svhn_missing_and_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("CERTPRUNE_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match=os.path.join("svhn", "train_32x32.mat") + ".*CERTPRUNE_DATA"):
        load_dataset("svhn", "train")
    (tmp_path / "svhn").mkdir()
    (tmp_path / "svhn" / "train_32x32.mat").write_bytes(b"MATLAB 5.0 but not really" * 10)
    with pytest.raises(DatasetError, match="train_32x32.mat is not a valid SVHN"):
        load_dataset("svhn", "train")


# --- ImageNet 64x64 npz --------------------------------------------------------------

def test_imagenet64_reads_npz_with_one_based_labels(tmp_path):
    rng = np.random.default_rng(4)
    folder = tmp_path / "Imagenet64_val_npz"
    folder.mkdir()
    data = rng.integers(0, 256, size=(3, 12288), dtype=np.uint8)
    np.savez(folder / "val_data.npz", data=data, labels=[1, 1000, 7])
    val = load_dataset("imagenet64", "test", root=str(tmp_path))
    assert val.labels.tolist() == [0, 999, 6] and val.images.shape == (3, 3, 64, 64)
    assert float(val.images[0, 2, 10, 3]) == pytest.approx(data[0, 2 * 4096 + 10 * 64 + 3] / 255)
    assert val.info.num_classes == 1000


def test_imagenet64_train_reads_only_needed_batches_and_checks_all_exist(tmp_path):
    for i in range(1, 11):
        np.savez(tmp_path / f"train_data_batch_{i}.npz", data=np.full((2, 12288), i, dtype=np.uint8), labels=[i, i])
    train = load_dataset("imagenet64", "train", root=str(tmp_path), size=3)
    assert train.labels.tolist() == [0, 0, 1]
    (tmp_path / "train_data_batch_7.npz").write_bytes(b"PK\x03\x04 broken zip")
    assert len(load_dataset("imagenet64", "train", root=str(tmp_path), size=4)) == 4  # batch 7 not read
    with pytest.raises(DatasetError, match="train_data_batch_7.npz"):
        load_dataset("imagenet64", "train", root=str(tmp_path))
    os.remove(tmp_path / "train_data_batch_10.npz")
    with pytest.raises(DatasetError, match="train_data_batch_10.npz is missing"):
        load_dataset("imagenet64", "train", root=str(tmp_path), size=2)
