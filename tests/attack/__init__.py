"""The insider's attack on a wave's published figures (issue 14, "downloads that cannot be
joined"): ``collect`` gathers everything a quality officer can see and download for one wave,
``reconstruct`` tries to put rows, hidden teams and hidden items back with integer programs."""
