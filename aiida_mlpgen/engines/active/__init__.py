"""Active learning without AiiDA: how unsure a potential is (extrapolation grades of linear
descriptors, committees), exploration by molecular dynamics that survives blow-ups, and the
choice of the frames worth labelling."""
