"""A tiny CTranslate2 translation model built at test time: a character cipher.

SentencePiece (character model, trained offline on the texts given) tokenises both sides; the
weights of a one-layer Transformer are set by hand so that cross-attention at decoding step t
looks at source position t and copies that token through a fixed table into the target
vocabulary. So the "translation" of a text is known in advance (each character mapped
through the cipher): tests can check tokenisation, batching, order and pivoting exactly,
with real CTranslate2 inference and no network.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

MAX_LEN = 300  # positions the model knows (more than the decoding limit imgtrans sets)


def train_spm(texts: list[str], out: Path) -> Path:
    """A SentencePiece character model covering every character of ``texts``."""
    import sentencepiece as spm

    buf = io.BytesIO()
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([*texts, " ".join(chars)]),
        model_writer=buf,
        model_type="char",
        vocab_size=len(chars) + 4,  # + <unk> <s> </s> and the word boundary
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    out.write_bytes(buf.getvalue())
    return out


def _pieces(model: Path) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def build_cipher_model(cipher: dict[str, str], src_spm: Path, tgt_spm: Path, out: Path) -> Path:
    """Write a CTranslate2 model folder at ``out`` that maps each source character through
    ``cipher`` (characters missing from it, the word boundary and specials map to themselves)."""
    from ctranslate2.specs import transformer_spec

    src, tgt = _pieces(src_spm), _pieces(tgt_spm)
    table = {p: cipher.get(p, p) for p in src}
    missing = sorted(v for v in table.values() if v not in tgt)
    if missing:
        raise ValueError(f"target vocabulary lacks {missing}")
    d = MAX_LEN + len(src)
    spec = transformer_spec.TransformerSpec.from_config(1, 1)
    enc, dec = spec.encoder, spec.decoder
    eye = np.eye(d, dtype=np.float32)
    positions = np.zeros((MAX_LEN, d), np.float32)
    positions[:, :MAX_LEN] = np.eye(MAX_LEN)
    token_rows = np.zeros((len(src), d), np.float32)
    token_rows[:, MAX_LEN:] = np.eye(len(src))
    enc.embeddings[0].weight = token_rows
    enc.scale_embeddings = False
    enc.position_encodings.encodings = positions
    dec.embeddings.weight = np.zeros((len(tgt), d), np.float32)
    dec.scale_embeddings = False
    dec.position_encodings.encodings = positions
    for norm in _norms(spec):
        norm.gamma, norm.beta = np.ones(d, np.float32), np.zeros(d, np.float32)
    zero = np.zeros((d, d), np.float32)
    enc.layer[0].self_attention.linear[0].weight = np.zeros((3 * d, d), np.float32)
    enc.layer[0].self_attention.linear[1].weight = zero
    dec.layer[0].self_attention.linear[0].weight = np.zeros((3 * d, d), np.float32)
    dec.layer[0].self_attention.linear[1].weight = zero
    pos_only = eye * (np.arange(d) < MAX_LEN)
    tok_only = eye - pos_only
    cross = dec.layer[0].attention
    cross.linear[0].weight = 40.0 * pos_only  # query: the decoding step
    cross.linear[1].weight = np.concatenate([pos_only, tok_only])  # key: position, value: token
    cross.linear[2].weight = 10.0 * tok_only
    for layer in (enc.layer[0], dec.layer[0]):
        layer.ffn.linear_0.weight = np.zeros((4, d), np.float32)
        layer.ffn.linear_1.weight = np.zeros((d, 4), np.float32)
    projection = np.zeros((len(tgt), d), np.float32)
    for i, piece in enumerate(src):
        projection[tgt.index(table[piece]), MAX_LEN + i] = 1.0
    dec.projection.weight = projection
    spec.register_source_vocabulary(src)
    spec.register_target_vocabulary(tgt)
    spec.config.add_source_eos = True
    spec.validate()
    spec.optimize(quantization=None)
    out.mkdir(parents=True, exist_ok=True)
    spec.save(str(out))
    return out


def _norms(spec: object) -> list[object]:
    from ctranslate2.specs import common_spec

    found: list[object] = []

    def visit(node: object) -> None:
        if isinstance(node, common_spec.LayerNormSpec):
            found.append(node)
            return
        for value in vars(node).values():
            for child in value if isinstance(value, list) else [value]:
                if hasattr(child, "__dict__") and not isinstance(child, np.ndarray):
                    visit(child)

    visit(spec)
    return found


def build_package(
    folder: Path, cipher: dict[str, str], source: str, target: str, texts: list[str]
) -> Path:
    """An Argos Translate style package: ``model/``, ``sentencepiece.model``, ``metadata.json``.

    Argos packages share one SentencePiece model between both sides, so it is trained on the
    source texts and their ciphered form together.
    """
    folder.mkdir(parents=True, exist_ok=True)
    ciphered = ["".join(cipher.get(c, c) for c in t) for t in texts]
    sp = train_spm(texts + ciphered, folder / "sentencepiece.model")
    build_cipher_model(cipher, sp, sp, folder / "model")
    meta = {"package_version": "1.0", "from_code": source, "to_code": target, "type": "translate"}
    (folder / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def hangul_cipher(texts: list[str]) -> dict[str, str]:
    """Every non-space character of ``texts`` -> its own Hangul syllable."""
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    return {c: chr(0xAC00 + 28 * i) for i, c in enumerate(chars)}


def letter_cipher(texts: list[str]) -> dict[str, str]:
    """Every non-space character of ``texts`` -> a lower-case Latin letter (not one-to-one)."""
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    return {c: chr(ord("a") + i % 26) for i, c in enumerate(chars)}


def apply(cipher: dict[str, str], text: str) -> str:
    """What the cipher model outputs for ``text`` (SentencePiece normalises NFKC first)."""
    import unicodedata

    norm = " ".join(unicodedata.normalize("NFKC", text).split())
    return "".join(cipher.get(c, c) for c in norm)


def build_ct2_folder(folder: Path, cipher: dict[str, str], texts: list[str]) -> Path:
    """A bare CTranslate2 folder as converted OPUS-MT models come: ``model.bin`` beside
    separate ``source.spm`` and ``target.spm`` tokenisers."""
    folder.mkdir(parents=True, exist_ok=True)
    spm_dir = folder.parent / f".{folder.name}-spm"
    spm_dir.mkdir(exist_ok=True)
    src = train_spm(texts, spm_dir / "source.spm")
    tgt = train_spm([apply(cipher, t) for t in texts], spm_dir / "target.spm")
    build_cipher_model(cipher, src, tgt, folder)
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes((spm_dir / name).read_bytes())
    return folder
