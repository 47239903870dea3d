"""The peld-2021 protocol on the released data (the paper's encoders are not run).

1. The six main roles' personality vectors (O, C, E, A, N): the mean of the binary
   FriendsPersona annotations ``cOPN, cCON, cEXT, cAGR, cNEU`` over the rows of
   ``friends-personality.csv`` whose ``character`` starts with the role's first name (the
   grouping that gives every published number; the full-name-only and first-name-only
   groupings are reported beside it), and the number of annotated dialogues (rows).
2. ``Dyadic_PELD.tsv`` rebuilt from ``source_data/`` with the published construction steps
   (:mod:`.construction`) and compared with the published file row for row.
"""
from __future__ import annotations

from affrepro.reproductions.peld_2021.construction import as_tsv_lines, rebuild

ROLES = ("Chandler", "Joey", "Monica", "Phoebe", "Rachel", "Ross")
TRAITS = (("openness", "cOPN"), ("conscientiousness", "cCON"), ("extraversion", "cEXT"),
          ("agreeableness", "cAGR"), ("neuroticism", "cNEU"))


def personality_vectors(path):
    """{role: {trait: mean}}, the names grouped per role, and the per-name means."""
    import pandas as pd

    df = pd.read_csv(path)
    missing = [c for _, c in TRAITS if c not in df.columns] + [c for c in ("character",) if c not in df.columns]
    if missing:
        from affrepro.errors import MalformedFileError

        raise MalformedFileError(path, f"missing column(s) {', '.join(missing)}", line=1)
    first = df["character"].astype(str).str.split().str[0]
    vectors, names, per_name = {}, {}, {}
    for role in ROLES:
        sub = df[first == role]
        vectors[role] = {t: float(sub[c].mean()) for t, c in TRAITS}
        names[role] = {str(k): int(v) for k, v in sub["character"].value_counts().items()}
        for name, g in sub.groupby("character"):
            per_name[str(name)] = {"rows": int(len(g)), **{t: round(float(g[c].mean()), 4) for t, c in TRAITS}}
    return vectors, names, per_name, len(df), int(df["scene_id"].nunique()) if "scene_id" in df else None


def run(ctx) -> dict[str, float]:
    root = ctx.data_path("peld")
    measured: dict[str, float] = {}
    vectors, names, per_name, n_rows, n_scenes = personality_vectors(root / "friends-personality.csv")
    for role, vec in vectors.items():
        for trait, value in vec.items():
            measured[f"personality.{role.lower()}.{trait}"] = value
    measured["friendspersona.dialogues"] = n_rows
    ctx.note("personality_names_per_role", names)
    ctx.note("personality_per_name", per_name)
    ctx.note("friendspersona_distinct_scene_ids", n_scenes)
    ctx.deviation("personality: a role's rows are those whose 'character' starts with the role's first name "
                  "(e.g. 'Chandler' and 'Chandler Bing'; Phoebe's include one 'Phoebe Sr.' row); the "
                  "README does not say how names were grouped, and this is the grouping its numbers imply")
    ctx.deviation("'711 different dialogues' is read as the rows of friends-personality.csv "
                  f"({n_scenes} distinct scene_ids)")

    ctx.stage("rebuilding Dyadic_PELD.tsv from source_data/")
    df, per_source = rebuild(root)
    ours = as_tsv_lines(df)
    published = (root / "Dyadic_PELD.tsv").read_text(encoding="utf-8").splitlines()
    header_ok = bool(ours) and bool(published) and ours[0] == published[0]
    same = sum(a == b for a, b in zip(ours[1:], published[1:])) if header_ok else 0
    differing = [i + 2 for i, (a, b) in enumerate(zip(ours[1:], published[1:])) if a != b]
    ctx.note("dyadic_peld_rebuild", {
        "triples_per_source": per_source, "rebuilt_rows": len(ours) - 1, "published_rows": len(published) - 1,
        "header_equal": header_ok, "rows_equal_at_same_line": same,
        "first_differing_lines": differing[:20],
    })
    measured["dyadic-peld.rebuilt-rows"] = len(ours) - 1
    measured["dyadic-peld.rows-identical"] = same
    return {k: v for k, v in measured.items() if k in ctx.claims_to_measure}
