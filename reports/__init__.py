"""Statistics, figures and exports for Krachtspiegel.

A plain library: DataFrames in, numbers, tables, figures and bytes out. It never imports Flask and
never touches a database session, so it can be tested and benchmarked on its own.
"""

from reports.scores import MIN_SHARE_ANSWERED, SCALE_POINTS, respondent_scale_scores

__all__ = ["MIN_SHARE_ANSWERED", "SCALE_POINTS", "respondent_scale_scores"]
