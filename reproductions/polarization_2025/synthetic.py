"""A small synthetic corpus in exactly the authors' per-conversation CSV layout."""
from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from affrepro.reproductions.polarization_2025.loaders import COLUMNS, ROOT, TOPIC_DIRS
from affrepro.reproductions.polarization_2025.scoring import EVENTS, interaction_class

STANCES = {"climate change": ("belief", "disbelief", "don't know"),
           "gun control": ("pro", "anti", "don't know")}


def write_corpus(folder: Path, seed: int = 0, per_day: int = 3, max_replies: int = 6) -> None:
    """Conversations on every day from 4 days before to 4 days after each event."""
    rng = random.Random(seed)
    folder = Path(folder)
    next_id = 1_400_000_000_000_000_000 + seed * 1_000_000
    for topic, events in EVENTS.items():
        out = folder / TOPIC_DIRS[topic]
        out.mkdir(parents=True, exist_ok=True)
        days = set()
        for start, end in events.values():
            s, e = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
            d = s - dt.timedelta(days=4)
            while d <= e + dt.timedelta(days=4):
                days.add(d)
                d += dt.timedelta(days=1)
        for day in sorted(days):
            for _ in range(per_day):
                next_id += 1
                root_id = next_id
                rows = [[str(root_id), str(rng.randrange(10**8, 10**9)), f"root tweet {root_id}",
                         rng.choice(STANCES[topic]), ROOT, ROOT, ROOT, rng.choice(STANCES[topic]),
                         rng.choice(("yes", "no")), "", "stance reason", "affect reason", "", ""]]
                tweets = {root_id: rows[0]}
                for _ in range(rng.randint(1, max_replies)):
                    next_id += 1
                    parent_id = rng.choice(list(tweets))
                    parent = tweets[parent_id]
                    stance, affect, agree = (rng.choice(STANCES[topic]), rng.choice(("yes", "no")),
                                             rng.choice(("yes", "no")))
                    cls = interaction_class(stance, parent[7], affect, parent[8], agree)
                    row = [str(next_id), str(rng.randrange(10**8, 10**9)), f"reply {next_id}",
                           rng.choice(STANCES[topic]), str(parent_id), parent[1], parent[3], stance,
                           affect, agree, "stance reason", "affect reason", "agreement reason",
                           f"{float(cls)}"]
                    rows.append(row)
                    tweets[next_id] = row
                name = f"{root_id}_{day.isoformat()}.pkl_conversation_tweets.csv"
                with open(out / name, "w", newline="", encoding="utf-8-sig") as fh:
                    w = csv.writer(fh)
                    w.writerow(COLUMNS)
                    w.writerows(rows)
