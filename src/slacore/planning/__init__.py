"""The planning calculations: goals, funnel, lead values, calibration, milestones, pacing,
scorecards (with their rewards and reviews) and the escalation ladder.

Each module is one calculation; the functions are also on the front door (``slacore.run_rate``,
``slacore.reverse_funnel``, ...). This package imports nothing itself, so that
:mod:`slacore.planning.scorecards`, which reads an :class:`~slacore.agreement.Agreement`, and the
agreement, which plans with the other modules, can import each other's parts.
"""
