# raised for a quiet town
min_sims = 4
score_treshold = 0.5
