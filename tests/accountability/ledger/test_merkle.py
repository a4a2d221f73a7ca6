"""RFC 6962 Merkle trees: known answers, and properties over every tree size from 0 to 1,100 (crossing
the 256, 512 and 1,024 tile boundaries)."""

from __future__ import annotations

import hashlib
import random

import pytest

from accountability.ledger.offline import merkle

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# The reference leaves and roots of RFC 6962 implementations (certificate-transparency, Trillian).
RFC_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC_ROOTS = [
    EMPTY,
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
RFC_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
MAX_SIZE = 1100


def test_the_empty_tree_hashes_to_sha256_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == EMPTY
    assert merkle.root_of([]).hex() == EMPTY
    assert merkle.CompactRange().root().hex() == EMPTY
    assert merkle.MemoryTree().root().hex() == EMPTY


def test_leaf_and_node_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"").hex() == hashlib.sha256(b"\x00").hexdigest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_rfc6962_reference_vectors(size):
    hashes = [merkle.leaf_hash(leaf) for leaf in RFC_LEAVES[:size]]
    compact = merkle.CompactRange()
    compact.extend(hashes)
    assert merkle.root_of(hashes).hex() == RFC_ROOTS[size]
    assert compact.root().hex() == RFC_ROOTS[size]
    assert merkle.MemoryTree(hashes).root().hex() == RFC_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(RFC_INCLUSION))
def test_inclusion_proofs_match_the_reference_vectors(index, size):
    tree = merkle.MemoryTree([merkle.leaf_hash(leaf) for leaf in RFC_LEAVES[:size]])
    proof = tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == RFC_INCLUSION[(index, size)]
    assert merkle.verify_inclusion(index, size, merkle.leaf_hash(RFC_LEAVES[index]), proof, tree.root(size))


@pytest.fixture(scope="module")
def big_tree():
    rng = random.Random(6962)
    hashes = [merkle.leaf_hash(rng.randbytes(12)) for _ in range(MAX_SIZE)]
    tree = merkle.MemoryTree(hashes)
    roots = [tree.root(n) for n in range(MAX_SIZE + 1)]
    return hashes, tree, roots


def test_every_size_agrees_on_the_root(big_tree):
    """Recursive MTH, incremental compact range and the level store agree for every size 0..1,100."""
    hashes, tree, roots = big_tree
    compact = merkle.CompactRange()
    completed = []
    compact.on_complete = lambda level, index, h: completed.append((level, index, h))
    for n in range(MAX_SIZE + 1):
        assert compact.root() == roots[n] == merkle.root_of(hashes[:n]), n
        restored = merkle.CompactRange.from_bytes(n, compact.to_bytes())
        assert restored.root() == roots[n]
        assert [tree.node(lv, ix) for lv, ix in merkle.compact_range_nodes(n)] == compact.hashes
        if n < MAX_SIZE:
            compact.append(hashes[n])
    # Every perfect subtree was reported exactly once, with its own hash.
    assert len(completed) == MAX_SIZE - bin(MAX_SIZE).count("1")
    assert all(tree.node(level, index) == h for level, index, h in completed)


def test_every_inclusion_proof_verifies_at_every_size(big_tree):
    hashes, tree, roots = big_tree
    checked = 0
    for size in range(1, MAX_SIZE + 1):
        root = roots[size]
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert merkle.verify_inclusion(index, size, hashes[index], proof, root), (index, size)
            checked += 1
    assert checked == MAX_SIZE * (MAX_SIZE + 1) // 2


def test_every_consistency_proof_verifies_at_every_size(big_tree):
    _, tree, roots = big_tree
    checked = 0
    for new in range(MAX_SIZE + 1):
        for old in range(new + 1):
            proof = tree.consistency_proof(old, new)
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)
            checked += 1
    assert checked == (MAX_SIZE + 1) * (MAX_SIZE + 2) // 2


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_any_single_bit_change_fails_inclusion(big_tree):
    """Every bit of the leaf, of every proof hash and of the root, for proofs across tile boundaries;
    plus a random bit of a random proof at every size."""
    hashes, tree, roots = big_tree
    for index, size in [(0, 1), (5, 8), (255, 256), (256, 257), (511, 1024), (1023, 1025), (700, 1100)]:
        proof, root, leaf = tree.inclusion_proof(index, size), roots[size], hashes[index]
        assert merkle.verify_inclusion(index, size, leaf, proof, root)
        for bit in range(256):
            assert not merkle.verify_inclusion(index, size, _flip(leaf, bit), proof, root)
            assert not merkle.verify_inclusion(index, size, leaf, proof, _flip(root, bit))
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
                assert not merkle.verify_inclusion(index, size, leaf, bad, root)
    rng = random.Random(1)
    for size in range(2, MAX_SIZE + 1):
        index = rng.randrange(size)
        proof = tree.inclusion_proof(index, size)
        k, bit = rng.randrange(len(proof)), rng.randrange(256)
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not merkle.verify_inclusion(index, size, hashes[index], bad, roots[size])
        assert not merkle.verify_inclusion(index, size, _flip(hashes[index], bit), proof, roots[size])
        assert not merkle.verify_inclusion((index + 1) % size, size, hashes[index], proof, roots[size])


def test_any_single_bit_change_fails_consistency(big_tree):
    _, tree, roots = big_tree
    for old, new in [(1, 2), (3, 8), (256, 257), (255, 513), (512, 1024), (1000, 1100)]:
        proof = tree.consistency_proof(old, new)
        assert merkle.verify_consistency(old, new, roots[old], roots[new], proof)
        for bit in range(256):
            assert not merkle.verify_consistency(old, new, _flip(roots[old], bit), roots[new], proof)
            assert not merkle.verify_consistency(old, new, roots[old], _flip(roots[new], bit), proof)
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
                assert not merkle.verify_consistency(old, new, roots[old], roots[new], bad)
    rng = random.Random(2)
    for new in range(2, MAX_SIZE + 1):
        old = rng.randrange(1, new)
        proof = tree.consistency_proof(old, new)
        k, bit = rng.randrange(len(proof)), rng.randrange(256)
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not merkle.verify_consistency(old, new, roots[old], roots[new], bad)


def test_malformed_proofs_are_rejected(big_tree):
    hashes, tree, roots = big_tree
    proof = tree.inclusion_proof(3, 10)
    assert not merkle.verify_inclusion(10, 10, hashes[3], proof, roots[10])  # index outside the tree
    assert not merkle.verify_inclusion(3, 10, hashes[3], proof[:-1], roots[10])  # too short
    assert not merkle.verify_inclusion(3, 10, hashes[3], [*proof, proof[0]], roots[10])  # too long
    assert not merkle.verify_inclusion(3, 10, hashes[3], [proof[0][:31], *proof[1:]], roots[10])
    assert not merkle.verify_consistency(5, 4, roots[5], roots[4], [])
    assert not merkle.verify_consistency(4, 10, roots[4], roots[10], [])
    assert merkle.verify_consistency(0, 10, merkle.EMPTY_ROOT, roots[10], [])
    with pytest.raises(ValueError, match="outside"):
        tree.inclusion_proof(10, 10)
