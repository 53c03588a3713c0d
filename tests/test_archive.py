"""Comic archives (.cbz, .zip) in, a translated .cbz out: order, names, resume, refusals."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from drawing import FONT_KO, Text, draw
from PIL import Image
from typer.testing import CliRunner

from imgtrans.archive import unsafe_name
from imgtrans.cli import app

runner = CliRunner()
WORDS = {"Hello": "안녕", "Thank you": "고마워", "Good night": "잘 자"}


def png(word: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(draw(480, 200, [Text(word, (40, 60), 44, font=FONT_KO)])).save(buf, "PNG")
    return buf.getvalue()


def make_cbz(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


BOOK = [
    ("ComicInfo.xml", b"<ComicInfo><Title>t</Title></ComicInfo>"),
    ("ch1/", b""),
    ("ch1/p02.png", png("Thank you")),
    ("ch1/p01.png", png("Hello")),  # archive order is kept, not sorted
    ("p03.png", png("Good night")),
]


@pytest.fixture
def tm(tmp_path: Path) -> Path:
    path = tmp_path / "tm.tsv"
    path.write_text("".join(f"{k}\t{v}\n" for k, v in WORDS.items()), encoding="utf-8")
    return path


def translate(*args: object) -> tuple[int, dict[str, object]]:
    result = runner.invoke(
        app, ["translate", *map(str, args), "--to", "ko", "-j", "1", "-q", "--json"]
    )
    lines = result.stdout.strip().splitlines()
    return result.exit_code, (json.loads(lines[-1]) if lines else {"output": result.output})


def translations(sidecar: Path) -> list[str]:
    doc = json.loads(sidecar.read_text("utf-8"))
    return [b["translation"] for b in doc["blocks"] if b["translate"]]


def test_a_cbz_round_trips_to_a_translated_cbz(tmp_path: Path, tm: Path) -> None:
    src = make_cbz(tmp_path / "in" / "sub" / "book.cbz", BOOK)
    make_cbz(tmp_path / "in" / "other.zip", [("a.png", png("Hello"))])
    out = tmp_path / "out"
    code, summary = translate(tmp_path / "in", "--tm", tm, "-o", out)
    assert code == 0, summary
    assert summary["done"] == 4
    built = out / "sub" / "book.cbz"
    with zipfile.ZipFile(built) as zf, zipfile.ZipFile(src) as orig:
        assert zf.namelist() == orig.namelist()
        assert zf.read("ComicInfo.xml") == orig.read("ComicInfo.xml")
        for name in ("ch1/p01.png", "ch1/p02.png", "p03.png"):
            assert zf.read(name) != orig.read(name)  # translated
            assert zf.read(name) == (out / "sub" / "book" / name).read_bytes()
            Image.open(io.BytesIO(zf.read(name))).verify()
    folder = out / "sub" / "book"
    assert translations(folder / "ch1" / "p01.imgtrans.json") == ["안녕"]
    assert translations(folder / "p03.imgtrans.json") == ["잘 자"]
    doc = json.loads((folder / "ch1" / "p02.imgtrans.json").read_text("utf-8"))
    assert doc["source"]["path"] == "sub/book.cbz/ch1/p02.png"
    assert (out / "other.cbz").is_file()  # a .zip comes out as .cbz
    assert not list(out.rglob("*.part"))


def test_resume_redoes_only_pages_not_done_and_rebuilds(tmp_path: Path, tm: Path) -> None:
    make_cbz(tmp_path / "book.cbz", BOOK)
    out = tmp_path / "out"
    assert translate(tmp_path / "book.cbz", "--tm", tm, "-o", out)[0] == 0
    built = out / "book.cbz"
    first = built.stat().st_mtime_ns
    code, summary = translate(tmp_path / "book.cbz", "--tm", tm, "-o", out)
    assert code == 0 and summary["skipped"] == 3 and summary["done"] == 0
    assert built.stat().st_mtime_ns == first  # nothing changed: not rewritten
    (out / "book" / "p03.imgtrans.json").unlink()
    (out / "book" / "p03.png").unlink()
    code, summary = translate(tmp_path / "book.cbz", "--tm", tm, "-o", out)
    assert code == 0 and summary["skipped"] == 2 and summary["done"] == 1
    with zipfile.ZipFile(built) as zf:
        assert zf.read("p03.png") == (out / "book" / "p03.png").read_bytes()


def test_a_corrupt_page_fails_alone_and_the_cbz_waits_for_it(tmp_path: Path, tm: Path) -> None:
    book = make_cbz(tmp_path / "in" / "book.cbz", BOOK)
    data = bytearray(book.read_bytes())
    start = data.index(b"IDAT", data.index(b"ch1/p02.png"))  # inside that page's bytes
    data[start + 40 : start + 60] = b"\x00" * 20  # stored entry: the CRC check catches it
    book.write_bytes(bytes(data))
    out = tmp_path / "out"
    code, summary = translate(tmp_path / "in", "--tm", tm, "-o", out)
    assert code == 3
    [failure] = summary["failures"]  # type: ignore[misc]
    assert failure["path"] == "book.cbz/ch1/p02.png" and "ch1/p02.png" in failure["message"]
    assert not (out / "book.cbz").exists()
    assert any("not written" in w["message"] for w in summary["warnings"])  # type: ignore[attr-defined]
    assert (out / "book" / "p03.png").is_file()


@pytest.mark.parametrize(
    ("entries", "kind"),
    [
        ([("../evil.png", png("Hello"))], "unsafe_archive"),
        ([("/abs/evil.png", png("Hello"))], "unsafe_archive"),
        ([("ok/../../evil.png", png("Hello"))], "unsafe_archive"),
    ],
)
def test_unsafe_entries_refuse_the_archive(
    tmp_path: Path, tm: Path, entries: list[tuple[str, bytes]], kind: str
) -> None:
    make_cbz(tmp_path / "in" / "bad.cbz", entries)
    (tmp_path / "in" / "fine.png").write_bytes(png("Hello"))
    code, summary = translate(tmp_path / "in", "--tm", tm, "-o", tmp_path / "out")
    assert code == 3
    [failure] = summary["failures"]  # type: ignore[misc]
    assert failure["kind"] == kind and failure["path"] == "bad.cbz"
    assert "bad.cbz" in failure["message"]
    assert summary["done"] == 1
    assert not list(tmp_path.rglob("evil*"))


def test_corrupt_and_oversized_archives_are_named_errors(tmp_path: Path, tm: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "junk.cbz").write_bytes(b"PK\x03\x04 this is not a zip")
    make_cbz(tmp_path / "in" / "big.zip", BOOK)
    (tmp_path / "in" / "fine.png").write_bytes(png("Hello"))
    code, summary = translate(
        tmp_path / "in", "--tm", tm, "-o", tmp_path / "out", "--max-archive-bytes", "10000"
    )
    assert code == 3
    kinds = {f["path"]: f["kind"] for f in summary["failures"]}  # type: ignore[attr-defined]
    assert kinds == {"junk.cbz": "bad_archive", "big.zip": "too_large"}
    assert summary["done"] == 1


def test_render_after_an_edit_rebuilds_the_cbz(tmp_path: Path, tm: Path) -> None:
    make_cbz(tmp_path / "book.cbz", BOOK)
    out = tmp_path / "out"
    assert translate(tmp_path / "book.cbz", "--tm", tm, "-o", out)[0] == 0
    sidecar = out / "book" / "p03.imgtrans.json"
    doc = json.loads(sidecar.read_text("utf-8"))
    before = (out / "book" / "p03.png").read_bytes()
    next(b for b in doc["blocks"] if b["translate"])["translation"] = "안녕히 주무세요"
    sidecar.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["render", str(out), "-q"])
    assert result.exit_code == 0, result.output
    after = (out / "book" / "p03.png").read_bytes()
    assert after != before
    with zipfile.ZipFile(out / "book.cbz") as zf:
        assert zf.read("p03.png") == after
        assert zf.namelist() == [name for name, _ in BOOK]


def test_format_changes_page_names_only_in_their_suffix(tmp_path: Path, tm: Path) -> None:
    make_cbz(tmp_path / "book.cbz", BOOK)
    out = tmp_path / "out"
    code, _ = translate(tmp_path / "book.cbz", "--tm", tm, "-o", out, "--format", "jpg")
    assert code == 0
    with zipfile.ZipFile(out / "book.cbz") as zf:
        assert zf.namelist() == ["ComicInfo.xml", "ch1/", "ch1/p02.jpg", "ch1/p01.jpg", "p03.jpg"]


def test_unsafe_name() -> None:
    assert unsafe_name("../x.png") and unsafe_name("/x.png") and unsafe_name("a/../../x")
    assert unsafe_name("C:/x.png") and unsafe_name("..\\x.png")
    assert not unsafe_name("a/b/c.png") and not unsafe_name("..a.png")


def test_the_example_pages_as_a_cbz_round_trip(tmp_path: Path) -> None:
    """The issue's done-when: a .cbz of the example pages comes back as a translated .cbz."""
    repo = Path(__file__).resolve().parent.parent
    pages = sorted((repo / "examples" / "pages").glob("*.png"))
    book = make_cbz(tmp_path / "examples.cbz", [(p.name, p.read_bytes()) for p in pages])
    out = tmp_path / "out"
    code, summary = translate(book, "--tm", repo / "examples" / "tm.tsv", "-o", out)
    assert code == 0 and summary["done"] == len(pages) == 4, summary
    with zipfile.ZipFile(out / "examples.cbz") as zf:
        assert zf.namelist() == [p.name for p in pages]
    for page in pages:
        done = translations(out / "examples" / f"{page.stem}.imgtrans.json")
        assert done and all(done), page.name


def test_report_shows_archive_pages_with_their_source(tmp_path: Path, tm: Path) -> None:
    make_cbz(tmp_path / "in" / "book.cbz", BOOK)
    out = tmp_path / "out"
    assert translate(tmp_path / "in", "--tm", tm, "-o", out)[0] == 0
    result = runner.invoke(app, ["report", str(out), "--input", str(tmp_path / "in")])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text("utf-8")
    assert "book.cbz/ch1/p01.png" in html
    assert html.count("data:image/png;base64,") == 3  # each page's source, from the archive


def test_a_refused_page_is_carried_over_and_the_cbz_is_still_written(
    tmp_path: Path, tm: Path
) -> None:
    """p.png and p.jpg would share a sidecar: the second is reported, kept untranslated."""
    jpg = io.BytesIO()
    Image.open(io.BytesIO(png("Hello"))).convert("RGB").save(jpg, "JPEG")
    make_cbz(tmp_path / "book.cbz", [("p.png", png("Hello")), ("p.jpg", jpg.getvalue())])
    out = tmp_path / "out"
    code, summary = translate(tmp_path / "book.cbz", "--tm", tm, "-o", out)
    assert code == 3
    [failure] = summary["failures"]  # type: ignore[misc]
    assert failure["kind"] == "output_clash" and failure["path"] == "book.cbz/p.jpg"
    with zipfile.ZipFile(out / "book.cbz") as zf:
        assert zf.namelist() == ["p.png", "p.jpg"]
        assert zf.read("p.jpg") == jpg.getvalue()
        assert zf.read("p.png") == (out / "book" / "p.png").read_bytes()
