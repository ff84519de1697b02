"""The pure core: normalise, diff, compare, plan, drift. No I/O, no clock, no client."""
