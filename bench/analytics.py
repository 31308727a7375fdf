"""Track analytics on held-out synthetic video against the generator's truth.

Generates held-out sequences with their scene and true analytics (`fairmot synth --analytics`),
tracks them with a model (`fairmot track --scene`), and prints, per sequence and overall, the
line counts per direction (tracked vs true), the total distance walked and the mean speed of
every track followed for at least two seconds, as ratios to the truth measured in this run.

    .venv/bin/python bench/analytics.py --model /tmp/quality/model
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

TEST_SEED = 777_016  # never used for training data anywhere in the project
WIDTH, HEIGHT = 320, 192  # the lite recipe's input size


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/fairmot-analytics"))
    parser.add_argument("--sequences", type=int, default=2)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--seed", type=int, default=TEST_SEED)
    args = parser.parse_args()

    from fairmot.analytics import analyse_rows, load_scene
    from fairmot.cli import main as fairmot
    from fairmot.data.synth.truth import compare_with_truth
    from fairmot.data.synth.writer import SCENE_FILE, TRUTH_FILE, generate_dataset
    from fairmot.evaluation.mot_files import read_mot_results

    data = args.out / f"test-{args.seed}-{args.sequences}x{args.frames}"
    if not (data / "manifest.json").exists():
        generate_dataset(
            data, sequences=args.sequences, frames=args.frames, width=WIDTH, height=HEIGHT,
            seed=args.seed, analytics=True,
        )  # fmt: skip
    count_errors, distances, speeds = [], [0.0, 0.0], []
    for seq in sorted(p for p in data.iterdir() if p.is_dir()):
        out = args.out / "tracked" / seq.name
        fairmot(["track", str(seq), "--model", str(args.model), "--out", str(out), "--no-video",
                 "--quiet", "--scene", str(seq / SCENE_FILE)])  # fmt: skip
        truth = json.loads((seq / TRUTH_FILE).read_text())
        tracks = read_mot_results(out / "tracks.txt")
        scene = load_scene(seq / SCENE_FILE)
        report = analyse_rows(tracks, scene, truth["fps"], frame_size=(WIDTH, HEIGHT)).report()
        result = compare_with_truth(report, truth, tracks, read_mot_results(seq / "gt" / "gt.txt"))
        for name, counts in result["lines"].items():
            for direction, (got, true) in counts.items():
                print(f"{seq.name} line {name} {direction}: tracked {got} true {true}")
                count_errors.append((abs(got - true), max(1, round(0.1 * true))))
        got, true = result["distance_m"]
        print(f"{seq.name} distance: tracked {got:.1f} m true {true:.1f} m ratio {got / true:.3f}")
        distances[0] += got
        distances[1] += true
        speeds.extend(result["speeds"])
        for key, person, got, true in result["speeds"]:
            rows = tracks[tracks[:, 1] == key]
            # Frames where the tracked box reaches the image edge (foot points there are where
            # a box cut by the border would move its bottom centre off the feet).
            edge = np.mean((rows[:, 2] <= 1) | (rows[:, 2] + rows[:, 4] >= WIDTH - 1))
            print(
                f"{seq.name} track {key} (person {person}, frames {int(rows[0, 0])}-"
                f"{int(rows[-1, 0])}, {edge:.0%} at the edge): speed {got:.2f} m/s "
                f"true {true:.2f} ratio {got / true if true else float('inf'):.3f}"
            )
    within = sum(err <= allowed for err, allowed in count_errors)
    print(f"line counts within max(1, 10%): {within}/{len(count_errors)}")
    print(f"total distance ratio tracked/true: {distances[0] / distances[1]:.3f}")
    ratios = [got / true for _, _, got, true in speeds if true > 0]
    standing = [got for _, _, got, true in speeds if true == 0]
    if standing:
        print(f"tracks of people standing still (true 0 m/s) read {standing} m/s")
    good = sum(abs(r - 1) <= 0.15 for r in ratios)
    print(
        f"mean speed ratio over {len(ratios)} tracks following one person >= 2 s: "
        f"median {sorted(ratios)[len(ratios) // 2]:.3f}, within 15%: {good}/{len(ratios)}"
        if ratios
        else "no track followed for 2 s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
