"""--translator ctranslate2 with tiny cipher models built at test time (tiny_ct2.py).

Real CTranslate2 inference and real SentencePiece tokenisers trained here, offline: each
model maps every character through a known table, so every output can be checked exactly.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from tiny_ct2 import apply, build_ct2_folder, build_package, hangul_cipher, letter_cipher
from typer.testing import CliRunner

from imgtrans.cli import app
from imgtrans.errors import MissingModelError, UnsupportedLanguageError
from imgtrans.options import TranslatorOptions
from imgtrans.translators import build_translator
from imgtrans.translators.auto import resolve
from imgtrans.translators.ctranslate2 import CTranslate2Translator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SOURCES = [ln.split("\t")[0] for ln in (EXAMPLES / "tm.tsv").read_text("utf-8").splitlines()]
JA = [t for t in SOURCES[:8]]
ZH = SOURCES[8:13]
EN = SOURCES[13:]
runner = CliRunner()


def _truth_texts() -> list[str]:
    truth = json.loads((EXAMPLES / "pages" / "ground_truth.json").read_text("utf-8"))
    return [ln["text"] for page in truth.values() for b in page["blocks"] for ln in b["lines"]]


CORPUS = SOURCES + _truth_texts()
CIPHER_JA = hangul_cipher(CORPUS)
CIPHER_ZH_EN = letter_cipher(CORPUS)
CIPHER_EN_KO = hangul_cipher(CORPUS + [chr(c) for c in range(ord("a"), ord("z") + 1)])


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of three Argos-style packages: ja->ko and en->ko direct, zh->en (pivot)."""
    root = tmp_path_factory.mktemp("ct2")
    build_package(root / "translate-ja_ko-1_0", CIPHER_JA, "ja", "ko", CORPUS)
    build_package(root / "translate-zh_en-1_0", CIPHER_ZH_EN, "zh", "en", CORPUS)
    english = CORPUS + [apply(CIPHER_ZH_EN, t) for t in CORPUS]
    build_package(root / "translate-en_ko-1_0", CIPHER_EN_KO, "en", "ko", english)
    return root


def translator(root: Path, window: float = 0.05) -> CTranslate2Translator:
    return CTranslate2Translator(TranslatorOptions(name="ctranslate2", ct2_model=root), window)


def test_argos_package_translates_exactly(models: Path) -> None:
    t = translator(models)
    try:
        got = [r.text for r in t.translate(JA, "ja", "ko")]
    finally:
        t.close()
    assert got == [apply(CIPHER_JA, s) for s in JA]
    assert all("\uac00" <= c <= "\ud7a3" for text in got for c in text if not c.isspace())


def test_blocks_of_pages_arriving_together_run_as_one_batch(models: Path) -> None:
    t = translator(models, window=0.5)
    pages = [JA[0:3], JA[3:5], JA[5:8]]
    results: dict[int, list[str | None]] = {}
    start = threading.Barrier(len(pages))

    def page(i: int) -> None:
        start.wait()
        results[i] = [r.text for r in t.translate(pages[i], "ja", "ko")]

    threads = [threading.Thread(target=page, args=(i,)) for i in range(len(pages))]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        t.close()
    assert t.batch_sizes == [8]  # one model call for the blocks of all three pages
    for i, texts in enumerate(pages):
        assert results[i] == [apply(CIPHER_JA, s) for s in texts]  # each page gets its own


def test_pivots_through_english_and_says_so(models: Path) -> None:
    t = translator(models)
    try:
        t.check_pair("zh", "ko")
        got = [r.text for r in t.translate(ZH, "zh", "ko")]
        described = t.describe()
    finally:
        t.close()
    assert got == [apply(CIPHER_EN_KO, apply(CIPHER_ZH_EN, s)) for s in ZH]
    assert t.batch_sizes == [len(ZH), len(ZH)]  # zh->en, then en->ko, each one batch
    assert "pivot through en" in described
    assert "translate-zh_en-1_0 + translate-en_ko-1_0" in described


def test_bare_ctranslate2_folder_with_source_and_target_spm(tmp_path: Path) -> None:
    folder = build_ct2_folder(tmp_path / "opus-mt-ja-ko", CIPHER_JA, CORPUS)
    t = translator(folder)
    try:
        assert [(m.source, m.target, m.kind) for m in t.models] == [("ja", "ko", "ct2")]
        assert [r.text for r in t.translate(JA[:2], "ja", "ko")] == [
            apply(CIPHER_JA, s) for s in JA[:2]
        ]
    finally:
        t.close()


def test_unsupported_pair_and_missing_models_are_clear(models: Path, tmp_path: Path) -> None:
    t = translator(models)
    with pytest.raises(UnsupportedLanguageError, match="ja->ko"):
        t.check_pair("fr", "de")
    t.close()
    with pytest.raises(MissingModelError, match="no such folder"):
        translator(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingModelError, match="no model installed"):
        translator(tmp_path / "empty")


def test_registry_builds_it_and_auto_picks_it_when_alone(models: Path) -> None:
    options = TranslatorOptions(name="ctranslate2", ct2_model=models)
    built = build_translator(options)
    assert isinstance(built, CTranslate2Translator)
    built.close()
    assert resolve(options, env={})[0] == "ctranslate2"
    assert resolve(options, env={"DEEPL_API_KEY": "k"})[0] == "deepl"  # API backends first
    assert resolve(TranslatorOptions(), env={"IMGTRANS_CT2_MODEL": str(models)})[0] == "ctranslate2"


def test_models_list_shows_the_installed_models(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMGTRANS_CT2_MODEL", str(models))
    out = runner.invoke(app, ["models", "list"]).output
    rows = {ln.split("\t")[0]: ln.split("\t") for ln in out.splitlines() if "\tinstalled\t" in ln}
    assert rows["translate-ja_ko-1_0"][2:4] == ["ja->ko", "argos"]
    assert rows["translate-zh_en-1_0"][2] == "zh->en"


def test_a_model_without_tokenisers_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "models" / "opus-mt-ja-en"
    broken.mkdir(parents=True)
    (broken / "model.bin").write_bytes(b"\0")
    with pytest.raises(MissingModelError, match="source.spm and target.spm"):
        translator(tmp_path / "models")
    monkeypatch.setenv("IMGTRANS_CT2_MODEL", str(tmp_path / "models"))
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0
    assert "without SentencePiece models" in result.output


def test_cli_exit_codes_for_missing_models_and_pairs(models: Path, tmp_path: Path) -> None:
    page = EXAMPLES / "pages" / "poster_ja.png"
    base = ["translate", str(page), "--to", "ko", "-o", str(tmp_path / "o"), "-t", "ctranslate2"]
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, [*base, "--ct2-model", str(tmp_path / "empty")])
    assert result.exit_code == 5, result.output
    result = runner.invoke(app, [*base, "--ct2-model", str(models), "--from", "fr"])
    assert result.exit_code == 7, result.output
    assert "fr -> ko" in result.output and "ja->ko" in result.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_translate_the_example_pages_offline(models: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["translate", str(EXAMPLES / "pages"), "--to", "ko", "-o", str(out), "-j", "1"]
    result = runner.invoke(
        app, [*args, "-t", "ctranslate2", "--ct2-model", str(models), "--inpainter", "opencv"]
    )
    assert result.exit_code == 0, result.output
    sidecars = sorted(out.glob("*.imgtrans.json"))
    assert len(sidecars) == 4
    seen = set()
    for path in sidecars:
        doc = json.loads(path.read_text("utf-8"))
        assert doc["run"]["translator"].startswith("ctranslate2:")
        lang = doc["source_lang"]
        seen.add(lang)
        for block in (b for b in doc["blocks"] if b["translate"]):
            text = block["text"]
            want = {
                "ja": lambda s: apply(CIPHER_JA, s),
                "en": lambda s: apply(CIPHER_EN_KO, s),
                "zh": lambda s: apply(CIPHER_EN_KO, apply(CIPHER_ZH_EN, s)),
            }[lang](text)
            assert block["translation"] == want, (path.name, text)
            assert block["render"]["status"] in ("ok", "overflow")
    assert seen == {"ja", "zh", "en"}
