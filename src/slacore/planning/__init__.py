"""The planning calculations: goals, funnel, lead values, calibration, milestones, pacing and
scoring.

Each module is one calculation; the functions are also on the front door (``slacore.run_rate``,
``slacore.reverse_funnel``, ...). This package imports nothing itself, so that
:mod:`slacore.planning.scoring`, which reads an :class:`~slacore.agreement.Agreement`, and the
agreement, which plans with the other modules, can import each other's parts.
"""
