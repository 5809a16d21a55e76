from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# CI machines are small and shared: no deadlines, fewer examples unless asked for more.
settings.register_profile(
    "default", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
