min_sims = 5
score_threshold = 0.7
min_sims = 6
