# a week-long window would need gigabytes
window_minutes = 1e15
