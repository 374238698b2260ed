"""Display names of the experiment's run names (<policy> in <corpus>-<policy>-s<seed>), in table order.

One table for tools/experiment_report.py and launch/per_sample.sh's report.
"""
LABELS = {"vanilla": "vanilla", "sift-top": "SIFT exit 1, top-b (greedy)", "sift-relative": "SIFT exit 1, relative",
          "sift-relative-stale": "SIFT exit 1, relative, stale scores ≤ 50 steps",
          "sift-reducible": "SIFT exit 1, relative, reducible score", "exact": "exact loss, relative",
          "sift-relative-pos4": "SIFT exit 1, relative, scored on ≤ 4 masked positions",
          "sift-relative-b3": "SIFT exit 1, relative, β = 3", "sift-relative-r75": "SIFT exit 1, relative at ρ = 0.75",
          "sift-default": "SIFT exit 1, `sift train` default",
          "sift-reuse": "SIFT exit 1, relative, training resumes from the scoring forward",
          "sift-top-r90": "SIFT exit 1, top-b at ρ = 0.9",
          "sift-top-r75": "SIFT exit 1, top-b at ρ = 0.75",
          "sift-top-r75-v2048": "SIFT exit 1, top-b at ρ = 0.75, scored over 2,048 tokens",
          "last-loss-r75": "last training loss (no scoring), top-b at ρ = 0.75",
          "last-loss-r50": "last training loss (no scoring), top-b at ρ = 0.5",
          "last-loss-r33": "last training loss (no scoring), top-b at ρ = 1/3",
          "last-loss-rel": "last training loss (no scoring), relative at ρ = 0.5",
          "vanilla-b75": "vanilla, 3/4 of the budget",
          "sift-top-r75-b75": "SIFT exit 1, top-b at ρ = 0.75, 3/4 of the budget",
          "vanilla-112": "vanilla, 112 steps",
          "sift-top-r75-112": "SIFT exit 1, top-b at ρ = 0.75, 112 steps",
          "vanilla-static": "vanilla, static masks",
          "last-loss-static-r75": "last training loss (no scoring), top-b at ρ = 0.75, static masks",
          "last-loss-static-r50": "last training loss (no scoring), top-b at ρ = 0.5, static masks",
          "sift-top-r75-static": "SIFT exit 1, top-b at ρ = 0.75, static masks"}
