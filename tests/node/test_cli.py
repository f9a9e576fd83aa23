"""The bibnetz command line, run in-process with click's runner on a real data directory."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from node.cli import main

pytestmark = pytest.mark.usefixtures("clean_env")


def run(data_dir: Path, *args: str, database_url: str | None = None) -> Result:
    env = {"BIBNETZ_DATABASE_URL": database_url} if database_url else {}
    return CliRunner().invoke(main, ["--data", str(data_dir), *args], env=env)


@pytest.fixture
def node_dir(tmp_path: Path, database_url: str) -> tuple[Path, str]:
    data = tmp_path / "node"
    result = run(
        data, "library", "add", "heideloh", "--name", "Bücherei Heideloh",
        "--population", "6000", "--fte", "1,5", "--area", "250", "--state", "Niedersachsen",
        database_url=database_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return data, database_url


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["title", "summary", "kind", "fields_of_action"])
        writer.writeheader()
        writer.writerows(rows)


def test_every_command_has_help() -> None:
    runner = CliRunner()
    commands = [
        [], ["serve"], ["library"], ["library", "add"], ["library", "list"], ["measure"],
        ["measure", "import"], ["measure", "export"], ["user"], ["user", "add"], ["db"],
        ["db", "upgrade"], ["db", "downgrade"], ["demo"], ["follow"], ["unfollow"], ["following"],
        ["followers"], ["followers", "list"], ["followers", "approve"], ["followers", "reject"],
        ["block"], ["unblock"], ["deliveries"], ["index"], ["index", "rebuild"],
    ]  # fmt: skip
    for command in commands:
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output
    assert "--data" in runner.invoke(main, ["library", "add", "--help"]).output


def test_library_add_rejects_bad_numbers_clearly(tmp_path: Path, database_url: str) -> None:
    result = run(
        tmp_path, "library", "add", "x", "--name", "X", "--population", "-5",
        database_url=database_url,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "population: must be between 0 and 1e+07" in result.output
    assert "Traceback" not in result.output
    assert "No libraries yet" in run(tmp_path, "library", "list", database_url=database_url).output


def test_import_export_round_trip(node_dir: tuple[Path, str], tmp_path: Path) -> None:
    data, url = node_dir
    source = tmp_path / "in.csv"
    write_csv(
        source,
        [
            {"title": "Vorlesepaten", "summary": "Ehrenamtliche lesen vor.", "kind": "measure",
             "fields_of_action": "Leseförderung; Ehrenamt"},
            {"title": "Repair-Café", "summary": "", "kind": "Idee",
             "fields_of_action": "sustainability"},
        ],
    )  # fmt: skip
    result = run(data, "measure", "import", str(source), "--library", "heideloh", database_url=url)
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output

    exported = tmp_path / "out.csv"
    result = run(
        data, "measure", "export", "--library", "heideloh", "--format", "csv",
        "-o", str(exported), database_url=url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with exported.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["title"] for r in rows] == ["Vorlesepaten", "Repair-Café"]
    assert rows[0]["fields_of_action"] == "reading-promotion; volunteering"
    assert rows[1]["kind"] == "idea"

    # Importing the export again changes nothing: ids match, fields are equal.
    result = run(
        data, "measure", "import", str(exported), "--library", "heideloh", database_url=url
    )
    assert "0 created, 0 updated, 2 unchanged" in result.output, result.output

    as_json = run(data, "measure", "export", "--library", "heideloh", database_url=url)
    records = json.loads(as_json.output)
    records[0]["title"] = "Vorlesepaten (neu)"
    (tmp_path / "edit.json").write_text(json.dumps(records), encoding="utf-8")
    result = run(
        data, "measure", "import", str(tmp_path / "edit.json"), "--library", "heideloh",
        database_url=url,
    )  # fmt: skip
    assert "0 created, 1 updated, 1 unchanged" in result.output, result.output


def test_bad_row_in_the_middle_imports_nothing(node_dir: tuple[Path, str], tmp_path: Path) -> None:
    data, url = node_dir
    rows = [{"title": f"Maßnahme {i}", "summary": "", "kind": "idea",
             "fields_of_action": "reading-promotion"} for i in range(10_000)]  # fmt: skip
    rows[4_999]["fields_of_action"] = "Raketenbau"
    big = tmp_path / "big.csv"
    write_csv(big, rows)
    result = run(data, "measure", "import", str(big), "--library", "heideloh", database_url=url)
    assert result.exit_code == 1
    # header is line 1, so row index 4999 is on line 5001
    assert "line 5001: fields_of_action: unknown value(s) 'Raketenbau'" in result.output
    assert "nothing was imported" in result.output
    assert "0 measures" in run(data, "library", "list", database_url=url).output

    rows[4_999]["fields_of_action"] = "reading-promotion"
    write_csv(big, rows)
    result = run(data, "measure", "import", str(big), "--library", "heideloh", database_url=url)
    assert result.exit_code == 0, result.output
    assert "10000 created" in result.output
    assert "10000 measures" in run(data, "library", "list", database_url=url).output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("titel,summary\nx,y\n", "unknown column(s) 'titel'"),
        ("summary\nx\n", "the column 'title' is missing"),
        ("", "the file is empty"),
    ],
)
def test_malformed_csv_files(
    node_dir: tuple[Path, str], tmp_path: Path, content: str, message: str
) -> None:
    data, url = node_dir
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = run(data, "measure", "import", str(path), "--library", "heideloh", database_url=url)
    assert result.exit_code == 1
    assert message in result.output


def test_malformed_json_file(node_dir: tuple[Path, str], tmp_path: Path) -> None:
    data, url = node_dir
    path = tmp_path / "bad.json"
    path.write_text('[{"title": "ok"},\n {"title": ]', encoding="utf-8")
    result = run(data, "measure", "import", str(path), "--library", "heideloh", database_url=url)
    assert result.exit_code == 1
    assert "line 2: not valid JSON" in result.output


def test_user_add(node_dir: tuple[Path, str]) -> None:
    data, url = node_dir
    result = run(data, "user", "add", "team@heideloh.example", "--library", "heideloh",
                 database_url=url)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password (shown once):" in result.output
    again = run(data, "user", "add", "team@heideloh.example", "--admin", database_url=url)
    assert again.exit_code == 1
    assert "already exists" in again.output
    missing = run(data, "user", "add", "x@example.org", "--library", "nope", database_url=url)
    assert "no library with handle 'nope'" in missing.output


def test_csv_export_defuses_spreadsheet_formulas(
    node_dir: tuple[Path, str], tmp_path: Path
) -> None:
    data, url = node_dir
    source = tmp_path / "formula.json"
    source.write_text(json.dumps([{"title": '=HYPERLINK("http://evil.example","klick")'}]))
    assert run(data, "measure", "import", str(source), "--library", "heideloh",
               database_url=url).exit_code == 0  # fmt: skip
    exported = tmp_path / "out.csv"
    run(data, "measure", "export", "--library", "heideloh", "--format", "csv", "-o",
        str(exported), database_url=url)  # fmt: skip
    with exported.open(encoding="utf-8") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["title"].startswith("'=")
    again = run(data, "measure", "import", str(exported), "--library", "heideloh", database_url=url)
    assert "0 created, 0 updated, 1 unchanged" in again.output, again.output
