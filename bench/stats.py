"""What the bench/ scripts share: percentiles by linear interpolation between
the closest ranks."""


def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)
