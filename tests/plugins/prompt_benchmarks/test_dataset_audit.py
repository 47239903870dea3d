"""The negativeprompt dataset audit: tasks found on disk and loaded by the real loaders."""
from __future__ import annotations

from affrepro.audit import audit_dataset, run_audit


def test_audit_counts_what_loads(registries, tmp_path):
    ds = registries.datasets.get("negativeprompt")
    ds.synthesize(tmp_path / "np", 0)
    (tmp_path / "np" / "data" / "bigbench" / "snarks" / "task.json").unlink()  # one task fewer
    rep = run_audit(ds, tmp_path / "np")
    by_id = {r.claim.id: r for r in rep.results}
    assert by_id["tasks"].measured == 44 and by_id["tasks"].verdict.value == "not reproduced"
    assert "24 Instruction Induction + 20 BIG-Bench" in by_id["tasks"].reason


def test_audit_on_the_mirror(mirror, registries, tmp_path):
    rep = audit_dataset(registries.datasets.get("negativeprompt"), None, tmp_path)
    assert {r.claim.id: (r.measured, r.verdict.value) for r in rep.results} == {
        "tasks": (45, "reproduced"), "truthfulqa.questions": (817, "reproduced")}
    assert len(rep.details["examples_per_task"]["instruction_induction"]) == 24
