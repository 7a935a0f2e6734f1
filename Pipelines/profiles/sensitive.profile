# Flags smaller devices (three SIMs, two calls each in the window) at a lower score:
# more to review, for analysts hunting new dens. `catpool profile --profile THIS` prints it.
window_minutes = 60  # width of the trailing window
hop_minutes = 1  # how often the window is evaluated
lateness_minutes = 10  # how late a record may arrive and still count
min_calls_per_sim = 2  # a channel candidate places at least this many calls in the window
min_outbound_share = 0.9  # …with at least this share outbound (calls from sibling SIMs excluded)
min_distinct_callee_share = 0.8  # …to at least this share of distinct callees
max_answered_share = 0.7  # …with at most this share answered
max_mean_answered_seconds = 150  # …answered calls lasting at most this long on average
max_data_sessions_24h = 0  # …and at most this many data sessions in 24 hours
min_sims = 3  # a cluster needs this many candidate SIMs at one location
saturating_calls_per_minute = 2  # a cluster's calls per minute, reported for reference
machine_calls_per_sim_hour = 18  # calls an hour per SIM at which the rate feature is full
score_threshold = 0.55  # a cluster is flagged at this score (severity low)
medium_score = 0.65  # severity medium from this score
high_score = 0.8  # severity high from this score
