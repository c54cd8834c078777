"""The rubric and task bank: shipped content, every kind of mistake, the CLI."""
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import irr
from irr.cli.main import cli
from irr.errors import BankError, NotFoundError
from irr.model import load_bank

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank_copy(tmp_path) -> Path:
    shutil.copytree(REPO / "rubrics", tmp_path / "rubrics")
    shutil.copytree(REPO / "tasks", tmp_path / "tasks")
    return tmp_path


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def problems_of(root: Path) -> list:
    with pytest.raises(BankError) as info:
        load_bank(root)
    return list(info.value.problems)


# ------------------------------------------------------------- shipped bank
def test_shipped_bank_is_valid_and_complete():
    bank = irr.load_bank()
    assert len(bank.rubrics) >= 4 and len(bank.tasks) >= 12
    assert not bank.warnings
    grades = {t.grade for t in bank.tasks.values()}
    assert min(grades) == 3 and max(grades) == 11
    assert {t.kind for t in bank.tasks.values()} == {"common", "local"}
    for task in bank.tasks.values():
        if task.kind == "local":
            assert task.district
        if task.kind == "common":
            assert 8 <= len(task.anchors) <= 15
            rubric = bank.rubric_for(task)
            for dim in rubric.dimensions:
                assert {p.scores[dim.id] for p in task.anchors} == set(dim.score_values)


def test_api_rubric_dimensions_and_scale():
    bank = load_bank()
    rubric = bank.rubric("ela-argument", 1)
    assert rubric.dimension_ids == ["claim", "evidence", "reasoning", "conventions"]
    assert rubric.dimension("evidence").score_values == (1, 2, 3, 4)
    assert rubric.dimension("evidence").labels[3] == "Proficient"
    assert rubric.achievement_cut.min_score == 3
    science = bank.rubric("science-inquiry")
    assert science.dimension("data_representation").score_values == (0, 1, 2, 3)
    task = bank.task("ela-g8-argument")
    assert [a.id for a in task.anchors] == [f"ELA8-A{i:02d}" for i in range(1, 13)]
    assert bank.rubric_for(task) is rubric
    assert task.anchor("ELA8-A07").scores["conventions"] == 1


def test_lookup_errors_suggest():
    bank = load_bank()
    with pytest.raises(NotFoundError, match="did you mean 'ela-g8-argument'"):
        bank.task("ela-g8-argumnet")
    with pytest.raises(NotFoundError, match="versions"):
        bank.rubric("ela-argument", 7)
    with pytest.raises(NotFoundError, match="dimensions are"):
        bank.rubric("ela-argument").dimension("voice")


# ----------------------------------------------------- each kind of mistake
def test_unknown_rubric_reference(bank_copy):
    edit_yaml(bank_copy / "tasks/math-g5-garden.yaml", lambda d: d.update(rubric="math-problem-solvng@2"))
    [p] = problems_of(bank_copy)
    assert p.file == "tasks/math-g5-garden.yaml" and p.field == "rubric"
    assert "unknown rubric" in p.message and "did you mean 'math-problem-solving'" in p.message


def test_unknown_rubric_version(bank_copy):
    edit_yaml(bank_copy / "tasks/math-g5-garden.yaml", lambda d: d.update(rubric="math-problem-solving@1"))
    [p] = problems_of(bank_copy)
    assert p.field == "rubric" and "no version 1" in p.message and "math-problem-solving@2" in p.fix


def test_anchor_score_off_scale(bank_copy):
    edit_yaml(bank_copy / "tasks/sci-g7-plant-growth.yaml",
              lambda d: d["anchors"][0]["scores"].update(data_representation=4))
    [p] = problems_of(bank_copy)
    assert p.field == "anchors[0].scores.data_representation"
    assert "off its scale [0, 1, 2, 3]" in p.message


def test_dimension_the_rubric_lacks(bank_copy):
    def change(d):
        d["anchors"][2]["scores"]["voice"] = d["anchors"][2]["scores"].pop("conventions")
    edit_yaml(bank_copy / "tasks/ela-g8-argument.yaml", change)
    problems = problems_of(bank_copy)
    fields = {p.field for p in problems}
    assert "anchors[2].scores.voice" in fields          # unknown dimension
    assert "anchors[2].scores" in fields                # and the missing one is named
    assert any("['conventions']" in p.message for p in problems)


def test_missing_descriptor(bank_copy):
    edit_yaml(bank_copy / "rubrics/wsp-collaboration.yaml",
              lambda d: d["dimensions"][1]["descriptors"].pop(3))
    problems = problems_of(bank_copy)
    p = next(p for p in problems if p.file == "rubrics/wsp-collaboration.yaml")
    assert "'communication' has no descriptor for score point(s) [3]" in p.message
    # the tasks using the missing rubric are reported too, all at once
    assert any(p.file == "tasks/wsp-g4-collaboration.yaml" for p in problems)


def test_duplicate_ids(bank_copy):
    shutil.copy(bank_copy / "tasks/math-g5-garden.yaml", bank_copy / "tasks/zz-copy.yaml")
    shutil.copy(bank_copy / "rubrics/ela-argument.yaml", bank_copy / "rubrics/zz-copy.yaml")
    edit_yaml(bank_copy / "tasks/wsp-g4-collaboration.yaml",
              lambda d: d["anchors"][1].update(id=d["anchors"][0]["id"]))
    problems = problems_of(bank_copy)
    text = "\n".join(map(str, problems))
    assert "tasks/zz-copy.yaml, field 'id': task id 'math-g5-garden' is also used by tasks/math-g5-garden.yaml" in text
    assert "rubric ela-argument@1 is also defined in rubrics/ela-argument.yaml" in text
    assert "anchor paper ids repeat: ['WSP4-A01']" in text


def test_local_task_without_district(bank_copy):
    edit_yaml(bank_copy / "tasks/math-g6-recipe-ratios.yaml", lambda d: d.pop("district"))
    [p] = problems_of(bank_copy)
    assert p.file == "tasks/math-g6-recipe-ratios.yaml" and "must name its owning district" in p.message


def test_schema_errors_name_the_field(bank_copy):
    edit_yaml(bank_copy / "tasks/math-g9-phone-plans.yaml", lambda d: d.update(dok=5, kind="regional"))
    edit_yaml(bank_copy / "tasks/math-g5-garden.yaml", lambda d: d["anchors"][3].update(position="middle"))
    problems = problems_of(bank_copy)
    fields = {(p.file, p.field) for p in problems}
    assert ("tasks/math-g9-phone-plans.yaml", "dok") in fields
    assert ("tasks/math-g9-phone-plans.yaml", "kind") in fields
    assert ("tasks/math-g5-garden.yaml", "anchors[3].position") in fields
    assert len(problems) == 3  # every problem of every file, not only the first


def test_yaml_errors_and_unsafe_tags(bank_copy):
    (bank_copy / "tasks/broken.yaml").write_text("id: x\ntitle: [unclosed\n")
    (bank_copy / "tasks/unsafe.yaml").write_text("!!python/object/apply:os.system ['echo hacked']\n")
    problems = problems_of(bank_copy)
    broken = next(p for p in problems if p.file == "tasks/broken.yaml")
    assert "YAML syntax error (line" in broken.message
    assert any(p.file == "tasks/unsafe.yaml" for p in problems)


def test_anchor_coverage_is_a_warning(bank_copy):
    edit_yaml(bank_copy / "tasks/math-g5-garden.yaml", lambda d: d.update(anchors=d["anchors"][:3]))
    bank = load_bank(bank_copy)
    messages = [w.message for w in bank.warnings]
    assert any("3 anchor papers" in m for m in messages)
    assert any("score point(s) [1]" in m for m in messages)  # the first three papers are 4, 3, 2


# ------------------------------------------------------------------- CLI
def test_cli_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and irr.__version__ in result.output


def test_cli_validate_ok_and_fail(bank_copy):
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", str(bank_copy)])
    assert ok.exit_code == 0 and "OK: 4 rubrics, 12 tasks" in ok.output
    edit_yaml(bank_copy / "tasks/math-g6-recipe-ratios.yaml", lambda d: d.pop("district"))
    edit_yaml(bank_copy / "tasks/math-g5-garden.yaml", lambda d: d.update(rubric="nope@1"))
    bad = runner.invoke(cli, ["validate", str(bank_copy)])
    assert bad.exit_code == 1
    assert "  1. tasks/math-g5-garden.yaml" in bad.output and "  2. tasks/math-g6-recipe-ratios.yaml" in bad.output
    assert "Traceback" not in bad.output


def test_cli_bank_env_and_option(bank_copy, monkeypatch):
    (bank_copy / "tasks/wsp-g9-community-project.yaml").unlink()
    runner = CliRunner()
    monkeypatch.setenv("IRR_BANK", str(bank_copy))
    assert "11 tasks" in runner.invoke(cli, ["validate"]).output
    monkeypatch.delenv("IRR_BANK")
    assert "11 tasks" in runner.invoke(cli, ["validate", "--bank", str(bank_copy)]).output


def test_cli_bank_list_filters():
    runner = CliRunner()
    out = runner.invoke(cli, ["bank", "list", "--grade", "8"]).output
    assert "ela-g8-argument" in out and "math-g5-garden" not in out
    out = runner.invoke(cli, ["bank", "list", "--kind", "local", "--content-area", "math"]).output
    assert "math-g6-recipe-ratios" in out and "Granite Hills SD" in out and "math-g5-garden" not in out
    out = runner.invoke(cli, ["bank", "list", "--status", "draft"]).output
    assert out.count("\n") == 2  # header + one task
    assert "no tasks match" in runner.invoke(cli, ["bank", "list", "--grade", "12"]).output


def test_cli_bank_show():
    result = CliRunner().invoke(cli, ["bank", "show", "ela-g8-argument"])
    assert result.exit_code == 0
    assert "Rubric ela-argument@1" in result.output and "4 Exemplary" in result.output
    assert "ELA8-A12" in result.output and "Seeded validity paper" in result.output
    missing = CliRunner().invoke(cli, ["bank", "show", "nope"])
    assert missing.exit_code == 1 and "Error: no task 'nope'" in missing.output
    assert "Traceback" not in missing.output


def test_cli_schema():
    result = CliRunner().invoke(cli, ["schema", "rubric"])
    schema = json.loads(result.output)
    assert "dimensions" in schema["properties"] and schema["title"] == "irr-toolkit rubric file"
    assert "anchors" in json.loads(CliRunner().invoke(cli, ["schema", "task"]).output)["properties"]


# ------------------------------------------------------------- condition codes (schema)
def test_condition_codes_default_from_the_rubric_and_a_dimension_list_replaces_it(bank_copy):
    shipped = irr.load_bank().rubric("ela-argument")
    assert all(d.condition_codes == ("blank", "off_topic", "illegible", "non_english") for d in shipped.dimensions)

    def change(d):
        d["condition_codes"] = ["blank", "off_topic"]
        d["dimensions"][1]["condition_codes"] = ["illegible"]      # replaces the rubric's list
        d["dimensions"][2]["condition_codes"] = []                 # none for this dimension
    edit_yaml(bank_copy / "rubrics/ela-argument.yaml", change)
    rubric = load_bank(bank_copy).rubric("ela-argument")
    assert [d.condition_codes for d in rubric.dimensions] == [("blank", "off_topic"), ("illegible",), (),
                                                              ("blank", "off_topic")]


@pytest.mark.parametrize("codes, expected", [
    (["Off-Topic"], "are not lowercase identifiers"),
    (["1"], "are not lowercase identifiers"),          # a code can never read as a score
    (["blank", "blank"], "condition codes repeat: ['blank']"),
    (["proficient"], "also score labels of its scale"),  # the scale's label 'Proficient'
])
def test_condition_code_mistakes_name_the_field(bank_copy, codes, expected):
    edit_yaml(bank_copy / "rubrics/ela-argument.yaml", lambda d: d.update(condition_codes=codes))
    problems = problems_of(bank_copy)
    assert any(p.file == "rubrics/ela-argument.yaml" and expected in p.message for p in problems), problems
